// Canonical text dump of an AST for tests: two programs are structurally identical (same items,
// declarations, rules, expressions, literal values and spellings, tests) iff their dumps are equal.
// Locations, comments and checker annotations are left out unless asked for.
#pragma once

#include <string>

#include "compiler/ast.h"

namespace tollgate::test {

// One S-expression per node, e.g. (bin == (name tier) (name free)).
std::string dump_expr(const Expr& e, bool with_locs = false);

// Items in source order, one per line. with_locs adds @line:col to every node.
std::string dump_program(const Program& p, bool with_locs = false);

}  // namespace tollgate::test
