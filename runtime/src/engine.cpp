// Engine: compiles policy source (parse -> check -> tables -> evaluator) into Policies, and owns
// the price table and the budget ledger they read.
#include "tollgate/engine.hpp"

#include <algorithm>
#include <exception>
#include <fstream>
#include <mutex>
#include <sstream>

#include "compiler/checker.h"
#include "compiler/diagnostics.h"
#include "compiler/evaluator.h"
#ifdef TOLLGATE_HAVE_JIT
#include "compiler/jit.h"
#endif
#include "compiler/parser.h"
#include "runtime/src/jit_tier.h"
#include "runtime/src/policy_impl.h"
#include "tollgate/ledger.hpp"
#include "tollgate/prices.hpp"

namespace tollgate {

struct Engine::Impl {
  EngineOptions options;
  // Shared with every Policy compiled here, so a Policy may outlive the Engine.
  std::shared_ptr<Ledger> ledger = std::make_shared<Ledger>();
#ifdef TOLLGATE_HAVE_JIT
  // This engine's LLJIT, created by the first JIT compile. Each policy gets its own JITDylib in
  // it and keeps it alive, so policies may also outlive the Engine.
  std::once_flag jit_once;
  std::shared_ptr<JitHost> jit;
  const std::shared_ptr<JitHost>& jit_host() {
    std::call_once(jit_once, [this] { jit = make_jit_host(); });
    return jit;
  }
  // The background JIT tier's threads, started by the first policy that needs them. Policies
  // hold it weakly: it goes with the Engine, and their pending JIT tiers fail then.
  std::once_flag worker_once;
  std::shared_ptr<detail::JitWorker> worker;
  const std::shared_ptr<detail::JitWorker>& jit_worker() {
    std::call_once(worker_once,
                   [this] { worker = std::make_shared<detail::JitWorker>(options.jit_threads); });
    return worker;
  }
#endif
};

Engine::Engine(EngineOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  if (impl_->options.ledger) impl_->ledger = impl_->options.ledger;
}

Engine::~Engine() = default;

Ledger& Engine::ledger() {
  return *impl_->ledger;
}
const EngineOptions& Engine::options() const {
  return impl_->options;
}

namespace {

void finish_diagnostics(DiagnosticSink& diags, std::string_view source, CompileResult* res) {
  res->diagnostics = diags.all();
  std::stable_sort(res->diagnostics.begin(), res->diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     if (a.loc.line != b.loc.line) return a.loc.line < b.loc.line;
                     return a.loc.col < b.loc.col;
                   });
  res->rendered = render_all(res->diagnostics, source);
}

}  // namespace

CompileResult Engine::compile(std::string_view source, std::string_view file) {
  CompileResult res;
  DiagnosticSink diags;
  const std::string file_name(file);
  try {
    std::unique_ptr<Program> program = parse_program(source, file, diags);
    if (!program || diags.has_errors()) {
      finish_diagnostics(diags, source, &res);
      return res;
    }
    std::shared_ptr<const PriceTable> prices = impl_->options.prices;
    CheckOptions check;
    check.lints = impl_->options.lints || impl_->options.strict;
    if (prices) {
      check.has_price = [prices](const std::string& model) {
        return prices->find(model) != nullptr;
      };
    }
    check_program(*program, diags, check);
    if (impl_->options.strict) diags.promote_warnings();
    if (diags.has_errors()) {
      finish_diagnostics(diags, source, &res);
      return res;
    }

    PriceLookup lookup;
    if (prices) lookup = [prices](std::string_view model) { return prices->find(model); };
    std::shared_ptr<detail::PolicyImpl> impl =
        detail::build_policy_impl(std::move(program), source, file, lookup);
    impl->ledger = impl_->ledger;

    // The interpreter serves from now on; the JIT tier replaces it when ready.
    impl->interpreter = make_interpreter(*impl->program, impl->tables);
    impl->active.store(impl->interpreter.get(), std::memory_order_release);
#ifdef TOLLGATE_HAVE_JIT
    if (impl_->options.backend == Backend::Jit) {
      impl->jit_host = impl_->jit_host();
      impl->hot_after = impl_->options.jit_hot_decisions;
      if (impl_->options.wait_for_jit) {
        impl->jit_state.store(detail::PolicyImpl::kCompiling);
        detail::compile_jit_tier(*impl);
        if (!impl->jitted()) {
          diags.add({Severity::Note,
                     file_name,
                     {},
                     "JIT unavailable, using the interpreter: " + impl->jit_error,
                     "jit-fallback"});
        }
      } else {
        impl->registry = impl_->jit_worker()->registry();
        impl->registry->add(impl.get(), impl);
        impl->jit_state.store(detail::PolicyImpl::kIdle);
        if (impl->hot_after == 0) impl->request_jit();
      }
    }
#endif
    finish_diagnostics(diags, source, &res);
    res.policy.emplace(std::move(impl));
  } catch (const std::exception& e) {
    diags.error(file_name, {}, std::string("internal error: ") + e.what());
    finish_diagnostics(diags, source, &res);
    res.policy.reset();
  }
  return res;
}

CompileResult Engine::compile_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    CompileResult res;
    Diagnostic d;
    d.file = path;
    d.message = "cannot read file";
    res.diagnostics.push_back(d);
    res.rendered = render(d, "");
    return res;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return compile(ss.str(), path);
}

}  // namespace tollgate
