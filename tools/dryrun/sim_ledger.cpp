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

uint32_t SimLedger::key_id(std::string_view key) const {
  if (last_id_ != UINT32_MAX && last_key_ == key) return last_id_;
  auto it = key_ids_.find(key);
  uint32_t id;
  if (it != key_ids_.end()) {
    id = it->second;
  } else {
    id = static_cast<uint32_t>(key_ids_.size());
    key_ids_.emplace(std::string(key), id);
  }
  last_key_.assign(key.data(), key.size());
  last_id_ = id;
  return id;
}

double SimLedger::spent(const BudgetInfo& budget, std::string_view key, int64_t now_ms) const {
  Table& t = table(budget);
  uint32_t id = key_id(key);
  if (id >= t.by_key.size()) return 0;
  const Counter& c = t.by_key[id];
  if (!c.live) return 0;
  return c.window == start(t, now_ms) ? c.spent : 0;
}

void SimLedger::add(const BudgetInfo& budget, std::string_view key, int64_t now_ms, double amount) {
  Table& t = table(budget);
  int64_t w = start(t, now_ms);
  uint32_t id = key_id(key);
  if (id >= t.by_key.size()) t.by_key.resize(key_ids_.size());
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
