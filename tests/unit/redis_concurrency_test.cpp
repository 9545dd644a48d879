// Two replicas (two Redis ledger backends in one process, each with its own background thread)
// and several threads each, reserving and settling against one small shared budget: the spend
// never passes the limit and Redis ends with exactly what the threads recorded. Run under TSan by
// run.sh (the *_concurrency_test pattern) to check the hot path against the background threads.
#include <atomic>
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/redis_server.h"
#include "tollgate/budget.hpp"
#include "tollgate/ledger.hpp"
#include "tollgate/redis_ledger.hpp"

using namespace tollgate;
using tollgate::testing::RedisServer;

TEST_CASE("redis ledger: threads of two replicas share one budget exactly",
          "[redis][concurrency]") {
  if (testing::skip_without_redis_server("redis ledger concurrency")) return;
  RedisServer server;
  std::string error;
  REQUIRE(server.start(&error));
  std::vector<std::unique_ptr<RedisLedgerBackend>> replicas;
  for (int r = 0; r < 2; ++r) {
    RedisLedgerOptions o;
    o.url = server.url();
    o.key_prefix = "t:";
    o.replica_id = "replica-" + std::to_string(r);
    o.slice_fraction = 0.01;  // 40-unit slices: many renewals while the threads run
    o.flush_interval_ms = 10;
    o.admit_wait_ms = 200;
    replicas.push_back(make_redis_backend(o, &error));
    INFO(error);
    REQUIRE(replicas.back());
  }
  const CounterId id{"calls", BudgetUnit::Tokens, BudgetWindow::Day, "acme"};
  const int64_t ws = window_start(BudgetWindow::Day, Ledger::wall_clock_ms());
  constexpr int64_t kLimit = 4000;
  std::atomic<int64_t> used{0}, over{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      RedisLedgerBackend& b = *replicas[t % 2];
      std::mt19937 rng(t);
      for (int i = 0; i < 2500; ++i) {
        const int64_t est = 1 + static_cast<int64_t>(rng() % 5);
        if (b.try_reserve(id, ws, est, kLimit) != ReserveResult::Ok) continue;
        if (b.spent(id, ws) > kLimit) ++over;  // one replica's view alone past the limit
        const int64_t actual = static_cast<int64_t>(rng() % (est + 1));
        if (rng() % 8 == 0) {
          b.add(id, ws, 0, -est);  // released: the call failed before it cost
        } else {
          b.add(id, ws, actual, -est);
          used += actual;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (auto& b : replicas) REQUIRE(b->flush(5000));
  const std::string key = "t:{calls:tokens:day:" + std::to_string(ws) + ":acme}:s";
  const int64_t spent = server.query_int({"HGET", key, "spent"});
  INFO("used " << used.load() << " spent " << spent);
  CHECK(over.load() == 0);
  CHECK(spent == used.load());
  CHECK(spent <= kLimit);
  CHECK(replicas[0]->stats().syncs > 0);
  CHECK(replicas[1]->stats().syncs > 0);
}
