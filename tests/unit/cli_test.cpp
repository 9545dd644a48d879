// The `tollgate` CLI as a user runs it: exit codes, output and diagnostics of every command, run
// as a subprocess (TOLLGATE_CLI is the built binary).
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Run {
  int status = -1;
  std::string out;  // stdout and stderr, interleaved
};

// Runs the CLI from the source directory (so policies/ paths work) with stderr merged.
Run tollgate(const std::string& args) {
  std::string cmd =
      std::string("cd '") + TOLLGATE_SOURCE_DIR + "' && '" + TOLLGATE_CLI + "' " + args + " 2>&1";
  Run r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// A fresh temporary directory per test case, removed when the test binary exits.
std::string temp_dir() {
  static struct Cleanup {
    std::vector<std::string> dirs;
    ~Cleanup() {
      std::error_code ec;
      for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
    }
  } cleanup;
  char tmpl[] = "/tmp/tollgate-cli-test-XXXXXX";
  char* d = mkdtemp(tmpl);
  REQUIRE(d != nullptr);
  cleanup.dirs.push_back(d);
  return d;
}

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

const char* kSmallPolicy =
    "policy small\n"
    "\n"
    "input {\n"
    "  task: enum(classify, chat) = chat\n"
    "  tenant: string = \"t\"\n"
    "}\n"
    "\n"
    "routes {\n"
    "  cheap = \"gpt-4o-mini\"\n"
    "  strong = \"gpt-4o\"\n"
    "}\n"
    "\n"
    "if task == classify route cheap max_out 64\n"
    "default route strong max_out 1024\n"
    "if tenant startswith \"trial-\" max_out 128\n";

}  // namespace

TEST_CASE("help: the tool and every command print usage and exit 0") {
  Run r = tollgate("--help");
  CHECK(r.status == 0);
  CHECK(has(r.out, "usage: tollgate <command>"));
  for (const char* cmd : {"check", "fmt", "test", "eval", "explain", "dryrun"}) {
    CHECK(has(r.out, cmd));
  }
  for (const char* cmd : {"check", "fmt", "test", "eval", "explain"}) {
    Run h = tollgate(std::string(cmd) + " --help");
    INFO(cmd << ": " << h.out);
    CHECK(h.status == 0);
    CHECK(has(h.out, std::string("usage: tollgate ") + cmd));
    CHECK(has(h.out, "exit status"));
  }
  Run h = tollgate("help eval");
  CHECK(h.status == 0);
  CHECK(has(h.out, "usage: tollgate eval"));
}

TEST_CASE("usage errors exit 2 with the command's usage") {
  Run none = tollgate("");
  CHECK(none.status == 2);
  CHECK(has(none.out, "usage: tollgate"));

  Run unknown = tollgate("frobnicate");
  CHECK(unknown.status == 2);
  CHECK(has(unknown.out, "unknown command 'frobnicate'"));

  for (const char* cmd : {"check", "fmt", "test", "eval", "explain"}) {
    Run r = tollgate(std::string(cmd) + " --bogus policies/gateway.pol");
    INFO(cmd << ": " << r.out);
    CHECK(r.status == 2);
    CHECK(has(r.out, "unknown option '--bogus'"));
    CHECK(has(r.out, std::string("usage: tollgate ") + cmd));
  }
  Run no_file = tollgate("check");
  CHECK(no_file.status == 2);
  Run missing_value = tollgate("eval policies/gateway.pol --set");
  CHECK(missing_value.status == 2);
  CHECK(has(missing_value.out, "--set needs NAME=VALUE"));
  Run missing_path = tollgate("check /nonexistent/x.pol");
  CHECK(missing_path.status == 2);
  CHECK(has(missing_path.out, "no such file"));
}

TEST_CASE("dryrun is dispatched, or reported as not built") {
  Run r = tollgate("dryrun --help");
  if (has(r.out, "dryrun not built")) {
    CHECK(r.status == 2);
  } else {
    CHECK(r.status == 0);
    CHECK(has(r.out, "dryrun"));
  }
}

TEST_CASE("check: the shipped policies are clean") {
  Run r = tollgate("check policies/gateway.pol policies/gateway_v2.pol policies/reference.pol");
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(has(r.out, "3 files checked: 0 errors"));
  // A test file stands for its policy.
  Run t = tollgate("check policies/reference_test.pol");
  INFO(t.out);
  CHECK(t.status == 0);
  CHECK(has(t.out, "1 file checked: 0 errors"));
}

