// Dry-run reports: one model of the comparison (totals, breakdowns with top-N and the rest summed,
// changed decisions, the spend model's assumptions), rendered as text (terminals), Markdown (PR
// comments), JSON (machines; schema in docs/dryrun.md) or a self-contained HTML page with SVG
// charts.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tools/dryrun/stats.h"

namespace tollgate::dryrun {

enum class ReportFormat { Text, Markdown, Json, Html };
bool parse_report_format(const std::string& s, ReportFormat* out);

// --fail-if-increase: how much more head may spend than base. `5%` is relative to base's total,
// `$20` is dollars on the replayed total, `$500/month` dollars on the monthly projection.
struct IncreaseGate {
  enum Kind { Percent, Usd, UsdPerMonth };
  Kind kind = Percent;
  double value = 0;
  std::string text() const;  // as written back in reports: "5%", "$20", "$500/month"
};
// Parses "5%" (or "5"), "$20", "$500/month"; false on anything else (negative, NaN, junk).
bool parse_increase_gate(const std::string& s, IncreaseGate* out);

struct ReportOptions {
  size_t top_n = 10;
  std::optional<IncreaseGate> fail_if_increase;  // --fail-if-increase
};

// Spend per month projected from the replayed window: total x 730 h / span, where the span is
// the last record's timestamp minus the first's. No projection for a span of 0.
struct Projection {
  bool valid = false;
  double span_hours = 0;
  double base_usd = 0, head_usd = 0, delta_usd = 0;
};
Projection monthly_projection(const ReplayData& data);
constexpr double kHoursPerMonth = 730;

struct BreakdownRow {
  std::string key;
  Bucket base, head;
};

struct Breakdown {
  std::string name;  // "route", "tenant", "task", "day"
  std::vector<BreakdownRow>
      rows;               // top N by max(base, head) spend, spend descending (day: by date)
  size_t rest_count = 0;  // rows folded into `rest`
  BreakdownRow rest;
};

struct Report {
  const ReplayData* data = nullptr;
  ReportOptions options;
  Pico delta = 0;        // head - base spend
  double delta_pct = 0;  // relative to base (inf when base is 0 and head is not)
  bool threshold_tripped = false;
  Projection monthly;
  std::vector<Breakdown> breakdowns;  // route, tenant, task, day
  std::vector<std::string> assumptions;
};

Report build_report(const ReplayData& data, const ReportOptions& options);

std::string render_text(const Report& r);
std::string render_markdown(const Report& r);
std::string render_json(const Report& r);
std::string render_html(const Report& r);
std::string render(const Report& r, ReportFormat f);

// Shared formatting helpers.
std::string fmt_count(uint64_t v);                    // 1,234,567
std::string fmt_pct(double pct);                      // +12.3% / -4.0% / n/a
double pct_change(double base, double head);          // NaN when both 0, inf when only base is 0
std::string fmt_delta_usd(Pico d, int decimals = 2);  // +$1.23 / -$0.40
std::string fmt_usd_month(double usd);                // $1,234.56 per month figures
// "head increases spend by $1.23 (+4.5%)", "head decreases spend by ...", or "no change in spend".
std::string verdict_text(const Report& r);
// "Projected per month: base $X, head $Y, delta +$Z (from a 29 min window x 730 h)" or why not.
std::string projection_text(const Projection& p);
// Decimals that keep small totals readable: 2 from $100 up, else 4.
int money_decimals(Pico a, Pico b);
Pico per_success(const SideStats& s);        // spend / successful calls (rounded)
double retry_rate(const SideStats& s);       // retries made per request
std::string side_title(const SideStats& s);  // "base: policies/gateway.pol (policy gateway)"

}  // namespace tollgate::dryrun
