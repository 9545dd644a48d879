// Decision-time helpers shared by the interpreter and the JIT (see eval_support.h for the rules).
#include "compiler/eval_support.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

namespace tollgate {

namespace {

// Literal default of an input as a Slot (defaults are literals or bare enum members; a leading
// unary minus is folded).
bool literal_slot(const Expr& e, Slot* s, std::string* str) {
  switch (e.kind) {
    case ExprKind::BoolLit:
      s->i = e.bool_value ? 1 : 0;
      return true;
    case ExprKind::IntLit:
      s->i = e.int_value;
      return true;
    case ExprKind::FloatLit:
      s->f = e.float_value;
      return true;
    case ExprKind::StringLit:
      *str = e.str_value;
      s->str_id = e.index;
      return true;
    case ExprKind::Name:
      if (e.ref == NameRef::EnumMember) {
        s->i = e.index;
        return true;
      }
      return false;
    case ExprKind::Unary:
      if (e.unary_op == UnaryOp::Neg && e.args.size() == 1 && literal_slot(*e.args[0], s, str)) {
        if (e.args[0]->kind == ExprKind::IntLit) {
          if (s->i == std::numeric_limits<int64_t>::min()) return false;
          s->i = -s->i;
        } else if (e.args[0]->kind == ExprKind::FloatLit) {
          s->f = -s->f;
        } else {
          return false;
        }
        return true;
      }
      return false;
    default:
      return false;
  }
}

bool is_int_literal(const Expr& e) {
  if (e.kind == ExprKind::IntLit) return true;
  return e.kind == ExprKind::Unary && e.unary_op == UnaryOp::Neg && e.args.size() == 1 &&
         e.args[0]->kind == ExprKind::IntLit;
}

// tg_budget_spent's body, inlined into tg_budget_view too (the interpreter's path).
inline double budget_spent(const EvalContext* ctx, const EvalEnv* env, int32_t budget,
                           const char* key, uint32_t len) {
  double spent = 0;
  if (env->budgets) {
    const BudgetInfo& info =
        env->budget_infos && static_cast<size_t>(budget) < env->budget_infos->size()
            ? (*env->budget_infos)[budget]
            : ctx->tables.budgets[budget];
    spent = env->budgets->spent(info, std::string_view(key, len), env->now_ms);
  }
  if (budget < EvalEnv::kSpentMemo) {
    env->spent_memo[budget] = spent;
    env->spent_known |= 1u << budget;
  }
  return spent;
}

}  // namespace

std::unique_ptr<EvalContext> make_eval_context(const Program& program, const PolicyTables& tables) {
  auto ctx = std::make_unique<EvalContext>();
  ctx->program = &program;
  ctx->tables = tables;
  ctx->on_error_deny = program.has_header && program.header.on_error == OnError::Deny;
  if (ctx->tables.routes.size() < program.routes.size()) {
    ctx->tables.routes.resize(program.routes.size());
  }
  if (ctx->tables.error_reasons.size() < program.rules.size()) {
    PolicyTables fresh = make_policy_tables(program);
    ctx->tables.error_reasons = fresh.error_reasons;
    if (ctx->tables.budgets.size() < program.budgets.size()) ctx->tables.budgets = fresh.budgets;
  }
  if (ctx->tables.budgets.size() < program.budgets.size()) {
    ctx->tables.budgets = make_policy_tables(program).budgets;
  }

  size_t n = program.inputs.size();
  ctx->has_default.assign(n, 0);
  ctx->defaults.assign(n, Slot{});
  ctx->default_strings.assign(n, std::string());
  for (size_t i = 0; i < n; ++i) {
    Slot& s = ctx->defaults[i];
    s.i = 0;
    s.str = "";
    s.len = 0;
    s.str_id = -1;
    s.set = 0;
    const InputDecl& in = program.inputs[i];
    if (in.default_value && literal_slot(*in.default_value, &s, &ctx->default_strings[i])) {
      // `x: float = 100`: an int literal default of a float input.
      if (in.type.kind == TypeKind::Float && is_int_literal(*in.default_value)) {
        s.f = static_cast<double>(s.i);
      }
      ctx->has_default[i] = 1;
    }
  }
  // Strings are filled after the vector is final so the pointers stay valid.
  for (size_t i = 0; i < n; ++i) {
    if (program.inputs[i].type.kind == TypeKind::String) {
      ctx->defaults[i].str = ctx->default_strings[i].c_str();
      ctx->defaults[i].len = static_cast<uint32_t>(ctx->default_strings[i].size());
    }
  }

  for (const BudgetDecl& b : program.budgets) {
    EvalContext::Budget d;
    d.key_slot = b.key_index;
    if (d.key_slot < 0 && !b.key_input.empty()) {
      for (size_t i = 0; i < n; ++i)
        if (program.inputs[i].name == b.key_input) d.key_slot = static_cast<int32_t>(i);
    }
    if (d.key_slot >= 0 && static_cast<size_t>(d.key_slot) < n) {
      d.key_type = program.inputs[d.key_slot].type.kind;
      d.key_enum = program.inputs[d.key_slot].type.enum_id;
    }
    if (b.limit) {
      const Expr& e = *b.limit;
      if (e.kind == ExprKind::Name && e.ref == NameRef::Input && e.index >= 0) {
        d.limit_slot = e.index;
        d.limit_type = program.inputs[e.index].type.kind;
      } else {
        Slot s{};
        std::string unused;
        if (literal_slot(e, &s, &unused)) {
          d.limit_value = is_int_literal(e) ? static_cast<double>(s.i) : s.f;
        }
      }
    }
    ctx->budgets.push_back(d);
  }
  return ctx;
}

}  // namespace tollgate

