// A compile problem as the host sees it: where (file:line:col), how bad, and what.
#pragma once

#include <cstdint>
#include <string>

namespace tollgate {

// 1-based line and column of the first character of a construct.
struct SourceLoc {
  uint32_t line = 0;
  uint32_t col = 0;
};

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity = Severity::Error;
  std::string file;
  SourceLoc loc;
  std::string message;  // one line, no trailing period
  std::string code;  // stable id for lints ("shadowed-rule", "unused-input", ...); empty for errors
};

}  // namespace tollgate
