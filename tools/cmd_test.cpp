// `tollgate test`: run the test blocks of NAME_test.pol files against their NAME.pol.
#include <cstdio>
#include <map>

#include "tools/cli.h"
#include "tools/explain_trace.h"
#include "tools/test_runner.h"

namespace {

const tollgate::cli::Command kTest = {
    "test", "",
    "usage: tollgate test [PATH...] [--interp] [--prices FILE] [--coverage] [-v|--verbose]\n"
    "\n"
    "Runs every test block of each NAME_test.pol against the sibling NAME.pol (and the test\n"
    "blocks written inside NAME.pol). PATH is a directory (searched recursively), a test file,\n"
    "or a policy (meaning its test file); the default is the current directory. Each failure is\n"
    "printed with the file:line of its test and the expected vs actual decision fields; the\n"
    "last line is `N passed, N failed`.\n"
    "\n"
    "options:\n"
    "  --interp         decide with the reference interpreter instead of the JIT\n"
    "  --prices FILE    price table for routes without inline prices (default $TOLLGATE_PRICES)\n"
    "  --coverage       list the rules that no test makes win their field (or add a tag)\n"
    "  -v, --verbose    also list the tests that pass\n"
    "  -h, --help       this text\n"
    "\n"
    "exit status: 0 all passed, 1 a test failed or a file has errors, 2 usage error\n"};

}  // namespace

int cmd_test(int argc, char** argv) {
  using namespace tollgate;
  if (cli::wants_help(kTest, argc, argv)) return cli::kExitOk;
  bool interp = false, verbose = false, coverage = false;
  std::string prices_path;
  std::vector<std::string> paths;
  cli::ArgScanner args(argc, argv);
  while (args.next()) {
    bool missing = false;
    if (args.is_positional()) {
      paths.emplace_back(args.arg());
    } else if (args.flag("--interp")) {
      interp = true;
    } else if (args.flag("--coverage")) {
      coverage = true;
    } else if (args.flag("-v") || args.flag("--verbose")) {
      verbose = true;
    } else if (args.option("--prices", &prices_path, &missing)) {
      if (missing) return cli::usage_error(kTest, "--prices needs a FILE");
    } else {
      return cli::usage_error(kTest, "unknown option '" + std::string(args.arg()) + "'");
    }
  }
  if (paths.empty()) paths.push_back(".");

  std::string err;
  EngineOptions options;
  options.backend = interp ? Backend::Interpreter : Backend::Jit;
  options.wait_for_jit = true;  // test what hosts run: the JIT tier
  options.prices = cli::load_prices(prices_path, &err);
  if (!err.empty()) {
    std::fprintf(stderr, "tollgate test: %s\n", err.c_str());
    return cli::kExitUsage;
  }
  std::vector<std::string> errors;
  std::vector<std::string> files = find_test_files(paths, &errors);
  for (const std::string& e : errors) std::fprintf(stderr, "tollgate test: %s\n", e.c_str());
  if (!errors.empty()) return cli::kExitUsage;
  if (files.empty()) {
    std::fprintf(stderr, "tollgate test: no *_test.pol files found\n");
    return cli::kExitFail;
  }

  Engine engine(options);
  int passed = 0, failed = 0;
  for (const std::string& f : files) {
    // Coverage: which rules won a field (or added a tag) in some test, via the explain tracer.
    std::vector<bool> won;
    std::vector<uint32_t> lines;
    TestObserver observe;
    if (coverage) {
      observe = [&](const Policy& policy, const TestCase&, const Request& req,
                    const FixedBudgets& budgets, const Decision&) {
        if (won.empty()) {
          won.assign(policy.rules().size(), false);
          for (const RuleInfo& ri : policy.rules()) lines.push_back(ri.line);
        }
        int64_t now = req.now_ms ? req.now_ms : cli::now_ms();
        for (const RuleTrace& rt : trace_decision(policy, req, budgets, now).rules)
          for (const ActionTrace& a : rt.actions)
            if (a.outcome == ActionOutcome::Won) won[rt.rule] = true;
      };
    }
    TestFileResult r = run_test_file(engine, f, observe);
    if (r.has_errors) {
      std::fprintf(stdout, "%s: cannot run the tests:\n%s", f.c_str(), r.errors.c_str());
    }
    for (const TestCaseResult& c : r.cases) {
      if (c.passed) {
        if (verbose)
          std::printf("%s:%u: PASS \"%s\"\n", c.file.c_str(), c.loc.line, c.name.c_str());
        continue;
      }
      std::printf("%s:%u:%u: FAIL \"%s\"\n", c.file.c_str(), c.loc.line, c.loc.col, c.name.c_str());
      for (const std::string& why : c.failures) std::printf("    %s\n", why.c_str());
    }
    passed += r.passed();
    failed += r.failed();
    if (coverage && !r.has_errors && won.empty()) {
      std::printf("%s: no tests ran\n", r.policy_path.c_str());
    } else if (coverage && !r.has_errors) {
      size_t covered = 0;
      for (bool w : won) covered += w;
      std::printf("%s: %zu of %zu rules win in some test\n", r.policy_path.c_str(), covered,
                  won.size());
      for (size_t i = 0; i < won.size(); ++i)
        if (!won[i])
          std::printf("    %s:%u: no test makes this rule win\n", r.policy_path.c_str(), lines[i]);
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? cli::kExitFail : cli::kExitOk;
}
