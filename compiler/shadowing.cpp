// The `shadowed-rule` lint and the totality test behind `missing-default`.
//
// Each condition is abstracted over the finite domain of checker_domain.h into four regions:
// where it is surely true / surely false (under-approximations) and where it may be true / may be
// false (over-approximations). Comparisons of enum, bool and int inputs with constants, `in`
// lists, has(), and/or/not and bool lets are exact, and so are string equalities (each literal a
// string input is compared with is one value, plus one for all other strings); anything else
// (startswith, floats, budgets, arithmetic) is opaque: surely nothing, maybe anything. Errors
// follow the semantics: an unset required input makes a comparison neither true nor false, and an
// unset input with a default reads the default. A rule is shadowed on a field when the region where
// it may fire is covered by the regions where earlier rules of that field surely fire (and surely
// set the field).
#include <algorithm>
#include <deque>
#include <functional>
#include <limits>
#include <string>
#include <unordered_map>

#include "compiler/checker_domain.h"
#include "compiler/checker_internal.h"

namespace tollgate {
namespace check {

namespace {

struct Abs {
  Region t, f, mt, mf;  // must-true, must-false, may-true, may-false
};

class Abstraction {
 public:
  explicit Abstraction(const Program& p)
      : p_(p), strings_(collect_strings(p)), domain_(make_dims(p, strings_)) {
    let_memo_.resize(p.lets.size());
    let_done_.resize(p.lets.size(), 0);
  }

  const Domain& domain() const { return domain_; }

  Abs opaque() const {
    return {Domain::nothing(), Domain::nothing(), Domain::everything(), Domain::everything()};
  }

  Abs of(const Expr& e) {
    if (++depth_ > 200) {
      --depth_;
      return opaque();
    }
    Abs a = compute(e);
    --depth_;
    // Bounded operations overflowed: narrow must-regions, widen may-regions (stays sound).
    if (a.t.overflow) a.t = Domain::nothing();
    if (a.f.overflow) a.f = Domain::nothing();
    if (a.mt.overflow) a.mt = Domain::everything();
    if (a.mf.overflow) a.mf = Domain::everything();
    return a;
  }

  // Requests where every required input is set (what a well-behaved host sends).
  Region hosted_universe() const {
    Box b;
    for (size_t i = 0; i < p_.inputs.size(); ++i) {
      if (p_.inputs[i].default_value) continue;
      DimSet s = domain_.full(static_cast<int>(i));
      s.unset = false;
      b.dims.emplace_back(static_cast<int>(i), std::move(s));
    }
    return Region{{std::move(b)}, false};
  }

 private:
  using StringBuckets = std::vector<std::unordered_map<std::string, int>>;

  // Per string input, the literals it is compared with (==, !=, in): each is one value of the
  // dimension, and one more value stands for every other string. Too many literals: opaque.
  static StringBuckets collect_strings(const Program& p) {
    StringBuckets out(p.inputs.size());
    auto add = [&](const Expr& x, const Expr& lit) {
      if (x.kind != ExprKind::Name || x.ref != NameRef::Input || lit.kind != ExprKind::StringLit)
        return;
      if (p.inputs[x.index].type.kind != TypeKind::String) return;
      auto& m = out[x.index];
      m.emplace(lit.str_value, static_cast<int>(m.size()));
    };
    std::function<void(const Expr&)> walk = [&](const Expr& e) {
      if (e.kind == ExprKind::Binary &&
          (e.binary_op == BinaryOp::Eq || e.binary_op == BinaryOp::Ne)) {
        add(*e.args[0], *e.args[1]);
        add(*e.args[1], *e.args[0]);
      } else if (e.kind == ExprKind::In) {
        for (size_t i = 1; i < e.args.size(); ++i) add(*e.args[0], *e.args[i]);
      }
      for (const auto& a : e.args)
        if (a) walk(*a);
    };
    for (const auto& l : p.lets)
      if (l.value) walk(*l.value);
    for (const auto& r : p.rules)
      if (r.condition) walk(*r.condition);
    for (auto& m : out)
      if (m.size() > 62) m.clear();
    return out;
  }

  static Domain make_dims(const Program& p, const StringBuckets& strings) {
    std::vector<Dim> dims;
    for (size_t i = 0; i < p.inputs.size(); ++i) {
      const InputDecl& in = p.inputs[i];
      Dim d;
      if (in.type.kind == TypeKind::String && !strings[i].empty())
        d.members = static_cast<int>(strings[i].size()) + 1;
      switch (in.type.kind) {
        case TypeKind::Int:
          d.is_int = true;
          break;
        case TypeKind::Bool:
          d.members = 2;
          break;
        case TypeKind::Enum: {
          size_t n = in.type.enum_id >= 0 ? p.enums[in.type.enum_id].members.size() : 1;
          d.members = n >= 1 && n <= 63 ? static_cast<int>(n) : 1;
          break;
        }
        default:
          break;
      }
      dims.push_back(d);
    }
    return Domain(std::move(dims));
  }

