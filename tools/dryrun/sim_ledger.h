// The dry-run's simulated budget ledger: one per replayed side, windowed like the runtime's
// (tollgate::window_start), charged with each replayed call's cost, tokens and count, and read by
// the policy's budget views through BudgetReader. Single-threaded by design (a replay is).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tollgate/budget.hpp"

namespace tollgate::dryrun {

class SimLedger : public BudgetReader {
 public:
  double spent(const BudgetInfo& budget, std::string_view key, int64_t now_ms) const override;
  void add(const BudgetInfo& budget, std::string_view key, int64_t now_ms, double amount);
  size_t counters() const { return counters_.size(); }

 private:
  struct Counter {
    int64_t window = 0;
    double spent = 0;
  };
  const std::string& make_key(const BudgetInfo& b, std::string_view key) const;
  // One counter per (budget, key) holding its current window: replay runs in time order, so a
  // counter only moves forward; a record older than the counter's window reads/charges nothing.
  std::unordered_map<std::string, Counter> counters_;
  mutable std::string scratch_;  // lookup key, reused so spent() does not allocate
};

}  // namespace tollgate::dryrun
