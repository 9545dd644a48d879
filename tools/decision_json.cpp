// Decision -> JSON / text. Field names here are a public interface (docs/cli.md): add, never
// rename.
#include "tools/decision_json.h"

#include <cstdio>

#include "tollgate/audit.hpp"

namespace tollgate {

std::string cap_text(int64_t cap) {
  return cap == kNoCap ? "none" : std::to_string(cap);
}

std::string route_text(const Policy& policy, const Decision& d) {
  if (d.denied) return std::string("deny \"") + d.deny_reason + "\"";
  if (d.route >= 0 && static_cast<size_t>(d.route) < policy.routes().size())
    return policy.routes()[d.route].name;
  return "(none)";
}


nlohmann::json decision_to_json(const Policy& policy, const Decision& d) {
  std::string text;
  append_decision_json(policy, d, &text);
  return nlohmann::json::parse(text);
}

nlohmann::json policy_to_json(const Policy& policy) {
  std::string text;
  append_policy_json(policy, &text);
  return nlohmann::json::parse(text);
}

namespace {

void line(std::string* out, const char* field, const std::string& value, const Policy& policy,
          int32_t rule) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%-9s", field);
  std::string l = std::string(buf) + " " + value;
  if (rule >= 0 && static_cast<size_t>(rule) < policy.rules().size()) {
    if (l.size() < 46) l.append(46 - l.size(), ' ');
    l += " (line " + std::to_string(policy.rules()[rule].line) + ")";
  }
  *out += l + "\n";
}

}  // namespace

std::string decision_to_text(const Policy& policy, const Decision& d) {
  std::string out;
  std::string route = route_text(policy, d);
  if (!d.denied && d.route >= 0 && static_cast<size_t>(d.route) < policy.routes().size())
    route += "  " + policy.routes()[d.route].model;
  line(&out, "route", route, policy, d.rule_for(Field::Route));
  line(&out, "max_out", cap_text(d.max_out), policy, d.rule_for(Field::MaxOut));
  line(&out, "max_in", cap_text(d.max_in), policy, d.rule_for(Field::MaxIn));
  line(&out, "retry",
       d.retry ? "true, backoff " + std::to_string(d.backoff_ms) + "ms" : std::string("false"),
       policy, d.rule_for(Field::Retry));
  line(&out, "rag", d.rag ? "true, top_k " + std::to_string(d.top_k) : std::string("false"), policy,
       d.rule_for(Field::Rag));
  line(&out, "cache", to_string(d.cache), policy, d.rule_for(Field::Cache));
  std::string tags;
  for (int i = 0; i < d.tag_count; ++i) tags += (i ? ", " : "") + std::string(d.tag(i));
  if (d.tags_dropped) tags += " (+" + std::to_string(d.tags_dropped) + " dropped)";
  line(&out, "tags", tags.empty() ? "(none)" : tags, policy, -1);
  std::string errors = std::to_string(d.errors);
  if (d.first_error_rule >= 0 && static_cast<size_t>(d.first_error_rule) < policy.rules().size())
    errors +=
        ", first in the rule at line " + std::to_string(policy.rules()[d.first_error_rule].line);
  line(&out, "errors", errors, policy, -1);
  return out;
}

}  // namespace tollgate
