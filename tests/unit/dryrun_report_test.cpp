// Report formats (JSON schema keys, Markdown tables, self-contained HTML with SVG) and the
// `tollgate dryrun` command's exit codes, in-process and through the built CLI.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tollgate/tollgate.hpp"
#include "tools/dryrun/dryrun.h"
#include "tools/dryrun/replay.h"
#include "tools/dryrun/report.h"
#include "tools/dryrun/report_rows.h"

using namespace tollgate;
using namespace tollgate::dryrun;

namespace {

const std::string kSrc = TOLLGATE_SOURCE_DIR;
const std::string kData = kSrc + "/tests/data/";

// A scratch directory with two policies and a log; removed at the end.
struct Scratch {
  std::string dir;
  Scratch() {
    char tmpl[] = "/tmp/tollgate_dryrun_XXXXXX";
    dir = ::mkdtemp(tmpl);
    write("cheap.pol", policy("if true route cheap\n"));
    write("strong.pol", policy("if true route strong\n"));
    write("mixed.pol", policy("if task == chat route strong\nif true route cheap\n"));
    // 2 records: chat 1000 in / 100 out, qa 1000 in / 100 out.
    // cheap (gpt-4o-mini): 1000 x 1.5e-7 + 100 x 6e-7 = $0.00021 each -> $0.00042
    // strong (gpt-4o): 1000 x 2.5e-6 + 100 x 1e-5 = $0.0035 each -> $0.007
    // mixed: $0.0035 + $0.00021 = $0.00371
    write(
        "log.jsonl",
        R"({"ts": "2024-01-01T00:00:00Z", "tenant": "a", "in_tokens": 1000, "out_tokens": 100, "attrs": {"task": "chat"}})"
        "\n"
        R"({"ts": "2024-01-01T00:05:00Z", "tenant": "b", "in_tokens": 1000, "out_tokens": 100, "attrs": {"task": "qa"}})"
        "\n"
        "garbage line\n");
  }
  ~Scratch() { std::system(("rm -rf '" + dir + "'").c_str()); }
  static std::string policy(const std::string& rules) {
    return "policy p\ninput {\n  tenant: string\n  task: enum(chat, qa) = chat\n}\n"
           "routes {\n  cheap = \"gpt-4o-mini\"\n  strong = \"gpt-4o\"\n}\n" +
           rules;
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
  }
  std::string path(const std::string& name) const { return dir + "/" + name; }
  std::string read(const std::string& name) const {
    std::ifstream in(path(name));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  int run(std::vector<std::string> args) {
    args.insert(args.begin(), "dryrun");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    return dryrun::main(static_cast<int>(args.size()), argv.data());
  }
  std::vector<std::string> common(const std::string& base, const std::string& head) {
    return {"--base",       path(base),        "--head",   path(head),
            "--log",        path("log.jsonl"), "--prices", kData + "prices_litellm.json",
            "--no-progress"};
  }
};

}  // namespace

TEST_CASE("JSON report: stable schema, exact money") {
  Scratch s;
  auto args = s.common("cheap.pol", "mixed.pol");
  args.insert(args.end(), {"--format", "json", "--out", s.path("r.json")});
  REQUIRE(s.run(args) == kExitOk);
  nlohmann::json j = nlohmann::json::parse(s.read("r.json"));
  CHECK(j["schema"] == "tollgate.dryrun/v1");
  for (const char* side : {"base", "head"}) {
    for (const char* k :
         {"source",          "policy",         "actual",         "spend_usd",
          "requests",        "calls",          "denied",         "retries",
          "retries_dropped", "retry_rate",     "successful",     "cost_per_successful_usd",
          "in_tokens",       "out_tokens",     "cached_tokens",  "in_tokens_p50",
          "in_tokens_p95",   "out_tokens_p50", "out_tokens_p95", "deny_reasons",
          "prices"})
      CHECK(j[side].contains(k));
  }
  for (const char* k :
       {"delta", "threshold", "input", "changed", "changes", "breakdowns", "assumptions"})
    CHECK(j.contains(k));
  for (const char* b : {"route", "tenant", "task", "day"}) CHECK(j["breakdowns"].contains(b));
  CHECK(j["base"]["spend_usd"].get<double>() == Approx(0.00042));
  CHECK(j["head"]["spend_usd"].get<double>() == Approx(0.00371));
  // Exact decimal text: 12 fractional digits from the pico-dollar sum.
  std::string text = s.read("r.json");
  CHECK(text.find("\"spend_usd\": 0.000420000000") != std::string::npos);
  CHECK(text.find("\"spend_usd\": 0.003710000000") != std::string::npos);
  CHECK(j["input"]["malformed"] == 1);
  CHECK(j["input"]["first_malformed"][0]["line"] == 3);
  CHECK(j["changed"] == 1);
  CHECK(j["changes"][0]["field"] == "route");
  CHECK(j["changes"][0]["examples"][0]["head_rule"] == "line 10: if task == chat route strong");
  CHECK(j["threshold"].is_null());
}

TEST_CASE("Markdown report: headline and tables ready for a PR comment") {
  Scratch s;
  auto args = s.common("cheap.pol", "mixed.pol");
  args.insert(args.end(), {"--format", "md", "--out", s.path("r.md")});
  REQUIRE(s.run(args) == kExitOk);
  std::string md = s.read("r.md");
  CHECK(md.rfind("### Tollgate dry-run", 0) == 0);
  CHECK(md.find("| | base | head | delta |\n|---|--:|--:|--:|\n") != std::string::npos);
  CHECK(md.find("| spend | $0.0004 | $0.0037 | +$0.0033 (+783.3%) |") != std::string::npos);
  CHECK(md.find("| route: cheap (gpt-4o-mini) → strong (gpt-4o) | 1 |") != std::string::npos);
  CHECK(md.find("<details><summary>Spend by route</summary>") != std::string::npos);
}

TEST_CASE("HTML report: self-contained page with SVG charts") {
  Scratch s;
  auto args = s.common("cheap.pol", "mixed.pol");
  args.insert(args.end(), {"--format", "html", "--out", s.path("r.html")});
  REQUIRE(s.run(args) == kExitOk);
  std::string html = s.read("r.html");
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(html.find("Cumulative spend over time") != std::string::npos);
  CHECK(html.find("<polyline") != std::string::npos);
  CHECK(html.find("<rect") != std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("src=") == std::string::npos);
  CHECK(html.find("</html>") != std::string::npos);
}

TEST_CASE("text report and exit codes") {
  Scratch s;
  // head spends $0.00371 vs $0.00042: +783%. Over 5% -> exit 3; under 1000% -> 0.
  auto args = s.common("cheap.pol", "mixed.pol");
  args.insert(args.end(), {"--fail-if-increase", "5%", "--out", s.path("r.txt")});
  CHECK(s.run(args) == kExitIncrease);
  CHECK(s.read("r.txt").find("over the --fail-if-increase threshold of 5%") != std::string::npos);
  args = s.common("cheap.pol", "mixed.pol");
  args.insert(args.end(), {"--fail-if-increase", "1000", "--out", s.path("r.txt")});
  CHECK(s.run(args) == kExitOk);
  // A decrease never trips.
  args = s.common("strong.pol", "cheap.pol");
  args.insert(args.end(), {"--fail-if-increase", "0%", "--out", s.path("r.txt")});
  CHECK(s.run(args) == kExitOk);
  // `actual` as a side (the log has no model: --set model fills it).
  args = s.common("cheap.pol", "cheap.pol");
  args[1] = "actual";
  args.insert(args.end(), {"--set", "model=gpt-4o", "--out", s.path("r.txt")});
  CHECK(s.run(args) == kExitOk);
  CHECK(s.read("r.txt").find("base: actual (what the log says happened)") != std::string::npos);

  CHECK(s.run({"--base", s.path("cheap.pol"), "--log", s.path("log.jsonl")}) == kExitUsage);
  CHECK(s.run({"--bogus"}) == kExitUsage);
  auto bad_format = s.common("cheap.pol", "cheap.pol");
  bad_format.insert(bad_format.end(), {"--format", "pdf"});
  CHECK(s.run(bad_format) == kExitUsage);
  auto missing_log = s.common("cheap.pol", "cheap.pol");
  missing_log[5] = s.path("no-such.jsonl");
  CHECK(s.run(missing_log) == kExitInput);
  auto bad_policy = s.common("cheap.pol", "no-such.pol");
  CHECK(s.run(bad_policy) == kExitInput);
  auto bad_map = s.common("cheap.pol", "cheap.pol");
  bad_map.insert(bad_map.end(), {"--map", "task=attrs.kind"});
  CHECK(s.run(bad_map) == kExitInput);
}

TEST_CASE("the built CLI dispatches to dryrun and returns 3 over the threshold") {
  Scratch s;
  std::string cmd = std::string(TOLLGATE_CLI) + " dryrun --base " + s.path("cheap.pol") +
                    " --head " + s.path("strong.pol") + " --log " + s.path("log.jsonl") +
                    " --prices " + kData + "prices_litellm.json --format md --fail-if-increase 5%" +
                    " > " + s.path("cli.md") + " 2>/dev/null";
  int rc = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 3);
  CHECK(s.read("cli.md").find("Over the 5% threshold") != std::string::npos);
}

