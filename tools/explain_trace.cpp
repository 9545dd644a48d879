// The tracing evaluator behind `tollgate explain`; see explain_trace.h. Expression evaluation
// follows compiler/interpreter.cpp operator by operator and uses the same eval_support helpers
// (inputs, budgets, cost, pow, strings, caps, the end-of-decision fixups), so that agreement is by
// construction and checked at run time.
#include "tools/explain_trace.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "compiler/ast_text.h"
#include "compiler/eval_support.h"
#include "compiler/evaluator.h"

namespace tollgate {

namespace {

constexpr int kRoute = static_cast<int>(Field::Route);
constexpr int kMaxOut = static_cast<int>(Field::MaxOut);
constexpr int kMaxIn = static_cast<int>(Field::MaxIn);
constexpr int kRetry = static_cast<int>(Field::Retry);
constexpr int kRag = static_cast<int>(Field::Rag);
constexpr int kCache = static_cast<int>(Field::Cache);
constexpr int kMaxLetDepth = 256;

struct Val {
  enum Kind : uint8_t { Err, Bool, Int, Float, Str, Enum } kind = Err;
  int32_t aux = -1;  // Str: literal id or -1; Enum: enum id
  bool b = false;
  int64_t i = 0;
  double f = 0;
  const char* s = nullptr;
  uint32_t len = 0;

  static Val boolean(bool v) {
    Val r;
    r.kind = Bool;
    r.b = v;
    return r;
  }
  static Val integer(int64_t v) {
    Val r;
    r.kind = Int;
    r.i = v;
    return r;
  }
  static Val real(double v) {
    Val r;
    r.kind = Float;
    r.f = v;
    return r;
  }
  bool err() const { return kind == Err; }
  bool number() const { return kind == Int || kind == Float; }
  double num() const { return kind == Int ? static_cast<double>(i) : f; }
};

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
      return std::string("cache ") + cache_mode_name(a.cache);
    case ActionKind::Tag:
      return "tag " + (a.arg ? expr_text(*a.arg) : "?");
  }
  return "?";
}

// ---- the tracing walk -----------------------------------------------------------------------

class Tracer {
 public:
  Tracer(const Policy& policy, const Request& req, const BudgetReader& budgets, int64_t now)
      : policy_(policy), program_(policy.program()) {
    PolicyTables tables = make_policy_tables(program_);
    // Use the engine's resolved prices and budgets so cost() and budget views read the same
    // numbers as Policy::decide.
    tables.routes = policy.routes();
    tables.budgets = policy.budgets();
    ctx_ = std::shared_ptr<EvalContext>(make_eval_context(program_, tables));
    env_.slots = req.slots();
    env_.budgets = &budgets;
    env_.budget_infos = &policy.budgets();
    env_.now_ms = now;
  }

  Trace run() {
    Trace t;
    t.context = ctx_;
    Decision& d = t.decision;
    d.reset();
    std::vector<int32_t> order = program_.eval_order;
    if (order.size() != program_.rules.size()) {
      order.clear();
      for (const Rule& r : program_.rules)
        if (!r.is_default) order.push_back(r.index >= 0 ? r.index : int32_t(order.size()));
      for (size_t i = 0; i < program_.rules.size(); ++i)
        if (program_.rules[i].is_default) order.push_back(static_cast<int32_t>(i));
    }
    for (int32_t idx : order) t.rules.push_back(trace_rule(idx, &d));
    t.no_route_deny = d.rule[kRoute] < 0;
    tg_finish(ctx_.get(), &d);
    t.on_error_deny = d.errors > 0 && program_.header.on_error == OnError::Deny;
    return t;
  }

 private:
  uint32_t line_of(int32_t rule) const {
    return rule >= 0 && static_cast<size_t>(rule) < program_.rules.size()
               ? program_.rules[rule].loc.line
               : 0;
  }
  std::string by(int32_t rule) const { return "line " + std::to_string(line_of(rule)); }

