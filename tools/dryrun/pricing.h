// Route prices for the spend model, in exact pico-dollars per token: a route's inline prices, else
// the price table's entry for its model; batch routes use the table's batch prices, or half the
// standard ones where the table has none (the 50% discount OpenAI, Anthropic and Google sell).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tollgate/prices.hpp"

namespace tollgate::dryrun {

struct RoutePrice {
  std::string name;  // route name ("cheap"), or the model for the logged side
  std::string model;
  bool batch = false;
  bool self_hosted = false;
  bool priced = false;          // false: unpriced (costs 0, reported; an error unless allowed)
  int64_t in_pico = 0;          // per input token
  int64_t out_pico = 0;         // per output token
  int64_t cache_read_pico = 0;  // per cached input token (= in_pico when the table has none)
  std::string note;  // how the price was found ("inline", "litellm", "batch: 50% of ...")
};

// Resolves one model's price. `inline_in/out_usd` >= 0 are a route's inline per-token prices.
RoutePrice resolve_price(const std::string& name, const std::string& model, bool batch,
                         bool self_hosted, double inline_in_usd, double inline_out_usd,
                         const PriceTable* table);

}  // namespace tollgate::dryrun
