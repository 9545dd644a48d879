// Totals rows shared by the human-readable renderers.
#include "tools/dryrun/report_rows.h"

#include <cstdio>

#include "tools/dryrun/timeparse.h"

namespace tollgate::dryrun {

std::string spend_delta_text(Pico base, Pico head) {
  return fmt_delta_usd(head - base, money_decimals(base, head)) + " (" +
         fmt_pct(pct_change(pico_to_usd(base), pico_to_usd(head))) + ")";
}

std::string time_range(const ReplayData& d) {
  // Traces with relative timestamps (Mooncake's ms from the start, logs without dates) would
  // read as January 1970: say "relative time" and give the offsets.
  constexpr int64_t kYearMs = 365LL * 24 * 3600 * 1000;
  if (d.first_ts >= 0 && d.last_ts < kYearMs) {
    auto offset = [](int64_t ms) {
      char buf[32];
      const int64_t min = ms / 60000;
      std::snprintf(buf, sizeof buf, "+%lld:%02lld", static_cast<long long>(min / 60),
                    static_cast<long long>(min % 60));
      return std::string(buf);
    };
    return "relative time " + offset(d.first_ts) + " → " + offset(d.last_ts);
  }
  std::string a = format_minute(d.first_ts), b = format_minute(d.last_ts);
  if (a.substr(0, 10) == b.substr(0, 10)) b = b.substr(11);
  return a + " → " + b + " UTC";
}

namespace {

std::string count_delta(uint64_t b, uint64_t h) {
  if (b == h) return "0";
  int64_t d = static_cast<int64_t>(h) - static_cast<int64_t>(b);
  std::string s = (d > 0 ? "+" : "-") + fmt_count(static_cast<uint64_t>(d > 0 ? d : -d));
  return s;
}

std::string pct_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", v * 100);
  return buf;
}

}  // namespace

std::vector<MetricRow> total_rows(const Report& r) {
  const SideStats& b = r.data->base;
  const SideStats& h = r.data->head;
  std::vector<MetricRow> rows;
  int dec = money_decimals(b.spend, h.spend);
  rows.push_back({"spend", format_usd(b.spend, dec), format_usd(h.spend, dec),
                  spend_delta_text(b.spend, h.spend)});
  rows.push_back({"requests", fmt_count(b.requests), fmt_count(h.requests),
                  count_delta(b.requests, h.requests)});
  rows.push_back({"calls made (billed)", fmt_count(b.calls), fmt_count(h.calls),
                  count_delta(b.calls, h.calls)});
  rows.push_back(
      {"denied", fmt_count(b.denied), fmt_count(h.denied), count_delta(b.denied, h.denied)});
  rows.push_back({"retries made", fmt_count(b.retries), fmt_count(h.retries),
                  count_delta(b.retries, h.retries)});
  rows.push_back({"retries dropped", fmt_count(b.retries_dropped), fmt_count(h.retries_dropped),
                  count_delta(b.retries_dropped, h.retries_dropped)});
  rows.push_back(
      {"retry rate (retries / request)", pct_text(retry_rate(b)), pct_text(retry_rate(h)), ""});
  rows.push_back({"successful calls", fmt_count(b.successful), fmt_count(h.successful),
                  count_delta(b.successful, h.successful)});
  Pico pb = per_success(b), ph = per_success(h);
  rows.push_back({"cost per successful call", format_usd(pb, 5), format_usd(ph, 5),
                  std::string(ph >= pb ? "+" : "-") + format_usd(ph >= pb ? ph - pb : pb - ph, 5)});
  rows.push_back({"input tokens / call p50 · p95",
                  fmt_count(b.in_hist.quantile(0.5)) + " · " + fmt_count(b.in_hist.quantile(0.95)),
                  fmt_count(h.in_hist.quantile(0.5)) + " · " + fmt_count(h.in_hist.quantile(0.95)),
                  ""});
  rows.push_back(
      {"output tokens / call p50 · p95",
       fmt_count(b.out_hist.quantile(0.5)) + " · " + fmt_count(b.out_hist.quantile(0.95)),
       fmt_count(h.out_hist.quantile(0.5)) + " · " + fmt_count(h.out_hist.quantile(0.95)), ""});
  rows.push_back({"input tokens billed", fmt_count(b.in_tokens), fmt_count(h.in_tokens),
                  count_delta(b.in_tokens, h.in_tokens)});
  rows.push_back({"output tokens billed", fmt_count(b.out_tokens), fmt_count(h.out_tokens),
                  count_delta(b.out_tokens, h.out_tokens)});
  rows.push_back({"cached input tokens", fmt_count(b.cached_tokens), fmt_count(h.cached_tokens),
                  count_delta(b.cached_tokens, h.cached_tokens)});
  if (b.rag_tokens_removed || h.rag_tokens_removed)
    rows.push_back({"RAG tokens removed", fmt_count(b.rag_tokens_removed),
                    fmt_count(h.rag_tokens_removed),
                    count_delta(b.rag_tokens_removed, h.rag_tokens_removed)});
  if (b.eval_errors || h.eval_errors)
    rows.push_back({"decisions with evaluation errors", fmt_count(b.eval_errors),
                    fmt_count(h.eval_errors), count_delta(b.eval_errors, h.eval_errors)});
  return rows;
}

}  // namespace tollgate::dryrun
