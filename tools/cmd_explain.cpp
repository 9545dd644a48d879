// `tollgate explain`: decide one request and show, rule by rule in evaluation order, what was
// evaluated, what fired, and which actions won or lost their field and why.
#include <cstdio>

#include "tools/cli.h"
#include "tools/decision_json.h"
#include "tools/explain_trace.h"

namespace {

const tollgate::cli::Command kExplain = {
    "explain", "",
    "usage: tollgate explain FILE [--set NAME=VALUE]... [--json] [--interp] [--prices FILE]\n"
    "\n"
    "Decides one request like `eval`, then lists every rule in evaluation order (rules in file\n"
    "order, then `default`): skipped (every field it sets was already decided), false, error\n"
    "(its condition failed to evaluate) or fired, and for each action of a firing rule whether\n"
    "it won or lost its field and why (\"lost: route already set by line 12\").\n"
    "\n"
    "options:\n"
    "  --set NAME=VALUE   set an input; BUDGET.spent=X sets a budget's spend (see `eval`)\n"
    "  --json             print {policy, rules: [...], decision} as JSON (docs/cli.md)\n"
    "  --interp           decide with the reference interpreter instead of the JIT\n"
    "  --prices FILE      price table for routes without inline prices (default $TOLLGATE_PRICES)\n"
    "  -h, --help         this text\n"
    "\n"
    "exit status: 0 ok, 1 the policy does not compile or the trace disagrees with the engine,\n"
    "2 usage error or a bad --set\n"};

void print_trace(const tollgate::Trace& t) {
  using tollgate::RuleOutcome;
  for (const tollgate::RuleTrace& r : t.rules) {
    std::printf("line %-4u %s\n", r.line, r.text.c_str());
    const char* tag = r.outcome == RuleOutcome::Fired   ? "fired"
                      : r.outcome == RuleOutcome::False ? "not fired"
                      : r.outcome == RuleOutcome::Error ? "ERROR"
                                                        : "skipped";
    std::printf("          %s: %s\n", tag, r.why.c_str());
    if (r.outcome != RuleOutcome::Fired) continue;
    for (const tollgate::ActionTrace& a : r.actions)
      std::printf("            %-28s %s: %s\n", a.text.c_str(), tollgate::outcome_name(a.outcome),
                  a.why.c_str());
  }
  if (t.no_route_deny) std::printf("no rule routed the request: denied \"no route\"\n");
  if (t.on_error_deny)
    std::printf("evaluation errors under `on_error deny`: the request is denied\n");
}

}  // namespace

int cmd_explain(int argc, char** argv) {
  using namespace tollgate;
  cli::DecideOptions opts;
  if (int rc = cli::parse_decide_args(kExplain, argc, argv, &opts); rc >= 0) return rc;
  cli::PreparedDecision p;
  if (int rc = cli::prepare_decision(kExplain, opts, &p); rc >= 0) return rc;
  Decision d;
  p.policy->decide(*p.request, p.budgets, &d);
  Trace trace = trace_decision(*p.policy, *p.request, p.budgets, p.request->now_ms);
  // The trace explains the engine's decision only if it reproduces it exactly.
  std::string diff = diff_decisions(*p.policy, trace.decision, d);
  if (opts.json) {
    nlohmann::json j = {{"policy", policy_to_json(*p.policy)},
                        {"rules", trace_rules_json(trace)},
                        {"no_route_deny", trace.no_route_deny},
                        {"on_error_deny", trace.on_error_deny},
                        {"decision", decision_to_json(*p.policy, d)}};
    if (!diff.empty()) j["trace_mismatch"] = diff;
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("policy %s (%s, %s), rules in evaluation order:\n\n", p.policy->name().c_str(),
                p.policy->file().c_str(), p.policy->jitted() ? "jit" : "interpreter");
    print_trace(trace);
    std::printf("\ndecision:\n");
    std::fputs(decision_to_text(*p.policy, d).c_str(), stdout);
  }
  if (!diff.empty()) {
    std::fprintf(stderr,
                 "tollgate explain: internal error: the trace disagrees with the engine's "
                 "decision (trace vs engine):\n%s",
                 diff.c_str());
    return cli::kExitFail;
  }
  return cli::kExitOk;
}
