// The tracer behind `tollgate explain`; see explain_trace.h. The reference interpreter makes the
// decision and reports each rule and action to an EvalObserver (compiler/evaluator.h); this file
// only turns those reports into explanations.
#include "tools/explain_trace.h"

#include <cstdio>

#include "compiler/ast_text.h"
#include "compiler/evaluator.h"

namespace tollgate {

namespace {

constexpr int kRoute = static_cast<int>(Field::Route);
constexpr int kRetry = static_cast<int>(Field::Retry);
constexpr int kRag = static_cast<int>(Field::Rag);
constexpr int kCache = static_cast<int>(Field::Cache);

// ---- expression text, for action descriptions ------------------------------------------------

std::string expr_text(const Expr& e);

std::string operand_text(const Expr& e, int parent, bool right) {
  std::string t = expr_text(e);
  int p = operator_precedence(e);
  return (p < parent || (right && p == parent && p >= kPrecCompare)) ? "(" + t + ")" : t;
}

std::string expr_text(const Expr& e) {
  switch (e.kind) {
    case ExprKind::BoolLit:
      return e.bool_value ? "true" : "false";
    case ExprKind::IntLit:
    case ExprKind::FloatLit:
    case ExprKind::StringLit:
      if (!e.text.empty()) return e.text;
      if (e.kind == ExprKind::IntLit) return std::to_string(e.int_value);
      if (e.kind == ExprKind::StringLit) return "\"" + e.str_value + "\"";
      {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%g", e.float_value);
        return buf;
      }
    case ExprKind::Name:
      return e.text;
    case ExprKind::Member: {
      // `text` is the budget's name (or "name.view" depending on the parser).
      if (e.text.find('.') != std::string::npos) return e.text;
      return e.text + "." + view_name(e.member);
    }
    case ExprKind::Unary: {
      int p = operator_precedence(e);
      std::string op = e.unary_op == UnaryOp::Neg ? "-" : (e.symbolic ? "!" : "not ");
      return op + operand_text(*e.args[0], p, false);
    }
    case ExprKind::Binary: {
      int p = operator_precedence(e);
      return operand_text(*e.args[0], p, false) + " " + binary_op_spelling(e) + " " +
             operand_text(*e.args[1], p, true);
    }
    case ExprKind::In: {
      std::string t =
          operand_text(*e.args[0], kPrecAdd, false) + (e.negated ? " not in [" : " in [");
      for (size_t i = 1; i < e.args.size(); ++i) t += (i > 1 ? ", " : "") + expr_text(*e.args[i]);
      return t + "]";
    }
    case ExprKind::Call: {
      std::string t = std::string(builtin_name(e.builtin)) + "(";
      for (size_t i = 0; i < e.args.size(); ++i) t += (i ? ", " : "") + expr_text(*e.args[i]);
      return t + ")";
    }
  }
  return "?";
}

std::string action_text(const Action& a) {
  switch (a.kind) {
    case ActionKind::Route:
      return "route " + a.route;
    case ActionKind::Deny:
      return "deny " + (a.reason_text.empty() ? "\"" + a.reason + "\"" : a.reason_text);
    case ActionKind::MaxOut:
      return "max_out " + (a.arg ? expr_text(*a.arg) : "?");
    case ActionKind::MaxIn:
      return "max_in " + (a.arg ? expr_text(*a.arg) : "?");
    case ActionKind::Retry:
      return a.arg ? "retry backoff " + expr_text(*a.arg) : "retry";
    case ActionKind::Rag:
      return a.arg ? "rag top_k " + expr_text(*a.arg) : "rag";
    case ActionKind::RagOff:
      return "rag off";
    case ActionKind::Cache:
      return std::string("cache ") + to_string(a.cache);
    case ActionKind::Tag:
      return "tag " + (a.arg ? expr_text(*a.arg) : "?");
  }
  return "?";
}

// ---- the trace, from the interpreter's reports ----------------------------------------------

bool first_route_is_deny(const Rule& rule) {
  for (const Action& a : rule.actions) {
    if (a.kind == ActionKind::Deny) return true;
    if (a.kind == ActionKind::Route) return false;
  }
  return false;
}

// Turns the interpreter's reports into RuleTraces with their explanations.
class Tracer final : public EvalObserver {
 public:
  Tracer(const Policy& policy, Trace* trace)
      : policy_(policy), program_(policy.program()), trace_(trace) {}

