// Replays of tiny hand-computed logs through real compiled policies: totals, caps, denials,
// dropped retries, batch prices, the prefix-cache simulation, budget rules firing in replay
// order, out-of-order input, and the input errors that stop a replay before it starts.
#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "tollgate/tollgate.hpp"
#include "tools/dryrun/replay.h"
#include "tools/dryrun/timeparse.h"

using namespace tollgate;
using namespace tollgate::dryrun;

namespace {

const std::string kData = std::string(TOLLGATE_SOURCE_DIR) + "/tests/data/";

std::shared_ptr<PriceTable> prices() {
  static std::shared_ptr<PriceTable> t = [] {
    std::string err;
    auto p = PriceTable::load(kData + "prices_litellm.json", &err);
    REQUIRE(p);
    return p;
  }();
  return t;
}

const char* kHeader = R"(
policy t
input {
  tenant: string
  task: enum(classify, chat, qa) = chat
  in_tokens: int
  attempt: int = 0
  error: enum(none, throttled, server, timeout, parse, context_overflow) = none
}
routes {
  cheap  = "gpt-4o-mini"
  strong = "gpt-4o"
  bulk   = "gpt-4o" batch
  half   = "claude-3-5-sonnet-20241022" batch
}
)";

struct Fixture {
  Engine engine;
  Fixture() : engine(make_options()) {}
  static EngineOptions make_options() {
    EngineOptions o;
    o.prices = prices();
    o.wait_for_jit = true;  // replay on the JIT tier, as the CLI does
    return o;
  }
  SideSpec side(const std::string& rules, const std::string& name = "p.pol") {
    CompileResult r = engine.compile(std::string(kHeader) + rules, name);
    INFO(r.rendered);
    REQUIRE(r.ok());
    return SideSpec{name, std::move(r.policy)};
  }
  ReplayData run(const SideSpec& base, const SideSpec& head, const std::string& log,
                 ReplayOptions o = {}) {
    ReplayData d;
    std::string err;
    bool ok = run_replay_texts(base, head, prices().get(), {log}, o, &d, &err);
    INFO(err);
    REQUIRE(ok);
    return d;
  }
  std::string fail(const SideSpec& base, const SideSpec& head, const std::string& log,
                   ReplayOptions o = {}) {
    ReplayData d;
    std::string err;
    CHECK_FALSE(run_replay_texts(base, head, prices().get(), {log}, o, &d, &err));
    return err;
  }
};

Pico usd(double micro_usd_times_1e6) {
  return static_cast<Pico>(micro_usd_times_1e6);
}

}  // namespace