  RuleTrace trace_rule(int32_t idx, Decision* d) {
    const Rule& rule = program_.rules[idx];
    RuleTrace rt;
    rt.rule = idx;
    rt.line = rule.loc.line;
    if (static_cast<size_t>(idx) < policy_.rules().size()) rt.text = policy_.rules()[idx].text;
    bool route_or_deny = false, first_is_route = false, seen = false;
    bool retry = false, rag = false, cache = false, cap = false, tag = false;
    for (const Action& a : rule.actions) {
      rt.actions.push_back({a.kind, a.loc, action_text(a), ActionOutcome::NotFired, ""});
      switch (a.kind) {
        case ActionKind::Route:
        case ActionKind::Deny:
          if (!seen) first_is_route = a.kind == ActionKind::Route;
          seen = route_or_deny = true;
          break;
        case ActionKind::Retry:
          retry = true;
          break;
        case ActionKind::Rag:
        case ActionKind::RagOff:
          rag = true;
          break;
        case ActionKind::Cache:
          cache = true;
          break;
        case ActionKind::Tag:
          tag = true;
          break;
        case ActionKind::MaxOut:
        case ActionKind::MaxIn:
          cap = true;
          break;
      }
    }
    const bool standalone_cap = cap && !route_or_deny;
    const bool live = standalone_cap || tag || (route_or_deny && d->rule[kRoute] < 0) ||
                      (retry && d->rule[kRetry] < 0) || (rag && d->rule[kRag] < 0) ||
                      (cache && d->rule[kCache] < 0);
    if (!live) {
      rt.outcome = RuleOutcome::Skipped;
      std::string decided;
      auto add = [&](bool has, int field, const char* name) {
        if (has)
          decided +=
              (decided.empty() ? "" : ", ") + std::string(name) + " (" + by(d->rule[field]) + ")";
      };
      add(route_or_deny, kRoute, "route");
      add(retry, kRetry, "retry");
      add(rag, kRag, "rag");
      add(cache, kCache, "cache");
      rt.why = "not evaluated, every field it sets is decided: " + decided;
      return rt;
    }
    if (rule.condition) {
      Val c = eval(*rule.condition, 0);
      if (c.kind != Val::Bool) {
        tg_note_error(d, idx);
        rt.outcome = RuleOutcome::Error;
        rt.why = "condition failed to evaluate (an evaluation error; the rule does not fire)";
        return rt;
      }
      if (!c.b) {
        rt.outcome = RuleOutcome::False;
        rt.why = "condition is false";
        return rt;
      }
    }
    rt.outcome = RuleOutcome::Fired;
    rt.why = rule.is_default ? "default rule" : "condition is true";
    apply(rule, idx, route_or_deny, first_is_route && d->rule[kRoute] < 0, d, &rt);
    return rt;
  }

  // Mirrors the interpreter's int_arg: false (error counted) when the argument does not evaluate
  // to an int.
  bool int_arg(const Expr* e, int32_t idx, Decision* d, int64_t* v) {
    if (!e) {
      *v = 0;
      return true;
    }
    Val a = eval(*e, 0);
    if (a.kind != Val::Int) {
      tg_note_error(d, idx);
      return false;
    }
    *v = a.i;
    return true;
  }

