// UTC calendar windows for budget counters. Months use the civil-from-days algorithm (Howard
// Hinnant's), so no timegm/locale is involved and any int64 millisecond time works.
#include "tollgate/budget.hpp"

#include <cstdint>

namespace tollgate {

namespace {

constexpr int64_t kMsPerMinute = 60'000;
constexpr int64_t kMsPerHour = 3'600'000;
constexpr int64_t kMsPerDay = 86'400'000;

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Days since 1970-01-01 -> civil year and month (day not needed).
void civil_from_days(int64_t z, int64_t* y, unsigned* m) {
  z += 719468;
  const int64_t era = floor_div(z, 146097);
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2 ? 1 : 0);
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = floor_div(y, 400);
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

int64_t window_start(BudgetWindow w, int64_t now_ms) {
  switch (w) {
    case BudgetWindow::Minute:
      return floor_div(now_ms, kMsPerMinute) * kMsPerMinute;
    case BudgetWindow::Hour:
      return floor_div(now_ms, kMsPerHour) * kMsPerHour;
    case BudgetWindow::Day:
      return floor_div(now_ms, kMsPerDay) * kMsPerDay;
    case BudgetWindow::Month: {
      int64_t y;
      unsigned m;
      civil_from_days(floor_div(now_ms, kMsPerDay), &y, &m);
      return days_from_civil(y, m, 1) * kMsPerDay;
    }
  }
  return now_ms;
}

}  // namespace tollgate