TEST_CASE("check: a syntax error is a clang-style diagnostic with a caret") {
  std::string dir = temp_dir();
  write(dir + "/bad.pol",
        "policy bad\n"
        "input { task: enum(a, b) }\n"
        "if task == a route\n");
  Run r = tollgate("check " + dir + "/bad.pol");
  INFO(r.out);
  CHECK(r.status == 1);
  // file:line:col: error: message, then the source line and a caret under the column.
  std::regex diag(dir + "/bad\\.pol:3:[0-9]+: error: [^\\n]+\\n  if task == a route\\n *\\^");
  CHECK(std::regex_search(r.out, diag));
  CHECK(has(r.out, "1 file checked: "));
}

TEST_CASE("check: a type error points at the operand") {
  std::string dir = temp_dir();
  write(dir + "/types.pol",
        "policy types\n"
        "input {\n"
        "  tier: enum(free, pro) = pro\n"
        "}\n"
        "routes {\n"
        "  mid = \"gpt-4o-mini\"\n"
        "}\n"
        "if tier > 3 route mid\n"
        "default route mid\n");
  Run r = tollgate("check " + dir + "/types.pol");
  INFO(r.out);
  CHECK(r.status == 1);
  CHECK(std::regex_search(r.out, std::regex("types\\.pol:8:[0-9]+: error: ")));
  CHECK(has(r.out, "  if tier > 3 route mid\n"));
}

TEST_CASE("check: warnings pass, --strict makes them errors") {
  std::string dir = temp_dir();
  write(dir + "/lint.pol", std::string(kSmallPolicy) + "\n");
  write(dir + "/lint.pol",
        "policy lint\n"
        "input {\n"
        "  task: enum(classify, chat) = chat\n"
        "  spare: int = 0\n"
        "}\n"
        "routes {\n"
        "  cheap = \"gpt-4o-mini\"\n"
        "}\n"
        "if task == classify route cheap\n"
        "default route cheap\n");
  Run r = tollgate("check " + dir + "/lint.pol");
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(has(r.out, "warning: "));
  CHECK(has(r.out, "[unused-input]"));
  Run strict = tollgate("check --strict " + dir + "/lint.pol");
  INFO(strict.out);
  CHECK(strict.status == 1);
  CHECK(has(strict.out, "error: "));
}

TEST_CASE("check: a test file naming an unknown input is reported with its location") {
  std::string dir = temp_dir();
  write(dir + "/small.pol", kSmallPolicy);
  write(dir + "/small_test.pol",
        "test \"typo\" {\n"
        "  given tsak = classify\n"
        "  expect route cheap\n"
        "}\n");
  Run r = tollgate("check " + dir + "/small.pol");
  INFO(r.out);
  CHECK(r.status == 1);
  CHECK(std::regex_search(r.out, std::regex("small_test\\.pol:2:[0-9]+: error: [^\\n]*tsak")));
}

TEST_CASE("fmt: prints, checks and rewrites") {
  std::string dir = temp_dir();
  const std::string path = dir + "/ugly.pol";
  write(path, std::string(kSmallPolicy) + "\n\n\n   if   task==chat    tag \"chat\"   # keep me\n");
  const std::string before = read(path);

  Run printed = tollgate("fmt " + path);
  INFO(printed.out);
  CHECK(printed.status == 0);
  CHECK(has(printed.out, "# keep me"));
  CHECK(read(path) == before);  // printing does not touch the file

  Run check = tollgate("fmt --check " + path);
  CHECK(check.status == 1);
  CHECK(has(check.out, path));

  Run w = tollgate("fmt -w " + path);
  CHECK(w.status == 0);
  CHECK(read(path) != before);
  CHECK(read(path) == printed.out);

  Run again = tollgate("fmt --check " + path);
  INFO(again.out);
  CHECK(again.status == 0);

  Run both = tollgate("fmt -w --check " + path);
  CHECK(both.status == 2);
}

TEST_CASE("fmt: the shipped policies are formatted") {
  Run r = tollgate("fmt --check policies/");
  INFO(r.out);
  CHECK(r.status == 0);
}

TEST_CASE("fmt: a syntax error is reported, nothing is written") {
  std::string dir = temp_dir();
  write(dir + "/bad.pol", "policy bad\nif if\n");
  Run r = tollgate("fmt -w " + dir + "/bad.pol");
  CHECK(r.status == 1);
  CHECK(has(r.out, "bad.pol:2:"));
  CHECK(read(dir + "/bad.pol") == "policy bad\nif if\n");
}

