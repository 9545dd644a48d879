// Self-contained HTML report: inline CSS and inline SVG charts (cumulative spend over time, base
// vs head; spend by route), no scripts and no external resources, so it renders offline and can
// be attached to a CI run as a single file.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "tools/dryrun/report.h"
#include "tools/dryrun/report_rows.h"
#include "tools/dryrun/timeparse.h"

namespace tollgate::dryrun {

namespace {

const char* kBaseColor = "#4c78a8";
const char* kHeadColor = "#f58518";

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string f1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// A "nice" axis maximum and step for 0..max.
void nice_axis(double max, double* top, double* step) {
  if (max <= 0) max = 1;
  double raw = max / 5;
  double mag = std::pow(10, std::floor(std::log10(raw)));
  double n = raw / mag;
  double s = n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10;
  *step = s * mag;
  *top = std::ceil(max / *step) * *step;
}

std::string money_label(double usd) {
  char buf[32];
  if (usd >= 1000)
    std::snprintf(buf, sizeof buf, "$%.0fk", usd / 1000);
  else if (usd >= 10)
    std::snprintf(buf, sizeof buf, "$%.0f", usd);
  else if (usd >= 1)
    std::snprintf(buf, sizeof buf, "$%.1f", usd);
  else
    std::snprintf(buf, sizeof buf, "$%.2f", usd);
  return buf;
}

std::string time_chart(const ReplayData& d) {
  std::map<int64_t, std::pair<Pico, Pico>> minutes;
  for (const auto& [m, p] : d.base.by_minute) minutes[m].first += p;
  for (const auto& [m, p] : d.head.by_minute) minutes[m].second += p;
  const double W = 760, H = 300, L = 70, R = 20, T = 20, B = 40;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + f1(W) + "\" height=\"" +
                    f1(H) + "\" viewBox=\"0 0 " + f1(W) + " " + f1(H) +
                    "\" role=\"img\" aria-label=\"Cumulative spend over time, base vs head\">";
  if (minutes.empty()) return svg + "<text x=\"20\" y=\"40\">no spend</text></svg>";
  int64_t t0 = minutes.begin()->first, t1 = minutes.rbegin()->first + 1;
  // Cumulative series, thinned to at most ~400 points (memory and file size stay small).
  std::vector<std::tuple<int64_t, double, double>> pts;
  pts.emplace_back(t0, 0.0, 0.0);
  Pico cb = 0, ch = 0;
  size_t stride = std::max<size_t>(1, minutes.size() / 400), i = 0;
  for (const auto& [m, p] : minutes) {
    cb += p.first;
    ch += p.second;
    if (++i % stride == 0 || i == minutes.size())
      pts.emplace_back(m + 1, pico_to_usd(cb), pico_to_usd(ch));
  }
  double maxv = std::max(pico_to_usd(cb), pico_to_usd(ch)), top, step;
  nice_axis(maxv, &top, &step);
  auto X = [&](int64_t m) {
    return L + (W - L - R) * static_cast<double>(m - t0) / static_cast<double>(t1 - t0);
  };
  auto Y = [&](double v) { return T + (H - T - B) * (1 - v / top); };
  for (double v = 0; v <= top + step / 2; v += step) {
    svg += "<line x1=\"" + f1(L) + "\" x2=\"" + f1(W - R) + "\" y1=\"" + f1(Y(v)) + "\" y2=\"" +
           f1(Y(v)) + "\" stroke=\"#ddd\"/>";
    svg += "<text x=\"" + f1(L - 6) + "\" y=\"" + f1(Y(v) + 4) +
           "\" text-anchor=\"end\" font-size=\"11\">" + money_label(v) + "</text>";
  }
  for (int k = 0; k <= 4; ++k) {
    int64_t m = t0 + (t1 - t0) * k / 4;
    std::string lab = format_minute(m * 60000);
    if (t1 - t0 < 1440 * 2) lab = lab.substr(11);
    svg += "<text x=\"" + f1(X(m)) + "\" y=\"" + f1(H - B + 16) +
           "\" text-anchor=\"middle\" font-size=\"11\">" + esc(lab) + "</text>";
  }
  svg += "<line x1=\"" + f1(L) + "\" x2=\"" + f1(L) + "\" y1=\"" + f1(T) + "\" y2=\"" + f1(H - B) +
         "\" stroke=\"#888\"/>";
  svg += "<line x1=\"" + f1(L) + "\" x2=\"" + f1(W - R) + "\" y1=\"" + f1(H - B) + "\" y2=\"" +
         f1(H - B) + "\" stroke=\"#888\"/>";
  for (int side = 0; side < 2; ++side) {
    std::string poly;
    for (const auto& [m, b, h] : pts) poly += f1(X(m)) + "," + f1(Y(side ? h : b)) + " ";
    svg += "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" +
           std::string(side ? kHeadColor : kBaseColor) + "\" points=\"" + poly + "\"/>";
  }
  svg += "<text x=\"" + f1(W / 2) + "\" y=\"" + f1(H - 6) +
         "\" text-anchor=\"middle\" font-size=\"11\">time (UTC)</text>";
  return svg + "</svg>";
}

std::string route_chart(const Breakdown& b) {
  std::vector<BreakdownRow> rows = b.rows;
  if (b.rest_count) {
    BreakdownRow rest = b.rest;
    rest.key = "(" + std::to_string(b.rest_count) + " others)";
    rows.push_back(rest);
  }
  const double W = 760, L = 260, R = 90, bar = 12, gap = 10;
  double H = 20 + rows.size() * (2 * bar + gap) + 10;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + f1(W) + "\" height=\"" +
                    f1(H) + "\" viewBox=\"0 0 " + f1(W) + " " + f1(H) +
                    "\" role=\"img\" aria-label=\"Spend by route, base vs head\">";
  double maxv = 0;
  for (const auto& r : rows)
    maxv = std::max({maxv, pico_to_usd(r.base.spend), pico_to_usd(r.head.spend)});
  if (maxv <= 0) maxv = 1;
  double y = 14;
  for (const auto& r : rows) {
    svg += "<text x=\"" + f1(L - 8) + "\" y=\"" + f1(y + bar + 4) +
           "\" text-anchor=\"end\" font-size=\"12\">" + esc(r.key) + "</text>";
    for (int side = 0; side < 2; ++side) {
      Pico p = side ? r.head.spend : r.base.spend;
      double w = (W - L - R) * pico_to_usd(p) / maxv;
      svg += "<rect x=\"" + f1(L) + "\" y=\"" + f1(y) + "\" width=\"" + f1(std::max(w, 0.5)) +
             "\" height=\"" + f1(bar) + "\" fill=\"" + (side ? kHeadColor : kBaseColor) + "\"/>";
      svg += "<text x=\"" + f1(L + w + 4) + "\" y=\"" + f1(y + bar - 2) + "\" font-size=\"11\">" +
             esc(format_usd(p)) + "</text>";
      y += bar;
    }
    y += gap;
  }
  return svg + "</svg>";
}

}  // namespace

std::string render_html(const Report& r) {
  const ReplayData& d = *r.data;
  std::string o;
  o += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  o += "<title>Tollgate dry-run: " + esc(d.base.source) + " → " + esc(d.head.source) + "</title>\n";
  o += "<style>body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;"
       "max-width:1100px;color:#222;padding:0 16px}h1{font-size:22px}h2{font-size:17px;"
       "margin-top:28px;border-bottom:1px solid #eee}table{border-collapse:collapse;margin:8px 0}"
       "td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}td:first-child,"
       "th:first-child{text-align:left}th{background:#f6f6f6}.up{color:#b30000}.down{color:#0a7a2f}"
       ".headline{font-size:18px;margin:12px 0}.legend span{display:inline-block;width:12px;"
       "height:12px;margin:0 4px 0 14px;vertical-align:middle}code{background:#f4f4f4;"
       "padding:1px 4px;border-radius:3px;font-size:12px}.ex{font-size:12px;color:#444}"
       "ul{margin:4px 0}</style></head><body>\n";
  o += "<h1>Tollgate dry-run</h1>\n";
  o += "<p><code>" + esc(side_title(d.base)) + "</code><br><code>" + esc(side_title(d.head)) +
       "</code><br>" + fmt_count(d.records) + " records replayed (" + esc(time_range(d)) +
       ") from ";
  for (size_t i = 0; i < d.logs.size(); ++i)
    o += (i ? ", " : "") + std::string("<code>") + esc(d.logs[i]) + "</code>";
  o += "</p>\n";
  std::string cls = r.delta > 0 ? "up" : r.delta < 0 ? "down" : "";
  int dec = money_decimals(d.base.spend, d.head.spend);
  o += "<p class=\"headline\">Spend " + esc(format_usd(d.base.spend, dec)) + " → " +
       esc(format_usd(d.head.spend, dec)) + " <b class=\"" + cls + "\">" +
       esc(fmt_delta_usd(r.delta, dec)) + " (" + esc(fmt_pct(r.delta_pct)) + ")</b>";
  if (r.options.fail_if_increase) {
    const std::string t = esc(r.options.fail_if_increase->text());
    o += r.threshold_tripped ? " — over the " + t + " threshold" : " — within the " + t + " threshold";
  }
  o += "</p>\n<p class=\"projection\">" + esc(projection_text(r.monthly)) + "</p>\n";
  o += "<div class=\"legend\"><span style=\"background:" + std::string(kBaseColor) +
       "\"></span>base<span style=\"background:" + kHeadColor + "\"></span>head</div>\n";
  o += "<h2>Cumulative spend over time</h2>\n" + time_chart(d) + "\n";
  o += "<h2>Spend by route</h2>\n" + route_chart(r.breakdowns[0]) + "\n";

  o += "<h2>Totals</h2>\n<table><tr><th></th><th>base</th><th>head</th><th>delta</th></tr>\n";
  for (const auto& m : total_rows(r))
    o += "<tr><td>" + esc(m.name) + "</td><td>" + esc(m.base) + "</td><td>" + esc(m.head) +
         "</td><td>" + esc(m.delta) + "</td></tr>\n";
  o += "</table>\n";

  for (const Breakdown& b : r.breakdowns) {
    if (b.rows.empty()) continue;
    o += "<h2>Spend by " + esc(b.name) + "</h2>\n<table><tr><th>" + esc(b.name) +
         "</th><th>base</th><th>head</th><th>delta</th><th>calls base</th><th>calls head</th>"
         "<th>denied head</th></tr>\n";
    auto add = [&](const BreakdownRow& row, const std::string& key) {
      o += "<tr><td>" + esc(key) + "</td><td>" + esc(format_usd(row.base.spend)) + "</td><td>" +
           esc(format_usd(row.head.spend)) + "</td><td>" +
           esc(fmt_delta_usd(row.head.spend - row.base.spend)) + "</td><td>" +
           fmt_count(row.base.calls) + "</td><td>" + fmt_count(row.head.calls) + "</td><td>" +
           fmt_count(row.head.denied) + "</td></tr>\n";
    };
    for (const auto& row : b.rows) add(row, row.key);
    if (b.rest_count) add(b.rest, "(" + std::to_string(b.rest_count) + " others)");
    o += "</table>\n";
  }

  o += "<h2>Decisions changed: " + fmt_count(d.changed) + " of " + fmt_count(d.records) +
       " records</h2>\n";
  for (const ChangeKind& k : d.changes) {
    o += "<p><b>" + esc(k.field) + ": " + esc(k.from) + " → " + esc(k.to) + "</b> — " +
         fmt_count(k.count) + " records, " + esc(format_usd(k.base_cost)) + " → " +
         esc(format_usd(k.head_cost)) + "</p><ul class=\"ex\">\n";
    for (const ChangeExample& e : k.examples)
      o += "<li><code>" + esc(e.where) + "</code> tenant " + esc(e.tenant) + ", task " +
           esc(e.task) + ", " + fmt_count(e.in_tokens) + " in / " + fmt_count(e.out_tokens) +
           " out: " + esc(format_usd(e.base_cost, 5)) + " → " + esc(format_usd(e.head_cost, 5)) +
           "<br>base <code>" + esc(e.base_rule) + "</code><br>head <code>" + esc(e.head_rule) +
           "</code></li>\n";
    o += "</ul>\n";
  }
  o += "<h2>Spend model</h2>\n<ul>\n";
  for (const auto& a : r.assumptions) o += "<li>" + esc(a) + "</li>\n";
  o += "</ul>\n<h2>Input</h2>\n<ul>\n<li>" + fmt_count(d.read.malformed) +
       " malformed lines skipped</li>\n";
  for (const auto& i : d.read.first_malformed)
    o += "<li><code>" + esc(i.file + ":" + std::to_string(i.line)) + "</code> " + esc(i.message) +
         "</li>\n";
  if (d.late_records)
    o += "<li>" + fmt_count(d.late_records) + " records later than the reorder window</li>\n";
  for (const auto& [n, c] : d.read.notes) o += "<li>" + esc(n) + ": " + fmt_count(c) + "</li>\n";
  for (const auto& [n, c] : d.warnings) o += "<li>" + esc(n) + ": " + fmt_count(c) + "</li>\n";
  o += "</ul>\n</body></html>\n";
  return o;
}

}  // namespace tollgate::dryrun
