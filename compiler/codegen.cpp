// Lowers a checked Program's rules to one native decision function (IRBuilder only; the ORC side
// lives in jit.cpp). The per-field "decided" state is the rule id of that field, kept in allocas
// that mem2reg turns into SSA; the Decision is written once at the end through ABI offsets.
#include <llvm/IR/Constants.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

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
  return B.CreateICmpEQ(B.CreateLoad(i32_ty, st_rule[static_cast<int>(f)]), i32(-1));
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
  BasicBlock* tighter = new_block("cap.tighter");
  BasicBlock* done = new_block("cap.done");
  B.CreateCondBr(B.CreateICmpSLT(v.v, B.CreateLoad(i64_ty, cap)), tighter, done);
  B.SetInsertPoint(tighter);
  B.CreateStore(v.v, cap);
  B.CreateStore(i32(r.index), rule_slot);
  B.CreateBr(done);
  if (err.used()) {
    B.SetInsertPoint(err.existing());
    count_error(r);
    B.CreateBr(done);
  }
  B.SetInsertPoint(done);
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
      B.CreateStore(B.getTrue(), st_denied);
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
      B.CreateStore(B.getTrue(), retry ? st_retry : st_rag);
      B.CreateStore(arg, retry ? st_backoff : st_top_k);
      B.CreateStore(i32(r.index), st_rule[static_cast<int>(retry ? Field::Retry : Field::Rag)]);
      finish_err(err);
      break;
    }
    case ActionKind::RagOff:
      B.CreateStore(B.getFalse(), st_rag);
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
      call_helper(reinterpret_cast<uintptr_t>(&tg_add_tag), B.getVoidTy(), {ptr_ty, ptr_ty, i32_ty},
                  {out, v.ptr, v.len});
      finish_err(err);
      break;
    }
  }
  B.CreateBr(done);
  B.SetInsertPoint(done);
}

void Emitter::emit_rule(const Rule& r) {
  // Evaluate only if some action could still take effect.
  Value* guard = B.getFalse();
  for (const Action& a : r.actions) guard = B.CreateOr(guard, action_can_apply(r, a));
  if (auto* c = llvm::dyn_cast<llvm::ConstantInt>(guard); c && c->isZero()) return;
  BasicBlock* next = new_block("rule.next");
  if (!llvm::isa<llvm::ConstantInt>(guard)) {
    BasicBlock* body = new_block("rule.body");
    B.CreateCondBr(guard, body, next);
    B.SetInsertPoint(body);
  }
  ErrSink cerr(F, "cond.err");
  if (r.condition) {
    Val c = expr(*r.condition, cerr);
    BasicBlock* fire = new_block("rule.fire");
    B.CreateCondBr(c.v, fire, next);
    B.SetInsertPoint(fire);
  }
  Value* chooses_route = first_route_is_route(r) ? field_undecided(Field::Route) : B.getFalse();
  for (const Action& a : r.actions) emit_action(r, a, chooses_route);
  B.CreateBr(next);
  if (cerr.used()) {
    B.SetInsertPoint(cerr.existing());
    count_error(r);
    B.CreateBr(next);
  }
  B.SetInsertPoint(next);
}

