// The dry-run's simulated budget ledger: one per replayed side, windowed like the runtime's
// (tollgate::window_start), charged with each replayed call's cost, tokens and count, and read by
// the policy's budget views through BudgetReader. Single-threaded by design (a replay is), and
// allocation-free on lookups: counters live in one table per budget, keyed by string_view.
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
  struct Counter {
    int64_t window = 0;
    double spent = 0;
  };
  // One counter per key holding its current window: replay runs in time order, so a counter only
  // moves forward; a record older than the counter's window reads/charges nothing.
  struct Table {
    const BudgetInfo* info = nullptr;
    std::string name;
    StrMap<Counter> counters;
    // window_start memo: consecutive calls share the record's time.
    int64_t memo_now = INT64_MIN, memo_start = 0;
    // The entry found last (a record reads and then charges the same key): points into the
    // map, so it is dropped whenever an insert may move entries.
    const std::string* last_key = nullptr;
    Counter* last = nullptr;
  };
  static Counter* find(Table& t, std::string_view key);
  Table& table(const BudgetInfo& b) const;
  static int64_t start(Table& t, int64_t now_ms);

  mutable std::vector<Table> tables_;
  mutable std::vector<std::pair<const BudgetInfo*, size_t>> aliases_;
};

}  // namespace tollgate::dryrun
