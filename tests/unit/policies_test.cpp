// Every policies/*_test.pol, run in-process through the CLI's test runner with both backends, and
// the explain tracer checked against Policy::decide on every one of those requests.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "compiler/formatter.h"
#include "compiler/parser.h"
#include "tools/explain_trace.h"
#include "tools/test_runner.h"

namespace {

std::vector<std::string> shipped_test_files() {
  std::vector<std::string> errors;
  auto files = tollgate::find_test_files({std::string(TOLLGATE_SOURCE_DIR) + "/policies"}, &errors);
  REQUIRE(errors.empty());
  return files;
}

}  // namespace

TEST_CASE("the shipped policies have tests, and the reference and gateway policies are there") {
  auto files = shipped_test_files();
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(std::filesystem::path(f).filename().string());
  for (const char* want : {"gateway_test.pol", "gateway_v2_test.pol", "reference_test.pol"}) {
    CHECK(std::find(names.begin(), names.end(), want) != names.end());
  }
}

TEST_CASE("every policy test passes, JIT and interpreter") {
  for (auto backend : {tollgate::Backend::Jit, tollgate::Backend::Interpreter}) {
    tollgate::EngineOptions options;
    options.backend = backend;
    tollgate::Engine engine(options);
    for (const std::string& f : shipped_test_files()) {
      tollgate::TestFileResult r = tollgate::run_test_file(engine, f);
      INFO(f << (backend == tollgate::Backend::Jit ? " (jit)" : " (interpreter)") << "\n"
             << r.errors);
      REQUIRE_FALSE(r.has_errors);
      CHECK(r.cases.size() >= 15);
      for (const auto& c : r.cases) {
        std::string why;
        for (const auto& w : c.failures) why += "\n  " + w;
        INFO(c.file << ":" << c.loc.line << " \"" << c.name << "\"" << why);
        CHECK(c.passed);
      }
    }
  }
}

// Each rule must decide its field (or add a tag) in at least one test: a rule no test reaches is
// untested policy. The tracer tells which actions won.
TEST_CASE("every rule of every shipped policy wins in some test, and explain agrees with decide") {
  tollgate::Engine engine;
  for (const std::string& f : shipped_test_files()) {
    std::string policy_path = f.substr(0, f.size() - std::string("_test.pol").size()) + ".pol";
    tollgate::CompileResult compiled = engine.compile_file(policy_path);
    INFO(compiled.rendered);
    REQUIRE(compiled.ok());
    const tollgate::Policy& policy = *compiled.policy;

    std::string source;
    {
      std::ifstream in(f);
      std::stringstream ss;
      ss << in.rdbuf();
      source = ss.str();
    }
    tollgate::DiagnosticSink diags;
    auto tests = tollgate::parse_program(source, f, diags);
    REQUIRE_FALSE(diags.has_errors());

    std::vector<bool> won(policy.program().rules.size(), false);
    tollgate::Request req(policy);
    tollgate::FixedBudgets budgets;
    for (const tollgate::TestCase& t : tests->tests) {
      std::string err;
      REQUIRE(tollgate::apply_givens(policy, t, &req, &budgets, &err));
      req.now_ms = 1767225600000;  // 2026-01-01: the same window for both
      tollgate::Decision d;
      policy.decide(req, budgets, &d);
      tollgate::Trace trace = tollgate::trace_decision(policy, req, budgets, req.now_ms);
      INFO(f << ": \"" << t.name << "\"");
      CHECK(tollgate::diff_decisions(policy, trace.decision, d) == "");
      for (const auto& rt : trace.rules)
        for (const auto& a : rt.actions)
          if (a.outcome == tollgate::ActionOutcome::Won) won[rt.rule] = true;
    }
    for (size_t i = 0; i < won.size(); ++i) {
      INFO(policy_path << ":" << policy.program().rules[i].loc.line
                       << ": no test makes this rule win its field");
      CHECK(won[i]);
    }
  }
}

