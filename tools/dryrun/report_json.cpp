// JSON report (schema "tollgate.dryrun/v1", documented in docs/dryrun.md). Money is written as
// exact decimal USD with 12 fractional digits (the pico-dollar sums), never via a double.
#include <cmath>
#include <cstdio>

#include "tools/dryrun/report.h"
#include "tools/dryrun/timeparse.h"

namespace tollgate::dryrun {

namespace {

std::string q(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string num(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string usd(Pico p) {
  return format_usd_exact(p);
}

std::string bucket(const Bucket& b) {
  return "{\"spend_usd\": " + usd(b.spend) + ", \"requests\": " + std::to_string(b.requests) +
         ", \"calls\": " + std::to_string(b.calls) + ", \"denied\": " + std::to_string(b.denied) +
         ", \"in_tokens\": " + std::to_string(b.in_tokens) +
         ", \"out_tokens\": " + std::to_string(b.out_tokens) + "}";
}

std::string side(const SideStats& s) {
  std::string o = "{\n";
  o += "    \"source\": " + q(s.source) + ",\n";
  o += "    \"policy\": " + (s.actual ? std::string("null") : q(s.policy)) + ",\n";
  o += "    \"actual\": " + std::string(s.actual ? "true" : "false") + ",\n";
  o += "    \"spend_usd\": " + usd(s.spend) + ",\n";
  o += "    \"requests\": " + std::to_string(s.requests) + ",\n";
  o += "    \"calls\": " + std::to_string(s.calls) + ",\n";
  o += "    \"denied\": " + std::to_string(s.denied) + ",\n";
  o += "    \"retries\": " + std::to_string(s.retries) + ",\n";
  o += "    \"retries_dropped\": " + std::to_string(s.retries_dropped) + ",\n";
  o += "    \"retries_dropped_logged_cost_usd\": " + usd(s.retries_dropped_logged_cost) + ",\n";
  o += "    \"retry_rate\": " + num(retry_rate(s)) + ",\n";
  o += "    \"successful\": " + std::to_string(s.successful) + ",\n";
  o += "    \"cost_per_successful_usd\": " + usd(per_success(s)) + ",\n";
  o += "    \"eval_errors\": " + std::to_string(s.eval_errors) + ",\n";
  o += "    \"in_tokens\": " + std::to_string(s.in_tokens) + ",\n";
  o += "    \"out_tokens\": " + std::to_string(s.out_tokens) + ",\n";
  o += "    \"cached_tokens\": " + std::to_string(s.cached_tokens) + ",\n";
  o += "    \"rag_tokens_removed\": " + std::to_string(s.rag_tokens_removed) + ",\n";
  o += "    \"in_tokens_p50\": " + std::to_string(s.in_hist.quantile(0.5)) + ",\n";
  o += "    \"in_tokens_p95\": " + std::to_string(s.in_hist.quantile(0.95)) + ",\n";
  o += "    \"out_tokens_p50\": " + std::to_string(s.out_hist.quantile(0.5)) + ",\n";
  o += "    \"out_tokens_p95\": " + std::to_string(s.out_hist.quantile(0.95)) + ",\n";
  o += "    \"deny_reasons\": {";
  bool first = true;
  for (const auto& [r, n] : s.deny_reasons) {
    o += (first ? "" : ", ") + q(r) + ": " + std::to_string(n);
    first = false;
  }
  o += "},\n    \"prices\": [";
  for (size_t i = 0; i < s.routes.size(); ++i) {
    const RoutePrice& p = s.routes[i];
    o += std::string(i ? ",\n      " : "\n      ") + "{\"route\": " + q(p.name) +
         ", \"model\": " + q(p.model) + ", \"batch\": " + (p.batch ? "true" : "false") +
         ", \"priced\": " + (p.priced ? "true" : "false") +
         ", \"in_usd_per_mtok\": " + usd(static_cast<Pico>(p.in_pico) * 1000000) +
         ", \"out_usd_per_mtok\": " + usd(static_cast<Pico>(p.out_pico) * 1000000) +
         ", \"cache_read_usd_per_mtok\": " + usd(static_cast<Pico>(p.cache_read_pico) * 1000000) +
         ", \"source\": " + q(p.note) + "}";
  }
  o += "]\n  }";
  return o;
}

std::string iso(int64_t ms) {
  int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  int64_t rem = ms - days * 86400000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "T%02d:%02d:%02d.%03dZ", static_cast<int>(rem / 3600000),
                static_cast<int>(rem / 60000 % 60), static_cast<int>(rem / 1000 % 60),
                static_cast<int>(rem % 1000));
  return civil_date(days) + buf;
}

template <typename Map>
std::string counts(const Map& m) {
  std::string o = "{";
  bool first = true;
  for (const auto& [k, v] : m) {
    o += (first ? "" : ", ") + q(k) + ": " + std::to_string(v);
    first = false;
  }
  return o + "}";
}

}  // namespace

std::string render_json(const Report& r) {
  const ReplayData& d = *r.data;
  std::string o = "{\n";
  o += "  \"schema\": \"tollgate.dryrun/v1\",\n";
  o += "  \"base\": " + side(d.base) + ",\n";
  o += "  \"head\": " + side(d.head) + ",\n";
  o += "  \"delta\": {\"spend_usd\": " + usd(r.delta) + ", \"spend_pct\": " + num(r.delta_pct) +
       "},\n";
  o += "  \"monthly_projection\": ";
  if (r.monthly.valid)
    o += "{\"span_hours\": " + num(r.monthly.span_hours) + ", \"hours_per_month\": " +
         num(kHoursPerMonth) + ", \"base_usd\": " + num(r.monthly.base_usd) +
         ", \"head_usd\": " + num(r.monthly.head_usd) + ", \"delta_usd\": " +
         num(r.monthly.delta_usd) + "},\n";
  else
    o += "null,\n";
  o += "  \"threshold\": ";
  if (r.options.fail_if_increase) {
    const IncreaseGate& g = *r.options.fail_if_increase;
    const char* kind = g.kind == IncreaseGate::Percent ? "pct"
                       : g.kind == IncreaseGate::Usd   ? "usd"
                                                       : "usd_per_month";
    o += "{\"fail_if_increase\": " + q(g.text()) + ", \"kind\": \"" + kind +
         "\", \"value\": " + num(g.value) + ", \"tripped\": " +
         (r.threshold_tripped ? "true" : "false") + "},\n";
  } else {
    o += "null,\n";
  }
  o += "  \"input\": {\n    \"logs\": [";
  for (size_t i = 0; i < d.logs.size(); ++i) o += (i ? ", " : "") + q(d.logs[i]);
  o += "],\n    \"records\": " + std::to_string(d.records) + ",\n";
  o += "    \"lines\": " + std::to_string(d.read.lines) + ",\n";
  o += "    \"malformed\": " + std::to_string(d.read.malformed) + ",\n";
  o += "    \"first_malformed\": [";
  for (size_t i = 0; i < d.read.first_malformed.size(); ++i) {
    const auto& m = d.read.first_malformed[i];
    o += std::string(i ? ", " : "") + "{\"file\": " + q(m.file) +
         ", \"line\": " + std::to_string(m.line) + ", \"message\": " + q(m.message) + "}";
  }
  o += "],\n    \"late_records\": " + std::to_string(d.late_records) + ",\n";
  o += "    \"reorder_window\": " + std::to_string(d.reorder_window) + ",\n";
  o += "    \"first_ts\": " + q(iso(d.first_ts)) + ",\n";
  o += "    \"last_ts\": " + q(iso(d.last_ts)) + ",\n";
  o += "    \"notes\": " + counts(d.read.notes) + ",\n";
  o += "    \"warnings\": " + counts(d.warnings) + "\n  },\n";
  o += "  \"changed\": " + std::to_string(d.changed) + ",\n";
  o += "  \"other_changes\": " + std::to_string(d.other_changes) + ",\n";
  o += "  \"changes\": [";
  for (size_t i = 0; i < d.changes.size(); ++i) {
    const ChangeKind& k = d.changes[i];
    o += std::string(i ? "," : "") + "\n    {\"field\": " + q(k.field) +
         ", \"from\": " + q(k.from) + ", \"to\": " + q(k.to) +
         ", \"count\": " + std::to_string(k.count) + ", \"base_spend_usd\": " + usd(k.base_cost) +
         ", \"head_spend_usd\": " + usd(k.head_cost) + ", \"examples\": [";
    for (size_t j = 0; j < k.examples.size(); ++j) {
      const ChangeExample& e = k.examples[j];
      o += std::string(j ? ", " : "") + "\n      {\"where\": " + q(e.where) +
           ", \"request_id\": " + q(e.request_id) + ", \"tenant\": " + q(e.tenant) +
           ", \"task\": " + q(e.task) + ", \"in_tokens\": " + std::to_string(e.in_tokens) +
           ", \"out_tokens\": " + std::to_string(e.out_tokens) +
           ", \"base_cost_usd\": " + usd(e.base_cost) + ", \"head_cost_usd\": " + usd(e.head_cost) +
           ", \"base_rule\": " + q(e.base_rule) + ", \"head_rule\": " + q(e.head_rule) + "}";
    }
    o += "]}";
  }
  o += "\n  ],\n  \"breakdowns\": {";
  for (size_t i = 0; i < r.breakdowns.size(); ++i) {
    const Breakdown& b = r.breakdowns[i];
    o += std::string(i ? "," : "") + "\n    " + q(b.name) + ": {\"rows\": [";
    for (size_t j = 0; j < b.rows.size(); ++j)
      o += std::string(j ? "," : "") + "\n      {\"key\": " + q(b.rows[j].key) +
           ", \"base\": " + bucket(b.rows[j].base) + ", \"head\": " + bucket(b.rows[j].head) + "}";
    o += "], \"rest_count\": " + std::to_string(b.rest_count) +
         ", \"rest\": {\"base\": " + bucket(b.rest.base) + ", \"head\": " + bucket(b.rest.head) +
         "}}";
  }
  o += "\n  },\n  \"assumptions\": [";
  for (size_t i = 0; i < r.assumptions.size(); ++i)
    o += std::string(i ? "," : "") + "\n    " + q(r.assumptions[i]);
  o += "\n  ]\n}\n";
  return o;
}

}  // namespace tollgate::dryrun
