// Private to codegen*.cpp: the IR emitter state shared by the expression lowering
// (codegen_expr.cpp) and the rule/decision lowering (codegen.cpp). Includes IRBuilder.h, so only
// the codegen TUs may include it.
#pragma once

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/codegen.h"

namespace tollgate {
namespace cg {

// Where an erroring sub-expression jumps. The block is created on first use, so expressions that
// cannot fail emit no error edges at all.
class ErrSink {
 public:
  ErrSink(llvm::Function* fn, const char* name) : fn_(fn), name_(name) {}
  llvm::BasicBlock* block() {
    if (!bb_) bb_ = llvm::BasicBlock::Create(fn_->getContext(), name_, fn_);
    return bb_;
  }
  bool used() const { return bb_ != nullptr; }
  llvm::BasicBlock* existing() const { return bb_; }

 private:
  llvm::Function* fn_;
  const char* name_;
  llvm::BasicBlock* bb_ = nullptr;
};

// A lowered value on the success path. Scalars use `v` (i1 bool, i64 int/enum, double float).
// Strings use ptr/len(i32)/id(i32) like Slot: id is the literal id (Program::string_literals) or
// -1, and two strings with ids >= 0 are equal exactly when their ids are.
struct Val {
  llvm::Value* v = nullptr;
  llvm::Value* ptr = nullptr;
  llvm::Value* len = nullptr;
  llvm::Value* id = nullptr;
};

// A preloaded input slot: `set` (i1) and its value with the default already selected in.
struct InputVal {
  llvm::Value* set = nullptr;
  Val val;
  bool has_default = false;
};

class Emitter {
 public:
  Emitter(llvm::LLVMContext& ctx, llvm::Module& mod, const CodegenInput& in);

  // codegen.cpp
  bool emit_decide(std::string* error);

  // codegen_expr.cpp
  Val expr(const Expr& e, ErrSink& err);
  // A string view of a string or enum value (enum -> member name).
  Val as_string(const Expr& e, const Val& v);
  // The member name of enum `enum_id`'s member `member` (i64); out of range reads "".
  Val enum_string(int32_t enum_id, llvm::Value* member);

 private:
  friend struct ExprLowering;
  // Helpers.
  llvm::Value* const_ptr(const void* p);
  llvm::Value* const_ptr(uint64_t addr);
  llvm::Value* i64(int64_t v) { return B.getInt64(static_cast<uint64_t>(v)); }
  llvm::Value* i32(int32_t v) { return B.getInt32(static_cast<uint32_t>(v)); }
  llvm::Value* f64(double v);
  llvm::Value* to_float(const Expr& e, llvm::Value* v);
  llvm::Value* slot_field(int slot, uint64_t off);
  llvm::Value* field_ptr(llvm::Value* base, uint64_t off);
  llvm::Value* load_invariant(llvm::Type* ty, llvm::Value* p);
  Val string_literal(const std::string& s, int32_t id);
  int32_t literal_id(const std::string& s) const;
  InputVal& input(int32_t index);
  void init_enum_names();
  // `registers`: keep the decision state in allocas (a function that decides alone).
  void begin_function(const char* name, bool is_entry, bool registers = false);
  void flush_state();
  void cond_branch(const Expr& e, llvm::BasicBlock* t, llvm::BasicBlock* f, ErrSink& err);
  llvm::Value* load_bool(llvm::Value* p);
  void store_bool(llvm::Value* v, llvm::Value* p);
  void emit_finish();
  void emit_add_tag(llvm::Value* ptr, llvm::Value* len);
  std::vector<Val> eval_all(const std::vector<const Expr*>& ops, ErrSink& err,
                            Val (Emitter::*eval)(const Expr&, ErrSink&) = &Emitter::expr);
  size_t finite_size(const Expr& e) const;
  std::vector<std::string> finite_table(const Expr& e) const;
  Val finite_val(const Expr& e, ErrSink& err);
  Val finite_result(const Expr& e, const Val& f);
  llvm::Value* scratch_charge(llvm::Value* need, ErrSink& err);
  // Whether evaluating `e` has an effect later evaluation or the host can observe (string
  // concatenation: scratch use; budget views: spent() calls).
  bool has_effects(const Expr& e);
  Val merge_phi(const Val& ok, llvm::BasicBlock* ok_bb, llvm::BasicBlock* err_bb);
  llvm::Value* call_helper(uint64_t addr, llvm::Type* ret, llvm::ArrayRef<llvm::Type*> params,
                           llvm::ArrayRef<llvm::Value*> args);
  llvm::Value* checked_int(llvm::Intrinsic::ID id, llvm::Value* a, llvm::Value* b, ErrSink& err);
  void br_err_if(llvm::Value* cond, ErrSink& err, const char* ok_name);
  llvm::BasicBlock* new_block(const char* name);

