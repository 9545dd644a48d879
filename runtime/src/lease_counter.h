// One shared-budget counter as a replica sees it: its local lease (hot-path atomics) and what the
// background thread last learned from Redis. Invariant kept by every update:
//   avail == held - reserved - (consumed - acked)
// where held is the lease Redis has recorded for this replica after usage `acked`. Reservations
// and usage move avail on the hot path; a sync moves it by the change Redis made to the lease.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <string>

#include "tollgate/budget.hpp"

namespace tollgate::redis {

struct LeaseCounter {
  // Identity (immutable after creation).
  std::string budget;
  std::string key;
  BudgetUnit unit = BudgetUnit::Usd;
  BudgetWindow window = BudgetWindow::Month;
  int64_t window_start = 0;
  int64_t window_end = 0;  // ms since the epoch
  std::string state_key;   // Redis hash: spent and per-field usage
  std::string lease_key;   // Redis hash: live leases
  std::string field;       // this replica's (and this counter incarnation's) name in both

  // Hot path. avail may go negative (usage above the estimate, fail-open overdraft).
  alignas(64) std::atomic<int64_t> avail{0};
  std::atomic<int64_t> reserved{0};
  std::atomic<int64_t> consumed{0};     // cumulative usage recorded by this replica
  std::atomic<int64_t> base{0};         // Redis spent minus our acked usage at the last sync
  std::atomic<int64_t> limit{-1};       // last limit a reservation named; -1 = only read
  std::atomic<int64_t> low_water{0};    // renew below this (units), set by the sync thread
  std::atomic<int64_t> miss{0};         // largest reservation the lease could not cover
  std::atomic<int64_t> last_use_ms{0};  // steady clock
  std::atomic<uint32_t> gen{0};         // bumped after each sync attempt of this counter
  std::atomic<int32_t> waiters{0};      // threads waiting for a sync (pins the counter)
  std::atomic<bool> synced{false};      // Redis answered at least once
  std::atomic<bool> exhausted{false};   // the last sync found no room left under the limit
  std::atomic<bool> kicked{false};      // a renewal was requested since the last sync

  // Background thread only.
  int64_t held = 0;
  int64_t acked = 0;
  int64_t last_send_ms = std::numeric_limits<int64_t>::min() / 2;
  int64_t valid_until_ms = 0;  // steady clock; the lease is void locally after this

  // Spent as budget views see it: Redis' settled spend + our unreported usage + our reservations.
  int64_t spent_view() const {
    return base.load(std::memory_order_relaxed) + consumed.load(std::memory_order_relaxed) +
           reserved.load(std::memory_order_relaxed);
  }

  // Takes `amount` from the local lease if it covers it. Lock-free.
  bool try_take(int64_t amount) {
    int64_t cur = avail.load(std::memory_order_relaxed);
    while (cur >= amount) {
      if (avail.compare_exchange_weak(cur, cur - amount, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
        reserved.fetch_add(amount, std::memory_order_relaxed);
        return true;
      }
    }
    return false;
  }

  // Settles: reserved += reserved_delta (never below zero; a negative delta returns that part to
  // the lease, a positive one reserves beyond it: fail-open overdraft), and usage `used` is paid
  // out of the lease and reported by the next sync. One update of avail.
  void settle(int64_t reserved_delta, int64_t used) {
    int64_t moved = reserved_delta;
    if (reserved_delta < 0) {
      int64_t cur = reserved.load(std::memory_order_relaxed);
      do {
        moved = cur + reserved_delta < 0 ? -(cur > 0 ? cur : 0) : reserved_delta;
      } while (!reserved.compare_exchange_weak(cur, cur + moved, std::memory_order_acq_rel,
                                               std::memory_order_relaxed));
    } else if (reserved_delta > 0) {
      reserved.fetch_add(reserved_delta, std::memory_order_relaxed);
    }
    if (used != 0) consumed.fetch_add(used, std::memory_order_acq_rel);
    if (moved != 0 || used != 0) avail.fetch_sub(moved + used, std::memory_order_acq_rel);
  }
};

}  // namespace tollgate::redis
