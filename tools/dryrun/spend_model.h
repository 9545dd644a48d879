// The spend model of one replayed call (docs/dryrun.md "Spend model"): what a call costs on a
// route given the policy's caps, RAG and cache decisions and the logged tokens.
#pragma once

#include <cstdint>

#include "tools/dryrun/money.h"
#include "tools/dryrun/pricing.h"

namespace tollgate::dryrun {

struct CallShape {
  int64_t in_tokens = 0;     // logged prompt tokens (cached ones included)
  int64_t out_tokens = 0;    // logged completion tokens
  int64_t rag_tokens = 0;    // logged retrieved-context tokens inside in_tokens
  int64_t cache_tokens = 0;  // prompt tokens a prompt cache would serve (logged or simulated)
  int64_t max_in = INT64_MAX, max_out = INT64_MAX;  // the decision's caps (kNoCap = none)
  bool rag_off = false;       // the decision turned RAG off: rag_tokens are not sent
  bool cache_prompt = false;  // the decision asked for prompt caching
};

struct CallCost {
  int64_t in_billed = 0;   // prompt tokens sent (after RAG off and max_in)
  int64_t out_billed = 0;  // min(logged, max_out)
  int64_t cached = 0;      // of in_billed, priced at the cache-read price
  int64_t rag_removed = 0;
  Pico cost = 0;
};

CallCost price_call(const RoutePrice& route, const CallShape& call);

}  // namespace tollgate::dryrun
