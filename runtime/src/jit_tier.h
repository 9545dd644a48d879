// The tiers of a policy (docs/embedding.md, "Tiers"): the interpreter serves from the moment a
// policy is checked; the JIT tier is compiled later, on the Engine's worker thread (or at once,
// with EngineOptions::wait_for_jit), and published with one atomic store, so a decision in flight
// finishes on the tier it started on. A policy asks for its JIT tier when it becomes hot
// (EngineOptions::jit_hot_decisions), so the idle ones of a thousand never pay for it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace tollgate {
namespace detail {

struct PolicyImpl;

// Compiles the JIT tier of `p` (in p.jit_host) on this thread and publishes it, or records why it
// failed; the interpreter keeps serving then.
void compile_jit_tier(const PolicyImpl& p);

// The policies an Engine may JIT-compile, shared by its worker and its policies (no threads of
// its own, so whichever thread drops the last reference may destroy it). A policy joins when it
// is compiled and leaves when it is destroyed, so a dropped policy leaves nothing behind (not
// even a control block pinning a page), and asks for its JIT tier with wake(), which allocates
// nothing: the decision that makes a policy hot stays allocation-free.
class JitRegistry {
 public:
  void add(const PolicyImpl* key, std::weak_ptr<const PolicyImpl> p);  // allocates
  void forget(const PolicyImpl* key);
  // A registered policy is queued; false once the registry is stopped (the Engine is gone).
  bool wake();
  // Worker side: blocks until woken, then takes the queued policies; false once stopped.
  bool take(std::vector<std::shared_ptr<const PolicyImpl>>* todo);
  // Stops the registry and returns the policies still queued.
  std::vector<std::shared_ptr<const PolicyImpl>> stop();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<const PolicyImpl*, std::weak_ptr<const PolicyImpl>> policies_;
  uint64_t wakes_ = 0;
  bool stopped_ = false;
};

// The Engine's background compiler: threads that take queued policies from the registry and
// build their JIT tiers, each claimed by one thread. The destructor finishes the compiles in
// progress, then fails the policies still queued ("engine destroyed"), so nobody waits forever.
class JitWorker {
 public:
  explicit JitWorker(int threads);
  ~JitWorker();
  JitWorker(const JitWorker&) = delete;
  JitWorker& operator=(const JitWorker&) = delete;

  const std::shared_ptr<JitRegistry>& registry() const { return registry_; }

 private:
  void run();

  std::shared_ptr<JitRegistry> registry_ = std::make_shared<JitRegistry>();
  std::vector<std::thread> threads_;
};

}  // namespace detail
}  // namespace tollgate
