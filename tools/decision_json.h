// The ONE stable JSON shape of a decision (documented in docs/cli.md), shared by `eval --json`,
// `explain --json` and anything else that prints decisions, plus the matching text layout.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tollgate/decision.hpp"
#include "tollgate/policy.hpp"

namespace tollgate {

// {"denied", "deny_reason", "route", "model", "max_out", "max_in", "retry", "backoff_ms", "rag",
//  "top_k", "cache", "tags", "tags_dropped", "rules": {field: {"rule", "line"} | null},
//  "errors", "first_error": {"rule", "line"} | null}. Caps without a limit are null.
nlohmann::json decision_to_json(const Policy& policy, const Decision& d);

// {"name", "file", "version", "backend"}: which policy made the decision.
nlohmann::json policy_to_json(const Policy& policy);

// One field per line, aligned, with the source line of the rule behind each field.
std::string decision_to_text(const Policy& policy, const Decision& d);

// Short spellings used by text output, the test runner and explain.
std::string cap_text(int64_t cap);  // "none" for kNoCap
// "cheap" or `deny "reason"` or "(none)".
std::string route_text(const Policy& policy, const Decision& d);

}  // namespace tollgate
