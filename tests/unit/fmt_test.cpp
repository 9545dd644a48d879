// Formatter tests: fmt is idempotent, keeps every comment, and re-parsing its output gives the
// same AST (compared with the canonical dump, locations ignored) over the DESIGN.md example, the
// fuzz seed corpus, the repository's policies and random expressions; plus golden layouts.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/formatter.h"
#include "compiler/parser.h"
#include "tests/support/ast_dump.h"

using namespace tollgate;
namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::unique_ptr<Program> parse_ok(const std::string& src, const std::string& what) {
  DiagnosticSink diags;
  auto p = parse_program(src, what, diags);
  INFO(what << "\n" << render_all(diags.all(), src));
  REQUIRE_FALSE(diags.has_errors());
  return p;
}

std::vector<std::string> comment_texts(const Program& p) {
  std::vector<std::string> v;
  for (const Comment& c : p.comments) v.push_back(c.text);
  std::sort(v.begin(), v.end());
  return v;
}

// The three properties every formatted file must have; returns the formatted text.
std::string check_round_trip(const std::string& src, const std::string& what) {
  auto p1 = parse_ok(src, what);
  std::string f1 = format_program(*p1);
  INFO(what << "\n--- formatted ---\n" << f1);
  auto p2 = parse_ok(f1, what + " (formatted)");
  CHECK(test::dump_program(*p2) == test::dump_program(*p1));
  CHECK(comment_texts(*p2) == comment_texts(*p1));
  std::string f2 = format_program(*p2);
  CHECK(f2 == f1);
  return f1;
}

std::vector<fs::path> pol_files(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".pol") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

bool parses(const std::string& src) {
  DiagnosticSink diags;
  parse_program(src, "x.pol", diags);
  return !diags.has_errors();
}

const fs::path kCorpus = fs::path(TOLLGATE_SOURCE_DIR) / "tests/fuzz/corpus";

}  // namespace

TEST_CASE("DESIGN.md example round-trips", "[fmt]") {
  std::string src = read(kCorpus / "design.pol");
  REQUIRE(src.find("policy gateway") != std::string::npos);
  std::string f = check_round_trip(src, "design.pol");
  // Actions line up in one column per run of contiguous rules, routes are padded.
  CHECK_THAT(
      f, Catch::Contains(
             "if sensitivity == restricted                              route local  max_out 512\n"
             "if monthly.ratio >= 1.0 and priority != critical          deny \"monthly budget "
             "exhausted\"\n"));
  CHECK_THAT(
      f,
      Catch::Contains(
          "default                                                   route strong max_out 1024\n"));
  CHECK_THAT(f, Catch::Contains("  history_tokens: int = 0\n  attempt:        int = 0\n"));
  CHECK_THAT(f, Catch::Contains("budget tpm     = 200k tokens per tenant per minute fail open"));
  CHECK_THAT(f, Catch::Contains("\n# caps: every firing cap applies and the tightest wins\n"
                                "if tenant startswith \"trial-\"  max_out 128\n"));
  CHECK_THAT(f, Catch::Contains("if true                                  tag \"tier:\" + tier\n"));
  check_round_trip(read(kCorpus / "design_test.pol"), "design_test.pol");
}

TEST_CASE("every valid seed-corpus policy round-trips", "[fmt]") {
  int valid = 0;
  for (const fs::path& p : pol_files(kCorpus)) {
    std::string src = read(p);
    if (!parses(src)) continue;  // the corpus also holds malformed seeds for the fuzzer
    check_round_trip(src, p.filename().string());
    ++valid;
  }
  CHECK(valid >= 10);
}

TEST_CASE("the repository's policies round-trip", "[fmt]") {
  int n = 0;
  for (const fs::path& p : pol_files(fs::path(TOLLGATE_SOURCE_DIR) / "policies")) {
    check_round_trip(read(p), p.filename().string());
    ++n;
  }
  CHECK(n > 0);
}

TEST_CASE("golden layout of a messy policy", "[fmt]") {
  std::string f = check_round_trip(read(kCorpus / "messy.pol"), "messy.pol");
  CHECK(f ==
        "policy messy\n"
        "\n"
        "input {\n"
        "  a: int = 1\n"
        "  b: float = 2.5\n"
        "  c: enum(x, y, z) = x\n"
        "}\n"
        "\n"
        "routes {\n"
        "  fast = \"m1\"  self_hosted\n"
        "  slow = \"m2\"  in $1/M out $2/M\n"
        "}\n"
        "\n"
        "budget b = 5k tokens per minute\n"
        "\n"
        "let l = a + 1\n"
        "\n"
        "if a == 1            route fast\n"
        "if a > 1 and c == x  route slow max_out 8k\n"
        "if c in [x, y]       rag top_k 2 cache prompt\n"
        "default              route slow\n");
}

TEST_CASE("comments stay where they were", "[fmt][comments]") {
  std::string f = check_round_trip(read(kCorpus / "comments.pol"), "comments.pol");
  CHECK(f ==
        "# file comment 1\n"
        "# file comment 2\n"
        "\n"
        "policy c  # after the header\n"
        "\n"
        "# before input\n"
        "input {  # after brace\n"
        "  # before a\n"
        "  a: int = 1  # after a\n"
        "\n"
        "  # before b, after a blank line\n"
        "  b: int\n"
        "  # before the closing brace\n"
        "}  # after closing brace\n"
        "\n"
        "routes {\n"
        "  r = \"m\"  # trailing\n"
        "}\n"
        "\n"
        "# two lets, contiguous\n"
        "let x = a + 1  # on x\n"
        "let y = x * 2\n"
        "\n"
        "let z = 3  # separated by a blank line\n"
        "\n"
        "# own-line comment inside the rule\n"
        "# line 2\n"
        "if a > 1 and b < 2  route r  # inside a multi-line rule, line 1\n"
        "\n"
        "if a == 0  route r\n"
        "# a comment between rules\n"
        "if a == 2  route r\n"
        "default    route r\n"
        "\n"
        "# trailing comment at the end of the file\n");
}