  void on_skip(int32_t idx, const Decision& d) override {
    RuleTrace& rt = start(idx);
    const Rule& rule = program_.rules[idx];
    bool route_or_deny = false, retry = false, rag = false, cache = false;
    for (const Action& a : rule.actions) {
      route_or_deny |= a.kind == ActionKind::Route || a.kind == ActionKind::Deny;
      retry |= a.kind == ActionKind::Retry;
      rag |= a.kind == ActionKind::Rag || a.kind == ActionKind::RagOff;
      cache |= a.kind == ActionKind::Cache;
    }
    rt.outcome = RuleOutcome::Skipped;
    std::string decided;
    auto add = [&](bool has, int field, const char* name) {
      if (has)
        decided +=
            (decided.empty() ? "" : ", ") + std::string(name) + " (" + by(d.rule[field]) + ")";
    };
    add(route_or_deny, kRoute, "route");
    add(retry, kRetry, "retry");
    add(rag, kRag, "rag");
    add(cache, kCache, "cache");
    rt.why = "not evaluated, every field it sets is decided: " + decided;
  }

  void on_condition(int32_t idx, ConditionResult c, const Decision&) override {
    RuleTrace& rt = start(idx);
    switch (c) {
      case ConditionResult::Error:
        rt.outcome = RuleOutcome::Error;
        rt.why = "condition failed to evaluate (an evaluation error; the rule does not fire)";
        break;
      case ConditionResult::False:
        rt.outcome = RuleOutcome::False;
        rt.why = "condition is false";
        break;
      case ConditionResult::True:
        rt.outcome = RuleOutcome::Fired;
        rt.why = program_.rules[idx].is_default ? "default rule" : "condition is true";
        break;
    }
  }

  void on_action(const ActionEvent& e, const Decision& d) override {
    const Rule& rule = program_.rules[e.rule];
    const Action& a = rule.actions[e.action];
    ActionTrace& at = trace_->rules.back().actions[e.action];
    auto set = [&](ActionOutcome o, std::string why) {
      at.outcome = o;
      at.why = std::move(why);
    };
    auto lost = [&](const char* name) {
      set(ActionOutcome::Lost, std::string(name) + " already set by " + by(e.prior_rule));
    };
    if (e.arg_error) {
      set(ActionOutcome::Error,
          "its argument failed to evaluate (an evaluation error; not applied)");
      return;
    }
    switch (a.kind) {
      case ActionKind::Route:
      case ActionKind::Deny:
        if (e.decided) {
          lost(d.denied ? "route (a deny)" : "route");
        } else {
          set(ActionOutcome::Won,
              a.kind == ActionKind::Route ? "first rule to route" : "first rule to route or deny");
        }
        break;
      case ActionKind::MaxOut:
      case ActionKind::MaxIn: {
        const char* name = a.kind == ActionKind::MaxOut ? "max_out" : "max_in";
        if (e.ignored) {
          set(ActionOutcome::Ignored,
              first_route_is_deny(rule)
                  ? "a cap on a deny rule does not apply"
                  : "belongs to the route, and this rule did not choose the route");
        } else if (e.applied) {
          set(ActionOutcome::Won,
              std::string(name) + " " + std::to_string(e.value) +
                  (e.prior_cap == kNoCap
                       ? " (first cap)"
                       : " tightens " + std::to_string(e.prior_cap) + " from " + by(e.prior_rule)));
        } else {
          set(ActionOutcome::Lost, std::to_string(e.value) + " does not tighten " + name + " " +
                                       std::to_string(e.prior_cap) + " set by " + by(e.prior_rule));
        }
        break;
      }
      case ActionKind::Retry:
        if (e.decided)
          lost("retry");
        else
          set(ActionOutcome::Won, "retry, backoff " + std::to_string(e.value) + "ms");
        break;
      case ActionKind::Rag:
        if (e.decided)
          lost("rag");
        else
          set(ActionOutcome::Won, "rag on, top_k " + std::to_string(e.value));
        break;
      case ActionKind::RagOff:
        if (e.decided)
          lost("rag");
        else
          set(ActionOutcome::Won, "rag off");
        break;
      case ActionKind::Cache:
        if (e.decided)
          lost("cache");
        else
          set(ActionOutcome::Won, "first rule to set cache");
        break;
      case ActionKind::Tag: {
        if (!e.text) break;  // no argument: nothing to add
        const std::string tag = "tag \"" + std::string(e.text, e.text_len) + "\"";
        if (e.applied)
          set(ActionOutcome::Won, tag);
        else
          set(ActionOutcome::Lost, tag + " dropped: the decision's tag space is full");
        break;
      }
    }
  }

  void on_rules_done(const Decision& d) override { trace_->no_route_deny = d.rule[kRoute] < 0; }

 private:
  RuleTrace& start(int32_t idx) {
    const Rule& rule = program_.rules[idx];
    RuleTrace& rt = trace_->rules.emplace_back();
    rt.rule = idx;
    rt.line = rule.loc.line;
    if (static_cast<size_t>(idx) < policy_.rules().size()) rt.text = policy_.rules()[idx].text;
    for (const Action& a : rule.actions)
      rt.actions.push_back({a.kind, a.loc, action_text(a), ActionOutcome::NotFired, ""});
    return rt;
  }

