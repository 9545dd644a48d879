// Plain-text report for terminals: aligned columns, no markup.
#include <algorithm>

#include "tools/dryrun/report.h"
#include "tools/dryrun/report_rows.h"

namespace tollgate::dryrun {

namespace {

// Display width of UTF-8 text (counts code points; good enough for the symbols we print).
size_t width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string pad_left(const std::string& s, size_t w) {
  size_t n = width(s);
  return n >= w ? s : std::string(w - n, ' ') + s;
}
std::string pad_right(const std::string& s, size_t w) {
  size_t n = width(s);
  return n >= w ? s : s + std::string(w - n, ' ');
}

// Renders rows; column 0 left-aligned, the others right-aligned.
std::string table(const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
  std::vector<size_t> w;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (w.size() <= i) w.push_back(0);
      w[i] = std::max(w[i], width(r[i]));
    }
  std::string out;
  for (const auto& r : rows) {
    std::string line = indent;
    for (size_t i = 0; i < r.size(); ++i) {
      if (i) line += "  ";
      line += i == 0 ? pad_right(r[i], w[i]) : pad_left(r[i], w[i]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace

std::string render_text(const Report& r) {
  const ReplayData& d = *r.data;
  std::string out;
  out += "tollgate dryrun\n";
  out += "  " + side_title(d.base) + "\n";
  out += "  " + side_title(d.head) + "\n";
  for (const auto& l : d.logs) out += "  log: " + l + "\n";
  out += "  " + fmt_count(d.records) + " records replayed, " + time_range(d) + "; " +
         fmt_count(d.read.malformed) + " malformed lines skipped\n\n";

  std::vector<std::vector<std::string>> rows = {{"", "base", "head", "delta"}};
  for (const auto& m : total_rows(r)) rows.push_back({m.name, m.base, m.head, m.delta});
  out += table(rows, "  ") + "\n";

  for (const Breakdown& b : r.breakdowns) {
    if (b.rows.empty()) continue;
    out += "Spend by " + b.name +
           (b.rest_count ? " (top " + std::to_string(b.rows.size()) + ")" : "") + "\n";
    std::vector<std::vector<std::string>> t = {
        {b.name, "base", "head", "delta", "calls base", "calls head", "denied head"}};
    auto add = [&](const BreakdownRow& row, const std::string& key) {
      t.push_back({key, format_usd(row.base.spend), format_usd(row.head.spend),
                   fmt_delta_usd(row.head.spend - row.base.spend), fmt_count(row.base.calls),
                   fmt_count(row.head.calls), fmt_count(row.head.denied)});
    };
    for (const auto& row : b.rows) add(row, row.key);
    if (b.rest_count) add(b.rest, "(" + std::to_string(b.rest_count) + " others)");
    out += table(t, "  ") + "\n";
  }

  out +=
      "Decisions changed: " + fmt_count(d.changed) + " of " + fmt_count(d.records) + " records\n";
  for (const ChangeKind& k : d.changes) {
    out += "  " + k.field + ": " + k.from + " → " + k.to + "   " + fmt_count(k.count) +
           " records, " + format_usd(k.base_cost) + " → " + format_usd(k.head_cost) + "\n";
    for (const ChangeExample& e : k.examples) {
      out += "      e.g. " + e.where + (e.request_id.empty() ? "" : " " + e.request_id) +
             " tenant " + e.tenant + " task " + e.task + ", " + fmt_count(e.in_tokens) + " in / " +
             fmt_count(e.out_tokens) + " out: " + format_usd(e.base_cost, 5) + " → " +
             format_usd(e.head_cost, 5) + "\n";
      out += "           base " + e.base_rule + "\n";
      out += "           head " + e.head_rule + "\n";
    }
  }
  if (d.other_changes) out += "  (" + fmt_count(d.other_changes) + " changes of other kinds)\n";
  out += "\n";

  for (const SideStats* s : {&d.base, &d.head}) {
    if (s->deny_reasons.empty()) continue;
    out += "Denials (" + s->role + "):";
    for (const auto& [reason, n] : s->deny_reasons)
      out += " \"" + reason + "\" " + fmt_count(n) + ";";
    out.back() = '\n';
  }
  out += "Spend model:\n";
  for (const auto& a : r.assumptions) out += "  - " + a + "\n";
  out += "Prices used:\n";
  for (const SideStats* s : {&d.base, &d.head}) {
    for (const auto& p : s->routes) {
      out += "  " + s->role + " " + (s->actual ? p.model : p.name + " = " + p.model) + ": in " +
             format_usd(static_cast<Pico>(p.in_pico) * 1000000, 4) + "/M, out " +
             format_usd(static_cast<Pico>(p.out_pico) * 1000000, 4) + "/M, cache read " +
             format_usd(static_cast<Pico>(p.cache_read_pico) * 1000000, 4) + "/M (" + p.note +
             ")\n";
    }
  }
  if (d.read.malformed || !d.read.notes.empty() || !d.warnings.empty() || d.late_records) {
    out += "Input notes:\n";
    if (d.read.malformed) {
      out += "  " + fmt_count(d.read.malformed) + " malformed lines skipped; first:\n";
      for (const auto& i : d.read.first_malformed)
        out += "    " + i.file + ":" + std::to_string(i.line) + ": " + i.message + "\n";
    }
    if (d.late_records)
      out += "  " + fmt_count(d.late_records) + " records arrived later than the reorder window (" +
             fmt_count(d.reorder_window) + " records) and were replayed late\n";
    for (const auto& [n, c] : d.read.notes) out += "  " + n + ": " + fmt_count(c) + "\n";
    for (const auto& [n, c] : d.warnings) out += "  " + n + ": " + fmt_count(c) + "\n";
  }
  out += "\nResult: " + verdict_text(r);
  if (r.options.fail_if_increase) {
    out += r.threshold_tripped ? "; over the --fail-if-increase threshold of "
                               : "; within the threshold of ";
    out += r.options.fail_if_increase->text();
  }
  out += "\n" + projection_text(r.monthly) + "\n";
  return out;
}

}  // namespace tollgate::dryrun
