// Lowers checked expressions to LLVM IR. Errors are control flow: an erroring sub-expression
// branches to the ErrSink of the nearest construct that handles errors (and/or absorb them, a rule
// counts them), so the success path carries plain values and never tests error flags. Evaluation
// order mirrors the interpreter (eval_support.h): strict operators evaluate every operand before
// failing, which matters only when a later operand concatenates (scratch use is observable) or
// reads a budget (the sequence of BudgetReader::spent calls is observable).
#include <llvm/IR/CFG.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Intrinsics.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "compiler/codegen_emitter.h"
#include "compiler/eval_support.h"

namespace tollgate {
namespace cg {

using llvm::BasicBlock;
using llvm::Value;

namespace {
template <typename Fn>
uint64_t addr(Fn* f) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(f));
}
double fmod_helper(double a, double b) {
  return std::fmod(a, b);
}
}  // namespace

Emitter::Emitter(llvm::LLVMContext& ctx, llvm::Module& mod, const CodegenInput& input)
    : C(ctx), M(mod), B(ctx), in(input), P(*input.program) {
  ptr_ty = llvm::PointerType::get(C, 0);
  i64_ty = B.getInt64Ty();
  i32_ty = B.getInt32Ty();
  i8_ty = B.getInt8Ty();
  i1_ty = B.getInt1Ty();
  f64_ty = B.getDoubleTy();
  let_depth.assign(P.lets.size(), 0);
  let_effects.assign(P.lets.size(), -1);
}

Value* Emitter::const_ptr(uint64_t addr) {
  return llvm::ConstantExpr::getIntToPtr(B.getInt64(addr), ptr_ty);
}
Value* Emitter::const_ptr(const void* p) {
  return const_ptr(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)));
}
Value* Emitter::f64(double v) {
  return llvm::ConstantFP::get(f64_ty, v);
}

BasicBlock* Emitter::new_block(const char* name) {
  return BasicBlock::Create(C, name, F);
}

Value* Emitter::field_ptr(Value* base, uint64_t off) {
  if (off == 0) return base;
  return B.CreateConstInBoundsGEP1_64(i8_ty, base, off);
}

Value* Emitter::load_invariant(llvm::Type* ty, Value* p) {
  auto* ld = B.CreateLoad(ty, p);
  ld->setMetadata(llvm::LLVMContext::MD_invariant_load, llvm::MDNode::get(C, {}));
  return ld;
}

Value* Emitter::slot_field(int slot, uint64_t off) {
  return field_ptr(slots, static_cast<uint64_t>(slot) * in.abi.slot_size + off);
}

Value* Emitter::call_helper(uint64_t addr, llvm::Type* ret, llvm::ArrayRef<llvm::Type*> params,
                            llvm::ArrayRef<Value*> args) {
  auto* fty = llvm::FunctionType::get(ret, params, false);
  return B.CreateCall(fty, const_ptr(addr), args);
}

void Emitter::br_err_if(Value* cond, ErrSink& err, const char* ok_name) {
  if (auto* c = llvm::dyn_cast<llvm::ConstantInt>(cond)) {
    if (c->isZero()) return;
  }
  BasicBlock* ok = new_block(ok_name);
  B.CreateCondBr(cond, err.block(), ok);
  B.SetInsertPoint(ok);
}

Value* Emitter::checked_int(llvm::Intrinsic::ID id, Value* a, Value* b, ErrSink& err) {
  Value* r = B.CreateBinaryIntrinsic(id, a, b);
  br_err_if(B.CreateExtractValue(r, 1), err, "ovf.ok");
  return B.CreateExtractValue(r, 0);
}

Value* Emitter::to_float(const Expr& e, Value* v) {
  if (e.type.kind == TypeKind::Int) return B.CreateSIToFP(v, f64_ty);
  return v;
}

int32_t Emitter::literal_id(const std::string& s) const {
  for (size_t i = 0; i < P.string_literals.size(); ++i)
    if (P.string_literals[i] == s) return static_cast<int32_t>(i);
  return -1;
}

Val Emitter::string_literal(const std::string& s, int32_t id) {
  Val v;
  llvm::Value*& g = str_cache[s];
  if (!g) g = B.CreateGlobalStringPtr(s, "str", 0, &M);
  v.ptr = g;
  v.len = i32(static_cast<int32_t>(s.size()));
  v.id = i32(id);
  return v;
}

// An input as the current function sees it: loaded once, in the function's entry block, on first
// use (slots cannot change during a decision). Unset inputs read the default exactly as
// tg_read_input does (EvalContext::defaults).
InputVal& Emitter::input(int32_t index) {
  size_t i = static_cast<size_t>(index);
  if (inputs.size() < P.inputs.size()) inputs.resize(P.inputs.size());
  InputVal& iv = inputs.at(i);
  if (iv.set) return iv;
  llvm::IRBuilderBase::InsertPointGuard guard(B);
  B.SetInsertPoint(entry_term);
  if (!slots) slots = B.CreateLoad(ptr_ty, field_ptr(env, in.abi.env_slots), "slots");
  const JitAbi& a = in.abi;
  const EvalContext& ctx = *in.ctx;
  const InputDecl& d = P.inputs[i];
  int s = index;
  iv.set = B.CreateICmpNE(load_invariant(i8_ty, slot_field(s, a.slot_set)), B.getInt8(0));
  iv.has_default = i < ctx.has_default.size() && ctx.has_default[i];
  const Slot* def = iv.has_default ? &ctx.defaults[i] : nullptr;
  Val raw, dv;
  switch (d.type.kind) {
    case TypeKind::Bool:
      raw.v = B.CreateICmpNE(load_invariant(i64_ty, slot_field(s, a.slot_i)), i64(0));
      if (def) dv.v = B.getInt1(def->i != 0);
      break;
    case TypeKind::Int:
    case TypeKind::Enum:
      raw.v = load_invariant(i64_ty, slot_field(s, a.slot_i));
      if (def) dv.v = i64(def->i);
      break;
    case TypeKind::Float:
      raw.v = load_invariant(f64_ty, slot_field(s, a.slot_i));
      if (def) dv.v = f64(def->f);
      break;
    case TypeKind::String:
      raw.ptr = load_invariant(ptr_ty, slot_field(s, a.slot_str));
      raw.len = load_invariant(i32_ty, slot_field(s, a.slot_len));
      raw.id = load_invariant(i32_ty, slot_field(s, a.slot_str_id));
      if (def) {
        dv.ptr = const_ptr(def->str);
        dv.len = i32(static_cast<int32_t>(def->len));
        dv.id = i32(def->str_id);
      }
      break;
    default:
      break;
  }
  if (def) {
    if (raw.v) raw.v = B.CreateSelect(iv.set, raw.v, dv.v);
    if (raw.ptr) {
      raw.ptr = B.CreateSelect(iv.set, raw.ptr, dv.ptr);
      raw.len = B.CreateSelect(iv.set, raw.len, dv.len);
      raw.id = B.CreateSelect(iv.set, raw.id, dv.id);
    }
  }
  iv.val = raw;
  return iv;
}

