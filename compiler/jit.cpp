// ORC LLJIT driver: the only TU with the heavy LLJIT/PassBuilder headers. Owns the shared LLJIT
// (one per JitHost), runs the IR pipeline chosen by policy size, gives every policy its own
// JITDylib so dropping the policy frees its code, and wraps the native function as an Evaluator.
#include "compiler/jit.h"

#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Transforms/InstCombine/InstCombine.h>
#include <llvm/Transforms/Scalar/EarlyCSE.h>
#include <llvm/Transforms/Scalar/SimplifyCFG.h>
#include <llvm/Transforms/Utils/Mem2Reg.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "compiler/codegen.h"
#include "compiler/eval_support.h"

namespace tollgate {

JitAbi jit_abi() {
  JitAbi a;
  a.env_slots = offsetof(EvalEnv, slots);
  a.env_spent_known = offsetof(EvalEnv, spent_known);
  a.env_spent_memo = offsetof(EvalEnv, spent_memo);
  a.scratch_used = offsetof(EvalScratch, used);
  a.scratch_buf = offsetof(EvalScratch, buf);
  a.slot_size = sizeof(Slot);
  a.slot_i = offsetof(Slot, i);
  a.slot_str = offsetof(Slot, str);
  a.slot_len = offsetof(Slot, len);
  a.slot_str_id = offsetof(Slot, str_id);
  a.slot_set = offsetof(Slot, set);
  a.d_denied = offsetof(Decision, denied);
  a.d_route = offsetof(Decision, route);
  a.d_deny_reason = offsetof(Decision, deny_reason);
  a.d_max_out = offsetof(Decision, max_out);
  a.d_max_in = offsetof(Decision, max_in);
  a.d_retry = offsetof(Decision, retry);
  a.d_backoff = offsetof(Decision, backoff_ms);
  a.d_rag = offsetof(Decision, rag);
  a.d_top_k = offsetof(Decision, top_k);
  a.d_cache = offsetof(Decision, cache);
  a.d_rule = offsetof(Decision, rule);
  a.d_errors = offsetof(Decision, errors);
  a.d_first_error_rule = offsetof(Decision, first_error_rule);
  a.d_tag_count = offsetof(Decision, tag_count);
  a.d_tags_dropped = offsetof(Decision, tags_dropped);
  a.d_tag_end = offsetof(Decision, tag_end);
  a.d_tag_buf = offsetof(Decision, tag_buf);
  static_assert(sizeof(Decision::tag_count) == 1 && sizeof(Decision::tags_dropped) == 2 &&
                    sizeof(Decision::tag_end[0]) == 2,
                "i8 tag count, i16 tag ends and drop count");
  static_assert(sizeof(bool) == 1 && sizeof(CacheMode) == 1, "i8 stores for bool/CacheMode");
  static_assert(sizeof(EvalEnv::spent_known) == 4 && sizeof(EvalEnv::spent_memo[0]) == 8,
                "i32 memo bits, double memo");
  static_assert(sizeof(EvalScratch::used) == 4, "i32 scratch use");
  static_assert(sizeof(Decision::rule[0]) == 4 && sizeof(Decision::errors) == 4, "i32 fields");
  return a;
}

namespace {

using namespace llvm;
using namespace llvm::orc;

// Above this many IR instructions the O2 pipeline costs more than it can save (it is
// super-linear on one big function), so large policies get the fast tier.
constexpr size_t kOptimizeMaxInstructions = 2500;

constexpr const char* kFastFlag = "tollgate.fast_isel";

void init_llvm_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    InitializeNativeTarget();
    InitializeNativeTargetAsmPrinter();
  });
}

