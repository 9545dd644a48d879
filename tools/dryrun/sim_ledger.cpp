// Simulated ledger (see sim_ledger.h).
#include "tools/dryrun/sim_ledger.h"

namespace tollgate::dryrun {

const std::string& SimLedger::make_key(const BudgetInfo& b, std::string_view key) const {
  scratch_.assign(b.name);
  scratch_.push_back('\x1f');
  scratch_.append(key.data(), key.size());
  return scratch_;
}

double SimLedger::spent(const BudgetInfo& budget, std::string_view key, int64_t now_ms) const {
  auto it = counters_.find(make_key(budget, key));
  if (it == counters_.end()) return 0;
  return it->second.window == window_start(budget.window, now_ms) ? it->second.spent : 0;
}

void SimLedger::add(const BudgetInfo& budget, std::string_view key, int64_t now_ms, double amount) {
  int64_t w = window_start(budget.window, now_ms);
  auto [it, fresh] = counters_.try_emplace(make_key(budget, key), Counter{w, 0});
  Counter& c = it->second;
  if (w > c.window) {
    c.window = w;
    c.spent = 0;
  } else if (w < c.window) {
    return;  // a late record from a window already closed
  }
  c.spent += amount;
}

}  // namespace tollgate::dryrun