TEST_CASE("caps and routes on a 3-record log, totals by hand") {
  Fixture f;
  SideSpec base = f.side("default route strong\n", "base.pol");
  SideSpec head =
      f.side("if task == classify route cheap max_out 10\ndefault route strong\n", "head.pol");
  std::string log =
      R"({"ts": 1000, "tenant": "a", "in_tokens": 1000, "out_tokens": 50, "attrs": {"task": "classify"}})"
      "\n"
      R"({"ts": 2000, "tenant": "a", "in_tokens": 2000, "out_tokens": 300, "attrs": {"task": "chat"}})"
      "\n"
      R"({"ts": 3000, "tenant": "b", "in_tokens": 100, "out_tokens": 10})";
  ReplayData d = f.run(base, head, log);
  // base, all on gpt-4o ($2.50/M in, $10/M out):
  //   1000 x 2.5e-6 + 50 x 1e-5 = 0.0030; 2000 x 2.5e-6 + 300 x 1e-5 = 0.0080;
  //   100 x 2.5e-6 + 10 x 1e-5 = 0.00035; total $0.01135
  // head: record 1 on gpt-4o-mini capped at 10 out: 1000 x 1.5e-7 + 10 x 6e-7 = 0.000156;
  //   total 0.000156 + 0.008 + 0.00035 = $0.008506
  CHECK(d.base.spend == usd(11350000000));
  CHECK(d.head.spend == usd(8506000000));
  CHECK(d.records == 3);
  CHECK(d.base.requests == 3);
  CHECK(d.head.calls == 3);
  CHECK(d.head.out_tokens == 10 + 300 + 10);
  CHECK(d.changed == 1);
  REQUIRE(d.changes.size() == 2);  // route and max_out changed on record 1
  bool saw_route = false;
  for (const auto& k : d.changes) {
    CHECK(k.count == 1);
    if (k.field == "route") {
      saw_route = true;
      CHECK(k.from == "strong (gpt-4o)");
      CHECK(k.to == "cheap (gpt-4o-mini)");
      REQUIRE(k.examples.size() == 1);
      CHECK(k.examples[0].where == "log1:1");
      // kHeader is 15 lines, so the rules start at line 16.
      CHECK(k.examples[0].base_rule == "line 16: default route strong");
      CHECK(k.examples[0].head_rule == "line 16: if task == classify route cheap max_out 10");
    }
  }
  CHECK(saw_route);
  // Breakdowns: tenant a carries records 1-2.
  REQUIRE(d.tenants.size() == 2);
  CHECK(d.tenants[0] == "a");
  CHECK(d.base.by_tenant[0].spend == usd(11000000000));
  CHECK(d.head.by_tenant[0].spend == usd(8156000000));
}

TEST_CASE("denied requests cost nothing and are counted") {
  Fixture f;
  SideSpec base = f.side("default route strong\n");
  SideSpec head =
      f.side("if tenant == \"blocked\" deny \"blocked tenant\"\ndefault route strong\n");
  std::string log = R"({"ts": 1, "tenant": "blocked", "in_tokens": 1000, "out_tokens": 100})"
                    "\n"
                    R"({"ts": 2, "tenant": "ok", "in_tokens": 1000, "out_tokens": 100})";
  ReplayData d = f.run(base, head, log);
  // each record on gpt-4o: 0.0025 + 0.001 = $0.0035
  CHECK(d.base.spend == usd(7000000000));
  CHECK(d.head.spend == usd(3500000000));
  CHECK(d.head.denied == 1);
  CHECK(d.head.calls == 1);
  CHECK(d.head.requests == 2);
  CHECK(d.head.deny_reasons.at("blocked tenant") == 1);
  REQUIRE(d.changes.size() == 1);
  CHECK(d.changes[0].field == "deny");
  CHECK(d.changes[0].to == "deny \"blocked tenant\"");
}

TEST_CASE("a retry the policy would not make is dropped with its cost") {
  Fixture f;
  SideSpec base = f.side(
      "default route strong\nif error in [throttled, server] and attempt < 1 retry backoff "
      "100ms\n");
  SideSpec head = f.side("default route strong\n");
  std::string log =
      R"({"ts": 1000, "request_id": "r1", "attempt": 0, "status": "throttled", "tenant": "a", "in_tokens": 100, "out_tokens": 0})"
      "\n"
      R"({"ts": 1300, "request_id": "r1", "attempt": 1, "status": "ok", "tenant": "a", "model": "gpt-4o", "in_tokens": 100, "out_tokens": 20})"
      "\n"
      R"({"ts": 2000, "request_id": "r2", "attempt": 0, "status": "ok", "tenant": "a", "in_tokens": 100, "out_tokens": 20})";
  ReplayData d = f.run(base, head, log);
  // attempt 0 of r1: 100 x 2.5e-6 = 0.00025; r1 attempt 1 and r2: 0.00025 + 20 x 1e-5 = 0.00045
  CHECK(d.base.spend == usd(250000000 + 450000000 + 450000000));
  CHECK(d.base.retries == 1);
  CHECK(d.base.retries_dropped == 0);
  CHECK(d.head.spend == usd(250000000 + 450000000));
  CHECK(d.head.retries == 0);
  CHECK(d.head.retries_dropped == 1);
  CHECK(d.head.retries_dropped_logged_cost == usd(450000000));
  CHECK(d.base.requests == 2);
  CHECK(d.base.successful == 2);
  CHECK(d.head.successful == 1);
  REQUIRE(d.changes.size() == 1);
  CHECK(d.changes[0].field == "retry");
  CHECK(d.changes[0].from == "retried");
  CHECK(d.changes[0].examples[0].base_rule.find("retry backoff 100ms") != std::string::npos);

  // A retry of an attempt this side never made (denied) is dropped too.
  SideSpec deny_all = f.side("if tenant == \"a\" deny \"no\"\ndefault route strong\n");
  ReplayData d2 = f.run(base, deny_all, log);
  CHECK(d2.head.spend == 0);
  CHECK(d2.head.denied == 2);
  CHECK(d2.head.retries_dropped == 1);
}

