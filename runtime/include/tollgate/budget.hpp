// Budgets as the runtime sees them: what a `budget` declaration compiles to, and the interface
// a decision reads budget views (.spent .limit .remaining .ratio) through.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tollgate {

enum class BudgetUnit : uint8_t { Usd, Tokens, Requests };
enum class BudgetWindow : uint8_t { Minute, Hour, Day, Month };
enum class FailMode : uint8_t { Closed, Open };

// Names as they appear in policies, snapshots and records.
inline const char* to_string(BudgetUnit u) {
  switch (u) {
    case BudgetUnit::Usd:
      return "usd";
    case BudgetUnit::Tokens:
      return "tokens";
    case BudgetUnit::Requests:
      return "requests";
  }
  return "usd";
}
inline const char* to_string(BudgetWindow w) {
  switch (w) {
    case BudgetWindow::Minute:
      return "minute";
    case BudgetWindow::Hour:
      return "hour";
    case BudgetWindow::Day:
      return "day";
    case BudgetWindow::Month:
      return "month";
  }
  return "month";
}

// A declared budget. Counters are keyed by (name, key value, window start), so a reloaded policy
// that keeps a budget's name keeps its spend.
struct BudgetInfo {
  std::string name;
  BudgetUnit unit = BudgetUnit::Usd;
  BudgetWindow window = BudgetWindow::Month;
  FailMode fail = FailMode::Closed;
  int32_t key_input = -1;  // input whose value keys the counter ("per tenant"); -1 = one counter
};

// Start (ms since the Unix epoch, UTC) of the calendar window containing now_ms.
int64_t window_start(BudgetWindow w, int64_t now_ms);

// Read side of budget counters. decide() calls spent() only for budgets the policy reads,
// so an implementation must be thread-safe and must not allocate.
class BudgetReader {
 public:
  virtual ~BudgetReader() = default;
  // Amount spent (in the budget's unit) in the window containing now_ms for this key.
  virtual double spent(const BudgetInfo& budget, std::string_view key, int64_t now_ms) const = 0;
};

}  // namespace tollgate
