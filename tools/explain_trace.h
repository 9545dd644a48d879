// `tollgate explain`: a traced run of the reference interpreter for one request. It records, in
// evaluation order, per rule whether it was evaluated, fired or erred, and per action whether it
// won or lost its field and why. Its own Decision must equal Policy::decide's;
// explain checks that on every run and tests check it on every policy.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compiler/ast.h"
#include "tollgate/tollgate.hpp"

namespace tollgate {

enum class ActionOutcome : uint8_t {
  Won,       // set its field (a cap: tightened it)
  Lost,      // the field was already decided, or a cap that did not tighten
  Error,     // its argument failed to evaluate (counted in Decision::errors)
  Ignored,   // a cap on a routing rule that did not choose the route, or on a deny rule
  NotFired,  // the rule did not fire (or was not evaluated)
};

struct ActionTrace {
  ActionKind kind;
  SourceLoc loc;
  std::string text;  // "route cheap", "max_out 64", "retry backoff ...", "tag ..."
  ActionOutcome outcome = ActionOutcome::NotFired;
  std::string why;  // "route already set by line 12", "64 < 1024 from line 40", ...
};

enum class RuleOutcome : uint8_t {
  Skipped,  // not evaluated: every field it could set was already decided
  False,    // evaluated, condition false
  Error,    // evaluated, condition erred (does not fire)
  Fired,
};

struct RuleTrace {
  int32_t rule = -1;  // index in Program::rules
  uint32_t line = 0;
  std::string text;  // the rule's source line(s), whitespace collapsed
  RuleOutcome outcome = RuleOutcome::Skipped;
  std::string why;  // for Skipped: "route, rag already decided"
  std::vector<ActionTrace> actions;
};

class TracingEvaluator;

struct Trace {
  std::vector<RuleTrace> rules;  // evaluation order (non-default rules, then default)
  Decision decision;             // the tracer's own decision
  // Owns the strings `decision.deny_reason` may point to (the on_error reasons).
  std::shared_ptr<const TracingEvaluator> evaluator;
  bool no_route_deny = false;  // denied at the end for want of a route
  bool on_error_deny = false;  // denied at the end by `on_error deny`
};

// Traces `req` through `policy` with `budgets` as the budget source at time now_ms.
Trace trace_decision(const Policy& policy, const Request& req, const BudgetReader& budgets,
                     int64_t now_ms);

// Field-by-field comparison; empty when equal, else what differs ("max_out: 64 vs 128").
std::string diff_decisions(const Policy& policy, const Decision& a, const Decision& b);

// The trace's rules as the JSON array of `explain --json` and `serve ?explain=true`
// (docs/cli.md): [{rule, line, text, evaluated, fired, error, outcome, why, actions: [...]}].
nlohmann::json trace_rules_json(const Trace& t);

const char* outcome_name(ActionOutcome o);
const char* outcome_name(RuleOutcome o);

}  // namespace tollgate
