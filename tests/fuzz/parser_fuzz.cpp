// libFuzzer entry point for the front end: parse_program must accept any bytes without crashing,
// hanging or reporting a position outside the file; whatever parses cleanly must survive `fmt`
// (the output parses again to the same AST and formats to itself). Later stages (check, compile,
// decide) can be chained here on programs without errors.
//
// Build: CC=clang-19 CXX=clang++-19 cmake -S . -B build-fuzz -G Ninja -DTOLLGATE_FUZZ=ON
//        ninja -C build-fuzz parser_fuzz
// Run:   build-fuzz/parser_fuzz -max_total_time=60 -max_len=4096 tests/fuzz/corpus
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "compiler/formatter.h"
#include "compiler/parser.h"
#include "tests/support/ast_dump.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view source(reinterpret_cast<const char*>(data), size);
  tollgate::DiagnosticSink diags;
  std::unique_ptr<tollgate::Program> program = tollgate::parse_program(source, "fuzz.pol", diags);
  if (!program) __builtin_trap();
  uint32_t lines = 1;
  for (char c : source) lines += c == '\n';
  for (const tollgate::Diagnostic& d : diags.all()) {
    if (d.loc.line == 0 || d.loc.col == 0 || d.loc.line > lines || d.message.empty())
      __builtin_trap();
    (void)tollgate::render(d, source);
  }
  if (diags.has_errors()) return 0;

  std::string formatted = tollgate::format_program(*program);
  tollgate::DiagnosticSink again;
  std::unique_ptr<tollgate::Program> reparsed =
      tollgate::parse_program(formatted, "fuzz.pol", again);
  if (again.has_errors()) __builtin_trap();
  if (tollgate::test::dump_program(*reparsed) != tollgate::test::dump_program(*program))
    __builtin_trap();
  if (reparsed->comments.size() != program->comments.size()) __builtin_trap();
  if (tollgate::format_program(*reparsed) != formatted) __builtin_trap();
  return 0;
}
