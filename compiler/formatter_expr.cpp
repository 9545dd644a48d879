// Expression and action printing for `tollgate fmt`: minimal parentheses by precedence, so that
// re-parsing the output yields the same tree (comparisons are non-associative, so a comparison
// operand that is itself a comparison is always parenthesised).
#include "compiler/ast_text.h"
#include "compiler/formatter_internal.h"

namespace tollgate::fmt_detail {
namespace {

int prec_of(const Expr& e) {
  // A folded negative constant (`-5` in a list) prints like a negation.
  if ((e.kind == ExprKind::IntLit || e.kind == ExprKind::FloatLit) && !e.text.empty() &&
      e.text[0] == '-')
    return kPrecNeg;
  return operator_precedence(e);
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
      out += view_name(e.member);
      break;
    case ExprKind::Unary:
      if (e.unary_op == UnaryOp::Not) {
        out += e.symbolic ? "!" : "not ";
        print_arg(a0, kPrecNot, out);
      } else {
        out += '-';
        size_t at = out.size();
        print_arg(a0, kPrecNeg, out);
        if (out.size() > at && out[at] == '-') out.insert(at, " ");  // `- -a`, not `--a`
      }
      break;
    case ExprKind::Binary: {
      // Left-associative levels: the right operand binds one level tighter. Comparisons are
      // non-associative: both operands must bind tighter.
      bool cmp = prec == kPrecCompare;
      print_arg(a0, cmp ? prec + 1 : prec, out);
      out += ' ';
      out += binary_op_spelling(e);
      out += ' ';
      print_arg(a1, prec + 1, out);
      break;
    }
    case ExprKind::In:
      print_arg(a0, kPrecCompare + 1, out);
      out += e.negated ? " not in [" : " in [";
      for (size_t i = 1; i < e.args.size(); ++i) {
        if (i > 1) out += ", ";
        print(*e.args[i], 0, out);  // constants: a folded `-5` needs no parentheses
      }
      out += ']';
      break;
    case ExprKind::Call:
      out += builtin_name(e.builtin);
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
      return std::string("cache ") + to_string(a.cache);
    case ActionKind::Tag:
      return with_arg("tag");
  }
  return "";
}

}  // namespace tollgate::fmt_detail
