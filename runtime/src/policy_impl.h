// What a Policy handle shares: the checked Program, the tables the evaluators read, the
// metadata the public API exposes, and the chosen evaluator (JIT or interpreter).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "compiler/ast.h"
#include "compiler/eval_support.h"
#include "compiler/evaluator.h"
#include "runtime/src/schema.h"
#include "tollgate/budget.hpp"
#include "tollgate/policy.hpp"

namespace tollgate {
class JitHost;
}

namespace tollgate::detail {

class JitRegistry;

struct PolicyImpl : std::enable_shared_from_this<PolicyImpl> {
  // Declaration order matters: the evaluator and context point into the Program, so they are
  // declared after it (and destroyed before it).
  std::unique_ptr<Program> program;
  std::string name;
  std::string file;
  std::string version_hash;
  std::vector<InputInfo> inputs;
  std::vector<RouteInfo> routes;
  std::vector<RuleInfo> rules;
  std::vector<uint32_t> rule_lines;  // rules[i].line, packed for the C ABI's result struct
  std::vector<BudgetInfo> budgets;
  std::vector<int> budgets_read;
  PolicyTables tables;
  std::shared_ptr<const Schema> schema;
  std::unique_ptr<EvalContext> ctx;  // budget_limit / budget_key

  // ---- tiers (runtime/src/jit_tier.h) ----
  std::unique_ptr<Evaluator> interpreter;  // serves from the start
  // What decide() runs: the interpreter, then the JIT tier once it is published. Both live as
  // long as the policy, so a decision that loaded one finishes on it.
  mutable std::atomic<const Evaluator*> active{nullptr};
  enum JitState : uint8_t { kIdle, kQueued, kCompiling, kJitted, kFailed };
  mutable std::atomic<uint8_t> jit_state{kFailed};  // kFailed until the Engine enables the tier
  mutable std::atomic<uint64_t> decisions{0};       // counted while kIdle (hotness)
  uint64_t hot_after = 0;                           // kIdle -> kQueued at this many decisions
  std::shared_ptr<JitHost> jit_host;
  std::shared_ptr<JitRegistry> registry;  // the Engine's, while the tier may still be asked for
  mutable std::mutex jit_mu;  // guards jit and jit_error; jit_cv signals kJitted/kFailed
  mutable std::condition_variable jit_cv;
  mutable std::unique_ptr<Evaluator> jit;
  mutable std::string jit_error;

  // decide()'s hotness count while the JIT tier is not requested yet (one relaxed add).
  void note_decision() const {
    if (decisions.fetch_add(1, std::memory_order_relaxed) + 1 >= hot_after) request_jit();
  }
  ~PolicyImpl();  // leaves the registry
  // kIdle -> kQueued: hands the policy to the Engine's worker (or fails if the Engine is gone).
  void request_jit() const;
  // Installs the JIT tier (null: failed, with `error`) and wakes wait_jit().
  void publish_jit(std::unique_ptr<Evaluator> ev, const std::string& error) const;
  // Blocks until the JIT tier is published or failed (requesting it when idle); true if jitted.
  bool wait_jit() const;
  bool jitted() const { return jit_state.load(std::memory_order_acquire) == kJitted; }
  // The engine's ledger (shared so a Policy may outlive its Engine). Null: spent is 0.
  std::shared_ptr<const BudgetReader> ledger;
};

// A decision over a ready slot array (the Request paths and the C ABI's bulk path): the time
// (0: the wall clock), the hotness count, the serving tier.
void decide_slots(const PolicyImpl& p, const Slot* slots, int64_t now_ms,
                  const BudgetReader* budgets, Decision* out);

// Builds everything but the evaluator from a checked Program.
std::shared_ptr<PolicyImpl> build_policy_impl(std::unique_ptr<Program> program,
                                              std::string_view source, std::string_view file,
                                              const PriceLookup& prices);

// Hex FNV-1a 64 of the text.
std::string hash_hex(std::string_view text);

}  // namespace tollgate::detail
