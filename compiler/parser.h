// Source text -> AST. The only place that includes ANTLR: everything downstream sees
// compiler/ast.h.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "compiler/ast.h"
#include "compiler/diagnostics.h"

namespace tollgate {

// Parses a policy file (or a _test.pol file: test blocks only). Syntax errors go to `diags` with
// file:line:col and "expected ..." wording; never throws on any input. Returns a Program even with
// errors (possibly partial); callers check diags.has_errors().
std::unique_ptr<Program> parse_program(std::string_view source, std::string_view file,
                                       DiagnosticSink& diags);

}  // namespace tollgate
