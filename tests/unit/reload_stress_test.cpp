// Hot reload under load: threads decide through a PolicyHandle while another thread reloads it
// hundreds of times, alternating versions that compile and versions that do not. No decision may
// fail, every decision must come from a version that compiled, and the shadow counters must add
// up. Built under TSan by run.sh tsan.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tollgate/engine.hpp"
#include "tollgate/ledger.hpp"
#include "tollgate/policy_handle.hpp"

using namespace tollgate;

namespace {

// Version N routes classify work to `cheap` with max_out N (so each decision names its version)
// and reads a budget, so budgets carry over by name across reloads.
std::string version(int n) {
  return "policy gw\n"
         "input {\n  tenant: string\n  task: enum(classify, chat) = chat\n  in_tokens: int = "
         "100\n}\n"
         "routes {\n  cheap = \"m-cheap\" in $1/M out $2/M\n  strong = \"m-strong\" in $3/M out "
         "$15/M\n}\n"
         "budget monthly = $100 usd per tenant per month\n"
         "if monthly.ratio >= 1.0 deny \"monthly budget exhausted\"\n"
         "if task == classify route cheap max_out " +
         std::to_string(n) +
         "\n"
         "default route strong max_out 1024\n"
         "if true tag \"v" +
         std::to_string(n) + "\"\n";
}

// Does not compile: unknown route.
std::string broken(int n) {
  return version(n) + "if task == chat route nowhere\n";
}

}  // namespace

namespace {

void reload_while_deciding(Backend backend, const int kReloads) {
  Engine engine(EngineOptions{backend, nullptr, false, nullptr});
  CompileResult first = engine.compile(version(1), "gw.pol");
  INFO(first.rendered);
  REQUIRE(first.ok());
  PolicyHandle handle(engine, *first.policy);

  constexpr int kThreads = 6;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> decisions{0}, failures{0}, generations_seen{0};

  std::vector<std::thread> deciders;
  for (int t = 0; t < kThreads; ++t) {
    deciders.emplace_back([&, t] {
      uint64_t last_gen = 0;
      Decision d;
      while (!stop.load(std::memory_order_relaxed)) {
        // Pin a version, build a request for it, decide on it (the pattern hosts use).
        Policy p = handle.current();
        uint64_t gen = handle.generation();
        if (gen != last_gen) {
          ++generations_seen;
          last_gen = gen;
        }
        Request req(p);
        req.set_string(p.slot("tenant"), t % 2 ? "acme" : "globex");
        req.set_enum(p.slot("task"), t % 3 == 0 ? "classify" : "chat");
        handle.decide(p, req, &d);
        ++decisions;
        bool good = !d.denied && d.errors == 0 && d.tag_count == 1 && d.tag(0)[0] == 'v';
        if (good && t % 3 == 0) {
          // The cap names the version: it must be the version whose tag the decision carries.
          good = std::to_string(d.max_out) == d.tag(0).substr(1);
        }
        if (!good) ++failures;
      }
    });
  }

  int ok = 0, rejected = 0;
  for (int i = 2; i < 2 + kReloads; ++i) {
    ReloadResult r =
        i % 2 ? handle.reload(broken(i), "gw.pol") : handle.reload(version(i), "gw.pol");
    if (r.ok) {
      ++ok;
    } else {
      ++rejected;
      CHECK(r.rendered.find("nowhere") != std::string::npos);
      CHECK(r.version_hash == handle.current().version_hash());  // the old one keeps serving
    }
    if (i % 50 == 25) {  // exercise shadow swaps too
      handle.set_candidate(version(i + 1000), "cand.pol");
    }
  }
  // Let the deciders shadow the last candidate before stopping (bounded wait).
  for (int w = 0; w < 500 && handle.shadow_stats().decisions == 0; ++w)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop = true;
  for (auto& th : deciders) th.join();

  INFO("decisions " << decisions << " generations seen " << generations_seen);
  CHECK(ok == kReloads / 2);
  CHECK(rejected == kReloads / 2);
  CHECK(handle.reloads_ok() == static_cast<uint64_t>(ok));
  CHECK(handle.reloads_failed() == static_cast<uint64_t>(rejected));
  CHECK(decisions > 0);
  CHECK(failures == 0);
  CHECK(handle.current().version_hash() ==
        engine.compile(version(kReloads), "x").policy->version_hash());
  ShadowStats st = handle.shadow_stats();
  CHECK(st.active);
  CHECK(st.decisions + st.skipped >= 1);
  CHECK(st.agree + st.differ == st.decisions);
}

}  // namespace

TEST_CASE("policy handle: reload while deciding, zero failed decisions", "[reload][stress]") {
  reload_while_deciding(Backend::Interpreter, 300);  // alternating good and bad: 150 swaps
}

TEST_CASE("policy handle: reload JIT-compiled versions while deciding", "[reload][stress][jit]") {
  // Each good version is JIT-compiled on the reloading thread while the deciders run native code
  // of the previous versions, which must stay mapped until no reader can reach them.
  reload_while_deciding(Backend::Jit, 100);
}

TEST_CASE("policy handle: in-flight admissions keep their version, budgets carry over by name",
          "[reload][stress]") {
  Engine engine(EngineOptions{Backend::Interpreter, nullptr, false, nullptr});
  PolicyHandle handle(engine, *engine.compile(version(7), "gw.pol").policy);
  Ledger& ledger = engine.ledger();
  const int64_t now = 1'763'900'000'000;

  Policy v7 = handle.current();
  Request req(v7);
  req.set_string(v7.slot("tenant"), "acme");
  req.set_enum(v7.slot("task"), "classify");
  req.now_ms = now;
  Admission a = ledger.admit(v7, req, Estimate{1000, 0});
  REQUIRE(a.admitted());
  CHECK(a.decision().max_out == 7);

  REQUIRE(handle.reload(version(8), "gw.pol").ok);
  // The admission still refers to v7 (its route names, its budget infos) and settles fine.
  CHECK(a.policy()->version_hash() == v7.version_hash());
  ledger.record(a, Usage{1000, 7, 0, -1});
  Policy v8 = handle.current();
  REQUIRE(v8.version_hash() != v7.version_hash());
  const BudgetInfo& monthly8 = v8.budgets()[0];
  // Same name, unit and window: v8 reads the spend v7 recorded.
  CHECK(ledger.spent(monthly8, "acme", now) == Approx(1000 * 1e-6 + 7 * 2e-6));
}
