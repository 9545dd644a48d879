// Policy: the immutable, shareable handle over a compiled policy; decide() is the hot path.
#include "tollgate/policy.hpp"

#include <chrono>

#include "runtime/src/policy_impl.h"

namespace tollgate {

const std::string& Policy::name() const {
  return impl_->name;
}
const std::string& Policy::file() const {
  return impl_->file;
}
const std::string& Policy::version_hash() const {
  return impl_->version_hash;
}

int Policy::slot(std::string_view input) const {
  return impl_->schema->slot(input);
}

namespace detail {

void decide_slots(const PolicyImpl& p, const Slot* slots, int64_t now_ms,
                  const BudgetReader* budgets, Decision* out) {
  if (now_ms == 0) {
    now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  }
  EvalEnv env;
  env.slots = slots;
  env.budgets = budgets;
  env.budget_infos = &p.budgets;
  env.now_ms = now_ms;
  if (p.jit_state.load(std::memory_order_relaxed) == PolicyImpl::kIdle) p.note_decision();
  p.active.load(std::memory_order_acquire)->decide(env, out);
}

}  // namespace detail

namespace {

void run(const detail::PolicyImpl& p, const Request& req, const BudgetReader* budgets,
         Decision* out) {
  if (req.size() != static_cast<int>(p.inputs.size())) {
    out->reset();
    out->denied = true;
    out->deny_reason = "request was built for a different policy";
    out->errors = 1;
    return;
  }
  detail::decide_slots(p, req.slots(), req.now_ms, budgets, out);
}

}  // namespace

void Policy::decide(const Request& req, Decision* out) const {
  run(*impl_, req, impl_->ledger.get(), out);
}

void Policy::decide(const Request& req, const BudgetReader& budgets, Decision* out) const {
  run(*impl_, req, &budgets, out);
}

bool Policy::jitted() const {
  return impl_->jitted();
}

bool Policy::wait_for_jit() const {
  return impl_->wait_jit();
}

std::string Policy::jit_error() const {
  std::lock_guard<std::mutex> lock(impl_->jit_mu);
  return impl_->jit_error;
}

const std::vector<InputInfo>& Policy::inputs() const {
  return impl_->inputs;
}
const std::vector<RouteInfo>& Policy::routes() const {
  return impl_->routes;
}
const std::vector<RuleInfo>& Policy::rules() const {
  return impl_->rules;
}
const std::vector<BudgetInfo>& Policy::budgets() const {
  return impl_->budgets;
}
const std::vector<int>& Policy::budgets_read() const {
  return impl_->budgets_read;
}

bool Policy::budget_limit(int b, const Request& req, double* out) const {
  if (b < 0 || static_cast<size_t>(b) >= impl_->budgets.size()) return false;
  if (req.size() != static_cast<int>(impl_->inputs.size())) return false;
  return tg_budget_limit(impl_->ctx.get(), req.slots(), b, out) == 0;
}

std::string Policy::budget_key(int b, const Request& req) const {
  char buf[32];
  return std::string(budget_key(b, req, buf));
}

std::string_view Policy::budget_key(int b, const Request& req, char (&buf)[32]) const {
  if (b < 0 || static_cast<size_t>(b) >= impl_->budgets.size()) return {};
  if (req.size() != static_cast<int>(impl_->inputs.size())) return {};
  const char* key;
  uint32_t len;
  if (tg_budget_key(impl_->ctx.get(), req.slots(), b, buf, &key, &len)) return {};
  return std::string_view(key, len);
}

const Program& Policy::program() const {
  return *impl_->program;
}

}  // namespace tollgate
