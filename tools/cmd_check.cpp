// `tollgate check`: parse, type-check and lint policies (and their sibling _test.pol files),
// printing every diagnostic clang-style.
#include <cstdio>
#include <set>

#include "compiler/parser.h"
#include "tools/cli.h"
#include "tools/test_runner.h"

namespace {

const tollgate::cli::Command kCheck = {
    "check", "",
    "usage: tollgate check [--strict] [--prices FILE] FILE|DIR...\n"
    "\n"
    "Parses and type-checks each policy, runs the lints, and checks the test blocks of its\n"
    "sibling NAME_test.pol (givens name real inputs and budgets, expects real routes). A\n"
    "_test.pol argument stands for its policy; directories are searched for *.pol files.\n"
    "Diagnostics are printed clang-style (file:line:col: error: message, source line, caret).\n"
    "\n"
    "options:\n"
    "  --strict        lint warnings are errors\n"
    "  --prices FILE   price table (LiteLLM JSON or Portkey); routes without a price are linted.\n"
    "                  Default: $TOLLGATE_PRICES, else no price lint\n"
    "  -h, --help      this text\n"
    "\n"
    "exit status: 0 no errors (warnings allowed), 1 errors, 2 usage error\n"};

struct Counts {
  size_t errors = 0, warnings = 0;
  void add(const std::vector<tollgate::Diagnostic>& ds) {
    for (const auto& d : ds) {
      if (d.severity == tollgate::Severity::Error) ++errors;
      if (d.severity == tollgate::Severity::Warning) ++warnings;
    }
  }
};

// Checks one policy and its test file; prints diagnostics to stderr.
void check_policy(tollgate::Engine& engine, const std::string& path, bool strict, Counts* counts) {
  using namespace tollgate;
  std::string source;
  if (!cli::read_file(path, &source)) {
    std::fprintf(stderr, "%s: error: cannot read file\n", path.c_str());
    ++counts->errors;
    return;
  }
  CompileResult r = engine.compile(source, path);
  std::fputs(r.rendered.c_str(), stderr);
  counts->add(r.diagnostics);

  const std::string test_path = cli::test_file_for(path);
  if (!cli::file_exists(test_path)) return;
  std::string test_source;
  if (!cli::read_file(test_path, &test_source)) {
    std::fprintf(stderr, "%s: error: cannot read file\n", test_path.c_str());
    ++counts->errors;
    return;
  }
  DiagnosticSink diags;
  std::unique_ptr<Program> tests = parse_program(test_source, test_path, diags);
  if (tests && !diags.has_errors() && r.ok()) validate_tests(*r.policy, *tests, diags);
  if (strict) diags.promote_warnings();
  std::fputs(render_all(diags.all(), test_source).c_str(), stderr);
  counts->add(diags.all());
}

}  // namespace

int cmd_check(int argc, char** argv) {
  using namespace tollgate;
  if (cli::wants_help(kCheck, argc, argv)) return cli::kExitOk;
  bool strict = false;
  std::string prices_path;
  std::vector<std::string> paths;
  cli::ArgScanner args(argc, argv);
  while (args.next()) {
    bool missing = false;
    if (args.is_positional()) {
      paths.emplace_back(args.arg());
    } else if (args.flag("--strict")) {
      strict = true;
    } else if (args.option("--prices", &prices_path, &missing)) {
      if (missing) return cli::usage_error(kCheck, "--prices needs a FILE");
    } else {
      return cli::usage_error(kCheck, "unknown option '" + std::string(args.arg()) + "'");
    }
  }
  if (paths.empty()) return cli::usage_error(kCheck, "no policy files given");

  std::string err;
  auto prices = cli::load_prices(prices_path, &err);
  if (!err.empty()) {
    std::fprintf(stderr, "tollgate check: %s\n", err.c_str());
    return cli::kExitUsage;
  }
  std::vector<std::string> missing_paths;
  std::vector<std::string> files =
      cli::expand_pol_files(paths, /*with_tests=*/true, &missing_paths);
  for (const std::string& m : missing_paths)
    std::fprintf(stderr, "tollgate check: %s\n", m.c_str());
  if (!missing_paths.empty()) return cli::kExitUsage;

  // A test file stands for its policy; each policy is checked once.
  std::vector<std::string> policies;
  std::set<std::string> seen;
  for (const std::string& f : files) {
    std::string p = cli::is_test_file(f) ? cli::policy_file_for(f) : f;
    if (seen.insert(p).second) policies.push_back(p);
  }

  EngineOptions options;
  options.backend = Backend::Interpreter;  // checking needs no native code
  options.prices = prices;
  options.strict = strict;
  options.lints = true;
  Engine engine(options);
  Counts counts;
  for (const std::string& p : policies) check_policy(engine, p, strict, &counts);
  std::printf("%zu file%s checked: %zu error%s, %zu warning%s\n", policies.size(),
              policies.size() == 1 ? "" : "s", counts.errors, counts.errors == 1 ? "" : "s",
              counts.warnings, counts.warnings == 1 ? "" : "s");
  return counts.errors ? cli::kExitFail : cli::kExitOk;
}
