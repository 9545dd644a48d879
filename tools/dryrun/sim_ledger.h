// The dry-run's simulated budget ledger: one per replayed side, windowed like the runtime's
// (tollgate::window_start), charged with each replayed call's cost, tokens and count, and read by
// the policy's budget views through BudgetReader. Single-threaded by design (a replay is), and
// allocation-free on lookups. Keys are interned once across all budgets: a decision's views and
// charges usually share one key (the tenant), so a record pays one hash lookup, not one per
// budget, and each budget's counter is then an index into a vector.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tollgate/budget.hpp"
#include "tools/dryrun/interner.h"

namespace tollgate::dryrun {

class SimLedger : public BudgetReader {
 public:
  SimLedger() : keys_(std::make_shared<Interner>()) {}
  // Interns keys through `keys` from now on (call before any lookup). Both sides' ledgers share
  // one: they look up the same key (the tenant) for the same record, so the second finds it in
  // the interner's last-key compare, not the hash.
  void share_keys(std::shared_ptr<Interner> keys) { keys_ = std::move(keys); }
  const std::shared_ptr<Interner>& keys() const { return keys_; }

  // The replayed policy's budgets (Policy::budgets()): views and charges naming one of them find
  // its counters by position. Any other BudgetInfo still works, found by address, then by name.
  void bind(const std::vector<BudgetInfo>& budgets);

  double spent(const BudgetInfo& budget, std::string_view key, int64_t now_ms) const override;
  void add(const BudgetInfo& budget, std::string_view key, int64_t now_ms, double amount);
  // The same charge for the bound budget at `index` (bind() order) and a key already interned:
  // a replayed call charges every budget, mostly under one key (the tenant), so the side interns
  // the key once and skips finding the table by address.
  uint32_t key_id(std::string_view key) { return keys_->id(key); }
  void add_bound(size_t index, uint32_t key_id, int64_t now_ms, double amount) {
    add_to(tables_[bound_tables_[index]], key_id, now_ms, amount);
  }
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
    // The window [memo_start, memo_end) holding the last time asked: records are in time order,
    // so most lookups are two compares instead of calendar arithmetic.
    int64_t memo_start = 0, memo_end = INT64_MIN;
  };
  // Inline fast paths (a decision reads two or three budgets, a charge adds three): the bound
  // budget by position, the memoised window; the rest out of line.
  Table& table(const BudgetInfo& b) const {
    uintptr_t off = reinterpret_cast<uintptr_t>(&b) - bound_begin_;
    if (off % sizeof(BudgetInfo) == 0 && off / sizeof(BudgetInfo) < bound_count_)
      return tables_[bound_tables_[off / sizeof(BudgetInfo)]];
    return table_slow(b);
  }
  static int64_t start(Table& t, int64_t now_ms) {
    if (now_ms < t.memo_start || now_ms >= t.memo_end) restart(t, now_ms);
    return t.memo_start;
  }
  static void restart(Table& t, int64_t now_ms);
  void add_to(Table& t, uint32_t key_id, int64_t now_ms, double amount);
  Table& table_slow(const BudgetInfo& b) const;

  mutable std::vector<Table> tables_;
  // bind(): the bound vector's address range and, per position, the table index.
  uintptr_t bound_begin_ = 0;
  size_t bound_count_ = 0;
  std::vector<size_t> bound_tables_;
  mutable std::vector<std::pair<const BudgetInfo*, size_t>> aliases_;
  std::shared_ptr<Interner> keys_;
};

}  // namespace tollgate::dryrun
