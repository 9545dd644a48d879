// libFuzzer target for the whole pipeline: arbitrary bytes as a policy through parse, check, JIT
// compile and decide. Whatever checks must compile (a checked program the JIT refuses is a bug),
// and on random requests (unset inputs, edge values, budget spend) the JIT and the interpreter
// through the rule index must equal the reference interpreter (the plain chain) on every Decision
// field. Half the inputs force the rule index on however small the policy is (one-rule leaves),
// so fuzzed conditions exercise its analysis. Any difference traps, so the fuzzer saves the input.
//
// Build: CC=clang-19 CXX=clang++-19 cmake -S . -B build-fuzz -G Ninja -DTOLLGATE_FUZZ=ON
//        ninja -C build-fuzz compile_fuzz
// Run:   build-fuzz/compile_fuzz -max_total_time=600 -max_len=4096 -timeout=20 \
//          /tmp/compile_corpus tests/fuzz/corpus policies       (see docs/fuzzing.md)
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string_view>

#include "tests/support/decision_diff.h"
#include "tests/support/dual_policy.h"
#include "tests/support/random_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tollgate;
  using namespace tollgate::testing;
  std::string_view source(reinterpret_cast<const char*>(data), size);
  uint64_t h = 1469598103934665603ull;
  for (uint8_t c : source) h = (h ^ c) * 1099511628211ull;

  JitOptions options;
  options.level = h % 2 ? JitOptLevel::Fast : JitOptLevel::Auto;  // both tiers
  if ((h >> 1) % 2) {
    options.index.min_rules = 1;
    options.index.leaf_rules = 1;
    options.index.min_gain = 1.0;
  }
  DualPolicy p;
  DualStatus st = build_dual(source, &p, options);
  if (st == DualStatus::Rejected) return 0;
  if (st == DualStatus::JitFailed) {
    std::fprintf(stderr, "JIT refused a checked policy: %s\n", p.diagnostics.c_str());
    __builtin_trap();
  }
  std::mt19937_64 rng(h);
  RandomRequest req;
  for (int i = 0; i < 64; ++i) {
    req.generate(*p.program, rng);
    FakeBudgetReader reader(rng() % 4);
    Decision a, b;
    std::string diff = decide_both(p, req.slots(), i % 4 ? &reader : nullptr, &a, &b);
    if (diff.empty()) {
      EvalEnv env;
      env.slots = req.slots();
      env.budgets = i % 4 ? &reader : nullptr;
      env.budget_infos = &p.tables.budgets;
      env.now_ms = 1700000000000;
      p.indexed->decide(env, &b);
      diff = decision_diff(a, b);
      if (!diff.empty()) diff = "indexed interpreter: " + diff;
    }
    if (!diff.empty()) {
      std::fprintf(stderr, "JIT or index != interpreter\n%s\nrequest: %s\ninterp: %s\njit:    %s\n",
                   diff.c_str(), req.describe(*p.program).c_str(), describe_decision(a).c_str(),
                   describe_decision(b).c_str());
      __builtin_trap();
    }
  }
  return 0;
}
