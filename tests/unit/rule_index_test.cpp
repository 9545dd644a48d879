// The rule index as a component: which conjuncts it uses and which it must not (effects to their
// left, `or`, `!=` on strings), that lets are looked through, that unset inputs keep every rule,
// that a per-customer override set is dispatched to a handful of candidates, and that deciding
// through it allocates nothing. Equality with the chain at scale is differential_test's job.
#include <catch2/catch.hpp>
#include <string>

#include "compiler/checker.h"
#include "compiler/diagnostics.h"
#include "compiler/eval_support.h"
#include "compiler/evaluator.h"
#include "compiler/jit.h"
#include "compiler/parser.h"
#include "compiler/rule_index.h"
#include "tests/support/alloc_counter.h"
#include "tests/support/decision_diff.h"

using namespace tollgate;
using namespace tollgate::testing;

namespace {

const char* const kHeader = R"(policy p
input {
  tenant: string
  task: enum(qa, chat, code)
  tokens_in: int
  level: int = 3
}
routes {
  a = "m-a" in $1/M out $2/M
  b = "m-b" in $1/M out $2/M
}
)";

struct Built {
  std::unique_ptr<Program> program;
  PolicyTables tables;
  std::unique_ptr<EvalContext> ctx;
  std::unique_ptr<RuleIndex> index;
};

Built build(const std::string& rules, RuleIndexOptions opt = {}) {
  Built b;
  std::string src = std::string(kHeader) + rules;
  DiagnosticSink diags;
  b.program = parse_program(src, "t.pol", diags);
  REQUIRE(b.program);
  bool ok = !diags.has_errors() && check_program(*b.program, diags);
  INFO(render_all(diags.all(), src));
  REQUIRE(ok);
  b.tables = make_policy_tables(*b.program);
  b.ctx = make_eval_context(*b.program, b.tables);
  b.index = RuleIndex::build(*b.program, *b.ctx, b.program->eval_order, opt);
  return b;
}

RuleIndexOptions always() {
  RuleIndexOptions o;
  o.min_rules = 1;
  o.leaf_rules = 1;
  o.min_gain = 1.0;
  return o;
}

// `n` per-tenant overrides, then two general rules.
std::string overrides(int n) {
  std::string s;
  for (int k = 0; k < n; ++k)
    s += "if tenant == \"cust-" + std::to_string(k) + "\" and task == qa  route b max_out " +
         std::to_string(100 + k) + "\n";
  return s + "if task == chat  route a\ndefault route a\n";
}

struct Slots {
  Slot s[4];
  Slots() {
    for (Slot& x : s) {
      x.i = 0;
      x.str = "";
      x.len = 0;
      x.str_id = -1;
      x.set = 0;
    }
  }
  void tenant(const Program& p, const std::string& t) {
    static std::string keep;
    keep = t;
    s[0].str = keep.c_str();
    s[0].len = static_cast<uint32_t>(keep.size());
    s[0].str_id = -1;
    for (size_t k = 0; k < p.string_literals.size(); ++k)
      if (p.string_literals[k] == t) s[0].str_id = static_cast<int32_t>(k);
    s[0].set = 1;
  }
  void set_int(int slot, int64_t v) {
    s[slot].i = v;
    s[slot].set = 1;
  }
};

size_t candidates(const RuleIndex& ix, const Slot* slots) {
  RuleIndex::Candidates c[RuleIndex::kMaxLeaves];
  int k = ix.lookup(slots, c);
  size_t n = 0;
  for (int j = 0; j < k; ++j) n += c[j].n;
  return n;
}

Decision decide(const Evaluator& ev, const Built& b, const Slot* slots) {
  EvalEnv env;
  env.slots = slots;
  env.budget_infos = &b.tables.budgets;
  env.now_ms = 1700000000000;
  Decision d;
  ev.decide(env, &d);
  return d;
}

}  // namespace

TEST_CASE("small policies keep the chain; large ones get an index", "[index]") {
  CHECK_FALSE(build(overrides(10)).index);  // below min_rules
  Built big = build(overrides(1000));
  REQUIRE(big.index);
  const RuleIndex::Stats& st = big.index->stats();
  CHECK(st.rules == 1002);
  CHECK(st.indexed_rules == 1001);  // every override and `task == chat`; not the default
  CHECK(st.max_leaf <= 8);
  CHECK_FALSE(build(overrides(1000), RuleIndexOptions::chain()).index);
}