TEST_CASE("batch routes: table batch prices, or 50% where the table has none") {
  Fixture f;
  SideSpec base = f.side("default route bulk\n");
  SideSpec head = f.side("default route half\n");
  ReplayData d =
      f.run(base, head, R"({"ts": 1, "tenant": "a", "in_tokens": 1000, "out_tokens": 100})");
  // gpt-4o batch: 1000 x 1.25e-6 + 100 x 5e-6 = 0.00125 + 0.0005 = $0.00175
  CHECK(d.base.spend == usd(1750000000));
  // claude-3-5-sonnet has no batch price: half of $3/$15 per M:
  //   1000 x 1.5e-6 + 100 x 7.5e-6 = 0.0015 + 0.00075 = $0.00225
  CHECK(d.head.spend == usd(2250000000));
}

TEST_CASE("prompt cache simulated from Mooncake hash_ids with a TTL") {
  Fixture f;
  SideSpec cached = f.side("default route strong\nif true cache prompt\n");
  SideSpec plain = f.side("default route strong\n");
  std::string log;
  {
    std::FILE* fp = std::fopen((kData + "mooncake_slice.jsonl").c_str(), "rb");
    REQUIRE(fp);
    char buf[65536];
    while (size_t n = std::fread(buf, 1, sizeof buf, fp)) log.append(buf, n);
    std::fclose(fp);
  }
  ReplayOptions o;
  o.side.set["tenant"] = "t";
  // python over the same slice: leading run of blocks seen within the TTL, x 512, capped at
  // input_length: 164864 tokens (TTL 300 s > the slice's 72 s), 101888 (TTL 10 s), 89600 (1 s).
  ReplayData d = f.run(cached, plain, log, o);
  CHECK(d.base.cached_tokens == 164864);
  CHECK(d.head.cached_tokens == 0);
  // Each cached token saves 2.5e-6 - 1.25e-6 = 1.25e-6: 164864 x 1.25e-6 = $0.20608
  CHECK(d.head.spend - d.base.spend == usd(206080000000));
  o.side.cache_ttl_ms = 10000;
  CHECK(f.run(cached, plain, log, o).base.cached_tokens == 101888);
  o.side.cache_ttl_ms = 1000;
  CHECK(f.run(cached, plain, log, o).base.cached_tokens == 89600);

  // Without hash_ids, the logged cached tokens are used, only when the decision caches.
  ReplayData l = f.run(
      cached, plain,
      R"({"ts": 1, "tenant": "a", "in_tokens": 1000, "cached_tokens": 800, "out_tokens": 0})");
  // base: 200 x 2.5e-6 + 800 x 1.25e-6 = 0.0005 + 0.001 = $0.0015; head: 1000 x 2.5e-6 = $0.0025
  CHECK(l.base.spend == usd(1500000000));
  CHECK(l.head.spend == usd(2500000000));
}

