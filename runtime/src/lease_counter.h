// One shared-budget counter as a replica sees it: its local lease and what the background thread
// last learned from Redis. Invariant kept by every update:
//   avail == held - reserved - (consumed - acked)
// where held is the lease Redis has recorded for this replica after usage `acked`. Reservations
// and usage move avail on the hot path; a sync moves it by the change Redis made to the lease.
//
// The hot fields are plain integers guarded by the counter's shard mutex (LeaseTable), as in the
// in-process backend: an admit costs one uncontended lock and a few adds, no atomic per field.
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
  int shard = 0;           // LeaseTable shard whose mutex guards the fields below

  // ---- guarded by the shard mutex. avail may go negative (usage above the estimate, overdraft).
  int64_t avail = 0;
  int64_t reserved = 0;
  int64_t consumed = 0;     // cumulative usage recorded by this replica
  int64_t base = 0;         // Redis spent minus our acked usage at the last sync
  int64_t limit = -1;       // last limit a reservation named; -1 = only read
  int64_t low_water = 0;    // renew below this (units), set by the sync thread
  int64_t miss = 0;         // largest reservation the lease could not cover
  int64_t last_use_ms = 0;  // coarse steady clock
  bool synced = false;      // Redis answered at least once
  bool exhausted = false;   // the last sync found no room left under the limit
  bool kicked = false;      // a renewal was requested since the last sync

  // ---- waiting for a sync (no lock needed).
  std::atomic<uint32_t> gen{0};     // bumped after each sync attempt of this counter
  std::atomic<int32_t> waiters{0};  // threads waiting for a sync (pins the counter)

  // ---- background thread only.
  int64_t held = 0;
  int64_t acked = 0;
  int64_t last_send_ms = std::numeric_limits<int64_t>::min() / 2;
  int64_t valid_until_ms = 0;  // steady clock; the lease is void locally after this

  // Spent as budget views see it: Redis' settled spend + our unreported usage + our reservations.
  int64_t spent_view() const { return base + consumed + reserved; }

  // Takes `amount` from the local lease if it covers it.
  bool try_take(int64_t amount) {
    if (avail < amount) return false;
    avail -= amount;
    reserved += amount;
    return true;
  }

  // Settles: reserved += reserved_delta (never below zero; a negative delta returns that part to
  // the lease, a positive one reserves beyond it: fail-open overdraft), and usage `used` is paid
  // out of the lease and reported by the next sync.
  void settle(int64_t reserved_delta, int64_t used) {
    int64_t moved = reserved_delta;
    if (reserved + moved < 0) moved = -(reserved > 0 ? reserved : 0);
    reserved += moved;
    consumed += used;
    avail -= moved + used;
  }
};

}  // namespace tollgate::redis
