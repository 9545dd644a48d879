// The budget Ledger, single-threaded: windows, reservations and settlement, denial reasons,
// snapshots (restore, expiry, bad files) and the backend seam (an unreachable store + fail mode).
#include "tollgate/ledger.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tollgate/engine.hpp"

using namespace tollgate;

namespace {

const int64_t kNow = 1'763'900'000'000;  // 2025-11-23 12:13:20 UTC

const char* kPolicy = R"(policy p
input {
  user: string
  in_tokens: int = 1000
  blocked: bool = false
}
routes {
  cheap = "m" in $1/M out $2/M
  free = "self" self_hosted
}
budget daily = $0.01 usd per user per day
budget calls = 3 requests per user per minute fail open
if blocked deny "blocked by rule"
if daily.spent < 0 or calls.spent < 0 route free
default route cheap max_out 100
)";

Policy compile(Engine& e, const char* src = kPolicy) {
  CompileResult r = e.compile(src, "p.pol");
  INFO(r.rendered);
  REQUIRE(r.ok());
  return *r.policy;
}

std::string temp_path(const char* name) {
  return std::string("/tmp/tollgate_ledger_test_") + name + ".json";
}

// A store that is down: every reservation is Unavailable.
class DownBackend final : public LedgerBackend {
 public:
  int64_t spent(const CounterId&, int64_t) const override { return 0; }
  ReserveResult try_reserve(const CounterId&, int64_t, int64_t, int64_t) override {
    return ReserveResult::Unavailable;
  }
  void add(const CounterId&, int64_t, int64_t committed_delta, int64_t) override {
    committed += committed_delta;
  }
  void entries(std::vector<CounterEntry>*) const override {}
  size_t drop_expired(int64_t) override { return 0; }
  const char* name() const override { return "down"; }
  int64_t committed = 0;  // usage charged while down, to be reconciled later
};

}  // namespace

