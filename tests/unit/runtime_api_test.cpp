// The embedding API: Engine::compile (ok / diagnostics), Policy metadata, Request setters and
// every Status, interning, defaults, the engine ledger as budget source, zero allocations in
// decide() (counted with a replaced global operator new in this TU), and window_start().
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "compiler/ast.h"
#include "tollgate/tollgate.hpp"

namespace {
std::atomic<long> g_allocations{0};
}

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

using namespace tollgate;

namespace {

const char* kPolicy = R"(policy api on_error skip

input {
  tenant:    string
  tier:      enum(free, pro, enterprise) = pro
  task:      enum(classify, chat, qa)
  in_tokens: int
  ratio:     float = 0.5
  urgent:    bool = false
  region:    string = "eu"
}

routes {
  cheap  = "model-cheap" in $1/M out $2/M
  strong = "model-strong" in $3/M out $15/M
  bulk   = "model-bulk" batch
}

budget monthly = 100 usd per tenant per month
budget tpm = 200k tokens per tier per minute

if tenant == "blocked"                       deny "blocked tenant"
if monthly.ratio >= 1.0 and not urgent       deny "monthly budget exhausted"
if task == classify                          route cheap  max_out 64
if cost(strong, in_tokens, 1024) > $0.05     route cheap  max_out 512
default                                      route strong max_out 1024

if tenant startswith "trial-"   max_out 128
if tpm.remaining < in_tokens    max_in 1000
if true                         tag "tier:" + tier
if true                         tag tenant + "/" + region
)";

Policy compile_ok(Engine& engine, const std::string& src) {
  CompileResult r = engine.compile(src, "api.pol");
  INFO(r.rendered);
  REQUIRE(r.ok());
  return *r.policy;
}

Engine& interp_engine() {
  static Engine e([] {
    EngineOptions o;
    o.backend = Backend::Interpreter;
    return o;
  }());
  return e;
}

}  // namespace

TEST_CASE("compile: ok policy exposes its metadata") {
  Policy p = compile_ok(interp_engine(), kPolicy);
  CHECK(p.name() == "api");
  CHECK(p.file() == "api.pol");
  CHECK_FALSE(p.jitted());
  REQUIRE(p.inputs().size() == 7);
  CHECK(p.inputs()[0].name == "tenant");
  CHECK(p.inputs()[0].type == InputType::String);
  CHECK_FALSE(p.inputs()[0].has_default);
  CHECK(p.inputs()[1].type == InputType::Enum);
  CHECK(p.inputs()[1].members == std::vector<std::string>{"free", "pro", "enterprise"});
  CHECK(p.inputs()[1].has_default);
  CHECK(p.inputs()[4].type == InputType::Float);
  CHECK(p.inputs()[5].type == InputType::Bool);
  CHECK(p.slot("tenant") == 0);
  CHECK(p.slot("in_tokens") == 3);
  CHECK(p.slot("nope") == -1);

  REQUIRE(p.routes().size() == 3);
  CHECK(p.routes()[1].name == "strong");
  CHECK(p.routes()[1].model == "model-strong");
  CHECK(p.routes()[1].priced);
  CHECK(p.routes()[1].in_per_token == Approx(3e-6));
  CHECK(p.routes()[1].out_per_token == Approx(15e-6));
  CHECK(p.routes()[2].batch);
  CHECK_FALSE(p.routes()[2].priced);  // no price table, no inline price

  REQUIRE(p.rules().size() == 9);
  CHECK(p.rules()[0].line == 22);
  CHECK(p.rules()[0].col == 1);
  CHECK(p.rules()[0].text == "if tenant == \"blocked\" deny \"blocked tenant\"");
  CHECK(p.rules()[4].is_default);
  CHECK(p.rules()[4].text == "default route strong max_out 1024");
  CHECK(p.rules()[8].text == "if true tag tenant + \"/\" + region");

  REQUIRE(p.budgets().size() == 2);
  CHECK(p.budgets()[0].name == "monthly");
  CHECK(p.budgets()[0].unit == BudgetUnit::Usd);
  CHECK(p.budgets()[0].window == BudgetWindow::Month);
  CHECK(p.budgets()[0].key_input == 0);
  CHECK(p.budgets()[1].unit == BudgetUnit::Tokens);
  CHECK(p.budgets()[1].window == BudgetWindow::Minute);
  CHECK(p.budgets()[1].key_input == 1);
  CHECK(p.budgets_read() == std::vector<int>{0, 1});

  // The version hash is stable for the same text and changes with it.
  CHECK(p.version_hash().size() == 16);
  Policy again = compile_ok(interp_engine(), kPolicy);
  CHECK(again.version_hash() == p.version_hash());
  Policy other = compile_ok(interp_engine(), std::string(kPolicy) + "\n# comment\n");
  CHECK(other.version_hash() != p.version_hash());
}

