// Name resolution, type inference and checking, and lints over a parsed Program.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "compiler/ast.h"
#include "compiler/diagnostics.h"

namespace tollgate {

struct CheckOptions {
  // When set, routes are looked up here; a route with neither inline prices nor an entry is
  // linted ("route-unpriced"). Returns true when the model has a price.
  std::function<bool(const std::string& model)> has_price;
  bool lints = true;
};

// Resolves names, annotates every Expr with its Type, fills Program::eval_order, enum ids and
// string_literals, and reports errors and lint warnings. Returns false on any error.
bool check_program(Program& program, DiagnosticSink& diags, const CheckOptions& options = {});

// Checks the test blocks of a NAME_test.pol file (`tests`, which holds only tests) against its
// checked policy: given names are inputs or BUDGET.spent with values of the right type, expected
// routes exist. Annotates given/expect values (enum members, string literal ids of `policy`).
// Diagnostics carry tests.file. Returns false on any error.
bool check_tests(const Program& policy, Program& tests, DiagnosticSink& diags);

}  // namespace tollgate