// Per-module codegen level: fast-isel for large policies, the full SelectionDAG otherwise. A new
// TargetMachine per module keeps concurrent compiles independent.
class TieredCompiler : public IRCompileLayer::IRCompiler {
 public:
  explicit TieredCompiler(JITTargetMachineBuilder jtmb, IRSymbolMapper::ManglingOptions mo)
      : IRCompiler(std::move(mo)), jtmb_(std::move(jtmb)) {}
  Expected<std::unique_ptr<MemoryBuffer>> operator()(Module& m) override {
    JITTargetMachineBuilder jtmb = jtmb_;
    bool fast = m.getModuleFlag(kFastFlag) != nullptr;
    jtmb.setCodeGenOptLevel(fast ? CodeGenOptLevel::None : CodeGenOptLevel::Default);
    auto tm = jtmb.createTargetMachine();
    if (!tm) return tm.takeError();
    SimpleCompiler compile(**tm);
    return compile(m);
  }

 private:
  JITTargetMachineBuilder jtmb_;
};

size_t instruction_count(const Module& m) {
  size_t n = 0;
  for (const Function& f : m)
    for (const BasicBlock& bb : f) n += bb.size();
  return n;
}

// IR tiers, cheapest last. O2 is the full new-PM pipeline; Light is the handful of function
// passes that matter for straight-line decision code (SSA, CSE, peepholes, branch folding);
// Fast runs no IR pass at all and leaves the code to fast-isel.
enum class Tier { O2, O1, Light, Fast };

const char* tier_name(Tier t) {
  switch (t) {
    case Tier::O2:
      return "O2";
    case Tier::O1:
      return "O1";
    case Tier::Light:
      return "light";
    case Tier::Fast:
      return "fast";
  }
  return "?";
}

void run_passes(Module& m, Tier tier, TargetMachine* tm) {
  if (tier == Tier::Fast) return;
  LoopAnalysisManager lam;
  FunctionAnalysisManager fam;
  CGSCCAnalysisManager cgam;
  ModuleAnalysisManager mam;
  PassBuilder pb(tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  ModulePassManager mpm;
  if (tier == Tier::O2) {
    mpm = pb.buildPerModuleDefaultPipeline(OptimizationLevel::O2);
  } else if (tier == Tier::O1) {
    mpm = pb.buildPerModuleDefaultPipeline(OptimizationLevel::O1);
  } else {
    FunctionPassManager fpm;
    fpm.addPass(PromotePass());
    fpm.addPass(EarlyCSEPass());
    fpm.addPass(InstCombinePass());
    fpm.addPass(SimplifyCFGPass());
    mpm.addPass(createModuleToFunctionPassAdaptor(std::move(fpm)));
  }
  mpm.run(m, mam);
}

std::string take_message(Error e) {
  return toString(std::move(e));
}

}  // namespace

class JitHost {
 public:
  // The LLJIT, created on first use.
  LLJIT* get(std::string* error) {
    std::lock_guard<std::mutex> lock(mu_);
    if (jit_) return jit_.get();
    init_llvm_once();
    auto jtmb = JITTargetMachineBuilder::detectHost();
    if (!jtmb) {
      *error = take_message(jtmb.takeError());
      return nullptr;
    }
    jtmb_ = std::make_unique<JITTargetMachineBuilder>(*jtmb);
    auto jit = LLJITBuilder()
                   .setJITTargetMachineBuilder(*jtmb)
                   .setCompileFunctionCreator(
                       [](JITTargetMachineBuilder b)
                           -> Expected<std::unique_ptr<IRCompileLayer::IRCompiler>> {
                         auto mo = irManglingOptionsFromTargetOptions(b.getOptions());
                         return std::make_unique<TieredCompiler>(std::move(b), std::move(mo));
                       })
                   .create();
    if (!jit) {
      *error = take_message(jit.takeError());
      return nullptr;
    }
    jit_ = std::move(*jit);
    return jit_.get();
  }

