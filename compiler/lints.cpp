// Checker warnings (errors under --strict, via DiagnosticSink::promote_warnings), each with a
// stable code: missing-default, unused-input, unused-let, unused-budget, cap-never-tightens,
// deny-can-error, enum-member-unmentioned, route-unpriced. shadowed-rule is in shadowing.cpp.
// Each lint only fires when it is sure: a false warning on a sound policy is a bug.
#include <algorithm>
#include <functional>
#include <string>

#include "compiler/checker_internal.h"

namespace tollgate {
namespace check {

namespace {

void walk(const Expr& e, const std::function<void(const Expr&)>& fn) {
  fn(e);
  for (const auto& a : e.args)
    if (a) walk(*a, fn);
}

bool routes(const Rule& r) {
  for (const auto& a : r.actions)
    if (a.kind == ActionKind::Route || a.kind == ActionKind::Deny) return true;
  return false;
}
bool has_action(const Rule& r, ActionKind k) {
  for (const auto& a : r.actions)
    if (a.kind == k) return true;
  return false;
}

class Linter {
 public:
  Linter(const Program& p, DiagnosticSink& d, const CheckOptions& o) : p_(p), diags_(d), opt_(o) {}

  void run() {
    lint_shadowed_rules(p_, diags_);
    missing_default();
    unused();
    caps();
    deny_can_error();
    enum_unmentioned();
    route_unpriced();
  }

 private:
  void warn(SourceLoc loc, const char* code, std::string msg) {
    diags_.warning(p_.file, loc, code, std::move(msg));
  }

  void missing_default() {
    for (const auto& r : p_.rules)
      if (r.is_default) return;
    if (routes_are_total(p_)) return;
    SourceLoc loc = p_.has_header ? p_.header.loc : SourceLoc{1, 1};
    warn(loc, "missing-default",
         "no default rule, and the route rules do not cover every request: a request no rule "
         "routes is denied with \"no route\"");
  }

  void unused() {
    std::vector<char> input(p_.inputs.size()), let(p_.lets.size()), budget(p_.budgets.size());
    auto mark = [&](const Expr& e) {
      if (e.kind == ExprKind::Name && e.ref == NameRef::Input && e.index >= 0) input[e.index] = 1;
      if (e.kind == ExprKind::Name && e.ref == NameRef::Let && e.index >= 0) let[e.index] = 1;
      if (e.kind == ExprKind::Member && e.ref == NameRef::Budget && e.index >= 0) {
        budget[e.index] = 1;
        const BudgetDecl& b = p_.budgets[e.index];
        if (b.key_index >= 0) input[b.key_index] = 1;
        if (b.limit && b.limit->ref == NameRef::Input) input[b.limit->index] = 1;
      }
    };
    for (const auto& l : p_.lets)
      if (l.value) walk(*l.value, mark);
    for (const auto& r : p_.rules) {
      if (r.condition) walk(*r.condition, mark);
      for (const auto& a : r.actions)
        if (a.arg) walk(*a.arg, mark);
    }
    for (size_t i = 0; i < p_.inputs.size(); ++i)
      if (!input[i])
        warn(p_.inputs[i].loc, "unused-input", "input '" + p_.inputs[i].name + "' is never used");
    for (size_t i = 0; i < p_.lets.size(); ++i)
      if (!let[i])
        warn(p_.lets[i].loc, "unused-let", "let '" + p_.lets[i].name + "' is never used");
    for (size_t i = 0; i < p_.budgets.size(); ++i)
      if (!budget[i]) {
        const std::string& n = p_.budgets[i].name;
        warn(p_.budgets[i].loc, "unused-budget",
             "budget '" + n + "' is never read (no rule uses " + n +
                 ".spent, .limit, .remaining or " + ".ratio), so it limits nothing");
      }
  }