  // The input an atom tests, when it is an enum (<= 63 members), bool or int input.
  int tracked_input(const Expr& e) const {
    if (e.kind != ExprKind::Name || e.ref != NameRef::Input) return -1;
    const InputDecl& in = p_.inputs[e.index];
    switch (in.type.kind) {
      case TypeKind::Int:
      case TypeKind::Bool:
        return e.index;
      case TypeKind::Enum:
        return p_.enums[in.type.enum_id].members.size() <= 63 ? e.index : -1;
      case TypeKind::String:
        return strings_[e.index].empty() ? -1 : e.index;
      default:
        return -1;
    }
  }

  // A constant of the input's type as a one-value DimSet (no unset), or false.
  bool constant(int input, const Expr& c, DimSet* s) const {
    const Type& t = p_.inputs[input].type;
    s->unset = false;
    switch (t.kind) {
      case TypeKind::Int: {
        int64_t v;
        if (c.type.kind != TypeKind::Int || !const_int(c, &v)) return false;
        s->ivs = {{v, v}};
        return true;
      }
      case TypeKind::Bool:
        if (c.kind != ExprKind::BoolLit) return false;
        s->bits = c.bool_value ? 2 : 1;
        return true;
      case TypeKind::Enum:
        if (c.kind != ExprKind::Name || c.ref != NameRef::EnumMember || c.type.enum_id != t.enum_id)
          return false;
        s->bits = 1ull << c.index;
        return true;
      case TypeKind::String: {
        if (c.kind != ExprKind::StringLit || strings_[input].empty()) return false;
        auto it = strings_[input].find(c.str_value);
        // A string no rule compares with (e.g. a default) is in the "every other string" value.
        int bit =
            it == strings_[input].end() ? static_cast<int>(strings_[input].size()) : it->second;
        s->bits = 1ull << bit;
        return true;
      }
      default:
        return false;
    }
  }

  // Exact atom from the set of values that make it true.
  Abs atom(int input, DimSet values_true) {
    DimSet all = domain_.full(input);
    all.unset = false;
    DimSet values_false = domain_.minus(input, all, values_true);
    values_true.unset = values_false.unset = false;
    const InputDecl& in = p_.inputs[input];
    if (in.default_value) {
      // Unset reads the default: it joins whichever side the default value is on.
      DimSet d;
      if (constant(input, *in.default_value, &d)) {
        bool dt = !domain_.is_empty(input, domain_.meet(input, d, values_true));
        (dt ? values_true : values_false).unset = true;
      } else {
        return opaque();
      }
    }
    Region t = domain_.single(input, values_true);
    Region f = domain_.single(input, values_false);
    return {t, f, t, f};
  }

  static Abs negate(Abs a) { return {a.f, a.t, a.mf, a.mt}; }

  Abs compare(const Expr& x, BinaryOp op, const Expr& c) {
    int input = tracked_input(x);
    if (input < 0) return opaque();
    DimSet v;
    if (!constant(input, c, &v)) return opaque();
    if (op == BinaryOp::Eq) return atom(input, v);
    if (op == BinaryOp::Ne) return negate(atom(input, v));
    if (p_.inputs[input].type.kind != TypeKind::Int) return opaque();
    const int64_t k = v.ivs[0].lo;
    constexpr int64_t lo = std::numeric_limits<int64_t>::min();
    constexpr int64_t hi = std::numeric_limits<int64_t>::max();
    DimSet s;
    s.unset = false;
    switch (op) {
      case BinaryOp::Lt:
        if (k != lo) s.ivs = {{lo, k - 1}};
        break;
      case BinaryOp::Le:
        s.ivs = {{lo, k}};
        break;
      case BinaryOp::Gt:
        if (k != hi) s.ivs = {{k + 1, hi}};
        break;
      case BinaryOp::Ge:
        s.ivs = {{k, hi}};
        break;
      default:
        return opaque();
    }
    return atom(input, s);
  }

  static BinaryOp flip(BinaryOp op) {
    switch (op) {
      case BinaryOp::Lt:
        return BinaryOp::Gt;
      case BinaryOp::Le:
        return BinaryOp::Ge;
      case BinaryOp::Gt:
        return BinaryOp::Lt;
      case BinaryOp::Ge:
        return BinaryOp::Le;
      default:
        return op;
    }
  }

  Abs compute(const Expr& e) {
    switch (e.kind) {
      case ExprKind::BoolLit:
        return e.bool_value ? Abs{Domain::everything(), Domain::nothing(), Domain::everything(),
                                  Domain::nothing()}
                            : Abs{Domain::nothing(), Domain::everything(), Domain::nothing(),
                                  Domain::everything()};
      case ExprKind::Name: {
        if (e.ref == NameRef::Let) return let(e.index);
        int input = tracked_input(e);
        if (input < 0 || p_.inputs[input].type.kind != TypeKind::Bool) return opaque();
        DimSet t;
        t.bits = 2;
        return atom(input, t);
      }
      case ExprKind::Unary:
        if (e.unary_op != UnaryOp::Not) return opaque();
        return negate(of(*e.args[0]));
      case ExprKind::Binary: {
        const Expr& a = *e.args[0];
        const Expr& b = *e.args[1];
        switch (e.binary_op) {
          case BinaryOp::And: {
            Abs x = of(a), y = of(b);
            return {domain_.meet(x.t, y.t), domain_.join(x.f, y.f), domain_.meet(x.mt, y.mt),
                    domain_.join(x.mf, y.mf)};
          }
          case BinaryOp::Or: {
            Abs x = of(a), y = of(b);
            return {domain_.join(x.t, y.t), domain_.meet(x.f, y.f), domain_.join(x.mt, y.mt),
                    domain_.meet(x.mf, y.mf)};
          }
          case BinaryOp::Eq:
          case BinaryOp::Ne:
          case BinaryOp::Lt:
          case BinaryOp::Le:
          case BinaryOp::Gt:
          case BinaryOp::Ge:
            if (tracked_input(a) >= 0) return compare(a, e.binary_op, b);
            if (tracked_input(b) >= 0) return compare(b, flip(e.binary_op), a);
            return opaque();
          default:
            return opaque();
        }
      }
      case ExprKind::In: {
        int input = tracked_input(*e.args[0]);
        if (input < 0) return opaque();
        DimSet s = domain_.full(input);
        s.unset = false;
        s.bits = 0;
        s.ivs.clear();
        for (size_t i = 1; i < e.args.size(); ++i) {
          DimSet v;
          if (!constant(input, *e.args[i], &v)) return opaque();
          s.bits |= v.bits;
          if (!v.ivs.empty()) {
            std::vector<Interval> merged = s.ivs;
            merged.push_back(v.ivs[0]);
            std::sort(merged.begin(), merged.end(),
                      [](const Interval& x, const Interval& y) { return x.lo < y.lo; });
            s.ivs.clear();
            for (const auto& iv : merged) {
              if (!s.ivs.empty() && s.ivs.back().hi != std::numeric_limits<int64_t>::max() &&
                  iv.lo <= s.ivs.back().hi + 1)
                s.ivs.back().hi = std::max(s.ivs.back().hi, iv.hi);
              else
                s.ivs.push_back(iv);
            }
          }
        }
        Abs a = atom(input, s);
        return e.negated ? negate(a) : a;
      }
      case ExprKind::Call: {
        if (e.builtin != Builtin::Has || e.args.size() != 1 || e.args[0]->ref != NameRef::Input)
          return opaque();
        int input = e.args[0]->index;
        DimSet set = domain_.full(input);
        set.unset = false;
        DimSet unset;
        unset.unset = true;
        Region t = domain_.single(input, set), f = domain_.single(input, unset);
        return {t, f, t, f};
      }
      default:
        return opaque();
    }
  }

  Abs let(int32_t i) {
    const LetDecl& l = p_.lets[i];
    if (!l.value || l.value->type.kind != TypeKind::Bool || let_done_[i] == 1) return opaque();
    if (let_done_[i] == 2) return let_memo_[i];
    let_done_[i] = 1;  // in progress: a cycle (only possible in an erroneous program) is opaque
    let_memo_[i] = of(*l.value);
    let_done_[i] = 2;
    return let_memo_[i];
  }

  const Program& p_;
  StringBuckets strings_;
  Domain domain_;
  std::vector<Abs> let_memo_;
  std::vector<char> let_done_;
  int depth_ = 0;
};

enum Field { kRoute, kRetry, kRag, kCache, kFields };
const char* kFieldNames[] = {"route", "retry", "rag", "cache"};

int field_of(ActionKind k) {
  switch (k) {
    case ActionKind::Route:
    case ActionKind::Deny:
      return kRoute;
    case ActionKind::Retry:
      return kRetry;
    case ActionKind::Rag:
    case ActionKind::RagOff:
      return kRag;
    case ActionKind::Cache:
      return kCache;
    default:
      return -1;
  }
}

Region condition_region(Abstraction& abs, const Rule& r, bool must) {
  if (!r.condition) return Domain::everything();
  Abs a = abs.of(*r.condition);
  return must ? a.t : a.mt;
}

}  // namespace

void lint_shadowed_rules(const Program& program, DiagnosticSink& diags) {
  Abstraction abs(program);
  const Domain& dom = abs.domain();
  int64_t budget = 4'000'000;
  // Per field: where earlier rules surely set it. Regions live in a deque so the box pointers
  // handed to covered() stay valid as rules are added.
  std::deque<Region> regions;
  std::vector<const Box*> cover[kFields];
  std::vector<uint32_t> cover_line[kFields];
  for (int32_t idx : program.eval_order) {
    const Rule& r = program.rules[idx];
    bool has_field[kFields] = {};
    bool sets_surely[kFields] = {};
    std::vector<char> known(program.inputs.size(), 0);
    Abs cond = r.condition ? abs.of(*r.condition) : abs.opaque();
    if (!r.condition) cond.t = cond.mt = Domain::everything();
    for (const auto& a : r.actions) {
      int f = field_of(a.kind);
      if (f < 0) continue;
      has_field[f] = true;
      bool arg_ok = !a.arg || !can_error(program, *a.arg, ErrorMode::Strict, known).expr;
      if (a.kind == ActionKind::Retry || a.kind == ActionKind::Rag)
        sets_surely[f] = arg_ok;
      else
        sets_surely[f] = true;
    }
    int fields = 0, shadowed = 0;
    std::vector<uint32_t> lines;
    std::string names;
    for (int f = 0; f < kFields; ++f) {
      if (!has_field[f]) continue;
      ++fields;
      std::vector<size_t> used;
      if (!dom.covered(cond.mt, cover[f], &budget, &used)) continue;
      ++shadowed;
      if (!names.empty()) names += " or ";
      names += kFieldNames[f];
      // The earlier rules that take this rule's requests.
      for (size_t k : used)
        if (std::find(lines.begin(), lines.end(), cover_line[f][k]) == lines.end())
          lines.push_back(cover_line[f][k]);
    }
    if (fields > 0 && shadowed == fields) {
      std::string msg;
      if (cond.mt.boxes.empty() && !cond.mt.overflow) {
        msg = "rule can never fire: its condition is never true";
      } else {
        std::sort(lines.begin(), lines.end());
        std::string where;
        for (size_t i = 0; i < lines.size() && i < 4; ++i)
          where += (i ? ", " : "") + std::to_string(lines[i]);
        if (lines.size() > 4) where += ", ...";
        bool one = lines.size() == 1;
        msg = std::string(r.is_default ? "default rule" : "rule") + " never sets " + names +
              ": earlier rule" + (one ? "" : "s") + " at line" + (one ? " " : "s ") + where +
              " always " + (one ? "fires" : "fire") + " first";
      }
      diags.warning(program.file, r.loc, "shadowed-rule", msg);
    }
    if (cond.t.boxes.empty()) continue;
    bool stored = false;
    for (int f = 0; f < kFields; ++f) {
      if (!has_field[f] || !sets_surely[f]) continue;
      if (!stored) {
        regions.push_back(cond.t);
        stored = true;
      }
      for (const Box& b : regions.back().boxes) {
        cover[f].push_back(&b);
        cover_line[f].push_back(r.loc.line);
      }
    }
  }
}

bool routes_are_total(const Program& program) {
  Abstraction abs(program);
  std::vector<Region> sure;
  for (const auto& r : program.rules) {
    bool routes = false;
    for (const auto& a : r.actions)
      routes = routes || a.kind == ActionKind::Route || a.kind == ActionKind::Deny;
    if (!routes) continue;
    if (!r.condition) return true;
    sure.push_back(condition_region(abs, r, true));
  }
  std::vector<const Box*> cover;
  for (const auto& s : sure)
    for (const auto& b : s.boxes) cover.push_back(&b);
  int64_t budget = 1'000'000;
  return abs.domain().covered(abs.hosted_universe(), cover, &budget);
}

bool always_true(const Program& program, const Rule& rule) {
  if (!rule.condition) return true;
  Abstraction abs(program);
  Region t = condition_region(abs, rule, true);
  std::vector<const Box*> cover;
  for (const auto& b : t.boxes) cover.push_back(&b);
  int64_t budget = 100'000;
  return abs.domain().covered(Domain::everything(), cover, &budget);
}

}  // namespace check
}  // namespace tollgate