TEST_CASE("compile: errors come back rendered clang-style, without a policy") {
  SECTION("checker error") {
    CompileResult r = interp_engine().compile(
        "policy bad\ninput { x: int }\nroutes { a = \"m\" }\nif y > 1 route a\n", "bad.pol");
    CHECK_FALSE(r.ok());
    const Diagnostic* err = nullptr;
    for (const auto& d : r.diagnostics)
      if (!err && d.severity == Severity::Error) err = &d;
    REQUIRE(err);
    CHECK(err->file == "bad.pol");
    CHECK(err->loc.line == 4);
    CHECK(err->loc.col == 4);
    CHECK(r.rendered.find("bad.pol:4:4: error:") != std::string::npos);
    CHECK(r.rendered.find("  if y > 1 route a\n     ^\n") != std::string::npos);
  }
  SECTION("syntax error") {
    CompileResult r = interp_engine().compile("policy bad\nif x > route a\n", "syn.pol");
    CHECK_FALSE(r.ok());
    REQUIRE_FALSE(r.diagnostics.empty());
    CHECK(r.rendered.find("syn.pol:2:") == 0);
  }
  SECTION("missing file") {
    CompileResult r = interp_engine().compile_file("/nonexistent/dir/x.pol");
    CHECK_FALSE(r.ok());
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.rendered.find("/nonexistent/dir/x.pol") == 0);
  }
}

TEST_CASE("compile: strict turns lint warnings into errors") {
  const char* src =
      "policy lint\ninput {\n  x: int\n  unused: int\n}\n"
      "routes { a = \"m\" in $1/M out $1/M }\nif x > 1 route a\ndefault route a\n";
  // Lints are authoring feedback: off by default (a host's reload skips their cost), on request.
  CompileResult quiet = interp_engine().compile(src, "lint.pol");
  REQUIRE(quiet.ok());
  CHECK(quiet.diagnostics.empty());
  EngineOptions lo;
  lo.backend = Backend::Interpreter;
  lo.lints = true;
  CompileResult lax = Engine(lo).compile(src, "lint.pol");
  REQUIRE(lax.ok());
  bool warned = false;
  for (const auto& d : lax.diagnostics) warned |= d.severity == Severity::Warning;
  CHECK(warned);
  EngineOptions o;
  o.backend = Backend::Interpreter;
  o.strict = true;
  Engine strict(o);
  CompileResult r = strict.compile(src, "lint.pol");
  CHECK_FALSE(r.ok());
  CHECK(r.rendered.find("error:") != std::string::npos);
}

TEST_CASE("compile_file reads a policy from disk") {
  std::string path = std::string(TOLLGATE_SOURCE_DIR) + "/policies/gateway.pol";
  CompileResult r = interp_engine().compile_file(path);
  INFO(r.rendered);
  CHECK(r.ok());
  if (r.ok()) CHECK(r.policy->file() == path);
}

TEST_CASE("prices from the engine's table; batch routes use batch prices") {
  auto table = std::make_shared<PriceTable>();
  ModelPrice bulk;
  bulk.in_per_token = 2e-6;
  bulk.out_per_token = 8e-6;
  bulk.batch_in_per_token = 1e-6;
  bulk.batch_out_per_token = 4e-6;
  bulk.cache_read_per_token = 0.5e-6;
  table->add("model-bulk", bulk);
  EngineOptions o;
  o.backend = Backend::Interpreter;
  o.prices = table;
  Engine engine(o);
  Policy p = compile_ok(engine, kPolicy);
  const RouteInfo& r = p.routes()[2];
  CHECK(r.priced);
  CHECK(r.in_per_token == Approx(1e-6));
  CHECK(r.out_per_token == Approx(4e-6));
  CHECK(r.cache_read_per_token == Approx(0.5e-6));
  // Inline prices win over the table.
  CHECK(p.routes()[0].in_per_token == Approx(1e-6));
}

