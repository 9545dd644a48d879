// Internals shared by the checker's translation units (names, expression typing, tests, lints).
// Not part of the public compiler API: only compiler/checker*.cpp, lints.cpp and shadowing.cpp
// include it.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "compiler/ast.h"
#include "compiler/ast_text.h"
#include "compiler/checker.h"
#include "compiler/diagnostics.h"

namespace tollgate {
namespace check {

// ---- names and messages (checker_names.cpp) ---------------------------------------------------

size_t edit_distance(std::string_view a, std::string_view b);
// " (did you mean 'x'?)" for the closest candidate within a small edit distance, else "".
std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates);
std::string join(const std::vector<std::string>& parts, const char* sep);
// "int", "float", "string", "bool", "enum 'tier'", "list of int", "route".
std::string type_name(const Program& program, const Type& type);
inline bool is_numeric(const Type& t) {
  return t.kind == TypeKind::Int || t.kind == TypeKind::Float;
}
// Whether `==` / `!=` / `in` may compare these types.
bool eq_compatible(const Type& a, const Type& b);

// ---- name tables (first declaration wins; duplicates are reported by the checker)
// ----------------

struct Scope {
  std::unordered_map<std::string, int32_t> inputs, lets, budgets, routes;
  static Scope build(const Program& program);
};

// ---- expression checking (checker_expr.cpp) ----------------------------------------------------

class ExprChecker {
 public:
  ExprChecker(Program& program, const Scope& scope, DiagnosticSink& diags);

  // Resolves names and annotates `e` and its children; returns e.type.
  Type check(Expr& e);
  // Same, but a bare name that is not a let or input may be a member of `context`'s enum.
  Type check_in(Expr& e, const Type& context);

  // While checking let i, lets with index >= i are not visible (-1: all lets visible).
  int32_t current_let = -1;
  std::vector<Type> let_types;  // parallel to Program::lets, filled as lets are checked

  void error(SourceLoc loc, std::string message);
  int32_t intern_string(const std::string& s);

 private:
  bool is_value_name(const std::string& name) const;
  Type resolve_value(Expr& e);
  Type check_name(Expr& e);
  Type check_member(Expr& e);
  Type check_unary(Expr& e);
  Type check_binary(Expr& e);
  Type check_in_list(Expr& e);
  Type check_call(Expr& e);
  void check_pair(Expr& a, Expr& b, Type* ta, Type* tb);
  bool ambiguous(Expr& name, const Type& other);
  std::vector<std::string> value_names() const;

  Program& program_;
  const Scope& scope_;
  DiagnosticSink& diags_;
  std::unordered_map<std::string, int32_t> strings_;
};

Type make_type(TypeKind k, int32_t enum_id = -1);
// The value of a constant int expression (literals, unary minus, + - * without overflow).
bool const_int(const Expr& e, int64_t* v);
int32_t find_member(const Program& program, int32_t enum_id, const std::string& name);

// ---- tests (checker_tests.cpp) -----------------------------------------------------------------

// Checks test blocks in `tests` against the checked `policy`; annotates given/expect values.
void check_test_cases(const Program& policy, Program& tests, DiagnosticSink& diags);

// ---- error analysis (checker_errors.cpp) -------------------------------------------------------

enum class ErrorMode {
  Strict,  // every run-time error the semantics allow, including integer overflow
  Lint,    // the errors a policy author controls: unset required inputs, division, budgets, cost()
};
struct ErrorSite {
  const Expr* expr = nullptr;  // null: cannot error
  std::string why;             // "reads required input 'x' without has()"
};
// Whether evaluating `e` can produce an error, given inputs known to be set.
ErrorSite can_error(const Program& program, const Expr& e, ErrorMode mode,
                    const std::vector<char>& known_set);

// ---- lints (lints.cpp, shadowing.cpp) ----------------------------------------------------------

void run_lints(const Program& program, DiagnosticSink& diags, const CheckOptions& options);
void lint_shadowed_rules(const Program& program, DiagnosticSink& diags);
// True when the route rules decide every request in which all required inputs are set.
bool routes_are_total(const Program& program);
// Whether the condition of `rule` is true for every request (including unset inputs).
bool always_true(const Program& program, const Rule& rule);

}  // namespace check
}  // namespace tollgate
