// Builds a policy both ways and compares their decisions (see dual_policy.h).
#include "tests/support/dual_policy.h"

#include "compiler/checker.h"
#include "compiler/diagnostics.h"
#include "compiler/parser.h"
#include "tests/support/decision_diff.h"

namespace tollgate::testing {

DualStatus build_dual(std::string_view source, DualPolicy* out, const JitOptions& options) {
  DiagnosticSink diags;
  out->program = parse_program(source, "<random>", diags);
  if (!out->program || diags.has_errors() || !check_program(*out->program, diags)) {
    out->diagnostics = render_all(diags.all(), source);
    return DualStatus::Rejected;
  }
  out->tables = make_policy_tables(*out->program);
  out->interp = make_interpreter(*out->program, out->tables, RuleIndexOptions::chain());
  out->indexed = make_interpreter(*out->program, out->tables, options.index);
  std::string error;
  out->jit = make_jit_evaluator(default_jit_host(), *out->program, out->tables, options, &error);
  if (!out->jit) {
    out->diagnostics = error;
    return DualStatus::JitFailed;
  }
  return DualStatus::Ok;
}

std::string decide_both(const DualPolicy& p, const Slot* slots, const BudgetReader* budgets,
                        Decision* interp_out, Decision* jit_out) {
  EvalEnv env;
  env.slots = slots;
  env.budgets = budgets;
  env.budget_infos = &p.tables.budgets;
  env.now_ms = 1700000000000;
  p.interp->decide(env, interp_out);
  p.jit->decide(env, jit_out);
  return decision_diff(*interp_out, *jit_out);
}

}  // namespace tollgate::testing
