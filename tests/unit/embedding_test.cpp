// Embedding API beyond the ledger: audit records (valid JSON with the documented fields, buffer
// reuse), shadow mode (counters per field, bounded samples, schema translation by input name),
// and the C ABI's contracts (error codes, thread-local messages, ownership, buffers).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tollgate.h"
#include "tollgate/audit.hpp"
#include "tollgate/engine.hpp"
#include "tollgate/ledger.hpp"
#include "tollgate/policy_handle.hpp"

using namespace tollgate;
using nlohmann::json;

namespace {

const int64_t kNow = 1'763'900'000'000;

const char* kLive = R"(policy gw
input {
  tenant: string
  task: enum(classify, chat) = chat
  attempt: int = 0
}
routes {
  cheap = "m-cheap" in $1/M out $2/M
  strong = "m-strong" in $3/M out $15/M
}
budget monthly = $10 usd per tenant per month
if monthly.ratio >= 1.0 deny "monthly budget exhausted"
if task == classify route cheap max_out 64
default route strong max_out 1024
if attempt < 2 retry backoff 200ms
if true tag "t:" + task
)";

// Same decisions except classify gets max_out 128; declares inputs in another order and adds one.
const char* kCandidate = R"(policy gw
input {
  region: string = "eu"
  attempt: int = 0
  task: enum(chat, classify) = chat
  tenant: string
}
routes {
  strong = "m-strong" in $3/M out $15/M
  cheap = "m-cheap" in $1/M out $2/M
}
budget monthly = $10 usd per tenant per month
if monthly.ratio >= 1.0 deny "monthly budget exhausted"
if task == classify route cheap max_out 128
default route strong max_out 1024
if attempt < 2 retry backoff 200ms
if true tag "t:" + task
)";

Policy compile(Engine& e, const char* src) {
  CompileResult r = e.compile(src, "p.pol");
  INFO(r.rendered);
  REQUIRE(r.ok());
  return *r.policy;
}

}  // namespace

TEST_CASE("audit: a record is JSON with the documented fields", "[audit]") {
  Engine e(EngineOptions{Backend::Interpreter, nullptr, false, nullptr});
  Policy p = compile(e, kLive);
  Ledger& ledger = e.ledger();
  Request req(p);
  req.set_string(p.slot("tenant"), "acme \"q\"");
  req.set_enum(p.slot("task"), "classify");
  req.now_ms = kNow;
  ledger.add(p.budgets()[0], "acme \"q\"", kNow, 2.5);
  Decision d;
  p.decide(req, &d);

  std::string buf;
  AuditContext ctx;
  ctx.request = &req;
  ctx.budgets = &ledger;
  ctx.now_ms = kNow;
  ctx.include_inputs = true;
  render_audit(p, d, ctx, &buf);
  json j = json::parse(buf);
  CHECK(j["v"] == kAuditSchemaVersion);
  CHECK(j["ts_ms"] == kNow);
  CHECK(j["policy"] == "gw");
  CHECK(j["version"] == p.version_hash());
  CHECK(j["decision"] == "route");
  CHECK(j["route"] == "cheap");
  CHECK(j["model"] == "m-cheap");
  CHECK(j["max_out"] == 64);
  CHECK(j["max_in"].is_null());
  CHECK(j["retry"] == true);
  CHECK(j["backoff_ms"] == 200);
  CHECK(j["cache"] == "off");
  CHECK(j["tags"] == json::array({"t:classify"}));
  CHECK(j["rules"]["route"]["line"] == 13);
  CHECK(j["rules"]["retry"]["line"] == 15);
  CHECK(j["errors"] == 0);
  REQUIRE(j["budgets"].size() == 1);
  CHECK(j["budgets"][0]["name"] == "monthly");
  CHECK(j["budgets"][0]["key"] == "acme \"q\"");
  CHECK(j["budgets"][0]["spent"] == 2.5);
  CHECK(j["budgets"][0]["limit"] == 10.0);
  CHECK(j["budgets"][0]["ratio"] == 0.25);
  CHECK(j["inputs"]["tenant"] == "acme \"q\"");
  CHECK(j["inputs"]["task"] == "classify");

  // Reusing the buffer: a second render replaces the first and keeps the capacity.
  const size_t cap = buf.capacity();
  render_audit(p, d, ctx, &buf);
  CHECK(buf.capacity() == cap);
  CHECK(json::parse(buf)["route"] == "cheap");

  // Admission records carry the estimate and the admission outcome.
  Admission a = ledger.admit(p, req, Estimate{1000, 0});
  REQUIRE(a.admitted());
  render_audit(a, &req, &ledger, &buf);
  j = json::parse(buf);
  CHECK(j["admitted"] == true);
  CHECK(j["estimate"]["tokens"] == 1064);
  CHECK(j["estimate"]["cost_usd"].get<double>() == Approx(1000e-6 + 64 * 2e-6));
  ledger.release(a);

  // A denial: reason, no route.
  ledger.add(p.budgets()[0], "acme \"q\"", kNow, 100);
  p.decide(req, &d);
  render_audit(p, d, ctx, &buf);
  j = json::parse(buf);
  CHECK(j["decision"] == "deny");
  CHECK(j["deny_reason"] == "monthly budget exhausted");
  CHECK_FALSE(j.contains("route"));
}

