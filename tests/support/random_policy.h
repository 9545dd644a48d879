// Random, well-typed policy SOURCES and random requests for differential testing (JIT vs
// interpreter) and fuzzing. Policies cover every construct: nested int/float/bool/string
// expressions, ints near overflow, division by inputs that can be zero, unset inputs, has(),
// and/or/not mixes, in lists, string ops and concat, enums, caps (standalone and route-attached),
// shadowing, tags, budgets, lets and on_error deny.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ast.h"
#include "tollgate/budget.hpp"
#include "tollgate/request.hpp"

namespace tollgate::testing {

struct RandomPolicyOptions {
  int rules = 14;     // rules besides the optional default
  int max_depth = 3;  // expression nesting
  // Budgets with a random key input (string, enum, bool, int, some without default, or none)
  // and a random limit (int/float literal incl. 0, int/float input, some without default),
  // besides the three fixed ones. More than EvalEnv::kSpentMemo budgets in all exercise the
  // budgets whose spent() is not memoised.
  int extra_budgets = 2;
  // Rule-set shape (the rule index): the share of rules, in percent, whose condition is built
  // of indexable tests (who == "c-17", kind in [...], n1 < 100, ...), some behind an effectful or
  // erroring conjunct, through a let, or in an `or`; `who` literals come from a pool this big.
  int indexed_percent = 0;
  int tenant_literals = 50;
};

// A policy source that parses and checks (with the fixed schema the generator uses).
std::string random_policy_source(uint64_t seed, const RandomPolicyOptions& options = {});

// A request over a checked Program's inputs: typed slots, some unset, strings from a pool that
// includes the policy's literals (str_id interned like Request does) and long strings that
// exhaust the concatenation scratch space.
class RandomRequest {
 public:
  void generate(const Program& program, std::mt19937_64& rng);
  const Slot* slots() const { return slots_.data(); }
  std::string describe(const Program& program) const;

 private:
  std::vector<Slot> slots_;
  std::vector<std::string> strings_;  // one per slot; storage for string values
};

// Budget spend that depends on (budget, key) only, so both evaluators see the same numbers.
class FakeBudgetReader : public BudgetReader {
 public:
  explicit FakeBudgetReader(uint64_t salt) : salt_(salt) {}
  double spent(const BudgetInfo& budget, std::string_view key, int64_t now_ms) const override;

 private:
  uint64_t salt_;
};

}  // namespace tollgate::testing