// Member names of every enum (the bytes tg_enum_name returns): module constants.
void Emitter::init_enum_names() {
  enum_names.resize(P.enums.size());
  for (size_t e = 0; e < P.enums.size(); ++e)
    for (const std::string& m : P.enums[e].members) enum_names[e].push_back(string_literal(m, -1));
}

// Effects later evaluation (or the host) can observe: string concatenation consumes the
// per-decision scratch (exhaustion is an error), and a budget view may call BudgetReader::spent
// (the sequence of calls must match the interpreter's, which evaluates every operand of a strict
// operator even after an earlier one erred).
bool Emitter::has_effects(const Expr& e) {
  if (e.kind == ExprKind::Binary && e.binary_op == BinaryOp::Add && e.type.kind == TypeKind::String)
    return true;
  if (e.kind == ExprKind::Member) return true;
  if (e.kind == ExprKind::Name && e.ref == NameRef::Let && e.index >= 0 &&
      static_cast<size_t>(e.index) < P.lets.size()) {
    int8_t& memo = let_effects[static_cast<size_t>(e.index)];
    if (memo < 0) {
      memo = 0;  // breaks cycles (the checker rejects them anyway)
      const ExprPtr& v = P.lets[static_cast<size_t>(e.index)].value;
      memo = v && has_effects(*v) ? 1 : 0;
    }
    return memo == 1;
  }
  for (const ExprPtr& a : e.args)
    if (a && has_effects(*a)) return true;
  return false;
}

// Joins the success path of an operand with its error path; the value is poison on the error path
// and only used after the pending error has been raised.
Val Emitter::merge_phi(const Val& ok, BasicBlock* ok_bb, BasicBlock* err_bb) {
  Val r;
  auto join = [&](Value* v) -> Value* {
    if (!v) return nullptr;
    auto* phi = B.CreatePHI(v->getType(), 2);
    phi->addIncoming(v, ok_bb);
    phi->addIncoming(llvm::PoisonValue::get(v->getType()), err_bb);
    return phi;
  };
  r.v = join(ok.v);
  r.ptr = join(ok.ptr);
  r.len = join(ok.len);
  r.id = join(ok.id);
  return r;
}

// Evaluates operands left to right; every operand is evaluated even after an earlier one erred
// (the interpreter's strict order), and the error is raised once no later operand can observe it.
std::vector<Val> Emitter::eval_all(const std::vector<const Expr*>& ops, ErrSink& err,
                                   Val (Emitter::*eval)(const Expr&, ErrSink&)) {
  std::vector<Val> vals;
  std::vector<bool> rest_effects(ops.size() + 1, false);
  for (size_t i = ops.size(); i-- > 0;)
    rest_effects[i] = rest_effects[i + 1] || has_effects(*ops[i]);
  Value* failed = nullptr;  // i1: an earlier operand erred (null: none could)
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!rest_effects[i + 1]) {
      Val v = (this->*eval)(*ops[i], err);
      if (failed) {
        br_err_if(failed, err, "ops.ok");
        failed = nullptr;
      }
      vals.push_back(v);
      continue;
    }
    ErrSink local(F, "op.err");
    Val v = (this->*eval)(*ops[i], local);
    if (!local.used()) {
      vals.push_back(v);
      continue;
    }
    BasicBlock* ok_bb = B.GetInsertBlock();
    BasicBlock* cont = new_block("op.next");
    B.CreateBr(cont);
    B.SetInsertPoint(local.existing());
    B.CreateBr(cont);
    B.SetInsertPoint(cont);
    auto* phi = B.CreatePHI(i1_ty, 2, "failed");
    phi->addIncoming(failed ? failed : B.getFalse(), ok_bb);
    phi->addIncoming(B.getTrue(), local.existing());
    failed = phi;
    vals.push_back(merge_phi(v, ok_bb, local.existing()));
  }
  return vals;
}

Val Emitter::as_string(const Expr& e, const Val& v) {
  if (e.type.kind != TypeKind::Enum) return v;
  return enum_string(e.type.enum_id, v.v);
}

Val Emitter::enum_string(int32_t enum_id, Value* member) {
  const std::vector<Val>& names = enum_names.at(static_cast<size_t>(enum_id));
  if (auto* c = llvm::dyn_cast<llvm::ConstantInt>(member)) {
    uint64_t k = c->getZExtValue();
    if (k < names.size()) return names[k];
  }
  // Dynamic member: select through the (short) member list; out of range reads "" like
  // tg_enum_name.
  Val r = string_literal("", -1);
  for (size_t k = names.size(); k-- > 0;) {
    Value* is = B.CreateICmpEQ(member, i64(static_cast<int64_t>(k)));
    r.ptr = B.CreateSelect(is, names[k].ptr, r.ptr);
    r.len = B.CreateSelect(is, names[k].len, r.len);
  }
  r.id = i32(-1);
  return r;
}

