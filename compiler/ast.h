// The policy AST: what the parser builds, the checker annotates, and the interpreter, the
// formatter and the LLVM code generator read. Plain data on purpose: no ANTLR and no LLVM
// types cross this header, so each of those heavy dependencies stays in its own translation unit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tollgate/budget.hpp"      // BudgetUnit, BudgetWindow, FailMode
#include "tollgate/decision.hpp"    // CacheMode
#include "tollgate/diagnostic.hpp"  // SourceLoc

namespace tollgate {

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

enum class TypeKind : uint8_t {
  Error,  // a sub-expression that failed to check; suppresses cascading diagnostics
  Bool,
  Int,    // 64-bit; durations are ints in milliseconds
  Float,  // double; money (USD), percentages and budget views are floats
  String,
  Enum,   // enum_id indexes Program::enums
  List,   // only as the right operand of `in`; element type in Type::elem
  Route,  // a route name, only as the first argument of cost()
};

struct Type {
  TypeKind kind = TypeKind::Error;
  int32_t enum_id = -1;             // for Enum, and for List of Enum
  TypeKind elem = TypeKind::Error;  // for List
  bool operator==(const Type& o) const {
    return kind == o.kind && enum_id == o.enum_id && elem == o.elem;
  }
  bool operator!=(const Type& o) const { return !(*this == o); }
};

struct EnumDef {
  std::string name;                  // the input that declared it
  std::vector<std::string> members;  // member index = position
};

// ---------------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------------

enum class ExprKind : uint8_t {
  BoolLit,    // true / false
  IntLit,     // 8k, 1_000, 200ms (ms), 2min -> int_value
  FloatLit,   // 0.5, 80%, $0.05, 5000 usd -> float_value
  StringLit,  // "text" with escapes decoded into str_value; index = id in Program::string_literals
  Name,       // bare identifier; resolved by the checker (see NameRef)
  Member,     // budget view: name.view  (view in `member`)
  Unary,
  Binary,
  In,    // lhs in [items] / lhs not in [items]   (negated = true for `not in`)
  Call,  // min max clamp pow abs has cost
};

enum class UnaryOp : uint8_t { Not, Neg };

enum class BinaryOp : uint8_t {
  Or,
  And,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  Add,
  Sub,
  Mul,
  Div,
  Mod,
  StartsWith,
  EndsWith,
  Contains,
};

enum class Builtin : uint8_t { Min, Max, Clamp, Pow, Abs, Has, Cost };

enum class BudgetView : uint8_t { Spent, Limit, Remaining, Ratio };

// What a Name resolves to, filled in by the checker.
enum class NameRef : uint8_t {
  Unresolved,
  Input,       // index = input index (= request slot)
  Let,         // index = let index
  Budget,      // index = budget index (only as Member base)
  Route,       // index = route index (only as cost()'s first argument)
  EnumMember,  // enum_id in type, index = member index
};

struct Expr {
  ExprKind kind = ExprKind::BoolLit;
  SourceLoc loc;
  std::string text;  // literal spelling as written (for fmt), or the identifier for Name/Member

  // Literal payloads.
  bool bool_value = false;
  int64_t int_value = 0;
  double float_value = 0;
  std::string str_value;

  // Operators.
  UnaryOp unary_op = UnaryOp::Not;
  BinaryOp binary_op = BinaryOp::Or;
  Builtin builtin = Builtin::Min;
  BudgetView member = BudgetView::Spent;    // for Member
  bool negated = false;                     // for In: `not in`
  bool symbolic = false;                    // spelled && || ! instead of and or not (kept by fmt)
  std::vector<std::unique_ptr<Expr>> args;  // Unary: 1, Binary: 2, In: lhs + items, Call: args,
                                            // Member: none (base is `text`)