TEST_CASE("test: every shipped policy test passes, with both backends") {
  for (const char* extra : {"", " --interp"}) {
    Run r = tollgate(std::string("test policies/") + extra);
    INFO(r.out);
    CHECK(r.status == 0);
    std::smatch m;
    REQUIRE(std::regex_search(r.out, m, std::regex("([0-9]+) passed, 0 failed\\n$")));
    CHECK(std::stoi(m[1]) >= 60);
  }
}

TEST_CASE("test: failures name the test's file:line and the expected vs actual fields") {
  std::string dir = temp_dir();
  write(dir + "/small.pol", kSmallPolicy);
  write(dir + "/small_test.pol",
        "test \"classify is cheap\" {\n"
        "  given task = classify\n"
        "  expect route cheap, max_out 64\n"
        "}\n"
        "\n"
        "test \"wrong on purpose\" {\n"
        "  given task = chat, tenant = \"trial-1\"\n"
        "  expect route cheap, max_out 64, tag \"x\"\n"
        "}\n");
  Run r = tollgate("test " + dir);
  INFO(r.out);
  CHECK(r.status == 1);
  CHECK(has(r.out, dir + "/small_test.pol:6:1: FAIL \"wrong on purpose\""));
  CHECK(has(r.out, "route:   expected cheap, got strong"));
  CHECK(has(r.out, "max_out: expected 64, got 128"));
  CHECK(has(r.out, "tag:     expected \"x\", got no tags"));
  CHECK(has(r.out, "1 passed, 1 failed\n"));

  // --coverage names the rules no test makes win (here the default's route, which the trial
  // cap always beats, does win; the trial cap wins in the failing test).
  Run cov = tollgate("test --coverage " + dir + "/small.pol");
  INFO(cov.out);
  CHECK(has(cov.out, "small.pol: 3 of 3 rules win in some test"));

  // A policy argument stands for its test file; -v lists passes.
  Run v = tollgate("test -v " + dir + "/small.pol");
  CHECK(has(v.out, "PASS \"classify is cheap\""));
}

TEST_CASE("test: --coverage lists the rules no test makes win") {
  std::string dir = temp_dir();
  write(dir + "/small.pol", kSmallPolicy);
  write(dir + "/small_test.pol",
        "test \"classify is cheap\" {\n"
        "  given task = classify\n"
        "  expect route cheap\n"
        "}\n");
  Run r = tollgate("test --coverage " + dir);
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(has(r.out, "small.pol: 1 of 3 rules win in some test"));
  CHECK(has(r.out, "small.pol:14: no test makes this rule win"));
  CHECK(has(r.out, "small.pol:15: no test makes this rule win"));

  Run shipped = tollgate("test --coverage policies/");
  INFO(shipped.out);
  CHECK(has(shipped.out, "policies/gateway.pol: 26 of 26 rules win in some test"));
  CHECK(has(shipped.out, "policies/reference.pol: 18 of 18 rules win in some test"));
}

TEST_CASE("test: a test file that does not parse counts as a failure") {
  std::string dir = temp_dir();
  write(dir + "/small.pol", kSmallPolicy);
  write(dir + "/small_test.pol", "test \"x\" { given task = }\n");
  Run r = tollgate("test " + dir);
  INFO(r.out);
  CHECK(r.status == 1);
  CHECK(has(r.out, "small_test.pol:1:"));
  CHECK(has(r.out, "0 passed, 1 failed"));
}

TEST_CASE("eval: text and JSON decisions") {
  const std::string req =
      "eval policies/gateway.pol --set tenant=t-1 --set task=classify --set in_tokens=300";
  Run text = tollgate(req);
  INFO(text.out);
  CHECK(text.status == 0);
  CHECK(std::regex_search(text.out, std::regex("route +cheap +claude-3-5-haiku-20241022")));
  CHECK(std::regex_search(text.out, std::regex("max_out +64")));
  CHECK(std::regex_search(text.out, std::regex("cache +response")));

  Run json = tollgate(req + " --json");
  INFO(json.out);
  CHECK(json.status == 0);
  auto j = nlohmann::json::parse(json.out);
  CHECK(j["policy"]["name"] == "gateway");
  const auto& d = j["decision"];
  CHECK(d["route"] == "cheap");
  CHECK(d["model"] == "claude-3-5-haiku-20241022");
  CHECK(d["denied"] == false);
  CHECK(d["deny_reason"].is_null());
  CHECK(d["max_out"] == 64);
  CHECK(d["max_in"].is_null());
  CHECK(d["cache"] == "response");
  CHECK(d["tags"] == nlohmann::json::array({"tier:pro", "task:classify"}));
  CHECK(d["rules"]["route"]["line"].get<int>() > 0);
  CHECK(d["rules"]["retry"].is_null());
  CHECK(d["errors"] == 0);

  Run interp = tollgate(req + " --json --interp");
  auto ji = nlohmann::json::parse(interp.out);
  CHECK(ji["policy"]["backend"] == "interpreter");
  CHECK(ji["decision"] == d);
}

