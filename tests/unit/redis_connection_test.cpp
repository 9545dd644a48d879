// The Redis ledger's plumbing against a real redis-server: URL parsing, the hiredis connection
// wrapper (timeouts, reconnect after a restart) and the sync script's contract (idempotent usage,
// leases never past the limit, expiry of a dead replica's lease).
#include "runtime/src/redis_connection.h"

#include <hiredis/hiredis.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "runtime/src/redis_scripts.h"
#include "tests/support/redis_server.h"
#include "tollgate/redis_ledger.hpp"

using namespace tollgate;
using tollgate::testing::RedisServer;

namespace {

struct Sync {
  int64_t spent, held, room, delta, stale;
};

// Runs the sync script through the wrapper, as the background thread does.
Sync sync(redis::Connection& c, const std::string& sha, const std::string& field, int64_t seq,
          int64_t cum, int64_t want, int64_t limit, int64_t ttl_ms = 60'000,
          int64_t min_grant = 1) {
  const std::string s = std::to_string(seq), cu = std::to_string(cum), w = std::to_string(want),
                    l = std::to_string(limit), t = std::to_string(ttl_ms),
                    m = std::to_string(min_grant);
  redis::Reply r = c.command(
      {"EVALSHA", sha, "2", "t:{c}:s", "t:{c}:l", field, s, cu, w, l, t, "4102444800000", m});
  REQUIRE(r);
  INFO((r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len) : std::string()));
  REQUIRE(r->type == REDIS_REPLY_ARRAY);
  REQUIRE(r->elements == 5);
  return {r->element[0]->integer, r->element[1]->integer, r->element[2]->integer,
          r->element[3]->integer, r->element[4]->integer};
}

std::string load(redis::Connection& c) {
  redis::Reply r = c.command({"SCRIPT", "LOAD", redis::kSyncScript});
  REQUIRE(r);
  REQUIRE(r->type == REDIS_REPLY_STRING);
  return std::string(r->str, r->len);
}

}  // namespace

TEST_CASE("redis URL parsing", "[redis]") {
  redis::Endpoint e;
  std::string query, error;
  REQUIRE(
      redis::parse_endpoint("redis://:secret@cache.internal:6380/2?prefix=x", &e, &query, &error));
  CHECK(e.host == "cache.internal");
  CHECK(e.port == 6380);
  CHECK(e.db == 2);
  CHECK(e.password == "secret");
  CHECK(query == "prefix=x");
  REQUIRE(redis::parse_endpoint("redis://localhost", &e, &query, &error));
  CHECK(e.host == "localhost");
  CHECK(e.port == 6379);
  REQUIRE(redis::parse_endpoint("unix:///run/redis.sock", &e, &query, &error));
  CHECK(e.unix_path == "/run/redis.sock");
  CHECK_FALSE(redis::parse_endpoint("http://x", &e, &query, &error));
  CHECK_FALSE(redis::parse_endpoint("redis://h:99999", &e, &query, &error));

  RedisLedgerOptions o;
  REQUIRE(parse_redis_ledger_url(
      "redis://10.0.0.5:7000/1?prefix=gw%3A&slice=0.05&lease_ttl_ms=3000&timeout_ms=50", &o,
      &error));
  CHECK(o.url == "redis://10.0.0.5:7000/1");
  CHECK(o.key_prefix == "gw:");
  CHECK(o.slice_fraction == Approx(0.05));
  CHECK(o.lease_ttl_ms == 3000);
  CHECK(o.command_timeout_ms == 50);
  CHECK_FALSE(parse_redis_ledger_url("redis://h?bogus=1", &o, &error));
  CHECK(error.find("bogus") != std::string::npos);
  CHECK_FALSE(parse_redis_ledger_url("redis://h?slice=abc", &o, &error));

  std::string err;
  RedisLedgerOptions bad;
  bad.slice_fraction = 0;
  CHECK(make_redis_backend(bad, &err) == nullptr);
  CHECK_FALSE(err.empty());
}