TEST_CASE("RAG off removes the logged retrieved-context tokens") {
  Fixture f;
  SideSpec base = f.side("default route strong\n");
  SideSpec head = f.side("default route strong\nif task == qa rag off\n");
  ReplayData d = f.run(
      base, head,
      R"({"ts": 1, "tenant": "a", "in_tokens": 1000, "out_tokens": 0, "attrs": {"task": "qa", "rag_tokens": 400}})");
  CHECK(d.base.spend == usd(2500000000));
  CHECK(d.head.spend == usd(1500000000));  // 600 x 2.5e-6
  CHECK(d.head.rag_tokens_removed == 400);
}

TEST_CASE("budget rules fire in replay order, each side with its own ledger") {
  Fixture f;
  const char* budget = "budget daily = $0.01 usd per tenant per day\n";
  SideSpec base = f.side(std::string(budget) + "default route strong\n", "base.pol");
  SideSpec head = f.side(std::string(budget) +
                             "if daily.ratio >= 1.0 deny \"daily budget\"\n"
                             "if daily.ratio >= 80% route cheap\n"
                             "default route strong\n",
                         "head.pol");
  // Each record: 1600 in, 0 out: gpt-4o $0.004, gpt-4o-mini $0.00024. The file is out of order.
  auto rec = [](const char* ts, const char* tenant) {
    return std::string(R"({"ts": ")") + ts + R"(", "tenant": ")" + tenant +
           R"(", "in_tokens": 1600, "out_tokens": 0})" + "\n";
  };
  std::string log = rec("2024-03-01T10:03:00Z", "a") + rec("2024-03-01T10:01:00Z", "a") +
                    rec("2024-03-01T10:02:00Z", "a") + rec("2024-03-01T10:04:00Z", "a") +
                    rec("2024-03-01T10:05:00Z", "b") + rec("2024-03-02T00:00:01Z", "a");
  ReplayData d = f.run(base, head, log);
  CHECK(d.late_records == 0);  // the reorder window fixed the order
  // head, tenant a, in time order: 10:01 ratio 0 -> strong (spent .004), 10:02 .4 -> strong
  // (.008), 10:03 .8 -> cheap (.00824), 10:04 .824 -> cheap (.00848); b: strong; next day: the
  // window resets -> strong. Total 4 x .004 + 2 x .00024 = $0.01648.
  CHECK(d.head.spend == usd(16480000000));
  CHECK(d.base.spend == usd(24000000000));  // 6 x .004, base never reads its budget
  CHECK(d.head.denied == 0);
  // With a tighter budget the deny fires on the third request of the day.
  SideSpec tight = f.side(
      "budget daily = $0.008 usd per tenant per day\n"
      "if daily.ratio >= 1.0 deny \"daily budget\"\ndefault route strong\n");
  ReplayData t = f.run(base, tight, log);
  CHECK(t.head.denied == 2);  // 10:03 and 10:04 of tenant a
  CHECK(t.head.spend == usd(16000000000));
  // Replayed in file order (reorder window 1), the late records are counted and reported.
  ReplayOptions o;
  o.reorder_window = 1;
  ReplayData late = f.run(base, tight, log, o);
  CHECK(late.late_records == 2);
  CHECK(late.head.denied == 2);
}

TEST_CASE("budgets keyed by an enum input charge the member's counter, defaults included") {
  Fixture f;
  SideSpec base = f.side("default route strong\n", "base.pol");
  SideSpec head = f.side(
      "budget per_task = $0.008 usd per task per day\n"
      "if per_task.ratio >= 1.0 deny \"task budget\"\ndefault route strong\n",
      "head.pol");
  // 1600 in on gpt-4o: $0.004 each. A record without a task is `chat` (the input's default), so
  // it shares the counter of an explicit chat.
  auto rec = [](int minute, const char* tenant, const char* task) {
    std::string attrs = task ? std::string(R"(, "attrs": {"task": ")") + task + "\"}" : "";
    return std::string(R"({"ts": "2024-03-01T10:0)") + std::to_string(minute) +
           R"(:00Z", "tenant": ")" + tenant + R"(", "in_tokens": 1600, "out_tokens": 0)" + attrs +
           "}\n";
  };
  std::string log = rec(1, "a", "qa") + rec(2, "b", nullptr) + rec(3, "c", "qa") +
                    rec(4, "d", "chat") + rec(5, "e", "qa") + rec(6, "f", nullptr);
  ReplayData d = f.run(base, head, log);
  CHECK(d.head.denied == 2);  // the third qa and the third chat (an unset task)
  CHECK(d.head.spend == usd(16000000000));
  CHECK(d.base.spend == usd(24000000000));
}