TEST_CASE("Request: typed setters and every Status") {
  Policy p = compile_ok(interp_engine(), kPolicy);
  Request req(p);
  const int tenant = p.slot("tenant"), tier = p.slot("tier"), in_tokens = p.slot("in_tokens"),
            ratio = p.slot("ratio"), urgent = p.slot("urgent");
  CHECK(req.size() == 7);

  CHECK(req.set_int(in_tokens, 42) == Status::Ok);
  CHECK(req.slots()[in_tokens].i == 42);
  CHECK(req.has(in_tokens));
  CHECK(req.set_int(ratio, 2) == Status::Ok);  // int into a float input converts
  CHECK(req.slots()[ratio].f == 2.0);
  CHECK(req.set_float(ratio, 0.25) == Status::Ok);
  CHECK(req.slots()[ratio].f == 0.25);
  CHECK(req.set_bool(urgent, true) == Status::Ok);
  CHECK(req.slots()[urgent].i == 1);
  CHECK(req.set_enum(tier, 2) == Status::Ok);
  CHECK(req.slots()[tier].i == 2);
  CHECK(req.set_enum(tier, "free") == Status::Ok);
  CHECK(req.slots()[tier].i == 0);
  CHECK(req.set_string(tenant, "acme") == Status::Ok);

  CHECK(req.set_int(-1, 1) == Status::UnknownInput);
  CHECK(req.set_int(7, 1) == Status::UnknownInput);
  CHECK(req.set_float(99, 1) == Status::UnknownInput);
  CHECK(req.set_bool(-5, true) == Status::UnknownInput);
  CHECK(req.set_enum(-1, 0) == Status::UnknownInput);
  CHECK(req.set_enum(-1, "free") == Status::UnknownInput);
  CHECK(req.set_string(-1, "x") == Status::UnknownInput);
  CHECK(req.set_string_copy(100, "x") == Status::UnknownInput);
  CHECK(req.set("nope", "1") == Status::UnknownInput);
  CHECK_FALSE(req.has(-1));
  CHECK_FALSE(req.has(100));

  CHECK(req.set_int(tenant, 1) == Status::WrongType);
  CHECK(req.set_float(in_tokens, 1.5) == Status::WrongType);
  CHECK(req.set_bool(in_tokens, true) == Status::WrongType);
  CHECK(req.set_enum(in_tokens, 0) == Status::WrongType);
  CHECK(req.set_enum(tenant, "free") == Status::WrongType);
  CHECK(req.set_string(tier, "free") == Status::WrongType);
  CHECK(req.set_string_copy(in_tokens, "1") == Status::WrongType);

  CHECK(req.set_enum(tier, 3) == Status::UnknownEnumValue);
  CHECK(req.set_enum(tier, -1) == Status::UnknownEnumValue);
  CHECK(req.set_enum(tier, "platinum") == Status::UnknownEnumValue);
  CHECK(req.set("tier", "Free") == Status::UnknownEnumValue);

  CHECK(req.set("in_tokens", "12abc") == Status::BadValue);
  CHECK(req.set("in_tokens", "") == Status::BadValue);
  CHECK(req.set("in_tokens", "99999999999999999999") == Status::BadValue);
  CHECK(req.set("in_tokens", "9223372036854775807k") == Status::BadValue);
  CHECK(req.set("urgent", "yes") == Status::BadValue);
  CHECK(req.set("ratio", "half") == Status::BadValue);
  CHECK(std::string(to_string(Status::BadValue)).size() > 0);
}

