// The tiers of a policy (docs/embedding.md, "Tiers"): the interpreter serves from the moment a
// policy is checked; the JIT tier is compiled later, on the Engine's worker thread (or at once,
// with EngineOptions::wait_for_jit), and published with one atomic store, so a decision in flight
// finishes on the tier it started on. A policy asks for its JIT tier when it becomes hot
// (EngineOptions::jit_hot_decisions), so the idle ones of a thousand never pay for it.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tollgate {
namespace detail {

struct PolicyImpl;

// Compiles the JIT tier of `p` (in p.jit_host) on this thread and publishes it, or records why it
// failed; the interpreter keeps serving then.
void compile_jit_tier(const PolicyImpl& p);

// The Engine's background compiler. Policies are registered when compiled (weakly: a policy
// dropped before it is hot is never compiled) and ask for their JIT tier with wake(), which
// allocates nothing, so the decision that makes a policy hot stays allocation-free. A woken
// thread scans the registry for queued policies and claims each one it compiles. The destructor
// finishes the compiles in progress, then fails the policies still queued ("engine destroyed"),
// so nobody waits forever.
class JitWorker {
 public:
  explicit JitWorker(int threads);
  ~JitWorker();
  JitWorker(const JitWorker&) = delete;
  JitWorker& operator=(const JitWorker&) = delete;

  void add(std::weak_ptr<const PolicyImpl> p);  // at compile time (allocates)
  void wake();                                   // a registered policy is queued (no allocation)

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::weak_ptr<const PolicyImpl>> policies_;
  uint64_t wakes_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace detail
}  // namespace tollgate
