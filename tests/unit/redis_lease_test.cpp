// The Redis LedgerBackend in one process against a real redis-server: admits come from a local
// lease (no Redis round trip per admit), usage is reported exactly, an exhausted budget denies,
// and when Redis is unreachable a lease is used up (fail closed) or overdrawn (fail open), voided
// once Redis can no longer vouch for it, and the usage is written back when Redis returns.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "tests/support/redis_server.h"
#include "tollgate/budget.hpp"
#include "tollgate/engine.hpp"
#include "tollgate/ledger.hpp"
#include "tollgate/redis_ledger.hpp"

using namespace tollgate;
using tollgate::testing::RedisServer;

namespace {

RedisLedgerOptions options_for(const RedisServer& server) {
  RedisLedgerOptions o;
  o.url = server.url();
  o.key_prefix = "t:";
  o.replica_id = "test";
  o.flush_interval_ms = 20;
  o.lease_ttl_ms = 3000;
  o.admit_wait_ms = 500;
  return o;
}

std::unique_ptr<RedisLedgerBackend> make(const RedisLedgerOptions& o) {
  std::string error;
  auto b = make_redis_backend(o, &error);
  INFO(error);
  REQUIRE(b);
  return b;
}

const CounterId kCalls{"calls", BudgetUnit::Requests, BudgetWindow::Day, "acme"};

int64_t today() {
  return window_start(BudgetWindow::Day, Ledger::wall_clock_ms());
}

std::string state_key(int64_t ws) {
  return "t:{calls:requests:day:" + std::to_string(ws) + ":acme}:s";
}

template <class F>
bool eventually(F f, int timeout_ms = 5000) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return f();
}

}  // namespace

