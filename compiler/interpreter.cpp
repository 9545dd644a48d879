// The reference semantics: a tree-walking interpreter over the checked AST. Values are a small
// fixed struct (strings are views into the Program, the Request or the per-decision scratch), so
// a decision never allocates. The rules implemented here are the CONTRACT's "Semantics" section;
// the JIT must reproduce them exactly (see eval_support.h).
#include <cmath>
#include <cstdint>
#include <limits>

#include "compiler/eval_support.h"
#include "compiler/evaluator.h"
#include "compiler/rule_index.h"

namespace tollgate {

namespace {

constexpr int kRouteField = static_cast<int>(Field::Route);
constexpr int kMaxOutField = static_cast<int>(Field::MaxOut);
constexpr int kMaxInField = static_cast<int>(Field::MaxIn);
constexpr int kRetryField = static_cast<int>(Field::Retry);
constexpr int kRagField = static_cast<int>(Field::Rag);
constexpr int kCacheField = static_cast<int>(Field::Cache);

// Let chains deeper than this are treated as an evaluation error (the checker rejects cycles;
// this only keeps an unchecked Program from overflowing the stack).
constexpr int kMaxLetDepth = 256;

struct Value {
  enum Kind : uint8_t { Err, Bool, Int, Float, Str, Enum };
  Kind kind = Err;
  int32_t aux = -1;  // Str: id in Program::string_literals or -1; Enum: enum id
  union {
    bool b;
    int64_t i;
    double f;
  };
  const char* s = nullptr;
  uint32_t len = 0;

  Value() : i(0) {}
  static Value error() { return Value(); }
  static Value boolean(bool v) {
    Value r;
    r.kind = Bool;
    r.b = v;
    return r;
  }
  static Value integer(int64_t v) {
    Value r;
    r.kind = Int;
    r.i = v;
    return r;
  }
  static Value real(double v) {
    Value r;
    r.kind = Float;
    r.f = v;
    return r;
  }
  // A float result: NaN (inf - inf, 0 * inf, a NaN read from a slot) is an evaluation error,
  // never a value that compares false.
  static Value real_checked(double v) { return std::isnan(v) ? error() : real(v); }
  static Value string(const char* p, uint32_t n, int32_t id) {
    Value r;
    r.kind = Str;
    r.s = p;
    r.len = n;
    r.aux = id;
    return r;
  }
  static Value enumeration(int32_t enum_id, int64_t member) {
    Value r;
    r.kind = Enum;
    r.aux = enum_id;
    r.i = member;
    return r;
  }
  bool err() const { return kind == Err; }
  bool number() const { return kind == Int || kind == Float; }
  double as_double() const { return kind == Int ? static_cast<double>(i) : f; }
};

// Which fields a rule's actions can set, precomputed so the "can this rule still take effect"
// test is a few flag checks.
struct RuleMeta {
  bool route_or_deny = false;
  bool retry = false;
  bool rag = false;
  bool cache = false;
  bool standalone_cap = false;
  bool tag = false;
  bool first_route_is_route = false;  // the first Route/Deny action is a Route
};

struct Frame {
  const EvalContext* ctx;
  const EvalEnv* env;
  EvalScratch* scratch;
  int let_depth;
};

class Interpreter final : public TracingEvaluator {
 public:
  Interpreter(const Program& program, const PolicyTables& tables, const RuleIndexOptions& index)
      : program_(program), ctx_(make_eval_context(program, tables)) {
    if (program.eval_order.size() == program.rules.size()) {
      order_ = program.eval_order;
    } else {
      // Unchecked program: derive the order the checker would.
      for (size_t i = 0; i < program.rules.size(); ++i)
        if (!program.rules[i].is_default) order_.push_back(static_cast<int32_t>(i));
      for (size_t i = 0; i < program.rules.size(); ++i)
        if (program.rules[i].is_default) order_.push_back(static_cast<int32_t>(i));
    }
    for (const Rule& r : program.rules) {
      RuleMeta m;
      bool seen_route = false;
      for (const Action& a : r.actions) {
        switch (a.kind) {
          case ActionKind::Route:
          case ActionKind::Deny:
            if (!seen_route) m.first_route_is_route = a.kind == ActionKind::Route;
            seen_route = true;
            m.route_or_deny = true;
            break;
          case ActionKind::Retry:
            m.retry = true;
            break;
          case ActionKind::Rag:
          case ActionKind::RagOff:
            m.rag = true;
            break;
          case ActionKind::Cache:
            m.cache = true;
            break;
          case ActionKind::Tag:
            m.tag = true;
            break;
          case ActionKind::MaxOut:
          case ActionKind::MaxIn:
            break;
        }
      }
      if (!m.route_or_deny) {
        for (const Action& a : r.actions)
          if (a.kind == ActionKind::MaxOut || a.kind == ActionKind::MaxIn) m.standalone_cap = true;
      }
      meta_.push_back(m);
    }
    index_ = RuleIndex::build(program, *ctx_, order_, index);
  }