  void apply(const Rule& rule, int32_t idx, bool route_or_deny, bool chooses_route, Decision* d,
             RuleTrace* rt) {
    for (size_t k = 0; k < rule.actions.size(); ++k) {
      const Action& a = rule.actions[k];
      ActionTrace& at = rt->actions[k];
      auto lost = [&](int field, const char* name) {
        at.outcome = ActionOutcome::Lost;
        at.why = std::string(name) + " already set by " + by(d->rule[field]);
      };
      auto arg_error = [&]() {
        at.outcome = ActionOutcome::Error;
        at.why = "its argument failed to evaluate (an evaluation error; not applied)";
      };
      switch (a.kind) {
        case ActionKind::Route:
          if (d->rule[kRoute] >= 0) {
            lost(kRoute, d->denied ? "route (a deny)" : "route");
            break;
          }
          d->route = a.route_index;
          d->rule[kRoute] = idx;
          at.outcome = ActionOutcome::Won;
          at.why = "first rule to route";
          break;
        case ActionKind::Deny:
          if (d->rule[kRoute] >= 0) {
            lost(kRoute, d->denied ? "route (a deny)" : "route");
            break;
          }
          d->denied = true;
          d->route = -1;
          d->deny_reason = a.reason.c_str();
          d->rule[kRoute] = idx;
          at.outcome = ActionOutcome::Won;
          at.why = "first rule to route or deny";
          break;
        case ActionKind::MaxOut:
        case ActionKind::MaxIn: {
          const int field = a.kind == ActionKind::MaxOut ? kMaxOut : kMaxIn;
          const char* name = a.kind == ActionKind::MaxOut ? "max_out" : "max_in";
          if (route_or_deny && !chooses_route) {
            at.outcome = ActionOutcome::Ignored;
            at.why = first_route_is_deny(rule)
                         ? "a cap on a deny rule does not apply"
                         : "belongs to the route, and this rule did not choose the route";
            break;
          }
          int64_t v;
          if (!int_arg(a.arg.get(), idx, d, &v)) {
            arg_error();
            break;
          }
          const int64_t before = field == kMaxOut ? d->max_out : d->max_in;
          const int32_t before_rule = d->rule[field];
          tg_apply_cap(d, field, v, idx);
          if (v < before) {
            at.outcome = ActionOutcome::Won;
            at.why = std::string(name) + " " + std::to_string(v) +
                     (before == kNoCap
                          ? " (first cap)"
                          : " tightens " + std::to_string(before) + " from " + by(before_rule));
          } else {
            at.outcome = ActionOutcome::Lost;
            at.why = std::to_string(v) + " does not tighten " + name + " " +
                     std::to_string(before) + " set by " + by(before_rule);
          }
          break;
        }
        case ActionKind::Retry: {
          if (d->rule[kRetry] >= 0) {
            lost(kRetry, "retry");
            break;
          }
          int64_t v;
          if (!int_arg(a.arg.get(), idx, d, &v)) {
            arg_error();
            break;
          }
          d->retry = true;
          d->backoff_ms = v;
          d->rule[kRetry] = idx;
          at.outcome = ActionOutcome::Won;
          at.why = "retry, backoff " + std::to_string(v) + "ms";
          break;
        }
        case ActionKind::Rag: {
          if (d->rule[kRag] >= 0) {
            lost(kRag, "rag");
            break;
          }
          int64_t v;
          if (!int_arg(a.arg.get(), idx, d, &v)) {
            arg_error();
            break;
          }
          d->rag = true;
          d->top_k = v;
          d->rule[kRag] = idx;
          at.outcome = ActionOutcome::Won;
          at.why = "rag on, top_k " + std::to_string(v);
          break;
        }
        case ActionKind::RagOff:
          if (d->rule[kRag] >= 0) {
            lost(kRag, "rag");
            break;
          }
          d->rag = false;
          d->top_k = 0;
          d->rule[kRag] = idx;
          at.outcome = ActionOutcome::Won;
          at.why = "rag off";
          break;
        case ActionKind::Cache:
          if (d->rule[kCache] >= 0) {
            lost(kCache, "cache");
            break;
          }
          d->cache = a.cache;
          d->rule[kCache] = idx;
          at.outcome = ActionOutcome::Won;
          at.why = "first rule to set cache";
          break;
        case ActionKind::Tag: {
          if (!a.arg) break;
          Val v = eval(*a.arg, 0);
          const char* s;
          uint32_t n;
          if (!text_of(v, &s, &n)) {
            tg_note_error(d, idx);
            arg_error();
            break;
          }
          if (tg_add_tag_checked(d, s, n)) {
            at.outcome = ActionOutcome::Won;
            at.why = "tag \"" + std::string(s, n) + "\"";
          } else {
            at.outcome = ActionOutcome::Lost;
            at.why = "tag \"" + std::string(s, n) + "\" dropped: the decision's tag space is full";
          }
          break;
        }
      }
    }
  }