TEST_CASE("redis backend: admits from a local lease, reports usage exactly", "[redis]") {
  if (testing::skip_without_redis_server("redis backend lease")) return;
  RedisServer server;
  std::string error;
  REQUIRE(server.start(&error));
  auto b = make(options_for(server));
  const int64_t ws = today();

  // The first reservation waits for the counter's first lease (one round trip, once).
  REQUIRE(b->try_reserve(kCalls, ws, 1, 100'000) == ReserveResult::Ok);
  b->add(kCalls, ws, 1, -1);
  const uint64_t syncs_before = b->stats().syncs;
  for (int i = 0; i < 1999; ++i) {
    REQUIRE(b->try_reserve(kCalls, ws, 1, 100'000) == ReserveResult::Ok);
    b->add(kCalls, ws, 1, -1);
  }
  // 2000 admits out of 2000-unit slices: Redis sees a sync per flush interval (20 ms) or per
  // slice, never one per admit (the loop takes ~1 ms; the bound leaves room for a loaded machine).
  CHECK(b->stats().syncs - syncs_before < 100);
  CHECK(b->spent(kCalls, ws) == 2000);

  REQUIRE(b->flush(2000));
  CHECK(server.query_int({"HGET", state_key(ws), "spent"}) == 2000);
  // Keys expire after their window (+ slack).
  const int64_t pexpire = server.query_int({"PEXPIRETIME", state_key(ws)});
  CHECK(pexpire == ws + 86'400'000 + RedisLedgerOptions{}.expire_slack_ms);
}

TEST_CASE("redis backend: an exhausted budget denies, its spend never passes the limit",
          "[redis]") {
  if (testing::skip_without_redis_server("redis backend exhausted")) return;
  RedisServer server;
  std::string error;
  REQUIRE(server.start(&error));
  auto b = make(options_for(server));
  const int64_t ws = today();
  int ok = 0;
  for (int i = 0; i < 30; ++i) {
    ReserveResult r = b->try_reserve(kCalls, ws, 1, 10);
    if (r == ReserveResult::Ok) {
      ++ok;
      b->add(kCalls, ws, 1, -1);
    } else {
      CHECK(r == ReserveResult::Exceeded);
    }
  }
  CHECK(ok == 10);
  CHECK(b->try_reserve(kCalls, ws, 20, 10) == ReserveResult::Exceeded);  // larger than the limit
  REQUIRE(b->flush(2000));
  CHECK(server.query_int({"HGET", state_key(ws), "spent"}) == 10);
}

TEST_CASE(
    "redis backend: store down, fail closed uses up the lease then Unavailable, usage "
    "written back on return",
    "[redis]") {
  if (testing::skip_without_redis_server("redis backend outage")) return;
  RedisServer server(RedisServer::Options{true});
  std::string error;
  REQUIRE(server.start(&error));
  RedisLedgerOptions o = options_for(server);
  o.slice_fraction = 0.05;  // 50 of 1000
  o.lease_ttl_ms = 60'000;  // the lease outlives the outage
  auto b = make(o);
  const int64_t ws = today();
  int64_t used = 0;
  for (int i = 0; i < 10; ++i) {
    REQUIRE(b->try_reserve(kCalls, ws, 1, 1000) == ReserveResult::Ok);
    b->add(kCalls, ws, 1, -1);
    ++used;
  }
  REQUIRE(b->flush(2000));

  server.kill();
  REQUIRE(eventually([&] { return !b->stats().connected; }));
  int during = 0;
  ReserveResult r = ReserveResult::Ok;
  for (int i = 0; i < 200 && r == ReserveResult::Ok; ++i) {
    r = b->try_reserve(kCalls, ws, 1, 1000);
    if (r == ReserveResult::Ok) {
      b->add(kCalls, ws, 1, -1);
      ++used;
      ++during;
    }
  }
  // What was left of the lease is used; after that a fail-closed budget is denied (the Ledger
  // turns Unavailable into "budget calls unavailable").
  CHECK(r == ReserveResult::Unavailable);
  CHECK(during > 0);
  CHECK(during <= 50);
  CHECK(b->try_reserve(kCalls, ws, 1, 1000) == ReserveResult::Unavailable);
  // Fail open (what the Ledger does for a `fail open` budget on Unavailable): reserve beyond the
  // lease and keep the usage to reconcile later.
  for (int i = 0; i < 7; ++i) {
    b->add(kCalls, ws, 0, 1);
    b->add(kCalls, ws, 1, -1);
    ++used;
  }
  CHECK(b->spent(kCalls, ws) == used);
  CHECK_FALSE(b->flush(300));  // cannot reach Redis
  CHECK(b->stats().unreported_units > 0);

  REQUIRE(server.start(&error));
  REQUIRE(b->flush(5000));  // reconnects (after its backoff) and reports
  CHECK(server.query_int({"HGET", state_key(ws), "spent"}) == used);
  CHECK(b->stats().unreported_units == 0);
  CHECK(b->try_reserve(kCalls, ws, 1, 1000) == ReserveResult::Ok);
}

TEST_CASE("redis backend: a lease Redis cannot renew is voided before Redis frees it", "[redis]") {
  if (testing::skip_without_redis_server("redis backend lease expiry")) return;
  RedisServer server;
  std::string error;
  REQUIRE(server.start(&error));
  RedisLedgerOptions o = options_for(server);
  o.slice_fraction = 0.5;
  o.lease_ttl_ms = 600;
  o.admit_wait_ms = 0;
  auto b = make(o);
  const int64_t ws = today();
  REQUIRE(eventually([&] { return b->try_reserve(kCalls, ws, 1, 1000) == ReserveResult::Ok; }));
  b->add(kCalls, ws, 0, -1);
  server.kill();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  // Plenty left in the lease, but past its TTL: another replica may own it now.
  CHECK(b->try_reserve(kCalls, ws, 1, 1000) == ReserveResult::Unavailable);
  CHECK(b->stats().leases_voided >= 1);
}

TEST_CASE("redis backend: plugged into the Ledger, budget views read the shared spend", "[redis]") {
  if (testing::skip_without_redis_server("redis backend in Ledger")) return;
  RedisServer server;
  std::string error;
  REQUIRE(server.start(&error));
  const int64_t ws = today();
  BudgetInfo calls;
  calls.name = "calls";
  calls.unit = BudgetUnit::Requests;
  calls.window = BudgetWindow::Day;
  const int64_t now = Ledger::wall_clock_ms();
  {
    Ledger other(make(options_for(server)));
    other.add(calls, "acme", now, 40);
    auto* rb = dynamic_cast<RedisLedgerBackend*>(&other.backend());
    REQUIRE(rb != nullptr);
    REQUIRE(rb->flush(2000));
  }
  Ledger ledger(make(options_for(server)));
  CHECK(std::string(ledger.backend().name()) == "redis");
  // The first read of a counter starts a fetch; the view shows the other replica's spend soon.
  REQUIRE(eventually([&] { return ledger.spent(calls, "acme", now) == 40; }));
  CHECK(server.query_int({"HGET", state_key(ws), "spent"}) == 40);
}

TEST_CASE(
    "redis backend in Ledger::admit: with Redis down, fail closed denies once the lease is "
    "spent, fail open keeps admitting",
    "[redis]") {
  if (testing::skip_without_redis_server("Ledger fail modes")) return;
  // Each policy reads one budget, so admit reserves against that one only.
  auto compile = [](const char* mode) {
    const std::string src = std::string(R"(policy modes
input {
  tenant: string
}
routes {
  cheap = "test-model" in $1/M out $2/M
}
budget calls = 1000 requests per tenant per day )") +
                            mode + R"(
if has(tenant) and calls.ratio > 1.0  deny "never"
default route cheap max_out 10
)";
    Engine engine(EngineOptions{Backend::Interpreter, nullptr, false, nullptr});
    CompileResult cr = engine.compile(src, "modes.pol");
    INFO(cr.rendered);
    REQUIRE(cr.ok());
    return *cr.policy;
  };
  const Policy closed = compile("fail closed");
  const Policy open = compile("fail open");
  RedisServer server;
  std::string error;
  REQUIRE(server.start(&error));
  RedisLedgerOptions o = options_for(server);
  o.slice_fraction = 0.02;  // 20 of 1000
  o.lease_ttl_ms = 60'000;
  Ledger ledger(make(o));
  // Same budget name, different tenants: two counters.
  Request strict(closed), loose(open);
  REQUIRE(strict.set_string(closed.slot("tenant"), "acme") == Status::Ok);
  REQUIRE(loose.set_string(open.slot("tenant"), "globex") == Status::Ok);
  Admission a;
  ledger.admit(closed, strict, Estimate{10, 10}, &a);
  REQUIRE(a.admitted());
  ledger.record(a, Usage{10, 10, 0, -1});
  ledger.admit(open, loose, Estimate{10, 10}, &a);
  REQUIRE(a.admitted());
  ledger.record(a, Usage{10, 10, 0, -1});
  auto* rb = dynamic_cast<RedisLedgerBackend*>(&ledger.backend());
  REQUIRE(rb->flush(2000));

  server.kill();
  REQUIRE(eventually([&] { return !rb->stats().connected; }));
  int closed_ok = 0;
  for (int i = 0; i < 100; ++i) {
    ledger.admit(closed, strict, Estimate{10, 10}, &a);
    if (!a.admitted()) break;
    ledger.record(a, Usage{10, 10, 0, -1});
    ++closed_ok;
  }
  CHECK(closed_ok > 0);    // the rest of the lease
  CHECK(closed_ok <= 20);  // and not one request more
  CHECK_FALSE(a.admitted());
  CHECK(a.reason() == "budget calls unavailable");
  int open_ok = 0;
  for (int i = 0; i < 100; ++i) {
    ledger.admit(open, loose, Estimate{10, 10}, &a);
    if (a.admitted()) ++open_ok;
    ledger.record(a, Usage{10, 10, 0, -1});
  }
  CHECK(open_ok == 100);  // beyond its 20-request lease
}

TEST_CASE("redis backend: an idle replica returns its lease to the pool", "[redis]") {
  if (testing::skip_without_redis_server("redis backend idle return")) return;
  RedisServer server;
  std::string error;
  REQUIRE(server.start(&error));
  RedisLedgerOptions o = options_for(server);
  o.slice_fraction = 0.5;
  o.idle_return_ms = 200;
  auto b = make(o);
  const int64_t ws = today();
  const std::string leases = "t:{calls:requests:day:" + std::to_string(ws) + ":acme}:l";
  REQUIRE(b->try_reserve(kCalls, ws, 1, 100) == ReserveResult::Ok);
  b->add(kCalls, ws, 1, -1);
  std::string held;
  REQUIRE(server.query({"HVALS", leases}, &held));
  CHECK(std::strtoll(held.c_str(), nullptr, 10) >= 49);  // about half the budget, leased
  // Unused for idle_return_ms: the lease goes back (the key disappears with its last lease).
  CHECK(eventually([&] { return server.query_int({"EXISTS", leases}) == 0; }, 3000));
  // And comes back on the next reservation.
  CHECK(b->try_reserve(kCalls, ws, 1, 100) == ReserveResult::Ok);
  b->add(kCalls, ws, 0, -1);
  REQUIRE(b->flush(2000));
  CHECK(server.query_int({"HGET", state_key(ws), "spent"}) == 1);
}