  void decide(const EvalEnv& env, Decision* out) const override { run<false>(env, out, nullptr); }

  void decide_traced(const EvalEnv& env, Decision* out, EvalObserver* observer) const override {
    run<true>(env, out, observer);
  }

 private:
  // kTrace selects the traced instantiation: the untraced one has no observer calls at all. The
  // untraced one dispatches through the rule index when the policy has one; a trace walks the
  // whole chain so it can report every rule.
  template <bool kTrace>
  void run(const EvalEnv& env, Decision* out, EvalObserver* obs) const {
    out->reset();
    env.clear_memo();
    EvalScratch scratch;
    Frame fr{ctx_.get(), &env, &scratch, 0};
    if (!kTrace && index_) {
      run_candidates(*index_, env.slots, out,
                     [&](uint32_t pos) { step<false>(order_[pos], fr, out, nullptr); });
    } else {
      for (int32_t idx : order_) step<kTrace>(idx, fr, out, obs);
    }
    if constexpr (kTrace) obs->on_rules_done(*out);
    tg_finish(ctx_.get(), out);
  }

  // One rule in evaluation order: skipped when nothing it sets is still open, else its
  // condition, then its actions when it fires.
  template <bool kTrace>
  void step(int32_t idx, Frame& fr, Decision* out, EvalObserver* obs) const {
    const Rule& rule = program_.rules[idx];
    const RuleMeta& m = meta_[idx];
    if (!live(m, *out)) {
      if constexpr (kTrace) obs->on_skip(idx, *out);
      return;
    }
    if (rule.condition) {
      Value c = eval(*rule.condition, fr);
      if (c.kind != Value::Bool) {
        tg_note_error(out, idx);
        if constexpr (kTrace) obs->on_condition(idx, ConditionResult::Error, *out);
        return;
      }
      if (!c.b) {
        if constexpr (kTrace) obs->on_condition(idx, ConditionResult::False, *out);
        return;
      }
    }
    if constexpr (kTrace) obs->on_condition(idx, ConditionResult::True, *out);
    apply<kTrace>(rule, m, idx, fr, out, obs);
  }

  static bool live(const RuleMeta& m, const Decision& d) {
    return m.standalone_cap || m.tag || (m.route_or_deny && d.rule[kRouteField] < 0) ||
           (m.retry && d.rule[kRetryField] < 0) || (m.rag && d.rule[kRagField] < 0) ||
           (m.cache && d.rule[kCacheField] < 0);
  }

  // Evaluates an int action argument; false (and an error counted) when it fails.
  bool int_arg(const Expr* e, int32_t idx, Frame& fr, Decision* out, int64_t* v) const {
    if (!e) {
      *v = 0;
      return true;
    }
    Value a = eval(*e, fr);
    if (a.kind != Value::Int) {
      tg_note_error(out, idx);
      return false;
    }
    *v = a.i;
    return true;
  }