TEST_CASE("eval: budget spend is settable, and bad settings are usage errors") {
  const std::string base =
      "eval policies/gateway.pol --json --set tenant=t-1 --set task=chat --set in_tokens=1000";
  auto over = nlohmann::json::parse(tollgate(base + " --set monthly.spent=6000").out);
  CHECK(over["decision"]["denied"] == true);
  CHECK(over["decision"]["deny_reason"] == "monthly budget exhausted");
  auto near = nlohmann::json::parse(tollgate(base + " --set monthly.spent=4500").out);
  CHECK(near["decision"]["route"] == "cheap");

  Run bad_enum = tollgate(base + " --set tier=gold");
  CHECK(bad_enum.status == 2);
  CHECK(has(bad_enum.out, "free, pro, enterprise"));
  Run bad_input = tollgate(base + " --set tenat=x");
  CHECK(bad_input.status == 2);
  CHECK(has(bad_input.out, "no input 'tenat'"));
  Run bad_budget = tollgate(base + " --set weekly.spent=3");
  CHECK(bad_budget.status == 2);
  CHECK(has(bad_budget.out, "no budget 'weekly'"));
  Run bad_view = tollgate(base + " --set monthly.ratio=3");
  CHECK(bad_view.status == 2);
  Run bad_int = tollgate(base + " --set in_tokens=lots");
  CHECK(bad_int.status == 2);
}

TEST_CASE("eval: an unset required input fails closed in the gateway policy") {
  Run r = tollgate("eval policies/gateway.pol --json --set task=chat --set in_tokens=10");
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["decision"]["denied"] == true);
  CHECK(j["decision"]["errors"].get<int>() > 0);
  CHECK(has(j["decision"]["deny_reason"].get<std::string>(), "evaluation error in rule at line"));
}

TEST_CASE("explain: every rule, and why each action won or lost") {
  std::string dir = temp_dir();
  write(dir + "/why.pol",
        "policy why\n"                                       // 1
        "input {\n"                                          // 2
        "  task: enum(classify, chat) = chat\n"              // 3
        "  error: enum(none, server) = none\n"               // 4
        "}\n"                                                // 5
        "routes {\n"                                         // 6
        "  cheap = \"gpt-4o-mini\"\n"                        // 7
        "  strong = \"gpt-4o\"\n"                            // 8
        "}\n"                                                // 9
        "if task == classify route cheap max_out 64\n"       // 10
        "if error == server route strong max_out 8 retry\n"  // 11
        "if task == classify max_out 128\n"                  // 12
        "default route strong\n");                           // 13
  Run r = tollgate("explain " + dir + "/why.pol --set task=classify --set error=server");
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(has(r.out, "line 10"));
  CHECK(has(r.out, "won: first rule to route"));
  CHECK(has(r.out, "lost: route already set by line 10"));
  CHECK(has(r.out, "ignored: belongs to the route, and this rule did not choose the route"));
  CHECK(has(r.out, "lost: 128 does not tighten max_out 64 set by line 10"));
  CHECK(has(r.out, "skipped: not evaluated, every field it sets is decided: route (line 10)"));
  CHECK(std::regex_search(r.out, std::regex("route +cheap")));

  Run j = tollgate("explain --json " + dir + "/why.pol --set task=classify --set error=server");
  INFO(j.out);
  CHECK(j.status == 0);
  auto doc = nlohmann::json::parse(j.out);
  REQUIRE(doc["rules"].size() == 4);
  CHECK(doc["rules"][0]["fired"] == true);
  CHECK(doc["rules"][1]["actions"][0]["outcome"] == "lost");
  CHECK(doc["rules"][1]["actions"][2]["outcome"] == "won");  // retry
  CHECK(doc["rules"][3]["evaluated"] == false);              // default: route decided
  CHECK(doc["decision"]["route"] == "cheap");
  CHECK(doc["decision"]["retry"] == true);
  CHECK(!doc.contains("trace_mismatch"));
}

TEST_CASE("explain: the gateway policy, a request denied for want of a tenant") {
  Run r = tollgate("explain policies/gateway.pol --set task=chat --set in_tokens=10");
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(has(r.out, "ERROR: condition failed to evaluate"));
  CHECK(has(r.out, "on_error deny"));
}