  std::unique_ptr<TargetMachine> target_machine() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!jtmb_) return nullptr;
    auto tm = jtmb_->createTargetMachine();
    if (!tm) {
      consumeError(tm.takeError());
      return nullptr;
    }
    return std::move(*tm);
  }

  // Adds the module in a fresh JITDylib and resolves the decision function (and the rule table
  // when `rules` is given).
  JITDylib* add(ThreadSafeModule tsm, void** fn, void** rules, std::string* error) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string name = "tollgate.policy." + std::to_string(next_id_++);
    auto jd = jit_->createJITDylib(name);
    if (!jd) {
      *error = take_message(jd.takeError());
      return nullptr;
    }
    if (Error e = jit_->addIRModule(*jd, std::move(tsm))) {
      *error = take_message(std::move(e));
      consumeError(jit_->getExecutionSession().removeJITDylib(*jd));
      return nullptr;
    }
    auto sym = jit_->lookup(*jd, kDecideSymbol);
    if (!sym) {
      *error = take_message(sym.takeError());
      consumeError(jit_->getExecutionSession().removeJITDylib(*jd));
      return nullptr;
    }
    *fn = sym->toPtr<void*>();
    if (rules) {
      auto table = jit_->lookup(*jd, kRulesSymbol);
      if (!table) {
        *error = take_message(table.takeError());
        consumeError(jit_->getExecutionSession().removeJITDylib(*jd));
        return nullptr;
      }
      *rules = table->toPtr<void*>();
    }
    ++live_;
    return &*jd;
  }

  void remove(JITDylib* jd) {
    std::lock_guard<std::mutex> lock(mu_);
    // Removing the dylib removes its resource trackers: the code memory goes back.
    consumeError(jit_->getExecutionSession().removeJITDylib(*jd));
    --live_;
  }

  size_t live() const {
    std::lock_guard<std::mutex> lock(mu_);
    return live_;
  }

 private:
  mutable std::mutex mu_;
  std::unique_ptr<JITTargetMachineBuilder> jtmb_;
  std::unique_ptr<LLJIT> jit_;
  uint64_t next_id_ = 0;
  size_t live_ = 0;
};

namespace {

using DecideFn = void (*)(const EvalEnv*, Decision*, EvalScratch*);
using RuleFn = DecideFn;  // one rule: the same signature

// UBSan's -fsanitize=function reads a signature word just before the callee; JIT code has none
// (and may start a page), so the indirect call into it must not be instrumented.
#if defined(__clang__)
#define TOLLGATE_NO_SANITIZE_FUNCTION __attribute__((no_sanitize("function")))
#else
#define TOLLGATE_NO_SANITIZE_FUNCTION
#endif

class JitEvaluator final : public Evaluator {
 public:
  JitEvaluator(std::shared_ptr<JitHost> host, std::unique_ptr<EvalContext> ctx, JITDylib* jd,
               DecideFn fn, std::unique_ptr<RuleIndex> index, const RuleFn* rules)
      : host_(std::move(host)),
        ctx_(std::move(ctx)),
        jd_(jd),
        fn_(fn),
        index_(std::move(index)),
        rules_(rules) {}
  ~JitEvaluator() override { host_->remove(jd_); }

  TOLLGATE_NO_SANITIZE_FUNCTION void decide(const EvalEnv& env, Decision* out) const override {
    out->reset();
    env.clear_memo();
    EvalScratch scratch;
    if (!index_) {
      fn_(&env, out, &scratch);
      return;
    }
    run_candidates(*index_, env.slots, out, [&](uint32_t pos) TOLLGATE_NO_SANITIZE_FUNCTION {
      rules_[pos](&env, out, &scratch);
    });
    tg_finish(ctx_.get(), out);
  }

 private:
  std::shared_ptr<JitHost> host_;
  std::unique_ptr<EvalContext> ctx_;  // read by the generated code and the helpers it calls
  JITDylib* jd_;
  DecideFn fn_;
  std::unique_ptr<RuleIndex> index_;  // null: fn_ is the whole decision
  const RuleFn* rules_;               // the module's rule table (with an index)
};

}  // namespace

std::shared_ptr<JitHost> make_jit_host() {
  return std::make_shared<JitHost>();
}

