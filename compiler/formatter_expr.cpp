// Expression and action printing for `tollgate fmt`: minimal parentheses by precedence, so that
// re-parsing the output yields the same tree (comparisons are non-associative, so a comparison
// operand that is itself a comparison is always parenthesised).
#include "compiler/formatter_internal.h"

namespace tollgate::fmt_detail {
namespace {

// Binding strength, loosest first; mirrors the grammar's expr alternatives.
enum Prec : int {
  kOr = 1,
  kAnd = 2,
  kNot = 3,
  kCompare = 4,  // == != < <= > >= startswith endswith contains, in / not in
  kAdd = 5,
  kMul = 6,
  kNeg = 7,
  kPrimary = 8,
};

int prec_of(const Expr& e) {
  switch (e.kind) {
    case ExprKind::Unary:
      return e.unary_op == UnaryOp::Not ? kNot : kNeg;
    case ExprKind::In:
      return kCompare;
    case ExprKind::Binary:
      switch (e.binary_op) {
        case BinaryOp::Or:
          return kOr;
        case BinaryOp::And:
          return kAnd;
        case BinaryOp::Add:
        case BinaryOp::Sub:
          return kAdd;
        case BinaryOp::Mul:
        case BinaryOp::Div:
        case BinaryOp::Mod:
          return kMul;
        default:
          return kCompare;
      }
    case ExprKind::IntLit:
    case ExprKind::FloatLit:
      // A folded negative constant (`-5` in a list) prints like a negation.
      return !e.text.empty() && e.text[0] == '-' ? kNeg : kPrimary;
    default:
      return kPrimary;
  }
}

const char* op_text(const Expr& e) {
  switch (e.binary_op) {
    case BinaryOp::Or:
      return e.symbolic ? "||" : "or";
    case BinaryOp::And:
      return e.symbolic ? "&&" : "and";
    case BinaryOp::Eq:
      return "==";
    case BinaryOp::Ne:
      return "!=";
    case BinaryOp::Lt:
      return "<";
    case BinaryOp::Le:
      return "<=";
    case BinaryOp::Gt:
      return ">";
    case BinaryOp::Ge:
      return ">=";
    case BinaryOp::Add:
      return "+";
    case BinaryOp::Sub:
      return "-";
    case BinaryOp::Mul:
      return "*";
    case BinaryOp::Div:
      return "/";
    case BinaryOp::Mod:
      return "%";
    case BinaryOp::StartsWith:
      return "startswith";
    case BinaryOp::EndsWith:
      return "endswith";
    case BinaryOp::Contains:
      return "contains";
  }
  return "?";
}

const char* builtin_text(Builtin b) {
  switch (b) {
    case Builtin::Min:
      return "min";
    case Builtin::Max:
      return "max";
    case Builtin::Clamp:
      return "clamp";
    case Builtin::Pow:
      return "pow";
    case Builtin::Abs:
      return "abs";
    case Builtin::Has:
      return "has";
    case Builtin::Cost:
      return "cost";
  }
  return "?";
}

const char* view_text(BudgetView v) {
  switch (v) {
    case BudgetView::Spent:
      return "spent";
    case BudgetView::Limit:
      return "limit";
    case BudgetView::Remaining:
      return "remaining";
    case BudgetView::Ratio:
      return "ratio";
  }
  return "?";
}

void print(const Expr& e, int min_prec, std::string& out);

void print_arg(const Expr* e, int min_prec, std::string& out) {
  if (e) print(*e, min_prec, out);
}

void print(const Expr& e, int min_prec, std::string& out) {
  int prec = prec_of(e);
  bool parens = prec < min_prec;
  if (parens) out += '(';
  const Expr* a0 = e.args.size() > 0 ? e.args[0].get() : nullptr;
  const Expr* a1 = e.args.size() > 1 ? e.args[1].get() : nullptr;
  switch (e.kind) {
    case ExprKind::BoolLit:
    case ExprKind::IntLit:
    case ExprKind::FloatLit:
    case ExprKind::StringLit:
    case ExprKind::Name:
      out += e.text;
      break;
    case ExprKind::Member:
      out += e.text;
      out += '.';
      out += view_text(e.member);
      break;
    case ExprKind::Unary:
      if (e.unary_op == UnaryOp::Not) {
        out += e.symbolic ? "!" : "not ";
        print_arg(a0, kNot, out);
      } else {
        out += '-';
        size_t at = out.size();
        print_arg(a0, kNeg, out);
        if (out.size() > at && out[at] == '-') out.insert(at, " ");  // `- -a`, not `--a`
      }
      break;
    case ExprKind::Binary: {
      // Left-associative levels: the right operand binds one level tighter. Comparisons are
      // non-associative: both operands must bind tighter.
      bool cmp = prec == kCompare;
      print_arg(a0, cmp ? prec + 1 : prec, out);
      out += ' ';
      out += op_text(e);
      out += ' ';
      print_arg(a1, prec + 1, out);
      break;
    }
    case ExprKind::In:
      print_arg(a0, kCompare + 1, out);
      out += e.negated ? " not in [" : " in [";
      for (size_t i = 1; i < e.args.size(); ++i) {
        if (i > 1) out += ", ";
        print(*e.args[i], 0, out);  // constants: a folded `-5` needs no parentheses
      }
      out += ']';
      break;
    case ExprKind::Call:
      out += builtin_text(e.builtin);
      out += '(';
      for (size_t i = 0; i < e.args.size(); ++i) {
        if (i > 0) out += ", ";
        print(*e.args[i], 0, out);
      }
      out += ')';
      break;
  }
  if (parens) out += ')';
}

}  // namespace

std::string format_expr(const Expr& e) {
  std::string out;
  print(e, 0, out);
  return out;
}

std::string quote(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

std::string format_action(const Action& a) {
  auto with_arg = [&](const char* kw) {
    return a.arg ? std::string(kw) + " " + format_expr(*a.arg) : std::string(kw);
  };
  switch (a.kind) {
    case ActionKind::Route:
      return "route " + a.route;
    case ActionKind::Deny:
      return "deny " + (a.reason_text.empty() ? quote(a.reason) : a.reason_text);
    case ActionKind::MaxOut:
      return with_arg("max_out");
    case ActionKind::MaxIn:
      return with_arg("max_in");
    case ActionKind::Retry:
      return a.arg ? "retry backoff " + format_expr(*a.arg) : "retry";
    case ActionKind::Rag:
      return a.arg ? "rag top_k " + format_expr(*a.arg) : "rag";
    case ActionKind::RagOff:
      return "rag off";
    case ActionKind::Cache:
      return a.cache == CacheMode::Prompt     ? "cache prompt"
             : a.cache == CacheMode::Response ? "cache response"
                                              : "cache off";
    case ActionKind::Tag:
      return with_arg("tag");
  }
  return "";
}

}  // namespace tollgate::fmt_detail