bool Emitter::emit_decide(std::string* err_out) {
  auto* fty = llvm::FunctionType::get(B.getVoidTy(), {ptr_ty, ptr_ty, ptr_ty}, false);
  F = llvm::Function::Create(fty, llvm::Function::ExternalLinkage, kDecideSymbol, M);
  F->addFnAttr(llvm::Attribute::NoUnwind);
  F->addParamAttr(1, llvm::Attribute::NoAlias);
  F->addParamAttr(2, llvm::Attribute::NoAlias);
  auto arg = F->arg_begin();
  env = &*arg++;
  out = &*arg++;
  scratch = &*arg;
  env->setName("env");
  out->setName("out");
  scratch->setName("scratch");

  BasicBlock* entry = new_block("entry");
  B.SetInsertPoint(entry);
  const JitAbi& a = in.abi;
  st_denied = B.CreateAlloca(i1_ty, nullptr, "denied");
  st_route = B.CreateAlloca(i32_ty, nullptr, "route");
  st_reason = B.CreateAlloca(ptr_ty, nullptr, "reason");
  st_max_out = B.CreateAlloca(i64_ty, nullptr, "max_out");
  st_max_in = B.CreateAlloca(i64_ty, nullptr, "max_in");
  st_retry = B.CreateAlloca(i1_ty, nullptr, "retry");
  st_backoff = B.CreateAlloca(i64_ty, nullptr, "backoff");
  st_rag = B.CreateAlloca(i1_ty, nullptr, "rag");
  st_top_k = B.CreateAlloca(i64_ty, nullptr, "top_k");
  st_cache = B.CreateAlloca(i8_ty, nullptr, "cache");
  for (auto& s : st_rule) s = B.CreateAlloca(i32_ty, nullptr, "rule");
  st_errors = B.CreateAlloca(i32_ty, nullptr, "errors");
  st_first_error = B.CreateAlloca(i32_ty, nullptr, "first_error");
  tmp_ptr = B.CreateAlloca(ptr_ty, nullptr, "tmp_ptr");
  tmp_len = B.CreateAlloca(i32_ty, nullptr, "tmp_len");
  tmp_f64 = B.CreateAlloca(f64_ty, nullptr, "tmp_f64");
  tmp_i64 = B.CreateAlloca(i64_ty, nullptr, "tmp_i64");

  B.CreateStore(B.getFalse(), st_denied);
  B.CreateStore(i32(-1), st_route);
  B.CreateStore(B.CreateLoad(ptr_ty, field_ptr(out, a.d_deny_reason)), st_reason);
  B.CreateStore(i64(kNoCap), st_max_out);
  B.CreateStore(i64(kNoCap), st_max_in);
  B.CreateStore(B.getFalse(), st_retry);
  B.CreateStore(i64(0), st_backoff);
  B.CreateStore(B.getFalse(), st_rag);
  B.CreateStore(i64(0), st_top_k);
  B.CreateStore(B.getInt8(0), st_cache);
  for (auto& s : st_rule) B.CreateStore(i32(-1), s);
  B.CreateStore(i32(0), st_errors);
  B.CreateStore(i32(-1), st_first_error);

  slots = B.CreateLoad(ptr_ty, field_ptr(env, a.env_slots), "slots");
  preload_inputs();

  for (int32_t idx : P.eval_order) emit_rule(P.rules.at(static_cast<size_t>(idx)));

  // tg_finish, inlined: "no route", then `on_error deny`.
  Value* route_rule = st_rule[static_cast<int>(Field::Route)];
  {
    BasicBlock* none = new_block("no_route");
    BasicBlock* cont = new_block("finish");
    B.CreateCondBr(
        B.CreateAnd(field_undecided(Field::Route), B.CreateNot(B.CreateLoad(i1_ty, st_denied))),
        none, cont);
    B.SetInsertPoint(none);
    B.CreateStore(B.getTrue(), st_denied);
    B.CreateStore(i32(-1), st_route);
    B.CreateStore(const_ptr(kNoRoute), st_reason);
    B.CreateBr(cont);
    B.SetInsertPoint(cont);
  }
  if (in.ctx->on_error_deny) {
    BasicBlock* deny = new_block("on_error_deny");
    BasicBlock* cont = new_block("store");
    B.CreateCondBr(B.CreateICmpNE(B.CreateLoad(i32_ty, st_errors), i32(0)), deny, cont);
    B.SetInsertPoint(deny);
    const auto& reasons = in.ctx->tables.error_reasons;
    std::vector<llvm::Constant*> table;
    for (const std::string& s : reasons)
      table.push_back(llvm::cast<llvm::Constant>(const_ptr(s.c_str())));
    table.push_back(llvm::cast<llvm::Constant>(const_ptr("evaluation error")));
    auto* arr_ty = llvm::ArrayType::get(ptr_ty, table.size());
    auto* gv =
        new llvm::GlobalVariable(M, arr_ty, true, llvm::GlobalValue::PrivateLinkage,
                                 llvm::ConstantArray::get(arr_ty, table), "on_error_reasons");
    Value* first = B.CreateLoad(i32_ty, st_first_error);
    // Out-of-range (never for a checked policy) reads the last entry, like tg_finish's fallback.
    Value* in_range = B.CreateICmpULT(first, i32(static_cast<int32_t>(reasons.size())));
    Value* idx = B.CreateSelect(in_range, B.CreateZExt(first, i64_ty),
                                i64(static_cast<int64_t>(reasons.size())));
    Value* slot = B.CreateInBoundsGEP(arr_ty, gv, {i64(0), idx});
    B.CreateStore(B.getTrue(), st_denied);
    B.CreateStore(i32(-1), st_route);
    B.CreateStore(first, route_rule);
    B.CreateStore(B.CreateLoad(ptr_ty, slot), st_reason);
    B.CreateBr(cont);
    B.SetInsertPoint(cont);
  }

  auto store = [&](Value* v, uint64_t off) { B.CreateStore(v, field_ptr(out, off)); };
  auto store_bool = [&](Value* st, uint64_t off) {
    store(B.CreateZExt(B.CreateLoad(i1_ty, st), i8_ty), off);
  };
  store_bool(st_denied, a.d_denied);
  store(B.CreateLoad(i32_ty, st_route), a.d_route);
  store(B.CreateLoad(ptr_ty, st_reason), a.d_deny_reason);
  store(B.CreateLoad(i64_ty, st_max_out), a.d_max_out);
  store(B.CreateLoad(i64_ty, st_max_in), a.d_max_in);
  store_bool(st_retry, a.d_retry);
  store(B.CreateLoad(i64_ty, st_backoff), a.d_backoff);
  store_bool(st_rag, a.d_rag);
  store(B.CreateLoad(i64_ty, st_top_k), a.d_top_k);
  store(B.CreateLoad(i8_ty, st_cache), a.d_cache);
  for (int f = 0; f < kFieldCount; ++f)
    store(B.CreateLoad(i32_ty, st_rule[f]), a.d_rule + 4u * static_cast<uint64_t>(f));
  store(B.CreateLoad(i32_ty, st_errors), a.d_errors);
  store(B.CreateLoad(i32_ty, st_first_error), a.d_first_error_rule);
  B.CreateRetVoid();

  if (!error.empty()) {
    *err_out = error;
    return false;
  }
  std::string msg;
  llvm::raw_string_ostream os(msg);
  if (llvm::verifyFunction(*F, &os)) {
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
