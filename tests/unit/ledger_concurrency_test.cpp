// Concurrency of the budget Ledger: many threads reserving and settling against one small budget
// must never pass its limit (reservations are an atomic check-and-add) and must lose no increment
// (the settled total equals the sum of what the threads recorded). Built under TSan by run.sh tsan.
#include <atomic>
#include <catch2/catch.hpp>
#include <random>
#include <thread>
#include <vector>

#include "tollgate/engine.hpp"
#include "tollgate/ledger.hpp"

using namespace tollgate;

namespace {

constexpr int kThreads = 8;

// One budget, read by a rule so admit() reserves against it. Estimate per call: 1000 input
// tokens at $1/M + max_out 100 at $2/M = $0.0012; the limit admits 41 of them.
const char* kPolicy = R"(policy small
input {
  tenant: string
  in_tokens: int = 1000
}
routes {
  cheap = "test-model" in $1/M out $2/M
}
budget spend = $0.05 usd per tenant per day
budget calls = 10k requests per day
budget toks  = 10M tokens per tenant per day
if spend.ratio > 2.0 and calls.spent < 0 and toks.spent < 0   deny "never"
default route cheap max_out 100
)";

}  // namespace

TEST_CASE("memory backend: concurrent reservations never pass the limit, totals exact",
          "[ledger][concurrency]") {
  auto backend = make_memory_backend();
  const CounterId id{"b", BudgetUnit::Tokens, BudgetWindow::Day, "k"};
  const int64_t ws = 1000;
  const int64_t limit = 5000;
  std::atomic<int64_t> committed{0};
  std::atomic<int64_t> max_seen{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < 4000; ++i) {
        int64_t est = 1 + rng() % 50;
        if (backend->try_reserve(id, ws, est, limit) != ReserveResult::Ok) continue;
        int64_t now = backend->spent(id, ws);
        int64_t prev = max_seen.load();
        while (now > prev && !max_seen.compare_exchange_weak(prev, now)) {
        }
        if (rng() % 4 == 0) {
          backend->add(id, ws, 0, -est);  // released
        } else {
          int64_t actual = rng() % (est + 1);
          backend->add(id, ws, actual, -est);
          committed += actual;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(max_seen.load() <= limit);
  CHECK(backend->spent(id, ws) == committed.load());
  std::vector<CounterEntry> entries;
  backend->entries(&entries);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].reserved == 0);
  CHECK(entries[0].committed == committed.load());
  CHECK(entries[0].budget == "b");
  CHECK(entries[0].key == "k");
}

TEST_CASE("ledger: admit/record from many threads against one small budget",
          "[ledger][concurrency]") {
  Engine engine(EngineOptions{Backend::Interpreter, nullptr, false, nullptr});
  CompileResult cr = engine.compile(kPolicy, "small.pol");
  INFO(cr.rendered);
  REQUIRE(cr.ok());
  const Policy policy = *cr.policy;
  REQUIRE(policy.budgets_read().size() == 3);

  Ledger ledger;
  const int64_t now = 1'763'900'000'000;  // fixed, so the test cannot straddle a day boundary
  std::atomic<int> admitted{0}, denied{0};
  std::atomic<int64_t> recorded_units{0}, recorded_tokens{0}, recorded_calls{0};
  std::atomic<int64_t> max_spent_units{0};
  const BudgetInfo& spend = policy.budgets()[0];
  REQUIRE(spend.name == "spend");

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(100 + t);
      Request req(policy);
      REQUIRE(req.set_string(policy.slot("tenant"), "acme") == Status::Ok);
      req.now_ms = now;
      Admission a;
      for (int i = 0; i < 300; ++i) {
        ledger.admit(policy, req, Estimate{1000, 4096}, &a);
        if (!a.admitted()) {
          ++denied;
          CHECK(a.reason() == "budget spend exhausted");
          continue;
        }
        ++admitted;
        CHECK(a.estimated_cost_usd() == Approx(0.0012));
        int64_t s = to_units(BudgetUnit::Usd, ledger.spent(spend, "acme", now));
        int64_t prev = max_spent_units.load();
        while (s > prev && !max_spent_units.compare_exchange_weak(prev, s)) {
        }
        switch (rng() % 3) {
          case 0:
            ledger.release(a);
            break;
          default: {
            // The host enforces max_out, so the actual cost is at most the estimate.
            Usage u{1000, static_cast<int64_t>(rng() % 101), 0, -1};
            double cost = 1000 * 1e-6 + static_cast<double>(u.out_tokens) * 2e-6;
            ledger.record(a, u);
            recorded_units += to_units(BudgetUnit::Usd, cost);
            recorded_tokens += u.in_tokens + u.out_tokens;
            ++recorded_calls;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  const int64_t limit_units = to_units(BudgetUnit::Usd, 0.05);
  const int64_t spent_units = to_units(BudgetUnit::Usd, ledger.spent(spend, "acme", now));
  INFO("admitted " << admitted << " denied " << denied << " spent " << spent_units);
  CHECK(admitted > 0);
  CHECK(denied > 0);
  CHECK(max_spent_units.load() <= limit_units);  // reservations included: never over
  CHECK(spent_units <= limit_units);
  // No lost increments: exact integer totals in every budget.
  std::vector<CounterEntry> entries;
  ledger.backend().entries(&entries);
  int found = 0;
  for (const CounterEntry& e : entries) {
    CHECK(e.reserved == 0);
    int64_t expected = e.budget == "spend"  ? recorded_units.load()
                       : e.budget == "toks" ? recorded_tokens.load()
                                            : recorded_calls.load();
    CHECK(e.committed == expected);
    ++found;
  }
  CHECK(found == 3);
}

TEST_CASE("ledger: many keys and budgets in parallel keep exact per-key totals",
          "[ledger][concurrency]") {
  Ledger ledger;
  BudgetInfo b;
  b.name = "m";
  b.unit = BudgetUnit::Usd;
  b.window = BudgetWindow::Month;
  const int64_t now = 1'763'900'000'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        std::string key = "tenant-" + std::to_string(i % 97);
        ledger.add(b, key, now, 0.001);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int k = 0; k < 97; ++k) {
    std::string key = "tenant-" + std::to_string(k);
    int64_t per_thread = 20000 / 97 + (k < 20000 % 97 ? 1 : 0);
    CHECK(to_units(BudgetUnit::Usd, ledger.spent(b, key, now)) ==
          kThreads * per_thread * 1'000'000);
  }
}
