// One policy source compiled every way (the reference interpreter walking the plain chain, the
// interpreter through the rule index, and the JIT) for differential tests, regression tests and
// the fuzzer.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "compiler/ast.h"
#include "compiler/evaluator.h"
#include "compiler/jit.h"

namespace tollgate::testing {

struct DualPolicy {
  std::unique_ptr<Program> program;
  PolicyTables tables;
  std::unique_ptr<Evaluator> interp;   // the chain: the reference semantics
  std::unique_ptr<Evaluator> indexed;  // the interpreter with the JitOptions' rule index
  std::unique_ptr<Evaluator> jit;
  std::string diagnostics;  // parse/check errors, or the JIT's error
};

enum class DualStatus { Ok, Rejected, JitFailed };

// Parses and checks `source`; Rejected when it has errors, JitFailed when the JIT refuses a
// checked program (always a bug).
DualStatus build_dual(std::string_view source, DualPolicy* out, const JitOptions& options = {});

// Decides with both evaluators; returns decision_diff (empty when they agree).
std::string decide_both(const DualPolicy& p, const Slot* slots, const BudgetReader* budgets,
                        Decision* interp_out, Decision* jit_out);

}  // namespace tollgate::testing