TEST_CASE("Request::set parses values like the language") {
  Policy p = compile_ok(interp_engine(), kPolicy);
  Request req(p);
  auto int_of = [&](const char* text) {
    REQUIRE(req.set("in_tokens", text) == Status::Ok);
    return req.slots()[p.slot("in_tokens")].i;
  };
  CHECK(int_of("300") == 300);
  CHECK(int_of("8k") == 8000);
  CHECK(int_of("2M") == 2000000);
  CHECK(int_of("1_000") == 1000);
  CHECK(int_of("-3") == -3);
  CHECK(int_of("200ms") == 200);
  CHECK(int_of("5s") == 5000);
  CHECK(int_of("2min") == 120000);
  CHECK(int_of("1h") == 3600000);
  CHECK(int_of("-9223372036854775808") == std::numeric_limits<int64_t>::min());
  auto float_of = [&](const char* text) {
    REQUIRE(req.set("ratio", text) == Status::Ok);
    return req.slots()[p.slot("ratio")].f;
  };
  CHECK(float_of("0.5") == 0.5);
  CHECK(float_of("3") == 3.0);
  CHECK(float_of("80%") == Approx(0.8));
  CHECK(float_of("$0.05") == Approx(0.05));
  CHECK(float_of("5000 usd") == 5000.0);
  CHECK(float_of("-1.5") == -1.5);
  REQUIRE(req.set("urgent", "true") == Status::Ok);
  CHECK(req.slots()[p.slot("urgent")].i == 1);
  REQUIRE(req.set("urgent", "false") == Status::Ok);
  CHECK(req.slots()[p.slot("urgent")].i == 0);
  REQUIRE(req.set("tier", "enterprise") == Status::Ok);
  CHECK(req.slots()[p.slot("tier")].i == 2);
  REQUIRE(req.set("tenant", "\"quoted\"") == Status::Ok);
  const Slot& s = req.slots()[p.slot("tenant")];
  CHECK(std::string(s.str, s.len) == "quoted");
}

TEST_CASE("Request: string interning against the policy's literals") {
  Policy p = compile_ok(interp_engine(), kPolicy);
  const auto& lits = p.program().string_literals;
  Request req(p);
  const int tenant = p.slot("tenant");
  REQUIRE(req.set_string(tenant, "blocked") == Status::Ok);
  const Slot& s = req.slots()[tenant];
  REQUIRE(s.str_id >= 0);
  REQUIRE(static_cast<size_t>(s.str_id) < lits.size());
  CHECK(lits[s.str_id] == "blocked");
  REQUIRE(req.set_string(tenant, "someone-else") == Status::Ok);
  CHECK(req.slots()[tenant].str_id == -1);
  // set_string_copy keeps its own bytes.
  {
    std::string temp = "blocked";
    REQUIRE(req.set_string_copy(tenant, temp) == Status::Ok);
    temp.assign("xxxxxxx");
  }
  CHECK(std::string(req.slots()[tenant].str, req.slots()[tenant].len) == "blocked");
  CHECK(req.slots()[tenant].str_id >= 0);
  Decision d = p.decide(req);
  CHECK(d.denied);
  CHECK(std::string(d.deny_reason) == "blocked tenant");
}

TEST_CASE("Request: reset fills defaults, unset") {
  Policy p = compile_ok(interp_engine(), kPolicy);
  Request req(p);
  const int tier = p.slot("tier"), ratio = p.slot("ratio"), region = p.slot("region");
  CHECK_FALSE(req.has(tier));
  CHECK(req.slots()[tier].i == 1);  // pro
  CHECK(req.slots()[ratio].f == 0.5);
  CHECK(std::string(req.slots()[region].str, req.slots()[region].len) == "eu");
  CHECK(req.slots()[region].str_id >= 0);  // "eu" is a literal of the policy
  REQUIRE(req.set_enum(tier, "free") == Status::Ok);
  CHECK(req.has(tier));
  req.now_ms = 5;
  req.reset();
  CHECK_FALSE(req.has(tier));
  CHECK(req.slots()[tier].i == 1);
  CHECK(req.now_ms == 0);
}