Val Emitter::lower_name(const Expr& e, ErrSink& err) {
  switch (e.ref) {
    case NameRef::Input: {
      InputVal& iv = input(e.index);
      if (!iv.has_default) br_err_if(B.CreateNot(iv.set), err, "input.set");
      // A NaN read from a slot is an error (the interpreter's Value::real_checked).
      if (P.inputs[static_cast<size_t>(e.index)].type.kind == TypeKind::Float)
        br_err_if(B.CreateFCmpUNO(iv.val.v, iv.val.v), err, "input.num");
      return iv.val;
    }
    case NameRef::Let: {
      size_t k = static_cast<size_t>(e.index);
      if (let_depth.at(k) > 0) {  // the checker rejects cycles; never recurse forever
        error = "recursive let '" + e.text + "'";
        Val v;
        v.v = B.getFalse();
        return v;
      }
      ++let_depth[k];
      Val v = expr(*P.lets[k].value, err);
      --let_depth[k];
      return v;
    }
    case NameRef::EnumMember: {
      Val v;
      v.v = i64(e.index);
      return v;
    }
    default:
      break;
  }
  error = "unresolved name '" + e.text + "'";
  Val v;
  v.v = i64(0);
  return v;
}

Val Emitter::lower_unary(const Expr& e, ErrSink& err) {
  const Expr& a = *e.args[0];
  Val v = expr(a, err);
  Val r;
  if (e.unary_op == UnaryOp::Not) {
    r.v = B.CreateNot(v.v);
  } else if (a.type.kind == TypeKind::Int) {
    r.v = checked_int(llvm::Intrinsic::ssub_with_overflow, i64(0), v.v, err);
  } else {
    r.v = B.CreateFNeg(v.v);
  }
  return r;
}

// and/or with CEL absorption. The right operand is emitted once; a phi remembers whether the left
// side erred, so `err and false` = false, `err and true` = err (dually for or).
Val Emitter::lower_logic(const Expr& e, ErrSink& err) {
  bool is_and = e.binary_op == BinaryOp::And;
  ErrSink lerr(F, is_and ? "and.lerr" : "or.lerr");
  Val l = expr(*e.args[0], lerr);
  BasicBlock* l_ok = B.GetInsertBlock();
  BasicBlock* rhs = new_block(is_and ? "and.rhs" : "or.rhs");
  BasicBlock* done = new_block(is_and ? "and.done" : "or.done");
  // and: left false -> false; or: left true -> true.
  if (is_and)
    B.CreateCondBr(l.v, rhs, done);
  else
    B.CreateCondBr(l.v, done, rhs);
  std::vector<std::pair<Value*, BasicBlock*>> results;
  results.push_back({B.getInt1(!is_and), l_ok});
  B.SetInsertPoint(rhs);
  llvm::PHINode* left_err = nullptr;
  if (lerr.used()) {
    left_err = B.CreatePHI(i1_ty, 2, "lerr");
    left_err->addIncoming(B.getFalse(), l_ok);
    llvm::IRBuilderBase::InsertPointGuard g(B);
    B.SetInsertPoint(lerr.existing());
    B.CreateBr(rhs);
    left_err->addIncoming(B.getTrue(), lerr.existing());
  }
  Val r = expr(*e.args[1], err);
  if (!left_err) {
    results.push_back({r.v, B.GetInsertBlock()});
  } else {
    // and: right false -> false (absorbs a left error); right true -> left error ? err : true.
    BasicBlock* decisive = B.GetInsertBlock();
    BasicBlock* nondecisive = new_block(is_and ? "and.rtrue" : "or.rfalse");
    if (is_and)
      B.CreateCondBr(r.v, nondecisive, done);
    else
      B.CreateCondBr(r.v, done, nondecisive);
    results.push_back({B.getInt1(!is_and), decisive});
    B.SetInsertPoint(nondecisive);
    BasicBlock* ok = new_block("logic.ok");
    B.CreateCondBr(left_err, err.block(), ok);
    B.SetInsertPoint(ok);
    results.push_back({B.getInt1(is_and), ok});
  }
  B.CreateBr(done);
  B.SetInsertPoint(done);
  auto* phi = B.CreatePHI(i1_ty, static_cast<unsigned>(results.size()), "logic");
  for (auto& [v, bb] : results) phi->addIncoming(v, bb);
  Val out;
  out.v = phi;
  return out;
}

// A condition straight into control flow: true -> t, false -> f, error -> err. and/or/not become
// branches (no i1 phis), with lower_logic's absorption: a flag remembers a left-side error, so
// `err and false` = false and `err and true` = err (dually for or).
void Emitter::cond_branch(const Expr& e, BasicBlock* t, BasicBlock* f, ErrSink& err) {
  if (e.kind == ExprKind::Unary && e.unary_op == UnaryOp::Not) {
    cond_branch(*e.args[0], f, t, err);
    return;
  }
  if (e.kind != ExprKind::Binary || (e.binary_op != BinaryOp::And && e.binary_op != BinaryOp::Or)) {
    Val v = expr(e, err);
    if (auto* c = llvm::dyn_cast<llvm::ConstantInt>(v.v))
      B.CreateBr(c->isOne() ? t : f);
    else
      B.CreateCondBr(v.v, t, f);
    return;
  }
  bool is_and = e.binary_op == BinaryOp::And;
  ErrSink lerr(F, "c.lerr");
  BasicBlock* rhs = new_block("c.rhs");
  if (is_and)
    cond_branch(*e.args[0], rhs, f, lerr);
  else
    cond_branch(*e.args[0], t, rhs, lerr);
  if (!lerr.used()) {
    B.SetInsertPoint(rhs);
    cond_branch(*e.args[1], t, f, err);
    return;
  }
  B.SetInsertPoint(lerr.existing());
  B.CreateBr(rhs);
  B.SetInsertPoint(rhs);
  auto* left_err = B.CreatePHI(i1_ty, 2, "lerr");
  for (BasicBlock* pred : llvm::predecessors(rhs))
    left_err->addIncoming(pred == lerr.existing() ? B.getTrue() : B.getFalse(), pred);
  // The non-deciding outcome of the right side re-raises a left error.
  BasicBlock* check = new_block("c.check");
  if (is_and)
    cond_branch(*e.args[1], check, f, err);
  else
    cond_branch(*e.args[1], t, check, err);
  B.SetInsertPoint(check);
  B.CreateCondBr(left_err, err.block(), is_and ? t : f);
}