  static bool first_route_is_deny(const Rule& rule) {
    for (const Action& a : rule.actions) {
      if (a.kind == ActionKind::Deny) return true;
      if (a.kind == ActionKind::Route) return false;
    }
    return false;
  }

  static bool tg_add_tag_checked(Decision* d, const char* s, uint32_t n) {
    uint16_t dropped = d->tags_dropped;
    tg_add_tag(d, s, n);
    return d->tags_dropped == dropped;
  }

  bool text_of(const Val& v, const char** s, uint32_t* n) const {
    if (v.kind == Val::Str) {
      *s = v.s;
      *n = v.len;
      return true;
    }
    if (v.kind == Val::Enum) {
      tg_enum_name(ctx_.get(), v.aux, v.i, s, n);
      return true;
    }
    return false;
  }

  int32_t budget_index(const Expr& e) const {
    if (e.index >= 0) return e.index;
    std::string_view name(e.text);
    size_t dot = name.find('.');
    if (dot != std::string_view::npos) name = name.substr(0, dot);
    for (size_t i = 0; i < program_.budgets.size(); ++i)
      if (program_.budgets[i].name == name) return static_cast<int32_t>(i);
    return -1;
  }

  Val read_input(int32_t index) const {
    Slot s;
    if (tg_read_input(ctx_.get(), env_.slots, index, &s)) return Val();
    const Type& t = program_.inputs[index].type;
    Val v;
    switch (t.kind) {
      case TypeKind::Bool:
        return Val::boolean(s.i != 0);
      case TypeKind::Int:
        return Val::integer(s.i);
      case TypeKind::Float:
        return Val::real(s.f);
      case TypeKind::String:
        v.kind = Val::Str;
        v.s = s.str;
        v.len = s.len;
        v.aux = s.str_id;
        return v;
      case TypeKind::Enum:
        v.kind = Val::Enum;
        v.aux = t.enum_id;
        v.i = s.i;
        return v;
      default:
        return Val();
    }
  }

  Val eval(const Expr& e, int depth) {
    switch (e.kind) {
      case ExprKind::BoolLit:
        return Val::boolean(e.bool_value);
      case ExprKind::IntLit:
        return Val::integer(e.int_value);
      case ExprKind::FloatLit:
        return Val::real(e.float_value);
      case ExprKind::StringLit: {
        Val v;
        v.kind = Val::Str;
        v.s = e.str_value.data();
        v.len = static_cast<uint32_t>(e.str_value.size());
        v.aux = e.index;
        return v;
      }
      case ExprKind::Name:
        switch (e.ref) {
          case NameRef::Input:
            return read_input(e.index);
          case NameRef::Let:
            if (e.index < 0 || static_cast<size_t>(e.index) >= program_.lets.size() ||
                depth >= kMaxLetDepth || !program_.lets[e.index].value)
              return Val();
            return eval(*program_.lets[e.index].value, depth + 1);
          case NameRef::EnumMember: {
            Val v;
            v.kind = Val::Enum;
            v.aux = e.type.enum_id;
            v.i = e.index;
            return v;
          }
          default:
            return Val();
        }
      case ExprKind::Member: {
        double v;
        if (tg_budget_view(ctx_.get(), &env_, budget_index(e), static_cast<int32_t>(e.member), &v))
          return Val();
        return Val::real(v);
      }
      case ExprKind::Unary: {
        Val v = eval(*e.args[0], depth);
        if (v.err()) return v;
        if (e.unary_op == UnaryOp::Not) return v.kind == Val::Bool ? Val::boolean(!v.b) : Val();
        if (v.kind == Val::Int)
          return v.i == std::numeric_limits<int64_t>::min() ? Val() : Val::integer(-v.i);
        if (v.kind == Val::Float) return Val::real(-v.f);
        return Val();
      }
      case ExprKind::Binary:
        return binary(e, depth);
      case ExprKind::In: {
        Val lhs = eval(*e.args[0], depth);
        bool any_error = lhs.err(), found = false;
        for (size_t i = 1; i < e.args.size(); ++i) {
          Val item = eval(*e.args[i], depth);
          if (item.err()) {
            any_error = true;
          } else if (!any_error && !found && equal(lhs, item)) {
            found = true;
          }
        }
        if (any_error) return Val();
        return Val::boolean(found != e.negated);
      }
      case ExprKind::Call:
        return call(e, depth);
    }
    return Val();
  }

