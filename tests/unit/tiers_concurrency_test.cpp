// Tiered execution: a policy serves from the interpreter as soon as it is checked, its JIT tier
// swaps in from the engine's worker while other threads keep deciding (every decision equal to
// the interpreter's), a policy that is never hot is never compiled, and an engine that goes away
// first leaves its policies serving on the interpreter. Runs under TSan in `./run.sh tsan`.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/decision_diff.h"
#include "tollgate/tollgate.hpp"

using namespace tollgate;
using namespace tollgate::testing;

namespace {

const char* const kPolicy = R"(policy tiers
input {
  tenant: string
  task: enum(qa, chat, code)
  in_tokens: int
}
routes {
  cheap = "m-cheap" in $0.1/M out $0.2/M
  strong = "m-strong" in $3/M out $15/M
}
if tenant == "vip" and task == qa  route strong max_out 2048
if task == code and in_tokens < 4000  route cheap max_out 512
if cost(strong, in_tokens, 1024) > $0.05  route cheap max_out 256
default route strong max_out 1024
if tenant startswith "trial-"  max_out 128
if true  tag "task:" + task
)";

const char* const kTenants[] = {"vip", "trial-1", "acme", ""};
const char* const kTasks[] = {"qa", "chat", "code"};

void fill(Request* r, int i) {
  r->reset();
  r->set("tenant", kTenants[i % 4]);
  r->set("task", kTasks[(i / 4) % 3]);
  r->set("in_tokens", std::to_string((i * 7919) % 30000));
}

// The interpreter's decision for request i: what every tier must give.
Decision reference(int i) {
  static Engine engine([] {
    EngineOptions o;
    o.backend = Backend::Interpreter;
    return o;
  }());
  static const Policy p = *engine.compile(kPolicy, "tiers.pol").policy;
  Request r(p);
  fill(&r, i);
  return p.decide(r);
}

bool eventually(const std::function<bool()>& pred) {
  for (int i = 0; i < 1000; ++i) {  // at most 10 s
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace

TEST_CASE("the JIT tier swaps in while two threads decide", "[tiers]") {
  Engine engine;  // background JIT, right after compile
  CompileResult c = engine.compile(kPolicy, "tiers.pol");
  REQUIRE(c.ok());
  const Policy p = *c.policy;
  std::vector<Decision> want;
  for (int i = 0; i < 240; ++i) want.push_back(reference(i));
  std::atomic<int> mismatches{0}, on_jit{0};
  std::atomic<bool> stop{false};
  auto decider = [&] {
    Request r(p);
    int i = 0;
    while (!stop.load()) {
      fill(&r, i % 240);
      const bool jit_before = p.jitted();
      Decision d = p.decide(r);
      if (!decision_diff(d, want[static_cast<size_t>(i % 240)]).empty()) ++mismatches;
      if (jit_before) ++on_jit;
      ++i;
    }
  };
  std::thread a(decider), b(decider);
  CHECK(p.wait_for_jit());
  CHECK(p.jit_error().empty());
  CHECK(eventually([&] { return on_jit.load() > 1000; }));
  stop = true;
  a.join();
  b.join();
  CHECK(mismatches.load() == 0);
}

TEST_CASE("a policy is JIT-compiled only once it is hot", "[tiers]") {
  EngineOptions o;
  o.jit_hot_decisions = 500;
  Engine engine(o);
  const Policy p = *engine.compile(kPolicy, "tiers.pol").policy;
  Request r(p);
  for (int i = 0; i < 499; ++i) {
    fill(&r, i);
    CHECK(decision_diff(p.decide(r), reference(i)).empty());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_FALSE(p.jitted());  // not hot yet: nothing was compiled
  fill(&r, 499);
  p.decide(r);  // the 500th decision asks for the JIT tier
  CHECK(eventually([&] { return p.jitted(); }));
  fill(&r, 3);
  CHECK(decision_diff(p.decide(r), reference(3)).empty());
}

TEST_CASE("idle policies never pay for the JIT; dropped ones are skipped", "[tiers]") {
  EngineOptions o;
  o.jit_hot_decisions = 1000000;
  Engine engine(o);
  std::vector<Policy> idle;
  for (int i = 0; i < 200; ++i) idle.push_back(*engine.compile(kPolicy, "tiers.pol").policy);
  // Compiled and dropped before they are hot.
  for (int i = 0; i < 50; ++i) {
    Policy q = *engine.compile(kPolicy, "tiers.pol").policy;
    CHECK_FALSE(q.jitted());
  }
  // Queued for the JIT at once and dropped at once: the worker skips them or finishes them.
  Engine eager;
  for (int i = 0; i < 50; ++i) (void)eager.compile(kPolicy, "tiers.pol");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (const Policy& p : idle) CHECK_FALSE(p.jitted());
  Request r(idle[0]);
  fill(&r, 5);
  CHECK(decision_diff(idle[0].decide(r), reference(5)).empty());
}

TEST_CASE("an engine that goes first leaves its policies on the interpreter", "[tiers]") {
  std::optional<Policy> p;
  {
    EngineOptions o;
    o.jit_hot_decisions = 10;
    Engine engine(o);
    p = *engine.compile(kPolicy, "tiers.pol").policy;
  }
  Request r(*p);
  for (int i = 0; i < 20; ++i) {  // becomes hot after the engine is gone
    fill(&r, i);
    CHECK(decision_diff(p->decide(r), reference(i)).empty());
  }
  CHECK_FALSE(p->wait_for_jit());
  CHECK(p->jit_error().find("engine destroyed") != std::string::npos);
}

TEST_CASE("wait_for_jit makes compile() return on the JIT tier", "[tiers]") {
  EngineOptions o;
  o.wait_for_jit = true;
  Engine engine(o);
  CompileResult c = engine.compile(kPolicy, "tiers.pol");
  REQUIRE(c.ok());
  CHECK(c.policy->jitted());
}
