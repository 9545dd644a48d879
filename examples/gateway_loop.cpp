// A C++ LLM gateway loop embedding Tollgate: worker threads take requests from several tenants,
// admit them against the budgets (reserve), call a simulated upstream that fails the way real
// providers do (429 throttling, 5xx, timeouts, context-window overflow), retry with the backoff
// the decision gives, fall back to the route the policy picks for the error, and settle the
// budgets with the actual usage (record) or return the reservation (release). Meanwhile another
// thread hot-reloads the policy (one broken version included) and a candidate runs in shadow.
//
// Usage: gateway_loop POLICY.pol [--candidate CAND.pol] [--prices PRICES.json] [--requests N]
//                                [--threads T] [--audit]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tollgate/audit.hpp"
#include "tollgate/policy_handle.hpp"
#include "tollgate/tollgate.hpp"

using namespace tollgate;
using Clock = std::chrono::steady_clock;

namespace {

// List prices (USD per 1M tokens) of the models policies/gateway.pol routes to, used when no
// price table is given.
std::shared_ptr<PriceTable> builtin_prices() {
  auto t = std::make_shared<PriceTable>();
  auto add = [&](const char* model, double in_m, double out_m) {
    ModelPrice p;
    p.in_per_token = in_m / 1e6;
    p.out_per_token = out_m / 1e6;
    p.cache_read_per_token = in_m / 1e6 / 10;
    p.source = "builtin";
    t->add(model, p);
  };
  add("claude-3-5-haiku-20241022", 0.8, 4);
  add("gpt-4o-mini", 0.15, 0.6);
  add("claude-3-5-sonnet-20241022", 3, 15);
  add("gemini-1.5-pro", 1.25, 5);
  add("gpt-4o", 1.25, 5);               // batch prices
  add("ollama/llama3:8b", 0.02, 0.02);  // amortized GPU cost
  return t;
}

struct Tenant {
  const char* name;
  const char* tier;
  double budget_usd;  // the tenant_budget input
};
const Tenant kTenants[] = {{"acme", "enterprise", 5000},
                           {"globex", "pro", 500},
                           {"initech", "free", 0.40},
                           {"trial-zeta", "free", 50}};

const char* kTasks[] = {"classify", "extract", "tag",    "summarize",
                        "qa",       "chat",    "report", "analysis"};

enum class Outcome { Ok, Throttled, Server, Timeout, ContextOverflow };
const char* error_input(Outcome o) {
  switch (o) {
    case Outcome::Throttled:
      return "throttled";
    case Outcome::Server:
      return "server";
    case Outcome::Timeout:
      return "timeout";
    case Outcome::ContextOverflow:
      return "context_overflow";
    default:
      return "none";
  }
}

// The simulated provider: context windows per model and failure rates that spike for the strong
// model (the one everyone uses).
Outcome call_upstream(const RouteInfo& route, int64_t in_tokens, std::mt19937& rng) {
  int64_t window = route.model.find("gemini") != std::string::npos ? 2'000'000 : 128'000;
  if (route.self_hosted) window = 8'000;
  if (in_tokens > window) return Outcome::ContextOverflow;
  std::uniform_real_distribution<double> u(0, 1);
  double x = u(rng);
  double throttle = route.model.find("sonnet") != std::string::npos ? 0.10 : 0.03;
  if (x < throttle) return Outcome::Throttled;
  if (x < throttle + 0.03) return Outcome::Server;
  if (x < throttle + 0.05) return Outcome::Timeout;
  return Outcome::Ok;
}

struct Stats {
  std::mutex mu;
  std::map<std::string, long> routes, denials, outcomes;
  long requests = 0, calls = 0, retries = 0, fallbacks = 0, failed = 0, served = 0;
  double backoff_ms = 0;
  std::string sample_audit, sample_denied_audit;
  std::vector<std::string> sample_lines;
};

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: gateway_loop POLICY.pol [--candidate C.pol] [--prices P.json] "
                 "[--requests N] [--threads T] [--audit]\n");
    return 2;
  }
  std::string policy_path = argv[1], candidate_path, prices_path;
  int requests_per_thread = 400, threads = 4;
  bool print_audit = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--candidate" && i + 1 < argc)
      candidate_path = argv[++i];
    else if (a == "--prices" && i + 1 < argc)
      prices_path = argv[++i];
    else if (a == "--requests" && i + 1 < argc)
      requests_per_thread = std::atoi(argv[++i]);
    else if (a == "--threads" && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (a == "--audit")
      print_audit = true;
  }
  if (candidate_path.empty()) {  // policies/gateway_v2.pol next to gateway.pol, if present
    std::string guess = policy_path.substr(0, policy_path.rfind('.')) + "_v2.pol";
    if (std::ifstream(guess)) candidate_path = guess;
  }

  EngineOptions opts;
  if (!prices_path.empty()) {
    std::string err;
    opts.prices = PriceTable::load(prices_path, &err);
    if (!opts.prices) {
      std::fprintf(stderr, "prices: %s\n", err.c_str());
      return 1;
    }
  } else {
    opts.prices = builtin_prices();
  }
  Engine engine(opts);
  CompileResult first = engine.compile_file(policy_path);
  if (!first.ok()) {
    std::fprintf(stderr, "%s", first.rendered.c_str());
    return 1;
  }
  PolicyHandle handle(engine, *first.policy);
  std::printf("gateway: policy %s version %s (%s), %d threads x %d requests\n",
              first.policy->name().c_str(), first.policy->version_hash().c_str(),
              first.policy->jitted() ? "jit" : "interpreter", threads, requests_per_thread);
  if (!candidate_path.empty()) {
    ReloadResult c = handle.set_candidate_file(candidate_path);
    std::printf("shadow candidate %s: %s\n", candidate_path.c_str(),
                c.ok ? c.version_hash.c_str() : c.rendered.c_str());
  }
  Ledger& ledger = engine.ledger();
  Stats stats;
  std::atomic<bool> done{false};
  // Simulated time: every request advances the clock 600 ms, so per-minute budgets see a
  // realistic request rate (the whole run covers ~16 simulated minutes in well under a second).
  const int64_t t0_ms = Ledger::wall_clock_ms();
  std::atomic<int64_t> sim_ms{t0_ms};
  std::atomic<long> decide_ns{0}, decide_count{0};

  // Hot reload under traffic: the same source again (a new version object), and once a broken
  // edit that must be rejected while the old version keeps serving.
  std::thread reloader([&] {
    const std::string src = read_file(policy_path);
    for (int i = 0; i < 5 || !done.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      ReloadResult r =
          i == 3 ? handle.reload(src + "\nif true route nowhere\n", policy_path)
                 : handle.reload(src + "\n# reload " + std::to_string(i) + "\n", policy_path);
      if (i == 3) {
        std::printf("reload of a broken edit rejected (old version keeps serving):\n%s",
                    r.rendered.c_str());
      }
    }
  });

  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937 rng(1234 + w);
      std::string audit;
      Admission adm;
      Decision d;
      // Per-thread pinned version and request, refreshed when the handle's generation moves.
      uint64_t gen = 0;
      std::optional<Policy> policy;
      std::unique_ptr<Request> req;
      int s_tenant = -1, s_tier = -1, s_task = -1, s_in = -1, s_attempt = -1, s_error = -1,
          s_budget = -1, s_priority = -1, s_sens = -1, s_latency = -1;
      for (int n = 0; n < requests_per_thread; ++n) {
        if (handle.generation() != gen || !policy) {
          gen = handle.generation();
          policy = handle.current();
          req = std::make_unique<Request>(*policy);
          s_tenant = policy->slot("tenant");
          s_tier = policy->slot("tier");
          s_task = policy->slot("task");
          s_in = policy->slot("in_tokens");
          s_attempt = policy->slot("attempt");
          s_error = policy->slot("error");
          s_budget = policy->slot("tenant_budget");
          s_priority = policy->slot("priority");
          s_sens = policy->slot("sensitivity");
          s_latency = policy->slot("latency");
        }
        const Tenant& t = kTenants[rng() % 4];
        const char* task = kTasks[rng() % 8];
        // Mostly short prompts, some long documents, a few that overflow a 128k window.
        int64_t in_tokens = 200 + rng() % 6000;
        if (rng() % 10 == 0) in_tokens = 20'000 + rng() % 60'000;
        if (rng() % 50 == 0) in_tokens = 150'000 + rng() % 100'000;
        req->reset();
        req->now_ms = sim_ms.fetch_add(600);
        req->set_string(s_tenant, t.name);
        req->set_enum(s_tier, t.tier);
        req->set_enum(s_task, task);
        req->set_int(s_in, in_tokens);
        req->set_float(s_budget, t.budget_usd);
        if (s_priority >= 0) req->set_enum(s_priority, rng() % 10 == 0 ? "high" : "normal");
        if (s_sens >= 0) req->set_enum(s_sens, rng() % 20 == 0 ? "restricted" : "internal");
        if (s_latency >= 0) req->set_enum(s_latency, rng() % 8 == 0 ? "async" : "realtime");

        {
          std::lock_guard<std::mutex> lock(stats.mu);
          ++stats.requests;
        }
        std::string prev_route;
        for (int attempt = 0;; ++attempt) {
          req->set_int(s_attempt, attempt);
          auto t0 = Clock::now();
          handle.decide(*policy, *req, &d);  // pure decision (+ shadow candidate)
          decide_ns +=
              std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
          ++decide_count;
          if (attempt > 0 && !d.denied) {
            // After a failure, go on only if the policy allows a retry or reroutes the error.
            bool reroute = policy->routes()[d.route].name != prev_route;
            if (!d.retry && !reroute) {
              std::lock_guard<std::mutex> lock(stats.mu);
              ++stats.failed;
              break;
            }
            std::lock_guard<std::mutex> lock(stats.mu);
            if (d.retry) {
              ++stats.retries;
              stats.backoff_ms += static_cast<double>(d.backoff_ms);
            }
            if (reroute) ++stats.fallbacks;
          }
          if (d.retry && attempt > 0) {
            // Backoff per the decision, time-scaled 1000x so the example runs in seconds.
            std::this_thread::sleep_for(std::chrono::microseconds(d.backoff_ms));
          }
          ledger.admit(*policy, *req, Estimate{in_tokens, 1024}, &adm);
          if (!adm.admitted()) {
            std::lock_guard<std::mutex> lock(stats.mu);
            ++stats.denials[std::string(adm.reason())];
            if (stats.sample_denied_audit.empty())
              render_audit(adm, req.get(), &ledger, &stats.sample_denied_audit);
            if (attempt > 0) ++stats.failed;
            break;
          }
          const RouteInfo& route = policy->routes()[adm.decision().route];
          prev_route = route.name;
          int64_t sent_in = std::min(in_tokens, adm.decision().max_in);
          Outcome o = call_upstream(route, sent_in, rng);
          {
            std::lock_guard<std::mutex> lock(stats.mu);
            ++stats.calls;
            ++stats.routes[route.name];
            ++stats.outcomes[o == Outcome::Ok ? "200" : error_input(o)];
            if (stats.sample_lines.size() < 6 &&
                (o != Outcome::Ok || attempt > 0 || stats.sample_lines.size() < 3)) {
              char line[256];
              std::snprintf(
                  line, sizeof line,
                  "  %-10s %-9s in=%-6lld attempt=%d route=%s model=%s max_out=%lld -> %s", t.name,
                  task, static_cast<long long>(in_tokens), attempt, route.name.c_str(),
                  route.model.c_str(), static_cast<long long>(adm.decision().max_out),
                  o == Outcome::Ok ? "200" : error_input(o));
              stats.sample_lines.push_back(line);
            }
          }
          if (o == Outcome::Ok) {
            int64_t cap = adm.decision().max_out == kNoCap ? 1024 : adm.decision().max_out;
            int64_t out = std::max<int64_t>(1, static_cast<int64_t>(rng() % (cap + 1)));
            ledger.record(adm, Usage{sent_in, out, 0, -1});
            std::lock_guard<std::mutex> lock(stats.mu);
            ++stats.served;
            if (stats.sample_audit.empty() && attempt > 0) {
              AuditContext ctx;
              ctx.request = req.get();
              ctx.budgets = &ledger;
              render_audit(*policy, adm.decision(), ctx, &stats.sample_audit);
            }
            break;
          }
          if (o == Outcome::Timeout) {
            // The provider processed the prompt before the connection dropped: it bills input.
            ledger.record(adm, Usage{sent_in, 0, 0, -1});
          } else {
            ledger.release(adm);  // 429 / 5xx / overflow: nothing billed
          }
          req->set_enum(s_error, error_input(o));
        }
      }
    });
  }
  for (auto& th : workers) th.join();
  done = true;
  reloader.join();

  std::printf("sample calls:\n");
  for (const auto& l : stats.sample_lines) std::printf("%s\n", l.c_str());
  std::printf("requests %ld, upstream calls %ld, served %ld, failed after retries %ld\n",
              stats.requests, stats.calls, stats.served, stats.failed);
  std::printf("retries %ld (total backoff %.0f ms), fallback reroutes %ld\n", stats.retries,
              stats.backoff_ms, stats.fallbacks);
  std::printf("upstream outcomes:");
  for (const auto& kv : stats.outcomes) std::printf(" %s=%ld", kv.first.c_str(), kv.second);
  std::printf("\nroutes:");
  for (const auto& kv : stats.routes) std::printf(" %s=%ld", kv.first.c_str(), kv.second);
  std::printf("\ndenials:\n");
  for (const auto& kv : stats.denials) std::printf("  %-32s %ld\n", kv.first.c_str(), kv.second);
  std::printf("reloads: %llu ok, %llu rejected; decide latency %.0f ns/decision (%ld decisions)\n",
              static_cast<unsigned long long>(handle.reloads_ok()),
              static_cast<unsigned long long>(handle.reloads_failed()),
              decide_count ? static_cast<double>(decide_ns) / decide_count : 0.0,
              decide_count.load());

  Policy live = handle.current();
  std::printf("spend per tenant (this month):\n");
  const auto& budgets = live.budgets();
  for (const Tenant& t : kTenants) {
    std::printf("  %-10s", t.name);
    for (const BudgetInfo& b : budgets) {
      if (b.unit != BudgetUnit::Usd) continue;
      std::printf(" %s=$%.4f", b.name.c_str(),
                  ledger.spent(b, b.key_input >= 0 ? t.name : "", sim_ms.load()));
    }
    std::printf(" (budget $%.2f)\n", t.budget_usd);
  }
  ShadowStats sh = handle.shadow_stats();
  if (sh.active) {
    std::printf("shadow %s: %llu decisions, %llu agree, %llu differ", sh.candidate_version.c_str(),
                static_cast<unsigned long long>(sh.decisions),
                static_cast<unsigned long long>(sh.agree),
                static_cast<unsigned long long>(sh.differ));
    for (int i = 0; i < kShadowFieldCount; ++i)
      if (sh.per_field[i]) {
        std::printf(" %s=%llu", shadow_field_name(i),
                    static_cast<unsigned long long>(sh.per_field[i]));
      }
    std::printf("\n");
    if (!sh.samples.empty()) {
      std::printf("  e.g. inputs %s\n    live %s\n    cand %s\n", sh.samples[0].inputs.c_str(),
                  sh.samples[0].live.c_str(), sh.samples[0].candidate.c_str());
    }
  }
  if (print_audit || stats.requests > 0) {
    std::printf("audit (served retry): %s\n", stats.sample_audit.c_str());
    std::printf("audit (denied): %s\n", stats.sample_denied_audit.c_str());
  }
  const bool real = stats.served > 0 && stats.retries > 0 && !stats.denials.empty();
  std::printf(real ? "gateway_loop: ok\n" : "gateway_loop: missing retries/denials/served\n");
  return real ? 0 : 1;
}