TEST_CASE("REV:PATH policies are read with git show") {
  std::string text, err;
  // The repository's first commit has no policies; HEAD does.
  if (std::system(("git -C " + kSrc + " rev-parse --git-dir >/dev/null 2>&1").c_str()) != 0)
    return;  // not a git checkout (a source tarball): nothing to test
  REQUIRE(::chdir(kSrc.c_str()) == 0);
  CHECK(read_policy_source("HEAD:policies/gateway.pol", &text, &err));
  CHECK(text.find("policy gateway") != std::string::npos);
  CHECK_FALSE(read_policy_source("HEAD:policies/no-such.pol", &text, &err));
  CHECK(err.find("neither a file nor a git REV:PATH") != std::string::npos);
}

TEST_CASE("argument helpers") {
  IncreaseGate g;
  CHECK(parse_increase_gate("5%", &g));
  CHECK(g.value == 5);
  CHECK(parse_increase_gate("2.5", &g));
  CHECK(g.value == 2.5);
  CHECK(g.kind == IncreaseGate::Percent);
  CHECK_FALSE(parse_increase_gate("-1%", &g));
  CHECK_FALSE(parse_increase_gate("five", &g));
  int64_t ms;
  CHECK(parse_duration_ms("5min", &ms));
  CHECK(ms == 300000);
  CHECK(parse_duration_ms("300", &ms));
  CHECK(ms == 300000);
  CHECK(parse_duration_ms("250ms", &ms));
  CHECK(ms == 250);
  CHECK_FALSE(parse_duration_ms("5 parsecs", &ms));
}

