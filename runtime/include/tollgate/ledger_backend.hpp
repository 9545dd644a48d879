// Storage behind the budget Ledger: windowed counters with an atomic check-and-add. The in-process
// backend (sharded hash maps) is the default; a shared store (Redis) implements the same interface.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tollgate/budget.hpp"

namespace tollgate {

// Counters hold fixed-point integers so concurrent adds are exact (no float drift) and a backend
// can use integer atomics (INCRBY in Redis). One unit is 1e-9 USD, one token or one request.
constexpr double kUsdUnitsPerDollar = 1e9;
int64_t to_units(BudgetUnit unit, double amount);
double from_units(BudgetUnit unit, int64_t units);

// Which counter: the budget's name, unit and window kind (so a reload that changes a budget's
// unit or window does not mix amounts) and the key value ("acme" for `per tenant`, "" if global).
struct CounterId {
  std::string_view budget;
  BudgetUnit unit = BudgetUnit::Usd;
  BudgetWindow window = BudgetWindow::Month;
  std::string_view key;
};

enum class ReserveResult : uint8_t {
  Ok,           // reserved
  Exceeded,     // committed + reserved + amount would pass the limit; nothing changed
  Unavailable,  // the store could not be reached; the budget's FailMode decides
};

// One counter as persisted in a snapshot.
struct CounterEntry {
  std::string budget;
  BudgetUnit unit = BudgetUnit::Usd;
  BudgetWindow window = BudgetWindow::Month;
  std::string key;
  int64_t window_start = 0;  // ms since the epoch, UTC (tollgate::window_start)
  int64_t committed = 0;     // settled spend, in units
  int64_t reserved = 0;      // outstanding reservations, in units
};

// A counter keeps one window: writing to a newer window resets it, writes addressed to an older
// window than the stored one are ignored (a late settle of an expired reservation), and reads of
// any other window than the stored one return 0. Every method is thread-safe.
class LedgerBackend {
 public:
  virtual ~LedgerBackend() = default;

  // committed + reserved in the window starting at window_start. Called from decide(): must not
  // allocate for existing counters, must not block on I/O.
  virtual int64_t spent(const CounterId& id, int64_t window_start) const = 0;

  // Atomic check-and-add: reserved += amount if committed + reserved + amount <= limit.
  virtual ReserveResult try_reserve(const CounterId& id, int64_t window_start, int64_t amount,
                                    int64_t limit) = 0;

  // committed += committed_delta, reserved += reserved_delta (reserved never goes below 0).
  virtual void add(const CounterId& id, int64_t window_start, int64_t committed_delta,
                   int64_t reserved_delta) = 0;

  // Copies every counter (for snapshots and tools).
  virtual void entries(std::vector<CounterEntry>* out) const = 0;

  // Removes counters whose window ended before now_ms; returns how many.
  virtual size_t drop_expired(int64_t now_ms) = 0;

  // Backend name for diagnostics ("memory", "redis").
  virtual const char* name() const = 0;
};

// The default backend: 64 shards, each a tsl::robin_map under its own mutex.
std::unique_ptr<LedgerBackend> make_memory_backend();

}  // namespace tollgate
