// The decision function behind a Policy: the reference interpreter or JIT-compiled code, chosen by
// the Engine. Both read the same Slot array and fill the same Decision, and must agree exactly.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ast.h"
#include "tollgate/budget.hpp"
#include "tollgate/decision.hpp"
#include "tollgate/policy.hpp"  // RouteInfo
#include "tollgate/prices.hpp"  // ModelPrice
#include "tollgate/request.hpp"

namespace tollgate {

// What one decision reads besides the policy itself.
struct EvalEnv {
  const Slot* slots = nullptr;                            // one per input, in Program::inputs order
  const BudgetReader* budgets = nullptr;                  // null: every budget has spent 0
  const std::vector<BudgetInfo>* budget_infos = nullptr;  // parallel to Program::budgets
  int64_t now_ms = 0;                                     // resolved time (never 0 here)
};

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // Fills `out` (after out->reset()). Must not allocate or throw.
  virtual void decide(const EvalEnv& env, Decision* out) const = 0;
};

// What both evaluators need besides the AST, computed once per policy by the Engine (or by
// make_policy_tables for tools). Evaluators copy it; only the Program must outlive them.
struct PolicyTables {
  std::vector<RouteInfo> routes;    // parallel to Program::routes: prices for cost()
  std::vector<BudgetInfo> budgets;  // parallel to Program::budgets: what BudgetReader::spent gets
  // Per rule (Rule::index): the deny reason under `on_error deny`,
  // "evaluation error in rule at line L". Decision::deny_reason points into the evaluator's copy.
  std::vector<std::string> error_reasons;
};

// Routes priced from inline prices, else from `lookup(model)` when given (batch routes use the
// batch prices when the table has them); self-hosted routes without a price cost 0.
using PriceLookup = std::function<const ModelPrice*(std::string_view model)>;
PolicyTables make_policy_tables(const Program& program, const PriceLookup& lookup = {});

// The reference semantics: a tree-walking interpreter over the checked Program. The Program must
// outlive the evaluator. The one-argument form uses make_policy_tables(program).
std::unique_ptr<Evaluator> make_interpreter(const Program& program);
std::unique_ptr<Evaluator> make_interpreter(const Program& program, const PolicyTables& tables);

// SEAM for the JIT (implemented in the tollgate_jit library, compiler/jit*.cpp): compiles the
// checked Program to native code. Returns null and sets *error on failure; the Engine then falls
// back to the interpreter. Only called when TOLLGATE_HAVE_JIT is defined. Must produce exactly the
// interpreter's decisions; shared helpers with C linkage are in compiler/eval_support.h.
std::unique_ptr<Evaluator> make_jit_evaluator(const Program& program, const PolicyTables& tables,
                                              std::string* error);

}  // namespace tollgate
