// `tollgate dryrun`: argument parsing, policy loading (file, REV:PATH, actual), the replay and
// the report. Kept in the library so tests can call it without spawning the CLI.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tollgate/tollgate.hpp"
#include "tools/dryrun/dryrun.h"
#include "tools/dryrun/numeric.h"
#include "tools/dryrun/replay.h"
#include "tools/dryrun/report.h"
#include "tools/dryrun/timeparse.h"

namespace tollgate::dryrun {

const char* const kUsage =
    "usage: tollgate dryrun --base OLD --head NEW --log FILE... --prices FILE\n"
    "                       [--format text|md|json|html] [--out PATH] [--fail-if-increase GATE]\n"
    "\n"
    "Replays logged LLM calls in timestamp order through two policies, each with its own\n"
    "simulated budget ledger, and reports spend, requests, denials, retries, breakdowns and the\n"
    "decisions that changed (with the rules behind them). Guide: docs/dryrun.md.\n"
    "\n"
    "  --base OLD, --head NEW  a .pol file, REV:PATH (read with `git show`, e.g.\n"
    "                          origin/main:policies/gateway.pol), or `actual` (what the log says\n"
    "                          happened: logged model and tokens)\n"
    "  --log FILE...           one or more logs (repeat --log, or list files after it); gzip and\n"
    "                          zstd are decompressed; - reads stdin\n"
    "  --log-format F          canonical (jsonl), csv, otel, litellm, mooncake, openai, "
    "anthropic,\n"
    "                          bedrock; default: detected from the first record\n"
    "  --prices FILE           LiteLLM model_prices_and_context_window.json, a Portkey pricing "
    "file\n"
    "                          or a directory of them (default $TOLLGATE_PRICES)\n"
    "  --map INPUT=FIELD       take a policy input from a log field or attribute (attrs.X or X)\n"
    "  --set INPUT=VALUE       give a policy input a constant (model=/tenant= also fill records\n"
    "                          that have none)\n"
    "  --format F              text (default), md (PR comment), json (schema in the guide), html\n"
    "  --out PATH              write the report to PATH instead of stdout\n"
    "  --fail-if-increase GATE exit 3 when head spends more than GATE over base: 5% (relative),\n"
    "                         $20 (on the replayed total), $500/month (on the monthly projection)\n"
    "  --cache-ttl DUR         prompt-cache TTL for logs with prefix hashes (default 5min)\n"
    "  --start-time TIME       anchor for relative timestamps (Mooncake, numeric CSV), RFC 3339\n"
    "  --allow-unpriced        count models without a price as $0 instead of failing\n"
    "  --top N                 rows per breakdown before the rest is summed (default 10)\n"
    "  --reorder-window N      records held per log to reorder out-of-order input (default 10000)\n"
    "  --interp                decide with the reference interpreter instead of the JIT\n"
    "  --no-progress           no progress line even on a terminal\n"
    "\n"
    "exit status: 0 ok, 3 --fail-if-increase tripped, 1 input error (policy, log, prices, --map),\n"
    "2 usage error\n";

namespace {

int usage(const std::string& msg) {
  std::fprintf(stderr, "tollgate dryrun: %s\n\n%s", msg.c_str(), kUsage);
  return kExitUsage;
}

bool file_exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool split_kv(const std::string& s, std::string* k, std::string* v) {
  size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  *k = s.substr(0, eq);
  *v = s.substr(eq + 1);
  return true;
}

std::string shell_quote(const std::string& s) {
  std::string o = "'";
  for (char c : s) {
    if (c == '\'')
      o += "'\\''";
    else
      o += c;
  }
  return o + "'";
}

}  // namespace

bool read_policy_source(const std::string& arg, std::string* text, std::string* error) {
  if (file_exists(arg)) {
    std::ifstream in(arg, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    *text = ss.str();
    return true;
  }
  size_t colon = arg.find(':');
  if (colon == std::string::npos || colon == 0) {
    *error = arg + ": no such file";
    return false;
  }
  std::string cmd = "git show " + shell_quote(arg) + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    *error = arg + ": cannot run git";
    return false;
  }
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int rc = ::pclose(p);
  if (rc != 0) {
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    *error = arg + ": neither a file nor a git REV:PATH (git show: " + out + ")";
    return false;
  }
  *text = std::move(out);
  return true;
}

bool parse_duration_ms(const std::string& s, int64_t* out) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || v < 0) return false;
  std::string unit(end);
  double mult;
  if (unit.empty() || unit == "s")
    mult = 1000;
  else if (unit == "ms")
    mult = 1;
  else if (unit == "min" || unit == "m")
    mult = 60000;
  else if (unit == "h")
    mult = 3600000;
  else
    return false;
  return double_to_int64(v * mult, out);
}

