// Markdown report, ready to post as a pull-request comment: headline, totals table, breakdowns
// and examples folded in <details>, the spend model at the end.
#include <algorithm>
#include <cctype>

#include "tools/dryrun/report.h"
#include "tools/dryrun/report_rows.h"

namespace tollgate::dryrun {

namespace {

// Log-derived text (tenant names, tasks, request ids, messages) reaches a PR comment, where
// GitHub renders Markdown and some HTML. Text is escaped so it renders as itself: <, > and & as
// entities, the punctuation Markdown acts on with a backslash, `|` only inside a table, newlines
// as spaces.
std::string md_text(const std::string& s, bool in_table) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '\n':
      case '\r':
        out += ' ';
        break;
      case '|':
        out += in_table ? "\\|" : "|";
        break;
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '#':
      case '!':
      case '~':
        out += '\\';
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string cell(const std::string& s) { return md_text(s, true); }
std::string text(const std::string& s) { return md_text(s, false); }

// A code span shows its content literally (HTML included); its fence is one backtick longer
// than the longest run inside, padded with spaces when the content starts or ends with one.
std::string code(const std::string& s, bool in_table = false) {
  std::string t;
  size_t run = 0, longest = 0;
  for (char c : s) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
    if (c == '\n' || c == '\r')
      t += ' ';
    else if (c == '|' && in_table)
      t += "\\|";
    else
      t += c;
  }
  const std::string fence(longest + 1, '`');
  const bool pad = !t.empty() && (t.front() == '`' || t.back() == '`');
  return fence + (pad ? " " : "") + t + (pad ? " " : "") + fence;
}

}  // namespace

std::string render_markdown(const Report& r) {
  const ReplayData& d = *r.data;
  std::string out;
  out += "### Tollgate dry-run: " + code(d.base.source) + " → " + code(d.head.source) + "\n\n";
  std::string verdict = verdict_text(r);
  verdict[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(verdict[0])));
  int dec = money_decimals(d.base.spend, d.head.spend);
  out += "**" + verdict + ": " + format_usd(d.base.spend, dec) + " → " +
         format_usd(d.head.spend, dec) + "** on " + fmt_count(d.records) + " replayed records (" +
         time_range(d) + ").";
  if (r.options.fail_if_increase) {
    const std::string t = r.options.fail_if_increase->text();
    out += r.threshold_tripped ? " :x: Over the " + t + " threshold."
                               : " :white_check_mark: Within the " + t + " threshold.";
  }
  out += "\n\n" + projection_text(r.monthly) + "\n\n";
  out += "| | base | head | delta |\n|---|--:|--:|--:|\n";
  for (const auto& m : total_rows(r))
    out += "| " + cell(m.name) + " | " + cell(m.base) + " | " + cell(m.head) + " | " +
           cell(m.delta) + " |\n";
  out += "\n";

  for (const Breakdown& b : r.breakdowns) {
    if (b.rows.empty()) continue;
    out += "<details><summary>Spend by " + b.name + "</summary>\n\n";
    out += "| " + b.name + " | base | head | delta | calls (base → head) | denied (head) |\n";
    out += "|---|--:|--:|--:|--:|--:|\n";
    auto add = [&](const BreakdownRow& row, const std::string& key) {
      out += "| " + cell(key) + " | " + format_usd(row.base.spend) + " | " +
             format_usd(row.head.spend) + " | " + fmt_delta_usd(row.head.spend - row.base.spend) +
             " | " + fmt_count(row.base.calls) + " → " + fmt_count(row.head.calls) + " | " +
             fmt_count(row.head.denied) + " |\n";
    };
    for (const auto& row : b.rows) add(row, row.key);
    if (b.rest_count) add(b.rest, "(" + std::to_string(b.rest_count) + " others)");
    out += "\n</details>\n\n";
  }

  out += "#### Decisions changed: " + fmt_count(d.changed) + " of " + fmt_count(d.records) +
         " records\n\n";
  if (!d.changes.empty()) {
    out += "| change | records | spend base → head |\n|---|--:|--:|\n";
    for (const ChangeKind& k : d.changes)
      out += "| " + cell(k.field) + ": " + cell(k.from) + " → " + cell(k.to) + " | " +
             fmt_count(k.count) + " | " + format_usd(k.base_cost) + " → " +
             format_usd(k.head_cost) + " |\n";
    if (d.other_changes) out += "| (other kinds) | " + fmt_count(d.other_changes) + " | |\n";
    out += "\n<details><summary>Examples and the rules behind them</summary>\n\n";
    for (const ChangeKind& k : d.changes) {
      out += "**" + text(k.field) + ": " + text(k.from) + " → " + text(k.to) + "**\n\n";
      for (const ChangeExample& e : k.examples) {
        out += "- " + code(e.where) + (e.request_id.empty() ? "" : " " + code(e.request_id)) +
               " tenant " + code(e.tenant) + ", task " + code(e.task) + ", " +
               fmt_count(e.in_tokens) + " in / " + fmt_count(e.out_tokens) +
               " out: " + format_usd(e.base_cost, 5) + " → " + format_usd(e.head_cost, 5) + "\n";
        out += "  - base " + code(e.base_rule) + "\n";
        out += "  - head " + code(e.head_rule) + "\n";
      }
      out += "\n";
    }
    out += "</details>\n\n";
  }

  out += "<details><summary>Spend model and input notes</summary>\n\n";
  for (const auto& a : r.assumptions) out += "- " + text(a) + "\n";
  out += "\nLogs: ";
  for (size_t i = 0; i < d.logs.size(); ++i) out += (i ? ", " : "") + code(d.logs[i]);
  out += ". Malformed lines skipped: " + fmt_count(d.read.malformed) + ".\n";
  for (const auto& i : d.read.first_malformed)
    out += "- " + code(i.file + ":" + std::to_string(i.line)) + " " + text(i.message) + "\n";
  if (d.late_records)
    out += "- " + fmt_count(d.late_records) + " records arrived later than the reorder window\n";
  for (const auto& [n, c] : d.read.notes) out += "- " + text(n) + ": " + fmt_count(c) + "\n";
  for (const auto& [n, c] : d.warnings) out += "- " + text(n) + ": " + fmt_count(c) + "\n";
  out += "\n</details>\n";
  return out;
}

}  // namespace tollgate::dryrun
