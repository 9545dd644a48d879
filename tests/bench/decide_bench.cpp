// The reference workload (docs/performance.md, /work/shared/bench/REFERENCE.md) three ways in one
// run: policies/reference.pol through the JIT, through the interpreter, and a hand-written C++
// function over the same typed inputs. 1,000,000 requests from a fixed seed; all three must agree
// on the checksum (the run aborts otherwise). Also: compile time (parse + check + JIT) of
// generated policies of 10..5,000 rules, and decisions/s on 2 threads sharing one Policy.
#include <benchmark/benchmark.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/checker.h"
#include "compiler/diagnostics.h"
#include "compiler/evaluator.h"
#include "compiler/jit.h"
#include "compiler/parser.h"
#include "tests/bench/reference_workload.h"
#include "tollgate/tollgate.hpp"

#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<uint64_t> g_allocs{0};
}  // namespace

// Counts heap allocations so the benchmark can report allocations per decision.
void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

using namespace tollgate;
using namespace reference_bench;

// ------------------------------------------------------------------------------------------------
// The policy, both evaluators, and slot filling from the typed request.
// ------------------------------------------------------------------------------------------------

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Compiled {
  std::unique_ptr<Program> program;
  PolicyTables tables;
  std::unique_ptr<Evaluator> jit, interp;
  std::vector<int32_t> tenant_ids;  // str_id of each tenant (interned once, like Request does)
};

const Compiled& reference() {
  static const Compiled c = [] {
    Compiled c;
    std::string src = read_file(std::string(TOLLGATE_SOURCE_DIR) + "/policies/reference.pol");
    DiagnosticSink diags;
    c.program = parse_program(src, "reference.pol", diags);
    if (!c.program || diags.has_errors() || !check_program(*c.program, diags)) {
      std::fprintf(stderr, "reference.pol: %s\n", render_all(diags.all(), src).c_str());
      std::abort();
    }
    c.tables = make_policy_tables(*c.program);
    std::string error;
    c.jit = make_jit_evaluator(default_jit_host(), *c.program, c.tables, JitOptions{}, &error);
    if (!c.jit) {
      std::fprintf(stderr, "JIT failed: %s\n", error.c_str());
      std::abort();
    }
    c.interp = make_interpreter(*c.program, c.tables);
    for (const std::string& t : workload().tenants) {
      int32_t id = -1;
      for (size_t k = 0; k < c.program->string_literals.size(); ++k)
        if (c.program->string_literals[k] == t) id = static_cast<int32_t>(k);
      c.tenant_ids.push_back(id);
    }
    return c;
  }();
  return c;
}

// Slots in reference.pol input order: tenant tier task priority latency sensitivity in_tokens
// history_tokens attempt error spent_ratio. A host's typed path: one store per input.
inline void fill(Slot* s, const Req& r, const Workload& w, const Compiled& c) {
  const std::string& t = w.tenants[r.tenant];
  s[0].str = t.data();
  s[0].len = static_cast<uint32_t>(t.size());
  s[0].str_id = c.tenant_ids[r.tenant];
  s[1].i = r.tier;
  s[2].i = r.task;
  s[3].i = r.priority;
  s[4].i = r.latency;
  s[5].i = r.sensitivity;
  s[6].i = r.in_tokens;
  s[7].i = r.history_tokens;
  s[8].i = r.attempt;
  s[9].i = r.error;
  s[10].f = r.spent_ratio;
}

std::vector<Slot> fresh_slots() {
  std::vector<Slot> slots(11);
  for (Slot& s : slots) {
    s.i = 0;
    s.str = "";
    s.len = 0;
    s.str_id = -1;
    s.set = 1;
  }
  return slots;
}

uint64_t run_evaluator(const Evaluator& ev, uint64_t* allocs) {
  const Workload& w = workload();
  const Compiled& c = reference();
  std::vector<Slot> slots = fresh_slots();
  EvalEnv env;
  env.slots = slots.data();
  env.budget_infos = &c.tables.budgets;
  env.now_ms = 1700000000000;
  Decision d;
  uint64_t sum = 0;
  uint64_t a0 = g_allocs.load(std::memory_order_relaxed);
  for (const Req& r : w.reqs) {
    fill(slots.data(), r, w, c);
    ev.decide(env, &d);
    sum += checksum_of(d);
  }
  *allocs = g_allocs.load(std::memory_order_relaxed) - a0;
  return sum;
}

uint64_t run_hand() {
  const Workload& w = workload();
  uint64_t sum = 0;
  for (const Req& r : w.reqs) sum += checksum_of(hand_decide(r, w.tenants[r.tenant]));
  return sum;
}

