// Rule sets at scale (docs/performance.md, "Rule sets"): policies/reference.pol plus N rules that
// a SaaS gateway accumulates, N = 0, 100, 1,000, 10,000, in two series:
//  * overrides:  `if tenant == "cust-K" and task == qa  route mid max_out 300` (per-customer
//    overrides for customers not in the traffic, so they never fire);
//  * thresholds: `if task == X and tier == Y and in_tokens < L  route R max_out M`, L in
//    [50, 200) (most requests have more tokens, so they rarely fire).
// The rules go before reference.pol's own, so the chain evaluates all of them on every request.
// Each series is decided by the JIT and the interpreter (both through the rule index), by the
// interpreter on the plain chain (the old cost), and by a hand-written C++ function that finds a
// tenant's overrides in a hash map / a (task, tier) bucket's thresholds by binary search (the
// physical limit). All implementations must produce the same checksum. Both the policy and the
// hand-written side look the tenant string up in a hash table per request (Request::set_string
// interns it; the hand-written code finds its overrides), so neither gets that for free.
// Also: ready time (parse + check + index + interpreter, the tier that serves first) and JIT time.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <time.h>
#include <unistd.h>
#include <tsl/robin_map.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/checker.h"
#include "compiler/diagnostics.h"
#include "compiler/eval_support.h"
#include "compiler/evaluator.h"
#include "compiler/jit.h"
#include "compiler/parser.h"
#include "compiler/rule_index.h"
#include "tests/bench/reference_workload.h"

