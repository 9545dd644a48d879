// Decision-time helpers shared by the reference interpreter and JIT-compiled code, so both give
// bit-identical results for the parts that are easy to get subtly different (budget keys, string
// ops, scratch-space accounting, cost(), pow, the end-of-decision fixups). The C-linkage functions
// take plain pointers/lengths/int64/double and return int32 status codes (0 = ok, 1 = evaluation
// error), so generated code can call them directly; C++ types appear only as opaque pointers.
//
// Evaluation rules the JIT must mirror (the interpreter in compiler/interpreter.cpp is the
// reference):
//  * Strict operators evaluate every operand left to right, then yield an error if any operand
//    erred. `in` evaluates the lhs, then every list item, in order (no early exit).
//  * Calls evaluate all arguments left to right. min/max fold left with `x < acc` / `x > acc`;
//    clamp(x, lo, hi) = x < lo ? lo : (x > hi ? hi : x); all in int when every arg is int, else
//    in double.
//  * A `let` is evaluated at each use (no memoisation); its scratch use repeats accordingly.
//  * Every string `+` consumes alen + blen bytes of the per-decision scratch and fails exactly
//    when tg_concat would, including literal + literal (no constant folding), because scratch
//    exhaustion is observable as an evaluation error. The JIT charges the scratch inline; when
//    every operand is a literal or an enum (`"tier:" + tier`, nested) it copies nothing and
//    yields a precomputed module constant instead (nothing needs results to live in the
//    scratch: tags are copied into the Decision).
//  * Reading an input: slot.set ? slot value : (has default ? default : error); see tg_read_input.
//    A float that is NaN (read from a slot, or produced by + - * / % pow cost) is an error.
//  * A budget limit that is NaN, infinite or negative is an error (tg_limit_invalid), and so is
//    a NaN spent from the reader (every view, after the limit was read).
//  * A budget view: spent from the per-decision memo (EvalEnv::spent_known) if present, else the
//    key (an error here skips spent()), then BudgetReader::spent via tg_budget_spent (which fills
//    the memo); then the limit (an error here comes AFTER spent() was called); then the view.
//    The sequence of spent() calls is observable and identical in both evaluators: the
//    interpreter calls tg_budget_view, the JIT inlines all of it but tg_budget_spent (and the
//    number formatting of int/float keys, tg_budget_key_int/float).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compiler/ast.h"
#include "compiler/evaluator.h"
#include "tollgate/decision.hpp"
#include "tollgate/request.hpp"

namespace tollgate {

// Bytes of string concatenation available per decision.
constexpr uint32_t kScratchBytes = 1024;

// Per-decision concat space; lives on the stack of decide().
struct EvalScratch {
  uint32_t used = 0;
  char buf[kScratchBytes];
};

// Everything precomputed per policy that decisions read besides the AST.
struct EvalContext {
  const Program* program = nullptr;
  PolicyTables tables;
  bool on_error_deny = false;

  // Per input (= slot): whether it has a default, and the default as Request::reset stores it
  // (str points into `default_strings`).
  std::vector<uint8_t> has_default;
  std::vector<Slot> defaults;
  std::vector<std::string> default_strings;

  // Per budget: where its key and limit come from.
  struct Budget {
    int32_t key_slot = -1;  // -1: one global counter (key "")
    TypeKind key_type = TypeKind::Error;
    int32_t key_enum = -1;
    int32_t limit_slot = -1;  // -1: literal limit_value
    TypeKind limit_type = TypeKind::Float;
    double limit_value = 0;
  };
  std::vector<Budget> budgets;
};

// Builds the context; `program` must be checked and must outlive the context.
std::unique_ptr<EvalContext> make_eval_context(const Program& program, const PolicyTables& tables);

}  // namespace tollgate

