// One policy per customer: N copies of policies/reference.pol (each with its own name) in one
// Engine. Reports the load time, the resident memory each policy adds, and how much of it comes
// back when they are all dropped (after malloc_trim, which hands glibc's free pages back), for
//  * the interpreter tier only (jit_hot_decisions never reached: idle customers), N = 10,000;
//  * the JIT tier built for every policy (wait_for_jit), N = 1,000 (each costs an O2 compile).
// Memory is process RSS from /proc/self/statm, so each case runs in a fresh process when the
// benchmark is filtered to it (docs/performance.md gives the commands).
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/checker.h"
#include "compiler/diagnostics.h"
#include "compiler/eval_support.h"
#include "compiler/evaluator.h"
#include "compiler/parser.h"
#include "tollgate/tollgate.hpp"

namespace {

using namespace tollgate;

double rss_mb() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, resident = 0;
  in >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1048576.0;
}

double wall_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

std::string reference_source() {
  std::ifstream in(std::string(TOLLGATE_SOURCE_DIR) + "/policies/reference.pol");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void many(benchmark::State& state, bool jit) {
  const int n = static_cast<int>(state.range(0));
  const std::string ref = reference_source();
  const size_t at = ref.find("policy reference");
  if (at == std::string::npos) std::abort();
  EngineOptions o;
  if (jit) {
    o.wait_for_jit = true;
  } else {
    o.jit_hot_decisions = UINT64_MAX;  // idle customers: never hot
  }
  for (auto _ : state) {
    double before = 0, loaded = 0, dropped = 0, load_ms = 0;
    {
      Engine engine(o);
      {  // one policy first, so the one-time costs (LLJIT, allocator arenas) are not per policy
        CompileResult warm = engine.compile(ref, "warm.pol");
        if (!warm.ok() || warm.policy->jitted() != jit) std::abort();
      }
      malloc_trim(0);
      before = rss_mb();
      const double t0 = wall_ms();
      std::vector<Policy> policies;
      policies.reserve(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) {
        std::string src = ref;
        src.replace(at, 16, "policy customer_" + std::to_string(i));
        CompileResult r = engine.compile(src, "customer.pol");
        if (!r.ok() || r.policy->jitted() != jit) std::abort();
        policies.push_back(*r.policy);
      }
      load_ms = wall_ms() - t0;
      loaded = rss_mb();
      // Every policy decides once (the interpreter tier stays idle: no JIT is asked for).
      Request req(policies[0]);
      req.set("tenant", "t-1");
      req.set("task", "qa");
      req.set("in_tokens", "100");
      uint64_t routes = 0;
      for (const Policy& p : policies) {
        Request r(p);
        r.copy_from(req);
        routes += static_cast<uint64_t>(p.decide(r).route + 1);
      }
      benchmark::DoNotOptimize(routes);
      policies.clear();
      policies.shrink_to_fit();
      malloc_trim(0);
      dropped = rss_mb();
    }
    malloc_trim(0);
    state.counters["MB kept after engine"] = rss_mb() - before;
    state.counters["policies"] = n;
    state.counters["load ms"] = load_ms;
    state.counters["KiB/policy"] = (loaded - before) * 1024.0 / n;
    state.counters["RSS MB"] = loaded;
    state.counters["MB kept after drop"] = dropped - before;
  }
}

// Where one reference-sized policy's heap goes (bytes in use, mallinfo2), after a warm-up parse
// (ANTLR's prediction caches are per process, ~430 KB once).
size_t heap_bytes() {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks;
}

void BM_Heap_Breakdown(benchmark::State& state) {
  const std::string ref = reference_source();
  {
    DiagnosticSink warm;
    (void)parse_program(ref, "warm.pol", warm);
  }
  EngineOptions o;
  o.jit_hot_decisions = UINT64_MAX;
  Engine engine(o);
  (void)engine.compile(ref, "warm.pol");
  for (auto _ : state) {
    const size_t h0 = heap_bytes();
    DiagnosticSink diags;
    auto program = parse_program(ref, "r.pol", diags);
    const size_t h1 = heap_bytes();
    check_program(*program, diags);
    const size_t h2 = heap_bytes();
    PolicyTables tables = make_policy_tables(*program);
    auto interpreter = make_interpreter(*program, tables);
    const size_t h3 = heap_bytes();
    CompileResult r = engine.compile(ref, "r.pol");
    const size_t h4 = heap_bytes();
    state.counters["AST B"] = static_cast<double>(h1 - h0);
    state.counters["check B"] = static_cast<double>(h2 - h1);
    state.counters["interpreter B"] = static_cast<double>(h3 - h2);
    state.counters["Engine::compile B"] = static_cast<double>(h4 - h3);
    state.counters["source B"] = static_cast<double>(ref.size());
  }
}

void BM_Policies_Interpreter(benchmark::State& s) {
  many(s, false);
}
void BM_Policies_Jit(benchmark::State& s) {
  many(s, true);
}

BENCHMARK(BM_Heap_Breakdown)->Iterations(1);
BENCHMARK(BM_Policies_Interpreter)
    ->Arg(1000)
    ->Arg(10000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Policies_Jit)->Arg(100)->Arg(1000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