  uint32_t line_of(int32_t rule) const {
    return rule >= 0 && static_cast<size_t>(rule) < program_.rules.size()
               ? program_.rules[rule].loc.line
               : 0;
  }
  std::string by(int32_t rule) const { return "line " + std::to_string(line_of(rule)); }

  const Policy& policy_;
  const Program& program_;
  Trace* trace_;
};

}  // namespace

Trace trace_decision(const Policy& policy, const Request& req, const BudgetReader& budgets,
                     int64_t now_ms) {
  const Program& program = policy.program();
  PolicyTables tables = make_policy_tables(program);
  // Use the engine's resolved prices and budgets so cost() and budget views read the same numbers
  // as Policy::decide.
  tables.routes = policy.routes();
  tables.budgets = policy.budgets();
  std::shared_ptr<const TracingEvaluator> interpreter = make_tracing_interpreter(program, tables);
  EvalEnv env;
  env.slots = req.slots();
  env.budgets = &budgets;
  env.budget_infos = &policy.budgets();
  env.now_ms = now_ms;

  Trace t;
  t.evaluator = interpreter;
  Tracer tracer(policy, &t);
  interpreter->decide_traced(env, &t.decision, &tracer);
  t.on_error_deny = t.decision.errors > 0 && program.header.on_error == OnError::Deny;
  return t;
}

std::string diff_decisions(const Policy& policy, const Decision& a, const Decision& b) {
  std::string out;
  auto add = [&](const char* field, const std::string& x, const std::string& y) {
    if (x != y) out += std::string(field) + ": " + x + " vs " + y + "\n";
  };
  auto route = [&](const Decision& d) {
    if (d.denied) return std::string("deny \"") + d.deny_reason + "\"";
    return d.route >= 0 && static_cast<size_t>(d.route) < policy.routes().size()
               ? policy.routes()[d.route].name
               : std::string("(none)");
  };
  add("route", route(a), route(b));
  add("max_out", std::to_string(a.max_out), std::to_string(b.max_out));
  add("max_in", std::to_string(a.max_in), std::to_string(b.max_in));
  add("retry", std::to_string(a.retry) + "/" + std::to_string(a.backoff_ms),
      std::to_string(b.retry) + "/" + std::to_string(b.backoff_ms));
  add("rag", std::to_string(a.rag) + "/" + std::to_string(a.top_k),
      std::to_string(b.rag) + "/" + std::to_string(b.top_k));
  add("cache", std::to_string(static_cast<int>(a.cache)),
      std::to_string(static_cast<int>(b.cache)));
  for (int f = 0; f < kFieldCount; ++f)
    add("rule", std::to_string(a.rule[f]), std::to_string(b.rule[f]));
  add("errors", std::to_string(a.errors) + "/" + std::to_string(a.first_error_rule),
      std::to_string(b.errors) + "/" + std::to_string(b.first_error_rule));
  std::string ta, tb;
  for (int i = 0; i < a.tag_count; ++i) ta += std::string(a.tag(i)) + ";";
  for (int i = 0; i < b.tag_count; ++i) tb += std::string(b.tag(i)) + ";";
  add("tags", ta + std::to_string(a.tags_dropped), tb + std::to_string(b.tags_dropped));
  return out;
}

const char* outcome_name(ActionOutcome o) {
  switch (o) {
    case ActionOutcome::Won:
      return "won";
    case ActionOutcome::Lost:
      return "lost";
    case ActionOutcome::Error:
      return "error";
    case ActionOutcome::Ignored:
      return "ignored";
    case ActionOutcome::NotFired:
      return "not fired";
  }
  return "?";
}

const char* outcome_name(RuleOutcome o) {
  switch (o) {
    case RuleOutcome::Skipped:
      return "skipped";
    case RuleOutcome::False:
      return "false";
    case RuleOutcome::Error:
      return "error";
    case RuleOutcome::Fired:
      return "fired";
  }
  return "?";
}

nlohmann::json trace_rules_json(const Trace& t) {
  nlohmann::json rules = nlohmann::json::array();
  for (const RuleTrace& r : t.rules) {
    nlohmann::json actions = nlohmann::json::array();
    for (const ActionTrace& a : r.actions)
      actions.push_back({{"action", a.text},
                         {"line", a.loc.line},
                         {"outcome", outcome_name(a.outcome)},
                         {"why", a.why}});
    rules.push_back({{"rule", r.rule},
                     {"line", r.line},
                     {"text", r.text},
                     {"evaluated", r.outcome != RuleOutcome::Skipped},
                     {"fired", r.outcome == RuleOutcome::Fired},
                     {"error", r.outcome == RuleOutcome::Error},
                     {"outcome", outcome_name(r.outcome)},
                     {"why", r.why},
                     {"actions", actions}});
  }
  return rules;
}

}  // namespace tollgate
