// The reference interpreter against the CONTRACT's semantics, one small policy per rule:
// first match per field, caps, tags, attribution, "no route", on_error, and/or/not absorption,
// overflow, division by zero, unset inputs, budget views, cost(), strings and builtins.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "compiler/eval_support.h"
#include "tests/support/decision_diff.h"
#include "tollgate/tollgate.hpp"

using namespace tollgate;

namespace {

constexpr int64_t kNow = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

Engine& engine() {
  static Engine e([] {
    EngineOptions o;
    o.backend = Backend::Interpreter;
    return o;
  }());
  return e;
}

// Every policy is also compiled by the default (JIT) backend; run() checks that the twin decides
// identically, so these targeted cases double as JIT agreement tests. Keyed by the interpreted
// policy's address, which the entry keeps alive (.first), so the address is never reused by
// another policy while the entry exists.
std::map<const void*, std::pair<Policy, Policy>>& twins() {
  static std::map<const void*, std::pair<Policy, Policy>> m;
  return m;
}

Policy compile(const std::string& src) {
  CompileResult r = engine().compile(src, "test.pol");
  INFO(src);
  INFO(r.rendered);
  REQUIRE(r.ok());
  REQUIRE_FALSE(r.policy->jitted());
  static Engine jit_engine([] {
    EngineOptions o;
    o.wait_for_jit = true;  // the twin must decide on the JIT tier, and no compile outlives main
    return o;
  }());
  CompileResult j = jit_engine.compile(src, "test.pol");
  REQUIRE(j.ok());
  twins().insert_or_assign(&r.policy->impl(), std::make_pair(*r.policy, *j.policy));
  return *r.policy;
}

struct Given {
  const char* name;
  const char* text;
};

class NoBudgets : public BudgetReader {
 public:
  double spent(const BudgetInfo&, std::string_view, int64_t) const override { return 0; }
};

Decision run(const Policy& p, std::initializer_list<Given> givens,
             const BudgetReader* reader = nullptr) {
  static const NoBudgets none;
  auto decide = [&](const Policy& policy) {
    Request req(policy);
    for (const Given& g : givens) {
      INFO(g.name << " = " << g.text);
      REQUIRE(req.set(g.name, g.text) == Status::Ok);
    }
    req.now_ms = kNow;
    Decision d;
    policy.decide(req, reader ? *reader : none, &d);
    return d;
  };
  Decision d = decide(p);
  auto twin = twins().find(&p.impl());
  if (twin != twins().end()) {
    Decision j = decide(twin->second.second);
    INFO("interpreter: " << testing::describe_decision(d));
    INFO("twin (jitted=" << twin->second.second.jitted() << "): " << testing::describe_decision(j));
    CHECK(testing::decision_diff(d, j).empty());
  }
  return d;
}

std::string route_of(const Policy& p, const Decision& d) {
  if (d.denied) return "deny";
  if (d.route < 0) return "none";
  return p.routes()[d.route].name;
}

const char* kRoutes = R"(
routes {
  a = "model-a" in $1/M out $2/M
  b = "model-b" in $3/M out $15/M
}
)";

std::string with_routes(const std::string& body) {
  return body + kRoutes;
}

}  // namespace

