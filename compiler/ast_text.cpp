// The language's spellings and operator precedence; see ast_text.h.
#include "compiler/ast_text.h"

namespace tollgate {

int operator_precedence(const Expr& e) {
  switch (e.kind) {
    case ExprKind::Unary:
      return e.unary_op == UnaryOp::Not ? kPrecNot : kPrecNeg;
    case ExprKind::In:
      return kPrecCompare;
    case ExprKind::Binary:
      switch (e.binary_op) {
        case BinaryOp::Or:
          return kPrecOr;
        case BinaryOp::And:
          return kPrecAnd;
        case BinaryOp::Add:
        case BinaryOp::Sub:
          return kPrecAdd;
        case BinaryOp::Mul:
        case BinaryOp::Div:
        case BinaryOp::Mod:
          return kPrecMul;
        default:
          return kPrecCompare;
      }
    default:
      return kPrecPrimary;
  }
}

const char* binary_op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Or:
      return "or";
    case BinaryOp::And:
      return "and";
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

const char* binary_op_spelling(const Expr& e) {
  if (e.symbolic && e.binary_op == BinaryOp::Or) return "||";
  if (e.symbolic && e.binary_op == BinaryOp::And) return "&&";
  return binary_op_name(e.binary_op);
}

const char* builtin_name(Builtin b) {
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

const char* view_name(BudgetView v) {
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

std::string input_type_text(const Type& t, const Program& p, const char* sep) {
  switch (t.kind) {
    case TypeKind::Bool:
      return "bool";
    case TypeKind::Int:
      return "int";
    case TypeKind::Float:
      return "float";
    case TypeKind::String:
      return "string";
    case TypeKind::Enum: {
      std::string s = "enum(";
      if (t.enum_id >= 0 && size_t(t.enum_id) < p.enums.size()) {
        const auto& m = p.enums[size_t(t.enum_id)].members;
        for (size_t i = 0; i < m.size(); ++i) s += (i ? sep : "") + m[i];
      }
      return s + ")";
    }
    default:
      return "?";
  }
}

}  // namespace tollgate