// All three must agree before anything is timed.
uint64_t expected_checksum() {
  static const uint64_t sum = [] {
    uint64_t a1 = 0, a2 = 0;
    uint64_t hand = run_hand();
    uint64_t jit = run_evaluator(*reference().jit, &a1);
    uint64_t interp = run_evaluator(*reference().interp, &a2);
    std::fprintf(stderr, "checksum: hand %llu, jit %llu, interpreter %llu\n",
                 static_cast<unsigned long long>(hand), static_cast<unsigned long long>(jit),
                 static_cast<unsigned long long>(interp));
    if (hand != jit || hand != interp) {
      std::fprintf(stderr, "CHECKSUM MISMATCH: the three implementations disagree\n");
      std::abort();
    }
    return hand;
  }();
  return sum;
}

// Thread CPU time in ns: the benchmark machine is shared, so wall time would include neighbours.
double cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double g_hand_ns = 0;  // set by BM_Reference_Hand (runs first), for the JIT/hand ratio counter

void BM_Reference_Hand(benchmark::State& state) {
  uint64_t want = expected_checksum();
  uint64_t sum = 0;
  double t0 = cpu_ns();
  for (auto _ : state) {
    sum = run_hand();
    benchmark::DoNotOptimize(sum);
  }
  double ns = cpu_ns() - t0;
  if (sum != want) std::abort();
  g_hand_ns = ns / (static_cast<double>(state.iterations()) * 1e6);
  state.SetItemsProcessed(state.iterations() * 1000000);
  state.counters["ns/decision"] = g_hand_ns;
}

void bench_evaluator(benchmark::State& state, const Evaluator& ev, bool ratio) {
  uint64_t want = expected_checksum();
  uint64_t sum = 0, allocs = 0;
  double t0 = cpu_ns();
  for (auto _ : state) {
    sum = run_evaluator(ev, &allocs);
    benchmark::DoNotOptimize(sum);
  }
  double ns = (cpu_ns() - t0) / (static_cast<double>(state.iterations()) * 1e6);
  if (sum != want) std::abort();
  state.SetItemsProcessed(state.iterations() * 1000000);
  state.counters["ns/decision"] = ns;
  state.counters["allocs/decision"] = static_cast<double>(allocs) / 1e6;
  if (ratio && g_hand_ns > 0) state.counters["jit/hand"] = ns / g_hand_ns;
}

void BM_Reference_Jit(benchmark::State& state) {
  bench_evaluator(state, *reference().jit, true);
}
void BM_Reference_Interpreter(benchmark::State& state) {
  bench_evaluator(state, *reference().interp, false);
}

// The public API end to end: typed Request setters + Policy::decide (JIT), shared by 1 or 2
// threads; each thread walks its own stride of the 1M requests.
const Policy& reference_policy() {
  static Engine engine([] {
    EngineOptions o;
    o.wait_for_jit = true;  // measure the JIT tier
    return o;
  }());
  static const Policy p = [] {
    CompileResult r =
        engine.compile_file(std::string(TOLLGATE_SOURCE_DIR) + "/policies/reference.pol");
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.rendered.c_str());
      std::abort();
    }
    return *r.policy;
  }();
  return p;
}

void BM_Policy_Decide(benchmark::State& state) {
  const Workload& w = workload();
  const Policy& p = reference_policy();
  Request req(p);
  req.now_ms = 1700000000000;
  const int slot_tenant = p.slot("tenant"), slot_tier = p.slot("tier"), slot_task = p.slot("task"),
            slot_pri = p.slot("priority"), slot_lat = p.slot("latency"),
            slot_sens = p.slot("sensitivity"), slot_in = p.slot("in_tokens"),
            slot_hist = p.slot("history_tokens"), slot_att = p.slot("attempt"),
            slot_err = p.slot("error"), slot_ratio = p.slot("spent_ratio");
  Decision d;
  size_t i = static_cast<size_t>(state.thread_index()) * 7919;
  uint64_t sum = 0;
  uint64_t a0 = g_allocs.load(std::memory_order_relaxed);
  for (auto _ : state) {
    const Req& r = w.reqs[i];
    i = i + 1 == w.reqs.size() ? 0 : i + 1;
    req.set_string(slot_tenant, w.tenants[r.tenant]);
    req.set_enum(slot_tier, r.tier);
    req.set_enum(slot_task, r.task);
    req.set_enum(slot_pri, r.priority);
    req.set_enum(slot_lat, r.latency);
    req.set_enum(slot_sens, r.sensitivity);
    req.set_int(slot_in, r.in_tokens);
    req.set_int(slot_hist, r.history_tokens);
    req.set_int(slot_att, r.attempt);
    req.set_enum(slot_err, r.error);
    req.set_float(slot_ratio, r.spent_ratio);
    p.decide(req, &d);
    sum += checksum_of(d);
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0)
    state.counters["allocs/decision"] =
        static_cast<double>(g_allocs.load(std::memory_order_relaxed) - a0) /
        static_cast<double>(state.iterations());
}

