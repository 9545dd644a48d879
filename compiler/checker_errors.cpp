// Static "can this expression fail at run time?" analysis over a checked AST, following the
// error semantics of the interpreter (CONTRACT.md): unset required inputs, division by zero,
// budget views, cost(), and (in Strict mode) integer overflow and string scratch overflow.
// has() guards are honoured through and/or: `has(x) and x > 1` cannot fail on x.
#include <cmath>
#include <limits>

#include "compiler/checker_internal.h"

namespace tollgate {
namespace check {

bool const_int(const Expr& e, int64_t* v) {
  switch (e.kind) {
    case ExprKind::IntLit:
      *v = e.int_value;
      return true;
    case ExprKind::Unary: {
      int64_t x;
      if (e.unary_op != UnaryOp::Neg || e.args.size() != 1 || !const_int(*e.args[0], &x))
        return false;
      if (x == std::numeric_limits<int64_t>::min()) return false;
      *v = -x;
      return true;
    }
    case ExprKind::Binary: {
      int64_t a, b;
      if (e.args.size() != 2 || !const_int(*e.args[0], &a) || !const_int(*e.args[1], &b))
        return false;
      switch (e.binary_op) {
        case BinaryOp::Add:
          return !__builtin_add_overflow(a, b, v);
        case BinaryOp::Sub:
          return !__builtin_sub_overflow(a, b, v);
        case BinaryOp::Mul:
          return !__builtin_mul_overflow(a, b, v);
        default:
          return false;
      }
    }
    default:
      return false;
  }
}

namespace {

using Known = std::vector<char>;

bool const_num(const Expr& e, double* v) {
  int64_t i;
  if (const_int(e, &i)) {
    *v = static_cast<double>(i);
    return true;
  }
  if (e.kind == ExprKind::FloatLit) {
    *v = e.float_value;
    return true;
  }
  if (e.kind == ExprKind::Unary && e.unary_op == UnaryOp::Neg && e.args.size() == 1 &&
      const_num(*e.args[0], v)) {
    *v = -*v;
    return true;
  }
  return false;
}

class Analyzer {
 public:
  Analyzer(const Program& p, ErrorMode mode) : p_(p), mode_(mode) {}

  ErrorSite run(const Expr& e, const Known& known) {
    switch (e.kind) {
      case ExprKind::BoolLit:
      case ExprKind::IntLit:
      case ExprKind::FloatLit:
      case ExprKind::StringLit:
        return {};
      case ExprKind::Name:
        return name(e, known);
      case ExprKind::Member:
        return member(e, known);
      case ExprKind::Unary: {
        ErrorSite s = run(*e.args[0], known);
        if (s.expr || e.unary_op == UnaryOp::Not) return s;
        int64_t c;
        if (strict() && e.type.kind == TypeKind::Int && !const_int(e, &c))
          return {&e, "negates an int, which overflows for the smallest int"};
        return {};
      }
      case ExprKind::Binary:
        return binary(e, known);
      case ExprKind::In:
        for (const auto& a : e.args) {
          ErrorSite s = run(*a, known);
          if (s.expr) return s;
        }
        return {};
      case ExprKind::Call:
        return call(e, known);
    }
    return {};
  }

  // Inputs known to be set whenever `e` evaluates to true (want = true) or false.
  void facts(const Expr& e, bool want, Known* out) {
    switch (e.kind) {
      case ExprKind::Call:
        if (e.builtin == Builtin::Has && want && e.args.size() == 1 &&
            e.args[0]->ref == NameRef::Input)
          (*out)[e.args[0]->index] = 1;
        return;
      case ExprKind::Unary:
        if (e.unary_op == UnaryOp::Not) facts(*e.args[0], !want, out);
        return;
      case ExprKind::Name:
        if (e.ref == NameRef::Let && p_.lets[e.index].value && depth_ < 64) {
          ++depth_;
          facts(*p_.lets[e.index].value, want, out);
          --depth_;
        }
        return;
      case ExprKind::Binary: {
        bool conj = e.binary_op == BinaryOp::And;
        if (e.binary_op == BinaryOp::And || e.binary_op == BinaryOp::Or) {
          Known a(out->size()), b(out->size());
          facts(*e.args[0], want, &a);
          facts(*e.args[1], want, &b);
          // and=true / or=false: both sides decided the same way, so both sides' facts hold.
          bool both = conj == want;
          for (size_t i = 0; i < out->size(); ++i)
            if (both ? (a[i] || b[i]) : (a[i] && b[i])) (*out)[i] = 1;
        }
        return;
      }
      default:
        return;
    }
  }

 private:
  bool strict() const { return mode_ == ErrorMode::Strict; }

  bool required_unset(int32_t input, const Known& known) const {
    return input >= 0 && !p_.inputs[input].default_value && !known[input];
  }

