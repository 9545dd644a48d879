// price_call: the per-call spend model (see spend_model.h and docs/dryrun.md).
#include "tools/dryrun/spend_model.h"

#include <algorithm>

namespace tollgate::dryrun {

CallCost price_call(const RoutePrice& route, const CallShape& c) {
  CallCost r;
  int64_t in = std::max<int64_t>(c.in_tokens, 0);
  if (c.rag_off) {
    r.rag_removed = std::min(std::max<int64_t>(c.rag_tokens, 0), in);
    in -= r.rag_removed;
  }
  in = std::min(in, std::max<int64_t>(c.max_in, 0));
  r.in_billed = in;
  r.out_billed = std::min(std::max<int64_t>(c.out_tokens, 0), std::max<int64_t>(c.max_out, 0));
  r.cached = c.cache_prompt ? std::min(std::max<int64_t>(c.cache_tokens, 0), in) : 0;
  r.cost = token_cost(in - r.cached, route.in_pico) + token_cost(r.cached, route.cache_read_pico) +
           token_cost(r.out_billed, route.out_pico);
  return r;
}

}  // namespace tollgate::dryrun