// fmt must never change what a policy decides: the formatted text of every shipped policy passes
// the same tests, and formatting it again changes nothing.
TEST_CASE("formatting a shipped policy keeps its decisions") {
  tollgate::Engine engine;
  for (const std::string& f : shipped_test_files()) {
    std::string policy_path = f.substr(0, f.size() - std::string("_test.pol").size()) + ".pol";
    std::ifstream in(policy_path);
    std::stringstream ss;
    ss << in.rdbuf();
    tollgate::DiagnosticSink diags;
    auto program = tollgate::parse_program(ss.str(), policy_path, diags);
    REQUIRE_FALSE(diags.has_errors());
    std::string formatted = tollgate::format_program(*program);
    tollgate::DiagnosticSink again;
    auto reparsed = tollgate::parse_program(formatted, policy_path, again);
    REQUIRE_FALSE(again.has_errors());
    CHECK(tollgate::format_program(*reparsed) == formatted);

    tollgate::CompileResult compiled = engine.compile(formatted, policy_path);
    INFO(policy_path << "\n" << compiled.rendered);
    REQUIRE(compiled.ok());
    std::ifstream tin(f);
    std::stringstream ts;
    ts << tin.rdbuf();
    auto tests = tollgate::parse_program(ts.str(), f, diags);
    REQUIRE_FALSE(diags.has_errors());
    tollgate::validate_tests(*compiled.policy, *tests, diags);
    REQUIRE_FALSE(diags.has_errors());
    tollgate::TestFileResult result;
    tollgate::run_tests(*compiled.policy, *tests, &result);
    CHECK(result.cases.size() == tests->tests.size());
    CHECK(result.failed() == 0);
  }
}

// The tracer against the engine on random requests (inputs set or unset, budgets anywhere from
// unspent to overspent), so explain is right on the requests no test wrote down, errors included.
TEST_CASE("explain agrees with decide on random requests, JIT and interpreter") {
  std::mt19937_64 rng(20261123);
  for (auto backend : {tollgate::Backend::Jit, tollgate::Backend::Interpreter}) {
    tollgate::EngineOptions options;
    options.backend = backend;
    tollgate::Engine engine(options);
    for (const std::string& f : shipped_test_files()) {
      std::string policy_path = f.substr(0, f.size() - std::string("_test.pol").size()) + ".pol";
      tollgate::CompileResult compiled = engine.compile_file(policy_path);
      REQUIRE(compiled.ok());
      const tollgate::Policy& policy = *compiled.policy;
      tollgate::Request req(policy);
      tollgate::FixedBudgets budgets;
      const char* tenants[] = {"t-1", "trial-7", "", "acme"};
      int errors_seen = 0;
      for (int n = 0; n < 3000; ++n) {
        req.reset();
        budgets.clear();
        for (size_t i = 0; i < policy.inputs().size(); ++i) {
          const tollgate::InputInfo& in = policy.inputs()[i];
          if (rng() % 10 == 0) continue;  // unset: default or an evaluation error
          int slot = static_cast<int>(i);
          switch (in.type) {
            case tollgate::InputType::Bool:
              req.set_bool(slot, rng() % 2);
              break;
            case tollgate::InputType::Int:
              req.set_int(slot, static_cast<int64_t>(rng() % 5 == 0 ? rng() % 4 : rng() % 200000));
              break;
            case tollgate::InputType::Float:
              req.set_float(slot, static_cast<double>(rng() % 1400) / 1000.0);
              break;
            case tollgate::InputType::String:
              req.set_string(slot, tenants[rng() % 4]);
              break;
            case tollgate::InputType::Enum:
              req.set_enum(slot, static_cast<int>(rng() % in.members.size()));
              break;
          }
        }
        for (const tollgate::BudgetInfo& b : policy.budgets())
          budgets.set(b.name, static_cast<double>(rng() % 300000) / 10.0);
        req.now_ms = 1767225600000;
        tollgate::Decision d;
        policy.decide(req, budgets, &d);
        tollgate::Trace trace = tollgate::trace_decision(policy, req, budgets, req.now_ms);
        errors_seen += d.errors > 0;
        std::string diff = tollgate::diff_decisions(policy, trace.decision, d);
        if (!diff.empty()) {
          FAIL_CHECK(policy_path << " request " << n << ": trace vs engine\n" << diff);
          break;
        }
      }
      CHECK(errors_seen > 0);  // the error paths were exercised
    }
  }
}