TEST_CASE("several logs merge in time order; CSV with --map and --set") {
  Fixture f;
  SideSpec base = f.side("default route strong\n");
  SideSpec head = f.side("if task == classify route cheap\ndefault route strong\n");
  std::string csv =
      "TIMESTAMP,ContextTokens,GeneratedTokens,kind\r\n"
      "2023-11-16 18:17:03.9799600,1000,10,classify\r\n"
      "2023-11-16 18:17:05.0000000,1000,10,chat";
  ReplayOptions o;
  o.side.map["task"] = "kind";
  o.side.set["tenant"] = "acme";
  o.side.set["model"] = "gpt-4o";
  ReplayData d;
  std::string err;
  std::string jsonl =
      R"({"ts": "2023-11-16T18:17:04Z", "tenant": "x", "in_tokens": 1, "out_tokens": 1, "attrs": {"kind": "chat"}})";
  REQUIRE(run_replay_texts(SideSpec{"actual", std::nullopt}, head, prices().get(), {csv, jsonl}, o,
                           &d, &err));
  CHECK(d.records == 3);
  CHECK(d.late_records == 0);
  CHECK(d.base.actual);
  // actual: gpt-4o: 2 x (0.0025 + 0.0001) + (2.5e-6 + 1e-5) = 0.0052 + 0.0000125
  CHECK(d.base.spend == usd(5212500000));
  // head: classify -> gpt-4o-mini: 1000 x 1.5e-7 + 10 x 6e-7 = 0.000156
  CHECK(d.head.spend == usd(156000000 + 2600000000 + 12500000));
  REQUIRE(d.tenants.size() == 2);
  CHECK(d.tenants[0] == "acme");
  (void)base;
}

TEST_CASE("input errors stop the replay before it starts") {
  Fixture f;
  SideSpec p = f.side("default route strong\n");
  ReplayOptions o;
  o.side.map["task"] = "attrs.kind";
  std::string err = f.fail(
      p, p, R"({"ts": 1, "tenant": "a", "in_tokens": 1, "out_tokens": 1, "attrs": {"task": "qa"}})",
      o);
  CHECK(err.find("--map task=attrs.kind") != std::string::npos);
  CHECK(err.find("no field \"kind\"") != std::string::npos);

  ReplayOptions o2;
  o2.side.map["task"] = "kind";
  err = f.fail(p, p, "ts,in_tokens,out_tokens\n1,2,3\n", o2);
  CHECK(err.find("it has: ts, in_tokens, out_tokens") != std::string::npos);

  ReplayOptions o3;
  o3.side.set["nonsense"] = "1";
  err = f.fail(p, p, R"({"ts": 1, "in_tokens": 1, "out_tokens": 1})", o3);
  CHECK(err.find("neither policy has an input named nonsense") != std::string::npos);

  // An unpriced logged model fails `actual` unless allowed.
  err =
      f.fail(SideSpec{"actual", std::nullopt}, p,
             R"({"ts": 1, "tenant": "a", "model": "mystery-1", "in_tokens": 1, "out_tokens": 1})");
  CHECK(err.find("mystery-1") != std::string::npos);
  ReplayOptions allow;
  allow.side.allow_unpriced = true;
  ReplayData d = f.run(
      SideSpec{"actual", std::nullopt}, p,
      R"({"ts": 1, "tenant": "a", "model": "mystery-1", "in_tokens": 1, "out_tokens": 1})", allow);
  CHECK(d.base.spend == 0);
  CHECK(d.warnings.size() == 1);
}

