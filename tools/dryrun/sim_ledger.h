// The dry-run's simulated budget ledger: one per replayed side, windowed like the runtime's
// (tollgate::window_start), charged with each replayed call's cost, tokens and count, and read by
// the policy's budget views through BudgetReader. Single-threaded by design (a replay is), and
// allocation-free on lookups. Keys are interned once across all budgets: a decision's views and
// charges usually share one key (the tenant), so a record pays one hash lookup, not one per
// budget, and each budget's counter is then an index into a vector.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tollgate/budget.hpp"
#include "tools/dryrun/str_map.h"

namespace tollgate::dryrun {

class SimLedger : public BudgetReader {
 public:
  double spent(const BudgetInfo& budget, std::string_view key, int64_t now_ms) const override;
  void add(const BudgetInfo& budget, std::string_view key, int64_t now_ms, double amount);
  size_t counters() const;

 private:
  // One counter per key holding its current window: replay runs in time order, so a counter only
  // moves forward; a record older than the counter's window reads/charges nothing.
  struct Counter {
    int64_t window = 0;
    double spent = 0;
    bool live = false;  // charged at least once
  };
  struct Table {
    const BudgetInfo* info = nullptr;
    std::string name;
    std::vector<Counter> by_key;  // indexed by key id
    // window_start memo: consecutive calls share the record's time.
    int64_t memo_now = INT64_MIN, memo_start = 0;
  };
  Table& table(const BudgetInfo& b) const;
  static int64_t start(Table& t, int64_t now_ms);
  uint32_t key_id(std::string_view key) const;

  mutable std::vector<Table> tables_;
  mutable std::vector<std::pair<const BudgetInfo*, size_t>> aliases_;
  mutable StrMap<uint32_t> key_ids_;
  mutable std::string last_key_;
  mutable uint32_t last_id_ = UINT32_MAX;
};

}  // namespace tollgate::dryrun
