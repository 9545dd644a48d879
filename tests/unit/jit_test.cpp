// The JIT as a component: the reference policy agrees with the interpreter, the Engine uses the
// JIT by default, decide() never allocates, policies compiled and dropped give their code back
// (RSS stays flat over 1,000 cycles), and compiling/deciding from two threads is safe.
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <random>
#include <sstream>
#include <thread>

#include "tests/support/alloc_counter.h"
#include "tests/support/decision_diff.h"
#include "tests/support/dual_policy.h"
#include "tests/support/random_policy.h"
#include "tollgate/tollgate.hpp"

using namespace tollgate;
using namespace tollgate::testing;


namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double rss_mb() {
  long pages_total = 0, pages_rss = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  if (std::fscanf(f, "%ld %ld", &pages_total, &pages_rss) != 2) pages_rss = 0;
  std::fclose(f);
  return static_cast<double>(pages_rss) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1048576.0;
}

const std::string kSmall = R"(
policy small
input {
  task: enum(classify, chat, qa)
  in_tokens: int
  tenant: string = "acme"
}
routes {
  cheap = "m1" in $1/M out $2/M
  strong = "m2" in $3/M out $15/M
}
if task == classify                 route cheap max_out 64
if cost(strong, in_tokens, 1024) > $0.05   route cheap max_out 512
default                             route strong max_out 1024
if tenant startswith "trial-"       max_out 128
if true                             tag "task:" + task
)";

}  // namespace

TEST_CASE("reference.pol: JIT equals the interpreter", "[jit]") {
  std::string src = read_file(std::string(TOLLGATE_SOURCE_DIR) + "/policies/reference.pol");
  DualPolicy p;
  REQUIRE(build_dual(src, &p) == DualStatus::Ok);
  std::mt19937_64 rng(42);
  RandomRequest req;
  for (int i = 0; i < 20000; ++i) {
    req.generate(*p.program, rng);
    Decision a, b;
    std::string diff = decide_both(p, req.slots(), nullptr, &a, &b);
    INFO(req.describe(*p.program));
    REQUIRE(diff.empty());
  }
}

TEST_CASE("Engine uses the JIT by default; the interpreter stays selectable", "[jit]") {
  Engine jit_engine;
  CompileResult r = jit_engine.compile(kSmall, "small.pol");
  INFO(r.rendered);
  REQUIRE(r.ok());
  CHECK(r.policy->wait_for_jit());  // the JIT tier replaces the interpreter in the background
  CHECK(r.policy->jitted());

  EngineOptions o;
  o.backend = Backend::Interpreter;
  Engine interp_engine(o);
  CompileResult ri = interp_engine.compile(kSmall, "small.pol");
  REQUIRE(ri.ok());
  CHECK_FALSE(ri.policy->jitted());
  CHECK_FALSE(ri.policy->wait_for_jit());

  Request a(*r.policy), b(*ri.policy);
  for (Request* q : {&a, &b}) {
    REQUIRE(q->set("task", "chat") == Status::Ok);
    REQUIRE(q->set("in_tokens", "20000") == Status::Ok);
    REQUIRE(q->set("tenant", "trial-9") == Status::Ok);
  }
  Decision da = r.policy->decide(a), db = ri.policy->decide(b);
  CHECK(decision_diff(da, db).empty());
  CHECK(da.route == 0);  // cost(strong, 20000, 1024) = $0.07536 > $0.05 -> cheap
  CHECK(da.max_out == 128);
  REQUIRE(da.tag_count == 1);
  CHECK(da.tag(0) == "task:chat");
}

TEST_CASE("JIT decide() makes no heap allocation", "[jit]") {
  std::string src = read_file(std::string(TOLLGATE_SOURCE_DIR) + "/policies/reference.pol");
  DualPolicy p;
  REQUIRE(build_dual(src, &p) == DualStatus::Ok);
  DualPolicy s;
  REQUIRE(build_dual(kSmall, &s) == DualStatus::Ok);  // concat + tags + cost
  std::mt19937_64 rng(7);
  std::vector<RandomRequest> reqs(64);
  for (auto& r : reqs) r.generate(*p.program, rng);
  std::vector<RandomRequest> sreqs(64);
  for (auto& r : sreqs) r.generate(*s.program, rng);
  Decision d;
  EvalEnv env;
  env.now_ms = 1;
  uint64_t before = heap_allocations();
  for (int i = 0; i < 10000; ++i) {
    env.slots = reqs[i % 64].slots();
    env.budget_infos = &p.tables.budgets;
    p.jit->decide(env, &d);
    env.slots = sreqs[i % 64].slots();
    env.budget_infos = &s.tables.budgets;
    s.jit->decide(env, &d);
  }
  CHECK(heap_allocations() - before == 0);
}

TEST_CASE("compiling and dropping 1,000 policies frees their code", "[jit][memory]") {
  auto host = make_jit_host();
  auto cycle = [&](int i) {
    std::string src = random_policy_source(static_cast<uint64_t>(i % 50) + 1);
    DualPolicy p;
    if (build_dual(src, &p) != DualStatus::Ok) return;
    std::string error;
    auto ev = make_jit_evaluator(host, *p.program, p.tables, JitOptions{}, &error);
    REQUIRE(ev);
    CHECK(jit_live_policies(*host) == 1);
  };
  for (int i = 0; i < 100; ++i) cycle(i);  // warm-up: allocator pools, LLVM caches
  double warm = rss_mb();
  for (int i = 100; i < 1100; ++i) cycle(i);
  double after = rss_mb();
  WARN("RSS after 100 warm-up cycles " << warm << " MB, after 1,000 more " << after << " MB");
  CHECK(jit_live_policies(*host) == 0);
  // Each live policy holds >= 100 KB of code and LLVM state; 1,000 leaked ones would be >100 MB.
  CHECK(after - warm < 16.0);
}

TEST_CASE("two threads compile and decide concurrently", "[jit][threads]") {
  std::string src = read_file(std::string(TOLLGATE_SOURCE_DIR) + "/policies/reference.pol");
  DualPolicy shared;
  REQUIRE(build_dual(src, &shared) == DualStatus::Ok);
  std::atomic<int> mismatches{0};
  auto worker = [&](uint64_t seed) {
    std::mt19937_64 rng(seed);
    RandomRequest req;
    for (int i = 0; i < 20; ++i) {
      DualPolicy own;  // compiles through the shared default host
      if (build_dual(random_policy_source(seed * 100 + static_cast<uint64_t>(i)), &own) !=
          DualStatus::Ok)
        continue;
      for (int k = 0; k < 200; ++k) {
        req.generate(*shared.program, rng);
        Decision a, b;
        if (!decide_both(shared, req.slots(), nullptr, &a, &b).empty()) ++mismatches;
        req.generate(*own.program, rng);
        if (!decide_both(own, req.slots(), nullptr, &a, &b).empty()) ++mismatches;
      }
    }
  };
  std::thread t1(worker, 1), t2(worker, 2);
  t1.join();
  t2.join();
  CHECK(mismatches.load() == 0);
}