  // Applies a firing rule's actions in written order. The traced instantiation reports each one to
  // the observer; in the untraced one the ActionEvent writes are dead stores the optimiser drops.
  template <bool kTrace>
  void apply(const Rule& rule, const RuleMeta& m, int32_t idx, Frame& fr, Decision* out,
             EvalObserver* obs) const {
    // A cap on a routing rule belongs to the route: it applies only if this rule chooses it.
    const bool chooses_route = m.first_route_is_route && out->rule[kRouteField] < 0;
    for (size_t k = 0; k < rule.actions.size(); ++k) {
      const Action& a = rule.actions[k];
      ActionEvent ev;
      // The field an action sets (caps: their own; tags: none), and whether it was already decided.
      auto decided = [&](int field) {
        if constexpr (kTrace) ev.prior_rule = out->rule[field];
        if (out->rule[field] < 0) return false;
        if constexpr (kTrace) ev.decided = true;
        return true;
      };
      switch (a.kind) {
        case ActionKind::Route:
          if (decided(kRouteField)) break;
          out->route = a.route_index;
          out->rule[kRouteField] = idx;
          ev.applied = true;
          break;
        case ActionKind::Deny:
          if (decided(kRouteField)) break;
          out->denied = true;
          out->route = -1;
          out->deny_reason = a.reason.c_str();
          out->rule[kRouteField] = idx;
          ev.applied = true;
          break;
        case ActionKind::MaxOut:
        case ActionKind::MaxIn: {
          if (m.route_or_deny && !chooses_route) {
            ev.ignored = true;
            break;
          }
          int64_t v;
          if (!int_arg(a.arg.get(), idx, fr, out, &v)) {
            ev.arg_error = true;
            break;
          }
          const int field = a.kind == ActionKind::MaxOut ? kMaxOutField : kMaxInField;
          if constexpr (kTrace) {
            ev.value = v;
            ev.prior_rule = out->rule[field];
            ev.prior_cap = field == kMaxOutField ? out->max_out : out->max_in;
            ev.applied = v < ev.prior_cap;
          }
          tg_apply_cap(out, field, v, idx);
          break;
        }
        case ActionKind::Retry: {
          if (decided(kRetryField)) break;
          int64_t v;
          if (!int_arg(a.arg.get(), idx, fr, out, &v)) {
            ev.arg_error = true;
            break;
          }
          out->retry = true;
          out->backoff_ms = v;
          out->rule[kRetryField] = idx;
          ev.value = v;
          ev.applied = true;
          break;
        }
        case ActionKind::Rag: {
          if (decided(kRagField)) break;
          int64_t v;
          if (!int_arg(a.arg.get(), idx, fr, out, &v)) {
            ev.arg_error = true;
            break;
          }
          out->rag = true;
          out->top_k = v;
          out->rule[kRagField] = idx;
          ev.value = v;
          ev.applied = true;
          break;
        }
        case ActionKind::RagOff:
          if (decided(kRagField)) break;
          out->rag = false;
          out->top_k = 0;
          out->rule[kRagField] = idx;
          ev.applied = true;
          break;
        case ActionKind::Cache:
          if (decided(kCacheField)) break;
          out->cache = a.cache;
          out->rule[kCacheField] = idx;
          ev.applied = true;
          break;
        case ActionKind::Tag: {
          if (!a.arg) break;
          Value v = eval(*a.arg, fr);
          const char* s;
          uint32_t n;
          if (!text_of(v, &s, &n)) {
            tg_note_error(out, idx);
            ev.arg_error = true;
            break;
          }
          const uint16_t dropped = out->tags_dropped;
          tg_add_tag(out, s, n);
          if constexpr (kTrace) {
            ev.text = s;
            ev.text_len = n;
            ev.applied = out->tags_dropped == dropped;
          }
          break;
        }
      }
      if constexpr (kTrace) {
        ev.rule = idx;
        ev.action = static_cast<uint32_t>(k);
        obs->on_action(ev, *out);
      }
    }
  }

  bool text_of(const Value& v, const char** s, uint32_t* n) const {
    if (v.kind == Value::Str) {
      *s = v.s;
      *n = v.len;
      return true;
    }
    if (v.kind == Value::Enum) {
      tg_enum_name(ctx_.get(), v.aux, v.i, s, n);
      return true;
    }
    return false;
  }

