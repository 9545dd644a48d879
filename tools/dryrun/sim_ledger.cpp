// Simulated ledger (see sim_ledger.h).
#include "tools/dryrun/sim_ledger.h"

namespace tollgate::dryrun {

SimLedger::Table& SimLedger::table(const BudgetInfo& b) const {
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

int64_t SimLedger::start(Table& t, int64_t now_ms) {
  if (now_ms != t.memo_now) {
    t.memo_now = now_ms;
    t.memo_start = window_start(t.info->window, now_ms);
  }
  return t.memo_start;
}

SimLedger::Counter* SimLedger::find(Table& t, std::string_view key) {
  if (t.last && *t.last_key == key) return t.last;
  auto it = t.counters.find(key);
  if (it == t.counters.end()) return nullptr;
  t.last_key = &it->first;
  t.last = &it.value();
  return t.last;
}

double SimLedger::spent(const BudgetInfo& budget, std::string_view key, int64_t now_ms) const {
  Table& t = table(budget);
  Counter* c = find(t, key);
  if (!c) return 0;
  return c->window == start(t, now_ms) ? c->spent : 0;
}

void SimLedger::add(const BudgetInfo& budget, std::string_view key, int64_t now_ms, double amount) {
  Table& t = table(budget);
  int64_t w = start(t, now_ms);
  Counter* found = find(t, key);
  if (!found) {
    t.counters.emplace(std::string(key), Counter{w, amount});
    t.last = nullptr;
    t.last_key = nullptr;
    return;
  }
  Counter& c = *found;
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
  for (const Table& t : tables_) n += t.counters.size();
  return n;
}

}  // namespace tollgate::dryrun
