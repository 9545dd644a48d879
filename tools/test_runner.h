// Runs `test` blocks (from NAME_test.pol, or inside NAME.pol) against a compiled policy: applies
// the givens to a Request and a fixed budget reader, decides, compares every expect. Used by
// `tollgate test`, `tollgate check` (validation only) and the in-process policy tests.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "compiler/ast.h"
#include "compiler/diagnostics.h"
#include "tollgate/tollgate.hpp"
#include "tools/fixed_budgets.h"

namespace tollgate {

struct TestCaseResult {
  std::string name;
  std::string file;  // the file holding the test block
  SourceLoc loc;
  bool passed = false;
  std::vector<std::string> failures;  // "route: expected cheap, got strong", one per expect
};

struct TestFileResult {
  std::string test_path;
  std::string policy_path;
  // Rendered diagnostics (parse/compile errors, bad givens or expects) that kept tests from
  // running; a file with errors counts as one failure.
  std::string errors;
  bool has_errors = false;
  std::vector<TestCaseResult> cases;

  int passed() const;
  int failed() const;  // failed cases, plus 1 when the file could not be run
};

// Checks a parsed test file against a compiled policy (the checker's check_tests: givens name
// inputs or BUDGET.spent with values of the right type, expects name real routes, no duplicates).
// Problems go to `diags` with the test file's line:col. Annotates the test program.
void validate_tests(const Policy& policy, Program& tests, DiagnosticSink& diags);

// Resets `req` and `budgets`, then applies the test's givens. False (with *error) on a given that
// does not fit the policy; validate_tests reports the same problems with locations.
bool apply_givens(const Policy& policy, const TestCase& test, Request* req, FixedBudgets* budgets,
                  std::string* error);

// One description per expect the decision does not meet; empty when the test passes.
std::vector<std::string> compare_expects(const Policy& policy, const TestCase& test,
                                         const Decision& d);

// Called after each test's decision (for coverage): the request and budgets as the test set them.
using TestObserver =
    std::function<void(const Policy& policy, const TestCase& test, const Request& req,
                       const FixedBudgets& budgets, const Decision& d)>;

// Runs `tests` (a parsed test file, or the policy's own Program) against `policy`.
void run_tests(const Policy& policy, const Program& tests, TestFileResult* out,
               const TestObserver& observe = {});

// Parses NAME_test.pol, compiles the sibling NAME.pol with `engine`, validates and runs every test
// block in both files.
TestFileResult run_test_file(Engine& engine, const std::string& test_path,
                             const TestObserver& observe = {});

// The NAME_test.pol files named by `paths`: files as given (a NAME.pol stands for its sibling
// test file), directories searched recursively (hidden directories skipped), sorted. Paths that
// do not exist, or policies without a test file, are reported in *errors.
std::vector<std::string> find_test_files(const std::vector<std::string>& paths,
                                         std::vector<std::string>* errors);

}  // namespace tollgate
