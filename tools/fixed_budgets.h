// A BudgetReader with fixed numbers: what `given monthly.spent = 4000` in tests and
// `--set monthly.spent=4000` in eval/explain mean (that budget's spent, for every key).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "tollgate/budget.hpp"

namespace tollgate {

class FixedBudgets final : public BudgetReader {
 public:
  void set(const std::string& budget, double spent) { spent_[budget] = spent; }
  void clear() { spent_.clear(); }
  double spent(const BudgetInfo& budget, std::string_view, int64_t) const override {
    auto it = spent_.find(budget.name);
    return it == spent_.end() ? 0.0 : it->second;
  }

 private:
  std::map<std::string, double> spent_;
};

}  // namespace tollgate
