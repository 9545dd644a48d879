// The language's spellings in one place: operator, builtin, budget-view and cache-mode names, and
// operator precedence. Used by the formatter, the checker's messages, `tollgate explain` and the
// test AST dump, so that they cannot drift apart.
#pragma once

#include <string>

#include "compiler/ast.h"

namespace tollgate {

// Binding strength, loosest first; mirrors the grammar's expr alternatives.
enum ExprPrec : int {
  kPrecOr = 1,
  kPrecAnd = 2,
  kPrecNot = 3,
  kPrecCompare = 4,  // == != < <= > >= startswith endswith contains, in / not in
  kPrecAdd = 5,
  kPrecMul = 6,
  kPrecNeg = 7,
  kPrecPrimary = 8,
};

// Precedence of an operator node (Unary, Binary, In); every other node is kPrecPrimary.
int operator_precedence(const Expr& e);

// Canonical operator name: `or` / `and` for the logical operators.
const char* binary_op_name(BinaryOp op);
// The operator as written: `||` / `&&` when the source used the symbolic form.
const char* binary_op_spelling(const Expr& e);
const char* builtin_name(Builtin b);
const char* view_name(BudgetView v);
// Scalar input type as written in an `input` block (`enum(a, b)`, members joined by `sep`).
std::string input_type_text(const Type& t, const Program& p, const char* sep);

}  // namespace tollgate
