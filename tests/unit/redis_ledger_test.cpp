// Shared budgets across PROCESSES (fork) on one real redis-server: replicas admitting against one
// budget never pass it and the spend in Redis equals what they recorded; killing Redis mid-run
// and restarting it loses no recorded spend (AOF with fsync always, and also without persistence,
// because replicas re-report cumulative totals); a replica that dies holding a lease gives it
// back once the lease expires.
#include "tollgate/redis_ledger.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/redis_server.h"
#include "tollgate/budget.hpp"
#include "tollgate/engine.hpp"
#include "tollgate/ledger.hpp"

using namespace tollgate;
using tollgate::testing::RedisServer;

namespace {

constexpr int kOut = 6;  // int64 results a child sends back

struct Child {
  pid_t pid = -1;
  int fd = -1;
};

// Runs f in a forked process. f fills out[] and returns the exit code. The child never returns
// into Catch (it _exits), and creates its own backend (threads do not survive fork).
Child run_child(const std::function<int(int64_t*)>& f) {
  int p[2];
  REQUIRE(pipe(p) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(p[0]);
    int64_t out[kOut] = {};
    int rc = 1;
    try {
      rc = f(out);
    } catch (...) {
      rc = 3;
    }
    ssize_t n = write(p[1], out, sizeof(out));
    _exit(n == sizeof(out) ? rc : 4);
  }
  close(p[1]);
  return {pid, p[0]};
}

// Reads the child's results and waits for it; false unless it exited with status 0.
bool join(Child& c, int64_t* out) {
  size_t got = 0;
  char* dst = reinterpret_cast<char*>(out);
  while (got < sizeof(int64_t) * kOut) {
    ssize_t n = read(c.fd, dst + got, sizeof(int64_t) * kOut - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(c.fd);
  int status = 0;
  waitpid(c.pid, &status, 0);
  return got == sizeof(int64_t) * kOut && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

RedisLedgerOptions replica_options(const RedisServer& server, const std::string& name) {
  RedisLedgerOptions o;
  o.url = server.url();
  o.key_prefix = "t:";
  o.replica_id = name;
  o.flush_interval_ms = 20;
  o.lease_ttl_ms = 3000;
  o.idle_return_ms = 300;
  o.admit_wait_ms = 300;
  return o;
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

const CounterId kTokens{"toks", BudgetUnit::Tokens, BudgetWindow::Day, "acme"};

std::string key_of(int64_t ws, const char* suffix) {
  return "t:{toks:tokens:day:" + std::to_string(ws) + ":acme}:" + suffix;
}

// Sum of the live leases in a lease hash ("held:expiry" values).
int64_t leased(const RedisServer& server, int64_t ws) {
  std::string vals;
  if (!server.query({"HVALS", key_of(ws, "l")}, &vals)) return 0;
  int64_t sum = 0;
  size_t pos = 0;
  while (pos < vals.size()) {
    size_t nl = vals.find('\n', pos);
    if (nl == std::string::npos) nl = vals.size();
    sum += std::strtoll(vals.substr(pos, nl - pos).c_str(), nullptr, 10);
    pos = nl + 1;
  }
  return sum;
}

}  // namespace

TEST_CASE("replicas in separate processes never pass a shared budget and the spend is exact",
          "[redis][replicas]") {
  if (testing::skip_without_redis_server("replicas share a budget")) return;
  RedisServer server;
  std::string error;
  REQUIRE(server.start(&error));
  const int64_t ws = window_start(BudgetWindow::Day, Ledger::wall_clock_ms());
  constexpr int kProcs = 4;
  constexpr int64_t kLimit = 3000;
  constexpr int64_t kEstimate = 5;

  std::vector<Child> children;
  for (int i = 0; i < kProcs; ++i) {
    children.push_back(run_child([&, i](int64_t* out) {
      std::string err;
      auto b = make_redis_backend(replica_options(server, "p" + std::to_string(i)), &err);
      if (!b) return 2;
      std::mt19937 rng(i);
      int64_t admitted = 0, used = 0, unavailable = 0;
      int64_t denied_since = 0;
      const int64_t end = now_ms() + 8000;
      while (now_ms() < end) {
        ReserveResult r = b->try_reserve(kTokens, ws, kEstimate, kLimit);
        if (r == ReserveResult::Ok) {
          int64_t actual = 1 + static_cast<int64_t>(rng() % kEstimate);
          b->add(kTokens, ws, actual, -kEstimate);
          ++admitted;
          used += actual;
          denied_since = 0;
          continue;
        }
        if (r == ReserveResult::Unavailable) ++unavailable;
        if (denied_since == 0) denied_since = now_ms();
        if (now_ms() - denied_since > 1000) break;  // exhausted for a second: done
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      out[0] = admitted;
      out[1] = used;
      out[2] = b->flush(5000) ? 1 : 0;
      out[3] = unavailable;
      out[4] = static_cast<int64_t>(b->stats().syncs);
      return 0;
    }));
  }
  // While they run: spent plus the live leases never pass the limit.
  int64_t worst = 0;
  for (int i = 0; i < 200; ++i) {
    int64_t spent = server.query_int({"HGET", key_of(ws, "s"), "spent"}, 0);
    worst = std::max(worst, spent + leased(server, ws));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  int64_t admitted = 0, used = 0, syncs = 0;
  for (Child& c : children) {
    int64_t out[kOut];
    REQUIRE(join(c, out));
    CHECK(out[2] == 1);  // every replica's usage reached Redis
    admitted += out[0];
    used += out[1];
    syncs += out[4];
  }
  const int64_t spent = server.query_int({"HGET", key_of(ws, "s"), "spent"});
  INFO("admitted " << admitted << " used " << used << " spent " << spent << " syncs " << syncs
                   << " worst spent+leases " << worst);
  CHECK(worst <= kLimit);
  CHECK(spent == used);  // exact: nothing lost, nothing counted twice
  CHECK(spent <= kLimit);
  // Near the limit, what stays unused is at most one estimate per replica (a lease remainder
  // smaller than a reservation).
  CHECK(spent >= kLimit - kProcs * kEstimate);
  CHECK(syncs < admitted / 2);     // admits are served from leases, not one Redis call each
  CHECK(leased(server, ws) == 0);  // replicas returned their leases on shutdown
}

namespace {

// Replicas record usage on a `fail open` budget while Redis is killed and restarted.
void restart_run(bool appendonly) {
  RedisServer server(RedisServer::Options{appendonly});
  std::string error;
  REQUIRE(server.start(&error));
  const int64_t ws = window_start(BudgetWindow::Day, Ledger::wall_clock_ms());
  constexpr int kProcs = 3;
  constexpr int64_t kLimit = 1'000'000'000;
  std::vector<Child> children;
  for (int i = 0; i < kProcs; ++i) {
    children.push_back(run_child([&, i](int64_t* out) {
      // A host that does not ignore SIGPIPE must survive writes to a killed Redis.
      signal(SIGPIPE, SIG_DFL);
      std::string err;
      RedisLedgerOptions o = replica_options(server, "r" + std::to_string(i));
      o.command_timeout_ms = 100;
      o.lease_ttl_ms = 1500;        // the outage outlives the lease: admits go on beyond it
      o.slice_fraction = 0.000001;  // 1000-token slices
      auto b = make_redis_backend(o, &err);
      if (!b) return 2;
      std::mt19937 rng(100 + i);
      int64_t used = 0, overdraft = 0;
      const int64_t end = now_ms() + 4200;
      while (now_ms() < end) {
        const int64_t est = 20;
        ReserveResult r = b->try_reserve(kTokens, ws, est, kLimit);
        if (r == ReserveResult::Exceeded) return 5;  // cannot happen under this limit
        if (r == ReserveResult::Unavailable) {
          b->add(kTokens, ws, 0, est);  // fail open: Ledger reserves beyond the lease
          ++overdraft;
        }
        int64_t actual = 1 + static_cast<int64_t>(rng() % est);
        b->add(kTokens, ws, actual, -est);
        used += actual;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      const bool flushed = b->flush(10'000);  // retries until Redis is back
      out[0] = used;
      out[1] = flushed ? 1 : 0;
      out[2] = overdraft;
      out[3] = static_cast<int64_t>(b->stats().reconnects);
      return 0;
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  const int64_t before = server.query_int({"HGET", key_of(ws, "s"), "spent"}, 0);
  server.kill();  // SIGKILL: no shutdown save
  // Longer than the leases' validity (1500 - 150 ms): admits go on beyond the voided leases.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  REQUIRE(server.start(&error));
  int64_t used = 0, overdraft = 0, reconnects = 0;
  bool all_flushed = true;
  for (Child& c : children) {
    int64_t out[kOut];
    REQUIRE(join(c, out));
    used += out[0];
    all_flushed = all_flushed && out[1] == 1;
    overdraft += out[2];
    reconnects += out[3];
  }
  const int64_t spent = server.query_int({"HGET", key_of(ws, "s"), "spent"});
  INFO("spent before the kill " << before << ", recorded " << used << ", in Redis " << spent
                                << ", overdraft admits " << overdraft << ", reconnects "
                                << reconnects);
  CHECK(before > 0);
  CHECK(all_flushed);
  CHECK(reconnects >= 2 * kProcs);  // each replica lost Redis and came back
  CHECK(overdraft > 0);             // admits went on beyond the voided leases during the outage
  CHECK(spent == used);
}

}  // namespace

TEST_CASE("Redis killed and restarted mid-run (AOF, fsync always) loses no recorded spend",
          "[redis][replicas]") {
  if (testing::skip_without_redis_server("redis restart with AOF")) return;
  restart_run(true);
}

TEST_CASE("Redis restarted empty mid-run: replicas re-report their totals, nothing lost",
          "[redis][replicas]") {
  if (testing::skip_without_redis_server("redis restart without persistence")) return;
  restart_run(false);
}

TEST_CASE("a replica that dies holding a lease gives it back when the lease expires",
          "[redis][replicas]") {
  if (testing::skip_without_redis_server("dead replica lease")) return;
  RedisServer server;
  std::string error;
  REQUIRE(server.start(&error));
  const int64_t ws = window_start(BudgetWindow::Day, Ledger::wall_clock_ms());
  constexpr int64_t kLimit = 100;
  constexpr int kTtl = 1500;

  int ready[2];
  REQUIRE(pipe(ready) == 0);
  Child dying = run_child([&](int64_t*) {
    close(ready[0]);
    RedisLedgerOptions o = replica_options(server, "dying");
    o.slice_fraction = 0.5;
    o.lease_ttl_ms = kTtl;
    std::string err;
    auto b = make_redis_backend(o, &err);
    if (!b || b->try_reserve(kTokens, ws, 1, kLimit) != ReserveResult::Ok) return 2;
    b->add(kTokens, ws, 1, -1);
    if (!b->flush(2000)) return 3;
    char c = 'r';
    if (write(ready[1], &c, 1) != 1) return 4;
    pause();  // killed here, lease open
    return 0;
  });
  close(ready[1]);
  char c = 0;
  REQUIRE(read(ready[0], &c, 1) == 1);
  close(ready[0]);
  const int64_t held_by_dead = leased(server, ws);
  kill(dying.pid, SIGKILL);
  int status = 0;
  waitpid(dying.pid, &status, 0);
  close(dying.fd);
  REQUIRE(held_by_dead >= 40);

  RedisLedgerOptions o = replica_options(server, "survivor");
  o.slice_fraction = 1.0;
  o.lease_ttl_ms = kTtl;
  auto b = make_redis_backend(o, &error);
  REQUIRE(b);
  auto admit_all = [&] {
    int64_t n = 0, denied_since = 0;
    while (true) {
      if (b->try_reserve(kTokens, ws, 1, kLimit) == ReserveResult::Ok) {
        b->add(kTokens, ws, 1, -1);
        ++n;
        denied_since = 0;
        continue;
      }
      if (denied_since == 0) denied_since = now_ms();
      if (now_ms() - denied_since > 300) return n;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  const int64_t first = admit_all();
  // The dead replica's lease is still live: only what it did not lease (nor spend) is available.
  CHECK(first == kLimit - 1 - held_by_dead);
  std::this_thread::sleep_for(std::chrono::milliseconds(kTtl + 200));
  const int64_t second = admit_all();
  CHECK(second == held_by_dead);  // back to the pool after its TTL
  REQUIRE(b->flush(2000));
  CHECK(server.query_int({"HGET", key_of(ws, "s"), "spent"}) == kLimit);
}

namespace {

// Three budgets read by a rule, so Ledger::admit reserves against all of them: `calls` binds.
const char* kSharedPolicy = R"(policy shared
input {
  tenant: string
  in_tokens: int = 100
}
routes {
  cheap = "test-model" in $1/M out $2/M
}
budget spend = $5 usd per tenant per day
budget calls = 60 requests per tenant per day fail closed
budget burst = 1M requests per day fail open
if spend.ratio > 2.0 and calls.spent < 0 and burst.spent < 0   deny "never"
default route cheap max_out 100
)";

}  // namespace

TEST_CASE("processes admitting through Ledger::admit share per-tenant budgets exactly",
          "[redis][replicas]") {
  if (testing::skip_without_redis_server("Ledger::admit across processes")) return;
  RedisServer server;
  std::string error;
  REQUIRE(server.start(&error));
  constexpr int kProcs = 3;
  std::vector<Child> children;
  for (int i = 0; i < kProcs; ++i) {
    children.push_back(run_child([&, i](int64_t* out) {
      Engine engine(EngineOptions{Backend::Interpreter, nullptr, false, nullptr});
      CompileResult cr = engine.compile(kSharedPolicy, "shared.pol");
      if (!cr.ok()) return 2;
      const Policy policy = *cr.policy;
      std::string err;
      auto backend = make_redis_backend(replica_options(server, "g" + std::to_string(i)), &err);
      if (!backend) return 3;
      RedisLedgerBackend* rb = backend.get();
      Ledger ledger(std::move(backend));
      Request req(policy);
      if (req.set_string(policy.slot("tenant"), "acme") != Status::Ok) return 4;
      std::mt19937 rng(7 + i);
      Admission a;
      int64_t admitted = 0, usd_units = 0, wrong_reason = 0, denied_since = 0;
      while (true) {
        ledger.admit(policy, req, Estimate{100, 4096}, &a);
        if (a.admitted()) {
          const double cost = static_cast<double>(1 + rng() % 100) * 1e-6;
          ledger.record(a, Usage{100, 50, 0, cost});
          usd_units += to_units(BudgetUnit::Usd, cost);
          ++admitted;
          denied_since = 0;
          continue;
        }
        if (a.reason() != "budget calls exhausted") ++wrong_reason;
        if (denied_since == 0) denied_since = now_ms();
        if (now_ms() - denied_since > 1000) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      out[0] = admitted;
      out[1] = usd_units;
      out[2] = wrong_reason;
      out[3] = rb->flush(5000) ? 1 : 0;
      return 0;
    }));
  }
  int64_t admitted = 0, usd_units = 0;
  for (Child& c : children) {
    int64_t out[kOut];
    REQUIRE(join(c, out));
    CHECK(out[2] == 0);  // denials name the shared budget
    CHECK(out[3] == 1);
    admitted += out[0];
    usd_units += out[1];
  }
  const int64_t ws = window_start(BudgetWindow::Day, Ledger::wall_clock_ms());
  const std::string day = std::to_string(ws);
  // One-request reservations leave nothing stranded: exactly the limit, across processes.
  CHECK(admitted == 60);
  CHECK(server.query_int({"HGET", "t:{calls:requests:day:" + day + ":acme}:s", "spent"}) == 60);
  CHECK(server.query_int({"HGET", "t:{spend:usd:day:" + day + ":acme}:s", "spent"}) == usd_units);
  CHECK(server.query_int({"HGET", "t:{burst:requests:day:" + day + ":}:s", "spent"}) == 60);
}