int main(int argc, char** argv) {
  std::string base_arg, head_arg, prices_path, out_path, format_name = "text";
  std::vector<std::string> logs;
  ReplayOptions ro;
  ReportOptions rep;
  bool interp = false, no_progress = false;
  bool in_log_list = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string name = a, value;
    bool has_inline = false;
    if (a.compare(0, 2, "--") == 0) {
      size_t eq = a.find('=');
      if (eq != std::string::npos) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
        has_inline = true;
      }
    } else if (in_log_list || a == "-") {
      logs.push_back(a);
      continue;
    } else if (a == "-h") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else {
      return usage("unexpected argument " + a);
    }
    in_log_list = false;
    auto take = [&](std::string* dst) {
      if (has_inline) {
        *dst = value;
        return true;
      }
      if (i + 1 >= argc) return false;
      *dst = argv[++i];
      return true;
    };
    std::string v;
    if (name == "--help") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else if (name == "--base") {
      if (!take(&base_arg)) return usage("--base needs a value");
    } else if (name == "--head") {
      if (!take(&head_arg)) return usage("--head needs a value");
    } else if (name == "--log") {
      if (!take(&v)) return usage("--log needs a file");
      logs.push_back(v);
      in_log_list = true;
    } else if (name == "--prices") {
      if (!take(&prices_path)) return usage("--prices needs a file");
    } else if (name == "--format") {
      if (!take(&format_name)) return usage("--format needs a value");
    } else if (name == "--out") {
      if (!take(&out_path)) return usage("--out needs a path");
    } else if (name == "--log-format") {
      if (!take(&v) || !parse_log_format(v, &ro.format))
        return usage(
            "--log-format must be one of canonical, csv, otel, litellm, mooncake, "
            "openai, anthropic, bedrock");
    } else if (name == "--fail-if-increase") {
      IncreaseGate gate;
      if (!take(&v) || !parse_increase_gate(v, &gate))
        return usage("--fail-if-increase needs 5% (of base), $20 (on the replayed total) or "
                     "$500/month (on the monthly projection)");
      rep.fail_if_increase = gate;
    } else if (name == "--map" || name == "--set") {
      std::string k, val;
      if (!take(&v) || !split_kv(v, &k, &val)) return usage(name + " needs NAME=VALUE");
      (name == "--map" ? ro.side.map : ro.side.set)[k] = val;
    } else if (name == "--cache-ttl") {
      if (!take(&v) || !parse_duration_ms(v, &ro.side.cache_ttl_ms))
        return usage("--cache-ttl needs a duration, e.g. 5min or 300s");
    } else if (name == "--start-time") {
      if (!take(&v) || !parse_any_time(v, &ro.start_ms))
        return usage("--start-time needs an RFC 3339 time, e.g. 2023-11-16T18:00:00Z");
    } else if (name == "--allow-unpriced") {
      ro.side.allow_unpriced = true;
    } else if (name == "--top") {
      if (!take(&v) || std::atoi(v.c_str()) <= 0) return usage("--top needs a positive number");
      rep.top_n = static_cast<size_t>(std::atoi(v.c_str()));
    } else if (name == "--reorder-window") {
      if (!take(&v) || std::atol(v.c_str()) <= 0)
        return usage("--reorder-window needs a positive number");
      ro.reorder_window = static_cast<size_t>(std::atol(v.c_str()));
    } else if (name == "--interp") {
      interp = true;
    } else if (name == "--no-progress") {
      no_progress = true;
    } else {
      return usage("unknown option " + name);
    }
  }
  ReportFormat format;
  if (!parse_report_format(format_name, &format))
    return usage("--format must be text, md, json or html");
  if (base_arg.empty() || head_arg.empty()) return usage("--base and --head are required");
  if (logs.empty()) return usage("at least one --log is required");
  if (prices_path.empty()) {
    const char* env = std::getenv("TOLLGATE_PRICES");
    if (env && *env)
      prices_path = env;
    else
      return usage("--prices is required (or set $TOLLGATE_PRICES)");
  }

  std::string error;
  std::shared_ptr<PriceTable> prices = PriceTable::load(prices_path, &error);
  if (!prices) {
    std::fprintf(stderr, "tollgate dryrun: %s\n", error.c_str());
    return kExitInput;
  }
  EngineOptions eo;
  eo.prices = prices;
  eo.backend = interp ? Backend::Interpreter : Backend::Jit;
  eo.wait_for_jit = true;  // a replay is long: start it on native code
  Engine engine(eo);
  SideSpec sides[2];
  const std::string* args[2] = {&base_arg, &head_arg};
  for (int s = 0; s < 2; ++s) {
    sides[s].source = *args[s];
    if (*args[s] == "actual") continue;
    std::string text;
    if (!read_policy_source(*args[s], &text, &error)) {
      std::fprintf(stderr, "tollgate dryrun: %s\n", error.c_str());
      return kExitInput;
    }
    CompileResult cr = engine.compile(text, *args[s]);
    if (!cr.ok()) {
      std::fprintf(stderr, "%s", cr.rendered.c_str());
      std::fprintf(stderr, "tollgate dryrun: %s does not compile\n", args[s]->c_str());
      return kExitInput;
    }
    sides[s].policy = std::move(cr.policy);
  }
  ro.logs = logs;
  ro.progress = !no_progress && ::isatty(2);
  ReplayData data;
  if (!run_replay(sides[0], sides[1], prices.get(), ro, &data, &error)) {
    std::fprintf(stderr, "tollgate dryrun: %s\n", error.c_str());
    return kExitInput;
  }
  Report report = build_report(data, rep);
  std::string text = render(report, format);
  if (out_path.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    std::ofstream out(out_path, std::ios::binary);
    out << text;
    if (!out) {
      std::fprintf(stderr, "tollgate dryrun: cannot write %s\n", out_path.c_str());
      return kExitInput;
    }
  }
  if (data.read.malformed)
    std::fprintf(stderr, "tollgate dryrun: %llu malformed lines skipped (see the report)\n",
                 static_cast<unsigned long long>(data.read.malformed));
  if (report.threshold_tripped) {
    const IncreaseGate& g = *rep.fail_if_increase;
    const std::string by = g.kind == IncreaseGate::Percent ? fmt_pct(report.delta_pct)
                           : g.kind == IncreaseGate::Usd
                               ? fmt_delta_usd(report.delta)
                               : "+" + fmt_usd_month(report.monthly.delta_usd) + "/month";
    std::fprintf(stderr, "tollgate dryrun: head increases spend by %s, over the %s threshold\n",
                 by.c_str(), g.text().c_str());
    return kExitIncrease;
  }
  return kExitOk;
}

}  // namespace tollgate::dryrun