// Interpreter rule: both ids >= 0 -> compare ids; otherwise compare bytes (tg_str_eq).
Value* Emitter::string_eq(const Val& a, const Val& b) {
  auto bytes_eq = [&]() {
    Value* r = call_helper(addr(&tg_str_eq), i32_ty, {ptr_ty, i32_ty, ptr_ty, i32_ty},
                           {a.ptr, a.len, b.ptr, b.len});
    return B.CreateICmpNE(r, i32(0));
  };
  Value* both = B.CreateAnd(B.CreateICmpSGE(a.id, i32(0)), B.CreateICmpSGE(b.id, i32(0)));
  if (auto* c = llvm::dyn_cast<llvm::ConstantInt>(both)) {
    return c->isOne() ? B.CreateICmpEQ(a.id, b.id) : bytes_eq();
  }
  BasicBlock* ids = B.GetInsertBlock();
  Value* id_eq = B.CreateICmpEQ(a.id, b.id);
  BasicBlock* slow = new_block("streq.bytes");
  BasicBlock* done = new_block("streq.done");
  B.CreateCondBr(both, done, slow);
  B.SetInsertPoint(slow);
  Value* be = bytes_eq();
  BasicBlock* slow_end = B.GetInsertBlock();
  B.CreateBr(done);
  B.SetInsertPoint(done);
  auto* phi = B.CreatePHI(i1_ty, 2, "streq");
  phi->addIncoming(id_eq, ids);
  phi->addIncoming(be, slow_end);
  return phi;
}

// == on two values of checked, compatible types (the interpreter's `equal`).
Value* Emitter::values_equal(const Expr& ea, const Val& a, const Expr& eb, const Val& b) {
  TypeKind ka = ea.type.kind, kb = eb.type.kind;
  if (ka == TypeKind::String || kb == TypeKind::String) return string_eq(a, b);
  if (ka == TypeKind::Int && kb == TypeKind::Int) return B.CreateICmpEQ(a.v, b.v);
  if ((ka == TypeKind::Int || ka == TypeKind::Float) &&
      (kb == TypeKind::Int || kb == TypeKind::Float))
    return B.CreateFCmpOEQ(to_float(ea, a.v), to_float(eb, b.v));
  if (ka == kb && (ka == TypeKind::Bool || ka == TypeKind::Enum)) return B.CreateICmpEQ(a.v, b.v);
  return B.getFalse();
}

Val Emitter::lower_compare(const Expr& e, const Val& a, const Val& b, BinaryOp op) {
  const Expr& ea = *e.args[0];
  const Expr& eb = *e.args[1];
  Val r;
  if (op == BinaryOp::Eq || op == BinaryOp::Ne) {
    Value* eq = values_equal(ea, a, eb, b);
    r.v = op == BinaryOp::Ne ? B.CreateNot(eq) : eq;
    return r;
  }
  if (ea.type.kind == TypeKind::Int && eb.type.kind == TypeKind::Int) {
    llvm::CmpInst::Predicate p = op == BinaryOp::Lt   ? llvm::CmpInst::ICMP_SLT
                                 : op == BinaryOp::Le ? llvm::CmpInst::ICMP_SLE
                                 : op == BinaryOp::Gt ? llvm::CmpInst::ICMP_SGT
                                                      : llvm::CmpInst::ICMP_SGE;
    r.v = B.CreateICmp(p, a.v, b.v);
    return r;
  }
  llvm::CmpInst::Predicate p = op == BinaryOp::Lt   ? llvm::CmpInst::FCMP_OLT
                               : op == BinaryOp::Le ? llvm::CmpInst::FCMP_OLE
                               : op == BinaryOp::Gt ? llvm::CmpInst::FCMP_OGT
                                                    : llvm::CmpInst::FCMP_OGE;
  r.v = B.CreateFCmp(p, to_float(ea, a.v), to_float(eb, b.v));
  return r;
}