  ErrorSite name(const Expr& e, const Known& known) {
    if (e.ref == NameRef::Input && required_unset(e.index, known))
      return {&e, "reads required input '" + e.text + "' without has()"};
    if (e.ref == NameRef::Let && p_.lets[e.index].value && depth_ < 64) {
      ++depth_;
      ErrorSite s = run(*p_.lets[e.index].value, known);
      --depth_;
      if (s.expr) return {&e, "let '" + e.text + "' " + s.why};
    }
    return {};
  }

  ErrorSite member(const Expr& e, const Known& known) {
    if (e.ref != NameRef::Budget) return {};
    const BudgetDecl& b = p_.budgets[e.index];
    std::string view = e.text + "." + view_name(e.member);
    if (required_unset(b.key_index, known))
      return {&e,
              "reads " + view + ", keyed by required input '" + b.key_input + "' without has()"};
    if (b.limit && b.limit->ref == NameRef::Input) {
      if (required_unset(b.limit->index, known))
        return {&e, "reads " + view + ", whose limit is required input '" + b.limit->text +
                        "' without has()"};
      if (e.member == BudgetView::Ratio)
        return {&e, "reads " + view + ", which fails when the limit input '" + b.limit->text +
                        "' is 0"};
    } else if (b.limit && e.member == BudgetView::Ratio) {
      double lim = 1;
      if (const_num(*b.limit, &lim) && lim == 0)
        return {&e, "reads " + view + ", whose limit is 0"};
    }
    return {};
  }

  ErrorSite binary(const Expr& e, const Known& known) {
    const Expr& a = *e.args[0];
    const Expr& b = *e.args[1];
    if (e.binary_op == BinaryOp::And || e.binary_op == BinaryOp::Or) {
      ErrorSite sa = run(a, known);
      if (sa.expr) return sa;
      Known k = known;
      facts(a, e.binary_op == BinaryOp::And, &k);
      return run(b, k);
    }
    ErrorSite s = run(a, known);
    if (s.expr) return s;
    s = run(b, known);
    if (s.expr) return s;
    bool is_int = e.type.kind == TypeKind::Int;
    int64_t ci;
    double cd;
    switch (e.binary_op) {
      case BinaryOp::Add:
      case BinaryOp::Sub:
      case BinaryOp::Mul:
        if (!strict()) return {};
        if (is_int && !const_int(e, &ci))
          return {&e, std::string("'") + binary_op_name(e.binary_op) + "' can overflow"};
        if (e.type.kind == TypeKind::String &&
            !(a.kind == ExprKind::StringLit && b.kind == ExprKind::StringLit))
          return {&e, "concatenation can exceed the string scratch space"};
        return {};
      case BinaryOp::Div:
      case BinaryOp::Mod: {
        const char* op = binary_op_name(e.binary_op);
        if (is_int) {
          int64_t dividend;
          if (!const_int(b, &ci) || ci == 0)
            return {&b, std::string("divides ('") + op + "') by a value that can be 0"};
          if (ci == -1 && !(const_int(a, &dividend)))
            return {&e, std::string("'") + op + " -1' overflows for the smallest int"};
          return {};
        }
        if (!const_num(b, &cd) || cd == 0)
          return {&b, std::string("divides ('") + op + "') by a value that can be 0"};
        return {};
      }
      default:
        return {};
    }
  }

  ErrorSite call(const Expr& e, const Known& known) {
    size_t first = e.builtin == Builtin::Cost ? 1 : 0;
    if (e.builtin == Builtin::Has) return {};
    for (size_t i = first; i < e.args.size(); ++i) {
      ErrorSite s = run(*e.args[i], known);
      if (s.expr) return s;
    }
    int64_t c;
    switch (e.builtin) {
      case Builtin::Pow:
        if (e.type.kind != TypeKind::Int || const_int(e, &c)) return {};
        if (!const_int(*e.args[1], &c) || c < 0) return {&e, "pow() fails for a negative exponent"};
        if (strict() && !const_int(*e.args[0], &c)) return {&e, "pow() can overflow"};
        return {};
      case Builtin::Abs:
        if (strict() && e.type.kind == TypeKind::Int && !const_int(*e.args[0], &c))
          return {&e, "abs() overflows for the smallest int"};
        return {};
      case Builtin::Cost: {
        if (e.args.empty() || e.args[0]->ref != NameRef::Route) return {};
        const RouteDecl& r = p_.routes[e.args[0]->index];
        if (r.has_inline_price || r.self_hosted) return {};
        return {&e, "calls cost(" + r.name + ", ...), which fails when the route has no price"};
      }
      default:
        return {};
    }
  }

  const Program& p_;
  ErrorMode mode_;
  int depth_ = 0;
};

}  // namespace

ErrorSite can_error(const Program& program, const Expr& e, ErrorMode mode, const Known& known) {
  Known k = known;
  k.resize(program.inputs.size(), 0);
  return Analyzer(program, mode).run(e, k);
}

}  // namespace check
}  // namespace tollgate
