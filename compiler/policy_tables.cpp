// PolicyTables: route prices, budget descriptors and on_error reasons derived from a checked
// Program, shared by the interpreter and the JIT so both see the same numbers.
#include "compiler/evaluator.h"

namespace tollgate {

PolicyTables make_policy_tables(const Program& program, const PriceLookup& lookup) {
  PolicyTables t;
  for (const RouteDecl& r : program.routes) {
    RouteInfo info;
    info.name = r.name;
    info.model = r.model;
    info.self_hosted = r.self_hosted;
    info.batch = r.batch;
    if (r.has_inline_price) {
      info.priced = true;
      info.in_per_token = r.in_per_million / 1e6;
      info.out_per_token = r.out_per_million / 1e6;
      info.cache_read_per_token = info.in_per_token;
    } else if (const ModelPrice* p = lookup ? lookup(r.model) : nullptr) {
      info.priced = true;
      info.in_per_token = p->in_per_token;
      info.out_per_token = p->out_per_token;
      if (r.batch && p->batch_in_per_token) info.in_per_token = *p->batch_in_per_token;
      if (r.batch && p->batch_out_per_token) info.out_per_token = *p->batch_out_per_token;
      info.cache_read_per_token = p->cache_read_per_token.value_or(info.in_per_token);
    } else if (r.self_hosted) {
      // Self-hosted models have no per-token bill.
      info.priced = true;
    }
    t.routes.push_back(std::move(info));
  }
  for (const BudgetDecl& b : program.budgets) {
    BudgetInfo info;
    info.name = b.name;
    info.unit = b.unit;
    info.window = b.window;
    info.fail = b.fail;
    info.key_input = b.key_index;
    if (info.key_input < 0 && !b.key_input.empty()) {
      for (size_t i = 0; i < program.inputs.size(); ++i)
        if (program.inputs[i].name == b.key_input) info.key_input = static_cast<int32_t>(i);
    }
    t.budgets.push_back(std::move(info));
  }
  for (const Rule& r : program.rules) {
    t.error_reasons.push_back("evaluation error in rule at line " + std::to_string(r.loc.line));
  }
  return t;
}

}  // namespace tollgate
