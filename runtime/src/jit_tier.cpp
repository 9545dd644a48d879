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
  if (std::shared_ptr<JitWorker> w = worker.lock()) {
    w->wake();
    return;
  }
  publish_jit(nullptr, "engine destroyed before the JIT tier was built");
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

JitWorker::JitWorker(int threads) {
  for (int i = 0; i < (threads < 1 ? 1 : threads); ++i) threads_.emplace_back([this] { run(); });
}

JitWorker::~JitWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
  for (auto& w : policies_) {
    std::shared_ptr<const PolicyImpl> p = w.lock();
    uint8_t queued = PolicyImpl::kQueued;
    if (p && p->jit_state.compare_exchange_strong(queued, PolicyImpl::kCompiling))
      p->publish_jit(nullptr, "engine destroyed before the JIT tier was built");
  }
}

void JitWorker::add(std::weak_ptr<const PolicyImpl> p) {
  std::lock_guard<std::mutex> lock(mu_);
  policies_.push_back(std::move(p));
}

void JitWorker::wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++wakes_;
  }
  cv_.notify_one();
}

void JitWorker::run() {
  std::vector<std::weak_ptr<const PolicyImpl>> todo;
  for (;;) {
    todo.clear();
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || wakes_ > 0; });
      if (stop_) return;
      wakes_ = 0;
      for (size_t i = 0; i < policies_.size();) {
        std::shared_ptr<const PolicyImpl> p = policies_[i].lock();
        if (!p) {  // dropped: forget it
          policies_[i] = std::move(policies_.back());
          policies_.pop_back();
          continue;
        }
        if (p->jit_state.load(std::memory_order_acquire) == PolicyImpl::kQueued)
          todo.push_back(policies_[i]);
        ++i;
      }
    }
    for (auto& w : todo) {
      std::shared_ptr<const PolicyImpl> p = w.lock();
      uint8_t queued = PolicyImpl::kQueued;
      if (p && p->jit_state.compare_exchange_strong(queued, PolicyImpl::kCompiling))
        compile_jit_tier(*p);
    }
  }
}

}  // namespace tollgate::detail