TEST_CASE("ledger: units are exact fixed point", "[ledger]") {
  CHECK(to_units(BudgetUnit::Usd, 0.000001) == 1000);
  CHECK(to_units(BudgetUnit::Tokens, 12.4) == 12);
  CHECK(from_units(BudgetUnit::Usd, 1'500'000'000) == 1.5);
  CHECK(to_units(BudgetUnit::Usd, 1e300) == INT64_MAX);
}

TEST_CASE("ledger: counters are per window, a new window starts at zero", "[ledger]") {
  Ledger l;
  BudgetInfo b{"m", BudgetUnit::Usd, BudgetWindow::Minute, FailMode::Closed, 0};
  l.add(b, "k", kNow, 1.25);
  CHECK(l.spent(b, "k", kNow) == 1.25);
  CHECK(l.spent(b, "other", kNow) == 0);
  CHECK(l.spent(b, "k", kNow + 60'000) == 0);  // next minute
  l.add(b, "k", kNow + 60'000, 0.5);           // rolls the counter forward
  CHECK(l.spent(b, "k", kNow + 60'000) == 0.5);
  l.add(b, "k", kNow, 9);  // a late write to the ended window is ignored
  CHECK(l.spent(b, "k", kNow + 60'000) == 0.5);
  // Same name, another unit or window: a different counter (reloads cannot mix amounts).
  BudgetInfo t{"m", BudgetUnit::Tokens, BudgetWindow::Minute, FailMode::Closed, 0};
  CHECK(l.spent(t, "k", kNow + 60'000) == 0);
}

TEST_CASE("ledger: admit reserves, record settles, release returns", "[ledger]") {
  Engine e(EngineOptions{Backend::Interpreter, nullptr, false, nullptr});
  Policy p = compile(e);
  Ledger l;
  Request req(p);
  req.set_string(p.slot("user"), "u1");
  req.now_ms = kNow;
  const BudgetInfo& daily = p.budgets()[0];
  const BudgetInfo& calls = p.budgets()[1];

  Admission a = l.admit(p, req, Estimate{1000, 4096});
  REQUIRE(a.admitted());
  CHECK(a.pending());
  CHECK(a.reason().empty());
  // 1000 in at $1/M + max_out 100 at $2/M.
  CHECK(a.estimated_cost_usd() == Approx(0.0012));
  CHECK(a.estimated_tokens() == 1100);
  CHECK(l.spent(daily, "u1", kNow) == Approx(0.0012));  // reserved counts as spent
  CHECK(l.spent(calls, "u1", kNow) == 1);

  l.record(a, Usage{1000, 50, 400, -1});  // 600 at $1/M + 400 cached at cache-read + 50 at $2/M
  CHECK_FALSE(a.pending());
  const RouteInfo& cheap = p.routes()[0];
  double expected = 600e-6 + 400 * cheap.cache_read_per_token + 50 * 2e-6;
  CHECK(l.spent(daily, "u1", kNow) == Approx(expected));
  l.record(a, Usage{1000, 50, 0, -1});  // a second settle is a no-op
  CHECK(l.spent(daily, "u1", kNow) == Approx(expected));

  Admission b = l.admit(p, req, Estimate{1000, 4096});
  REQUIRE(b.admitted());
  l.release(b);
  CHECK(l.spent(daily, "u1", kNow) == Approx(expected));
  CHECK(l.spent(calls, "u1", kNow) == 1);

  {  // RAII: an admission dropped without record/release returns its reservation
    Admission c = l.admit(p, req, Estimate{1000, 4096});
    REQUIRE(c.pending());
    CHECK(l.spent(calls, "u1", kNow) == 2);
  }
  CHECK(l.spent(calls, "u1", kNow) == 1);

  // An explicit cost overrides the route's prices.
  Admission d = l.admit(p, req, Estimate{10, 0});
  REQUIRE(d.admitted());
  l.record(d, Usage{10, 10, 0, 0.005});
  CHECK(l.spent(daily, "u1", kNow) == Approx(expected + 0.005));
}

TEST_CASE("ledger: denials name the policy's reason or the exhausted budget", "[ledger]") {
  Engine e(EngineOptions{Backend::Interpreter, nullptr, false, nullptr});
  Policy p = compile(e);
  Ledger l;
  Request req(p);
  req.set_string(p.slot("user"), "u2");
  req.now_ms = kNow;

  req.set_bool(p.slot("blocked"), true);
  Admission a = l.admit(p, req, Estimate{1000, 0});
  CHECK_FALSE(a.admitted());
  CHECK_FALSE(a.pending());
  CHECK(a.reason() == "blocked by rule");
  CHECK(a.exhausted_budget() == -1);
  req.set_bool(p.slot("blocked"), false);

  // $0.01 / $0.0012 per call: 8 fit, but calls = 3 per minute stops it first.
  std::vector<Admission> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(l.admit(p, req, Estimate{1000, 0}));
    REQUIRE(held.back().admitted());
  }
  Admission over = l.admit(p, req, Estimate{1000, 0});
  CHECK_FALSE(over.admitted());
  CHECK(over.reason() == "budget calls exhausted");
  CHECK(over.exhausted_budget() == 1);
  // The failed admission returned its daily reservation: only the 3 held remain.
  CHECK(l.spent(p.budgets()[0], "u2", kNow) == Approx(3 * 0.0012));

  // The next minute has room again; the day budget then runs out.
  req.now_ms = kNow + 60'000;
  for (auto& h : held) l.record(h, Usage{1000, 100, 0, -1});
  int admitted = 0;
  std::string reason;
  for (int m = 1; m < 10; ++m) {
    req.now_ms = kNow + m * 60'000;
    Admission x = l.admit(p, req, Estimate{1000, 0});
    if (!x.admitted()) {
      reason = std::string(x.reason());
      break;
    }
    ++admitted;
    l.record(x, Usage{1000, 100, 0, -1});
  }
  CHECK(reason == "budget daily exhausted");
  CHECK(admitted == 5);  // 3 + 5 calls of $0.0012 = $0.0096; a 9th would pass $0.01
}

TEST_CASE("ledger: an unreachable store follows each budget's fail mode", "[ledger]") {
  Engine e(EngineOptions{Backend::Interpreter, nullptr, false, nullptr});
  Policy p = compile(e);
  auto down = std::make_unique<DownBackend>();
  DownBackend* store = down.get();
  Ledger l(std::move(down));
  CHECK(std::string(l.backend().name()) == "down");
  Request req(p);
  req.set_string(p.slot("user"), "u3");
  req.now_ms = kNow;
  Admission a = l.admit(p, req, Estimate{1000, 0});
  // daily is fail closed (the default): denied although calls (fail open) would pass.
  CHECK_FALSE(a.admitted());
  CHECK(a.reason() == "budget daily unavailable");

  const char* open_only = R"(policy q
input { user: string }
routes { cheap = "m" in $1/M out $2/M }
budget calls = 3 requests per user per minute fail open
if calls.spent < 0 deny "x"
default route cheap max_out 10
)";
  Policy q = compile(e, open_only);
  Request rq(q);
  rq.set_string(q.slot("user"), "u3");
  Admission b = l.admit(q, rq, Estimate{10, 0});
  CHECK(b.admitted());
  // Fail open still charges what the call used, so it can be reconciled when the store is back.
  l.record(b, Usage{10, 5, 0, -1});
  CHECK(store->committed == to_units(BudgetUnit::Requests, 1));
}

TEST_CASE("ledger: snapshots restore this window's spend and drop ended windows", "[ledger]") {
  const std::string path = temp_path("snap");
  BudgetInfo month{"monthly", BudgetUnit::Usd, BudgetWindow::Month, FailMode::Closed, 0};
  BudgetInfo minute{"tpm", BudgetUnit::Tokens, BudgetWindow::Minute, FailMode::Open, 0};
  BudgetInfo global{"all", BudgetUnit::Requests, BudgetWindow::Day, FailMode::Closed, -1};
  {
    Ledger l;
    l.add(month, "acme", kNow, 12.5);
    l.add(month, "globex \"quoted\"\n", kNow, 0.000123);
    l.add(minute, "acme", kNow, 5000);
    l.add(global, "", kNow, 42);
    std::string err;
    REQUIRE(l.save(path, &err));
    auto doc = nlohmann::json::parse(std::ifstream(path));
    CHECK(doc["format"] == "tollgate-ledger");
    CHECK(doc["version"] == 1);
    CHECK(doc["counters"].size() == 4);
  }
  {  // Five minutes later: the minute counter has expired, the month and day ones are restored.
    Ledger l;
    LedgerLoadStats st;
    std::string err;
    REQUIRE(l.load(path, kNow + 5 * 60'000, &st, &err));
    CHECK(st.restored == 3);
    CHECK(st.expired == 1);
    CHECK(l.spent(month, "acme", kNow) == 12.5);
    CHECK(l.spent(month, "globex \"quoted\"\n", kNow) == 0.000123);
    CHECK(l.spent(global, "", kNow) == 42);
    CHECK(l.spent(minute, "acme", kNow) == 0);
  }
  {  // Bad files change nothing and say why.
    Ledger l;
    std::string err;
    CHECK_FALSE(l.load("/nonexistent/ledger.json", kNow, nullptr, &err));
    CHECK(err.find("cannot open") != std::string::npos);
    std::ofstream(path) << R"({"format":"tollgate-ledger","version":99,"counters":[]})";
    CHECK_FALSE(l.load(path, kNow, nullptr, &err));
    CHECK(err.find("version 99") != std::string::npos);
    std::ofstream(path) << "{not json";
    CHECK_FALSE(l.load(path, kNow, nullptr, &err));
  }
  std::remove(path.c_str());
}

TEST_CASE("ledger: drop_expired removes ended windows only", "[ledger]") {
  Ledger l;
  BudgetInfo minute{"tpm", BudgetUnit::Tokens, BudgetWindow::Minute, FailMode::Open, 0};
  BudgetInfo month{"monthly", BudgetUnit::Usd, BudgetWindow::Month, FailMode::Closed, 0};
  l.add(minute, "a", kNow, 10);
  l.add(month, "a", kNow, 1);
  CHECK(l.drop_expired(kNow) == 0);
  CHECK(l.drop_expired(kNow + 120'000) == 1);
  std::vector<CounterEntry> left;
  l.backend().entries(&left);
  REQUIRE(left.size() == 1);
  CHECK(left[0].budget == "monthly");
}

TEST_CASE("ledger: an engine reads and admits against the ledger its options give", "[ledger]") {
  auto shared = std::make_shared<Ledger>();
  EngineOptions options;
  options.backend = Backend::Interpreter;
  options.ledger = shared;
  Engine e(options);
  CHECK(&e.ledger() == shared.get());
  Engine fresh(EngineOptions{Backend::Interpreter, nullptr, false, nullptr});
  CHECK(&fresh.ledger() != shared.get());
}