TEST_CASE("trailing comments on consecutive lines share a column", "[fmt][comments]") {
  std::string f = check_round_trip("input {\n  a: int # one\n  long_name: int # two\n}\n", "t");
  CHECK(f ==
        "input {\n"
        "  a:         int  # one\n"
        "  long_name: int  # two\n"
        "}\n");
}

TEST_CASE("test files: one given and one expect line, long lines wrapped", "[fmt][tests]") {
  std::string f = check_round_trip(read(kCorpus / "tests_only_test.pol"), "tests_only_test.pol");
  CHECK_THAT(f, Catch::Contains("test \"classification goes to the cheap route\" {\n"
                                "  given task = classify, in_tokens = 300, tenant = \"t-1\"\n"
                                "  expect route cheap, max_out 64, retry false\n"
                                "}\n"));
  CHECK_THAT(f, Catch::Contains("  expect deny, max_in none, backoff 400ms, rag true, top_k 4, "
                                "cache response, tag \"tier:pro\",\n"
                                "         backoff 7\n"));
  CHECK_THAT(
      f, Catch::Contains("test \"expect before given\" {\n  given b = 1\n  expect route a\n}\n"));
}

TEST_CASE("minimal parentheses that re-parse to the same tree", "[fmt][precedence]") {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"(a + b) * c", "(a + b) * c"},
      {"a + (b * c)", "a + b * c"},
      {"(a - b) - c", "a - b - c"},
      {"a - (b - c)", "a - (b - c)"},
      {"a / (b * c)", "a / (b * c)"},
      {"not (a == b)", "not a == b"},
      {"(not a) == b", "(not a) == b"},
      {"not (a and b)", "not (a and b)"},
      {"!(a || b)", "!(a || b)"},
      {"(a or b) and c", "(a or b) and c"},
      {"a or (b and c)", "a or b and c"},
      {"-(a + b)", "-(a + b)"},
      {"-(-a)", "- -a"},
      {"(a == b) == c", "(a == b) == c"},
      {"a == (b == c)", "a == (b == c)"},
      {"(a in [x]) == b", "(a in [x]) == b"},
      {"(a + 1) in [1, -2]", "a + 1 in [1, -2]"},
      {"((min((a), (b))))", "min(a, b)"},
      {"x * (50%)", "x * 50%"},
      {"(10) % (3)", "10 % 3"},
      {"a&&b||!c", "a && b || !c"},
  };
  for (const Case& c : cases) {
    auto p = parse_ok(std::string("let x = ") + c.in, c.in);
    std::string f = format_program(*p);
    CHECK(f == std::string("let x = ") + c.out + "\n");
    check_round_trip(std::string("let x = ") + c.in, c.in);
  }
}

namespace {

// Random expressions over every operator, with random (often redundant) parentheses.
class ExprGen {
 public:
  explicit ExprGen(uint64_t seed) : rng_(seed) {}
  std::string expr(int depth) {
    std::string e = depth <= 0 ? leaf() : node(depth);
    if (pick(4) == 0) e = "(" + e + ")";
    return e;
  }

 private:
  std::mt19937_64 rng_;
  size_t pick(size_t n) { return rng_() % n; }
  std::string leaf() {
    static const char* kLeaves[] = {"a",  "b",     "7",    "8k",      "0.5",      "80%", "$0.05",
                                    "5s", "\"s\"", "true", "m.ratio", "5000 usd", "tag", "none"};
    return kLeaves[pick(sizeof kLeaves / sizeof *kLeaves)];
  }
  std::string node(int depth) {
    static const char* kBin[] = {
        " or ", " and ", " && ", " || ",         " == ",       " != ",
        " < ",  " <= ",  " > ",  " >= ",         " + ",        " - ",
        " * ",  " / ",   " % ",  " startswith ", " endswith ", " contains "};
    switch (pick(6)) {
      case 0:
        return "not " + sub(depth);
      case 1:
        return "!" + sub(depth);
      case 2:
        return "-" + sub(depth);
      case 3:
        return sub(depth) + (pick(2) ? " in [x, -1, 2]" : " not in [y]");
      case 4:
        return std::string(pick(2) ? "min(" : "pow(") + expr(depth - 1) + ", " + expr(depth - 1) +
               ")";
      default:
        return sub(depth) + kBin[pick(sizeof kBin / sizeof *kBin)] + sub(depth);
    }
  }
  // Operands of operators are parenthesised unless simple, so most strings parse.
  std::string sub(int depth) {
    std::string e = expr(depth - 1);
    return pick(3) == 0 ? e : "(" + e + ")";
  }
};

}  // namespace

TEST_CASE("random expressions round-trip through fmt", "[fmt][precedence][random]") {
  ExprGen gen(20261123);
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string src = "let x = " + gen.expr(1 + i % 5) + "\nif " + gen.expr(2) + " max_out " +
                      gen.expr(2) + " tag " + gen.expr(2) + "\n";
    if (!parses(src)) continue;  // e.g. a chained comparison without parentheses
    ++parsed;
    check_round_trip(src, src);
  }
  CHECK(parsed > 1000);
}

TEST_CASE("CRLF sources format like LF sources", "[fmt]") {
  std::string lf = read(kCorpus / "comments.pol");
  std::string crlf;
  for (char c : lf) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  auto a = parse_ok(lf, "lf");
  auto b = parse_ok(crlf, "crlf");
  CHECK(format_program(*b) == format_program(*a));
}
