// Differential testing: random policies (every construct) x random requests (unset inputs,
// edge values, budget spend through a fake reader); the JIT must equal the interpreter on every
// Decision field. CI runs >= 100,000 pairs; TOLLGATE_DIFF_PAIRS=N runs a longer campaign and
// TOLLGATE_DIFF_SEED picks the starting seed.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <random>
#include <string>

#include "tests/support/decision_diff.h"
#include "tests/support/dual_policy.h"
#include "tests/support/random_policy.h"

using namespace tollgate;
using namespace tollgate::testing;

namespace {

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

// Forwards to a FakeBudgetReader and logs every spent() call: the JIT must ask for the same
// budgets, keys and times in the same order as the interpreter (the per-decision memo included).
class RecordingReader : public BudgetReader {
 public:
  explicit RecordingReader(const BudgetReader& inner) : inner_(inner) {}
  double spent(const BudgetInfo& budget, std::string_view key, int64_t now_ms) const override {
    log += budget.name + "[" + std::string(key) + "]@" + std::to_string(now_ms) + " ";
    return inner_.spent(budget, key, now_ms);
  }
  mutable std::string log;

 private:
  const BudgetReader& inner_;
};

struct Campaign {
  uint64_t pairs = 0, policies = 0, rejected = 0, errors_seen = 0, denied = 0, tags = 0;
};

void run_campaign(uint64_t first_seed, uint64_t target_pairs, int requests_per_policy,
                  const RandomPolicyOptions& opts, Campaign* c) {
  // Alternate the JIT tiers: the auto choice (O2 for these sizes) and the fast tier (no IR
  // passes, fast-isel) that large policies get.
  JitOptions tiers[2];
  tiers[1].level = JitOptLevel::Fast;
  for (uint64_t seed = first_seed; c->pairs < target_pairs; ++seed) {
    std::string src = random_policy_source(seed, opts);
    DualPolicy p;
    DualStatus st = build_dual(src, &p, tiers[seed % 2]);
    if (st == DualStatus::Rejected) {
      ++c->rejected;
      INFO("seed " << seed << " rejected:\n" << p.diagnostics << "\n" << src);
      REQUIRE(c->rejected * 20 <= c->policies + 20);  // the generator must stay well-typed
      continue;
    }
    INFO("seed " << seed << " policy:\n" << src);
    REQUIRE(st == DualStatus::Ok);
    ++c->policies;
    std::mt19937_64 rng(seed * 7919 + 1);
    RandomRequest req;
    for (int i = 0; i < requests_per_policy; ++i) {
      req.generate(*p.program, rng);
      FakeBudgetReader fake(rng() % 4);
      RecordingReader interp_reader(fake), jit_reader(fake);
      const bool no_reader = rng() % 5 == 0;
      EvalEnv env;
      env.slots = req.slots();
      env.budget_infos = &p.tables.budgets;
      env.now_ms = 1700000000000;
      Decision a, b;
      env.budgets = no_reader ? nullptr : &interp_reader;
      p.interp->decide(env, &a);
      env.budgets = no_reader ? nullptr : &jit_reader;
      p.jit->decide(env, &b);
      std::string diff = decision_diff(a, b);
      if (interp_reader.log != jit_reader.log)
        diff += "spent() calls: " + interp_reader.log + "\n          vs " + jit_reader.log + "\n";
      if (!diff.empty()) {
        FAIL_CHECK("JIT != interpreter, seed " << seed << " request " << i << "\n"
                                               << req.describe(*p.program) << "\n"
                                               << diff << "interp: " << describe_decision(a)
                                               << "\njit:    " << describe_decision(b));
        return;
      }
      ++c->pairs;
      c->errors_seen += a.errors > 0;
      c->denied += a.denied;
      c->tags += a.tag_count > 0;
    }
  }
}

}  // namespace

TEST_CASE("JIT equals the interpreter on random policies and requests", "[differential]") {
  const uint64_t pairs = env_u64("TOLLGATE_DIFF_PAIRS", 100000);
  const uint64_t seed = env_u64("TOLLGATE_DIFF_SEED", 1);
  Campaign c;
  RandomPolicyOptions opts;
  run_campaign(seed, pairs, 250, opts, &c);
  WARN("differential: " << c.pairs << " pairs over " << c.policies << " policies (" << c.rejected
                        << " generated sources rejected); decisions with errors " << c.errors_seen
                        << ", denied " << c.denied << ", tagged " << c.tags);
  CHECK(c.pairs >= pairs);
  // The campaign must exercise the error paths, denials and tags, not just the happy path.
  CHECK(c.errors_seen > c.pairs / 50);
  CHECK(c.denied > c.pairs / 50);
  CHECK(c.tags > c.pairs / 50);
}

TEST_CASE("JIT equals the interpreter on deep expressions and many rules", "[differential]") {
  Campaign c;
  RandomPolicyOptions opts;
  opts.rules = 60;
  opts.max_depth = 5;
  run_campaign(env_u64("TOLLGATE_DIFF_SEED", 1) + 1000000, 20000, 100, opts, &c);
  CHECK(c.pairs >= 20000);
}

TEST_CASE("JIT equals the interpreter with more budgets than the spent memo holds",
          "[differential]") {
  static_assert(EvalEnv::kSpentMemo < 40, "raise extra_budgets");
  Campaign c;
  RandomPolicyOptions opts;
  opts.extra_budgets = 40;
  run_campaign(env_u64("TOLLGATE_DIFF_SEED", 1) + 2000000, 20000, 100, opts, &c);
  CHECK(c.pairs >= 20000);
}
