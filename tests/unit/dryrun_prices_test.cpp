// Price tables (LiteLLM as-is, Portkey in cents), route price resolution (inline, batch, the 50%
// fallback, self-hosted) and exact money.
#include <catch2/catch.hpp>
#include <string>

#include "tollgate/prices.hpp"
#include "tools/dryrun/money.h"
#include "tools/dryrun/pricing.h"
#include "tools/dryrun/spend_model.h"

using namespace tollgate;
using namespace tollgate::dryrun;

namespace {
const std::string kData = std::string(TOLLGATE_SOURCE_DIR) + "/tests/data/";
}

TEST_CASE("LiteLLM table: per-token USD, cache and batch prices, sample_spec skipped") {
  std::string err;
  auto t = PriceTable::load(kData + "prices_litellm.json", &err);
  REQUIRE(t);
  CHECK(t->find("sample_spec") == nullptr);
  const ModelPrice* p = t->find("gpt-4o");
  REQUIRE(p);
  CHECK(p->in_per_token == 2.5e-06);
  CHECK(p->out_per_token == 1e-05);
  CHECK(*p->cache_read_per_token == 1.25e-06);
  CHECK(*p->batch_in_per_token == 1.25e-06);
  CHECK(*p->batch_out_per_token == 5e-06);
  CHECK(p->source == "litellm");
  const ModelPrice* s = t->find("claude-3-5-sonnet-20241022");
  REQUIRE(s);
  CHECK_FALSE(s->batch_in_per_token.has_value());
  CHECK(*s->cache_write_per_token == 3.75e-06);
  // A provider prefix is stripped when the exact id is unknown.
  CHECK(t->find("openai/gpt-4o") == p);
  CHECK(t->find("no-such-model") == nullptr);
}

TEST_CASE("Portkey files: cents per token, batch_config; a directory of them") {
  std::string err;
  auto t = PriceTable::load(kData + "portkey/openai.json", &err);
  REQUIRE(t);
  const ModelPrice* p = t->find("gpt-4o");
  REQUIRE(p);
  CHECK(usd_to_pico(p->in_per_token) == 2500000);  // 0.00025 cents = $2.50 / 1M
  CHECK(usd_to_pico(p->out_per_token) == 10000000);
  CHECK(usd_to_pico(*p->cache_read_per_token) == 1250000);
  CHECK(usd_to_pico(*p->batch_in_per_token) == 1250000);
  CHECK(p->source == "portkey:openai");
  CHECK(t->find("default") == nullptr);

  auto dir = PriceTable::load(kData + "portkey", &err);
  REQUIRE(dir);
  const ModelPrice* c = dir->find("claude-sonnet-4-5-20250929");
  REQUIRE(c);
  CHECK(usd_to_pico(c->in_per_token) == 3000000);
  CHECK(usd_to_pico(*c->batch_out_per_token) ==
        7500000);  // Portkey has batch where LiteLLM has none
  CHECK(dir->find("anthropic/claude-sonnet-4-5-20250929") != nullptr);
  CHECK(dir->find("gpt-5") != nullptr);

  CHECK_FALSE(PriceTable::load(kData + "no-such.json", &err));
  CHECK(err.find("no-such.json") != std::string::npos);
}

TEST_CASE("route prices: inline, batch from the table, 50% fallback, self-hosted, unpriced") {
  std::string err;
  auto t = PriceTable::load(kData + "prices_litellm.json", &err);
  REQUIRE(t);
  RoutePrice in =
      resolve_price("strong", "claude-3-5-sonnet-20241022", false, false, 3e-6, 15e-6, t.get());
  CHECK(in.priced);
  CHECK(in.in_pico == 3000000);
  CHECK(in.out_pico == 15000000);
  CHECK(in.cache_read_pico == 300000);  // the table's cache/input ratio applied to the inline price
  RoutePrice b = resolve_price("bulk", "gpt-4o", true, false, -1, -1, t.get());
  CHECK(b.in_pico == 1250000);
  CHECK(b.out_pico == 5000000);
  RoutePrice half =
      resolve_price("bulk", "claude-3-5-sonnet-20241022", true, false, -1, -1, t.get());
  CHECK(half.in_pico == 1500000);
  CHECK(half.out_pico == 7500000);
  CHECK(half.note.find("50%") != std::string::npos);
  RoutePrice local = resolve_price("local", "my-gpu-model", false, true, -1, -1, t.get());
  CHECK(local.priced);
  CHECK(local.in_pico == 0);
  RoutePrice none = resolve_price("x", "unknown-model", false, false, -1, -1, t.get());
  CHECK_FALSE(none.priced);
}

TEST_CASE("money is exact: a million 3e-07 tokens cost exactly $0.30") {
  int64_t price = usd_to_pico(3e-07);
  CHECK(price == 300000);
  Pico sum = 0;
  double dsum = 0;
  for (int i = 0; i < 1000000; ++i) {
    sum += token_cost(1, price);
    dsum += 3e-07;
  }
  CHECK(sum == static_cast<Pico>(300000000000LL));
  CHECK(format_usd_exact(sum) == "0.300000000000");
  CHECK(dsum != 0.3);  // why the dry-run never accumulates doubles
  CHECK(format_usd(static_cast<Pico>(1234567890123456LL)) == "$1,234.57");
  CHECK(format_usd(-static_cast<Pico>(5000000000LL)) == "-$0.01");
  CHECK(format_usd(static_cast<Pico>(4999999999LL), 2) == "$0.00");
  CHECK(to_string_i128(static_cast<Pico>(1) << 100) == "1267650600228229401496703205376");
}

TEST_CASE("spend model of one call: caps, RAG off, prompt cache") {
  RoutePrice r;
  r.in_pico = 2500000;  // gpt-4o
  r.out_pico = 10000000;
  r.cache_read_pico = 1250000;
  CallShape c;
  c.in_tokens = 10000;
  c.out_tokens = 2000;
  c.rag_tokens = 3000;
  c.cache_tokens = 4096;
  // Nothing applies: 10000 x 2.5e-6 + 2000 x 1e-5 = 0.025 + 0.02 = $0.045.
  CHECK(price_call(r, c).cost == static_cast<Pico>(45000000000LL));
  // max_out 500, max_in 8000: 8000 x 2.5e-6 + 500 x 1e-5 = 0.02 + 0.005 = $0.025.
  c.max_out = 500;
  c.max_in = 8000;
  CallCost k = price_call(r, c);
  CHECK(k.in_billed == 8000);
  CHECK(k.out_billed == 500);
  CHECK(k.cost == static_cast<Pico>(25000000000LL));
  // RAG off first: 10000 - 3000 = 7000 < 8000: 0.0175 + 0.005 = $0.0225.
  c.rag_off = true;
  k = price_call(r, c);
  CHECK(k.rag_removed == 3000);
  CHECK(k.cost == static_cast<Pico>(22500000000LL));
  // Prompt cache: 4096 of the 7000 at 1.25e-6: 2904 x 2.5e-6 + 4096 x 1.25e-6 + 0.005
  //   = 0.00726 + 0.00512 + 0.005 = $0.01738.
  c.cache_prompt = true;
  k = price_call(r, c);
  CHECK(k.cached == 4096);
  CHECK(k.cost == static_cast<Pico>(17380000000LL));
}