namespace {

using namespace tollgate;
using namespace reference_bench;

enum Series : int { kOverrides = 0, kThresholds = 1 };
const char* const kTaskNames[] = {"classify", "extract", "tag",    "summarize",
                                  "qa",       "chat",    "report", "analysis"};
const char* const kTierNames[] = {"free", "pro", "enterprise"};
const char* const kRouteNames[] = {"local", "batch", "cheap", "mid", "strong", "long"};

// One generated threshold rule, for the hand-written side.
struct Threshold {
  int task, tier;
  int64_t limit;
  int route;
  int64_t max_out;
};

std::vector<Threshold> thresholds(int n) {
  std::mt19937_64 rng(static_cast<uint64_t>(n) * 31 + 7);
  std::vector<Threshold> t;
  for (int i = 0; i < n; ++i) {
    Threshold x;
    x.task = static_cast<int>(rng() % 8);
    x.tier = static_cast<int>(rng() % 3);
    x.limit = 50 + static_cast<int64_t>(rng() % 150);
    x.route = static_cast<int>(rng() % 6);
    x.max_out = 100 + static_cast<int64_t>(rng() % 900);
    t.push_back(x);
  }
  return t;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// reference.pol with the series' N rules before its first rule.
std::string policy_source(Series series, int n) {
  std::string ref = read_file(std::string(TOLLGATE_SOURCE_DIR) + "/policies/reference.pol");
  std::string rules;
  if (series == kOverrides) {
    for (int k = 0; k < n; ++k)
      rules += "if tenant == \"cust-" + std::to_string(k) + "\" and task == qa  route mid max_out 300\n";
  } else {
    for (const Threshold& t : thresholds(n))
      rules += std::string("if task == ") + kTaskNames[t.task] + " and tier == " +
               kTierNames[t.tier] + " and in_tokens < " + std::to_string(t.limit) + "  route " +
               kRouteNames[t.route] + " max_out " + std::to_string(t.max_out) + "\n";
  }
  size_t at = ref.find("\nif ");
  if (at == std::string::npos) std::abort();
  return ref.substr(0, at + 1) + rules + ref.substr(at + 1);
}

// Heap bytes in use (the AST, tables and index) and resident KiB (the JIT's code pages and LLVM's
// own allocations), for the memory series.
size_t heap_bytes() {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks;
}
double rss_kb() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, resident = 0;
  in >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1024.0;
}

double cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct Compiled {
  std::unique_ptr<Program> program;
  PolicyTables tables;
  std::unique_ptr<Evaluator> jit, interp, chain;
  tsl::robin_map<std::string, int32_t> literal_ids;  // what Request's interning does
  std::string index;                                 // RuleIndex::describe()
  double candidates = 0;  // mean candidates a request's lookup returns (first 100,000 requests)
  double ready_ms = 0, jit_ms = 0;
};

std::unique_ptr<Program> parse_checked(const std::string& src) {
  DiagnosticSink diags;
  auto program = parse_program(src, "ruleset.pol", diags);
  if (!program || diags.has_errors() || !check_program(*program, diags)) {
    std::fprintf(stderr, "%s\n", render_all(diags.all(), src).c_str());
    std::abort();
  }
  return program;
}

struct Compiled;
inline void fill(Slot* s, const Req& r, const std::string& t, const Compiled& c);

const Compiled& compiled(Series series, int n) {
  static std::map<std::pair<int, int>, std::unique_ptr<Compiled>> cache;
  auto& slot = cache[{series, n}];
  if (slot) return *slot;
  slot = std::make_unique<Compiled>();
  Compiled& c = *slot;
  const std::string src = policy_source(series, n);
  double t0 = cpu_ms();
  c.program = parse_checked(src);
  c.tables = make_policy_tables(*c.program);
  c.interp = make_interpreter(*c.program, c.tables);
  c.ready_ms = cpu_ms() - t0;
  std::string error;
  t0 = cpu_ms();
  c.jit = make_jit_evaluator(default_jit_host(), *c.program, c.tables, JitOptions{}, &error);
  c.jit_ms = cpu_ms() - t0;
  if (!c.jit) {
    std::fprintf(stderr, "JIT failed: %s\n", error.c_str());
    std::abort();
  }
  c.chain = make_interpreter(*c.program, c.tables, RuleIndexOptions::chain());
  for (size_t k = 0; k < c.program->string_literals.size(); ++k)
    c.literal_ids.emplace(c.program->string_literals[k], static_cast<int32_t>(k));
  auto ctx = make_eval_context(*c.program, c.tables);
  auto ix = RuleIndex::build(*c.program, *ctx, c.program->eval_order);
  c.index = ix ? ix->describe() : "no index (the chain)";
  if (ix) {
    std::vector<Slot> slots(11);
    const Workload& w = workload();
    uint64_t total = 0;
    const size_t count = 100000;
    for (size_t i = 0; i < count; ++i) {
      const Req& r = w.reqs[i];
      for (Slot& s : slots) s.set = 1;
      fill(slots.data(), r, w.tenants[r.tenant], c);
      RuleIndex::Candidates cs[RuleIndex::kMaxLeaves];
      int k = ix->lookup(slots.data(), cs);
      for (int j = 0; j < k; ++j) total += cs[j].n;
    }
    c.candidates = static_cast<double>(total) / static_cast<double>(count);
  }
  return c;
}

// The hand-written decisions: the reference function behind a hash-map / bucket lookup.
struct Hand {
  tsl::robin_map<std::string, std::vector<int>> overrides;  // tenant -> override rule ids
  // (task, tier) -> the bucket's rules in order, with the running maximum of their limits: the
  // first rule with in_tokens < limit is the first whose running maximum exceeds in_tokens.
  struct Bucket {
    std::vector<int64_t> running_max;
    std::vector<const Threshold*> rules;
  };
  Bucket buckets[8][3];
  std::vector<Threshold> ths;
};

const Hand& hand(Series series, int n) {
  static std::map<std::pair<int, int>, std::unique_ptr<Hand>> cache;
  auto& slot = cache[{series, n}];
  if (slot) return *slot;
  slot = std::make_unique<Hand>();
  Hand& h = *slot;
  if (series == kOverrides) {
    for (int k = 0; k < n; ++k) h.overrides["cust-" + std::to_string(k)].push_back(k);
  } else {
    h.ths = thresholds(n);
    for (const Threshold& t : h.ths) {
      Hand::Bucket& b = h.buckets[t.task][t.tier];
      b.running_max.push_back(b.running_max.empty() ? t.limit
                                                    : std::max(b.running_max.back(), t.limit));
      b.rules.push_back(&t);
    }
  }
  return h;
}

__attribute__((noinline)) Out hand_series(const Hand& h, Series series, const Req& r,
                                          const std::string& tenant) {
  if (series == kOverrides) {
    auto it = h.overrides.find(tenant);
    if (it != h.overrides.end() && r.task == kQa) {  // (never: no such tenant in the traffic)
      Out o = hand_decide(r, tenant);
      o.route = 3, o.deny = false;
      o.max_out = tenant.compare(0, 6, "trial-") == 0 ? 128 : 300;
      return o;
    }
    return hand_decide(r, tenant);
  }
  const Hand::Bucket& b = h.buckets[r.task][r.tier];
  auto it = std::upper_bound(b.running_max.begin(), b.running_max.end(), r.in_tokens);
  if (it == b.running_max.end()) return hand_decide(r, tenant);
  const Threshold& t = *b.rules[static_cast<size_t>(it - b.running_max.begin())];
  Out o = hand_decide(r, tenant);
  o.route = t.route, o.deny = false, o.max_out = t.max_out;
  if (tenant.compare(0, 6, "trial-") == 0 && o.max_out > 128) o.max_out = 128;
  return o;
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

// Slots in reference.pol input order; the tenant interned through the literal table.
inline void fill(Slot* s, const Req& r, const std::string& t, const Compiled& c) {
  s[0].str = t.data();
  s[0].len = static_cast<uint32_t>(t.size());
  auto it = c.literal_ids.find(t);
  s[0].str_id = it == c.literal_ids.end() ? -1 : it->second;
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

// ns per decision by (series, implementation, N), for the ratio counters.
std::map<std::tuple<int, std::string, int>, double> g_ns;

void report(benchmark::State& state, Series series, const std::string& impl, int n, double ns) {
  g_ns[{series, impl, n}] = ns;
  state.counters["ns/decision"] = ns;
  auto hand_it = g_ns.find({series, "hand", n});
  if (impl != "hand" && hand_it != g_ns.end()) state.counters["x hand"] = ns / hand_it->second;
  auto base = g_ns.find({series, impl, 0});
  if (n > 0 && base != g_ns.end()) state.counters["x N=0"] = ns / base->second;
}

// The checksum of the first `count` requests, by the chain interpreter (the reference).
uint64_t expected(Series series, int n, size_t count) {
  static std::map<std::tuple<int, int, size_t>, uint64_t> cache;
  auto key = std::make_tuple(static_cast<int>(series), n, count);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  const Compiled& c = compiled(series, n);
  const Workload& w = workload();
  std::vector<Slot> slots = fresh_slots();
  EvalEnv env;
  env.budget_infos = &c.tables.budgets;
  env.now_ms = 1700000000000;
  env.slots = slots.data();
  uint64_t sum = 0;
  Decision d;
  for (size_t i = 0; i < count; ++i) {
    const Req& r = w.reqs[i];
    fill(slots.data(), r, w.tenants[r.tenant], c);
    c.chain->decide(env, &d);
    sum += checksum_of(d);
  }
  return cache[key] = sum;
}

// Requests whose checksum is compared with the chain's (the chain at N = 10,000 is slow).
constexpr size_t kCheck = 5000;

// One decision per iteration over the workload in order; the checksum of the first kCheck
// requests is compared with the chain's.
void bench_policy(benchmark::State& state, Series series, const char* impl) {
  const int n = static_cast<int>(state.range(0));
  const Compiled& c = compiled(series, n);
  const Evaluator& ev = std::string(impl) == "jit"      ? *c.jit
                        : std::string(impl) == "interp" ? *c.interp
                                                        : *c.chain;
  const Workload& w = workload();
  std::vector<Slot> slots = fresh_slots();
  EvalEnv env;
  env.budget_infos = &c.tables.budgets;
  env.now_ms = 1700000000000;
  env.slots = slots.data();
  Decision d;
  size_t i = 0;
  uint64_t sum = 0;
  double t0 = cpu_ms();
  for (auto _ : state) {
    const Req& r = w.reqs[i];
    fill(slots.data(), r, w.tenants[r.tenant], c);
    ev.decide(env, &d);
    if (i < kCheck) sum += checksum_of(d);
    if (++i == w.reqs.size()) i = 0;
  }
  double ns = (cpu_ms() - t0) * 1e6 / static_cast<double>(state.iterations());
  const size_t checked = std::min(kCheck, static_cast<size_t>(state.iterations()));
  if (state.iterations() <= static_cast<benchmark::IterationCount>(w.reqs.size()) &&
      sum != expected(series, n, checked)) {
    std::fprintf(stderr, "%s N=%d disagrees with the chain\n", impl, n);
    std::abort();
  }
  report(state, series, impl, n, ns);
  if (c.candidates > 0) state.counters["candidates"] = c.candidates;
  state.SetLabel(c.index);
}

void bench_hand(benchmark::State& state, Series series) {
  const int n = static_cast<int>(state.range(0));
  const Hand& h = hand(series, n);
  const Workload& w = workload();
  size_t i = 0;
  uint64_t sum = 0;
  double t0 = cpu_ms();
  for (auto _ : state) {
    const Req& r = w.reqs[i];
    const Out o = hand_series(h, series, r, w.tenants[r.tenant]);
    if (i < kCheck) sum += checksum_of(o);
    if (++i == w.reqs.size()) i = 0;
  }
  double ns = (cpu_ms() - t0) * 1e6 / static_cast<double>(state.iterations());
  const size_t checked = std::min(kCheck, static_cast<size_t>(state.iterations()));
  if (state.iterations() <= static_cast<benchmark::IterationCount>(w.reqs.size()) &&
      sum != expected(series, n, checked)) {
    std::fprintf(stderr, "hand N=%d disagrees with the chain\n", n);
    std::abort();
  }
  report(state, series, "hand", n, ns);
}

void BM_Overrides_Hand(benchmark::State& s) { bench_hand(s, kOverrides); }
void BM_Overrides_Jit(benchmark::State& s) { bench_policy(s, kOverrides, "jit"); }
void BM_Overrides_Interpreter(benchmark::State& s) { bench_policy(s, kOverrides, "interp"); }
void BM_Overrides_Chain(benchmark::State& s) { bench_policy(s, kOverrides, "chain"); }
void BM_Thresholds_Hand(benchmark::State& s) { bench_hand(s, kThresholds); }
void BM_Thresholds_Jit(benchmark::State& s) { bench_policy(s, kThresholds, "jit"); }
void BM_Thresholds_Interpreter(benchmark::State& s) { bench_policy(s, kThresholds, "interp"); }
void BM_Thresholds_Chain(benchmark::State& s) { bench_policy(s, kThresholds, "chain"); }

// Ready time: parse + check + rule index + interpreter (what serves first), and the JIT after it.
void BM_Ready(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const std::string src = policy_source(kOverrides, n);
  {  // the first LLJIT in a process pays a one-time init; keep it out of the figure
    compiled(kOverrides, 0);
  }
  double ready = 0, jit = 0, parse = 0, check = 0, interp = 0;
  double heap_kb = 0, jit_rss_kb = 0;
  for (auto _ : state) {
    const size_t h0 = heap_bytes();
    double t0 = cpu_ms();
    DiagnosticSink diags;
    auto program = parse_program(src, "ruleset.pol", diags);
    double tp = cpu_ms();
    if (!program || diags.has_errors() || !check_program(*program, diags)) std::abort();
    double tc = cpu_ms();
    PolicyTables tables = make_policy_tables(*program);
    auto interpreter = make_interpreter(*program, tables);
    double t1 = cpu_ms();
    heap_kb += static_cast<double>(heap_bytes() - h0) / 1024.0;
    malloc_trim(0);
    const double r0 = rss_kb();
    std::string error;
    auto j = make_jit_evaluator(default_jit_host(), *program, tables, JitOptions{}, &error);
    double t2 = cpu_ms();
    if (!j) std::abort();
    malloc_trim(0);  // what the JIT tier keeps, not LLVM's peak while compiling
    jit_rss_kb += rss_kb() - r0;
    parse += tp - t0;
    check += tc - tp;
    interp += t1 - tc;
    ready += t1 - t0;
    jit += t2 - t1;
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["rules"] = n + 19;
  state.counters["ready ms"] = ready / iters;
  state.counters["parse ms"] = parse / iters;
  state.counters["AST+index KiB"] = heap_kb / iters;
  state.counters["JIT RSS KiB"] = jit_rss_kb / iters;
  state.counters["check ms"] = check / iters;
  state.counters["index+interp ms"] = interp / iters;
  state.counters["jit ms"] = jit / iters;
}

// The parts of a decision's cost: filling the slots (with the tenant's interning) and the index
// lookup alone, for the breakdown in docs/performance.md.
void BM_Overrides_Fill(benchmark::State& state) {
  const Compiled& c = compiled(kOverrides, static_cast<int>(state.range(0)));
  const Workload& w = workload();
  std::vector<Slot> slots = fresh_slots();
  size_t i = 0;
  for (auto _ : state) {
    const Req& r = w.reqs[i];
    fill(slots.data(), r, w.tenants[r.tenant], c);
    benchmark::DoNotOptimize(slots.data());
    if (++i == w.reqs.size()) i = 0;
  }
}

void BM_Overrides_Lookup(benchmark::State& state) {
  const Compiled& c = compiled(kOverrides, static_cast<int>(state.range(0)));
  auto ctx = make_eval_context(*c.program, c.tables);
  auto ix = RuleIndex::build(*c.program, *ctx, c.program->eval_order);
  if (!ix) std::abort();
  const Workload& w = workload();
  std::vector<Slot> slots = fresh_slots();
  size_t i = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    const Req& r = w.reqs[i];
    fill(slots.data(), r, w.tenants[r.tenant], c);
    RuleIndex::Candidates cs[RuleIndex::kMaxLeaves];
    const int k = ix->lookup(slots.data(), cs);
    sum += static_cast<uint64_t>(k) + cs[0].n;
    if (++i == w.reqs.size()) i = 0;
  }
  benchmark::DoNotOptimize(sum);
}

#define SERIES(fn) ->Arg(0)->Arg(100)->Arg(1000)->Arg(10000)
BENCHMARK(BM_Overrides_Hand) SERIES();
BENCHMARK(BM_Overrides_Jit) SERIES();
BENCHMARK(BM_Overrides_Interpreter) SERIES();
BENCHMARK(BM_Overrides_Chain) SERIES();
BENCHMARK(BM_Thresholds_Hand) SERIES();
BENCHMARK(BM_Thresholds_Jit) SERIES();
BENCHMARK(BM_Thresholds_Interpreter) SERIES();
BENCHMARK(BM_Thresholds_Chain) SERIES();
BENCHMARK(BM_Overrides_Fill)->Arg(10000);
BENCHMARK(BM_Overrides_Lookup)->Arg(100)->Arg(10000);
BENCHMARK(BM_Ready)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
