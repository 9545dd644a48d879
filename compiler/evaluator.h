// The decision function behind a Policy: the reference interpreter or JIT-compiled code, chosen by
// the Engine. Both read the same Slot array and fill the same Decision, and must agree exactly.
#pragma once

#include <cstdint>
#include <memory>

#include "compiler/ast.h"
#include "tollgate/budget.hpp"
#include "tollgate/decision.hpp"
#include "tollgate/request.hpp"

namespace tollgate {

// What one decision reads besides the policy itself.
struct EvalEnv {
  const Slot* slots = nullptr;             // one per input, in Program::inputs order
  const BudgetReader* budgets = nullptr;   // null: every budget has spent 0
  const std::vector<BudgetInfo>* budget_infos = nullptr;  // parallel to Program::budgets
  int64_t now_ms = 0;                      // resolved time (never 0 here)
};

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // Fills `out` (after out->reset()). Must not allocate or throw.
  virtual void decide(const EvalEnv& env, Decision* out) const = 0;
};

// The reference semantics: a tree-walking interpreter over the checked Program. The Program must
// outlive the evaluator.
std::unique_ptr<Evaluator> make_interpreter(const Program& program);

}  // namespace tollgate