TEST_CASE("an unpriced route is an error naming it unless allowed") {
  EngineOptions eo;
  eo.prices = prices();
  Engine e(eo);
  CompileResult r = e.compile(
      "policy u\ninput { tenant: string }\nroutes { x = \"mystery-2\" }\ndefault route x\n",
      "u.pol");
  REQUIRE(r.ok());
  SideSpec s{"u.pol", std::move(r.policy)};
  ReplayData d;
  std::string err;
  CHECK_FALSE(run_replay_texts(s, s, prices().get(),
                               {R"({"ts": 1, "in_tokens": 1, "out_tokens": 1})"}, {}, &d, &err));
  CHECK(err.find("route x (model \"mystery-2\")") != std::string::npos);
}

TEST_CASE("each side decodes inputs by its own schema; shared decoding counts warnings per side") {
  Fixture f;
  // Same inputs, the same way: head reuses base's decoding. A bad value is counted once per side.
  SideSpec base = f.side("if task == qa route cheap\ndefault route strong\n", "base.pol");
  SideSpec head = f.side("if task == chat route cheap\ndefault route strong\n", "head.pol");
  std::string log =
      R"({"ts": 1000, "tenant": "a", "in_tokens": 100, "out_tokens": 10, "attrs": {"task": "qa"}})"
      "\n"
      R"({"ts": 2000, "tenant": "a", "in_tokens": 100, "out_tokens": 10, "attrs": {"task": "poem"}})"
      "\n"
      R"({"ts": 3000, "tenant": "a", "in_tokens": 100, "out_tokens": 10, "attrs": {"task": "chat"}})";
  ReplayData d = f.run(base, head, log);
  // Record 2's task is left unset on both sides, so the default (chat) applies.
  CHECK(d.base.by_route[0].calls == 1);  // cheap: the qa record
  CHECK(d.head.by_route[0].calls == 2);  // cheap: records 2 and 3
  REQUIRE(d.warnings.size() == 1);
  CHECK(d.warnings.begin()->first.find("input task: value \"poem\"") == 0);
  CHECK(d.warnings.begin()->second == 2);

  // Head declares the enum in another order: member indices differ, so it decodes on its own.
  std::string reordered = kHeader;
  size_t at = reordered.find("enum(classify, chat, qa)");
  REQUIRE(at != std::string::npos);
  reordered.replace(at, 24, "enum(qa, chat, classify)");
  CompileResult r =
      f.engine.compile(reordered + "if task == qa route cheap\ndefault route strong\n", "r.pol");
  INFO(r.rendered);
  REQUIRE(r.ok());
  SideSpec head2{"r.pol", std::move(r.policy)};
  ReplayData d2 = f.run(base, head2, log);
  CHECK(d2.head.by_route[0].calls == 1);  // only the qa record, as on base
  CHECK(d2.changed == 0);
  CHECK(d2.warnings.begin()->second == 2);
}

