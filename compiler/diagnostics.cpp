// Rendering of diagnostics in clang's layout.
#include "compiler/diagnostics.h"

#include <algorithm>

namespace tollgate {

void DiagnosticSink::error(const std::string& file, SourceLoc loc, std::string message) {
  diags_.push_back({Severity::Error, file, loc, std::move(message), {}});
}

void DiagnosticSink::warning(const std::string& file, SourceLoc loc, std::string code,
                             std::string message) {
  diags_.push_back({Severity::Warning, file, loc, std::move(message), std::move(code)});
}

size_t DiagnosticSink::error_count() const {
  return std::count_if(diags_.begin(), diags_.end(),
                       [](const Diagnostic& d) { return d.severity == Severity::Error; });
}

size_t DiagnosticSink::warning_count() const {
  return std::count_if(diags_.begin(), diags_.end(),
                       [](const Diagnostic& d) { return d.severity == Severity::Warning; });
}

void DiagnosticSink::promote_warnings() {
  for (auto& d : diags_)
    if (d.severity == Severity::Warning) d.severity = Severity::Error;
}

std::string_view source_line(std::string_view source, uint32_t line) {
  if (line == 0) return {};
  size_t start = 0;
  for (uint32_t l = 1; l < line; ++l) {
    size_t nl = source.find('\n', start);
    if (nl == std::string_view::npos) return {};
    start = nl + 1;
  }
  size_t end = source.find('\n', start);
  if (end == std::string_view::npos) end = source.size();
  std::string_view text = source.substr(start, end - start);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

std::string render(const Diagnostic& d, std::string_view source) {
  const char* sev = d.severity == Severity::Error     ? "error"
                    : d.severity == Severity::Warning ? "warning"
                                                      : "note";
  std::string out = d.file + ":" + std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) +
                    ": " + sev + ": " + d.message;
  if (!d.code.empty()) out += " [" + d.code + "]";
  out += "\n";
  std::string_view text = source_line(source, d.loc.line);
  if (d.loc.line == 0 || (text.empty() && d.loc.col <= 1)) return out;
  out += "  ";
  out += text;
  out += "\n  ";
  // Keep tabs so the caret lines up under tab-indented source.
  uint32_t col = std::max<uint32_t>(d.loc.col, 1);
  for (uint32_t i = 1; i < col; ++i)
    out += (i - 1 < text.size() && text[i - 1] == '\t') ? '\t' : ' ';
  out += "^\n";
  return out;
}

std::string render_all(const std::vector<Diagnostic>& ds, std::string_view source) {
  std::string out;
  for (const auto& d : ds) out += render(d, source);
  return out;
}

}  // namespace tollgate
