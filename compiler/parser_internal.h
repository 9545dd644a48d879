// Internal to compiler/parser*.cpp (it includes ANTLR headers): the pieces the parse driver
// (parser.cpp) and the parse-tree-to-AST builder (parser_build.cpp) share.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "TollgateParser.h"
#include "antlr4-runtime.h"
#include "compiler/ast.h"

namespace tollgate::parser_detail {

// Deepest expression nesting accepted (parentheses, prefix operators, operator chains). Deeper
// input is a diagnostic, so neither the parser nor any AST walker downstream can exhaust the stack.
constexpr int kMaxNesting = 200;

struct SyntaxError {
  SourceLoc loc;
  std::string message;
};
using ErrorList = std::vector<SyntaxError>;

// Fills `program` (items, declarations, rules, tests) from the parse tree. The tree may be partial
// after syntax errors: every accessor result is null-checked. Literal and name problems go to
// `errors`.
void build_ast(tollgate_antlr::TollgateParser::ProgramContext* tree, std::string_view source,
               Program& program, ErrorList& errors);

}  // namespace tollgate::parser_detail
