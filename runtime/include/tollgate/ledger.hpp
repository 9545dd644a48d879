// The budget Ledger: windowed spend counters per (budget, key), read by budget views and charged
// by admit/record. In-process by default; see docs/embedding.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tollgate/budget.hpp"

namespace tollgate {

class Ledger : public BudgetReader {
 public:
  Ledger();
  ~Ledger() override;
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  double spent(const BudgetInfo& budget, std::string_view key, int64_t now_ms) const override;
  // Adds `amount` (in the budget's unit; may be negative) to the window containing now_ms.
  void add(const BudgetInfo& budget, std::string_view key, int64_t now_ms, double amount);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate
