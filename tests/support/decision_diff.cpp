// Field-by-field Decision comparison (see decision_diff.h).
#include "tests/support/decision_diff.h"

#include <cstring>

namespace tollgate::testing {

namespace {

template <typename T>
void field(std::string* out, const char* name, const T& a, const T& b) {
  if (a == b) return;
  *out += std::string(name) + ": " + std::to_string(a) + " vs " + std::to_string(b) + "\n";
}

}  // namespace

std::string decision_diff(const Decision& a, const Decision& b) {
  std::string out;
  field(&out, "denied", a.denied, b.denied);
  field(&out, "route", a.route, b.route);
  if (std::strcmp(a.deny_reason, b.deny_reason) != 0)
    out += std::string("deny_reason: \"") + a.deny_reason + "\" vs \"" + b.deny_reason + "\"\n";
  field(&out, "max_out", a.max_out, b.max_out);
  field(&out, "max_in", a.max_in, b.max_in);
  field(&out, "retry", a.retry, b.retry);
  field(&out, "backoff_ms", a.backoff_ms, b.backoff_ms);
  field(&out, "rag", a.rag, b.rag);
  field(&out, "top_k", a.top_k, b.top_k);
  field(&out, "cache", static_cast<int>(a.cache), static_cast<int>(b.cache));
  static const char* const names[kFieldCount] = {"rule[route]", "rule[max_out]", "rule[max_in]",
                                                 "rule[retry]", "rule[rag]",     "rule[cache]"};
  for (int f = 0; f < kFieldCount; ++f) field(&out, names[f], a.rule[f], b.rule[f]);
  field(&out, "errors", a.errors, b.errors);
  field(&out, "first_error_rule", a.first_error_rule, b.first_error_rule);
  field(&out, "tag_count", static_cast<int>(a.tag_count), static_cast<int>(b.tag_count));
  field(&out, "tags_dropped", static_cast<int>(a.tags_dropped), static_cast<int>(b.tags_dropped));
  for (int i = 0; i < a.tag_count && i < b.tag_count; ++i)
    if (a.tag(i) != b.tag(i))
      out += "tag[" + std::to_string(i) + "]: \"" + std::string(a.tag(i)) + "\" vs \"" +
             std::string(b.tag(i)) + "\"\n";
  return out;
}

std::string describe_decision(const Decision& d) {
  std::string s =
      d.denied ? std::string("deny \"") + d.deny_reason + "\"" : "route " + std::to_string(d.route);
  s += " max_out=" + std::to_string(d.max_out) + " max_in=" + std::to_string(d.max_in);
  s += " retry=" + std::to_string(d.retry) + " backoff=" + std::to_string(d.backoff_ms);
  s += " rag=" + std::to_string(d.rag) + " top_k=" + std::to_string(d.top_k);
  s += " cache=" + std::to_string(static_cast<int>(d.cache)) + " rules=[";
  for (int f = 0; f < kFieldCount; ++f) s += (f ? "," : "") + std::to_string(d.rule[f]);
  s +=
      "] errors=" + std::to_string(d.errors) + " first_error=" + std::to_string(d.first_error_rule);
  s += " tags=[";
  for (int i = 0; i < d.tag_count; ++i) s += (i ? "|" : "") + std::string(d.tag(i));
  return s + "]";
}

}  // namespace tollgate::testing
