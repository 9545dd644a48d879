// Lowers a checked Program's rules to a native decision function (IRBuilder only; the ORC side
// lives in jit.cpp). The state is the Decision itself (reset by the caller, addressed through
// offsetof-derived ABI offsets): a field is decided when its rule id is set. Large policies are
// split into chunk functions so code generation stays linear in the number of rules.
#include <llvm/IR/Constants.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <cstring>

#include "compiler/codegen_emitter.h"
#include "compiler/eval_support.h"

namespace tollgate {
namespace cg {

using llvm::BasicBlock;
using llvm::Value;

namespace {

bool rule_has_route_or_deny(const Rule& r) {
  for (const Action& a : r.actions)
    if (a.kind == ActionKind::Route || a.kind == ActionKind::Deny) return true;
  return false;
}

// The interpreter's RuleMeta::first_route_is_route: caps on a routing rule belong to the route
// only when its first Route/Deny action is a Route.
bool first_route_is_route(const Rule& r) {
  for (const Action& a : r.actions)
    if (a.kind == ActionKind::Route || a.kind == ActionKind::Deny)
      return a.kind == ActionKind::Route;
  return false;
}

const char kNoRoute[] = "no route";
const char kEvaluationError[] = "evaluation error";

Field field_of(ActionKind k) {
  switch (k) {
    case ActionKind::Route:
    case ActionKind::Deny:
      return Field::Route;
    case ActionKind::MaxOut:
      return Field::MaxOut;
    case ActionKind::MaxIn:
      return Field::MaxIn;
    case ActionKind::Retry:
      return Field::Retry;
    case ActionKind::Rag:
    case ActionKind::RagOff:
      return Field::Rag;
    case ActionKind::Cache:
      return Field::Cache;
    case ActionKind::Tag:
      break;
  }
  return Field::Route;
}

}  // namespace

Value* Emitter::field_undecided(Field f) {
  return B.CreateICmpSLT(B.CreateLoad(i32_ty, st_rule[static_cast<int>(f)]), i32(0));
}

Value* Emitter::load_bool(Value* p) {
  return B.CreateICmpNE(B.CreateLoad(i8_ty, p), B.getInt8(0));
}
void Emitter::store_bool(Value* v, Value* p) {
  B.CreateStore(B.CreateZExt(v, i8_ty), p);
}

// Whether action `a` of rule `r` could still make the rule worth evaluating (the interpreter's
// live(): route-attached caps never keep a rule alive on their own).
Value* Emitter::action_can_apply(const Rule& r, const Action& a) {
  switch (a.kind) {
    case ActionKind::Tag:
      return B.getTrue();
    case ActionKind::MaxOut:
    case ActionKind::MaxIn:
      return rule_has_route_or_deny(r) ? B.getFalse() : B.getTrue();
    default:
      return field_undecided(field_of(a.kind));
  }
}

void Emitter::count_error(const Rule& r) {
  B.CreateStore(B.CreateAdd(B.CreateLoad(i32_ty, st_errors), i32(1)), st_errors);
  Value* first = B.CreateLoad(i32_ty, st_first_error);
  B.CreateStore(B.CreateSelect(B.CreateICmpEQ(first, i32(-1)), i32(r.index), first),
                st_first_error);
}

// Caps combine by minimum; the rule is attributed only when it strictly tightens.
void Emitter::emit_cap(const Rule& r, const Action& a) {
  bool out_cap = a.kind == ActionKind::MaxOut;
  Value* cap = out_cap ? st_max_out : st_max_in;
  Value* rule_slot = st_rule[static_cast<int>(out_cap ? Field::MaxOut : Field::MaxIn)];
  ErrSink err(F, "cap.err");
  Val v = expr(*a.arg, err);
  // Branch-free min with attribution only when strictly smaller (tg_apply_cap).
  Value* cur = B.CreateLoad(i64_ty, cap);
  Value* tighter = B.CreateICmpSLT(v.v, cur);
  B.CreateStore(B.CreateSelect(tighter, v.v, cur), cap);
  B.CreateStore(B.CreateSelect(tighter, i32(r.index), B.CreateLoad(i32_ty, rule_slot)), rule_slot);
  if (err.used()) {
    BasicBlock* done = new_block("cap.done");
    B.CreateBr(done);
    B.SetInsertPoint(err.existing());
    count_error(r);
    B.CreateBr(done);
    B.SetInsertPoint(done);
  }
}

// One action of a firing rule, in written order. `chooses_route` (computed when the rule fired)
// says whether this rule's route-attached caps apply.
void Emitter::emit_action(const Rule& r, const Action& a, Value* chooses_route) {
  Value* can = nullptr;
  switch (a.kind) {
    case ActionKind::Tag:
      break;
    case ActionKind::MaxOut:
    case ActionKind::MaxIn:
      if (rule_has_route_or_deny(r)) can = chooses_route;
      break;
    default:
      can = field_undecided(field_of(a.kind));
      break;
  }
  if (auto* c = llvm::dyn_cast_or_null<llvm::ConstantInt>(can)) {
    if (c->isZero()) return;
    can = nullptr;
  }
  BasicBlock* done = new_block("act.done");
  if (can) {
    BasicBlock* apply = new_block("act.apply");
    B.CreateCondBr(can, apply, done);
    B.SetInsertPoint(apply);
  }
  auto int_arg = [&](ErrSink& err) -> Value* { return a.arg ? expr(*a.arg, err).v : i64(0); };
  auto finish_err = [&](ErrSink& err) {
    if (!err.used()) return;
    B.CreateBr(done);
    B.SetInsertPoint(err.existing());
    count_error(r);
  };
  switch (a.kind) {
    case ActionKind::Route:
      B.CreateStore(i32(a.route_index), st_route);
      B.CreateStore(i32(r.index), st_rule[static_cast<int>(Field::Route)]);
      break;
    case ActionKind::Deny:
      store_bool(B.getTrue(), st_denied);
      B.CreateStore(i32(-1), st_route);
      B.CreateStore(const_ptr(a.reason.c_str()), st_reason);
      B.CreateStore(i32(r.index), st_rule[static_cast<int>(Field::Route)]);
      break;
    case ActionKind::MaxOut:
    case ActionKind::MaxIn:
      emit_cap(r, a);
      break;
    case ActionKind::Retry:
    case ActionKind::Rag: {
      bool retry = a.kind == ActionKind::Retry;
      ErrSink err(F, "arg.err");
      Value* arg = int_arg(err);
      store_bool(B.getTrue(), retry ? st_retry : st_rag);
      B.CreateStore(arg, retry ? st_backoff : st_top_k);
      B.CreateStore(i32(r.index), st_rule[static_cast<int>(retry ? Field::Retry : Field::Rag)]);
      finish_err(err);
      break;
    }
    case ActionKind::RagOff:
      store_bool(B.getFalse(), st_rag);
      B.CreateStore(i64(0), st_top_k);
      B.CreateStore(i32(r.index), st_rule[static_cast<int>(Field::Rag)]);
      break;
    case ActionKind::Cache:
      B.CreateStore(B.getInt8(static_cast<uint8_t>(a.cache)), st_cache);
      B.CreateStore(i32(r.index), st_rule[static_cast<int>(Field::Cache)]);
      break;
    case ActionKind::Tag: {
      if (!a.arg) break;
      ErrSink err(F, "tag.err");
      Val v = as_string(*a.arg, expr(*a.arg, err));
      emit_add_tag(v.ptr, v.len);
      finish_err(err);
      break;
    }
  }
  B.CreateBr(done);
  B.SetInsertPoint(done);
}

void Emitter::emit_rule(const Rule& r) {
  // Evaluate only if some action could still take effect.
  bool always = false;
  unsigned fields = 0;  // fields whose undecided state keeps the rule alive
  for (const Action& a : r.actions) {
    Value* live = action_can_apply(r, a);
    if (auto* c = llvm::dyn_cast<llvm::ConstantInt>(live)) {
      always |= c->isOne();
      continue;
    }
    fields |= 1u << static_cast<int>(field_of(a.kind));
  }
  if (!always && fields == 0) return;
  BasicBlock* next = new_block("rule.next");
  if (!always) {
    Value* guard = nullptr;
    for (int f = 0; f < kFieldCount; ++f) {
      if (!(fields & (1u << f))) continue;
      Value* u = field_undecided(static_cast<Field>(f));
      guard = guard ? B.CreateOr(guard, u) : u;
    }
    BasicBlock* body = new_block("rule.body");
    B.CreateCondBr(guard, body, next);
    B.SetInsertPoint(body);
  }
  ErrSink cerr(F, "cond.err");
  if (r.condition) {
    BasicBlock* fire = new_block("rule.fire");
    cond_branch(*r.condition, fire, next, cerr);
    B.SetInsertPoint(fire);
  }
  // A single guarding field is known undecided when the rule fires.
  known_undecided = !always && (fields & (fields - 1)) == 0 ? fields : 0u;
  Value* chooses_route = B.getFalse();
  if (first_route_is_route(r)) {
    chooses_route = known_undecided & (1u << static_cast<int>(Field::Route))
                        ? B.getTrue()
                        : field_undecided(Field::Route);
  }
  for (const Action& a : r.actions) emit_action(r, a, chooses_route);
  known_undecided = 0;
  B.CreateBr(next);
  if (cerr.used()) {
    B.SetInsertPoint(cerr.existing());
    count_error(r);
    B.CreateBr(next);
  }
  B.SetInsertPoint(next);
}

// Rules per chunk function: small enough that fast-isel and the register allocator stay linear,
// large enough that the calls are noise.
constexpr size_t kRulesPerChunk = 48;

// Starts a function (env, out, scratch) -> void: an entry block for allocas, field pointers and
// input loads, then the body where B is left.
void Emitter::begin_function(const char* name, bool is_entry, bool registers) {
  auto* fty = llvm::FunctionType::get(B.getVoidTy(), {ptr_ty, ptr_ty, ptr_ty}, false);
  F = llvm::Function::Create(
      fty, is_entry ? llvm::Function::ExternalLinkage : llvm::Function::InternalLinkage, name, M);
  F->addFnAttr(llvm::Attribute::NoUnwind);
  if (!is_entry) F->addFnAttr(llvm::Attribute::NoInline);
  F->addParamAttr(1, llvm::Attribute::NoAlias);
  F->addParamAttr(2, llvm::Attribute::NoAlias);
  auto arg = F->arg_begin();
  env = &*arg++;
  out = &*arg++;
  scratch = &*arg;
  BasicBlock* entry = new_block("entry");
  BasicBlock* body = new_block("body");
  B.SetInsertPoint(entry);
  entry_term = B.CreateBr(body);
  B.SetInsertPoint(entry_term);
  const JitAbi& a = in.abi;
  tmp_ptr = B.CreateAlloca(ptr_ty, nullptr, "tmp_ptr");
  tmp_len = B.CreateAlloca(i32_ty, nullptr, "tmp_len");
  tmp_f64 = B.CreateAlloca(f64_ty, nullptr, "tmp_f64");
  tmp_i64 = B.CreateAlloca(i64_ty, nullptr, "tmp_i64");
  tmp_key = nullptr;
  st_denied = field_ptr(out, a.d_denied);
  st_route = field_ptr(out, a.d_route);
  st_reason = field_ptr(out, a.d_deny_reason);
  st_max_out = field_ptr(out, a.d_max_out);
  st_max_in = field_ptr(out, a.d_max_in);
  st_retry = field_ptr(out, a.d_retry);
  st_backoff = field_ptr(out, a.d_backoff);
  st_rag = field_ptr(out, a.d_rag);
  st_top_k = field_ptr(out, a.d_top_k);
  st_cache = field_ptr(out, a.d_cache);
  for (int f = 0; f < kFieldCount; ++f)
    st_rule[f] = field_ptr(out, a.d_rule + 4u * static_cast<uint64_t>(f));
  st_errors = field_ptr(out, a.d_errors);
  st_first_error = field_ptr(out, a.d_first_error_rule);
  spilled.clear();
  if (registers) {
    // The decision state in allocas (loaded from `out` here, stored back by flush_state): no
    // helper reads these fields through `out`, so mem2reg/SROA turn the "is this field decided"
    // tests into SSA values and the rule chain folds into plain branches, as hand-written code.
    // The caller reset `out` (Decision::reset), so the state starts from known constants and
    // the optimiser folds the tests of the first rules; only deny_reason is read from `out`.
    auto shadow = [&](llvm::Value*& field, llvm::Type* ty, llvm::Value* init) {
      llvm::Value* slot = B.CreateAlloca(ty);
      B.CreateStore(init ? init : B.CreateLoad(ty, field), slot);
      spilled.push_back({field, slot, ty});
      field = slot;
    };
    const Decision reset{};
    shadow(st_denied, i8_ty, B.getInt8(reset.denied));
    shadow(st_route, i32_ty, i32(reset.route));
    shadow(st_reason, ptr_ty, nullptr);
    shadow(st_max_out, i64_ty, i64(reset.max_out));
    shadow(st_max_in, i64_ty, i64(reset.max_in));
    shadow(st_retry, i8_ty, B.getInt8(reset.retry));
    shadow(st_backoff, i64_ty, i64(reset.backoff_ms));
    shadow(st_rag, i8_ty, B.getInt8(reset.rag));
    shadow(st_top_k, i64_ty, i64(reset.top_k));
    shadow(st_cache, i8_ty, B.getInt8(static_cast<uint8_t>(reset.cache)));
    for (int f = 0; f < kFieldCount; ++f) shadow(st_rule[f], i32_ty, i32(reset.rule[f]));
    shadow(st_errors, i32_ty, i32(static_cast<int32_t>(reset.errors)));
    shadow(st_first_error, i32_ty, i32(reset.first_error_rule));
  }
  slots = nullptr;
  inputs.assign(P.inputs.size(), InputVal{});
  B.SetInsertPoint(body);
}

// Decision::add_tag (tg_add_tag), inlined: append when both the count and the bytes fit, else
// count the tag as dropped. Short constant-length tags are copied with inline stores; the rest
// call memcpy by address (no symbol for the JIT linker to resolve).
void Emitter::emit_add_tag(Value* ptr, Value* len) {
  const JitAbi& a = in.abi;
  llvm::Type* i16_ty = B.getInt16Ty();
  Value* count_p = field_ptr(out, a.d_tag_count);
  Value* count = B.CreateLoad(i8_ty, count_p);
  Value* count64 = B.CreateZExt(count, i64_ty);
  Value* any = B.CreateICmpNE(count, B.getInt8(0));
  // start = count == 0 ? 0 : tag_end[count - 1] (tag_end[0] is read, unused, when count == 0).
  Value* prev_idx = B.CreateSelect(any, B.CreateSub(count64, i64(1)), i64(0));
  Value* prev =
      B.CreateLoad(i16_ty, B.CreateInBoundsGEP(i8_ty, out,
                                               B.CreateAdd(i64(static_cast<int64_t>(a.d_tag_end)),
                                                           B.CreateMul(prev_idx, i64(2)))));
  Value* start = B.CreateSelect(any, B.CreateZExt(prev, i64_ty), i64(0));
  Value* end = B.CreateAdd(start, B.CreateZExt(len, i64_ty));
  Value* full = B.CreateOr(B.CreateICmpUGE(count, B.getInt8(Decision::kMaxTags)),
                           B.CreateICmpUGT(end, i64(Decision::kTagBytes)));
  BasicBlock* drop = new_block("tag.drop");
  BasicBlock* keep = new_block("tag.keep");
  BasicBlock* done = new_block("tag.done");
  B.CreateCondBr(full, drop, keep);
  B.SetInsertPoint(drop);
  Value* dropped_p = field_ptr(out, a.d_tags_dropped);
  B.CreateStore(B.CreateAdd(B.CreateLoad(i16_ty, dropped_p), B.getInt16(1)), dropped_p);
  B.CreateBr(done);
  B.SetInsertPoint(keep);
  Value* dst =
      B.CreateInBoundsGEP(i8_ty, out, B.CreateAdd(i64(static_cast<int64_t>(a.d_tag_buf)), start));
  auto* clen = llvm::dyn_cast<llvm::ConstantInt>(len);
  if (clen && clen->getZExtValue() <= 32) {
    if (!clen->isZero()) B.CreateMemCpy(dst, llvm::MaybeAlign(1), ptr, llvm::MaybeAlign(1), clen);
  } else {
    call_helper(reinterpret_cast<uintptr_t>(&std::memcpy), ptr_ty, {ptr_ty, ptr_ty, i64_ty},
                {dst, ptr, B.CreateZExt(len, i64_ty)});
  }
  B.CreateStore(B.CreateTrunc(end, i16_ty),
                B.CreateInBoundsGEP(i8_ty, out,
                                    B.CreateAdd(i64(static_cast<int64_t>(a.d_tag_end)),
                                                B.CreateMul(count64, i64(2)))));
  B.CreateStore(B.CreateAdd(count, B.getInt8(1)), count_p);
  B.CreateBr(done);
  B.SetInsertPoint(done);
}

// tg_finish, inlined: "no route", then `on_error deny`.
void Emitter::emit_finish() {
  Value* route_rule = st_rule[static_cast<int>(Field::Route)];
  {
    BasicBlock* none = new_block("no_route");
    BasicBlock* cont = new_block("finish");
    B.CreateCondBr(B.CreateAnd(field_undecided(Field::Route), B.CreateNot(load_bool(st_denied))),
                   none, cont);
    B.SetInsertPoint(none);
    store_bool(B.getTrue(), st_denied);
    B.CreateStore(i32(-1), st_route);
    B.CreateStore(const_ptr(kNoRoute), st_reason);
    B.CreateBr(cont);
    B.SetInsertPoint(cont);
  }
  if (!in.ctx->on_error_deny) return;
  BasicBlock* deny = new_block("on_error_deny");
  BasicBlock* cont = new_block("done");
  B.CreateCondBr(B.CreateICmpNE(B.CreateLoad(i32_ty, st_errors), i32(0)), deny, cont);
  B.SetInsertPoint(deny);
  const auto& reasons = in.ctx->tables.error_reasons;
  std::vector<llvm::Constant*> table;
  for (const std::string& s : reasons)
    table.push_back(llvm::cast<llvm::Constant>(const_ptr(s.c_str())));
  table.push_back(llvm::cast<llvm::Constant>(const_ptr(kEvaluationError)));
  auto* arr_ty = llvm::ArrayType::get(ptr_ty, table.size());
  auto* gv = new llvm::GlobalVariable(M, arr_ty, true, llvm::GlobalValue::PrivateLinkage,
                                      llvm::ConstantArray::get(arr_ty, table), "on_error_reasons");
  Value* first = B.CreateLoad(i32_ty, st_first_error);
  // Out of range (never for a checked policy) reads the fallback, like tg_finish.
  Value* in_range = B.CreateICmpULT(first, i32(static_cast<int32_t>(reasons.size())));
  Value* idx = B.CreateSelect(in_range, B.CreateZExt(first, i64_ty),
                              i64(static_cast<int64_t>(reasons.size())));
  Value* slot = B.CreateInBoundsGEP(arr_ty, gv, {i64(0), idx});
  store_bool(B.getTrue(), st_denied);
  B.CreateStore(i32(-1), st_route);
  B.CreateStore(first, route_rule);
  B.CreateStore(B.CreateLoad(ptr_ty, slot), st_reason);
  B.CreateBr(cont);
  B.SetInsertPoint(cont);
}

// Stores the decision state kept in allocas back into `out` (begin_function's `registers`).
void Emitter::flush_state() {
  for (const Spill& sp : spilled) B.CreateStore(B.CreateLoad(sp.ty, sp.slot), sp.field);
}

bool Emitter::emit_decide(std::string* err_out) {
  init_enum_names();
  const std::vector<int32_t>& order = P.eval_order;
  if (in.rule_functions) {
    // One function per rule, a table of them for the rule index, and tg_decide as the chain of
    // calls (the same decision without the index).
    std::vector<llvm::Constant*> fns;
    for (size_t k = 0; k < order.size(); ++k) {
      std::string name = "tg_rule." + std::to_string(k);
      begin_function(name.c_str(), false);
      emit_rule(P.rules.at(static_cast<size_t>(order[k])));
      B.CreateRetVoid();
      fns.push_back(F);
    }
    auto* arr_ty = llvm::ArrayType::get(ptr_ty, fns.size());
    new llvm::GlobalVariable(M, arr_ty, true, llvm::GlobalValue::ExternalLinkage,
                             llvm::ConstantArray::get(arr_ty, fns), kRulesSymbol);
    begin_function(kDecideSymbol, true);
    for (llvm::Constant* f : fns) B.CreateCall(llvm::cast<llvm::Function>(f), {env, out, scratch});
  } else if (order.size() <= kRulesPerChunk) {
    begin_function(kDecideSymbol, true, true);
    for (int32_t idx : order) emit_rule(P.rules.at(static_cast<size_t>(idx)));
  } else {
    std::vector<llvm::Function*> chunks;
    for (size_t start = 0; start < order.size(); start += kRulesPerChunk) {
      std::string name = "tg_chunk." + std::to_string(chunks.size());
      begin_function(name.c_str(), false);
      for (size_t k = start; k < order.size() && k < start + kRulesPerChunk; ++k)
        emit_rule(P.rules.at(static_cast<size_t>(order[k])));
      B.CreateRetVoid();
      chunks.push_back(F);
    }
    begin_function(kDecideSymbol, true);
    for (llvm::Function* c : chunks) B.CreateCall(c, {env, out, scratch});
  }
  emit_finish();
  flush_state();
  B.CreateRetVoid();

  if (!error.empty()) {
    *err_out = error;
    return false;
  }
  std::string msg;
  llvm::raw_string_ostream os(msg);
  if (llvm::verifyModule(M, &os)) {
    *err_out = "internal codegen error: " + os.str();
    return false;
  }
  return true;
}

}  // namespace cg

std::unique_ptr<llvm::Module> emit_policy_module(llvm::LLVMContext& ctx,
                                                 const llvm::DataLayout& layout,
                                                 const CodegenInput& in, std::string* error) {
  auto mod = std::make_unique<llvm::Module>("policy", ctx);
  mod->setDataLayout(layout);  // before any load/store is emitted (alignment of i64)
  cg::Emitter em(ctx, *mod, in);
  if (!em.emit_decide(error)) return nullptr;
  return mod;
}

}  // namespace tollgate
