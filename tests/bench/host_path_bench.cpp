// The host path through libtollgate.so (the C ABI as Go, Python, Rust and C hosts call it) on the
// reference workload, against the hand-written decision called through a function pointer (what
// a host calling its own compiled rules pays), all in one run:
//  * accessor path: reset + 11 typed setters + tg_decide + 8 getters (ABI 1);
//  * bulk path: fill 11 tg_value + tg_decide_values + read the tg_result struct (ABI 2);
//  * batch path: tg_decide_batch over 256 requests per call.
// The checksum of every path must equal the hand-written one (the run aborts otherwise).
// Links only the shared library, so every tg_* call goes through the PLT as in a real host.
#include <benchmark/benchmark.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/bench/reference_workload.h"
#include "tollgate.h"

namespace {

using namespace reference_bench;

#define CHECK_TG(call)                                          \
  do {                                                          \
    if ((call) != TG_OK) {                                      \
      std::fprintf(stderr, "%s: %s\n", #call, tg_last_error()); \
      std::abort();                                             \
    }                                                           \
  } while (0)

struct Fixture {
  tg_engine* engine = nullptr;
  tg_policy* policy = nullptr;
  int slot[11];
  Fixture() {
    tg_engine_config c;
    tg_engine_config_init(&c);
    c.wait_for_jit = 1;
    CHECK_TG(tg_engine_create(&c, &engine));
    CHECK_TG(tg_compile_file(engine, TOLLGATE_SOURCE_DIR "/policies/reference.pol", &policy));
    if (!tg_policy_jitted(policy)) std::abort();
    const char* names[] = {"tenant",  "tier",        "task",       "priority",
                           "latency", "sensitivity", "in_tokens",  "history_tokens",
                           "attempt", "error",       "spent_ratio"};
    for (int i = 0; i < 11; ++i) {
      slot[i] = tg_policy_slot(policy, names[i]);
      if (slot[i] != i) std::abort();  // the bulk path below fills values in this order
    }
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

uint64_t checksum(int route, int denied, int64_t max_out, int64_t max_in, int64_t backoff,
                  int64_t top_k, int retry, int rag) {
  Out o{};
  o.deny = denied;
  o.route = denied ? 6 : route;
  o.max_out = max_out < 0 ? INT64_MAX : max_out;
  o.max_in = max_in < 0 ? INT64_MAX : max_in;
  o.backoff_ms = backoff;
  o.top_k = top_k;
  o.retry = retry;
  o.rag = rag;
  return checksum_of(o);
}

// The checksum of requests [0, n) by the hand-written decision.
uint64_t hand_checksum(size_t n) {
  const Workload& w = workload();
  uint64_t sum = 0;
  for (size_t i = 0; i < n; ++i)
    sum += checksum_of(hand_decide(w.reqs[i], w.tenants[w.reqs[i].tenant]));
  return sum;
}

double cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double g_hand_ns = 0;

// Runs `one(i)` for consecutive requests; verifies the checksum of the first pass.
template <class F>
double run(benchmark::State& state, F&& one) {
  const Workload& w = workload();
  size_t i = 0, first_pass = 0;
  uint64_t sum = 0;
  double t0 = cpu_ns();
  for (auto _ : state) {
    const uint64_t c = one(i);
    if (first_pass == i) {
      sum += c;
      ++first_pass;
    }
    if (++i == w.reqs.size()) i = 0;
  }
  double ns = (cpu_ns() - t0) / static_cast<double>(state.iterations());
  if (sum != hand_checksum(first_pass)) {
    std::fprintf(stderr, "checksum differs from the hand-written decision\n");
    std::abort();
  }
  state.counters["ns/decision"] = ns;
  if (g_hand_ns > 0) state.counters["x hand"] = ns / g_hand_ns;
  return ns;
}

// The hand-written decision through a function pointer the compiler cannot see through.
Out (*volatile g_hand)(const Req&, const std::string&) = hand_decide;

void BM_Host_Hand(benchmark::State& state) {
  const Workload& w = workload();
  g_hand_ns = run(state, [&](size_t i) {
    const Req& r = w.reqs[i];
    return checksum_of(g_hand(r, w.tenants[r.tenant]));
  });
  g_hand_ns = g_hand_ns > 0 ? g_hand_ns : 1;
}

void BM_Host_Accessors(benchmark::State& state) {
  const Fixture& f = fixture();
  const Workload& w = workload();
  tg_request* req = nullptr;
  tg_decision* d = nullptr;
  CHECK_TG(tg_request_create(f.policy, &req));
  CHECK_TG(tg_decision_create(&d));
  tg_request_set_time(req, 1700000000000);
  run(state, [&](size_t i) {
    const Req& r = w.reqs[i];
    const std::string& t = w.tenants[r.tenant];
    tg_request_set_string(req, 0, t.data(), t.size());
    tg_request_set_enum_index(req, 1, r.tier);
    tg_request_set_enum_index(req, 2, r.task);
    tg_request_set_enum_index(req, 3, r.priority);
    tg_request_set_enum_index(req, 4, r.latency);
    tg_request_set_enum_index(req, 5, r.sensitivity);
    tg_request_set_int(req, 6, r.in_tokens);
    tg_request_set_int(req, 7, r.history_tokens);
    tg_request_set_int(req, 8, r.attempt);
    tg_request_set_enum_index(req, 9, r.error);
    tg_request_set_float(req, 10, r.spent_ratio);
    tg_decide(req, d);
    return checksum(tg_decision_route_index(d), tg_decision_denied(d), tg_decision_max_out(d),
                    tg_decision_max_in(d), tg_decision_backoff_ms(d), tg_decision_top_k(d),
                    tg_decision_retry(d), tg_decision_rag(d));
  });
  tg_decision_destroy(d);
  tg_request_destroy(req);
}

inline void fill_values(tg_value* v, const Req& r, const std::string& t) {
  v[0].str = t.data();
  v[0].len = static_cast<uint32_t>(t.size());
  v[1].i = r.tier;
  v[2].i = r.task;
  v[3].i = r.priority;
  v[4].i = r.latency;
  v[5].i = r.sensitivity;
  v[6].i = r.in_tokens;
  v[7].i = r.history_tokens;
  v[8].i = r.attempt;
  v[9].i = r.error;
  v[10].f = r.spent_ratio;
}

std::vector<tg_value> blank_values(size_t n) {
  std::vector<tg_value> v(n);
  for (tg_value& x : v) {
    x = tg_value{};
    x.set = 1;
  }
  return v;
}

void BM_Host_Bulk(benchmark::State& state) {
  const Fixture& f = fixture();
  const Workload& w = workload();
  std::vector<tg_value> v = blank_values(11);
  tg_result res;
  run(state, [&](size_t i) {
    const Req& r = w.reqs[i];
    fill_values(v.data(), r, w.tenants[r.tenant]);
    tg_decide_values(f.policy, v.data(), 11, 1700000000000, &res);
    return checksum(res.route, res.denied, res.max_out, res.max_in, res.backoff_ms, res.top_k,
                    res.retry, res.rag);
  });
}

// tg_decide_batch over blocks of 256 requests; the per-decision figure includes filling them.
void BM_Host_Batch(benchmark::State& state) {
  const Fixture& f = fixture();
  const Workload& w = workload();
  constexpr size_t kBlock = 256;
  std::vector<tg_value> v = blank_values(11 * kBlock);
  std::vector<tg_result> res(kBlock);
  size_t i = 0;
  uint64_t sum = 0, want = 0;
  bool first = true;
  double t0 = cpu_ns();
  for (auto _ : state) {
    const size_t base = i;
    for (size_t k = 0; k < kBlock; ++k) {
      const Req& r = w.reqs[base + k];
      fill_values(v.data() + 11 * k, r, w.tenants[r.tenant]);
    }
    tg_decide_batch(f.policy, v.data(), 11, kBlock, 1700000000000, res.data());
    if (first) {
      for (const tg_result& x : res)
        sum +=
            checksum(x.route, x.denied, x.max_out, x.max_in, x.backoff_ms, x.top_k, x.retry, x.rag);
      want = hand_checksum(kBlock);
      first = false;
    }
    i += kBlock;
    if (i + kBlock > w.reqs.size()) i = 0;
    benchmark::DoNotOptimize(res.data());
  }
  double ns = (cpu_ns() - t0) / static_cast<double>(state.iterations() * kBlock);
  if (sum != want) {
    std::fprintf(stderr, "batch checksum differs from the hand-written decision\n");
    std::abort();
  }
  state.counters["ns/decision"] = ns;
  if (g_hand_ns > 0) state.counters["x hand"] = ns / g_hand_ns;
}

}  // namespace

BENCHMARK(BM_Host_Hand)->MinTime(1.0);
BENCHMARK(BM_Host_Accessors)->MinTime(1.0);
BENCHMARK(BM_Host_Bulk)->MinTime(1.0);
BENCHMARK(BM_Host_Batch)->MinTime(1.0);

BENCHMARK_MAIN();
