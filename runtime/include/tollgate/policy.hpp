// A compiled policy: immutable, cheap to copy (a shared handle), safe to use from many threads.
// decide() is the hot path: it runs the JIT-compiled function (or the reference interpreter)
// over a Request and fills a Decision without allocating.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tollgate/budget.hpp"
#include "tollgate/decision.hpp"
#include "tollgate/request.hpp"

namespace tollgate {

struct Program;  // the checked AST (compiler/ast.h), for tools that need it

namespace detail {
struct PolicyImpl;
}

enum class InputType : uint8_t { Bool, Int, Float, String, Enum };

inline const char* to_string(InputType t) {
  switch (t) {
    case InputType::Bool:
      return "bool";
    case InputType::Int:
      return "int";
    case InputType::Float:
      return "float";
    case InputType::String:
      return "string";
    case InputType::Enum:
      return "enum";
  }
  return "int";
}

struct InputInfo {
  std::string name;
  InputType type = InputType::Int;
  std::vector<std::string> members;  // enum members, in declaration order
  bool has_default = false;
};

struct RouteInfo {
  std::string name;
  std::string model;
  bool self_hosted = false;
  bool batch = false;
  bool priced = false;              // a price is known (inline or from the engine's price table)
  double in_per_token = 0;          // USD per input token
  double out_per_token = 0;         // USD per output token
  double cache_read_per_token = 0;  // USD per cached input token (= in_per_token when unknown)
};

struct RuleInfo {
  uint32_t line = 0;
  uint32_t col = 0;
  bool is_default = false;
  std::string text;  // the rule's source text, one line, for explain and reports
};

class Policy {
 public:
  const std::string& name() const;
  const std::string& file() const;
  // Stable hash of the source text (hex), for audit records and reload bookkeeping.
  const std::string& version_hash() const;

  // Slot of an input by name, -1 when the policy has no such input.
  int slot(std::string_view input) const;

  // Decide with the engine's ledger as the budget source. Never allocates, never throws.
  void decide(const Request& req, Decision* out) const;
  // Decide reading budgets from `budgets` (a simulated ledger in dry-runs, a test's fixed spend).
  void decide(const Request& req, const BudgetReader& budgets, Decision* out) const;
  Decision decide(const Request& req) const {
    Decision d;
    decide(req, &d);
    return d;
  }

  // True when decisions run through JIT-compiled native code. A policy starts on the interpreter
  // and moves to the JIT tier when it is ready (EngineOptions: wait_for_jit, jit_hot_decisions).
  bool jitted() const;
  // Blocks until the JIT tier serves or has failed (asking for it first if the policy is not hot
  // yet); returns jitted(). Returns false at once for an interpreter-only Engine.
  bool wait_for_jit() const;
  // Why the JIT tier failed ("" when it did not).
  std::string jit_error() const;

  const std::vector<InputInfo>& inputs() const;
  const std::vector<RouteInfo>& routes() const;
  const std::vector<RuleInfo>& rules() const;
  const std::vector<BudgetInfo>& budgets() const;
  // Budgets whose views any rule reads (admit() reserves against these).
  const std::vector<int>& budgets_read() const;
  // Limit of budget b for this request (from a literal or an input); false when it cannot be read.
  bool budget_limit(int b, const Request& req, double* out) const;
  // The key ("per tenant" value) of budget b for this request; "" for a global budget.
  std::string budget_key(int b, const Request& req) const;
  // The same without allocating: a view of the request's string bytes, of the policy's enum
  // names, or of `buf` (numbers); valid while those are. "" when it cannot be read.
  std::string_view budget_key(int b, const Request& req, char (&buf)[32]) const;

  const Program& program() const;

  // Internal: built by Engine.
  explicit Policy(std::shared_ptr<const detail::PolicyImpl> impl) : impl_(std::move(impl)) {}
  const detail::PolicyImpl& impl() const { return *impl_; }

 private:
  std::shared_ptr<const detail::PolicyImpl> impl_;
};

}  // namespace tollgate