// The monthly projection (total x 730 h / span) in every format, and --fail-if-increase in
// dollars on the replayed total or on the projection. The log spans 5 minutes: x 8,760.
TEST_CASE("monthly projection and dollar gates") {
  Scratch s;
  auto run_gate = [&](const std::string& gate) {
    auto args = s.common("cheap.pol", "mixed.pol");
    args.insert(args.end(), {"--fail-if-increase", gate, "--out", s.path("r.txt")});
    return s.run(args);
  };
  // delta on the total: $0.00329; per month: $28.82.
  CHECK(run_gate("$0.003") == kExitIncrease);
  CHECK(s.read("r.txt").find("over the --fail-if-increase threshold of $0.003") !=
        std::string::npos);
  CHECK(run_gate("$0.004") == kExitOk);
  CHECK(run_gate("$28/month") == kExitIncrease);
  CHECK(run_gate("$29/month") == kExitOk);
  CHECK(s.read("r.txt").find("Projected per month (a projection: the replayed 5 min scaled to "
                             "730 h): base $3.68, head $32.50, delta +$28.82.") !=
        std::string::npos);
  for (const char* bad : {"$", "-5%", "nan", "$x/month", "$5/week", "5%%"})
    CHECK(run_gate(bad) == kExitUsage);

  auto args = s.common("cheap.pol", "mixed.pol");
  args.insert(args.end(), {"--format", "json", "--out", s.path("r.json"), "--fail-if-increase",
                           "$500/month"});
  REQUIRE(s.run(args) == kExitOk);
  nlohmann::json j = nlohmann::json::parse(s.read("r.json"));
  CHECK(j["monthly_projection"]["span_hours"].get<double>() == Approx(5.0 / 60));
  CHECK(j["monthly_projection"]["base_usd"].get<double>() == Approx(0.00042 * 8760));
  CHECK(j["monthly_projection"]["head_usd"].get<double>() == Approx(0.00371 * 8760));
  CHECK(j["threshold"]["kind"] == "usd_per_month");
  CHECK(j["threshold"]["value"].get<double>() == 500);
  CHECK(j["threshold"]["tripped"] == false);
  for (const char* fmt : {"md", "html"}) {
    args = s.common("cheap.pol", "mixed.pol");
    args.insert(args.end(), {"--format", fmt, "--out", s.path("r.out")});
    REQUIRE(s.run(args) == kExitOk);
    INFO(fmt);
    CHECK(s.read("r.out").find("Projected per month (a projection: the replayed 5 min") !=
          std::string::npos);
  }

  IncreaseGate g;
  REQUIRE(parse_increase_gate("5", &g));
  CHECK(g.kind == IncreaseGate::Percent);
  CHECK(g.text() == "5%");
  REQUIRE(parse_increase_gate("$1.5/month", &g));
  CHECK(g.kind == IncreaseGate::UsdPerMonth);
  CHECK(g.value == 1.5);
  CHECK_FALSE(parse_increase_gate("inf", &g));
}

