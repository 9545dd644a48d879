// The report model shared by every format (see report.h).
#include "tools/dryrun/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tools/dryrun/timeparse.h"

namespace tollgate::dryrun {

bool parse_report_format(const std::string& s, ReportFormat* out) {
  if (s == "text")
    *out = ReportFormat::Text;
  else if (s == "md" || s == "markdown")
    *out = ReportFormat::Markdown;
  else if (s == "json")
    *out = ReportFormat::Json;
  else if (s == "html")
    *out = ReportFormat::Html;
  else
    return false;
  return true;
}

std::string fmt_count(uint64_t v) {
  std::string s = std::to_string(v), out;
  int n = static_cast<int>(s.size());
  for (int i = 0; i < n; ++i) {
    out += s[i];
    if ((n - i - 1) % 3 == 0 && i != n - 1) out += ',';
  }
  return out;
}

double pct_change(double base, double head) {
  if (base == 0) return head == 0 ? NAN : INFINITY;
  return (head - base) / base * 100.0;
}

std::string fmt_pct(double pct) {
  if (std::isnan(pct)) return "n/a";
  if (std::isinf(pct)) return "new";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", pct);
  return buf;
}

int money_decimals(Pico a, Pico b) {
  Pico m = std::max(a < 0 ? -a : a, b < 0 ? -b : b);
  return m >= static_cast<Pico>(100) * kPicoPerUsd ? 2 : 4;
}

std::string fmt_delta_usd(Pico d, int decimals) {
  std::string s = format_usd(d < 0 ? -d : d, decimals);
  // A delta that rounds to nothing is "$0.00", not "-$0.00" or "+$0.00".
  if (s.find_first_of("123456789") == std::string::npos) return s;
  return (d < 0 ? "-" : "+") + s;
}

std::string verdict_text(const Report& r) {
  if (r.delta == 0) return "no change in spend";
  const ReplayData& d = *r.data;
  return std::string("head ") + (r.delta > 0 ? "increases" : "decreases") + " spend by " +
         format_usd(r.delta < 0 ? -r.delta : r.delta, money_decimals(d.base.spend, d.head.spend)) +
         " (" + fmt_pct(r.delta_pct) + ")";
}

Pico per_success(const SideStats& s) {
  if (s.successful == 0) return 0;
  return (s.spend + static_cast<Pico>(s.successful) / 2) / static_cast<Pico>(s.successful);
}

double retry_rate(const SideStats& s) {
  return s.requests == 0 ? 0 : static_cast<double>(s.retries) / static_cast<double>(s.requests);
}

std::string side_title(const SideStats& s) {
  std::string t = s.role + ": " + s.source;
  if (!s.policy.empty())
    t += " (policy " + s.policy + ")";
  else if (s.actual)
    t += " (what the log says happened)";
  return t;
}

namespace {

Breakdown make_breakdown(std::string name, std::vector<BreakdownRow> rows, size_t top_n,
                         bool by_key) {
  Breakdown b;
  b.name = std::move(name);
  auto weight = [](const BreakdownRow& r) { return std::max(r.base.spend, r.head.spend); };
  rows.erase(std::remove_if(rows.begin(), rows.end(),
                            [](const BreakdownRow& r) {
                              return r.base.calls + r.head.calls + r.base.requests +
                                         r.head.requests + r.base.denied + r.head.denied ==
                                     0;
                            }),
             rows.end());
  std::stable_sort(rows.begin(), rows.end(), [&](const BreakdownRow& a, const BreakdownRow& c) {
    return weight(a) > weight(c);
  });
  b.rest.key = "(rest)";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i < top_n) {
      b.rows.push_back(rows[i]);
      continue;
    }
    ++b.rest_count;
    for (auto [dst, src] :
         {std::pair{&b.rest.base, &rows[i].base}, {&b.rest.head, &rows[i].head}}) {
      dst->spend += src->spend;
      dst->requests += src->requests;
      dst->calls += src->calls;
      dst->denied += src->denied;
      dst->in_tokens += src->in_tokens;
      dst->out_tokens += src->out_tokens;
    }
  }
  if (by_key)
    std::sort(b.rows.begin(), b.rows.end(),
              [](const BreakdownRow& a, const BreakdownRow& c) { return a.key < c.key; });
  return b;
}