TEST_CASE("shadow: counters per field and bounded samples", "[shadow]") {
  Engine e(EngineOptions{Backend::Interpreter, nullptr, false, nullptr});
  PolicyHandle h(e, compile(e, kLive));
  CHECK_FALSE(h.shadow_stats().active);
  ReloadResult bad = h.set_candidate("policy x\ndefault route nowhere\n");
  CHECK_FALSE(bad.ok);
  CHECK_FALSE(h.shadow_stats().active);
  ReloadResult r = h.set_candidate(kCandidate, "cand.pol");
  REQUIRE(r.ok);

  Policy live = h.current();
  Request req(live);
  Decision d;
  for (int i = 0; i < 100; ++i) {
    req.reset();
    req.set_string(live.slot("tenant"), i % 3 ? "acme" : "globex");
    req.set_enum(live.slot("task"), i % 2 ? "classify" : "chat");
    req.now_ms = kNow;
    h.decide(live, req, &d);
    CHECK(d.max_out == (i % 2 ? 64 : 1024));  // the live decision is what the host gets
  }
  ShadowStats st = h.shadow_stats();
  CHECK(st.active);
  CHECK(st.candidate_version == r.version_hash);
  CHECK(st.decisions == 100);
  CHECK(st.differ == 50);  // classify: max_out 64 vs 128
  CHECK(st.agree == 50);
  CHECK(st.per_field[2] == 50);  // max_out
  CHECK(st.per_field[0] == 0);   // route names agree although route indexes differ
  CHECK(st.samples.size() == static_cast<size_t>(PolicyHandle::kMaxSamples));
  json s = json::parse(st.samples[0].inputs);
  CHECK(s["task"] == "classify");
  CHECK(json::parse(st.samples[0].live)["max_out"] == 64);
  CHECK(json::parse(st.samples[0].candidate)["max_out"] == 128);
  std::string js;
  render_shadow_stats(st, &js);
  json sj = json::parse(js);
  CHECK(sj["per_field"]["max_out"] == 50);
  CHECK(sj["samples"][0]["fields"] == json::array({"max_out"}));

  // A new candidate resets the counters; clearing stops shadowing.
  REQUIRE(h.set_candidate(kLive, "same.pol").ok);
  h.decide(live, req, &d);
  CHECK(h.shadow_stats().decisions == 1);
  CHECK(h.shadow_stats().agree == 1);
  h.clear_candidate();
  CHECK_FALSE(h.shadow_stats().active);
}