TEST_CASE("attribute values outlive their line: the reorder window holds records read earlier") {
  // Out-of-order records wait in the reorder window while later lines are read: meanwhile the
  // reader's 1 MiB line buffer is compacted and refilled, and grown (moved) for the 1.5 MB line.
  // An attribute still borrowed from its line when the record is replayed would read other bytes
  // (or freed memory), and the tasks below would come out wrong.
  Fixture f;
  SideSpec base = f.side("default route strong\n");
  SideSpec head = f.side("if task == classify route cheap\ndefault route strong\n");
  const char* written[3] = {"cl\\u0061ssify", "chat", "qa"};  // one escaped, two plain
  const size_t n = 3000;
  std::string log;
  for (size_t i = 0; i < n; ++i) {
    // ts runs backwards within each block of 8 lines.
    int64_t ts = 1700000000000 + static_cast<int64_t>(i ^ 7) * 1000;
    size_t pad = i == 1500 ? (3u << 19) : 1000;
    log += "{\"ts\":" + std::to_string(ts) +
           ",\"tenant\":\"t\",\"in_tokens\":1000,\"out_tokens\":10,\"attrs\":{\"pad\":\"" +
           std::string(pad, static_cast<char>('a' + i % 26)) + "\",\"task\":\"" + written[i % 3] +
           "\"}}\n";
  }
  ReplayOptions o;
  o.reorder_window = 64;
  ReplayData d = f.run(base, head, log, o);
  CHECK(d.records == n);
  CHECK(d.late_records == 0);
  REQUIRE(d.tasks.size() == 3);
  for (size_t t = 0; t < d.tasks.size(); ++t) {
    INFO(d.tasks[t]);
    CHECK((d.tasks[t] == "classify" || d.tasks[t] == "chat" || d.tasks[t] == "qa"));
    CHECK(d.head.by_task[t].requests == n / 3);
  }
  CHECK(d.changed == n / 3);
  // head: classify on gpt-4o-mini 1000 x 1.5e-7 + 10 x 6e-7 = 0.000156, the rest on gpt-4o
  // 1000 x 2.5e-6 + 10 x 1e-5 = 0.0026.
  CHECK(d.head.spend == usd(1000 * 156000000LL + 2000 * 2600000000LL));
  CHECK(d.base.spend == usd(3000 * 2600000000LL));
}

TEST_CASE("the reorder window replays in (ts, arrival) order and counts what it cannot fix") {
  // Every record is a change (strong -> cheap), and the examples keep all of them in replay
  // order. Timestamps run backwards in blocks of 6 lines, two lines per timestamp, so equal
  // timestamps must keep arrival order; small windows wrap the in-order run many times and let
  // some records through late. The expected order is the window's definition: hold `window`
  // records, replay the earliest (ts, then arrival), read the next.
  Fixture f;
  SideSpec base = f.side("default route strong\n");
  SideSpec head = f.side("default route cheap\n");
  const size_t n = 300;
  std::vector<int64_t> ts(n);
  std::string log;
  for (size_t i = 0; i < n; ++i) {
    ts[i] = 1700000000000 + static_cast<int64_t>(((i / 6) * 6 + 5 - i % 6) / 2) * 1000;
    log += "{\"ts\":" + std::to_string(ts[i]) + ",\"request_id\":\"r" + std::to_string(i) +
           "\",\"tenant\":\"t\",\"in_tokens\":100,\"out_tokens\":10}\n";
  }
  for (size_t window : {1, 2, 3, 5, 6, 7, 64, 10000}) {
    INFO("window " << window);
    std::vector<std::string> want;
    uint64_t late = 0;
    {
      std::vector<std::pair<int64_t, size_t>> held;  // (ts, line index)
      int64_t watermark = INT64_MIN;
      size_t next = 0;
      while (next < n || !held.empty()) {
        while (next < n && held.size() < window) held.emplace_back(ts[next], next), ++next;
        auto it = std::min_element(held.begin(), held.end());
        if (it->first < watermark)
          ++late;
        else
          watermark = it->first;
        want.push_back("log1:" + std::to_string(it->second + 1));
        held.erase(it);
      }
    }
    ReplayOptions o;
    o.reorder_window = window;
    o.examples_per_kind = n;
    ReplayData d = f.run(base, head, log, o);
    CHECK(d.records == n);
    CHECK(d.late_records == late);
    CHECK((window < 5) == (late > 0));  // a block needs 5: its last two share a ts
    REQUIRE(d.changes.size() == 1);
    std::vector<std::string> got;
    for (const ChangeExample& e : d.changes[0].examples) got.push_back(e.where);
    CHECK(got == want);
  }
}