  static bool equal(const Val& l, const Val& r) {
    if (l.kind == Val::Int && r.kind == Val::Int) return l.i == r.i;
    if (l.number() && r.number()) return l.num() == r.num();
    if (l.kind == Val::Bool && r.kind == Val::Bool) return l.b == r.b;
    if (l.kind == Val::Enum && r.kind == Val::Enum) return l.i == r.i;
    if (l.kind == Val::Str && r.kind == Val::Str) {
      if (l.aux >= 0 && r.aux >= 0) return l.aux == r.aux;
      return tg_str_eq(l.s, l.len, r.s, r.len) != 0;
    }
    return false;
  }

  Val binary(const Expr& e, int depth) {
    const BinaryOp op = e.binary_op;
    if (op == BinaryOp::And || op == BinaryOp::Or) {
      const bool is_and = op == BinaryOp::And;
      Val l = eval(*e.args[0], depth);
      if (l.kind == Val::Bool && l.b != is_and) return l;
      Val r = eval(*e.args[1], depth);
      if (l.kind == Val::Bool) return r.kind == Val::Bool ? r : Val();
      if (r.kind == Val::Bool && r.b != is_and) return r;
      return Val();
    }
    Val l = eval(*e.args[0], depth);
    Val r = eval(*e.args[1], depth);
    if (l.err() || r.err()) return Val();
    const bool ints = l.kind == Val::Int && r.kind == Val::Int;
    const bool nums = l.number() && r.number();
    int64_t v = 0;
    switch (op) {
      case BinaryOp::Eq:
        return Val::boolean(equal(l, r));
      case BinaryOp::Ne:
        return Val::boolean(!equal(l, r));
      case BinaryOp::Lt:
        return ints ? Val::boolean(l.i < r.i) : nums ? Val::boolean(l.num() < r.num()) : Val();
      case BinaryOp::Le:
        return ints ? Val::boolean(l.i <= r.i) : nums ? Val::boolean(l.num() <= r.num()) : Val();
      case BinaryOp::Gt:
        return ints ? Val::boolean(l.i > r.i) : nums ? Val::boolean(l.num() > r.num()) : Val();
      case BinaryOp::Ge:
        return ints ? Val::boolean(l.i >= r.i) : nums ? Val::boolean(l.num() >= r.num()) : Val();
      case BinaryOp::Add: {
        if (ints) return __builtin_add_overflow(l.i, r.i, &v) ? Val() : Val::integer(v);
        if (nums) return Val::real(l.num() + r.num());
        const char *a, *b, *s;
        uint32_t an, bn, n;
        if (!text_of(l, &a, &an) || !text_of(r, &b, &bn)) return Val();
        if (tg_concat(&scratch_, a, an, b, bn, &s, &n)) return Val();
        Val out;
        out.kind = Val::Str;
        out.s = s;
        out.len = n;
        return out;
      }
      case BinaryOp::Sub:
        if (ints) return __builtin_sub_overflow(l.i, r.i, &v) ? Val() : Val::integer(v);
        return nums ? Val::real(l.num() - r.num()) : Val();
      case BinaryOp::Mul:
        if (ints) return __builtin_mul_overflow(l.i, r.i, &v) ? Val() : Val::integer(v);
        return nums ? Val::real(l.num() * r.num()) : Val();
      case BinaryOp::Div:
      case BinaryOp::Mod: {
        const bool mod = op == BinaryOp::Mod;
        if (ints) {
          if (r.i == 0 || (l.i == std::numeric_limits<int64_t>::min() && r.i == -1)) return Val();
          return Val::integer(mod ? l.i % r.i : l.i / r.i);
        }
        if (!nums || r.num() == 0.0) return Val();
        return Val::real(mod ? std::fmod(l.num(), r.num()) : l.num() / r.num());
      }
      case BinaryOp::StartsWith:
      case BinaryOp::EndsWith:
      case BinaryOp::Contains: {
        const char *a, *b;
        uint32_t an, bn;
        if (!text_of(l, &a, &an) || !text_of(r, &b, &bn)) return Val();
        if (op == BinaryOp::StartsWith) return Val::boolean(tg_str_startswith(a, an, b, bn));
        if (op == BinaryOp::EndsWith) return Val::boolean(tg_str_endswith(a, an, b, bn));
        return Val::boolean(tg_str_contains(a, an, b, bn));
      }
      default:
        return Val();
    }
  }