TEST_CASE("c abi: errors, ownership and buffers", "[c_api]") {
  tg_engine* e = nullptr;
  CHECK(tg_engine_create(nullptr, nullptr) == TG_ERR_INVALID_ARGUMENT);
  CHECK(std::string(tg_last_error()).find("invalid argument") != std::string::npos);
  tg_engine_config cfg;
  tg_engine_config_init(&cfg);
  cfg.use_interpreter = 1;
  REQUIRE(tg_engine_create(&cfg, &e) == TG_OK);
  CHECK(std::string(tg_last_error()).empty());

  tg_policy* p = nullptr;
  const char* broken = "policy b\ndefault route nowhere\n";
  CHECK(tg_compile(e, broken, std::strlen(broken), "b.pol", &p) == TG_ERR_COMPILE);
  CHECK(p == nullptr);
  CHECK(std::string(tg_last_error()).find("b.pol:2:") != std::string::npos);
  CHECK(tg_compile_file(e, "/nonexistent.pol", &p) == TG_ERR_IO);

  REQUIRE(tg_compile(e, kLive, std::strlen(kLive), "gw.pol", &p) == TG_OK);
  CHECK(std::string(tg_policy_name(p)) == "gw");
  CHECK(tg_policy_jitted(p) == 0);
  CHECK(tg_policy_slot(p, "task") == 1);
  CHECK(tg_policy_slot(p, "nope") == -1);
  CHECK(tg_policy_input_count(p) == 3);
  CHECK(std::string(tg_policy_route_model(p, 1)) == "m-strong");
  CHECK(tg_policy_route_name(p, 9) == nullptr);

  tg_request* r = nullptr;
  REQUIRE(tg_request_create(p, &r) == TG_OK);
  tg_policy_release(p);  // the request keeps its own reference
  p = const_cast<tg_policy*>(tg_request_policy(r));
  CHECK(std::string(tg_policy_name(p)) == "gw");

  CHECK(tg_request_set_int(r, 0, 5) == TG_ERR_WRONG_TYPE);
  CHECK(tg_request_set_int(r, 99, 5) == TG_ERR_UNKNOWN_INPUT);
  CHECK(tg_request_set_enum(r, 1, "poetry") == TG_ERR_UNKNOWN_ENUM);
  CHECK(tg_request_set(r, "attempt", "many") == TG_ERR_BAD_VALUE);
  CHECK(std::string(tg_last_error()).find("attempt") != std::string::npos);
  CHECK(tg_request_set(r, "nope", "1") == TG_ERR_UNKNOWN_INPUT);
  REQUIRE(tg_request_set_string(r, 0, "acme", 4) == TG_OK);
  REQUIRE(tg_request_set_enum(r, 1, "classify") == TG_OK);
  tg_request_set_time(r, kNow);

  tg_decision* d = nullptr;
  REQUIRE(tg_decision_create(&d) == TG_OK);
  CHECK(tg_decide(nullptr, d) == TG_ERR_INVALID_ARGUMENT);
  REQUIRE(tg_decide(r, d) == TG_OK);
  CHECK(tg_decision_denied(d) == 0);
  CHECK(std::string(tg_decision_route(d)) == "cheap");
  CHECK(tg_decision_max_out(d) == 64);
  CHECK(tg_decision_max_in(d) == -1);
  CHECK(tg_decision_retry(d) == 1);
  CHECK(tg_decision_rule_line(d, TG_FIELD_ROUTE) == 13);
  size_t len = 0;
  const char* tag = tg_decision_tag(d, 0, &len);
  CHECK(std::string(tag, len) == "t:classify");
  CHECK(tg_decision_tag(d, 1, &len) == nullptr);
  const char* audit = tg_decision_audit_json(d, r);
  REQUIRE(audit != nullptr);
  CHECK(json::parse(audit)["budgets"][0]["key"] == "acme");

  tg_admission* a = nullptr;
  REQUIRE(tg_admission_create(&a) == TG_OK);
  tg_usage u{1000, 10, 0, -1};
  CHECK(tg_record(a, &u) == TG_ERR_STATE);  // nothing admitted yet
  REQUIRE(tg_admit(e, r, 1000, 0, a) == TG_OK);
  CHECK(tg_admission_admitted(a) == 1);
  CHECK(tg_admission_pending(a) == 1);
  CHECK(std::string(tg_decision_route(tg_admission_decision(a))) == "cheap");
  REQUIRE(tg_record(a, &u) == TG_OK);
  CHECK(tg_release(a) == TG_ERR_STATE);
  double spent = 0;
  REQUIRE(tg_ledger_spent(e, p, "monthly", "acme", kNow, &spent) == TG_OK);
  CHECK(spent == Approx(1000e-6 + 10 * 2e-6));
  CHECK(tg_ledger_spent(e, p, "nope", "acme", kNow, &spent) == TG_ERR_INVALID_ARGUMENT);
  const std::string snap = "/tmp/tollgate_c_api_test_ledger.json";
  REQUIRE(tg_ledger_save(e, snap.c_str()) == TG_OK);
  CHECK(tg_ledger_load(e, "/nonexistent/x.json") == TG_ERR_IO);

  tg_handle* h = nullptr;
  REQUIRE(tg_handle_create(e, p, &h) == TG_OK);
  CHECK(tg_handle_reload(h, broken, std::strlen(broken), "b.pol") == TG_ERR_COMPILE);
  REQUIRE(tg_handle_set_candidate(h, kCandidate, std::strlen(kCandidate), "c.pol") == TG_OK);
  REQUIRE(tg_handle_decide(h, r, d) == TG_OK);
  CHECK(tg_decision_max_out(d) == 64);
  char small[8];
  size_t needed = 0;
  CHECK(tg_handle_shadow_json(h, small, sizeof small, &needed) == TG_ERR_BUFFER_TOO_SMALL);
  CHECK(small[0] == '\0');
  std::string big(needed + 1, '\0');
  REQUIRE(tg_handle_shadow_json(h, &big[0], big.size(), &needed) == TG_OK);
  json sj = json::parse(big.c_str());
  CHECK(sj["differ"] == 1);
  tg_policy* cur = tg_handle_current(h);
  REQUIRE(cur != nullptr);
  CHECK(std::string(tg_policy_version(cur)) == tg_policy_version(p));
  tg_policy_release(cur);

  // A second engine restores the snapshot.
  tg_engine* e2 = nullptr;
  tg_engine_config cfg2;
  tg_engine_config_init(&cfg2);
  cfg2.use_interpreter = 1;
  cfg2.ledger_snapshot = snap.c_str();
  cfg2.ledger_url = "memory";
  REQUIRE(tg_engine_create(&cfg2, &e2) == TG_OK);
  tg_engine* bad = nullptr;
  tg_engine_config cfg3;
  tg_engine_config_init(&cfg3);
  cfg3.ledger_url = "carrier-pigeon://loft";
  CHECK(tg_engine_create(&cfg3, &bad) == TG_ERR_BAD_VALUE);
  CHECK(bad == nullptr);
  CHECK(std::string(tg_last_error()).find("ledger_url") != std::string::npos);
  // (Only counters of the current window are restored: the record above used a fixed 2025
  // time, so nothing of it is current now.)
  tg_engine_destroy(e2);

  tg_handle_destroy(h);
  tg_admission_destroy(a);
  tg_decision_destroy(d);
  tg_request_destroy(r);
  tg_engine_destroy(e);
  std::remove(snap.c_str());
}

