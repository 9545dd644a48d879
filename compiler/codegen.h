// The contract between the JIT driver (jit.cpp) and the IR emitter (codegen*.cpp): the ABI the
// generated decision function relies on (offsets computed with offsetof, never hard-coded), the
// per-policy constants it folds in, and the emitter entry point. Only forward declarations of LLVM
// types appear here, so including it stays cheap.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compiler/ast.h"

namespace llvm {
class LLVMContext;
class Module;
class DataLayout;
}  // namespace llvm

namespace tollgate {

// Byte offsets of every field the generated code touches. Filled by jit_abi() from the real C++
// structs, so a layout change in request.hpp / decision.hpp / evaluator.h cannot silently break
// the generated code.
struct JitAbi {
  uint64_t env_slots = 0;                            // EvalEnv::slots
  uint64_t env_spent_known = 0, env_spent_memo = 0;  // EvalEnv's per-decision spent memo
  uint64_t scratch_used = 0, scratch_buf = 0;        // EvalScratch
  uint64_t slot_size = 0;
  uint64_t slot_i = 0, slot_str = 0, slot_len = 0, slot_str_id = 0, slot_set = 0;
  uint64_t d_denied = 0, d_route = 0, d_deny_reason = 0, d_max_out = 0, d_max_in = 0;
  uint64_t d_retry = 0, d_backoff = 0, d_rag = 0, d_top_k = 0, d_cache = 0;
  uint64_t d_rule = 0, d_errors = 0, d_first_error_rule = 0;
  uint64_t d_tag_count = 0, d_tags_dropped = 0, d_tag_end = 0, d_tag_buf = 0;
};
JitAbi jit_abi();

struct EvalContext;  // compiler/eval_support.h: tables, defaults, budget descriptors

struct CodegenInput {
  const Program* program = nullptr;
  // Shared with the eval_support helpers the generated code calls; must outlive the code.
  const EvalContext* ctx = nullptr;
  JitAbi abi;
  // Also emit every rule as its own function (void (env, out, scratch), its live test included)
  // and a table of them in evaluation order, kRulesSymbol: the rule index calls the candidates.
  bool rule_functions = false;
};

// The generated function: void tg_decide(const EvalEnv* env, Decision* out, EvalScratch* scratch).
// `out` has been reset by the caller.
constexpr const char* kDecideSymbol = "tg_decide";
// With CodegenInput::rule_functions: const RuleFn tg_rules[rules in evaluation order].
constexpr const char* kRulesSymbol = "tg_rules";

// Emits the decision function into a new module with the given data layout. Returns null and sets
// *error on an unsupported construct (a checker gap; never expected on a checked program).
std::unique_ptr<llvm::Module> emit_policy_module(llvm::LLVMContext& ctx,
                                                 const llvm::DataLayout& layout,
                                                 const CodegenInput& in, std::string* error);

}  // namespace tollgate
