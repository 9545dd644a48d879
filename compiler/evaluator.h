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
#include "compiler/rule_index.h"
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

  // Per-decision memo of BudgetReader::spent for the first kSpentMemo budgets: a policy reads
  // the same budget in several rules (`monthly.ratio` in a let used three times), and one
  // decision sees one snapshot of each counter. Evaluators clear it as a decision starts.
  // JIT code tests spent_known and reads spent_memo itself (offsets in JitAbi); tg_budget_spent
  // fills both.
  static constexpr int kSpentMemo = 32;
  mutable uint32_t spent_known = 0;  // bit b: spent_memo[b] holds budget b's spent
  mutable double spent_memo[kSpentMemo];
  // The key text of the last budget keyed by input key_memo_slot (-1: none), when that text
  // outlives the decision (string, enum and bool keys; numbers are formatted on the stack):
  // budgets keyed by the same input ("per tenant") compute it once.
  mutable int32_t key_memo_slot = -1;
  mutable const char* key_memo = nullptr;
  mutable uint32_t key_memo_len = 0;

  // Evaluators call this as a decision starts.
  void clear_memo() const {
    spent_known = 0;
    key_memo_slot = -1;
  }
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
// With the rule index built by these options (RuleIndexOptions::chain(): none, the plain chain).
std::unique_ptr<Evaluator> make_interpreter(const Program& program, const PolicyTables& tables,
                                            const RuleIndexOptions& index);

// SEAM for the JIT (implemented in the tollgate_jit library, compiler/jit*.cpp): compiles the
// checked Program to native code. Returns null and sets *error on failure; the Engine then falls
// back to the interpreter. Only called when TOLLGATE_HAVE_JIT is defined. Must produce exactly the
// interpreter's decisions; shared helpers with C linkage are in compiler/eval_support.h.
std::unique_ptr<Evaluator> make_jit_evaluator(const Program& program, const PolicyTables& tables,
                                              std::string* error);

// ---- tracing (`tollgate explain`, `tollgate test --coverage`) -------------------------------
// The interpreter reports what it does to an observer, so tools trace the reference semantics
// instead of re-implementing them. Plain decide() never calls an observer (it is a separate
// instantiation of the evaluation loop), so tracing costs the decide path nothing.

enum class ConditionResult : uint8_t { True, False, Error };

// One action of a firing rule, reported after the interpreter handled it (in written order).
struct ActionEvent {
  int32_t rule = -1;           // Program::rules index
  uint32_t action = 0;         // index in Rule::actions
  bool ignored = false;        // a cap on a routing rule that did not choose the route (or a deny)
  bool decided = false;        // its field was already decided (not applied)
  bool arg_error = false;      // its argument failed to evaluate (error counted, not applied)
  bool applied = false;        // changed the decision (a cap: tightened it; a tag: stored)
  int32_t prior_rule = -1;     // the rule that held the field before this action
  int64_t prior_cap = kNoCap;  // caps: the cap before this action
  int64_t value = 0;           // the int argument (caps, backoff, top_k)
  const char* text = nullptr;  // tags: the tag's text (valid during the callback only)
  uint32_t text_len = 0;
};

class EvalObserver {
 public:
  virtual ~EvalObserver() = default;
  // A rule in evaluation order that was not evaluated: every field it could set was decided.
  virtual void on_skip(int32_t rule, const Decision& d) = 0;
  // An evaluated rule's condition (a rule without one is True); True means it fires and its
  // actions follow. `d` is the decision before its actions.
  virtual void on_condition(int32_t rule, ConditionResult c, const Decision& d) = 0;
  virtual void on_action(const ActionEvent& e, const Decision& d) = 0;
  // After the last rule, before the end-of-decision fixups (no route, on_error deny).
  virtual void on_rules_done(const Decision& d) = 0;
};

// The interpreter with a traced decide. decide_traced makes the same decision as decide.
class TracingEvaluator : public Evaluator {
 public:
  virtual void decide_traced(const EvalEnv& env, Decision* out, EvalObserver* observer) const = 0;
};
std::unique_ptr<TracingEvaluator> make_tracing_interpreter(const Program& program,
                                                           const PolicyTables& tables);

}  // namespace tollgate