TEST_CASE("Request::copy_from: one decoding, decided under two policies") {
  Policy p = compile_ok(interp_engine(), kPolicy);
  // Same inputs, other defaults and other string literals ("blocked" has another id, "eu" none).
  std::string v2 = kPolicy;
  v2.replace(v2.find("= pro"), 5, "= free");
  v2.replace(v2.find("\"blocked\""), 9, "\"vip\"");
  v2.replace(v2.find("if true                         tag \"tier:\""), 0,
             "if tenant == \"blocked\"  max_out 7\n");
  Policy q = compile_ok(interp_engine(), v2);
  Request from(p), to(q);
  REQUIRE(from.set("tenant", "blocked") == Status::Ok);
  REQUIRE(from.set("task", "qa") == Status::Ok);
  REQUIRE(from.set("in_tokens", "1200") == Status::Ok);
  REQUIRE(from.set("urgent", "true") == Status::Ok);
  REQUIRE(to.set("ratio", "0.9") == Status::Ok);  // set before: copy_from resets it
  for (int round = 0; round < 2; ++round) {       // the second call takes the memoised comparison
    REQUIRE(to.copy_from(from) == Status::Ok);
    const int tenant = q.slot("tenant"), tier = q.slot("tier"), ratio = q.slot("ratio");
    CHECK(to.has(tenant));
    CHECK(to.slots()[tenant].str == from.slots()[tenant].str);        // borrowed, not copied
    CHECK(to.slots()[tenant].str_id != from.slots()[tenant].str_id);  // q's own literal id
    CHECK(q.program().string_literals[to.slots()[tenant].str_id] == "blocked");
    CHECK_FALSE(to.has(tier));
    CHECK(to.slots()[tier].i == 0);  // q's default (free), not p's
    CHECK_FALSE(to.has(ratio));
    CHECK(to.slots()[ratio].f == 0.5);
    Decision d = q.decide(to);
    CHECK(d.max_out == 7);  // `tenant == "blocked"` matched through the recomputed id
    CHECK(d.has_tag("tier:free"));
    CHECK(d.has_tag("blocked/eu"));
  }
  // The same policy: literal ids carry over.
  Request same(p);
  from.now_ms = 1'700'000'000'000;
  REQUIRE(same.copy_from(from) == Status::Ok);
  CHECK(same.now_ms == from.now_ms);
  CHECK(p.decide(same).denied);
  // Same inputs, literals and defaults, other rules: the slot array is copied whole.
  std::string v3 = kPolicy;
  v3.replace(v3.find("max_out 64"), 10, "max_out 32");
  Policy p3 = compile_ok(interp_engine(), v3);
  Request r3(p3);
  REQUIRE(r3.set("ratio", "0.9") == Status::Ok);
  REQUIRE(from.set("task", "classify") == Status::Ok);
  REQUIRE(from.set("tenant", "acme") == Status::Ok);
  REQUIRE(r3.copy_from(from) == Status::Ok);
  CHECK_FALSE(r3.has(p3.slot("ratio")));
  CHECK(r3.slots()[p3.slot("ratio")].f == 0.5);
  CHECK(r3.now_ms == from.now_ms);
  Decision d3 = p3.decide(r3);
  CHECK(d3.max_out == 32);
  CHECK(d3.has_tag("acme/eu"));
  // Other inputs: refused, and left reset.
  Policy small = compile_ok(interp_engine(),
                            "policy small\ninput { tenant: string }\nroutes { a = \"m\" "
                            "self_hosted }\ndefault route a\n");
  Request other(small);
  REQUIRE(other.set("tenant", "x") == Status::Ok);
  CHECK(other.copy_from(from) == Status::WrongType);
  CHECK_FALSE(other.has(small.slot("tenant")));
  // Same names and types, enum members reordered: refused.
  std::string reordered = kPolicy;
  reordered.replace(reordered.find("classify, chat, qa"), 18, "chat, classify, qa");
  Policy r = compile_ok(interp_engine(), reordered);
  Request rr(r);
  CHECK(rr.copy_from(from) == Status::WrongType);
}

TEST_CASE("decide: a full request, defaults and tags") {
  Policy p = compile_ok(interp_engine(), kPolicy);
  Request req(p);
  REQUIRE(req.set("tenant", "trial-acme") == Status::Ok);
  REQUIRE(req.set("task", "chat") == Status::Ok);
  REQUIRE(req.set("in_tokens", "1000") == Status::Ok);
  req.now_ms = 1'700'000'000'000;
  Decision d = p.decide(req);
  CHECK(d.errors == 0);
  CHECK_FALSE(d.denied);
  // 1000 * 3e-6 + 1024 * 15e-6 = 0.01836 <= $0.05: the default routes to strong.
  CHECK(p.routes()[d.route].name == "strong");
  CHECK(d.rule_for(Field::Route) == 4);
  CHECK(d.max_out == 128);
  CHECK(d.rule_for(Field::MaxOut) == 5);
  CHECK(d.max_in == kNoCap);
  CHECK(d.has_tag("tier:pro"));
  CHECK(d.has_tag("trial-acme/eu"));
}

