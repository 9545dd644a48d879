// Differential testing: random policies (every construct) x random requests (unset inputs,
// edge values, budget spend through a fake reader); the JIT must equal the interpreter on every
// Decision field. CI runs >= 100,000 pairs; TOLLGATE_DIFF_PAIRS=N runs a longer campaign and
// TOLLGATE_DIFF_SEED picks the starting seed.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>

#include "compiler/eval_support.h"
#include "compiler/rule_index.h"
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
  uint64_t indexed = 0;       // policies that got a rule index
  size_t max_leaf = 0;        // the largest leaf any of them had, less its unindexed rules
  std::string index_summary;  // RuleIndex::describe() of the last one
};

void run_campaign(uint64_t first_seed, uint64_t target_pairs, int requests_per_policy,
                  const RandomPolicyOptions& opts, Campaign* c) {
  // Alternate the JIT tiers: the auto choice (O2 for these sizes) and the fast tier (no IR
  // passes, fast-isel) that large policies get.
  // A third setting forces the rule index onto every policy, down to one-rule leaves, so small
  // policies exercise it too.
  JitOptions tiers[3];
  tiers[1].level = JitOptLevel::Fast;
  tiers[2].index.min_rules = 1;
  tiers[2].index.leaf_rules = 1;
  tiers[2].index.min_gain = 1.0;
  for (uint64_t seed = first_seed; c->pairs < target_pairs; ++seed) {
    std::string src = random_policy_source(seed, opts);
    DualPolicy p;
    const JitOptions& jo = tiers[seed % 3];
    DualStatus st = build_dual(src, &p, jo);
    if (st == DualStatus::Rejected) {
      ++c->rejected;
      INFO("seed " << seed << " rejected:\n" << p.diagnostics << "\n" << src);
      REQUIRE(c->rejected * 20 <= c->policies + 20);  // the generator must stay well-typed
      continue;
    }
    INFO("seed " << seed << " policy:\n" << src);
    REQUIRE(st == DualStatus::Ok);
    ++c->policies;
    {
      auto ctx = make_eval_context(*p.program, p.tables);
      auto ix = RuleIndex::build(*p.program, *ctx, p.program->eval_order, jo.index);
      if (ix) {
        ++c->indexed;
        // Rules the index cannot use are in every leaf; what the index adds to them is the cost.
        const RuleIndex::Stats& st = ix->stats();
        c->max_leaf = std::max(c->max_leaf, st.max_leaf - std::min(st.max_leaf, st.rules - st.indexed_rules));
        c->index_summary = ix->describe();
      }
    }
    std::mt19937_64 rng(seed * 7919 + 1);
    RandomRequest req;
    for (int i = 0; i < requests_per_policy; ++i) {
      req.generate(*p.program, rng);
      FakeBudgetReader fake(rng() % 4);
      RecordingReader interp_reader(fake), jit_reader(fake), indexed_reader(fake);
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
      Decision x;
      env.budgets = no_reader ? nullptr : &indexed_reader;
      p.indexed->decide(env, &x);
      if (std::string d = decision_diff(a, x); !d.empty()) diff += "indexed interpreter: " + d;
      if (interp_reader.log != indexed_reader.log)
        diff += "indexed spent() calls: " + indexed_reader.log + "\n";
      if (!diff.empty()) {
        FAIL_CHECK("JIT or index != interpreter, seed " << seed << " request " << i << "\n"
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

// Rule sets at realistic sizes (per-customer overrides, enum and threshold tests mixed with
// conditions the index cannot use): the index, interpreted and JIT-compiled, equals the chain.
TEST_CASE("the rule index equals the chain on 1,000-rule sets", "[differential][index]") {
  Campaign c;
  RandomPolicyOptions opts;
  opts.rules = 1000;
  opts.max_depth = 2;
  opts.indexed_percent = 85;
  opts.tenant_literals = 300;
  run_campaign(env_u64("TOLLGATE_DIFF_SEED", 1) + 3000000, 6000, 500, opts, &c);
  WARN("1,000-rule sets: " << c.pairs << " pairs over " << c.policies << " policies; "
                           << c.index_summary);
  CHECK(c.pairs >= 6000);
  CHECK(c.indexed == c.policies);  // every one of them got an index
  CHECK(c.max_leaf < 1000 / 2);
  CHECK(c.errors_seen > c.pairs / 50);
}

TEST_CASE("the rule index equals the chain on 10,000-rule sets", "[differential][index]") {
  Campaign c;
  RandomPolicyOptions opts;
  opts.rules = 10000;
  opts.max_depth = 1;
  opts.indexed_percent = 90;
  opts.tenant_literals = 2000;
  run_campaign(env_u64("TOLLGATE_DIFF_SEED", 1) + 4000000, 2000, 1000, opts, &c);
  WARN("10,000-rule sets: " << c.pairs << " pairs over " << c.policies << " policies; "
                            << c.index_summary);
  CHECK(c.pairs >= 2000);
  CHECK(c.indexed == c.policies);
  CHECK(c.max_leaf < 10000 / 4);
}