  Val call(const Expr& e, int depth) {
    if (e.builtin == Builtin::Has) {
      if (e.args.empty() || e.args[0]->ref != NameRef::Input || e.args[0]->index < 0) return Val();
      return Val::boolean(env_.slots && env_.slots[e.args[0]->index].set != 0);
    }
    if (e.builtin == Builtin::Cost) {
      if (e.args.size() != 3) return Val();
      int32_t route = e.args[0]->ref == NameRef::Route ? e.args[0]->index : -1;
      Val in = eval(*e.args[1], depth);
      Val out = eval(*e.args[2], depth);
      if (!in.number() || !out.number()) return Val();
      double v;
      if (tg_cost(ctx_.get(), route, in.num(), out.num(), &v)) return Val();
      return Val::real(v);
    }
    const size_t n = e.args.size();
    if (n == 0) return Val();
    std::vector<Val> args;
    bool bad = false, all_int = true;
    for (const auto& a : e.args) {
      args.push_back(eval(*a, depth));
      if (!args.back().number()) bad = true;
      if (args.back().kind != Val::Int) all_int = false;
    }
    if (bad) return Val();
    switch (e.builtin) {
      case Builtin::Min:
      case Builtin::Max: {
        const bool is_min = e.builtin == Builtin::Min;
        int64_t iacc = args[0].i;
        double dacc = args[0].num();
        for (size_t i = 1; i < n; ++i) {
          if (args[i].kind == Val::Int && (is_min ? args[i].i < iacc : args[i].i > iacc))
            iacc = args[i].i;
          double x = args[i].num();
          if (is_min ? x < dacc : x > dacc) dacc = x;
        }
        return all_int ? Val::integer(iacc) : Val::real(dacc);
      }
      case Builtin::Clamp: {
        if (n != 3) return Val();
        if (all_int) {
          int64_t x = args[0].i, lo = args[1].i, hi = args[2].i;
          return Val::integer(x < lo ? lo : (x > hi ? hi : x));
        }
        double x = args[0].num(), lo = args[1].num(), hi = args[2].num();
        return Val::real(x < lo ? lo : (x > hi ? hi : x));
      }
      case Builtin::Pow: {
        if (n != 2) return Val();
        if (all_int) {
          int64_t v;
          return tg_pow_int(args[0].i, args[1].i, &v) ? Val() : Val::integer(v);
        }
        return Val::real(tg_pow_float(args[0].num(), args[1].num()));
      }
      case Builtin::Abs: {
        if (n != 1) return Val();
        if (all_int) {
          if (args[0].i == std::numeric_limits<int64_t>::min()) return Val();
          return Val::integer(args[0].i < 0 ? -args[0].i : args[0].i);
        }
        return Val::real(std::fabs(args[0].f));
      }
      default:
        return Val();
    }
  }

  const Policy& policy_;
  const Program& program_;
  std::shared_ptr<EvalContext> ctx_;
  EvalEnv env_;
  EvalScratch scratch_;
};

}  // namespace

Trace trace_decision(const Policy& policy, const Request& req, const BudgetReader& budgets,
                     int64_t now_ms) {
  Tracer t(policy, req, budgets, now_ms);
  return t.run();
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

}  // namespace tollgate
