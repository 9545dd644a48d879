// The rows of the totals table, shared by the text, Markdown and HTML renderers so the three
// always show the same metrics in the same order.
#pragma once

#include <string>
#include <vector>

#include "tools/dryrun/report.h"

namespace tollgate::dryrun {

struct MetricRow {
  std::string name;
  std::string base, head, delta;
};

std::vector<MetricRow> total_rows(const Report& r);
// "+$12.34 (+5.6%)"
std::string spend_delta_text(Pico base, Pico head);
// Short human text of the time range: "2023-11-16 18:15 → 19:14 UTC".
std::string time_range(const ReplayData& d);

}  // namespace tollgate::dryrun