  Value read_input(int32_t index, const Frame& fr) const {
    Slot s;
    if (tg_read_input(fr.ctx, fr.env->slots, index, &s)) return Value::error();
    const Type& t = program_.inputs[index].type;
    switch (t.kind) {
      case TypeKind::Bool:
        return Value::boolean(s.i != 0);
      case TypeKind::Int:
        return Value::integer(s.i);
      case TypeKind::Float:
        return Value::real_checked(s.f);
      case TypeKind::String:
        return Value::string(s.str, s.len, s.str_id);
      case TypeKind::Enum:
        return Value::enumeration(t.enum_id, s.i);
      default:
        return Value::error();
    }
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

  Value eval(const Expr& e, Frame& fr) const {
    switch (e.kind) {
      case ExprKind::BoolLit:
        return Value::boolean(e.bool_value);
      case ExprKind::IntLit:
        return Value::integer(e.int_value);
      case ExprKind::FloatLit:
        return Value::real(e.float_value);
      case ExprKind::StringLit:
        return Value::string(e.str_value.data(), static_cast<uint32_t>(e.str_value.size()),
                             e.index);
      case ExprKind::Name:
        return eval_name(e, fr);
      case ExprKind::Member: {
        double v;
        if (tg_budget_view(fr.ctx, fr.env, budget_index(e), static_cast<int32_t>(e.member), &v))
          return Value::error();
        return Value::real(v);
      }
      case ExprKind::Unary:
        return eval_unary(e, fr);
      case ExprKind::Binary:
        return eval_binary(e, fr);
      case ExprKind::In:
        return eval_in(e, fr);
      case ExprKind::Call:
        return eval_call(e, fr);
    }
    return Value::error();
  }

  Value eval_name(const Expr& e, Frame& fr) const {
    switch (e.ref) {
      case NameRef::Input:
        return read_input(e.index, fr);
      case NameRef::Let: {
        if (e.index < 0 || static_cast<size_t>(e.index) >= program_.lets.size() ||
            fr.let_depth >= kMaxLetDepth || !program_.lets[e.index].value)
          return Value::error();
        ++fr.let_depth;
        Value v = eval(*program_.lets[e.index].value, fr);
        --fr.let_depth;
        return v;
      }
      case NameRef::EnumMember:
        return Value::enumeration(e.type.enum_id, e.index);
      default:
        return Value::error();
    }
  }

  Value eval_unary(const Expr& e, Frame& fr) const {
    Value v = eval(*e.args[0], fr);
    if (v.err()) return v;
    if (e.unary_op == UnaryOp::Not) {
      return v.kind == Value::Bool ? Value::boolean(!v.b) : Value::error();
    }
    if (v.kind == Value::Int) {
      if (v.i == std::numeric_limits<int64_t>::min()) return Value::error();
      return Value::integer(-v.i);
    }
    if (v.kind == Value::Float) return Value::real(-v.f);
    return Value::error();
  }

  // == on two non-error values of compatible types.
  bool equal(const Value& l, const Value& r) const {
    if (l.kind == Value::Int && r.kind == Value::Int) return l.i == r.i;
    if (l.number() && r.number()) return l.as_double() == r.as_double();
    if (l.kind == Value::Bool && r.kind == Value::Bool) return l.b == r.b;
    if (l.kind == Value::Enum && r.kind == Value::Enum) return l.i == r.i;
    if (l.kind == Value::Str && r.kind == Value::Str) {
      // Distinct literal ids mean distinct bytes; otherwise compare the bytes.
      if (l.aux >= 0 && r.aux >= 0) return l.aux == r.aux;
      return tg_str_eq(l.s, l.len, r.s, r.len) != 0;
    }
    return false;
  }

  Value eval_binary(const Expr& e, Frame& fr) const {
    const BinaryOp op = e.binary_op;
    if (op == BinaryOp::And || op == BinaryOp::Or) {
      const bool is_and = op == BinaryOp::And;
      Value l = eval(*e.args[0], fr);
      if (l.kind == Value::Bool && l.b != is_and) return l;  // false and _, true or _
      Value r = eval(*e.args[1], fr);
      if (l.kind == Value::Bool) return r.kind == Value::Bool ? r : Value::error();
      // Left erred: only a deciding right side absorbs it.
      if (r.kind == Value::Bool && r.b != is_and) return r;
      return Value::error();
    }
    Value l = eval(*e.args[0], fr);
    Value r = eval(*e.args[1], fr);
    if (l.err() || r.err()) return Value::error();
    switch (op) {
      case BinaryOp::Eq:
        return Value::boolean(equal(l, r));
      case BinaryOp::Ne:
        return Value::boolean(!equal(l, r));
      case BinaryOp::Lt:
      case BinaryOp::Le:
      case BinaryOp::Gt:
      case BinaryOp::Ge:
        return compare(op, l, r);
      case BinaryOp::Add:
        if (l.kind == Value::Int && r.kind == Value::Int) {
          int64_t v;
          if (__builtin_add_overflow(l.i, r.i, &v)) return Value::error();
          return Value::integer(v);
        }
        if (l.number() && r.number()) return Value::real_checked(l.as_double() + r.as_double());
        return concat(l, r, fr);
      case BinaryOp::Sub:
        if (l.kind == Value::Int && r.kind == Value::Int) {
          int64_t v;
          if (__builtin_sub_overflow(l.i, r.i, &v)) return Value::error();
          return Value::integer(v);
        }
        if (l.number() && r.number()) return Value::real_checked(l.as_double() - r.as_double());
        return Value::error();
      case BinaryOp::Mul:
        if (l.kind == Value::Int && r.kind == Value::Int) {
          int64_t v;
          if (__builtin_mul_overflow(l.i, r.i, &v)) return Value::error();
          return Value::integer(v);
        }
        if (l.number() && r.number()) return Value::real_checked(l.as_double() * r.as_double());
        return Value::error();
      case BinaryOp::Div:
      case BinaryOp::Mod:
        return divide(op == BinaryOp::Mod, l, r);
      case BinaryOp::StartsWith:
      case BinaryOp::EndsWith:
      case BinaryOp::Contains: {
        const char *a, *b;
        uint32_t an, bn;
        if (!text_of(l, &a, &an) || !text_of(r, &b, &bn)) return Value::error();
        if (op == BinaryOp::StartsWith) return Value::boolean(tg_str_startswith(a, an, b, bn));
        if (op == BinaryOp::EndsWith) return Value::boolean(tg_str_endswith(a, an, b, bn));
        return Value::boolean(tg_str_contains(a, an, b, bn));
      }
      default:
        return Value::error();
    }
  }

  static Value compare(BinaryOp op, const Value& l, const Value& r) {
    if (l.kind == Value::Int && r.kind == Value::Int) {
      switch (op) {
        case BinaryOp::Lt:
          return Value::boolean(l.i < r.i);
        case BinaryOp::Le:
          return Value::boolean(l.i <= r.i);
        case BinaryOp::Gt:
          return Value::boolean(l.i > r.i);
        default:
          return Value::boolean(l.i >= r.i);
      }
    }
    if (!l.number() || !r.number()) return Value::error();
    double a = l.as_double(), b = r.as_double();
    switch (op) {
      case BinaryOp::Lt:
        return Value::boolean(a < b);
      case BinaryOp::Le:
        return Value::boolean(a <= b);
      case BinaryOp::Gt:
        return Value::boolean(a > b);
      default:
        return Value::boolean(a >= b);
    }
  }

  static Value divide(bool mod, const Value& l, const Value& r) {
    if (l.kind == Value::Int && r.kind == Value::Int) {
      if (r.i == 0) return Value::error();
      if (l.i == std::numeric_limits<int64_t>::min() && r.i == -1) return Value::error();
      return Value::integer(mod ? l.i % r.i : l.i / r.i);
    }
    if (!l.number() || !r.number()) return Value::error();
    double b = r.as_double();
    if (b == 0.0) return Value::error();
    return Value::real_checked(mod ? std::fmod(l.as_double(), b) : l.as_double() / b);
  }

  Value concat(const Value& l, const Value& r, Frame& fr) const {
    const char *a, *b, *s;
    uint32_t an, bn, n;
    if (!text_of(l, &a, &an) || !text_of(r, &b, &bn)) return Value::error();
    if (tg_concat(fr.scratch, a, an, b, bn, &s, &n)) return Value::error();
    return Value::string(s, n, -1);
  }

  Value eval_in(const Expr& e, Frame& fr) const {
    Value lhs = eval(*e.args[0], fr);
    bool any_error = lhs.err();
    bool found = false;
    for (size_t i = 1; i < e.args.size(); ++i) {
      Value item = eval(*e.args[i], fr);
      if (item.err()) {
        any_error = true;
      } else if (!any_error && !found && equal(lhs, item)) {
        found = true;
      }
    }
    if (any_error) return Value::error();
    return Value::boolean(found != e.negated);
  }

  Value eval_call(const Expr& e, Frame& fr) const {
    switch (e.builtin) {
      case Builtin::Has: {
        if (e.args.empty()) return Value::error();
        const Expr& a = *e.args[0];
        if (a.ref != NameRef::Input || a.index < 0) return Value::error();
        const Slot* slots = fr.env->slots;
        return Value::boolean(slots && slots[a.index].set != 0);
      }
      case Builtin::Cost: {
        if (e.args.size() != 3) return Value::error();
        int32_t route = e.args[0]->ref == NameRef::Route ? e.args[0]->index : -1;
        Value in = eval(*e.args[1], fr);
        Value out = eval(*e.args[2], fr);
        if (!in.number() || !out.number()) return Value::error();
        double v;
        if (tg_cost(fr.ctx, route, in.as_double(), out.as_double(), &v)) return Value::error();
        return Value::real(v);
      }
      default:
        break;
    }
    // Numeric builtins: every argument is evaluated, left to right, before any error check.
    const size_t n = e.args.size();
    if (n == 0) return Value::error();
    if (e.builtin == Builtin::Min || e.builtin == Builtin::Max) {
      // Folded in both int and double; which one is the result depends on all args being int.
      const bool is_min = e.builtin == Builtin::Min;
      bool bad = false, all_int = true;
      int64_t iacc = 0;
      double dacc = 0;
      for (size_t i = 0; i < n; ++i) {
        Value v = eval(*e.args[i], fr);
        if (!v.number()) {
          bad = true;
          continue;
        }
        if (v.kind != Value::Int) all_int = false;
        double x = v.as_double();
        if (i == 0) {
          iacc = v.i;
          dacc = x;
          continue;
        }
        if (v.kind == Value::Int && (is_min ? v.i < iacc : v.i > iacc)) iacc = v.i;
        if (is_min ? x < dacc : x > dacc) dacc = x;
      }
      if (bad) return Value::error();
      return all_int ? Value::integer(iacc) : Value::real(dacc);
    }
    Value args[3];
    if (n > 3) return Value::error();
    bool bad = false, all_int = true;
    for (size_t i = 0; i < n; ++i) {
      args[i] = eval(*e.args[i], fr);
      if (!args[i].number()) bad = true;
      if (args[i].kind != Value::Int) all_int = false;
    }
    if (bad) return Value::error();
    switch (e.builtin) {
      case Builtin::Clamp: {
        if (n != 3) return Value::error();
        if (all_int) {
          int64_t x = args[0].i, lo = args[1].i, hi = args[2].i;
          return Value::integer(x < lo ? lo : (x > hi ? hi : x));
        }
        double x = args[0].as_double(), lo = args[1].as_double(), hi = args[2].as_double();
        return Value::real(x < lo ? lo : (x > hi ? hi : x));
      }
      case Builtin::Pow: {
        if (n != 2) return Value::error();
        if (all_int) {
          int64_t v;
          if (tg_pow_int(args[0].i, args[1].i, &v)) return Value::error();
          return Value::integer(v);
        }
        return Value::real_checked(tg_pow_float(args[0].as_double(), args[1].as_double()));
      }
      case Builtin::Abs: {
        if (n != 1) return Value::error();
        if (all_int) {
          if (args[0].i == std::numeric_limits<int64_t>::min()) return Value::error();
          return Value::integer(args[0].i < 0 ? -args[0].i : args[0].i);
        }
        return Value::real(std::fabs(args[0].f));
      }
      default:
        return Value::error();
    }
  }

  const Program& program_;
  std::unique_ptr<EvalContext> ctx_;
  std::vector<int32_t> order_;
  std::vector<RuleMeta> meta_;
  std::unique_ptr<RuleIndex> index_;  // null: the chain
};

}  // namespace

std::unique_ptr<Evaluator> make_interpreter(const Program& program, const PolicyTables& tables,
                                            const RuleIndexOptions& index) {
  return std::make_unique<Interpreter>(program, tables, index);
}

std::unique_ptr<Evaluator> make_interpreter(const Program& program, const PolicyTables& tables) {
  return make_interpreter(program, tables, RuleIndexOptions{});
}

std::unique_ptr<TracingEvaluator> make_tracing_interpreter(const Program& program,
                                                           const PolicyTables& tables) {
  // Traces never use the index; do not spend the build on it.
  return std::make_unique<Interpreter>(program, tables, RuleIndexOptions::chain());
}

std::unique_ptr<Evaluator> make_interpreter(const Program& program) {
  return make_interpreter(program, make_policy_tables(program));
}

}  // namespace tollgate
