// Admit throughput and p99 admit latency with the Redis ledger (local leases) vs the in-process
// ledger, on the same policy and requests. Redis: a private redis-server on a free loopback port
// (or TOLLGATE_BENCH_REDIS_URL). Reported in docs/performance.md, "Shared budgets (Redis)".
//
//   ninja -C build-redis redis_ledger_bench && build-redis/redis_ledger_bench
//
// BM_Admit/*: Ledger::admit (decide + reserve on two budgets) then Ledger::record, per request.
// BM_Reserve/*: the backend alone: try_reserve + settle on one counter.
// Counters: p99_ns (per-operation latency, sampled every iteration), admits/s.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tollgate/engine.hpp"
#include "tollgate/ledger.hpp"
#include "tollgate/redis_ledger.hpp"
// The bench target does not link the test-support library; compile the fixture into it.
#include "tests/support/redis_server.cpp"

using namespace tollgate;

namespace {

const char* kPolicy = R"(policy bench
input {
  tenant: string
  in_tokens: int = 500
}
routes {
  cheap = "bench-model" in $1/M out $2/M
}
budget monthly = $1000000 usd per tenant per month
budget rpm = 100M requests per tenant per minute
if monthly.ratio >= 1.0   deny "monthly budget exhausted"
if rpm.remaining < 1      deny "rate limited"
default route cheap max_out 256
)";

struct World {
  std::unique_ptr<testing::RedisServer> server;
  std::string url;
  std::unique_ptr<Engine> engine;
  std::optional<Policy> policy;
  std::unique_ptr<Ledger> memory;
  std::unique_ptr<Ledger> redis;
  std::string error;
};

World& world() {
  // A function-local static, not a leaked pointer: at exit the Redis ledger is destroyed (its
  // thread joined), then the redis-server stopped.
  static World w;
  static bool ready = [] {
    if (const char* env = std::getenv("TOLLGATE_BENCH_REDIS_URL")) {
      w.url = env;
    } else {
      w.server = std::make_unique<testing::RedisServer>();
      if (!w.server->start(&w.error)) return false;
      w.url = w.server->url();
    }
    EngineOptions eo;
    eo.wait_for_jit = true;
    w.engine = std::make_unique<Engine>(eo);
    CompileResult cr = w.engine->compile(kPolicy, "bench.pol");
    if (!cr.ok()) {
      w.error = cr.rendered;
      return false;
    }
    w.policy = *cr.policy;
    w.memory = std::make_unique<Ledger>();
    RedisLedgerOptions o;
    o.url = w.url;
    o.key_prefix = "bench:" + std::to_string(::getpid()) + ":";
    auto backend = make_redis_backend(o, &w.error);
    if (!backend) return false;
    w.redis = std::make_unique<Ledger>(std::move(backend));
    return true;
  }();
  (void)ready;
  return w;
}

Ledger* pick(int which) {
  World& w = world();
  return which == 0 ? w.memory.get() : w.redis.get();
}

int64_t now_ns() {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
}

// p99 of one thread's samples; the counter shows the average over threads.
benchmark::Counter p99(std::vector<int64_t>& v) {
  if (v.empty()) return benchmark::Counter(0);
  size_t k = v.size() * 99 / 100;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return benchmark::Counter(static_cast<double>(v[k]), benchmark::Counter::kAvgThreads);
}

void BM_Admit(benchmark::State& state) {
  World& w = world();
  Ledger* ledger = pick(static_cast<int>(state.range(0)));
  if (!ledger || !w.policy) {
    state.SkipWithError(("setup failed: " + w.error).c_str());
    return;
  }
  const Policy& policy = *w.policy;
  Request req(policy);
  // Tenants per thread, so threads do not all contend on one counter (as in a real gateway).
  const std::string tenant = "tenant-" + std::to_string(state.thread_index() % 4);
  req.set_string(policy.slot("tenant"), tenant);
  Admission a;
  const Usage usage{500, 100, 0, -1};
  // Warm-up outside the timed loop: the first admit of a counter fetches its lease.
  ledger->admit(policy, req, Estimate{500, 4096}, &a);
  ledger->record(a, usage);
  std::vector<int64_t> lat;
  lat.reserve(1 << 20);
  int64_t denied = 0;
  for (auto _ : state) {
    const int64_t t0 = now_ns();
    ledger->admit(policy, req, Estimate{500, 4096}, &a);
    const int64_t t1 = now_ns();
    if (lat.size() < lat.capacity()) lat.push_back(t1 - t0);
    if (a.admitted()) {
      ledger->record(a, usage);
    } else {
      ++denied;
    }
  }
  state.counters["admits/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["denied"] = static_cast<double>(denied);
  state.counters["p99_ns"] = p99(lat);
}

void BM_Reserve(benchmark::State& state) {
  World& w = world();
  Ledger* ledger = pick(static_cast<int>(state.range(0)));
  if (!ledger) {
    state.SkipWithError(("setup failed: " + w.error).c_str());
    return;
  }
  LedgerBackend& b = ledger->backend();
  const std::string key = "tenant-" + std::to_string(state.thread_index() % 4);
  const CounterId id{"calls", BudgetUnit::Requests, BudgetWindow::Month, key};
  const int64_t ws = window_start(BudgetWindow::Month, Ledger::wall_clock_ms());
  const int64_t limit = int64_t{1} << 50;
  b.try_reserve(id, ws, 1, limit);
  b.add(id, ws, 1, -1);
  std::vector<int64_t> lat;
  lat.reserve(1 << 20);
  for (auto _ : state) {
    const int64_t t0 = now_ns();
    ReserveResult r = b.try_reserve(id, ws, 1, limit);
    const int64_t t1 = now_ns();
    if (lat.size() < lat.capacity()) lat.push_back(t1 - t0);
    if (r == ReserveResult::Ok) b.add(id, ws, 1, -1);
  }
  state.counters["reserves/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["p99_ns"] = p99(lat);
}

}  // namespace

// range(0): 0 = in-process memory backend, 1 = Redis backend with local leases.
BENCHMARK(BM_Admit)->ArgName("redis")->Arg(0)->Arg(1)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Reserve)->ArgName("redis")->Arg(0)->Arg(1)->Threads(1)->Threads(2)->UseRealTime();

BENCHMARK_MAIN();