Val Emitter::lower_binary(const Expr& e, ErrSink& err) {
  BinaryOp op = e.binary_op;
  if (op == BinaryOp::And || op == BinaryOp::Or) return lower_logic(e, err);
  const Expr& ea = *e.args[0];
  const Expr& eb = *e.args[1];
  if (e.type.kind == TypeKind::String && op == BinaryOp::Add && finite_size(e) > 0)
    return finite_result(e, finite_val(e, err));
  std::vector<Val> ops = eval_all({&ea, &eb}, err);
  const Val& a = ops[0];
  const Val& b = ops[1];
  switch (op) {
    case BinaryOp::Eq:
    case BinaryOp::Ne:
    case BinaryOp::Lt:
    case BinaryOp::Le:
    case BinaryOp::Gt:
    case BinaryOp::Ge:
      return lower_compare(e, a, b, op);
    case BinaryOp::StartsWith:
    case BinaryOp::EndsWith:
    case BinaryOp::Contains: {
      Val sa = as_string(ea, a), sb = as_string(eb, b);
      if (op != BinaryOp::Contains && eb.kind == ExprKind::StringLit &&
          eb.str_value.size() <= kInlineAffixMax) {
        Val r;
        r.v = literal_affix(sa, eb.str_value, op == BinaryOp::EndsWith);
        return r;
      }
      uint64_t fn = op == BinaryOp::StartsWith ? addr(&tg_str_startswith)
                    : op == BinaryOp::EndsWith ? addr(&tg_str_endswith)
                                               : addr(&tg_str_contains);
      Val r;
      r.v = B.CreateICmpNE(call_helper(fn, i32_ty, {ptr_ty, i32_ty, ptr_ty, i32_ty},
                                       {sa.ptr, sa.len, sb.ptr, sb.len}),
                           i32(0));
      return r;
    }
    default:
      break;
  }
  Val r;
  if (e.type.kind == TypeKind::String) {  // concatenation into the scratch space
    Val sa = as_string(ea, a), sb = as_string(eb, b);
    Value* st = call_helper(addr(&tg_concat), i32_ty,
                            {ptr_ty, ptr_ty, i32_ty, ptr_ty, i32_ty, ptr_ty, ptr_ty},
                            {scratch, sa.ptr, sa.len, sb.ptr, sb.len, tmp_ptr, tmp_len});
    br_err_if(B.CreateICmpNE(st, i32(0)), err, "concat.ok");
    r.ptr = B.CreateLoad(ptr_ty, tmp_ptr);
    r.len = B.CreateLoad(i32_ty, tmp_len);
    r.id = i32(-1);
    return r;
  }
  if (ea.type.kind == TypeKind::Int && eb.type.kind == TypeKind::Int) {
    switch (op) {
      case BinaryOp::Add:
        r.v = checked_int(llvm::Intrinsic::sadd_with_overflow, a.v, b.v, err);
        break;
      case BinaryOp::Sub:
        r.v = checked_int(llvm::Intrinsic::ssub_with_overflow, a.v, b.v, err);
        break;
      case BinaryOp::Mul:
        r.v = checked_int(llvm::Intrinsic::smul_with_overflow, a.v, b.v, err);
        break;
      default: {  // Div, Mod: by zero and INT64_MIN / -1 are errors
        Value* bad =
            B.CreateOr(B.CreateICmpEQ(b.v, i64(0)),
                       B.CreateAnd(B.CreateICmpEQ(a.v, i64(std::numeric_limits<int64_t>::min())),
                                   B.CreateICmpEQ(b.v, i64(-1))));
        br_err_if(bad, err, "div.ok");
        r.v = op == BinaryOp::Div ? B.CreateSDiv(a.v, b.v) : B.CreateSRem(a.v, b.v);
        break;
      }
    }
    return r;
  }
  Value* fa = to_float(ea, a.v);
  Value* fb = to_float(eb, b.v);
  switch (op) {
    case BinaryOp::Add:
      r.v = B.CreateFAdd(fa, fb);
      break;
    case BinaryOp::Sub:
      r.v = B.CreateFSub(fa, fb);
      break;
    case BinaryOp::Mul:
      r.v = B.CreateFMul(fa, fb);
      break;
    default:  // x / 0.0 and x % 0.0 are errors, not inf/NaN
      br_err_if(B.CreateFCmpOEQ(fb, f64(0.0)), err, "fdiv.ok");
      r.v = op == BinaryOp::Div
                ? B.CreateFDiv(fa, fb)
                : call_helper(addr(&fmod_helper), f64_ty, {f64_ty, f64_ty}, {fa, fb});
      break;
  }
  br_err_if(B.CreateFCmpUNO(r.v, r.v), err, "fnum.ok");  // inf - inf, 0 * inf: an error
  return r;
}

// `s startswith "trial-"` (or endswith) against a short literal: the length test, then the
// literal compared as a few unaligned integer loads, instead of a call that calls memcmp. Same
// result as tg_str_startswith / tg_str_endswith: plen <= slen and the bytes equal. The JIT runs
// in this process, so the literal packed with memcpy has the loads' byte order.
Value* Emitter::literal_affix(const Val& s, const std::string& lit, bool suffix) {
  const uint64_t n = lit.size();
  if (n == 0) return B.getTrue();
  BasicBlock* head = B.GetInsertBlock();
  BasicBlock* cmp = new_block("affix.cmp");
  BasicBlock* done = new_block("affix.done");
  B.CreateCondBr(B.CreateICmpUGE(s.len, i32(static_cast<int32_t>(n))), cmp, done);
  B.SetInsertPoint(cmp);
  Value* base = s.ptr;
  if (suffix) {
    Value* skip = B.CreateZExt(B.CreateSub(s.len, i32(static_cast<int32_t>(n))), i64_ty);
    base = B.CreateInBoundsGEP(i8_ty, s.ptr, skip);
  }
  Value* eq = nullptr;
  for (uint64_t off = 0; off < n;) {
    uint64_t w = n - off >= 8 ? 8 : n - off >= 4 ? 4 : n - off >= 2 ? 2 : 1;
    uint64_t bits = 0;
    std::memcpy(&bits, lit.data() + off, w);
    llvm::IntegerType* ty = B.getIntNTy(static_cast<unsigned>(w * 8));
    Value* word = B.CreateAlignedLoad(ty, B.CreateConstInBoundsGEP1_64(i8_ty, base, off),
                                      llvm::MaybeAlign(1));
    Value* same = B.CreateICmpEQ(word, llvm::ConstantInt::get(ty, bits));
    eq = eq ? B.CreateAnd(eq, same) : same;
    off += w;
  }
  BasicBlock* cmp_end = B.GetInsertBlock();
  B.CreateBr(done);
  B.SetInsertPoint(done);
  llvm::PHINode* r = B.CreatePHI(B.getInt1Ty(), 2, "affix");
  r->addIncoming(B.getFalse(), head);
  r->addIncoming(eq, cmp_end);
  return r;
}

// ---- concatenation of operands with a few values known at compile time ----------------------
// `"tier:" + tier`: string literals and enum values (as member names), nested with `+`. Each
// operand is a small table of constant strings plus an index; a `+` combines the tables (the
// cross product) and charges the scratch exactly as tg_concat would (alen + blen bytes, the same
// exhaustion error), but copies nothing: the result is the module constant of its combination.
// Nothing needs results to live in the scratch (tags are copied into the Decision; comparisons
// and later concatenations only read the bytes).

namespace {
constexpr size_t kFiniteConcatMax = 64;  // table entries
}  // namespace

// Entries of e's table (0: not such an expression, or too many). An enum has one entry per member
// plus "" for an out-of-range member (as tg_enum_name reads it).
size_t Emitter::finite_size(const Expr& e) const {
  if (e.kind == ExprKind::StringLit) return 1;
  if (e.type.kind == TypeKind::Enum) {
    if (e.type.enum_id < 0 || static_cast<size_t>(e.type.enum_id) >= P.enums.size()) return 0;
    size_t m = P.enums[static_cast<size_t>(e.type.enum_id)].members.size() + 1;
    return m <= kFiniteConcatMax ? m : 0;
  }
  if (e.kind == ExprKind::Binary && e.binary_op == BinaryOp::Add &&
      e.type.kind == TypeKind::String && e.args.size() == 2) {
    size_t a = finite_size(*e.args[0]);
    size_t b = a ? finite_size(*e.args[1]) : 0;
    return a && b && a * b <= kFiniteConcatMax ? a * b : 0;
  }
  return 0;
}