std::vector<std::string> assumptions(const ReplayData& d) {
  std::vector<std::string> a;
  a.push_back(
      "Prices: the route's inline price, else the price table's entry for its model (exact id, "
      "then without a provider/ prefix); money is summed exactly in integer pico-dollars.");
  a.push_back("Output tokens = min(logged, max_out); input tokens = min(logged, max_in).");
  a.push_back(
      "RAG off removes the logged retrieved-context tokens (attrs.rag_tokens) from the input; "
      "rag on / top_k keeps the input as logged.");
  a.push_back(
      "cache prompt: prompt tokens served from cache are priced at the cache-read price (input "
      "price when the table has none). With prefix-block hashes (hash_ids) a prompt cache is "
      "simulated per side and model with a TTL of " +
      std::to_string(d.cache_ttl_ms / 1000) +
      " s (reads refresh it); otherwise the logged cached tokens are used. Without cache prompt "
      "no cache discount applies. cache response is not priced (the log cannot tell repeats).");
  a.push_back(
      "A denied request costs nothing and is counted as denied; its spend is not counted as "
      "saved.");
  a.push_back(
      "Retries: a logged attempt k >= 1 is decided with attempt = k-1 and error = attempt k-1's "
      "logged status; it is made only if that decision retries (or falls back to another "
      "route) and this side made attempt k-1. Dropped retries are removed with their cost. "
      "Failures are assumed to happen as logged, whatever the route.");
  a.push_back(
      "Batch routes use the table's batch prices, or 50% of the standard prices where the table "
      "has none; self-hosted routes without a price cost $0 per token.");
  a.push_back(
      "Budgets: each side has its own simulated ledger (windows as in the runtime), charged "
      "with each replayed call's cost, tokens and count, so budget rules fire when they would "
      "have. `actual` prices the logged model, tokens and cached tokens as they happened.");
  return a;
}

}  // namespace

std::string IncreaseGate::text() const {
  char buf[64];
  switch (kind) {
    case Percent:
      std::snprintf(buf, sizeof buf, "%g%%", value);
      break;
    case Usd:
      std::snprintf(buf, sizeof buf, "$%g", value);
      break;
    case UsdPerMonth:
      std::snprintf(buf, sizeof buf, "$%g/month", value);
      break;
  }
  return buf;
}

bool parse_increase_gate(const std::string& s, IncreaseGate* out) {
  std::string t = s;
  IncreaseGate g;
  if (!t.empty() && t.front() == '$') {
    t.erase(0, 1);
    g.kind = IncreaseGate::Usd;
    const std::string month = "/month";
    if (t.size() > month.size() && t.compare(t.size() - month.size(), month.size(), month) == 0) {
      t.resize(t.size() - month.size());
      g.kind = IncreaseGate::UsdPerMonth;
    }
  } else if (!t.empty() && t.back() == '%') {
    t.pop_back();
  }
  if (t.empty()) return false;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (*end != '\0' || !(v >= 0) || std::isinf(v)) return false;  // also rejects NaN
  g.value = v;
  *out = g;
  return true;
}

Projection monthly_projection(const ReplayData& data) {
  Projection p;
  const int64_t span_ms = data.last_ts - data.first_ts;
  if (data.records == 0 || span_ms <= 0) return p;
  p.valid = true;
  p.span_hours = static_cast<double>(span_ms) / 3.6e6;
  const double scale = kHoursPerMonth / p.span_hours;
  p.base_usd = pico_to_usd(data.base.spend) * scale;
  p.head_usd = pico_to_usd(data.head.spend) * scale;
  p.delta_usd = p.head_usd - p.base_usd;
  return p;
}

std::string fmt_usd_month(double usd) {
  return format_usd(static_cast<Pico>(std::llround(usd * 1e6)) * 1000000, 2);
}