// Log-derived strings reach a PR comment: in Markdown they render as themselves. Tables and text
// get entities and backslashes; code spans (which show HTML literally) keep the bytes.
TEST_CASE("Markdown report escapes log-derived strings") {
  Scratch s;
  s.write("hostile.jsonl",
          R"({"ts": "2024-01-01T00:00:00Z", "tenant": "<script>x</script>|*y*", "in_tokens": 1000, "out_tokens": 100, "attrs": {"task": "chat"}})"
          "\n");
  std::vector<std::string> args = {"--base",   s.path("cheap.pol"),       "--head",
                                    s.path("mixed.pol"), "--log",        s.path("hostile.jsonl"),
                                    "--prices", kData + "prices_litellm.json", "--no-progress",
                                    "--format", "md",                   "--out",
                                    s.path("r.md")};
  REQUIRE(s.run(args) == kExitOk);
  const std::string md = s.read("r.md");
  CHECK(md.find("&lt;script&gt;x&lt;/script&gt;\\|\\*y\\*") != std::string::npos);  // table cell
  for (size_t at = md.find("<script"); at != std::string::npos; at = md.find("<script", at + 1)) {
    INFO(md.substr(at > 20 ? at - 20 : 0, 60));
    CHECK(at > 0);
    CHECK(md[at - 1] == '`');  // only ever the first byte of a code span
  }
}

TEST_CASE("report wording: no change, $0.00 deltas, relative time") {
  Scratch s;
  auto args = s.common("cheap.pol", "cheap.pol");
  args.insert(args.end(), {"--out", s.path("r.txt")});
  REQUIRE(s.run(args) == kExitOk);
  CHECK(s.read("r.txt").find("Result: no change in spend") != std::string::npos);
  CHECK(s.read("r.txt").find("does not change spend by") == std::string::npos);
  CHECK(fmt_delta_usd(-1, 2) == "$0.00");  // one pico-dollar less rounds to nothing
  CHECK(fmt_delta_usd(-usd_to_pico(0.4), 2) == "-$0.40");
  ReplayData d;
  d.first_ts = 0;
  d.last_ts = 29 * 60000 + 999;
  CHECK(time_range(d) == "relative time +0:00 → +0:29");
  d.first_ts = 1700000000000;
  d.last_ts = 1700000000000 + 3600000;
  CHECK(time_range(d).find("2023-11-14") == 0);
}
