// What a Policy handle shares: the checked Program, the tables the evaluators read, the
// metadata the public API exposes, and the chosen evaluator (JIT or interpreter).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "compiler/ast.h"
#include "compiler/eval_support.h"
#include "compiler/evaluator.h"
#include "runtime/src/schema.h"
#include "tollgate/budget.hpp"
#include "tollgate/policy.hpp"

namespace tollgate::detail {

struct PolicyImpl {
  // Declaration order matters: the evaluator and context point into the Program, so they are
  // declared after it (and destroyed before it).
  std::unique_ptr<Program> program;
  std::string name;
  std::string file;
  std::string version_hash;
  std::vector<InputInfo> inputs;
  std::vector<RouteInfo> routes;
  std::vector<RuleInfo> rules;
  std::vector<BudgetInfo> budgets;
  std::vector<int> budgets_read;
  PolicyTables tables;
  std::shared_ptr<const Schema> schema;
  std::unique_ptr<EvalContext> ctx;  // budget_limit / budget_key
  std::unique_ptr<Evaluator> evaluator;
  bool jitted = false;
  // The engine's ledger (shared so a Policy may outlive its Engine). Null: spent is 0.
  std::shared_ptr<const BudgetReader> ledger;
};

// Builds everything but the evaluator from a checked Program.
std::shared_ptr<PolicyImpl> build_policy_impl(std::unique_ptr<Program> program,
                                              std::string_view source, std::string_view file,
                                              const PriceLookup& prices);

// Hex FNV-1a 64 of the text.
std::string hash_hex(std::string_view text);

}  // namespace tollgate::detail