// The bulk path (ABI 2) decides exactly what the accessor path decides, over the reference
// policy and varied requests (unset inputs included), one at a time and in a batch.
TEST_CASE("c abi: tg_decide_values and tg_decide_batch equal tg_decide", "[c_api]") {
  tg_engine_config cfg;
  tg_engine_config_init(&cfg);
  cfg.wait_for_jit = 1;
  tg_engine* e = nullptr;
  REQUIRE(tg_engine_create(&cfg, &e) == TG_OK);
  tg_policy* p = nullptr;
  REQUIRE(tg_compile_file(e, TOLLGATE_SOURCE_DIR "/policies/reference.pol", &p) == TG_OK);
  CHECK(tg_policy_jitted(p) == 1);
  const int n = tg_policy_input_count(p);
  REQUIRE(n == 11);
  CHECK(tg_policy_enum_index(p, 2, "summarize") == 3);
  CHECK(tg_policy_enum_index(p, 2, "poetry") == -1);
  CHECK(tg_policy_enum_index(p, 6, "summarize") == -1);  // in_tokens is no enum

  tg_request* r = nullptr;
  tg_decision* d = nullptr;
  REQUIRE(tg_request_create(p, &r) == TG_OK);
  REQUIRE(tg_decision_create(&d) == TG_OK);
  const int64_t now = 1700000000000;
  tg_request_set_time(r, now);
  const char* tenants[] = {"trial-7", "acme", "t-0042", ""};
  const int members[] = {0, 3, 8, 4, 2, 3, 0, 0, 0, 6, 0};  // enum sizes by slot (0: not enum)
  const int kCount = 400;
  std::vector<tg_value> values(static_cast<size_t>(n * kCount));
  std::vector<tg_result> single(kCount), batch(kCount);
  uint32_t seed = 1;
  auto next = [&] { return seed = seed * 1103515245u + 12345u, (seed >> 8) % 1000003u; };
  for (int k = 0; k < kCount; ++k) {
    tg_value* v = values.data() + k * n;
    tg_request_reset(r);
    tg_request_set_time(r, now);
    for (int s = 0; s < n; ++s) {
      v[s] = tg_value{};
      v[s].set = next() % 8 != 0;  // some unset: defaults or errors (on_error deny)
      if (!v[s].set) continue;
      if (s == 0) {
        const char* t = tenants[next() % 4];
        v[s].str = t;
        v[s].len = static_cast<uint32_t>(std::strlen(t));
        REQUIRE(tg_request_set_string(r, s, t, v[s].len) == TG_OK);
      } else if (s == 10) {
        v[s].f = static_cast<double>(next() % 130) / 100.0;
        REQUIRE(tg_request_set_float(r, s, v[s].f) == TG_OK);
      } else if (members[s] > 0) {
        v[s].i = next() % static_cast<uint32_t>(members[s]);
        REQUIRE(tg_request_set_enum_index(r, s, static_cast<int>(v[s].i)) == TG_OK);
      } else {
        v[s].i = next() % 20000;
        REQUIRE(tg_request_set_int(r, s, v[s].i) == TG_OK);
      }
    }
    REQUIRE(tg_decide(r, d) == TG_OK);
    REQUIRE(tg_decide_values(p, v, n, now, &single[static_cast<size_t>(k)]) == TG_OK);
    const tg_result& x = single[static_cast<size_t>(k)];
    INFO("request " << k);
    CHECK(x.route == tg_decision_route_index(d));
    CHECK(x.denied == tg_decision_denied(d));
    CHECK(std::string(x.deny_reason) == tg_decision_deny_reason(d));
    CHECK(x.max_out == tg_decision_max_out(d));
    CHECK(x.max_in == tg_decision_max_in(d));
    CHECK(x.retry == tg_decision_retry(d));
    CHECK(x.backoff_ms == tg_decision_backoff_ms(d));
    CHECK(x.rag == tg_decision_rag(d));
    CHECK(x.top_k == tg_decision_top_k(d));
    CHECK(x.cache == static_cast<int>(tg_decision_cache(d)));
    CHECK(x.errors == tg_decision_errors(d));
    CHECK(x.rule_line[TG_FIELD_ROUTE] == tg_decision_rule_line(d, TG_FIELD_ROUTE));
    CHECK(x.rule_line[TG_FIELD_MAX_OUT] == tg_decision_rule_line(d, TG_FIELD_MAX_OUT));
  }
  REQUIRE(tg_decide_batch(p, values.data(), n, kCount, now, batch.data()) == TG_OK);
  for (int k = 0; k < kCount; ++k)
    CHECK(std::memcmp(&batch[static_cast<size_t>(k)], &single[static_cast<size_t>(k)],
                      sizeof(tg_result)) == 0);

  // Bad input: named, never decided.
  tg_value* v = values.data();
  v[10].set = 1;
  v[10].f = std::nan("");
  CHECK(tg_decide_values(p, v, n, now, &single[0]) == TG_ERR_BAD_VALUE);
  CHECK(std::string(tg_last_error()).find("spent_ratio") != std::string::npos);
  v[10].f = 0.5;
  v[2].set = 1;
  v[2].i = 8;
  CHECK(tg_decide_values(p, v, n, now, &single[0]) == TG_ERR_UNKNOWN_ENUM);
  CHECK(std::string(tg_last_error()).find("task") != std::string::npos);
  v[2].i = 1;
  CHECK(tg_decide_values(p, v, n - 1, now, &single[0]) == TG_ERR_INVALID_ARGUMENT);
  CHECK(tg_decide_values(nullptr, v, n, now, &single[0]) == TG_ERR_INVALID_ARGUMENT);
  values[static_cast<size_t>(3 * n + 0)].set = 1;
  values[static_cast<size_t>(3 * n + 0)].str = nullptr;
  values[static_cast<size_t>(3 * n + 0)].len = 5;
  CHECK(tg_decide_batch(p, values.data(), n, kCount, now, batch.data()) ==
        TG_ERR_INVALID_ARGUMENT);
  CHECK(std::string(tg_last_error()).find("request 3") != std::string::npos);
  CHECK(tg_decide_values(p, v, n, now, &single[0]) == TG_OK);
  CHECK(std::string(tg_last_error()).empty());

  tg_decision_destroy(d);
  tg_request_destroy(r);
  tg_policy_release(p);
  tg_engine_destroy(e);
}
