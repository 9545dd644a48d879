// `tollgate eval`: decide one request and print the decision (text or the JSON of docs/cli.md).
#include <cstdio>

#include "tools/cli.h"
#include "tools/decision_json.h"

namespace {

const tollgate::cli::Command kEval = {
    "eval", "",
    "usage: tollgate eval FILE [--set NAME=VALUE]... [--json] [--interp] [--prices FILE]\n"
    "\n"
    "Decides one request and prints the decision: route (or deny), caps, retry, RAG, cache,\n"
    "tags, and the line of the rule behind each field.\n"
    "\n"
    "options:\n"
    "  --set NAME=VALUE   set an input (enum member, number, true/false, or string text);\n"
    "                     BUDGET.spent=X sets a budget's spend so far (every key), default 0.\n"
    "                     Inputs not set use their default, or are errors when read.\n"
    "  --json             print the decision as JSON (schema: docs/cli.md)\n"
    "  --interp           use the reference interpreter instead of the JIT\n"
    "  --prices FILE      price table for routes without inline prices (default $TOLLGATE_PRICES)\n"
    "  -h, --help         this text\n"
    "\n"
    "example:\n"
    "  tollgate eval policies/gateway.pol --set tenant=t-1 --set task=classify --set "
    "in_tokens=300\n"
    "\n"
    "exit status: 0 decided (also when the decision is a deny), 1 the policy does not compile,\n"
    "2 usage error or a bad --set\n"};

}  // namespace

int cmd_eval(int argc, char** argv) {
  using namespace tollgate;
  cli::DecideOptions opts;
  if (int rc = cli::parse_decide_args(kEval, argc, argv, &opts); rc >= 0) return rc;
  cli::PreparedDecision p;
  if (int rc = cli::prepare_decision(kEval, opts, &p); rc >= 0) return rc;
  Decision d;
  p.policy->decide(*p.request, p.budgets, &d);
  if (opts.json) {
    nlohmann::json j = {{"policy", policy_to_json(*p.policy)},
                        {"decision", decision_to_json(*p.policy, d)}};
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("policy    %s (%s, %s)\n", p.policy->name().c_str(), p.policy->file().c_str(),
                p.policy->jitted() ? "jit" : "interpreter");
    std::fputs(decision_to_text(*p.policy, d).c_str(), stdout);
  }
  return cli::kExitOk;
}