// The constant strings of e's table (e has finite_size > 0), in index order.
std::vector<std::string> Emitter::finite_table(const Expr& e) const {
  if (e.kind == ExprKind::StringLit) return {e.str_value};
  if (e.type.kind == TypeKind::Enum) {
    std::vector<std::string> t = P.enums[static_cast<size_t>(e.type.enum_id)].members;
    t.push_back("");
    return t;
  }
  std::vector<std::string> a = finite_table(*e.args[0]), b = finite_table(*e.args[1]);
  std::vector<std::string> t;
  for (const std::string& x : a)
    for (const std::string& y : b) t.push_back(x + y);
  return t;
}

// Evaluates e (finite_size > 0) in the interpreter's order and returns its table index in v
// (i64); `+` charges the scratch, and its len is the length it charged: the result's.
Val Emitter::finite_val(const Expr& e, ErrSink& err) {
  Val r;
  if (e.kind == ExprKind::StringLit) {
    r.v = i64(0);
    return r;
  }
  if (e.type.kind == TypeKind::Enum) {
    Val v = expr(e, err);
    int64_t m = static_cast<int64_t>(P.enums[static_cast<size_t>(e.type.enum_id)].members.size());
    if (auto* c = llvm::dyn_cast<llvm::ConstantInt>(v.v)) {
      uint64_t k = c->getZExtValue();
      r.v = i64(k < static_cast<uint64_t>(m) ? static_cast<int64_t>(k) : m);
      return r;
    }
    r.v = B.CreateSelect(B.CreateICmpULT(v.v, i64(m)), v.v, i64(m));
    return r;
  }
  std::vector<Val> ops = eval_all({e.args[0].get(), e.args[1].get()}, err, &Emitter::finite_val);
  size_t nb = finite_size(*e.args[1]);
  Value* idx = B.CreateAdd(B.CreateMul(ops[0].v, i64(static_cast<int64_t>(nb))), ops[1].v);
  // Charge len(table[idx]) = alen + blen, failing exactly when tg_concat fails.
  std::vector<std::string> t = finite_table(e);
  bool same = true;
  for (const std::string& s : t) same &= s.size() == t[0].size();
  Value* need;
  if (same || llvm::isa<llvm::ConstantInt>(idx)) {
    size_t k = same ? 0 : llvm::cast<llvm::ConstantInt>(idx)->getZExtValue();
    need = i32(static_cast<int32_t>(t.at(k).size()));
  } else {
    std::vector<llvm::Constant*> lens;
    for (const std::string& s : t) lens.push_back(B.getInt32(static_cast<uint32_t>(s.size())));
    auto* ty = llvm::ArrayType::get(i32_ty, lens.size());
    auto* gv = new llvm::GlobalVariable(M, ty, true, llvm::GlobalValue::PrivateLinkage,
                                        llvm::ConstantArray::get(ty, lens), "concat.lens");
    need = B.CreateLoad(i32_ty, B.CreateInBoundsGEP(ty, gv, {i64(0), idx}));
  }
  scratch_charge(need, err);
  r.v = idx;
  r.len = need;
  return r;
}

// used + need <= kScratchBytes, else an error (tg_concat's test); then used += need. `need` is i32.
Value* Emitter::scratch_charge(Value* need, ErrSink& err) {
  Value* used_p = field_ptr(scratch, in.abi.scratch_used);
  Value* used = B.CreateLoad(i32_ty, used_p);
  Value* avail = B.CreateSub(i32(static_cast<int32_t>(kScratchBytes)), used);
  br_err_if(B.CreateICmpUGT(need, avail), err, "concat.ok");
  B.CreateStore(B.CreateAdd(used, need), used_p);
  return used;
}

// The string of e's table at f.v, f.len long (finite_val of a `+`).
Val Emitter::finite_result(const Expr& e, const Val& f) {
  std::vector<std::string> t = finite_table(e);
  if (auto* c = llvm::dyn_cast<llvm::ConstantInt>(f.v))
    return string_literal(t.at(c->getZExtValue()), -1);
  std::vector<llvm::Constant*> ptrs;
  for (const std::string& s : t)
    ptrs.push_back(llvm::cast<llvm::Constant>(string_literal(s, -1).ptr));
  auto* pty = llvm::ArrayType::get(ptr_ty, ptrs.size());
  auto* pg = new llvm::GlobalVariable(M, pty, true, llvm::GlobalValue::PrivateLinkage,
                                      llvm::ConstantArray::get(pty, ptrs), "concat.strs");
  Val r;
  r.ptr = B.CreateLoad(ptr_ty, B.CreateInBoundsGEP(pty, pg, {i64(0), f.v}));
  r.len = f.len;
  r.id = i32(-1);
  return r;
}

// lhs, then every item, all evaluated; any error -> error. Constant items fold to compares
// (enum/int lists become an or of icmps that LLVM turns into a switch or bit test).
Val Emitter::lower_in(const Expr& e, ErrSink& err) {
  std::vector<const Expr*> ops;
  for (const ExprPtr& a : e.args) ops.push_back(a.get());
  std::vector<Val> vals = eval_all(ops, err);
  const Expr& lhs = *e.args[0];
  Value* any = B.getFalse();
  for (size_t i = 1; i < e.args.size(); ++i)
    any = B.CreateOr(any, values_equal(lhs, vals[0], *e.args[i], vals[i]));
  Val r;
  r.v = e.negated ? B.CreateNot(any) : any;
  return r;
}

int32_t Emitter::budget_index(const Expr& e) const {
  if (e.index >= 0) return e.index;
  std::string name = e.text;
  size_t dot = name.find('.');
  if (dot != std::string::npos) name = name.substr(0, dot);
  for (size_t i = 0; i < P.budgets.size(); ++i)
    if (P.budgets[i].name == name) return static_cast<int32_t>(i);
  return -1;
}