// ------------------------------------------------------------------------------------------------
// Compile time of generated policies (parse + check + JIT through the Engine).
// ------------------------------------------------------------------------------------------------

std::string generated_policy(int rules) {
  static const char* const tasks[] = {"classify", "extract", "tag",    "summarize",
                                      "qa",       "chat",    "report", "analysis"};
  static const char* const routes[] = {"local", "batch", "cheap", "mid", "strong", "long"};
  static const char* const errors[] = {"throttled", "server", "timeout", "parse"};
  std::mt19937_64 rng(static_cast<uint64_t>(rules));
  std::string s =
      "policy generated\ninput {\n  tenant: string\n  tier: enum(free, pro, enterprise) = pro\n"
      "  task: enum(classify, extract, tag, summarize, qa, chat, report, analysis)\n"
      "  priority: enum(low, normal, high, critical) = normal\n  in_tokens: int\n"
      "  history_tokens: int = 0\n  attempt: int = 0\n"
      "  error: enum(none, throttled, server, timeout, parse, context_overflow) = none\n"
      "  spent_ratio: float = 0\n}\n"
      "routes {\n  local = \"m0\" self_hosted\n  batch = \"m1\" in $1/M out $2/M\n"
      "  cheap = \"m2\" in $0.25/M out $1.25/M\n  mid = \"m3\" in $0.15/M out $0.6/M\n"
      "  strong = \"m4\" in $3/M out $15/M\n  long = \"m5\" in $1.25/M out $5/M\n}\n";
  for (int i = 0; i < rules; ++i) {
    const char* task = tasks[rng() % 8];
    switch (i % 10) {
      case 0:
        s += "if tenant startswith \"t-" + std::to_string(i) + "\" max_out " +
             std::to_string(64 + rng() % 4000) + "\n";
        break;
      case 1:
        s += std::string("if error == ") + errors[rng() % 4] + " and attempt < " +
             std::to_string(1 + rng() % 3) + " retry backoff min(200ms * pow(2, attempt), 5s)\n";
        break;
      case 2:
        s += std::string("if task == ") + task + " and history_tokens < " +
             std::to_string(rng() % 20000) + " rag top_k " + std::to_string(1 + rng() % 8) + "\n";
        break;
      case 3:
        s += std::string("if task in [") + task + ", " + tasks[rng() % 8] + "] and tier == free" +
             " max_in " + std::to_string(1000 + rng() % 9000) + "\n";
        break;
      default:
        s += std::string("if task == ") + task + " and in_tokens < " +
             std::to_string(rng() % 60000) + " and spent_ratio < " +
             std::to_string(static_cast<double>(rng() % 100) / 100.0) + " route " +
             routes[rng() % 6] + " max_out " + std::to_string(64 + rng() % 4000) + "\n";
        break;
    }
  }
  s += "default route strong max_out 1024\n";
  return s;
}

void BM_Compile(benchmark::State& state) {
  const int rules = static_cast<int>(state.range(0));
  std::string src = generated_policy(rules);
  EngineOptions eo;
  eo.wait_for_jit = true;  // compile() returns once the JIT tier serves: the whole compile
  Engine engine(eo);
  {  // the first LLJIT in a process pays a one-time init; keep it out of the figure
    CompileResult warm = engine.compile(generated_policy(10), "warm.pol");
    if (!warm.ok() || !warm.policy->jitted()) {
      std::fprintf(stderr, "%s\n", warm.rendered.c_str());
      std::abort();
    }
  }
  double front_ms = 0;
  for (auto _ : state) {
    CompileResult r = engine.compile(src, "generated.pol");
    if (!r.ok() || !r.policy->jitted()) {
      std::fprintf(stderr, "%s\n", r.rendered.c_str());
      std::abort();
    }
    state.PauseTiming();
    auto t0 = std::chrono::steady_clock::now();
    DiagnosticSink diags;
    auto program = parse_program(src, "generated.pol", diags);
    check_program(*program, diags);
    front_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    r.policy.reset();  // free the code outside the timed region
    state.ResumeTiming();
  }
  state.counters["rules"] = rules;
  state.counters["parse+check ms"] = front_ms / static_cast<double>(state.iterations());
}

}  // namespace

BENCHMARK(BM_Reference_Hand)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_Reference_Jit)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_Reference_Interpreter)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_Policy_Decide)->Threads(1)->Threads(2)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_Compile)->Arg(10)->Arg(100)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