  Val lower_name(const Expr& e, ErrSink& err);
  Val lower_unary(const Expr& e, ErrSink& err);
  Val lower_logic(const Expr& e, ErrSink& err);
  Val lower_binary(const Expr& e, ErrSink& err);
  Val lower_compare(const Expr& e, const Val& a, const Val& b, BinaryOp op);
  Val lower_in(const Expr& e, ErrSink& err);
  Val lower_call(const Expr& e, ErrSink& err);
  Val lower_member(const Expr& e, ErrSink& err);
  llvm::Value* string_eq(const Val& a, const Val& b);
  // startswith / endswith a literal of at most kInlineAffixMax bytes, inline.
  static constexpr size_t kInlineAffixMax = 32;
  llvm::Value* literal_affix(const Val& s, const std::string& lit, bool suffix);
  llvm::Value* values_equal(const Expr& ea, const Val& a, const Expr& eb, const Val& b);
  int32_t budget_index(const Expr& e) const;

  // Rules (codegen.cpp).
  void emit_rule(const Rule& r);
  void emit_action(const Rule& r, const Action& a, llvm::Value* chooses_route);
  void emit_cap(const Rule& r, const Action& a);
  void count_error(const Rule& r);
  llvm::Value* field_undecided(Field f);
  llvm::Value* action_can_apply(const Rule& r, const Action& a);

 public:
  llvm::LLVMContext& C;
  llvm::Module& M;
  llvm::IRBuilder<> B;
  const CodegenInput& in;
  const Program& P;
  llvm::Function* F = nullptr;
  llvm::Value* env = nullptr;
  llvm::Value* out = nullptr;
  llvm::Value* scratch = nullptr;
  llvm::Value* slots = nullptr;
  llvm::Type* ptr_ty = nullptr;
  llvm::Type* i64_ty = nullptr;
  llvm::Type* i32_ty = nullptr;
  llvm::Type* i8_ty = nullptr;
  llvm::Type* i1_ty = nullptr;
  llvm::Type* f64_ty = nullptr;
  std::vector<InputVal> inputs;
  std::vector<std::vector<Val>> enum_names;  // [enum][member] constant strings
  llvm::Instruction* entry_term = nullptr;
  unsigned known_undecided = 0;  // Field bits known undecided in the firing rule  // loads/allocas
                                 // go before the entry block's branch
  // Decision state: pointers to the fields of `out` (the Decision is the state; the caller reset
  // it), computed in each function's entry block.
  llvm::Value* st_denied = nullptr;
  llvm::Value* st_route = nullptr;
  llvm::Value* st_reason = nullptr;
  llvm::Value* st_max_out = nullptr;
  llvm::Value* st_max_in = nullptr;
  llvm::Value* st_retry = nullptr;
  llvm::Value* st_backoff = nullptr;
  llvm::Value* st_rag = nullptr;
  llvm::Value* st_top_k = nullptr;
  llvm::Value* st_cache = nullptr;
  llvm::Value* st_rule[kFieldCount] = {};
  llvm::Value* st_errors = nullptr;
  llvm::Value* st_first_error = nullptr;
  struct Spill {
    llvm::Value* field;  // the field of `out`
    llvm::Value* slot;   // its alloca
    llvm::Type* ty;
  };
  std::vector<Spill> spilled;  // with begin_function's `registers`
  // Out-parameters of helpers (entry-block allocas).
  llvm::Value* tmp_ptr = nullptr;
  llvm::Value* tmp_len = nullptr;
  llvm::Value* tmp_f64 = nullptr;
  llvm::Value* tmp_i64 = nullptr;
  llvm::Value* tmp_key = nullptr;   // [32 x i8] for number budget keys, created on first use
  std::vector<int8_t> let_effects;  // -1 unknown, 0/1
  std::unordered_map<std::string, llvm::Value*> str_cache;
  std::vector<int> let_depth;  // recursion guard for lets
  std::string error;
};

}  // namespace cg
}  // namespace tollgate