TEST_CASE("redis connection: timeouts and reconnect after a restart", "[redis]") {
  if (testing::skip_without_redis_server("redis connection")) return;
  RedisServer server;
  std::string error;
  REQUIRE(server.start(&error));
  redis::Endpoint e;
  e.port = server.port();
  redis::Connection c(e, 200, 200, 100);
  REQUIRE(c.ensure_connected());
  redis::Reply r = c.command({"SET", "k", "v"});
  REQUIRE(r);
  CHECK(r->type == REDIS_REPLY_STATUS);

  // A server that stops answering: the command times out instead of hanging.
  server.kill();
  auto t0 = std::chrono::steady_clock::now();
  r = c.command({"GET", "k"});
  CHECK_FALSE(r);
  CHECK_FALSE(c.connected());
  // While down, reconnect attempts fail fast (connection refused) and back off.
  CHECK_FALSE(c.ensure_connected());
  CHECK_FALSE(c.ensure_connected());
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));

  REQUIRE(server.start(&error));
  bool back = false;
  for (int i = 0; i < 100 && !back; ++i) {
    back = c.ensure_connected();
    if (!back) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(back);
  CHECK(c.generation() == 2);
  r = c.command({"PING"});
  REQUIRE(r);
  CHECK(std::string(r->str, r->len) == "PONG");
}

TEST_CASE("sync script: usage is idempotent, leases never pass the limit, expired leases free",
          "[redis]") {
  if (testing::skip_without_redis_server("sync script")) return;
  RedisServer server;
  std::string error;
  REQUIRE(server.start(&error));
  redis::Endpoint e;
  e.port = server.port();
  redis::Connection c(e, 500, 500, 100);
  REQUIRE(c.ensure_connected());
  const std::string sha = load(c);

  // Replica a asks for 60 of 100.
  Sync a1 = sync(c, sha, "a", 1, 0, 60, 100);
  CHECK(a1.held == 60);
  CHECK(a1.spent == 0);
  // Replica b wants 60 too: only 40 is left, and near the limit b gets an equal share of what
  // is left per sync, so it converges on the remaining 40 and never more.
  Sync b1 = sync(c, sha, "b", 1, 0, 60, 100);
  CHECK(b1.held == 20);
  int64_t seq = 2;
  Sync b = b1;
  for (int i = 0; i < 20; ++i) {
    b = sync(c, sha, "b", seq++, 0, 60, 100);
    CHECK(b.held <= 40);
  }
  CHECK(b.held == 40);
  CHECK(b.room == 0);
  // The sum of live leases plus spent never passes the limit.
  b = sync(c, sha, "b", seq++, 0, 90, 100);
  CHECK(b.held == 40);

  // a used 25 of its lease: reported as a cumulative total, spent moves once.
  Sync a2 = sync(c, sha, "a", 2, 25, 35, 100);
  CHECK(a2.spent == 25);
  CHECK(a2.delta == 25);
  CHECK(a2.held == 35);
  // The same total again (a retry after a lost reply, under a new sequence) adds nothing.
  Sync a3 = sync(c, sha, "a", 3, 25, 35, 100);
  CHECK(a3.spent == 25);
  CHECK(a3.delta == 0);
  // An older sequence (a reordered retry) changes nothing at all.
  Sync a4 = sync(c, sha, "a", 2, 99, 0, 100);
  CHECK(a4.stale == 1);
  CHECK(server.query_int({"HGET", "t:{c}:s", "spent"}) == 25);
  // Returning: want 0 drops a's lease.
  Sync a5 = sync(c, sha, "a", 4, 25, 0, 100);
  CHECK(a5.held == 0);
  // Now b can get everything that is not spent.
  Sync b4 = sync(c, sha, "b", seq++, 0, 100, 100);
  CHECK(b4.held == 75);

  // A lease whose holder stops renewing expires (Redis clock) and goes back to the pool.
  Sync d1 = sync(c, sha, "d", 1, 0, 10, 1000, /*ttl_ms=*/150);
  CHECK(d1.held == 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  Sync b5 = sync(c, sha, "b", seq++, 0, 100, 1000, 60'000, 1);
  CHECK(b5.room == 1000 - 25 - b5.held);  // d's 10 no longer counted
  std::string fields;
  REQUIRE(server.query({"HKEYS", "t:{c}:l"}, &fields));
  CHECK(fields == "b");

  // Keys expire at the given window end + slack.
  CHECK(server.query_int({"PTTL", "t:{c}:s"}) > 0);
}