extern "C" {

// Effective value of input `input`: the slot when set, else its default; returns 1 (error) when
// unset without default. `*out` gets a copy of the slot (for strings: str/len/str_id).
int32_t tg_read_input(const tollgate::EvalContext* ctx, const tollgate::Slot* slots, int32_t input,
                      tollgate::Slot* out);

// Budget key text: string input bytes; enum member name; int decimal; bool "true"/"false"; ""
// for a global budget. `buf` must have >= 32 bytes (used for numbers). Error when the key input
// is unset without default.
int32_t tg_budget_key(const tollgate::EvalContext* ctx, const tollgate::Slot* slots, int32_t budget,
                      char* buf, const char** key, uint32_t* len);
// The text of an int (float) budget key, "%lld" ("%.17g"), into `buf` (>= 32 bytes); returns
// its length. tg_budget_key and JIT code both format number keys with these.
uint32_t tg_budget_key_int(int64_t v, char* buf);
uint32_t tg_budget_key_float(double v, char* buf);
// spent = env->budgets->spent(info, key, now) (0 without a reader; info from env->budget_infos
// when present, else ctx->tables.budgets), stored in env's spent memo when budget < kSpentMemo.
// Callers check the memo first (tg_budget_view; JIT code inline) and call this only on a miss.
double tg_budget_spent(const tollgate::EvalContext* ctx, const tollgate::EvalEnv* env,
                       int32_t budget, const char* key, uint32_t len);
// Budget limit: the literal, or the limit input's value (int converted to double). A limit
// that is NaN, infinite or negative is an error (1), like an unset one: a budget is never
// disabled silently by a bad limit.
int32_t tg_budget_limit(const tollgate::EvalContext* ctx, const tollgate::Slot* slots,
                        int32_t budget, double* out);
// 1 when `limit` cannot be a budget limit (NaN, +-inf, negative). Inline for the JIT's mirror.
inline int32_t tg_limit_invalid(double limit) {
  return limit >= 0 && limit < __builtin_inf() ? 0 : 1;
}
// Budget view (view = tollgate::BudgetView as int): spent = reader->spent(info, key, now) or 0
// without a reader; limit; remaining = limit - spent; ratio = spent / limit (error if limit == 0).
// Every view resolves spent (the memo, else the key and tg_budget_spent) and then the limit;
// either failing is an error, whichever view was asked for.
int32_t tg_budget_view(const tollgate::EvalContext* ctx, const tollgate::EvalEnv* env,
                       int32_t budget, int32_t view, double* out);

// cost(route, in, out) = in * in_per_token + out * out_per_token; error when the route is unpriced.
int32_t tg_cost(const tollgate::EvalContext* ctx, int32_t route, double in_tokens,
                double out_tokens, double* out);

// pow for ints: error on a negative exponent or overflow; pow(x, 0) = 1.
int32_t tg_pow_int(int64_t base, int64_t exp, int64_t* out);
// pow otherwise (std::pow).
double tg_pow_float(double base, double exp);

// String predicates: 1 true, 0 false.
int32_t tg_str_eq(const char* a, uint32_t alen, const char* b, uint32_t blen);
int32_t tg_str_startswith(const char* s, uint32_t slen, const char* prefix, uint32_t plen);
int32_t tg_str_endswith(const char* s, uint32_t slen, const char* suffix, uint32_t sufflen);
int32_t tg_str_contains(const char* s, uint32_t slen, const char* needle, uint32_t nlen);

// a + b into fresh scratch space (always alen + blen bytes, even if a is the scratch tail).
// Error when it does not fit in what is left of the 1024 bytes.
int32_t tg_concat(tollgate::EvalScratch* scratch, const char* a, uint32_t alen, const char* b,
                  uint32_t blen, const char** out, uint32_t* outlen);

// Name of member `member` of enum `enum_id` (points into the Program).
void tg_enum_name(const tollgate::EvalContext* ctx, int32_t enum_id, int64_t member,
                  const char** out, uint32_t* len);

// Decision updates.
void tg_note_error(tollgate::Decision* d, int32_t rule);  // errors++, first_error_rule if unset
void tg_add_tag(tollgate::Decision* d, const char* s, uint32_t len);
// cap = min(cap, value) for field MaxOut (1) / MaxIn (2); rule recorded only when strictly smaller.
void tg_apply_cap(tollgate::Decision* d, int32_t field, int64_t value, int32_t rule);
// After all rules: "no route" deny, then `on_error deny`.
void tg_finish(const tollgate::EvalContext* ctx, tollgate::Decision* d);

}  // extern "C"
