// Decision records: one compact JSON object per decision for audit logs (schema in
// docs/embedding.md, "Audit records"). Rendered into a caller-provided string whose capacity is
// reused, so a warm buffer renders without allocating (except budget keys longer than the SSO).
#pragma once

#include <cstdint>
#include <string>

#include "tollgate/budget.hpp"
#include "tollgate/decision.hpp"
#include "tollgate/policy.hpp"
#include "tollgate/request.hpp"

namespace tollgate {

class Admission;

constexpr int kAuditSchemaVersion = 1;

// What besides the Decision goes into a record. Every member is optional.
struct AuditContext {
  const Request* request = nullptr;       // for budget keys and limits
  const BudgetReader* budgets = nullptr;  // for budget spent/ratio (the ledger)
  int64_t now_ms = 0;                     // record time and budget window (0: wall clock)
  // The admission's estimate (admit()); negative = not known, omitted.
  double estimated_cost_usd = -1;
  int64_t estimated_tokens = -1;
  bool include_inputs = false;  // add "inputs": the values the host set (may contain PII)
};

// Replaces *out with the record (no trailing newline). Never throws; on allocation failure *out
// is left empty.
void render_audit(const Policy& policy, const Decision& decision, const AuditContext& ctx,
                  std::string* out);

// The record of an admission: decision, estimate, admitted/denied reason (request and ledger as
// in AuditContext).
void render_audit(const Admission& admission, const Request* request, const BudgetReader* budgets,
                  std::string* out);

// A one-line summary of a decision's fields ({"route":"cheap","max_out":64,...}), used by shadow
// samples and explain output.
void render_decision_fields(const Policy& policy, const Decision& decision, std::string* out);

// Appends the decision as the JSON object of `tollgate eval --json` (docs/cli.md): every field,
// null where absent, keys sorted. The one printer of that shape: the CLI parses it for
// pretty-printing, `tollgate serve` sends it as is. Does not clear *out.
void append_decision_json(const Policy& policy, const Decision& decision, std::string* out);
// {"backend","file","name","version"}: which policy decided.
void append_policy_json(const Policy& policy, std::string* out);
// `s` as a JSON string literal (quotes included), the escaping every renderer here uses.
void append_json_string(std::string_view s, std::string* out);

// The inputs the host set on a request as a JSON object ({"tenant":"acme","tier":"pro"}).
void render_inputs(const Policy& policy, const Request& request, std::string* out);

}  // namespace tollgate