// Budget views (tg_budget_view, inline): spent from the per-decision memo (EvalEnv::spent_known /
// spent_memo) or, on a miss, the key from the preloaded key input and one tg_budget_spent call
// (which fills the memo); then the limit (literal or input), then the view. Same order as
// tg_budget_view: a key error skips spent(); a limit error comes after spent() was called.
Val Emitter::lower_member(const Expr& e, ErrSink& err) {
  Val r;
  const int32_t b = budget_index(e);
  const EvalContext& ctx = *in.ctx;
  const size_t n_inputs = P.inputs.size();
  const EvalContext::Budget* bd =
      b >= 0 && static_cast<size_t>(b) < ctx.budgets.size() ? &ctx.budgets[b] : nullptr;
  auto key_inline = [&](const EvalContext::Budget& d) {
    if (d.key_slot < 0) return true;
    if (static_cast<size_t>(d.key_slot) >= n_inputs) return false;
    switch (d.key_type) {
      case TypeKind::String:
      case TypeKind::Bool:
      case TypeKind::Int:
      case TypeKind::Float:
        return true;
      case TypeKind::Enum:
        return d.key_enum >= 0 && static_cast<size_t>(d.key_enum) < enum_names.size();
      default:
        return false;
    }
  };
  auto limit_inline = [&](const EvalContext::Budget& d) {
    return d.limit_slot < 0 || (static_cast<size_t>(d.limit_slot) < n_inputs &&
                                (d.limit_type == TypeKind::Int || d.limit_type == TypeKind::Float));
  };
  if (!bd || !key_inline(*bd) || !limit_inline(*bd)) {
    // Not expected for a checked program: the helper decides (and errs) exactly as before.
    Value* st =
        call_helper(addr(&tg_budget_view), i32_ty, {ptr_ty, ptr_ty, i32_ty, i32_ty, ptr_ty},
                    {const_ptr(in.ctx), env, i32(b), i32(static_cast<int32_t>(e.member)), tmp_f64});
    br_err_if(B.CreateICmpNE(st, i32(0)), err, "budget.ok");
    r.v = B.CreateLoad(f64_ty, tmp_f64);
    return r;
  }
  const JitAbi& a = in.abi;
  BasicBlock* have = new_block("spent.have");
  llvm::SmallVector<std::pair<Value*, BasicBlock*>, 2> spent_in;
  if (b < EvalEnv::kSpentMemo) {
    // Not invariant: tg_budget_spent fills the memo during the decision.
    Value* known = B.CreateLoad(i32_ty, field_ptr(env, a.env_spent_known));
    Value* hit = B.CreateICmpNE(B.CreateAnd(known, i32(static_cast<int32_t>(1u << b))), i32(0));
    BasicBlock* hit_bb = new_block("spent.memo");
    BasicBlock* miss_bb = new_block("spent.read");
    B.CreateCondBr(hit, hit_bb, miss_bb);
    B.SetInsertPoint(hit_bb);
    Value* m =
        B.CreateLoad(f64_ty, field_ptr(env, a.env_spent_memo + 8u * static_cast<uint64_t>(b)));
    spent_in.push_back({m, hit_bb});
    B.CreateBr(have);
    B.SetInsertPoint(miss_bb);
  }
  // The key text (tg_budget_key).
  Value* key_ptr = nullptr;
  Value* key_len = nullptr;
  if (bd->key_slot < 0) {
    Val g = string_literal("", -1);
    key_ptr = g.ptr;
    key_len = g.len;
  } else {
    InputVal& iv = input(bd->key_slot);
    if (!iv.has_default) br_err_if(B.CreateNot(iv.set), err, "key.set");
    switch (bd->key_type) {
      case TypeKind::String:
        key_ptr = iv.val.ptr;
        key_len = iv.val.len;
        break;
      case TypeKind::Enum: {
        Val s = enum_string(bd->key_enum, iv.val.v);
        key_ptr = s.ptr;
        key_len = s.len;
        break;
      }
      case TypeKind::Bool: {
        Val t = string_literal("true", -1), f = string_literal("false", -1);
        key_ptr = B.CreateSelect(iv.val.v, t.ptr, f.ptr);
        key_len = B.CreateSelect(iv.val.v, t.len, f.len);
        break;
      }
      default: {  // numbers: formatted on the stack by the same helper as tg_budget_key
        if (!tmp_key) {
          llvm::IRBuilderBase::InsertPointGuard guard(B);
          B.SetInsertPoint(entry_term);
          tmp_key = B.CreateAlloca(llvm::ArrayType::get(i8_ty, 32), nullptr, "tmp_key");
        }
        bool is_int = bd->key_type == TypeKind::Int;
        key_ptr = tmp_key;
        key_len = call_helper(is_int ? addr(&tg_budget_key_int) : addr(&tg_budget_key_float),
                              i32_ty, {is_int ? i64_ty : f64_ty, ptr_ty}, {iv.val.v, tmp_key});
        break;
      }
    }
  }
  Value* read =
      call_helper(addr(&tg_budget_spent), f64_ty, {ptr_ty, ptr_ty, i32_ty, ptr_ty, i32_ty},
                  {const_ptr(in.ctx), env, i32(b), key_ptr, key_len});
  spent_in.push_back({read, B.GetInsertBlock()});
  B.CreateBr(have);
  B.SetInsertPoint(have);
  auto* spent = B.CreatePHI(f64_ty, static_cast<unsigned>(spent_in.size()), "spent");
  for (auto& [v, bb] : spent_in) spent->addIncoming(v, bb);
  // The limit (tg_budget_limit), read after spent().
  Value* limit = nullptr;
  if (bd->limit_slot < 0) {
    limit = f64(bd->limit_value);
  } else {
    InputVal& lv = input(bd->limit_slot);
    if (!lv.has_default) br_err_if(B.CreateNot(lv.set), err, "limit.set");
    limit = bd->limit_type == TypeKind::Float ? lv.val.v : B.CreateSIToFP(lv.val.v, f64_ty);
  }
  // tg_limit_invalid: NaN, infinite or negative is an error; then a NaN spent.
  if (auto* c = llvm::dyn_cast<llvm::ConstantFP>(limit)) {
    if (tg_limit_invalid(c->getValueAPF().convertToDouble()))
      br_err_if(B.getTrue(), err, "limit.ok");
  } else {
    Value* ok = B.CreateAnd(B.CreateFCmpOGE(limit, f64(0.0)),
                            B.CreateFCmpOLT(limit, f64(std::numeric_limits<double>::infinity())));
    br_err_if(B.CreateNot(ok), err, "limit.ok");
  }
  br_err_if(B.CreateFCmpUNO(spent, spent), err, "spent.num");
  switch (e.member) {
    case BudgetView::Spent:
      r.v = spent;
      break;
    case BudgetView::Limit:
      r.v = limit;
      break;
    case BudgetView::Remaining:
      r.v = B.CreateFSub(limit, spent);
      break;
    case BudgetView::Ratio:
      br_err_if(B.CreateFCmpOEQ(limit, f64(0.0)), err, "ratio.ok");
      r.v = B.CreateFDiv(spent, limit);
      break;
  }
  return r;
}