using tollgate::Decision;
using tollgate::EvalContext;
using tollgate::Slot;
using tollgate::TypeKind;

extern "C" {

int32_t tg_read_input(const EvalContext* ctx, const Slot* slots, int32_t input, Slot* out) {
  if (input < 0 || static_cast<size_t>(input) >= ctx->defaults.size()) return 1;
  if (slots && slots[input].set) {
    *out = slots[input];
    return 0;
  }
  if (!ctx->has_default[input]) return 1;
  *out = ctx->defaults[input];
  return 0;
}

int32_t tg_budget_key(const EvalContext* ctx, const Slot* slots, int32_t budget, char* buf,
                      const char** key, uint32_t* len) {
  const EvalContext::Budget& b = ctx->budgets[budget];
  if (b.key_slot < 0) {
    *key = "";
    *len = 0;
    return 0;
  }
  Slot v;
  if (tg_read_input(ctx, slots, b.key_slot, &v)) return 1;
  switch (b.key_type) {
    case TypeKind::String:
      *key = v.str;
      *len = v.len;
      return 0;
    case TypeKind::Enum:
      tg_enum_name(ctx, b.key_enum, v.i, key, len);
      return 0;
    case TypeKind::Bool:
      *key = v.i ? "true" : "false";
      *len = v.i ? 4 : 5;
      return 0;
    case TypeKind::Int:
      *key = buf;
      *len = tg_budget_key_int(v.i, buf);
      return 0;
    case TypeKind::Float:
      *key = buf;
      *len = tg_budget_key_float(v.f, buf);
      return 0;
    default:
      return 1;
  }
}

int32_t tg_budget_limit(const EvalContext* ctx, const Slot* slots, int32_t budget, double* out) {
  const EvalContext::Budget& b = ctx->budgets[budget];
  if (b.limit_slot < 0) {
    *out = b.limit_value;
    return tg_limit_invalid(*out);
  }
  Slot v;
  if (tg_read_input(ctx, slots, b.limit_slot, &v)) return 1;
  *out = b.limit_type == TypeKind::Float ? v.f : static_cast<double>(v.i);
  return tg_limit_invalid(*out);
}

uint32_t tg_budget_key_int(int64_t v, char* buf) {
  return static_cast<uint32_t>(std::snprintf(buf, 32, "%lld", static_cast<long long>(v)));
}

uint32_t tg_budget_key_float(double v, char* buf) {
  return static_cast<uint32_t>(std::snprintf(buf, 32, "%.17g", v));
}

double tg_budget_spent(const EvalContext* ctx, const tollgate::EvalEnv* env, int32_t budget,
                       const char* key, uint32_t len) {
  return tollgate::budget_spent(ctx, env, budget, key, len);
}

int32_t tg_budget_view(const EvalContext* ctx, const tollgate::EvalEnv* env, int32_t budget,
                       int32_t view, double* out) {
  if (budget < 0 || static_cast<size_t>(budget) >= ctx->budgets.size()) return 1;
  double spent = 0;
  const uint32_t bit = budget < tollgate::EvalEnv::kSpentMemo ? 1u << budget : 0;
  if (env->spent_known & bit) {
    spent = env->spent_memo[budget];  // the key was read (without error) by an earlier view
  } else {
    char buf[32];
    const char* key;
    uint32_t len;
    const EvalContext::Budget& b = ctx->budgets[budget];
    if (b.key_slot >= 0 && b.key_slot == env->key_memo_slot) {
      key = env->key_memo;
      len = env->key_memo_len;
    } else {
      if (tg_budget_key(ctx, env->slots, budget, buf, &key, &len)) return 1;
      if (b.key_type == TypeKind::String || b.key_type == TypeKind::Enum ||
          b.key_type == TypeKind::Bool) {
        env->key_memo_slot = b.key_slot;
        env->key_memo = key;
        env->key_memo_len = len;
      }
    }
    spent = tollgate::budget_spent(ctx, env, budget, key, len);
  }
  double limit;
  if (tg_budget_limit(ctx, env->slots, budget, &limit)) return 1;
  if (std::isnan(spent)) return 1;  // a reader's NaN, like any NaN, is an error
  switch (static_cast<tollgate::BudgetView>(view)) {
    case tollgate::BudgetView::Spent:
      *out = spent;
      return 0;
    case tollgate::BudgetView::Limit:
      *out = limit;
      return 0;
    case tollgate::BudgetView::Remaining:
      *out = limit - spent;
      return 0;
    case tollgate::BudgetView::Ratio:
      if (limit == 0) return 1;
      *out = spent / limit;
      return 0;
  }
  return 1;
}

int32_t tg_cost(const EvalContext* ctx, int32_t route, double in_tokens, double out_tokens,
                double* out) {
  if (route < 0 || static_cast<size_t>(route) >= ctx->tables.routes.size()) return 1;
  const tollgate::RouteInfo& r = ctx->tables.routes[route];
  if (!r.priced) return 1;
  *out = in_tokens * r.in_per_token + out_tokens * r.out_per_token;
  return std::isnan(*out) ? 1 : 0;  // inf tokens at a zero price
}

int32_t tg_pow_int(int64_t base, int64_t exp, int64_t* out) {
  if (exp < 0) return 1;
  int64_t result = 1;
  int64_t b = base;
  // Square-and-multiply; the squaring may only overflow when more bits remain to use it.
  while (exp > 0) {
    if (exp & 1) {
      if (__builtin_mul_overflow(result, b, &result)) return 1;
    }
    exp >>= 1;
    if (exp > 0 && __builtin_mul_overflow(b, b, &b)) return 1;
  }
  *out = result;
  return 0;
}

double tg_pow_float(double base, double exp) {
  return std::pow(base, exp);
}

int32_t tg_str_eq(const char* a, uint32_t alen, const char* b, uint32_t blen) {
  return alen == blen && (alen == 0 || std::memcmp(a, b, alen) == 0);
}

int32_t tg_str_startswith(const char* s, uint32_t slen, const char* p, uint32_t plen) {
  return plen <= slen && (plen == 0 || std::memcmp(s, p, plen) == 0);
}

int32_t tg_str_endswith(const char* s, uint32_t slen, const char* p, uint32_t plen) {
  return plen <= slen && (plen == 0 || std::memcmp(s + slen - plen, p, plen) == 0);
}

int32_t tg_str_contains(const char* s, uint32_t slen, const char* n, uint32_t nlen) {
  if (nlen == 0) return 1;
  if (nlen > slen) return 0;
  for (uint32_t i = 0; i + nlen <= slen; ++i) {
    if (s[i] == n[0] && std::memcmp(s + i, n, nlen) == 0) return 1;
  }
  return 0;
}

int32_t tg_concat(tollgate::EvalScratch* scratch, const char* a, uint32_t alen, const char* b,
                  uint32_t blen, const char** out, uint32_t* outlen) {
  uint64_t need = static_cast<uint64_t>(alen) + blen;
  if (need > tollgate::kScratchBytes - scratch->used) return 1;
  char* dst = scratch->buf + scratch->used;
  // Operands may point into the scratch itself (earlier results), never into the new region.
  if (alen) std::memmove(dst, a, alen);
  if (blen) std::memmove(dst + alen, b, blen);
  scratch->used += static_cast<uint32_t>(need);
  *out = dst;
  *outlen = static_cast<uint32_t>(need);
  return 0;
}

void tg_enum_name(const EvalContext* ctx, int32_t enum_id, int64_t member, const char** out,
                  uint32_t* len) {
  const auto& enums = ctx->program->enums;
  if (enum_id < 0 || static_cast<size_t>(enum_id) >= enums.size() || member < 0 ||
      static_cast<size_t>(member) >= enums[enum_id].members.size()) {
    *out = "";
    *len = 0;
    return;
  }
  const std::string& s = enums[enum_id].members[member];
  *out = s.data();
  *len = static_cast<uint32_t>(s.size());
}

void tg_note_error(Decision* d, int32_t rule) {
  ++d->errors;
  if (d->first_error_rule < 0) d->first_error_rule = rule;
}

void tg_add_tag(Decision* d, const char* s, uint32_t len) {
  d->add_tag(std::string_view(s, len));
}

void tg_apply_cap(Decision* d, int32_t field, int64_t value, int32_t rule) {
  int64_t* cap = field == static_cast<int32_t>(tollgate::Field::MaxOut) ? &d->max_out : &d->max_in;
  if (value < *cap) {
    *cap = value;
    d->rule[field] = rule;
  }
}

void tg_finish(const EvalContext* ctx, Decision* d) {
  constexpr int kRoute = static_cast<int>(tollgate::Field::Route);
  if (d->rule[kRoute] < 0 && !d->denied) {
    d->denied = true;
    d->route = -1;
    d->deny_reason = "no route";
  }
  if (ctx->on_error_deny && d->errors > 0) {
    d->denied = true;
    d->route = -1;
    d->rule[kRoute] = d->first_error_rule;
    const auto& reasons = ctx->tables.error_reasons;
    d->deny_reason =
        d->first_error_rule >= 0 && static_cast<size_t>(d->first_error_rule) < reasons.size()
            ? reasons[d->first_error_rule].c_str()
            : "evaluation error";
  }
}

}  // extern "C"
