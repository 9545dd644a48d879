// Diagnostics shared by the parser, the checker and the test runner: one record per problem with
// file:line:col, rendered like clang (message, the source line, a caret under the column).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tollgate/diagnostic.hpp"

namespace tollgate {

class DiagnosticSink {
 public:
  void error(const std::string& file, SourceLoc loc, std::string message);
  void warning(const std::string& file, SourceLoc loc, std::string code, std::string message);
  void add(Diagnostic d) { diags_.push_back(std::move(d)); }

  const std::vector<Diagnostic>& all() const { return diags_; }
  size_t error_count() const;
  size_t warning_count() const;
  bool has_errors() const { return error_count() > 0; }
  // --strict: every warning becomes an error.
  void promote_warnings();

 private:
  std::vector<Diagnostic> diags_;
};

// "file:3:14: error: unknown input 'tenat'\n  if tenat == ...\n     ^\n"
std::string render(const Diagnostic& d, std::string_view source);
std::string render_all(const std::vector<Diagnostic>& ds, std::string_view source);

// The text of 1-based line `line` of `source`, without its newline ("" when out of range).
std::string_view source_line(std::string_view source, uint32_t line);

}  // namespace tollgate
