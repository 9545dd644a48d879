// The budget Ledger: budget views read it, admit() reserves estimates with an atomic
// check-and-add per budget, record()/release() settle. Storage is a LedgerBackend.
#include "tollgate/ledger.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

namespace tollgate {

int64_t to_units(BudgetUnit unit, double amount) {
  double scaled = unit == BudgetUnit::Usd ? amount * kUsdUnitsPerDollar : amount;
  if (std::isnan(scaled)) return 0;
  constexpr double kMax = 9.0e18;  // below INT64_MAX, so the conversion is defined
  if (scaled >= kMax) return std::numeric_limits<int64_t>::max();
  if (scaled <= -kMax) return -std::numeric_limits<int64_t>::max();
  return std::llround(scaled);
}

double from_units(BudgetUnit unit, int64_t units) {
  double v = static_cast<double>(units);
  return unit == BudgetUnit::Usd ? v / kUsdUnitsPerDollar : v;
}

int64_t Ledger::wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// ---- Admission
// -----------------------------------------------------------------------------------

Admission::~Admission() {
  if (pending_ && ledger_ != nullptr) ledger_->release(*this);
}

Admission::Admission(Admission&& o) noexcept {
  *this = std::move(o);
}

Admission& Admission::operator=(Admission&& o) noexcept {
  if (this == &o) return *this;
  if (pending_ && ledger_ != nullptr) ledger_->release(*this);
  ledger_ = o.ledger_;
  policy_ = std::move(o.policy_);
  decision_ = o.decision_;
  admitted_ = o.admitted_;
  pending_ = o.pending_;
  explicit_time_ = o.explicit_time_;
  reason_ = std::move(o.reason_);
  exhausted_budget_ = o.exhausted_budget_;
  est_cost_usd_ = o.est_cost_usd_;
  est_tokens_ = o.est_tokens_;
  now_ms_ = o.now_ms_;
  holds_ = std::move(o.holds_);
  o.pending_ = false;
  o.holds_.clear();
  return *this;
}

void Admission::clear() {
  decision_.reset();
  admitted_ = false;
  pending_ = false;
  explicit_time_ = false;
  reason_.clear();
  exhausted_budget_ = -1;
  est_cost_usd_ = 0;
  est_tokens_ = 0;
  now_ms_ = 0;
  holds_.clear();
}

// ---- Ledger
// --------------------------------------------------------------------------------------

Ledger::Ledger() : backend_(make_memory_backend()) {}
Ledger::Ledger(std::unique_ptr<LedgerBackend> backend) : backend_(std::move(backend)) {
  if (!backend_) backend_ = make_memory_backend();
}
Ledger::~Ledger() = default;

double Ledger::spent(const BudgetInfo& budget, std::string_view key, int64_t now_ms) const {
  CounterId id{budget.name, budget.unit, budget.window, key};
  return from_units(budget.unit, backend_->spent(id, window_start(budget.window, now_ms)));
}

void Ledger::add(const BudgetInfo& budget, std::string_view key, int64_t now_ms, double amount) {
  CounterId id{budget.name, budget.unit, budget.window, key};
  backend_->add(id, window_start(budget.window, now_ms), to_units(budget.unit, amount), 0);
}

Admission Ledger::admit(const Policy& policy, const Request& req, const Estimate& estimate) {
  Admission a;
  admit(policy, req, estimate, &a);
  return a;
}

namespace {

// Amount of one call in a budget's unit.
double amount_in(BudgetUnit unit, double usd, int64_t tokens) {
  switch (unit) {
    case BudgetUnit::Usd:
      return usd;
    case BudgetUnit::Tokens:
      return static_cast<double>(tokens);
    case BudgetUnit::Requests:
      return 1;
  }
  return 0;
}

}  // namespace

void Ledger::admit(const Policy& policy, const Request& req, const Estimate& estimate,
                   Admission* out) {
  if (out->pending_ && out->ledger_ != nullptr) out->ledger_->release(*out);
  out->clear();
  try {
    out->ledger_ = this;
    out->policy_ = policy;
    out->explicit_time_ = req.now_ms != 0;
    const int64_t now = req.now_ms != 0 ? req.now_ms : wall_clock_ms();
    out->now_ms_ = now;
    policy.decide(req, *this, &out->decision_);
    const Decision& d = out->decision_;
    if (d.denied || d.route < 0 || d.route >= static_cast<int>(policy.routes().size())) {
      out->reason_ = d.deny_reason != nullptr && *d.deny_reason ? d.deny_reason : "no route";
      return;
    }
    const RouteInfo& route = policy.routes()[d.route];
    int64_t in = std::max<int64_t>(0, estimate.in_tokens);
    if (d.max_in != kNoCap) in = std::min(in, std::max<int64_t>(0, d.max_in));
    int64_t outt = d.max_out != kNoCap ? d.max_out : estimate.out_tokens_uncapped;
    outt = std::max<int64_t>(0, outt);
    out->est_tokens_ = in + outt;
    out->est_cost_usd_ = route.priced ? static_cast<double>(in) * route.in_per_token +
                                            static_cast<double>(outt) * route.out_per_token
                                      : 0.0;

    const auto& budgets = policy.budgets();
    for (int b : policy.budgets_read()) {
      if (b < 0 || b >= static_cast<int>(budgets.size())) continue;
      const BudgetInfo& info = budgets[b];
      Admission::Hold hold;
      hold.budget = b;
      hold.key = policy.budget_key(b, req);
      hold.window_start = window_start(info.window, now);
      hold.amount = to_units(info.unit, amount_in(info.unit, out->est_cost_usd_, out->est_tokens_));
      double limit = 0;
      if (!policy.budget_limit(b, req, &limit)) {
        // Unset, NaN, infinite or negative: the budget cannot be enforced, so nothing is
        // admitted against it (a bad limit never disables a budget).
        out->pending_ = true;  // so release() returns the holds made so far
        release(*out);
        out->exhausted_budget_ = b;
        out->reason_ = "budget ";
        out->reason_ += info.name;
        out->reason_ += " has no valid limit";
        return;
      }
      const int64_t limit_units = to_units(info.unit, limit);
      CounterId id{info.name, info.unit, info.window, hold.key};
      ReserveResult r = backend_->try_reserve(id, hold.window_start, hold.amount, limit_units);
      if (r == ReserveResult::Unavailable && info.fail == FailMode::Open) {
        // Overdraft: hold the amount locally so record() still charges the usage; the backend
        // reconciles it with the shared store when that is reachable again.
        backend_->add(id, hold.window_start, 0, hold.amount);
        out->holds_.push_back(std::move(hold));
        continue;
      }
      if (r != ReserveResult::Ok) {
        out->pending_ = true;  // so release() returns the holds made so far
        release(*out);
        out->exhausted_budget_ = b;
        out->reason_ = "budget ";
        out->reason_ += info.name;
        out->reason_ += r == ReserveResult::Exceeded ? " exhausted" : " unavailable";
        return;
      }
      out->holds_.push_back(std::move(hold));
    }
    out->admitted_ = true;
    out->pending_ = true;
  } catch (...) {
    // Only allocation can throw here; fail closed and return what was reserved.
    if (!out->holds_.empty()) {
      out->pending_ = true;
      release(*out);
    }
    out->admitted_ = false;
    out->reason_ = "admission failed: out of memory";
  }
}

void Ledger::record(Admission& a, const Usage& usage) {
  if (!a.pending_ || a.ledger_ != this || !a.policy_) return;
  a.pending_ = false;
  const Policy& policy = *a.policy_;
  const RouteInfo& route = policy.routes()[a.decision_.route];
  const int64_t in = std::max<int64_t>(0, usage.in_tokens);
  const int64_t out = std::max<int64_t>(0, usage.out_tokens);
  const int64_t cached = std::clamp<int64_t>(usage.cached_in_tokens, 0, in);
  double cost = usage.cost_usd;
  if (cost < 0) {
    cost = route.priced ? static_cast<double>(in - cached) * route.in_per_token +
                              static_cast<double>(cached) * route.cache_read_per_token +
                              static_cast<double>(out) * route.out_per_token
                        : 0.0;
  }
  const int64_t now = a.explicit_time_ ? a.now_ms_ : wall_clock_ms();
  for (const Admission::Hold& h : a.holds_) {
    const BudgetInfo& info = policy.budgets()[h.budget];
    CounterId id{info.name, info.unit, info.window, h.key};
    int64_t actual = to_units(info.unit, amount_in(info.unit, cost, in + out));
    int64_t ws = window_start(info.window, now);
    if (ws == h.window_start) {
      backend_->add(id, ws, actual, -h.amount);
    } else {  // the window rolled over while the call ran: it costs in the new one
      backend_->add(id, h.window_start, 0, -h.amount);
      backend_->add(id, ws, actual, 0);
    }
  }
}

void Ledger::release(Admission& a) {
  if (!a.pending_ || a.ledger_ != this || !a.policy_) return;
  a.pending_ = false;
  const Policy& policy = *a.policy_;
  for (const Admission::Hold& h : a.holds_) {
    const BudgetInfo& info = policy.budgets()[h.budget];
    CounterId id{info.name, info.unit, info.window, h.key};
    backend_->add(id, h.window_start, 0, -h.amount);
  }
}

size_t Ledger::drop_expired(int64_t now_ms) {
  return backend_->drop_expired(now_ms != 0 ? now_ms : wall_clock_ms());
}

}  // namespace tollgate