std::shared_ptr<JitHost> default_jit_host() {
  static std::shared_ptr<JitHost> host = make_jit_host();
  return host;
}

size_t jit_live_policies(const JitHost& host) {
  return host.live();
}

std::unique_ptr<Evaluator> make_jit_evaluator(const std::shared_ptr<JitHost>& host,
                                              const Program& program, const PolicyTables& tables,
                                              const JitOptions& options, std::string* error) {
  std::string local_error;
  if (!error) error = &local_error;
  static const bool timing = std::getenv("TOLLGATE_JIT_TIMING") != nullptr;
  // Thread CPU time: the machine is shared, wall time would measure the neighbours.
  struct Clock {
    using time_point = double;
    static double now() {
      timespec ts;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
    }
  };
  auto ms = [](double a, double b) { return b - a; };
  Clock::time_point t0 = Clock::now();
  LLJIT* jit = host->get(error);
  if (!jit) return nullptr;

  std::unique_ptr<EvalContext> ctx = make_eval_context(program, tables);
  CodegenInput in;
  in.program = &program;
  in.ctx = ctx.get();
  in.abi = jit_abi();
  std::unique_ptr<RuleIndex> index =
      RuleIndex::build(program, *ctx, program.eval_order, options.index);
  in.rule_functions = index != nullptr;

  auto llctx = std::make_unique<LLVMContext>();
  llctx->setDiscardValueNames(
      !options.dump_ir &&
      !std::getenv("TOLLGATE_JIT_DUMP"));  // names cost time and memory, nobody reads them
  std::unique_ptr<Module> mod = emit_policy_module(*llctx, jit->getDataLayout(), in, error);
  if (!mod) return nullptr;
  Clock::time_point t1 = Clock::now();
  size_t insts = instruction_count(*mod);

  Tier tier = options.level == JitOptLevel::Optimized ? Tier::O2
              : options.level == JitOptLevel::Fast    ? Tier::Fast
              : insts <= kOptimizeMaxInstructions     ? Tier::O2
                                                      : Tier::Fast;
  if (const char* forced = std::getenv("TOLLGATE_JIT_TIER")) {
    std::string f = forced;
    tier = f == "O2" ? Tier::O2 : f == "O1" ? Tier::O1 : f == "light" ? Tier::Light : Tier::Fast;
  }
  std::unique_ptr<TargetMachine> tm = tier == Tier::Fast ? nullptr : host->target_machine();
  run_passes(*mod, tier, tm.get());
  bool fast_isel = tier == Tier::Fast || std::getenv("TOLLGATE_JIT_FASTISEL") != nullptr;
  if (fast_isel) mod->addModuleFlag(Module::Warning, kFastFlag, 1);
  if (options.dump_ir || std::getenv("TOLLGATE_JIT_DUMP")) mod->print(errs(), nullptr);
  Clock::time_point t2 = Clock::now();

  void* fn = nullptr;
  void* rules = nullptr;
  JITDylib* jd = host->add(ThreadSafeModule(std::move(mod), std::move(llctx)), &fn,
                           index ? &rules : nullptr, error);
  if (!jd) return nullptr;
  if (timing) {
    std::fprintf(stderr,
                 "tollgate jit: %zu rules, %zu IR insts, %s: emit %.2f ms, passes %.2f ms, "
                 "codegen+link %.2f ms\n",
                 program.rules.size(), insts, tier_name(tier), ms(t0, t1), ms(t1, t2),
                 ms(t2, Clock::now()));
  }
  return std::make_unique<JitEvaluator>(host, std::move(ctx), jd, reinterpret_cast<DecideFn>(fn),
                                        std::move(index), static_cast<const RuleFn*>(rules));
}

std::unique_ptr<Evaluator> make_jit_evaluator(const Program& program, const PolicyTables& tables,
                                              std::string* error) {
  return make_jit_evaluator(default_jit_host(), program, tables, JitOptions{}, error);
}

}  // namespace tollgate