TEST_CASE("an override set dispatches to the tenant's rules only", "[index]") {
  Built b = build(overrides(1000));
  REQUIRE(b.index);
  auto chain = make_interpreter(*b.program, b.tables, RuleIndexOptions::chain());
  auto indexed = make_interpreter(*b.program, b.tables);
  std::string error;
  auto jit = make_jit_evaluator(default_jit_host(), *b.program, b.tables, JitOptions{}, &error);
  REQUIRE(jit);
  Slots s;
  s.s[1].i = 0;  // task = qa
  s.s[1].set = 1;
  s.set_int(2, 500);
  for (const char* t : {"cust-17", "cust-999", "cust-1000", "t-0042", ""}) {
    s.tenant(*b.program, t);
    INFO("tenant " << t);
    CHECK(candidates(*b.index, s.s) <= 4);
    Decision want = decide(*chain, b, s.s);
    CHECK(decision_diff(want, decide(*indexed, b, s.s)).empty());
    CHECK(decision_diff(want, decide(*jit, b, s.s)).empty());
  }
  s.tenant(*b.program, "cust-17");
  Decision d = decide(*indexed, b, s.s);
  CHECK(d.route == 1);
  CHECK(d.max_out == 117);
  // Unset tenant (no default): every override is a candidate, and each one's condition is an
  // error (`and task == qa` is true, so nothing absorbs it): the chain's errors, exactly.
  s.s[0].set = 0;
  CHECK(candidates(*b.index, s.s) >= 1000);
  Decision want = decide(*chain, b, s.s);
  CHECK(want.errors == 1000);
  CHECK(decision_diff(want, decide(*indexed, b, s.s)).empty());
  CHECK(decision_diff(want, decide(*jit, b, s.s)).empty());
}

TEST_CASE("conjuncts after an effect, in an `or` or not comparing with constants are not used",
          "[index]") {
  auto indexed_rules = [](const std::string& rule) {
    Built b = build(rule + "default route a\n", always());
    return b.index ? b.index->stats().indexed_rules : 0;
  };
  CHECK(indexed_rules("if tenant == \"x\" route b\n") == 1);
  CHECK(indexed_rules("if \"x\" == tenant route b\n") == 1);
  CHECK(indexed_rules("if tenant in [\"x\", \"y\"] route b\n") == 1);
  CHECK(indexed_rules("if 100 > tokens_in route b\n") == 1);
  CHECK(indexed_rules("if task not in [qa] route b\n") == 1);
  CHECK(indexed_rules("if task != qa and level >= 2 route b\n") == 1);
  // A string `+` uses the decision's scratch: what follows it is not looked at.
  CHECK(indexed_rules("if (tenant + \"-x\") != \"q\" and tenant == \"x\" route b\n") == 0);
  // ... but a test before it still is.
  CHECK(indexed_rules("if tenant == \"x\" and (tenant + \"-x\") != \"q\" route b\n") == 1);
  CHECK(indexed_rules("if tenant == \"x\" or task == qa route b\n") == 0);
  CHECK(indexed_rules("if tenant != \"x\" route b\n") == 0);
  CHECK(indexed_rules("if tokens_in < level route b\n") == 0);
  CHECK(indexed_rules("let sel = task == qa and tenant == \"x\"\nif sel route b\n") == 1);
}

TEST_CASE("int thresholds split the range; values outside every range reach few rules",
          "[index]") {
  std::string rules;
  for (int k = 0; k < 200; ++k)
    rules += "if tokens_in >= " + std::to_string(k * 100) + " and tokens_in < " +
             std::to_string(k * 100 + 100) + " route b max_out " + std::to_string(k + 1) + "\n";
  Built b = build(rules + "default route a\n");
  REQUIRE(b.index);
  auto chain = make_interpreter(*b.program, b.tables, RuleIndexOptions::chain());
  auto indexed = make_interpreter(*b.program, b.tables);
  Slots s;
  for (int64_t v : {-5, 0, 99, 100, 12345, 19999, 20000, 1000000}) {
    s.set_int(2, v);
    INFO("tokens_in " << v);
    CHECK(candidates(*b.index, s.s) <= 16);
    CHECK(decision_diff(decide(*chain, b, s.s), decide(*indexed, b, s.s)).empty());
  }
  s.set_int(2, 12345);
  CHECK(decide(*indexed, b, s.s).max_out == 124);
}

TEST_CASE("deciding through the index allocates nothing", "[index]") {
  Built b = build(overrides(2000));
  REQUIRE(b.index);
  auto indexed = make_interpreter(*b.program, b.tables);
  std::string error;
  auto jit = make_jit_evaluator(default_jit_host(), *b.program, b.tables, JitOptions{}, &error);
  REQUIRE(jit);
  Slots s;
  s.tenant(*b.program, "cust-5");
  s.s[1].set = 1;
  s.set_int(2, 10);
  EvalEnv env;
  env.slots = s.s;
  env.budget_infos = &b.tables.budgets;
  env.now_ms = 1700000000000;
  Decision d;
  const uint64_t before = heap_allocations();
  for (int i = 0; i < 1000; ++i) {
    indexed->decide(env, &d);
    jit->decide(env, &d);
  }
  CHECK(heap_allocations() == before);
  CHECK(d.max_out == 105);
}
