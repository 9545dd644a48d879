// Pieces of `tollgate fmt` shared by its translation units (formatter.cpp lays out the file,
// formatter_expr.cpp prints expressions and actions).
#pragma once

#include <string>

#include "compiler/ast.h"

namespace tollgate::fmt_detail {

// The expression with the fewest parentheses that re-parses to the same tree. Literals are
// printed as written (Expr::text); && || ! keep their spelling.
std::string format_expr(const Expr& e);

// `route local`, `max_out 512`, `retry backoff 2s`, ...
std::string format_action(const Action& a);

// A string literal for a decoded value: quotes plus \" \\ \n \t escapes.
std::string quote(const std::string& value);

}  // namespace tollgate::fmt_detail