Val Emitter::lower_call(const Expr& e, ErrSink& err) {
  Val r;
  bool is_int = e.type.kind == TypeKind::Int;
  if (e.builtin == Builtin::Has) {
    const Expr& a = *e.args[0];
    r.v = input(a.index).set;
    return r;
  }
  std::vector<const Expr*> ops;
  for (size_t i = e.builtin == Builtin::Cost ? 1 : 0; i < e.args.size(); ++i)
    ops.push_back(e.args[i].get());
  std::vector<Val> v = eval_all(ops, err);
  auto num = [&](size_t i) { return is_int ? v[i].v : to_float(*ops[i], v[i].v); };
  switch (e.builtin) {
    case Builtin::Min:
    case Builtin::Max: {
      bool is_min = e.builtin == Builtin::Min;
      Value* acc = num(0);
      for (size_t i = 1; i < v.size(); ++i) {
        Value* x = num(i);
        Value* take = is_int ? (is_min ? B.CreateICmpSLT(x, acc) : B.CreateICmpSGT(x, acc))
                             : (is_min ? B.CreateFCmpOLT(x, acc) : B.CreateFCmpOGT(x, acc));
        acc = B.CreateSelect(take, x, acc);
      }
      r.v = acc;
      return r;
    }
    case Builtin::Clamp: {
      // x < lo ? lo : (x > hi ? hi : x)
      Value *x = num(0), *lo = num(1), *hi = num(2);
      Value* below = is_int ? B.CreateICmpSLT(x, lo) : B.CreateFCmpOLT(x, lo);
      Value* above = is_int ? B.CreateICmpSGT(x, hi) : B.CreateFCmpOGT(x, hi);
      r.v = B.CreateSelect(below, lo, B.CreateSelect(above, hi, x));
      return r;
    }
    case Builtin::Pow:
      if (is_int) {
        Value* st = call_helper(addr(&tg_pow_int), i32_ty, {i64_ty, i64_ty, ptr_ty},
                                {v[0].v, v[1].v, tmp_i64});
        br_err_if(B.CreateICmpNE(st, i32(0)), err, "pow.ok");
        r.v = B.CreateLoad(i64_ty, tmp_i64);
      } else {
        r.v = call_helper(addr(&tg_pow_float), f64_ty, {f64_ty, f64_ty}, {num(0), num(1)});
        br_err_if(B.CreateFCmpUNO(r.v, r.v), err, "pow.num");
      }
      return r;
    case Builtin::Abs:
      if (is_int) {
        br_err_if(B.CreateICmpEQ(v[0].v, i64(std::numeric_limits<int64_t>::min())), err, "abs.ok");
        r.v = B.CreateSelect(B.CreateICmpSLT(v[0].v, i64(0)), B.CreateNeg(v[0].v), v[0].v);
      } else {
        r.v = B.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, v[0].v);
      }
      return r;
    case Builtin::Cost: {
      // Route prices folded in as constants (tg_cost's formula).
      const Expr& route = *e.args[0];
      int32_t ri = route.ref == NameRef::Route ? route.index : -1;
      const auto& routes = in.ctx->tables.routes;
      if (ri < 0 || static_cast<size_t>(ri) >= routes.size() || !routes[ri].priced) {
        br_err_if(B.getTrue(), err, "dead");
        r.v = f64(0);
        return r;
      }
      const RouteInfo& p = routes[static_cast<size_t>(ri)];
      r.v = B.CreateFAdd(B.CreateFMul(to_float(*ops[0], v[0].v), f64(p.in_per_token)),
                         B.CreateFMul(to_float(*ops[1], v[1].v), f64(p.out_per_token)));
      br_err_if(B.CreateFCmpUNO(r.v, r.v), err, "cost.num");  // inf tokens at a zero price
      return r;
    }
    default:
      break;
  }
  r.v = i64(0);
  return r;
}

Val Emitter::expr(const Expr& e, ErrSink& err) {
  switch (e.kind) {
    case ExprKind::BoolLit: {
      Val v;
      v.v = B.getInt1(e.bool_value);
      return v;
    }
    case ExprKind::IntLit: {
      Val v;
      v.v = i64(e.int_value);
      return v;
    }
    case ExprKind::FloatLit: {
      Val v;
      v.v = f64(e.float_value);
      return v;
    }
    case ExprKind::StringLit:
      return string_literal(e.str_value, e.index);
    case ExprKind::Name:
      return lower_name(e, err);
    case ExprKind::Member:
      return lower_member(e, err);
    case ExprKind::Unary:
      return lower_unary(e, err);
    case ExprKind::Binary:
      return lower_binary(e, err);
    case ExprKind::In:
      return lower_in(e, err);
    case ExprKind::Call:
      return lower_call(e, err);
  }
  error = "unsupported expression";
  Val v;
  v.v = B.getFalse();
  return v;
}

}  // namespace cg
}  // namespace tollgate