TEST_CASE("route: the first firing rule wins, default fires last") {
  Policy p = compile(with_routes(R"(
policy first
input { x: int }
default route b
if x > 5 route a
if x > 0 route b
)"));
  Decision d = run(p, {{"x", "10"}});
  CHECK(route_of(p, d) == "a");
  CHECK(d.rule_for(Field::Route) == 1);
  d = run(p, {{"x", "3"}});
  CHECK(route_of(p, d) == "b");
  CHECK(d.rule_for(Field::Route) == 2);
  d = run(p, {{"x", "0"}});
  CHECK(route_of(p, d) == "b");
  CHECK(d.rule_for(Field::Route) == 0);
  CHECK(p.rules()[0].is_default);
  CHECK(d.errors == 0);
}

TEST_CASE("deny takes the route field; later routes do not override it") {
  Policy p = compile(with_routes(R"(
policy deny_first
input { x: int }
if x > 5 deny "too big"
if x > 0 route a
default route b
)"));
  Decision d = run(p, {{"x", "9"}});
  CHECK(d.denied);
  CHECK(d.route == -1);
  CHECK(std::string(d.deny_reason) == "too big");
  CHECK(d.rule_for(Field::Route) == 0);
  d = run(p, {{"x", "1"}});
  CHECK_FALSE(d.denied);
  CHECK(route_of(p, d) == "a");
  CHECK(std::string(d.deny_reason).empty());
}

TEST_CASE("no rule routes: denied with \"no route\"") {
  Policy p = compile(with_routes(R"(
policy noroute
input { x: int }
if x > 5 route a
if x > 0 max_out 10
)"));
  Decision d = run(p, {{"x", "1"}});
  CHECK(d.denied);
  CHECK(d.route == -1);
  CHECK(std::string(d.deny_reason) == "no route");
  CHECK(d.rule_for(Field::Route) == -1);
  CHECK(d.max_out == 10);
  CHECK(d.errors == 0);
}

TEST_CASE("caps: minimum over firing rules, attribution only when strictly smaller") {
  Policy p = compile(with_routes(R"(
policy caps
input { x: int }
if x > 0 max_out 100
if x > 1 max_out 50
if x > 2 max_out 50
if x > 3 max_out 70
if x > 0 max_in 900
default route a max_out 60
)"));
  Decision d = run(p, {{"x", "4"}});
  CHECK(d.max_out == 50);
  CHECK(d.rule_for(Field::MaxOut) == 1);  // rule 2's equal 50 does not take the attribution
  CHECK(d.max_in == 900);
  CHECK(d.rule_for(Field::MaxIn) == 4);
  d = run(p, {{"x", "1"}});
  CHECK(d.max_out == 60);  // default's route-attached cap is smaller than 100
  CHECK(d.rule_for(Field::MaxOut) == 5);
  d = run(p, {{"x", "0"}});
  CHECK(d.max_out == 60);
  CHECK(d.max_in == kNoCap);
  CHECK(d.rule_for(Field::MaxIn) == -1);
}

TEST_CASE("route-attached caps apply only when that rule chose the route") {
  Policy p = compile(with_routes(R"(
policy attached
input { x: int }
if x > 5 route a max_out 10 max_in 11
if x > 0 route b max_out 20
default route b max_out 30
)"));
  Decision d = run(p, {{"x", "10"}});
  CHECK(route_of(p, d) == "a");
  CHECK(d.max_out == 10);
  CHECK(d.max_in == 11);
  CHECK(d.rule_for(Field::MaxOut) == 0);
  d = run(p, {{"x", "3"}});
  CHECK(route_of(p, d) == "b");
  CHECK(d.max_out == 20);
  CHECK(d.max_in == kNoCap);
  CHECK(d.rule_for(Field::MaxOut) == 1);
  d = run(p, {{"x", "0"}});
  CHECK(d.max_out == 30);
  CHECK(d.rule_for(Field::MaxOut) == 2);
}

TEST_CASE("route-attached caps combine with standalone caps by minimum") {
  Policy p = compile(with_routes(R"(
policy mixed
input { x: int }
if x > 0 route a max_out 100
if x > 1 max_out 40
default route b
)"));
  Decision d = run(p, {{"x", "2"}});
  CHECK(d.max_out == 40);
  CHECK(d.rule_for(Field::MaxOut) == 1);
  d = run(p, {{"x", "1"}});
  CHECK(d.max_out == 100);
  CHECK(d.rule_for(Field::MaxOut) == 0);
}

TEST_CASE("retry, rag and cache: the first firing rule per field wins") {
  Policy p = compile(with_routes(R"(
policy fields
input {
  attempt: int = 0
  q: bool = false
}
if attempt < 2 retry backoff min(200ms * pow(2, attempt), 5s)
if true retry
if q rag off
if true rag top_k 4
if true rag top_k 2
if q cache response
if true cache prompt
default route a
)"));
  Decision d = run(p, {{"attempt", "1"}});
  CHECK(d.retry);
  CHECK(d.backoff_ms == 400);
  CHECK(d.rule_for(Field::Retry) == 0);
  CHECK(d.rag);
  CHECK(d.top_k == 4);
  CHECK(d.rule_for(Field::Rag) == 3);
  CHECK(d.cache == CacheMode::Prompt);
  CHECK(d.rule_for(Field::Cache) == 6);

  d = run(p, {{"attempt", "5"}, {"q", "true"}});
  CHECK(d.retry);
  CHECK(d.backoff_ms == 0);
  CHECK(d.rule_for(Field::Retry) == 1);
  CHECK_FALSE(d.rag);
  CHECK(d.top_k == 0);
  CHECK(d.rule_for(Field::Rag) == 2);
  CHECK(d.cache == CacheMode::Response);
  CHECK(d.rule_for(Field::Cache) == 5);

  Policy p2 = compile(with_routes(R"(
policy backoff_cap
input { attempt: int }
if true retry backoff min(200ms * pow(2, attempt), 5s)
default route a
)"));
  CHECK(run(p2, {{"attempt", "10"}}).backoff_ms == 5000);
  CHECK(run(p2, {{"attempt", "0"}}).backoff_ms == 200);
}

TEST_CASE("tags accumulate over firing rules; enums tag by member name") {
  Policy p = compile(with_routes(R"(
policy tags
input {
  tier: enum(free, pro) = pro
  x: int = 0
}
if true tag "always"
if x > 0 tag "positive"
if true tag "tier:" + tier
if true tag tier
default route a tag "default"
)"));
  Decision d = run(p, {});
  REQUIRE(d.tag_count == 4);
  CHECK(d.tag(0) == "always");
  CHECK(d.tag(1) == "tier:pro");
  CHECK(d.tag(2) == "pro");
  CHECK(d.tag(3) == "default");
  CHECK_FALSE(d.has_tag("positive"));
  d = run(p, {{"x", "1"}, {"tier", "free"}});
  CHECK(d.tag_count == 5);
  CHECK(d.has_tag("positive"));
  CHECK(d.has_tag("tier:free"));
  CHECK(d.has_tag("free"));
}

TEST_CASE("a rule is evaluated only if one of its actions can still take effect") {
  Policy p = compile(with_routes(R"(
policy live
input { zero: int = 0 }
if true route a
if 1 / zero == 1 route b
if true retry
if 1 / zero == 1 retry
if 1 / zero == 1 tag "x"
)"));
  Decision d = run(p, {});
  // Rules 1 and 3 cannot change anything any more, so their errors are never hit; the tag rule
  // always can.
  CHECK(d.errors == 1);
  CHECK(d.first_error_rule == 4);
  CHECK(route_of(p, d) == "a");

  Policy caps = compile(with_routes(R"(
policy live_caps
input { zero: int = 0 }
if true route a
if 1 / zero == 1 route b max_out 5
if 1 / zero == 1 max_out 5
)"));
  d = run(caps, {});
  CHECK(d.errors == 1);  // the standalone cap rule always runs; the routing one does not
  CHECK(d.first_error_rule == 2);
}

TEST_CASE("on_error skip counts errors; on_error deny denies naming the first error rule") {
  const char* body = R"(
input {
  x: int = 1
  zero: int = 0
}
if x > 5 route b
if x / zero > 1 tag "t"
if x % zero > 1 tag "u"
default route a
)";
  Policy skip = compile(with_routes(std::string("policy s on_error skip\n") + body));
  Decision d = run(skip, {});
  CHECK_FALSE(d.denied);
  CHECK(route_of(skip, d) == "a");
  CHECK(d.errors == 2);
  CHECK(d.first_error_rule == 1);

  Policy deny = compile(with_routes(std::string("policy d on_error deny\n") + body));
  d = run(deny, {});
  CHECK(d.denied);
  CHECK(d.route == -1);
  CHECK(d.errors == 2);
  CHECK(d.first_error_rule == 1);
  CHECK(d.rule_for(Field::Route) == 1);
  const uint32_t line = deny.rules()[1].line;
  CHECK(std::string(d.deny_reason) == "evaluation error in rule at line " + std::to_string(line));
  // Without errors the policy routes normally.
  d = run(deny, {{"zero", "1"}});
  CHECK_FALSE(d.denied);
  CHECK(route_of(deny, d) == "a");
}

TEST_CASE("on_error deny also overrides \"no route\" and a deny") {
  Policy p = compile(with_routes(R"(
policy od on_error deny
input { zero: int = 0 }
if true deny "explicit"
if 1 / zero == 1 tag "t"
)"));
  Decision d = run(p, {});
  CHECK(d.denied);
  CHECK(d.rule_for(Field::Route) == 1);
  CHECK(std::string(d.deny_reason).find("evaluation error in rule at line") == 0);
}

namespace {

enum class Tri { T, F, E };

const char* operand(Tri t) {
  switch (t) {
    case Tri::T:
      return "t";
    case Tri::F:
      return "f";
    case Tri::E:
      return "(1 / zero == 1)";
  }
  return "";
}

// Compiles `if <cond> route yes` + `default route no` and classifies the condition's outcome.
Tri outcome(const std::string& cond) {
  Policy p = compile(R"(
policy absorb
input {
  t: bool = true
  f: bool = false
  zero: int = 0
}
routes {
  yes = "m1" in $1/M out $1/M
  no  = "m2" in $1/M out $1/M
}
if )" + cond + R"( route yes
default route no
)");
  Decision d = run(p, {});
  INFO(cond);
  if (route_of(p, d) == "yes") {
    CHECK(d.errors == 0);
    return Tri::T;
  }
  REQUIRE(route_of(p, d) == "no");
  return d.errors == 0 ? Tri::F : Tri::E;
}

}  // namespace

TEST_CASE("and/or absorption tables (CEL semantics), every cell") {
  const Tri all[] = {Tri::T, Tri::F, Tri::E};
  // expected[l][r]
  const Tri and_table[3][3] = {{Tri::T, Tri::F, Tri::E},   // T and _
                               {Tri::F, Tri::F, Tri::F},   // F and _  (right not evaluated)
                               {Tri::E, Tri::F, Tri::E}};  // E and _
  const Tri or_table[3][3] = {{Tri::T, Tri::T, Tri::T},    // T or _   (right not evaluated)
                              {Tri::T, Tri::F, Tri::E},    // F or _
                              {Tri::T, Tri::E, Tri::E}};   // E or _
  for (int l = 0; l < 3; ++l) {
    for (int r = 0; r < 3; ++r) {
      std::string a = std::string(operand(all[l])) + " and " + operand(all[r]);
      std::string o = std::string(operand(all[l])) + " or " + operand(all[r]);
      std::string a2 = std::string(operand(all[l])) + " && " + operand(all[r]);
      INFO(a << " / " << o);
      CHECK(outcome(a) == and_table[l][r]);
      CHECK(outcome(a2) == and_table[l][r]);
      CHECK(outcome(o) == or_table[l][r]);
    }
  }
}

TEST_CASE("not: true/false flip, not err = err") {
  CHECK(outcome("not t") == Tri::F);
  CHECK(outcome("not f") == Tri::T);
  CHECK(outcome("not (1 / zero == 1)") == Tri::E);
  CHECK(outcome("!f") == Tri::T);
  // `not a == b` is `not (a == b)`.
  CHECK(outcome("not zero == 1") == Tri::T);
  // Other operators do not absorb: err == false is err, not false.
  CHECK(outcome("(1 / zero == 1) == f") == Tri::E);
  CHECK(outcome("(1 / zero == 1) != t") == Tri::E);
}

TEST_CASE("int overflow, INT64_MIN / -1, abs(INT64_MIN) and pow are errors") {
  Policy p = compile(with_routes(R"(
policy ovf
input {
  x: int
  y: int = 2
  e: int = 0
}
if x + 1 != 0 tag "add"
if x - 1 != 0 tag "sub"
if x * 2 != 0 tag "mul"
if -x != 0 tag "neg"
if x / -1 != 0 tag "div"
if x % -1 == 0 tag "mod"
if abs(x) > 0 tag "abs"
if pow(y, e) > 0 tag "pow"
default route a
)"));
  const std::string kMax = std::to_string(std::numeric_limits<int64_t>::max());
  const std::string kMin = std::to_string(std::numeric_limits<int64_t>::min());

  Decision d = run(p, {{"x", kMax.c_str()}, {"e", "62"}});
  CHECK_FALSE(d.has_tag("add"));  // overflow
  CHECK(d.has_tag("sub"));
  CHECK_FALSE(d.has_tag("mul"));  // overflow
  CHECK(d.has_tag("neg"));        // -MAX is fine
  CHECK(d.has_tag("div"));        // MAX / -1 is fine
  CHECK(d.has_tag("mod"));
  CHECK(d.has_tag("abs"));
  CHECK(d.has_tag("pow"));  // 2^62 fits
  CHECK(d.errors == 2);

  d = run(p, {{"x", kMin.c_str()}, {"e", "63"}});
  CHECK(d.has_tag("add"));
  CHECK_FALSE(d.has_tag("sub"));
  CHECK_FALSE(d.has_tag("mul"));
  CHECK_FALSE(d.has_tag("neg"));
  CHECK_FALSE(d.has_tag("div"));
  CHECK_FALSE(d.has_tag("mod"));
  CHECK_FALSE(d.has_tag("abs"));
  CHECK_FALSE(d.has_tag("pow"));  // 2^63 overflows
  CHECK(d.errors == 7);
  CHECK(d.first_error_rule == 1);

  d = run(p, {{"x", "1"}, {"e", "-1"}});
  CHECK_FALSE(d.has_tag("pow"));  // negative exponent
  CHECK(d.errors == 1);
  CHECK(d.first_error_rule == 7);
}

TEST_CASE("pow of ints: exact, edge values") {
  int64_t v = 0;
  CHECK(tg_pow_int(2, 10, &v) == 0);
  CHECK(v == 1024);
  CHECK(tg_pow_int(-2, 63, &v) == 0);
  CHECK(v == std::numeric_limits<int64_t>::min());
  CHECK(tg_pow_int(2, 63, &v) == 1);
  CHECK(tg_pow_int(0, 0, &v) == 0);
  CHECK(v == 1);
  CHECK(tg_pow_int(-1, std::numeric_limits<int64_t>::max(), &v) == 0);
  CHECK(v == -1);
  CHECK(tg_pow_int(3, -2, &v) == 1);
  CHECK(tg_pow_int(10, 18, &v) == 0);
  CHECK(v == 1000000000000000000LL);
  CHECK(tg_pow_int(10, 19, &v) == 1);
}

TEST_CASE("division by zero is an error for ints and floats (x / 0.0 is not inf)") {
  Policy p = compile(with_routes(R"(
policy divz
input {
  i: int = 7
  zero: int = 0
  f: float = 1.5
  fz: float = 0.0
}
if i / zero == 0 tag "idiv"
if i % zero == 0 tag "imod"
if f / fz > 0.0 tag "fdiv"
if f / 0.0 > 0.0 tag "flit"
if f / zero > 0.0 tag "mixed"
if i / 2 == 3 tag "trunc"
if -i / 2 == -3 tag "trunc_neg"
if -i % 2 == -1 tag "mod_neg"
if f / 2 == 0.75 tag "fhalf"
default route a
)"));
  Decision d = run(p, {});
  CHECK(d.errors == 5);
  CHECK_FALSE(d.has_tag("idiv"));
  CHECK_FALSE(d.has_tag("imod"));
  CHECK_FALSE(d.has_tag("fdiv"));
  CHECK_FALSE(d.has_tag("flit"));
  CHECK_FALSE(d.has_tag("mixed"));
  CHECK(d.has_tag("trunc"));
  CHECK(d.has_tag("trunc_neg"));
  CHECK(d.has_tag("mod_neg"));
  CHECK(d.has_tag("fhalf"));
}

TEST_CASE("unset input without default is an error; defaults apply; has() tells set") {
  Policy p = compile(with_routes(R"(
policy unset
input {
  req: int
  opt: int = 5
  name: string = "anon"
}
if req > 0 tag "req"
if opt == 5 tag "opt5"
if has(opt) tag "has_opt"
if has(req) tag "has_req"
if name == "anon" tag "anon"
default route a
)"));
  Decision d = run(p, {});
  CHECK(d.errors == 1);
  CHECK(d.first_error_rule == 0);
  CHECK_FALSE(d.has_tag("req"));
  CHECK(d.has_tag("opt5"));
  CHECK_FALSE(d.has_tag("has_opt"));
  CHECK_FALSE(d.has_tag("has_req"));
  CHECK(d.has_tag("anon"));

  d = run(p, {{"req", "1"}, {"opt", "6"}, {"name", "bob"}});
  CHECK(d.errors == 0);
  CHECK(d.has_tag("req"));
  CHECK_FALSE(d.has_tag("opt5"));
  CHECK(d.has_tag("has_opt"));
  CHECK(d.has_tag("has_req"));
  CHECK_FALSE(d.has_tag("anon"));

  // Setting an input to its default value still counts as set.
  d = run(p, {{"req", "1"}, {"opt", "5"}});
  CHECK(d.has_tag("opt5"));
  CHECK(d.has_tag("has_opt"));
}

namespace {

// A fixed spend per (budget, key); records what it was asked.
class FakeBudgets : public BudgetReader {
 public:
  std::map<std::pair<std::string, std::string>, double> spend;
  mutable std::vector<std::pair<std::string, std::string>> asked;
  mutable int64_t last_now = 0;
  double spent(const BudgetInfo& b, std::string_view key, int64_t now_ms) const override {
    asked.emplace_back(b.name, std::string(key));
    last_now = now_ms;
    auto it = spend.find({b.name, std::string(key)});
    return it == spend.end() ? 0 : it->second;
  }
};

}  // namespace

TEST_CASE("budget views: spent, limit, remaining, ratio; keys by input type") {
  Policy p = compile(with_routes(R"(
policy budgets
input {
  tenant: string
  tier: enum(free, pro) = pro
  n: int = 7
  flag: bool = true
  lim: float = 100
}
budget monthly = 1000 usd per tenant per month
budget daily = lim usd per tier per day
budget hourly = 50k tokens per n per hour
budget flagged = 10 requests per flag per minute
budget global = $20 per month
if monthly.spent == 250.0 tag "spent"
if monthly.limit == 1000.0 tag "limit"
if monthly.remaining == 750.0 tag "remaining"
if monthly.ratio == 0.25 tag "ratio"
if daily.ratio == 0.5 tag "daily"
if hourly.remaining == 49000.0 tag "hourly"
if flagged.spent == 3.0 tag "flagged"
if global.remaining == 15.0 tag "global"
default route a
)"));
  CHECK(p.budgets_read() == std::vector<int>{0, 1, 2, 3, 4});
  FakeBudgets fb;
  fb.spend[{"monthly", "acme"}] = 250;
  fb.spend[{"daily", "pro"}] = 50;
  fb.spend[{"hourly", "7"}] = 1000;
  fb.spend[{"flagged", "true"}] = 3;
  fb.spend[{"global", ""}] = 5;
  Decision d = run(p, {{"tenant", "acme"}}, &fb);
  CHECK(d.errors == 0);
  for (const char* t :
       {"spent", "limit", "remaining", "ratio", "daily", "hourly", "flagged", "global"}) {
    INFO(t);
    CHECK(d.has_tag(t));
  }
  CHECK(fb.last_now == kNow);

  // Key input unset (no default): every view of that budget errors.
  fb.asked.clear();
  d = run(p, {}, &fb);
  CHECK(d.errors == 4);
  CHECK(d.first_error_rule == 0);
  for (const auto& a : fb.asked) CHECK(a.first != "monthly");

  // Limit 0: ratio errors, the other views do not.
  d = run(p, {{"tenant", "acme"}, {"lim", "0"}}, &fb);
  CHECK(d.errors == 1);
  CHECK(d.first_error_rule == 4);

  // The Policy-side helpers agree with the views' keys and limits.
  Request req(p);
  REQUIRE(req.set("tenant", "acme") == Status::Ok);
  req.now_ms = kNow;
  REQUIRE(p.budget_key(0, req) == "acme");
  REQUIRE(p.budget_key(2, req) == "7");
  REQUIRE(p.budget_key(3, req) == "true");
  REQUIRE(p.budget_key(4, req).empty());
  double lim = 0;
  REQUIRE(p.budget_limit(1, req, &lim));
  CHECK(lim == 100.0);
  REQUIRE(p.budget_limit(2, req, &lim));
  CHECK(lim == 50000.0);
}

TEST_CASE("budget limit from an input without default: unset is an error") {
  Policy p = compile(with_routes(R"(
policy limits
input { cap: float }
budget b = cap usd per month
if b.spent >= 0.0 tag "spent"
default route a
)"));
  Decision d = run(p, {});
  CHECK(d.errors == 1);
  CHECK_FALSE(d.has_tag("spent"));
  d = run(p, {{"cap", "10"}});
  CHECK(d.errors == 0);
  CHECK(d.has_tag("spent"));
}

TEST_CASE("a budget limit that is infinite, negative or NaN is an error, like an unset one") {
  Policy p = compile(with_routes(R"(
policy bad_limits on_error deny
input { cap: float }
budget b = cap usd per month
if b.remaining < 1.0 deny "over budget"
default route a
)"));
  // A working limit: routed.
  Decision ok = run(p, {{"cap", "10"}});
  CHECK_FALSE(ok.denied);
  CHECK(ok.errors == 0);
  // Before, each of these compared false and so disabled the budget (even under on_error deny).
  for (const char* bad : {"inf", "-inf", "-5"}) {
    INFO("cap = " << bad);
    Decision d = run(p, {{"cap", bad}});
    CHECK(d.errors == 1);
    CHECK(d.denied);
    CHECK(std::string(d.deny_reason).find("evaluation error in rule at line") == 0);
  }
  // A limit of 0 is a limit (nothing left), not an error; only its ratio divides by zero.
  Decision zero = run(p, {{"cap", "0"}});
  CHECK(zero.errors == 0);
  CHECK(std::string(zero.deny_reason) == "over budget");
  // Under on_error skip the rule is skipped, and admit() refuses to reserve against a budget it
  // cannot enforce instead of treating it as unlimited.
  Policy skip = compile(with_routes(R"(
policy bad_limits_skip
input { cap: float }
budget b = cap usd per month
if b.remaining < 1.0 deny "over budget"
default route a
)"));
  Request req(skip);
  REQUIRE(req.set("cap", "-5") == Status::Ok);
  req.now_ms = kNow;
  Admission a = engine().ledger().admit(skip, req, Estimate{});
  CHECK_FALSE(a.admitted());
  CHECK(a.reason() == "budget b has no valid limit");
  REQUIRE(req.set("cap", "10") == Status::Ok);
  Admission b = engine().ledger().admit(skip, req, Estimate{});
  CHECK(b.admitted());
}

TEST_CASE("cost() from route prices; unpriced route is an error; self-hosted costs 0") {
  Policy p = compile(R"(
policy costs
input {
  in_t: int = 1000
  out_t: int = 2000
}
routes {
  priced = "some-model" in $3/M out $15/M
  unpriced = "no-such-model-anywhere"
  local = "llama" self_hosted
}
if cost(priced, in_t, out_t) > 0.0329 and cost(priced, in_t, out_t) < 0.0331 tag "priced"
if cost(unpriced, in_t, out_t) >= 0.0 tag "unpriced"
if cost(local, in_t, out_t) == 0.0 tag "local"
if cost(priced, 1M, 0) > 2.999 and cost(priced, 1M, 0) < 3.001 tag "million"
default route priced
)");
  Decision d = run(p, {});
  CHECK(d.has_tag("priced"));
  CHECK_FALSE(d.has_tag("unpriced"));
  CHECK(d.has_tag("local"));
  CHECK(d.has_tag("million"));
  CHECK(d.errors == 1);
  CHECK(d.first_error_rule == 1);
  CHECK(p.routes()[0].priced);
  CHECK_FALSE(p.routes()[1].priced);
  CHECK(p.routes()[0].in_per_token == Approx(3e-6));
}

TEST_CASE("strings: equality (interned and not), startswith/endswith/contains, concat") {
  Policy p = compile(with_routes(R"(
policy strings
input {
  tenant: string
  tier: enum(free, pro) = free
}
if tenant == "acme" tag "eq"
if tenant != "acme" tag "ne"
if tenant + "" == "acme" tag "concat_eq"
if tenant startswith "trial-" tag "starts"
if tenant endswith "-eu" tag "ends"
if tenant contains "corp" tag "contains"
if "t-" + tier == "t-free" tag "enum_concat"
if tenant + "-" + tier == "acme-free" tag "chain"
default route a
)"));
  Decision d = run(p, {{"tenant", "acme"}});
  CHECK(d.errors == 0);
  CHECK(d.has_tag("eq"));
  CHECK_FALSE(d.has_tag("ne"));
  CHECK(d.has_tag("concat_eq"));
  CHECK_FALSE(d.has_tag("starts"));
  CHECK(d.has_tag("enum_concat"));
  CHECK(d.has_tag("chain"));

  d = run(p, {{"tenant", "trial-megacorp-eu"}});
  CHECK_FALSE(d.has_tag("eq"));
  CHECK(d.has_tag("ne"));
  CHECK(d.has_tag("starts"));
  CHECK(d.has_tag("ends"));
  CHECK(d.has_tag("contains"));
  CHECK_FALSE(d.has_tag("chain"));

  // A borrowed string that equals a literal compares equal whether or not it was interned.
  Request req(p);
  std::string acme = "acme";
  REQUIRE(req.set_string(p.slot("tenant"), acme) == Status::Ok);
  CHECK(req.slots()[p.slot("tenant")].str_id >= 0);
  Decision d2;
  p.decide(req, &d2);
  CHECK(d2.has_tag("eq"));
  CHECK(tg_str_contains("abc", 3, "", 0) == 1);
  CHECK(tg_str_contains("ab", 2, "abc", 3) == 0);
  CHECK(tg_str_startswith("ab", 2, "", 0) == 1);
  CHECK(tg_str_endswith("ab", 2, "b", 1) == 1);
}

TEST_CASE("concat beyond the 1024-byte per-decision scratch is an error") {
  Policy p = compile(with_routes(R"(
policy scratch
input { s: string }
if s + "" == "" tag "first"
if s + s == "" tag "second"
if true tag s + "!"
default route a
)"));
  std::string big(600, 'x');
  Decision d = run(p, {{"s", big.c_str()}});
  // 600 bytes for the first concat, then 1200 for the second: over the 1024-byte scratch.
  CHECK(d.errors == 2);
  CHECK(d.first_error_rule == 1);
  std::string small(200, 'y');
  d = run(p, {{"s", small.c_str()}});
  CHECK(d.errors == 0);
  // 200 + 400 + 201 bytes fit; the tag is copied inline into the Decision.
  REQUIRE(d.tag_count == 1);
  CHECK(d.tag(0) == small + "!");
  std::string tagbig(500, 'z');
  d = run(p, {{"s", tagbig.c_str()}});
  CHECK(d.tags_dropped == 1);  // too long for Decision's tag storage: dropped, not an error
}

TEST_CASE("int/float promotion, comparisons and NaN") {
  Policy p = compile(with_routes(R"(
policy nums
input {
  i: int = 1
  f: float = 0.5
}
if i + 0.5 == 1.5 tag "promote"
if i == 1.0 tag "eq_mixed"
if i < f tag "lt"
if f * 2 == i tag "mul_mixed"
if f == f tag "self_eq"
if f != f tag "self_ne"
if f < 1.0 or f >= 1.0 tag "total"
default route a
)"));
  Decision d = run(p, {});
  CHECK(d.has_tag("promote"));
  CHECK(d.has_tag("eq_mixed"));
  CHECK_FALSE(d.has_tag("lt"));
  CHECK(d.has_tag("mul_mixed"));
  CHECK(d.has_tag("self_eq"));
  CHECK_FALSE(d.has_tag("self_ne"));
  CHECK(d.has_tag("total"));

  // NaN is an evaluation error wherever it comes from, never a value that compares false: a
  // setter refuses it, and one written into a slot directly makes every rule reading it err.
  Request req(p);
  CHECK(req.set_float(p.slot("f"), std::nan("")) == Status::BadValue);
  CHECK(req.set("f", "nan") == Status::BadValue);
  CHECK(req.set_float(p.slot("f"), std::numeric_limits<double>::infinity()) == Status::Ok);
  Slot& raw = const_cast<Slot*>(req.slots())[p.slot("f")];  // an embedder writing slots itself
  raw.f = std::nan("");
  raw.set = 1;
  Decision n;
  p.decide(req, &n);
  CHECK(n.errors == 5);  // lt, mul_mixed, self_eq, self_ne, total: every rule that reads f
  CHECK_FALSE(n.has_tag("self_ne"));
  CHECK(n.has_tag("promote"));
  // inf - inf is NaN: an error too.
  Policy q = compile(with_routes(R"(
policy infs
input {
  f: float
}
if f - f < 1 tag "sub"
if f * 0 == 0 tag "mul"
if f > 1 tag "big"
default route a
)"));
  Decision big = run(q, {{"f", "inf"}});
  CHECK(big.errors == 2);
  CHECK(big.has_tag("big"));
}

TEST_CASE("builtins: min, max, clamp, abs, pow") {
  Policy p = compile(with_routes(R"(
policy builtins
input {
  x: int = 15
  f: float = -2.5
}
if min(3, 1, 2) == 1 tag "min"
if max(1, 2.5) == 2.5 tag "max_float"
if max(4, 9, x) == 15 tag "max_int"
if clamp(x, 0, 10) == 10 tag "clamp_hi"
if clamp(-x, 0, 10) == 0 tag "clamp_lo"
if clamp(f, -1, 1) == -1.0 tag "clamp_float"
if abs(-5) == 5 tag "abs_int"
if abs(f) == 2.5 tag "abs_float"
if pow(2, 10) == 1024 tag "pow_int"
if pow(4.0, 0.5) == 2.0 tag "pow_float"
if pow(2, -1.0) == 0.5 tag "pow_neg_float"
default route a max_out min(x * 10, 100) max_in max(x, 20)
)"));
  Decision d = run(p, {});
  CHECK(d.errors == 0);
  for (const char* t : {"min", "max_float", "max_int", "clamp_hi", "clamp_lo", "clamp_float",
                        "abs_int", "abs_float", "pow_int", "pow_float", "pow_neg_float"}) {
    INFO(t);
    CHECK(d.has_tag(t));
  }
  CHECK(d.max_out == 100);
  CHECK(d.max_in == 20);
}

TEST_CASE("an action whose argument errors is not applied; the rule's other actions are") {
  Policy p = compile(with_routes(R"(
policy argerr
input { zero: int = 0 }
if true route a max_out 1 / zero max_in 7
if true retry backoff 1 / zero
if true retry backoff 5
if true rag top_k 1 / zero
if true max_out 1 / zero tag "still"
)"));
  Decision d = run(p, {});
  CHECK(route_of(p, d) == "a");
  CHECK(d.max_out == kNoCap);
  CHECK(d.max_in == 7);
  CHECK(d.retry);
  CHECK(d.backoff_ms == 5);
  CHECK(d.rule_for(Field::Retry) == 2);
  CHECK_FALSE(d.rag);
  CHECK(d.rule_for(Field::Rag) == -1);
  CHECK(d.has_tag("still"));
  CHECK(d.errors == 4);
  CHECK(d.first_error_rule == 0);
}

TEST_CASE("enums, in and not in, lets") {
  Policy p = compile(with_routes(R"(
policy enums
input {
  task: enum(classify, chat, qa)
  error: enum(none, throttled, server) = none
}
let transient = error in [throttled, server]
let big = task not in [classify]
if transient tag "transient"
if big tag "big"
if task == qa tag "qa"
if task != chat and not transient tag "calm"
default route a
)"));
  Decision d = run(p, {{"task", "qa"}, {"error", "server"}});
  CHECK(d.has_tag("transient"));
  CHECK(d.has_tag("big"));
  CHECK(d.has_tag("qa"));
  CHECK_FALSE(d.has_tag("calm"));
  d = run(p, {{"task", "classify"}});
  CHECK_FALSE(d.has_tag("transient"));
  CHECK_FALSE(d.has_tag("big"));
  CHECK(d.has_tag("calm"));
  // An unset required enum inside a let errors wherever the let is used.
  d = run(p, {});
  CHECK(d.errors == 3);
}

TEST_CASE("the DESIGN example policy decides as documented") {
  std::string path = std::string(TOLLGATE_SOURCE_DIR) + "/policies/gateway.pol";
  CompileResult r = engine().compile_file(path);
  INFO(r.rendered);
  if (!r.ok()) {
    WARN("policies/gateway.pol does not compile yet");
    return;
  }
  Policy p = *r.policy;
  Decision d = run(p, {{"tenant", "t-1"}, {"task", "classify"}, {"in_tokens", "300"}});
  CHECK(d.errors == 0);
  CHECK(route_of(p, d) == "cheap");
  CHECK(d.max_out == 64);
  CHECK_FALSE(d.rag);
  CHECK(d.rule_for(Field::Rag) >= 0);
  CHECK(d.cache == CacheMode::Response);
  CHECK(d.has_tag("tier:pro"));
  CHECK(d.has_tag("task:classify"));
  CHECK_FALSE(d.retry);
  // in_tokens is required: unset, the policy (on_error deny) denies.
  d = run(p, {{"tenant", "t-1"}, {"task", "classify"}});
  CHECK(d.denied);
  CHECK(std::string(d.deny_reason).find("evaluation error in rule at line") == 0);
}

TEST_CASE("budget views: one spent() per budget per decision, fresh for the next decision") {
  Policy p = compile(with_routes(R"(
policy memo
input {
  tenant: string
  n: int = 7
}
budget monthly = 1000 usd per tenant per month
budget hourly = 100 tokens per n per hour
let near = monthly.ratio >= 0.5
if near tag "near"
if near and monthly.remaining < 600.0 tag "low"
if monthly.spent > 400.0 and hourly.spent > 10.0 tag "both"
if hourly.remaining > 0.0 tag "hourly"
default route a
)"));
  FakeBudgets fb;
  fb.spend[{"monthly", "acme"}] = 500;
  fb.spend[{"hourly", "7"}] = 20;
  Decision d = run(p, {{"tenant", "acme"}}, &fb);
  CHECK(d.errors == 0);
  CHECK(d.has_tag("near"));
  CHECK(d.has_tag("low"));
  CHECK(d.has_tag("both"));
  CHECK(d.has_tag("hourly"));
  // Five views of monthly and two of hourly, asked once each per decision (interpreter, then
  // the JIT twin).
  using Ask = std::pair<std::string, std::string>;
  CHECK(
      fb.asked ==
      std::vector<Ask>{{"monthly", "acme"}, {"hourly", "7"}, {"monthly", "acme"}, {"hourly", "7"}});

  // The next decision reads the counters again.
  fb.asked.clear();
  fb.spend[{"monthly", "acme"}] = 100;
  d = run(p, {{"tenant", "acme"}}, &fb);
  CHECK_FALSE(d.has_tag("near"));
  CHECK_FALSE(d.has_tag("both"));
  CHECK(fb.asked.size() == 4);
}

TEST_CASE("string equality with literals of every length and shape, 63 bytes and longer included") {
  std::string l63(63, 'x'), l64(64, 'y'), l100(100, 'z');
  Policy p = compile(with_routes(R"(
policy lits
input { s: string }
if s == "ab" tag "two"
if s == ")" + l63 + R"(" tag "l63"
if s == ")" + l64 + R"(" tag "l64"
if s == ")" + l100 + R"(" tag "l100"
if s != "ab" tag "not-two"
if s == "" tag "empty"
if s == "a-b" tag "amb"
default route a
)"));
  auto tags_for = [&](const std::string& s) {
    Decision d = run(p, {{"s", s.c_str()}});
    std::string t;
    for (const char* tag : {"two", "l63", "l64", "l100", "not-two", "empty", "amb"})
      if (d.has_tag(tag)) t += std::string(t.empty() ? "" : ",") + tag;
    return t;
  };
  CHECK(tags_for("ab") == "two");
  CHECK(tags_for("abc") == "not-two");
  CHECK(tags_for(l63) == "l63,not-two");
  CHECK(tags_for(l64) == "l64,not-two");
  CHECK(tags_for(l100) == "l100,not-two");
  CHECK(tags_for(std::string(100, 'q')) == "not-two");
  // The literal filter looks at length and end bytes only: the same shape is compared in full.
  CHECK(tags_for("") == "not-two,empty");
  CHECK(tags_for("a-b") == "not-two,amb");
  CHECK(tags_for("axb") == "not-two");
  CHECK(tags_for(std::string(63, 'x').replace(30, 1, "w")) == "not-two");
}

TEST_CASE("budget views: budgets keyed by different inputs get their own keys") {
  Policy p = compile(with_routes(R"(
policy keys
input {
  tenant: string
  region: string = "eu"
  tier: enum(free, pro) = pro
  n: int = 7
  m: int = 8
}
budget a = 10 usd per tenant per day
budget b = 10 usd per region per day
budget c = 10 usd per tenant per month
budget d = 10 usd per tier per day
budget e = 10 usd per n per day
budget f = 10 usd per m per day
if a.spent + b.spent + c.spent + d.spent + e.spent + f.spent >= 0.0 tag "read"
default route a
)"));
  FakeBudgets fb;
  Decision d = run(p, {{"tenant", "acme"}}, &fb);
  CHECK(d.has_tag("read"));
  using Ask = std::pair<std::string, std::string>;
  std::vector<Ask> one{{"a", "acme"}, {"b", "eu"}, {"c", "acme"},
                       {"d", "pro"},  {"e", "7"},  {"f", "8"}};
  std::vector<Ask> both = one;
  both.insert(both.end(), one.begin(), one.end());  // interpreter, then the JIT twin
  CHECK(fb.asked == both);
}

TEST_CASE("budget views: spent() order with erroring keys and limits; number, bool, global keys") {
  // Per view: the memo, else the key (an unset key input errs before spent() is asked), then
  // spent(), then the limit (an unset limit input errs after spent() was asked), then the view.
  Policy p = compile(with_routes(R"(
policy order
input {
  tenant: string
  n: int
  flag: bool = false
  tier: enum(free, pro)
  cap: float
  icap: int = 40
}
budget k_unset = 10 usd per tenant per day
budget by_enum = cap usd per tier per day
budget by_int = 100 tokens per n per hour
budget by_bool = icap requests per flag per minute
budget global = $5 per month
if k_unset.limit > 0.0 tag "k1"
if by_enum.limit > 0.0 tag "e1"
if by_enum.spent >= 0.0 tag "e2"
if by_enum.ratio >= 0.0 tag "e3"
if by_int.ratio >= 0.0 tag "i1"
if by_bool.remaining == 40.0 tag "b1"
if global.limit == 5.0 tag "g1"
if k_unset.spent >= 0.0 tag "k2"
default route a
)"));
  using Ask = std::pair<std::string, std::string>;
  auto twice = [](std::vector<Ask> v) {  // interpreter, then the JIT twin
    std::vector<Ask> both = v;
    both.insert(both.end(), v.begin(), v.end());
    return both;
  };
  FakeBudgets fb;
  Decision d = run(p, {{"n", "-12"}, {"tier", "pro"}}, &fb);
  CHECK(d.errors == 5);  // k1, e1, e2, e3 (cap unset), k2 (tenant unset)
  CHECK(d.first_error_rule == 0);
  CHECK(d.has_tag("i1"));
  CHECK(d.has_tag("b1"));
  CHECK(d.has_tag("g1"));
  CHECK(fb.asked ==
        twice({{"by_enum", "pro"}, {"by_int", "-12"}, {"by_bool", "false"}, {"global", ""}}));

  fb.asked.clear();
  fb.spend[{"by_enum", "free"}] = 3;
  d = run(p, {{"tenant", "acme"}, {"n", "7"}, {"tier", "free"}, {"cap", "0"}}, &fb);
  CHECK(d.errors == 1);  // e3: ratio with limit 0
  CHECK(d.first_error_rule == 3);
  for (const char* t : {"k1", "e2", "i1", "b1", "g1", "k2"}) {
    INFO(t);
    CHECK(d.has_tag(t));
  }
  CHECK_FALSE(d.has_tag("e1"));
  CHECK(fb.asked == twice({{"k_unset", "acme"},
                           {"by_enum", "free"},
                           {"by_int", "7"},
                           {"by_bool", "false"},
                           {"global", ""}}));
}

TEST_CASE("concat of literals and enums charges the scratch to the exact byte") {
  // 1019 + len(tier) bytes, then 2, then 0, then 1 + len(tier): with tier = pro the first three
  // fill the 1024 bytes exactly and the last one errs; with free the second one errs too.
  Policy p = compile(with_routes(R"(
policy boundary
input { tier: enum(free, pro) }
if ")" + std::string(1019, 'z') + R"(" + tier == "" tag "never"
if true tag "a" + "b"
if true tag "" + ""
if true tag "c" + tier
if true tag "d"
default route a
)"));
  Decision d = run(p, {{"tier", "pro"}});
  CHECK(d.errors == 1);
  CHECK(d.first_error_rule == 3);
  REQUIRE(d.tag_count == 3);
  CHECK(d.tag(0) == "ab");
  CHECK(d.tag(1).empty());
  CHECK(d.tag(2) == "d");
  d = run(p, {{"tier", "free"}});
  CHECK(d.errors == 2);
  CHECK(d.first_error_rule == 1);
  REQUIRE(d.tag_count == 2);
  CHECK(d.tag(0).empty());
  // tier unset: the first and the fourth rule err on the input, so "ab" fits.
  d = run(p, {});
  CHECK(d.errors == 2);
  CHECK(d.has_tag("ab"));
}
