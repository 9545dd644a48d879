// Route price resolution (see pricing.h).
#include "tools/dryrun/pricing.h"

#include "tools/dryrun/money.h"

namespace tollgate::dryrun {

RoutePrice resolve_price(const std::string& name, const std::string& model, bool batch,
                         bool self_hosted, double inline_in_usd, double inline_out_usd,
                         const PriceTable* table) {
  RoutePrice r;
  r.name = name;
  r.model = model;
  r.batch = batch;
  r.self_hosted = self_hosted;
  const ModelPrice* p = table ? table->find(model) : nullptr;
  if (inline_in_usd >= 0 || inline_out_usd >= 0) {
    r.priced = true;
    r.in_pico = usd_to_pico(inline_in_usd < 0 ? 0 : inline_in_usd);
    r.out_pico = usd_to_pico(inline_out_usd < 0 ? 0 : inline_out_usd);
    // The cache-read price is not part of the inline syntax: scale the table's ratio when known.
    r.cache_read_pico = r.in_pico;
    if (p && p->cache_read_per_token && p->in_per_token > 0)
      r.cache_read_pico = usd_to_pico(inline_in_usd * (*p->cache_read_per_token / p->in_per_token));
    r.note = "inline";
  } else if (p) {
    r.priced = true;
    r.in_pico = usd_to_pico(p->in_per_token);
    r.out_pico = usd_to_pico(p->out_per_token);
    r.cache_read_pico = p->cache_read_per_token ? usd_to_pico(*p->cache_read_per_token) : r.in_pico;
    r.note = p->source;
    if (batch && p->batch_in_per_token && p->batch_out_per_token) {
      r.in_pico = usd_to_pico(*p->batch_in_per_token);
      r.out_pico = usd_to_pico(*p->batch_out_per_token);
      r.cache_read_pico = (r.cache_read_pico + 1) / 2;
      r.note += ", batch prices";
      return r;
    }
  } else if (self_hosted) {
    r.priced = true;  // our own GPUs: no per-token price
    r.note = "self-hosted: $0 per token";
    return r;
  } else {
    r.note = "no price";
    return r;
  }
  if (batch) {
    // Exactly half, rounded up to the pico-dollar.
    r.in_pico = (r.in_pico + 1) / 2;
    r.out_pico = (r.out_pico + 1) / 2;
    r.cache_read_pico = (r.cache_read_pico + 1) / 2;
    r.note += ", batch: 50% of standard (no batch price in the table)";
  }
  return r;
}

}  // namespace tollgate::dryrun