  // A cap that can never lower max_out/max_in: on a deny rule (ignored), not below an
  // unconditional standalone cap, or (standalone) not below what every route already caps.
  void caps() {
    for (ActionKind kind : {ActionKind::MaxOut, ActionKind::MaxIn}) {
      const char* name = kind == ActionKind::MaxOut ? "max_out" : "max_in";
      // The tightest unconditional standalone cap with a constant value.
      const Action* floor = nullptr;
      const Rule* floor_rule = nullptr;
      int64_t floor_v = 0;
      for (int32_t idx : p_.eval_order) {
        const Rule& r = p_.rules[idx];
        if (routes(r)) continue;
        for (const auto& a : r.actions) {
          int64_t v;
          if (a.kind != kind || !a.arg || !const_int(*a.arg, &v)) continue;
          if ((!floor || v < floor_v) && always_true(p_, r)) {
            floor = &a;
            floor_rule = &r;
            floor_v = v;
          }
        }
      }
      // The largest route-attached constant cap, when every routing rule has one.
      bool all_routes_capped = false;
      int64_t route_max = 0;
      for (const auto& r : p_.rules) {
        if (!has_action(r, ActionKind::Route)) continue;
        int64_t v;
        bool capped = false;
        for (const auto& a : r.actions)
          if (a.kind == kind && a.arg && const_int(*a.arg, &v)) {
            capped = true;
            route_max = all_routes_capped ? std::max(route_max, v) : v;
          }
        if (!capped) {
          all_routes_capped = false;
          route_max = 0;
          break;
        }
        all_routes_capped = true;
      }
      bool floor_passed = false;
      for (int32_t idx : p_.eval_order) {
        const Rule& r = p_.rules[idx];
        bool denies = has_action(r, ActionKind::Deny) && !has_action(r, ActionKind::Route);
        for (const auto& a : r.actions) {
          if (a.kind != kind) continue;
          if (&a == floor) {
            floor_passed = true;
            continue;
          }
          if (denies) {
            warn(a.loc, "cap-never-tightens",
                 std::string(name) +
                     " on a deny rule never applies (a denied request has no route)");
            continue;
          }
          int64_t v;
          if (!a.arg || !const_int(*a.arg, &v)) continue;
          if (floor && (v > floor_v || (v == floor_v && (floor_passed || routes(r))))) {
            warn(a.loc, "cap-never-tightens",
                 std::string(name) + " " + std::to_string(v) +
                     " never tightens: the unconditional " + name + " " + std::to_string(floor_v) +
                     " at line " + std::to_string(floor_rule->loc.line) + " always applies");
          } else if (!routes(r) && all_routes_capped && v >= route_max) {
            warn(a.loc, "cap-never-tightens",
                 std::string(name) + " " + std::to_string(v) +
                     " never tightens: every route rule " + "already caps " + name + " at " +
                     std::to_string(route_max) + " or less");
          }
        }
      }
    }
  }

  void deny_can_error() {
    if (p_.header.on_error != OnError::Skip) return;
    std::vector<char> known(p_.inputs.size(), 0);
    for (const auto& r : p_.rules) {
      if (!r.condition || !has_action(r, ActionKind::Deny)) continue;
      ErrorSite s = can_error(p_, *r.condition, ErrorMode::Lint, known);
      if (!s.expr) continue;
      warn(s.expr->loc, "deny-can-error",
           "deny rule's condition can fail (it " + s.why +
               "); with on_error skip the rule is then skipped and the request is not denied");
    }
  }

  // Members of each enum input that conditions of one field's rules mention, positively
  // (== / in, under an even number of `not`s) or at all. The lint fires when several rules
  // enumerate members one by one and exactly one member is never mentioned.
  struct Mentions {
    std::vector<uint64_t> positive, any;
    std::vector<const Rule*> first, last;
    std::vector<int> rules;  // distinct rules with a positive mention
  };

  void mention(const Expr& e, bool positive, Mentions* m, const Rule* r, int depth) {
    if (depth > 64) return;
    auto member_of = [&](const Expr& x, const Expr& c) -> int {
      if (x.kind != ExprKind::Name || x.ref != NameRef::Input) return -1;
      if (p_.inputs[x.index].type.kind != TypeKind::Enum) return -1;
      if (c.ref != NameRef::EnumMember || c.index < 0 || c.index >= 64) return -1;
      return c.index;
    };
    auto record = [&](int input, int member, bool pos) {
      uint64_t bit = 1ull << member;
      m->any[input] |= bit;
      if (pos) {
        m->positive[input] |= bit;
        if (!m->first[input]) m->first[input] = r;
        if (m->last[input] != r) {
          m->last[input] = r;
          ++m->rules[input];
        }
      }
    };
    switch (e.kind) {
      case ExprKind::Unary:
        if (e.unary_op == UnaryOp::Not) mention(*e.args[0], !positive, m, r, depth + 1);
        return;
      case ExprKind::Name:
        if (e.ref == NameRef::Let && p_.lets[e.index].value)
          mention(*p_.lets[e.index].value, positive, m, r, depth + 1);
        return;
      case ExprKind::Binary: {
        const Expr& a = *e.args[0];
        const Expr& b = *e.args[1];
        if (e.binary_op == BinaryOp::And || e.binary_op == BinaryOp::Or) {
          mention(a, positive, m, r, depth + 1);
          mention(b, positive, m, r, depth + 1);
        } else if (e.binary_op == BinaryOp::Eq || e.binary_op == BinaryOp::Ne) {
          bool pos = positive == (e.binary_op == BinaryOp::Eq);
          int k = member_of(a, b);
          if (k >= 0) record(a.index, k, pos);
          k = member_of(b, a);
          if (k >= 0) record(b.index, k, pos);
        }
        return;
      }
      case ExprKind::In: {
        const Expr& x = *e.args[0];
        for (size_t i = 1; i < e.args.size(); ++i) {
          int k = member_of(x, *e.args[i]);
          if (k >= 0) record(x.index, k, positive != e.negated);
        }
        return;
      }
      default:
        return;
    }
  }

  void enum_unmentioned() {
    static const std::vector<std::pair<const char*, std::vector<ActionKind>>> fields = {
        {"route", {ActionKind::Route, ActionKind::Deny}},
        {"retry", {ActionKind::Retry}},
        {"rag", {ActionKind::Rag, ActionKind::RagOff}},
        {"cache", {ActionKind::Cache}}};
    const size_t n = p_.inputs.size();
    for (const auto& [field, kinds] : fields) {
      Mentions m{std::vector<uint64_t>(n), std::vector<uint64_t>(n),
                 std::vector<const Rule*>(n, nullptr), std::vector<const Rule*>(n, nullptr),
                 std::vector<int>(n, 0)};
      for (const auto& r : p_.rules) {
        bool on_field = false;
        for (ActionKind k : kinds) on_field = on_field || has_action(r, k);
        if (on_field && r.condition) mention(*r.condition, true, &m, &r, 0);
      }
      for (size_t i = 0; i < n; ++i) {
        const InputDecl& in = p_.inputs[i];
        if (in.type.kind != TypeKind::Enum || !m.first[i]) continue;
        const auto& members = p_.enums[in.type.enum_id].members;
        if (members.size() < 3 || members.size() > 63) continue;
        std::vector<size_t> missing;
        bool others_positive = true;
        for (size_t k = 0; k < members.size(); ++k) {
          uint64_t bit = 1ull << k;
          if (!(m.any[i] & bit))
            missing.push_back(k);
          else if (!(m.positive[i] & bit))
            others_positive = false;
        }
        // One `in` list naming all members but one is a deliberate complement, and the input's
        // default member is the ordinary case that falls through: neither is an omission.
        if (missing.size() != 1 || !others_positive || m.rules[i] < 2) continue;
        if (in.default_value && in.default_value->ref == NameRef::EnumMember &&
            static_cast<size_t>(in.default_value->index) == missing[0])
          continue;
        warn(m.first[i]->loc, "enum-member-unmentioned",
             "enum member '" + members[missing[0]] + "' of input '" + in.name +
                 "' is never mentioned by the " + field +
                 " rules, which mention all its other members");
      }
    }
  }

  void route_unpriced() {
    if (!opt_.has_price) return;
    for (const auto& r : p_.routes) {
      if (r.has_inline_price || r.self_hosted || opt_.has_price(r.model)) continue;
      warn(r.loc, "route-unpriced",
           "route '" + r.name + "' has no price: model '" + r.model +
               "' is not in the price table, and the route has no inline prices and is not "
               "self_hosted");
    }
  }

  const Program& p_;
  DiagnosticSink& diags_;
  const CheckOptions& opt_;
};

}  // namespace

void run_lints(const Program& program, DiagnosticSink& diags, const CheckOptions& options) {
  Linter(program, diags, options).run();
}

}  // namespace check
}  // namespace tollgate
