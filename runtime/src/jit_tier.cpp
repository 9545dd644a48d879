// The JIT tier's compile and the Engine's worker thread (jit_tier.h).
#include "runtime/src/jit_tier.h"

#ifdef TOLLGATE_HAVE_JIT
#include "compiler/jit.h"
#endif
#include "runtime/src/policy_impl.h"

namespace tollgate::detail {

void compile_jit_tier(const PolicyImpl& p) {
#ifdef TOLLGATE_HAVE_JIT
  std::string error;
  std::unique_ptr<Evaluator> jit =
      p.jit_host ? make_jit_evaluator(p.jit_host, *p.program, p.tables, JitOptions{}, &error)
                 : nullptr;
  if (!p.jit_host) error = "no JIT host";
  p.publish_jit(std::move(jit), error);
#else
  p.publish_jit(nullptr, "built without the JIT");
#endif
}

void PolicyImpl::request_jit() const {
  uint8_t idle = kIdle;
  if (!jit_state.compare_exchange_strong(idle, kQueued, std::memory_order_acq_rel)) return;
  if (registry && registry->wake()) return;
  publish_jit(nullptr, "engine destroyed before the JIT tier was built");
}

PolicyImpl::~PolicyImpl() {
  if (registry) registry->forget(this);
}

void PolicyImpl::publish_jit(std::unique_ptr<Evaluator> ev, const std::string& error) const {
  {
    std::lock_guard<std::mutex> lock(jit_mu);
    if (ev) {
      jit = std::move(ev);
      active.store(jit.get(), std::memory_order_release);
      jit_state.store(kJitted, std::memory_order_release);
    } else {
      jit_error = error;
      jit_state.store(kFailed, std::memory_order_release);
    }
  }
  jit_cv.notify_all();
}

bool PolicyImpl::wait_jit() const {
  request_jit();
  std::unique_lock<std::mutex> lock(jit_mu);
  jit_cv.wait(lock, [this] {
    uint8_t s = jit_state.load(std::memory_order_acquire);
    return s == kJitted || s == kFailed;
  });
  return jit_state.load(std::memory_order_acquire) == kJitted;
}

// ---- the registry ----------------------------------------------------------------------------

void JitRegistry::add(const PolicyImpl* key, std::weak_ptr<const PolicyImpl> p) {
  std::lock_guard<std::mutex> lock(mu_);
  policies_.emplace(key, std::move(p));
}

void JitRegistry::forget(const PolicyImpl* key) {
  std::lock_guard<std::mutex> lock(mu_);
  policies_.erase(key);
}

bool JitRegistry::wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return false;
    ++wakes_;
  }
  cv_.notify_one();
  return true;
}

// Both scans below lock weak references under mu_; a reference that turns out to be the last one
// must not die there (its destructor calls forget(), which takes mu_), so those are released
// after the lock.
bool JitRegistry::take(std::vector<std::shared_ptr<const PolicyImpl>>* todo) {
  std::vector<std::shared_ptr<const PolicyImpl>> seen;
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return stopped_ || wakes_ > 0; });
    if (stopped_) return false;
    wakes_ = 0;
    for (auto& entry : policies_) {
      std::shared_ptr<const PolicyImpl> p = entry.second.lock();
      if (!p) continue;
      uint8_t queued = PolicyImpl::kQueued;
      // Claimed here, under the lock, so two threads never build the same tier.
      if (p->jit_state.compare_exchange_strong(queued, PolicyImpl::kCompiling))
        todo->push_back(std::move(p));
      else
        seen.push_back(std::move(p));
    }
  }
  return true;  // `seen` is released here, outside the lock
}

std::vector<std::shared_ptr<const PolicyImpl>> JitRegistry::stop() {
  std::vector<std::shared_ptr<const PolicyImpl>> left, seen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    for (auto& entry : policies_) {
      std::shared_ptr<const PolicyImpl> p = entry.second.lock();
      if (!p) continue;
      uint8_t queued = PolicyImpl::kQueued;
      if (p->jit_state.compare_exchange_strong(queued, PolicyImpl::kCompiling))
        left.push_back(std::move(p));
      else
        seen.push_back(std::move(p));
    }
  }
  cv_.notify_all();
  return left;
}

// ---- the worker ------------------------------------------------------------------------------

JitWorker::JitWorker(int threads) {
  for (int i = 0; i < (threads < 1 ? 1 : threads); ++i) threads_.emplace_back([this] { run(); });
}

JitWorker::~JitWorker() {
  std::vector<std::shared_ptr<const PolicyImpl>> left = registry_->stop();
  for (std::thread& t : threads_) t.join();
  for (auto& p : left) p->publish_jit(nullptr, "engine destroyed before the JIT tier was built");
}

void JitWorker::run() {
  std::vector<std::shared_ptr<const PolicyImpl>> todo;
  while (registry_->take(&todo)) {
    // A policy dropped by its owners while queued is compiled and freed here; one dropped
    // before it was queued is not in the registry any more.
    for (auto& p : todo) compile_jit_tier(*p);
    todo.clear();
  }
}

}  // namespace tollgate::detail