std::string projection_text(const Projection& p) {
  if (!p.valid) return "No monthly projection: the replayed records span no time.";
  char span[64];
  if (p.span_hours < 2)
    std::snprintf(span, sizeof span, "%.0f min", p.span_hours * 60);
  else if (p.span_hours < 48)
    std::snprintf(span, sizeof span, "%.1f h", p.span_hours);
  else
    std::snprintf(span, sizeof span, "%.1f days", p.span_hours / 24);
  const std::string delta = p.delta_usd > 0    ? "+" + fmt_usd_month(p.delta_usd)
                            : p.delta_usd < 0 ? fmt_usd_month(p.delta_usd)
                                              : "no change";
  return "Projected per month (a projection: the replayed " + std::string(span) +
         " scaled to 730 h): base " + fmt_usd_month(p.base_usd) + ", head " +
         fmt_usd_month(p.head_usd) + ", delta " + delta + ".";
}

Report build_report(const ReplayData& data, const ReportOptions& options) {
  Report r;
  r.data = &data;
  r.options = options;
  r.delta = data.head.spend - data.base.spend;
  r.delta_pct = pct_change(pico_to_usd(data.base.spend), pico_to_usd(data.head.spend));
  r.monthly = monthly_projection(data);
  if (options.fail_if_increase) {
    const IncreaseGate& g = *options.fail_if_increase;
    switch (g.kind) {
      case IncreaseGate::Percent:
        r.threshold_tripped = r.delta > 0 && (std::isinf(r.delta_pct) || r.delta_pct > g.value);
        break;
      case IncreaseGate::Usd:
        r.threshold_tripped = pico_to_usd(r.delta) > g.value;
        break;
      case IncreaseGate::UsdPerMonth:
        // Without a span there is nothing to project: the gate is judged on the total.
        r.threshold_tripped = r.monthly.valid ? r.monthly.delta_usd > g.value
                                              : pico_to_usd(r.delta) > g.value;
        break;
    }
  }
  // Routes: keyed by label, merged across the sides.
  {
    std::vector<BreakdownRow> rows;
    auto add = [&](const SideStats& s, bool head) {
      for (size_t i = 0; i < s.routes.size(); ++i) {
        const RoutePrice& p = s.routes[i];
        std::string key =
            s.actual ? (p.batch ? p.model + " (batch)" : p.model) : p.name + " (" + p.model + ")";
        auto it = std::find_if(rows.begin(), rows.end(),
                               [&](const BreakdownRow& x) { return x.key == key; });
        if (it == rows.end()) {
          rows.push_back(BreakdownRow{key, {}, {}});
          it = rows.end() - 1;
        }
        (head ? it->head : it->base) = i < s.by_route.size() ? s.by_route[i] : Bucket{};
      }
    };
    add(data.base, false);
    add(data.head, true);
    r.breakdowns.push_back(make_breakdown("route", std::move(rows), options.top_n, false));
  }
  auto by_id = [&](const char* name, const std::vector<std::string>& names,
                   const std::vector<Bucket>& b, const std::vector<Bucket>& h) {
    std::vector<BreakdownRow> rows;
    for (size_t i = 0; i < names.size(); ++i)
      rows.push_back(
          BreakdownRow{names[i], i < b.size() ? b[i] : Bucket{}, i < h.size() ? h[i] : Bucket{}});
    r.breakdowns.push_back(make_breakdown(name, std::move(rows), options.top_n, false));
  };
  by_id("tenant", data.tenants, data.base.by_tenant, data.head.by_tenant);
  by_id("task", data.tasks, data.base.by_task, data.head.by_task);
  {
    std::map<int64_t, BreakdownRow> days;
    for (const auto& [day, b] : data.base.by_day) days[day].base = b;
    for (const auto& [day, b] : data.head.by_day) days[day].head = b;
    std::vector<BreakdownRow> rows;
    for (auto& [day, row] : days) {
      row.key = civil_date(day);
      rows.push_back(row);
    }
    r.breakdowns.push_back(make_breakdown("day", std::move(rows), options.top_n, true));
  }
  r.assumptions = assumptions(data);
  return r;
}

std::string render(const Report& r, ReportFormat f) {
  switch (f) {
    case ReportFormat::Text:
      return render_text(r);
    case ReportFormat::Markdown:
      return render_markdown(r);
    case ReportFormat::Json:
      return render_json(r);
    case ReportFormat::Html:
      return render_html(r);
  }
  return "";
}

}  // namespace tollgate::dryrun
