// Costs of the embedding layer on top of decide(): pinning a version from a PolicyHandle (epoch
// read vs std::atomic_load on a shared_ptr), deciding through the handle with and without a shadow
// candidate, admit+record against the ledger (1 and 4 threads on the same budget), ledger reads,
// and rendering an audit record.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "tollgate/audit.hpp"
#include "tollgate/engine.hpp"
#include "tollgate/ledger.hpp"
#include "tollgate/policy_handle.hpp"

using namespace tollgate;

namespace {

const char* kPolicy = R"(policy gw
input {
  tenant: string
  task: enum(classify, chat) = chat
  in_tokens: int = 1000
  attempt: int = 0
}
routes {
  cheap = "m-cheap" in $1/M out $2/M
  strong = "m-strong" in $3/M out $15/M
}
budget monthly = $1000000 usd per tenant per month
budget tpm = 1000000000 tokens per tenant per minute
if monthly.ratio >= 1.0 deny "monthly budget exhausted"
if tpm.remaining < in_tokens deny "token rate limit"
if task == classify route cheap max_out 64
default route strong max_out 1024
if attempt < 2 retry backoff 200ms
if true tag "t:" + task
)";

EngineOptions jit_options() {
  EngineOptions o;
  o.wait_for_jit = true;  // measure the JIT tier
  return o;
}

struct Fixture {
  Fixture() : engine(jit_options()) {
    CompileResult r = engine.compile(kPolicy, "gw.pol");
    if (!r.ok()) std::abort();
    policy.emplace(*r.policy);
    handle = std::make_unique<PolicyHandle>(engine, *policy);
    shadowed = std::make_unique<PolicyHandle>(engine, *policy);
    std::string cand = std::string(kPolicy) + "if task == chat max_out 512\n";
    if (!shadowed->set_candidate(cand, "cand.pol").ok) std::abort();
  }
  Engine engine;
  std::optional<Policy> policy;
  std::unique_ptr<PolicyHandle> handle, shadowed;
};

Fixture& fx() {
  static Fixture f;
  return f;
}

void fill(Request& req, const Policy& p) {
  req.set_string(p.slot("tenant"), "acme");
  req.set_enum(p.slot("task"), "chat");
  req.set_int(p.slot("in_tokens"), 1200);
}

void BM_PolicyDecide(benchmark::State& st) {
  Policy p = *fx().policy;
  Request req(p);
  fill(req, p);
  Decision d;
  for (auto _ : st) {
    p.decide(req, &d);
    benchmark::DoNotOptimize(d.route);
  }
}
BENCHMARK(BM_PolicyDecide)->ThreadRange(1, 4)->UseRealTime();

void BM_HandleCurrent(benchmark::State& st) {
  for (auto _ : st) {
    Policy p = fx().handle->current();
    benchmark::DoNotOptimize(&p);
  }
}
BENCHMARK(BM_HandleCurrent)->ThreadRange(1, 4)->UseRealTime();

// What the brief's alternative would cost: libstdc++ atomic_load on a shared_ptr.
void BM_AtomicLoadSharedPtr(benchmark::State& st) {
  static std::shared_ptr<Policy> sp = std::make_shared<Policy>(*fx().policy);
  for (auto _ : st) {
    std::shared_ptr<Policy> p = std::atomic_load(&sp);
    benchmark::DoNotOptimize(p.get());
  }
}
BENCHMARK(BM_AtomicLoadSharedPtr)->ThreadRange(1, 4)->UseRealTime();

void BM_HandleDecide(benchmark::State& st) {
  Policy p = fx().handle->current();
  Request req(p);
  fill(req, p);
  Decision d;
  for (auto _ : st) {
    fx().handle->decide(req, &d);
    benchmark::DoNotOptimize(d.route);
  }
}
BENCHMARK(BM_HandleDecide)->ThreadRange(1, 4)->UseRealTime();

void BM_HandleDecideShadow(benchmark::State& st) {
  Policy p = fx().shadowed->current();
  Request req(p);
  fill(req, p);
  Decision d;
  for (auto _ : st) {
    fx().shadowed->decide(p, req, &d);
    benchmark::DoNotOptimize(d.route);
  }
}
BENCHMARK(BM_HandleDecideShadow)->ThreadRange(1, 4)->UseRealTime();

void BM_AdmitRecord(benchmark::State& st) {
  Policy p = *fx().policy;
  Ledger& ledger = fx().engine.ledger();
  Request req(p);
  fill(req, p);
  Admission a;
  for (auto _ : st) {
    ledger.admit(p, req, Estimate{1200, 0}, &a);
    ledger.record(a, Usage{1200, 300, 0, -1});
  }
}
BENCHMARK(BM_AdmitRecord)->ThreadRange(1, 4)->UseRealTime();

void BM_LedgerSpent(benchmark::State& st) {
  Policy p = *fx().policy;
  const BudgetInfo& b = p.budgets()[0];
  Ledger& ledger = fx().engine.ledger();
  int64_t now = Ledger::wall_clock_ms();
  for (auto _ : st) benchmark::DoNotOptimize(ledger.spent(b, "acme", now));
}
BENCHMARK(BM_LedgerSpent)->ThreadRange(1, 4)->UseRealTime();

void BM_AuditRender(benchmark::State& st) {
  Policy p = *fx().policy;
  Request req(p);
  fill(req, p);
  Decision d;
  p.decide(req, &d);
  AuditContext ctx;
  ctx.request = &req;
  ctx.budgets = &fx().engine.ledger();
  std::string buf;
  for (auto _ : st) {
    render_audit(p, d, ctx, &buf);
    benchmark::DoNotOptimize(buf.data());
  }
  st.counters["bytes"] = static_cast<double>(buf.size());
}
BENCHMARK(BM_AuditRender);

}  // namespace

BENCHMARK_MAIN();
