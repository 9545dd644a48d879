// The budget Ledger: windowed spend counters per (budget, key), read by budget views and charged
// by admit/record. Reserve-then-settle: admit() decides and atomically reserves the decision's
// estimated cost against every budget the policy reads, so concurrent requests cannot overshoot a
// limit; record() settles with the actual cost, release() returns the reservation.
// In-process by default (LedgerBackend); see docs/embedding.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tollgate/budget.hpp"
#include "tollgate/decision.hpp"
#include "tollgate/ledger_backend.hpp"
#include "tollgate/policy.hpp"
#include "tollgate/request.hpp"

namespace tollgate {

class Ledger;

// What admit() assumes about the call before it happens.
struct Estimate {
  int64_t in_tokens = 0;  // prompt tokens (capped by the decision's max_in)
  // Output tokens to reserve when the decision sets no max_out cap (with a cap, the cap is used).
  int64_t out_tokens_uncapped = 4096;
};

// What the call actually used, reported to record().
struct Usage {
  int64_t in_tokens = 0;  // all prompt tokens, cached ones included
  int64_t out_tokens = 0;
  int64_t cached_in_tokens = 0;  // the part of in_tokens priced at the cache-read price
  double cost_usd = -1;          // < 0: computed from the admitted route's prices
};

// The result of admit(): the decision plus the reservations it holds. Move-only. An admission
// that is neither recorded nor released returns its reservations when destroyed (RAII), so an
// exception in the host cannot leak budget. Holds a copy of the Policy, so it stays valid across
// hot reloads.
class Admission {
 public:
  Admission() = default;
  ~Admission();
  Admission(Admission&& other) noexcept;
  Admission& operator=(Admission&& other) noexcept;
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // True when the policy routed the request and every budget had room for the estimate.
  bool admitted() const { return admitted_; }
  // The policy's decision (also when a budget denied the admission).
  const Decision& decision() const { return decision_; }
  // Why it was not admitted: the policy's deny reason or "budget NAME exhausted"; "" if admitted.
  std::string_view reason() const { return reason_; }
  // Index (Policy::budgets) of the budget that refused the reservation, -1 if none.
  int exhausted_budget() const { return exhausted_budget_; }
  // The reserved estimate: USD (priced with the route's prices) and tokens.
  double estimated_cost_usd() const { return est_cost_usd_; }
  int64_t estimated_tokens() const { return est_tokens_; }
  // True while reservations are outstanding (admitted and not yet recorded or released).
  bool pending() const { return pending_; }
  // The policy version that decided (empty before the first admit()).
  const std::optional<Policy>& policy() const { return policy_; }
  int64_t now_ms() const { return now_ms_; }
  // The ledger that admitted it (record and release go there); null before the first admit().
  Ledger* ledger() const { return ledger_; }

 private:
  friend class Ledger;
  struct Hold {
    int budget = -1;  // index into Policy::budgets
    int64_t window_start = 0;
    int64_t amount = 0;  // reserved units
    std::string key;
  };
  void clear();

  Ledger* ledger_ = nullptr;
  std::optional<Policy> policy_;
  Decision decision_;
  bool admitted_ = false;
  bool pending_ = false;
  bool explicit_time_ = false;  // the request carried now_ms: record() settles in that window
  std::string reason_;
  int exhausted_budget_ = -1;
  double est_cost_usd_ = 0;
  int64_t est_tokens_ = 0;
  int64_t now_ms_ = 0;
  std::vector<Hold> holds_;
};

// Result of Ledger::load.
struct LedgerLoadStats {
  size_t restored = 0;  // counters of the current windows
  size_t expired = 0;   // counters of windows that ended, dropped
};

class Ledger : public BudgetReader {
 public:
  Ledger();  // in-process memory backend
  explicit Ledger(std::unique_ptr<LedgerBackend> backend);
  ~Ledger() override;
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Committed plus reserved spend in the window containing now_ms. Does not allocate.
  double spent(const BudgetInfo& budget, std::string_view key, int64_t now_ms) const override;
  // Adds `amount` (in the budget's unit; may be negative) to the window containing now_ms.
  void add(const BudgetInfo& budget, std::string_view key, int64_t now_ms, double amount);

  // Decides `req` with this ledger as the budget source and, when the decision routes, reserves
  // its estimate against every budget the policy reads: USD budgets the cost of
  // min(in_tokens, max_in) input + (max_out or out_tokens_uncapped) output tokens at the chosen
  // route's prices, tokens budgets the tokens, requests budgets 1. Each reservation is an atomic
  // check-and-add; when one would pass its limit, the ones already made are returned and the
  // admission is denied with reason "budget NAME exhausted". Never throws.
  Admission admit(const Policy& policy, const Request& req, const Estimate& estimate);
  // Same, reusing `out` (its vectors and strings keep their capacity). Releases `out` first.
  void admit(const Policy& policy, const Request& req, const Estimate& estimate, Admission* out);

  // Settles an admission: returns its reservations and charges the actual usage to the same
  // budgets and keys, in the window of the record time (the request's now_ms when it set one,
  // else the wall clock). A no-op for an admission that is not pending.
  void record(Admission& admission, const Usage& usage);
  // Returns an admission's reservations without charging (the call failed before it cost).
  void release(Admission& admission);

  // Snapshot of the settled spend (reservations are not persisted: in-flight calls die with the
  // process) as versioned JSON, written atomically (temp file + rename).
  bool save(const std::string& path, std::string* error) const;
  // Adds a snapshot's counters whose window is still current at now_ms (0 = wall clock); counters
  // of ended windows are dropped. A missing file is an error.
  bool load(const std::string& path, int64_t now_ms, LedgerLoadStats* stats, std::string* error);
  // Removes counters of ended windows.
  size_t drop_expired(int64_t now_ms);

  LedgerBackend& backend() { return *backend_; }
  const LedgerBackend& backend() const { return *backend_; }

  // Wall clock, ms since the epoch (what now_ms = 0 means).
  static int64_t wall_clock_ms();

 private:
  std::unique_ptr<LedgerBackend> backend_;
};

}  // namespace tollgate