TEST_CASE("decide reads budgets from the engine's ledger") {
  EngineOptions o;
  o.backend = Backend::Interpreter;
  Engine engine(o);
  Policy p = compile_ok(engine, kPolicy);
  Request req(p);
  REQUIRE(req.set("tenant", "acme") == Status::Ok);
  REQUIRE(req.set("task", "chat") == Status::Ok);
  REQUIRE(req.set("in_tokens", "1000") == Status::Ok);
  req.now_ms = 1'700'000'000'000;
  CHECK_FALSE(p.decide(req).denied);
  engine.ledger().add(p.budgets()[0], "acme", req.now_ms, 150.0);
  Decision d = p.decide(req);
  CHECK(d.denied);
  CHECK(std::string(d.deny_reason) == "monthly budget exhausted");
  CHECK(d.rule_for(Field::Route) == 1);
  // Another tenant's counter is separate; a later month starts afresh.
  REQUIRE(req.set("tenant", "other") == Status::Ok);
  CHECK_FALSE(p.decide(req).denied);
  REQUIRE(req.set("tenant", "acme") == Status::Ok);
  req.now_ms += 40LL * 86'400'000;
  CHECK_FALSE(p.decide(req).denied);
  // tpm: 200k tokens per tier per minute.
  req.now_ms = 1'700'000'000'000;
  engine.ledger().add(p.budgets()[1], "pro", req.now_ms, 199'500);
  req.set("urgent", "true");
  d = p.decide(req);
  CHECK(d.max_in == 1000);
}

namespace {

class ClockProbe : public BudgetReader {
 public:
  mutable int64_t seen = 0;
  double spent(const BudgetInfo&, std::string_view, int64_t now_ms) const override {
    seen = now_ms;
    return 0;
  }
};

}  // namespace

TEST_CASE("decide: now_ms = 0 means the wall clock") {
  Policy p = compile_ok(interp_engine(), kPolicy);
  Request req(p);
  REQUIRE(req.set("tenant", "acme") == Status::Ok);
  REQUIRE(req.set("task", "chat") == Status::Ok);
  REQUIRE(req.set("in_tokens", "10") == Status::Ok);
  ClockProbe probe;
  auto now = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  int64_t before = now();
  Decision d;
  p.decide(req, probe, &d);
  int64_t after = now();
  CHECK(probe.seen >= before);
  CHECK(probe.seen <= after);
  req.now_ms = 12345;
  p.decide(req, probe, &d);
  CHECK(probe.seen == 12345);
}

TEST_CASE("decide: a Request of another policy is refused, not misread") {
  Policy p = compile_ok(interp_engine(), kPolicy);
  Policy small = compile_ok(interp_engine(),
                            "policy small\ninput { x: int }\nroutes { a = \"m\" self_hosted }\n"
                            "default route a\n");
  Request req(small);
  Decision d = p.decide(req);
  CHECK(d.denied);
  CHECK(d.errors == 1);
}

TEST_CASE("a Policy outlives its Engine") {
  std::optional<Policy> p;
  {
    Engine engine([] {
      EngineOptions o;
      o.backend = Backend::Interpreter;
      return o;
    }());
    p = compile_ok(engine, kPolicy);
  }
  Request req(*p);
  REQUIRE(req.set("tenant", "blocked") == Status::Ok);
  Decision d = p->decide(req);
  CHECK(std::string(d.deny_reason) == "blocked tenant");
}

namespace {

void check_no_allocations(Engine& engine) {
  Policy p = compile_ok(engine, kPolicy);
  // The JIT tier is built on the engine's thread, which allocates; the counter is global, so
  // measure once it serves (and so measure the JIT's decide, not the interpreter's).
  p.wait_for_jit();
  Request req(p);
  const int tenant = p.slot("tenant"), task = p.slot("task"), in_tokens = p.slot("in_tokens"),
            tier = p.slot("tier");
  std::string tenant_name = "trial-acme";
  req.now_ms = 1'700'000'000'000;
  engine.ledger().add(p.budgets()[0], "trial-acme", req.now_ms, 10.0);
  Decision d;
  // Warm up once (first-touch paths may initialise statics).
  REQUIRE(req.set_string(tenant, tenant_name) == Status::Ok);
  REQUIRE(req.set_enum(task, "chat") == Status::Ok);
  REQUIRE(req.set_int(in_tokens, 1000) == Status::Ok);
  p.decide(req, &d);

  long before = g_allocations.load();
  for (int i = 0; i < 100; ++i) {
    req.reset();
    req.now_ms = 1'700'000'000'000 + i;
    req.set_string(tenant, tenant_name);
    req.set_enum(task, i % 2 ? "chat" : "qa");
    req.set_enum(tier, i % 3);
    req.set_int(in_tokens, 1000 + i);
    p.decide(req, &d);
  }
  long after = g_allocations.load();
  CHECK(after - before == 0);
  CHECK(d.errors == 0);
  CHECK(d.tag_count == 2);
  // The counter really counts.
  long probe_before = g_allocations.load();
  void* volatile probe = ::operator new(100);  // a direct call cannot be elided
  ::operator delete(probe);
  CHECK(g_allocations.load() > probe_before);
}

}  // namespace

TEST_CASE("decide and the typed setters never allocate (interpreter)") {
  check_no_allocations(interp_engine());
}

TEST_CASE("decide never allocates (default backend)") {
  Engine engine;
  check_no_allocations(engine);
}

TEST_CASE("window_start: UTC calendar windows") {
  const int64_t t = 1709214330123;  // 2024-02-29T13:45:30.123Z (leap day)
  CHECK(window_start(BudgetWindow::Minute, t) == 1709214300000);
  CHECK(window_start(BudgetWindow::Hour, t) == 1709211600000);
  CHECK(window_start(BudgetWindow::Day, t) == 1709164800000);
  CHECK(window_start(BudgetWindow::Month, t) == 1706745600000);  // 2024-02-01

  const int64_t mar1 = 1709251200000;  // 2024-03-01T00:00:00Z
  CHECK(window_start(BudgetWindow::Month, mar1) == mar1);
  CHECK(window_start(BudgetWindow::Month, mar1 - 1) == 1706745600000);
  CHECK(window_start(BudgetWindow::Day, mar1 - 1) == 1709164800000);

  const int64_t ny = 1704067200000;                                   // 2024-01-01T00:00:00Z
  CHECK(window_start(BudgetWindow::Month, ny - 1) == 1701388800000);  // 2023-12-01
  CHECK(window_start(BudgetWindow::Month, ny) == ny);
  CHECK(window_start(BudgetWindow::Minute, ny - 1) == ny - 60000);

  // 2000 is a leap year (divisible by 400); 2100 is not.
  CHECK(window_start(BudgetWindow::Month, 951825600000) == 949363200000);    // 2000-02-29 12:00
  CHECK(window_start(BudgetWindow::Month, 4107560400000) == 4107542400000);  // 2100-03-01 05:00
  CHECK(window_start(BudgetWindow::Month, 4107542400000 - 1) ==
        4107542400000 - 28LL * 86400000);  // Feb 2100 has 28 days

  // Before the epoch the windows still floor.
  CHECK(window_start(BudgetWindow::Day, -1) == -86400000);
  CHECK(window_start(BudgetWindow::Month, -1) == -2678400000);  // 1969-12-01
  CHECK(window_start(BudgetWindow::Minute, -1) == -60000);
  CHECK(window_start(BudgetWindow::Month, 0) == 0);
}

TEST_CASE("compile and decide from several threads") {
  Engine engine;
  Policy shared = compile_ok(engine, kPolicy);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      // Each thread compiles its own copy and decides on both its own and the shared policy.
      CompileResult r = engine.compile(kPolicy, "thread.pol");
      if (!r.ok()) {
        ++failures;
        return;
      }
      for (const Policy* p : {&*r.policy, &shared}) {
        Request req(*p);
        req.set("tenant", t % 2 ? "blocked" : "acme");
        req.set("task", "chat");
        req.set("in_tokens", "100");
        req.now_ms = 1'700'000'000'000;
        for (int i = 0; i < 2000; ++i) {
          Decision d = p->decide(req);
          if (d.denied != (t % 2 == 1)) ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
}

TEST_CASE("compile never throws on garbage input") {
  const std::string inputs[] = {
      std::string("\0\xff{{{", 5), "policy",       "if", "input { x: }", "routes { a = }",
      std::string(10000, '('),     "default route"};
  for (const auto& src : inputs) {
    CompileResult r = interp_engine().compile(src, "junk.pol");
    CHECK_FALSE(r.ok());
    CHECK_FALSE(r.rendered.empty());
  }
}