  // Checker annotations.
  Type type;
  NameRef ref = NameRef::Unresolved;
  int32_t index = -1;
};

using ExprPtr = std::unique_ptr<Expr>;

// ---------------------------------------------------------------------------------------------
// Declarations
// ---------------------------------------------------------------------------------------------

enum class OnError : uint8_t { Skip, Deny };

struct PolicyHeader {
  std::string name;
  OnError on_error = OnError::Skip;
  bool on_error_written = false;  // fmt keeps an explicit `on_error skip`
  SourceLoc loc;
};

struct InputDecl {
  std::string name;
  Type type;              // Enum inputs get a fresh enum_id
  ExprPtr default_value;  // literal (or bare enum member), may be null
  SourceLoc loc;
};

struct RouteDecl {
  std::string name;
  std::string model;  // model id looked up in the price table
  bool self_hosted = false;
  bool batch = false;
  bool has_inline_price = false;
  double in_per_million = 0;      // USD per 1M input tokens when has_inline_price
  double out_per_million = 0;     // USD per 1M output tokens when has_inline_price
  std::string in_text, out_text;  // spelling of the inline prices, e.g. "$1.25/M"
  SourceLoc loc;
};

struct BudgetDecl {
  std::string name;
  ExprPtr limit;  // numeric literal or an input name
  BudgetUnit unit = BudgetUnit::Usd;
  std::string
      key_input;  // "per tenant": the input that keys the counter; empty = one global counter
  int32_t key_index = -1;  // resolved input index of key_input
  SourceLoc key_loc;
  BudgetWindow window = BudgetWindow::Month;
  FailMode fail = FailMode::Closed;
  bool fail_written = false;
  SourceLoc loc;
};

struct LetDecl {
  std::string name;
  ExprPtr value;
  SourceLoc loc;
};

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

enum class ActionKind : uint8_t {
  Route,   // route NAME            -> route_index
  Deny,    // deny "reason"         -> reason
  MaxOut,  // max_out EXPR (int)
  MaxIn,   // max_in EXPR (int)
  Retry,   // retry [backoff EXPR]  (arg may be null: backoff 0)
  Rag,     // rag [top_k EXPR]      (arg may be null: top_k 0)
  RagOff,  // rag off
  Cache,   // cache prompt|response|off
  Tag,     // tag EXPR (string; enums convert to their member name)
};

struct Action {
  ActionKind kind = ActionKind::Route;
  SourceLoc loc;
  std::string route;         // for Route
  int32_t route_index = -1;  // resolved by the checker
  std::string reason;        // for Deny (decoded)
  std::string reason_text;   // for Deny, as written (for fmt)
  CacheMode cache = CacheMode::Off;
  ExprPtr arg;  // MaxOut, MaxIn, Retry (backoff), Rag (top_k), Tag
};

struct Rule {
  ExprPtr condition;  // null for `default`
  bool is_default = false;
  std::vector<Action> actions;
  SourceLoc loc;
  int32_t index = -1;  // position in Program::rules (file order)
};

// ---------------------------------------------------------------------------------------------
// Tests (in NAME_test.pol files)
// ---------------------------------------------------------------------------------------------

struct TestGiven {
  std::string name;                     // input name, or budget name when view is set
  bool is_budget = false;               // `given monthly.spent = 4000`
  BudgetView view = BudgetView::Spent;  // only Spent is settable
  ExprPtr value;                        // literal or bare enum member
  SourceLoc loc;
};

enum class ExpectField : uint8_t {
  Route,   // expect route NAME
  Deny,    // expect deny  /  expect deny "reason"
  MaxOut,  // expect max_out N   (N may be `none`)
  MaxIn,
  Retry,    // expect retry true|false
  Backoff,  // expect backoff 400ms
  Rag,      // expect rag true|false
  TopK,
  Cache,  // expect cache prompt|response|off
  Tag,    // expect tag "tier:pro"  (the decision carries this tag)
};

struct TestExpect {
  ExpectField field = ExpectField::Route;
  ExprPtr value;      // literal / name; null for `deny` without reason, or `none`
  bool none = false;  // `max_out none`: no cap
  SourceLoc loc;
};

struct TestCase {
  std::string name;
  std::vector<TestGiven> givens;
  std::vector<TestExpect> expects;
  SourceLoc loc;
};

// ---------------------------------------------------------------------------------------------
// The whole file
// ---------------------------------------------------------------------------------------------

struct Comment {
  SourceLoc loc;
  std::string text;       // including the leading '#'
  bool trailing = false;  // code precedes it on the same line
};

enum class ItemKind : uint8_t { Header, Inputs, Routes, Budget, Let, Rule, Test };

// Source order of top-level items, so fmt reproduces the author's order.
struct Item {
  ItemKind kind;
  int32_t index;  // into the matching vector (unused for Header/Inputs/Routes)
  SourceLoc loc;
};

struct Program {
  std::string file;    // path as given, used in diagnostics
  std::string source;  // whole text, for carets
  bool has_header = false;
  PolicyHeader header;
  SourceLoc inputs_loc, routes_loc;
  bool has_inputs = false, has_routes = false;
  std::vector<InputDecl> inputs;
  std::vector<RouteDecl> routes;
  std::vector<BudgetDecl> budgets;
  std::vector<LetDecl> lets;
  std::vector<Rule> rules;  // in file order as parsed
  std::vector<int32_t>
      eval_order;  // set by the checker: non-default rules in file order, then default
  std::vector<TestCase> tests;
  std::vector<EnumDef> enums;
  // Distinct string literals (checker-assigned ids): a Request interns string inputs against them
  // so `tenant == "acme"` compares integers.
  std::vector<std::string> string_literals;
  std::vector<Comment> comments;
  std::vector<Item> items;
};

}  // namespace tollgate
