// The Engine: owns the JIT, the price table and the budget ledger; compiles policy source into
// Policies. Thread-safe: compile from any thread, decide on the returned Policies from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tollgate/diagnostic.hpp"
#include "tollgate/policy.hpp"

namespace tollgate {

class PriceTable;
class Ledger;

enum class Backend : uint8_t { Jit, Interpreter };

struct EngineOptions {
  Backend backend = Backend::Jit;
  // Price table used to resolve route models (cost(), `route with no price` lint). May be null.
  std::shared_ptr<const PriceTable> prices;
  bool strict = false;  // lint warnings become errors (implies lints)
  // The budget ledger policies read and admit against. Null: a fresh in-process ledger. Pass
  // Ledger(make_ledger_backend("redis://...")) to share budgets across replicas (docs/replicas.md).
  std::shared_ptr<Ledger> ledger;
  // Run the lints (shadowed rules, unused names, ...) and report them as warnings. They are
  // authoring feedback for `tollgate check`; a host reloading a large policy skips their cost.
  bool lints = false;

  // Tiers (Backend::Jit; docs/embedding.md "Tiers"). A policy serves from the interpreter (through
  // its rule index) as soon as it is checked. Its JIT tier is compiled on the engine's worker
  // threads and swapped in atomically; decisions in flight finish on the tier they started on.
  // wait_for_jit: compile() returns only once the JIT tier serves (or failed: a note says why,
  // and the interpreter serves). Tests, benchmarks and the CLI use it.
  bool wait_for_jit = false;
  // A policy asks for its JIT tier once it has made this many decisions; 0: right after
  // compile(). With one policy per customer, the idle ones then never pay for the JIT.
  uint64_t jit_hot_decisions = 0;
  // Worker threads that build JIT tiers in the background.
  int jit_threads = 1;
};

struct CompileResult {
  std::optional<Policy> policy;         // set when there were no errors
  std::vector<Diagnostic> diagnostics;  // errors and warnings, in source order
  std::string rendered;                 // diagnostics rendered clang-style (with source + caret)
  bool ok() const { return policy.has_value(); }
};

class Engine {
 public:
  explicit Engine(EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  CompileResult compile(std::string_view source, std::string_view file = "<input>");
  CompileResult compile_file(const std::string& path);

  Ledger& ledger();
  const EngineOptions& options() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate
