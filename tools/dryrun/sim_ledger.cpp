// Simulated ledger (see sim_ledger.h).
#include "tools/dryrun/sim_ledger.h"

namespace tollgate::dryrun {

namespace {

constexpr int64_t kMsPerDay = 86400000;

// End of the window that starts at `start`. A month has at most 31 days, so 31 days after the
// 1st lands in the next month, whose start is the end.
int64_t window_end(BudgetWindow w, int64_t start) {
  if (start > INT64_MAX - 32 * kMsPerDay) return INT64_MAX;  // far-future timestamps: no memo
  switch (w) {
    case BudgetWindow::Minute:
      return start + 60000;
    case BudgetWindow::Hour:
      return start + 3600000;
    case BudgetWindow::Day:
      return start + kMsPerDay;
    case BudgetWindow::Month:
      return window_start(w, start + 31 * kMsPerDay);
  }
  return start + 1;
}

}  // namespace

void SimLedger::bind(const std::vector<BudgetInfo>& budgets) {
  bound_begin_ = reinterpret_cast<uintptr_t>(budgets.data());
  bound_count_ = budgets.size();
  bound_tables_.clear();
  for (const BudgetInfo& b : budgets) {
    Table* t = &table_slow(b);  // may grow tables_: take the index after
    bound_tables_.push_back(static_cast<size_t>(t - tables_.data()));
  }
}

SimLedger::Table& SimLedger::table_slow(const BudgetInfo& b) const {
  for (const auto& [info, idx] : aliases_)
    if (info == &b) return tables_[idx];
  // First sight of this BudgetInfo address: the same name (a copy of the info) shares counters.
  size_t idx = tables_.size();
  for (size_t i = 0; i < tables_.size(); ++i)
    if (tables_[i].name == b.name) idx = i;
  if (idx == tables_.size()) {
    tables_.emplace_back();
    tables_.back().info = &b;
    tables_.back().name = b.name;
  }
  aliases_.emplace_back(&b, idx);
  return tables_[idx];
}

void SimLedger::restart(Table& t, int64_t now_ms) {
  t.memo_start = window_start(t.info->window, now_ms);
  t.memo_end = window_end(t.info->window, t.memo_start);
}

double SimLedger::spent(const BudgetInfo& budget, std::string_view key, int64_t now_ms) const {
  Table& t = table(budget);
  uint32_t id = keys_->id(key);
  if (id >= t.by_key.size()) return 0;
  const Counter& c = t.by_key[id];
  if (!c.live) return 0;
  return c.window == start(t, now_ms) ? c.spent : 0;
}

void SimLedger::add(const BudgetInfo& budget, std::string_view key, int64_t now_ms, double amount) {
  add_to(table(budget), keys_->id(key), now_ms, amount);
}

void SimLedger::add_to(Table& t, uint32_t id, int64_t now_ms, double amount) {
  int64_t w = start(t, now_ms);
  if (id >= t.by_key.size()) t.by_key.resize(keys_->size());
  Counter& c = t.by_key[id];
  if (!c.live) {
    c = Counter{w, amount, true};
    return;
  }
  if (w > c.window) {
    c.window = w;
    c.spent = 0;
  } else if (w < c.window) {
    return;  // a late record from a window already closed
  }
  c.spent += amount;
}

size_t SimLedger::counters() const {
  size_t n = 0;
  for (const Table& t : tables_)
    for (const Counter& c : t.by_key) n += c.live;
  return n;
}

}  // namespace tollgate::dryrun
