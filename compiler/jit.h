// The ORC side of the JIT as the rest of the project sees it: a JitHost owns one LLJIT (created
// lazily, shared by every policy compiled through it, thread-safe); each compiled policy gets its
// own JITDylib + ResourceTracker, so its machine code is freed when its evaluator goes away.
// No LLVM types here: only compiler/jit.cpp includes the ORC headers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "compiler/evaluator.h"

namespace tollgate {

class JitHost;

// Optimisation tiers. Auto picks by policy size (measured; see docs/performance.md).
enum class JitOptLevel : uint8_t { Auto, Fast, Optimized };

struct JitOptions {
  JitOptLevel level = JitOptLevel::Auto;
  bool dump_ir = false;  // print the optimised IR to stderr (debugging)
  // The rule-set index (rule_index.h); RuleIndexOptions::chain() compiles the plain chain.
  RuleIndexOptions index;
};

// A fresh host; the LLJIT inside is created on first compile. An Engine holds one.
std::shared_ptr<JitHost> make_jit_host();
// The process-wide host used by the three-argument make_jit_evaluator.
std::shared_ptr<JitHost> default_jit_host();

// Compiles through `host`; the evaluator keeps the host alive. Same contract as the seam in
// evaluator.h.
std::unique_ptr<Evaluator> make_jit_evaluator(const std::shared_ptr<JitHost>& host,
                                              const Program& program, const PolicyTables& tables,
                                              const JitOptions& options, std::string* error);

// Number of policies currently holding code in `host` (tests: code is freed with the policy).
size_t jit_live_policies(const JitHost& host);

}  // namespace tollgate
