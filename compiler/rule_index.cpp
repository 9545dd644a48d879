// Builds the rule-set dispatch tree (rule_index.h says why pruning is sound): each rule's
// condition is analysed into per-input constraints, then nodes are split greedily on the input
// whose split leaves the smallest mean child, until leaves are small or splitting stops paying.
#include "compiler/rule_index.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>

#include "compiler/eval_support.h"

namespace tollgate {

namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int kMaxLetDepth = 32;

// What a rule's indexable conjuncts say about one input: the values for which they can be true.
struct Constraint {
  int32_t input = -1;
  RuleIndex::NodeKind kind = RuleIndex::NodeKind::Leaf;
  std::vector<uint64_t> mask;    // Enum: accepted members
  std::vector<int32_t> lits;     // Str: accepted literal ids, sorted, unique
  int64_t lo = kMin, hi = kMax;  // Int: accepted closed range (lo > hi: none)

  bool accepts_member(int64_t m) const {
    return (mask[static_cast<size_t>(m) / 64] >> (m % 64)) & 1;
  }
  bool accepts_lit(int32_t id) const { return std::binary_search(lits.begin(), lits.end(), id); }
};

// Condition analysis: the top-level `and` chain, lets looked through, effects tracked.
class Analyser {
 public:
  explicit Analyser(const Program& p) : p_(p), let_effects_(p.lets.size(), -1) {}

  // `*complete`: every conjunct of the chain was turned into a constraint, so a request whose
  // known values all satisfy them makes the condition true.
  std::vector<Constraint> constraints(const Expr& cond, bool* complete) {
    std::vector<const Expr*> chain;
    flatten(cond, 0, &chain);
    std::vector<Constraint> out;
    *complete = true;
    for (const Expr* c : chain) {
      Constraint k;
      if (classify(*c, &k)) {
        merge(&out, std::move(k));
        continue;
      }
      *complete = false;
      if (has_effects(*c)) break;  // conjuncts to the right may follow an effect
    }
    return out;
  }

 private:
  void flatten(const Expr& e, int depth, std::vector<const Expr*>* out) {
    if (e.kind == ExprKind::Binary && e.binary_op == BinaryOp::And && e.args.size() == 2) {
      flatten(*e.args[0], depth, out);
      flatten(*e.args[1], depth, out);
      return;
    }
    if (const Expr* v = let_value(e); v && depth < kMaxLetDepth) {
      flatten(*v, depth + 1, out);
      return;
    }
    out->push_back(&e);
  }

  const Expr* let_value(const Expr& e) const {
    if (e.kind != ExprKind::Name || e.ref != NameRef::Let || e.index < 0 ||
        static_cast<size_t>(e.index) >= p_.lets.size())
      return nullptr;
    return p_.lets[static_cast<size_t>(e.index)].value.get();
  }

  // Effects later evaluation or the host can observe: scratch use (string +) and spent() calls.
  bool has_effects(const Expr& e) {
    if (e.kind == ExprKind::Binary && e.binary_op == BinaryOp::Add &&
        e.type.kind == TypeKind::String)
      return true;
    if (e.kind == ExprKind::Member) return true;
    if (e.kind == ExprKind::Name && e.ref == NameRef::Let) {
      if (e.index < 0 || static_cast<size_t>(e.index) >= p_.lets.size()) return true;
      int8_t& memo = let_effects_[static_cast<size_t>(e.index)];
      if (memo < 0) {
        memo = 1;  // a cycle (rejected by the checker) counts as effectful
        const Expr* v = p_.lets[static_cast<size_t>(e.index)].value.get();
        memo = !v || has_effects(*v) ? 1 : 0;
      }
      return memo == 1;
    }
    for (const ExprPtr& a : e.args)
      if (a && has_effects(*a)) return true;
    return false;
  }

  int32_t input_of(const Expr& e) const {
    if (e.kind != ExprKind::Name || e.ref != NameRef::Input || e.index < 0 ||
        static_cast<size_t>(e.index) >= p_.inputs.size())
      return -1;
    return e.index;
  }

  const Type& type_of(int32_t input) const { return p_.inputs[static_cast<size_t>(input)].type; }

  size_t members(int32_t input) const {
    const Type& t = type_of(input);
    if (t.enum_id < 0 || static_cast<size_t>(t.enum_id) >= p_.enums.size()) return 0;
    return p_.enums[static_cast<size_t>(t.enum_id)].members.size();
  }

  // The member index of an enum-member name of `input`'s enum, else -1.
  int64_t member_of(int32_t input, const Expr& e) const {
    if (e.kind != ExprKind::Name || e.ref != NameRef::EnumMember) return -1;
    if (e.type.kind != TypeKind::Enum || e.type.enum_id != type_of(input).enum_id) return -1;
    if (e.index < 0 || static_cast<size_t>(e.index) >= members(input)) return -1;
    return e.index;
  }

  static bool int_literal(const Expr& e, int64_t* v) {
    if (e.kind == ExprKind::IntLit && e.type.kind == TypeKind::Int) {
      *v = e.int_value;
      return true;
    }
    if (e.kind == ExprKind::Unary && e.unary_op == UnaryOp::Neg && e.args.size() == 1 &&
        e.args[0]->kind == ExprKind::IntLit && e.args[0]->type.kind == TypeKind::Int &&
        e.args[0]->int_value != kMin) {
      *v = -e.args[0]->int_value;
      return true;
    }
    return false;
  }

  static int32_t string_literal(const Expr& e) {
    return e.kind == ExprKind::StringLit && e.index >= 0 ? e.index : -1;
  }

  void enum_constraint(int32_t input, Constraint* k) {
    k->input = input;
    k->kind = RuleIndex::NodeKind::Enum;
    k->mask.assign((members(input) + 63) / 64, 0);
  }
  static void set_member(Constraint* k, int64_t m) {
    k->mask[static_cast<size_t>(m) / 64] |= uint64_t{1} << (m % 64);
  }
  void complement(Constraint* k) {
    const size_t m = members(k->input);
    for (size_t i = 0; i < m; ++i) k->mask[i / 64] ^= uint64_t{1} << (i % 64);
  }

  bool classify(const Expr& c, Constraint* k) {
    if (c.kind == ExprKind::In && c.args.size() >= 2) return classify_in(c, k);
    if (c.kind != ExprKind::Binary || c.args.size() != 2) return false;
    BinaryOp op = c.binary_op;
    const Expr* a = c.args[0].get();
    const Expr* b = c.args[1].get();
    int32_t in = input_of(*a);
    if (in < 0) {
      in = input_of(*b);
      if (in < 0) return false;
      std::swap(a, b);
      // The literal was on the left: mirror the comparison.
      if (op == BinaryOp::Lt)
        op = BinaryOp::Gt;
      else if (op == BinaryOp::Gt)
        op = BinaryOp::Lt;
      else if (op == BinaryOp::Le)
        op = BinaryOp::Ge;
      else if (op == BinaryOp::Ge)
        op = BinaryOp::Le;
    }
    const Type& t = type_of(in);
    switch (t.kind) {
      case TypeKind::Enum: {
        if (op != BinaryOp::Eq && op != BinaryOp::Ne) return false;
        int64_t m = member_of(in, *b);
        if (m < 0) return false;
        enum_constraint(in, k);
        set_member(k, m);
        if (op == BinaryOp::Ne) complement(k);
        return true;
      }
      case TypeKind::String: {
        if (op != BinaryOp::Eq) return false;
        int32_t id = string_literal(*b);
        if (id < 0) return false;
        k->input = in;
        k->kind = RuleIndex::NodeKind::Str;
        k->lits = {id};
        return true;
      }
      case TypeKind::Int: {
        int64_t v;
        if (!int_literal(*b, &v)) return false;
        k->input = in;
        k->kind = RuleIndex::NodeKind::Int;
        switch (op) {
          case BinaryOp::Eq:
            k->lo = k->hi = v;
            return true;
          case BinaryOp::Lt:  // x < MIN accepts nothing: lo > hi
            if (v == kMin)
              k->lo = kMax, k->hi = kMin;
            else
              k->hi = v - 1;
            return true;
          case BinaryOp::Le:
            k->hi = v;
            return true;
          case BinaryOp::Gt:
            if (v == kMax)
              k->lo = kMax, k->hi = kMin;
            else
              k->lo = v + 1;
            return true;
          case BinaryOp::Ge:
            k->lo = v;
            return true;
          default:
            return false;
        }
      }
      default:
        return false;
    }
  }

  bool classify_in(const Expr& c, Constraint* k) {
    int32_t in = input_of(*c.args[0]);
    if (in < 0) return false;
    const Type& t = type_of(in);
    if (t.kind == TypeKind::Enum) {
      enum_constraint(in, k);
      for (size_t i = 1; i < c.args.size(); ++i) {
        int64_t m = member_of(in, *c.args[i]);
        if (m < 0) return false;
        set_member(k, m);
      }
      if (c.negated) complement(k);
      return true;
    }
    if (t.kind == TypeKind::String && !c.negated) {
      k->input = in;
      k->kind = RuleIndex::NodeKind::Str;
      for (size_t i = 1; i < c.args.size(); ++i) {
        int32_t id = string_literal(*c.args[i]);
        if (id < 0) return false;
        k->lits.push_back(id);
      }
      std::sort(k->lits.begin(), k->lits.end());
      k->lits.erase(std::unique(k->lits.begin(), k->lits.end()), k->lits.end());
      return true;
    }
    return false;
  }

  // Conjuncts on the same input intersect.
  static void merge(std::vector<Constraint>* out, Constraint k) {
    for (Constraint& o : *out) {
      if (o.input != k.input || o.kind != k.kind) continue;
      switch (k.kind) {
        case RuleIndex::NodeKind::Enum:
          for (size_t i = 0; i < o.mask.size(); ++i) o.mask[i] &= k.mask[i];
          break;
        case RuleIndex::NodeKind::Str: {
          std::vector<int32_t> both;
          std::set_intersection(o.lits.begin(), o.lits.end(), k.lits.begin(), k.lits.end(),
                                std::back_inserter(both));
          o.lits = std::move(both);
          break;
        }
        case RuleIndex::NodeKind::Int:
          o.lo = std::max(o.lo, k.lo);
          o.hi = std::min(o.hi, k.hi);
          break;
        case RuleIndex::NodeKind::Leaf:
          break;
      }
      return;
    }
    out->push_back(std::move(k));
  }

  const Program& p_;
  std::vector<int8_t> let_effects_;
};

// The fields a firing rule certainly decides: route/deny, cache and `rag off` always; retry and
// rag only when their argument cannot fail (none, or an int literal).
uint8_t rule_decides(const Rule& r) {
  uint8_t d = 0;
  for (const Action& a : r.actions) {
    const bool literal_arg = !a.arg || a.arg->kind == ExprKind::IntLit;
    switch (a.kind) {
      case ActionKind::Route:
      case ActionKind::Deny:
        d |= RuleIndex::kNeedRoute;
        break;
      case ActionKind::Cache:
        d |= RuleIndex::kNeedCache;
        break;
      case ActionKind::RagOff:
        d |= RuleIndex::kNeedRag;
        break;
      case ActionKind::Rag:
        if (literal_arg) d |= RuleIndex::kNeedRag;
        break;
      case ActionKind::Retry:
        if (literal_arg) d |= RuleIndex::kNeedRetry;
        break;
      default:
        break;
    }
  }
  return d;
}

uint8_t rule_need(const Rule& r) {
  uint8_t need = 0;
  bool route = false, cap = false;
  for (const Action& a : r.actions) {
    switch (a.kind) {
      case ActionKind::Route:
      case ActionKind::Deny:
        route = true;
        need |= RuleIndex::kNeedRoute;
        break;
      case ActionKind::Retry:
        need |= RuleIndex::kNeedRetry;
        break;
      case ActionKind::Rag:
      case ActionKind::RagOff:
        need |= RuleIndex::kNeedRag;
        break;
      case ActionKind::Cache:
        need |= RuleIndex::kNeedCache;
        break;
      case ActionKind::Tag:
        need |= RuleIndex::kAlways;
        break;
      case ActionKind::MaxOut:
      case ActionKind::MaxIn:
        cap = true;
        break;
    }
  }
  if (cap && !route) need |= RuleIndex::kAlways;  // a standalone cap applies whatever is decided
  return need;
}

}  // namespace

// Greedy top-down construction; one instance per build.
//
// Enum and Int splits COPY the rules that do not test the input into every child (few children).
// A Str split has one child per literal, often thousands, so it keeps those rules apart instead:
// its children hold only the rules that name that literal, and the `free` subtree (the rules that
// do not test the input) is visited beside the chosen child; lookup returns both leaves and the
// candidate loop merges them by position. At most RuleIndex::kMaxLeaves leaves are ever reached.
struct RuleIndexBuilder {
  using Node = RuleIndex::Node;
  using Kind = RuleIndex::NodeKind;
  using List = std::vector<uint32_t>;

  RuleIndex& ix;
  const RuleIndexOptions& opt;
  std::vector<std::vector<Constraint>> cons;  // per position
  std::vector<uint8_t> need;                  // per position
  std::vector<uint8_t> complete;              // per position: no conjunct outside `cons`
  std::vector<uint8_t> decides;               // per position: rule_decides

  // What the path from the root says about each input's value (Leaf: nothing known).
  struct Known {
    Kind kind = Kind::Leaf;
    int64_t member = 0;            // Enum
    int32_t lit = -1;              // Str
    int64_t lo = kMin, hi = kMax;  // Int: the value is in [lo, hi]
  };
  std::vector<Known> known;

  bool satisfied(const Constraint& c) const {
    const Known& k = known[static_cast<size_t>(c.input)];
    if (k.kind != c.kind) return false;
    switch (c.kind) {
      case Kind::Enum:
        return c.accepts_member(k.member);
      case Kind::Str:
        return c.accepts_lit(k.lit);
      case Kind::Int:
        return c.lo <= k.lo && k.hi <= c.hi;
      case Kind::Leaf:
        break;
    }
    return false;
  }

  // Every request reaching the current node makes the rule at `pos` fire.
  bool certain(uint32_t pos) const {
    if (!complete[pos]) return false;
    for (const Constraint& c : cons[pos])
      if (!satisfied(c)) return false;
    return true;
  }
  size_t budget = 0;  // entries the leaves may still take
  size_t n_inputs = 0;

  const Constraint* find(uint32_t pos, int32_t input) const {
    for (const Constraint& c : cons[pos])
      if (c.input == input) return &c;
    return nullptr;
  }

  // `fallback`: the unknown branch of an input with a default (only an out-of-range enum slot
  // takes it), left out of the leaf statistics.
  uint32_t leaf(const List& all, size_t depth, bool fallback = false) {
    // A rule that certainly fires here decides its fields for every request of this leaf: the
    // rules after it that could only set those fields are dead, so the leaf leaves them out.
    List rules;
    rules.reserve(all.size());
    uint8_t decided = 0;
    for (uint32_t pos : all) {
      const uint8_t own = need[pos];
      if (!(own & RuleIndex::kAlways) && !(own & ~decided)) continue;
      rules.push_back(pos);
      if (certain(pos)) decided |= decides[pos];
    }
    Node n;
    n.kind = Kind::Leaf;
    n.base = static_cast<uint32_t>(ix.entries_.size());
    n.count = static_cast<uint32_t>(rules.size());
    ix.entries_.resize(n.base + rules.size());
    RuleIndex::Entry* e = ix.entries_.data() + n.base;
    uint8_t suffix = 0;
    for (size_t i = rules.size(); i-- > 0;) {
      e[i].pos = rules[i];
      e[i].own = need[rules[i]];
      suffix |= e[i].own;
      e[i].suffix = suffix;
      e[i].next = i + 1 < rules.size() && e[i + 1].own == e[i].own ? e[i + 1].next
                                                                   : static_cast<uint32_t>(i + 1);
    }
    budget -= std::min(budget, all.size());
    ix.stats_.leaves++;
    if (!fallback) ix.stats_.max_leaf = std::max(ix.stats_.max_leaf, rules.size());
    ix.stats_.depth = std::max(ix.stats_.depth, depth);
    ix.nodes_.push_back(n);
    return static_cast<uint32_t>(ix.nodes_.size() - 1);
  }

  // One candidate split of `rules` on `input`.
  struct Split {
    Kind kind = Kind::Leaf;
    int32_t input = -1;
    std::vector<List> children;   // Enum: per member; Int: per interval; Str: per literal id
    std::vector<int64_t> bounds;  // Int: cut points; children.size() == bounds.size() + 1
    List free;                    // rules that do not test the input
    List bound;                   // rules that do (Str: the unknown branch)
    int32_t lo_lit = 0;           // Str: literal id of children[0]
    size_t total = 0;             // entries the split puts in its children
    double expected = 0;          // candidates a request can expect after the split
  };

  // Merges the rules that do not test the input (`free`, ascending) into `own` (ascending).
  static List with_free(const List& own, const List& free) {
    List out;
    out.reserve(own.size() + free.size());
    std::merge(own.begin(), own.end(), free.begin(), free.end(), std::back_inserter(out));
    return out;
  }

  bool try_split(const List& rules, int32_t input, Kind kind, Split* s) {
    std::vector<const Constraint*> bound;
    for (uint32_t pos : rules) {
      const Constraint* c = find(pos, input);
      if (c) {
        s->bound.push_back(pos);
        bound.push_back(c);
      } else {
        s->free.push_back(pos);
      }
    }
    if (bound.empty()) return false;
    s->kind = kind;
    s->input = input;
    if (kind == Kind::Enum) {
      const size_t m = static_cast<size_t>(ix.enum_size_[static_cast<size_t>(input)]);
      if (m == 0) return false;
      std::vector<List> own(m);
      for (size_t k = 0; k < bound.size(); ++k)
        for (size_t v = 0; v < m; ++v)
          if (bound[k]->accepts_member(static_cast<int64_t>(v))) own[v].push_back(s->bound[k]);
      for (size_t v = 0; v < m; ++v) s->children.push_back(with_free(own[v], s->free));
    } else if (kind == Kind::Str) {
      int32_t lo = std::numeric_limits<int32_t>::max(), hi = -1;
      size_t named = 0;
      for (const Constraint* c : bound) {
        if (c->lits.empty()) continue;
        lo = std::min(lo, c->lits.front());
        hi = std::max(hi, c->lits.back());
        named += c->lits.size();
      }
      if (hi >= 0) {
        const size_t span = static_cast<size_t>(hi - lo) + 1;
        if (span > 4 * named + 64) return false;  // too sparse for a dense table
        s->lo_lit = lo;
        s->children.resize(span);
        for (size_t k = 0; k < bound.size(); ++k)
          for (int32_t id : bound[k]->lits)
            s->children[static_cast<size_t>(id - lo)].push_back(s->bound[k]);
      }
      for (const List& c : s->children) s->total += c.size();
      // The free rules are always candidates; a value picks one literal's rules, or none.
      s->expected = static_cast<double>(s->free.size()) +
                    static_cast<double>(s->total) / static_cast<double>(s->children.size() + 1);
      s->total += s->free.size();
      return true;
    } else {
      std::vector<int64_t> cuts;
      for (const Constraint* c : bound) {
        if (c->lo > c->hi) continue;
        if (c->lo != kMin) cuts.push_back(c->lo);
        if (c->hi != kMax) cuts.push_back(c->hi + 1);
      }
      std::sort(cuts.begin(), cuts.end());
      std::vector<int64_t> distinct = cuts;
      distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
      if (distinct.size() > opt.max_cuts) {
        // Quantiles of the thresholds: a rule then sits in every interval its range meets (still
        // a superset of the rules that can fire), and the entries stay bounded.
        std::vector<int64_t> q;
        for (size_t i = 1; i <= opt.max_cuts; ++i)
          q.push_back(cuts[i * (cuts.size() - 1) / opt.max_cuts]);
        q.erase(std::unique(q.begin(), q.end()), q.end());
        distinct = std::move(q);
      }
      cuts = std::move(distinct);
      // Interval k is [cuts[k-1], cuts[k]) with cuts[-1] = MIN and cuts[n] = MAX + 1.
      std::vector<List> own(cuts.size() + 1);
      size_t entries = 0;
      for (size_t i = 0; i < bound.size(); ++i) {
        const Constraint* c = bound[i];
        if (c->lo > c->hi) continue;
        size_t first =
            static_cast<size_t>(std::upper_bound(cuts.begin(), cuts.end(), c->lo) - cuts.begin());
        size_t last = c->hi == kMax
                          ? cuts.size()
                          : static_cast<size_t>(std::upper_bound(cuts.begin(), cuts.end(), c->hi) -
                                                cuts.begin());
        for (size_t k = first; k <= last; ++k) own[k].push_back(s->bound[i]);
        entries += last - first + 1;
        if (entries > budget) return false;  // nested thresholds: quadratic, not worth it
      }
      s->bounds = cuts;
      for (List& o : own) s->children.push_back(with_free(o, s->free));
    }
    for (const List& c : s->children) s->total += c.size();
    s->expected = static_cast<double>(s->total) / static_cast<double>(s->children.size());
    return true;
  }

  // `unions`: Str splits on the path from the root (each doubles the leaves a lookup reaches).
  uint32_t build(const List& rules, std::vector<uint8_t>& excluded, size_t depth, int unions) {
    if (rules.size() <= opt.leaf_rules || budget < rules.size()) return leaf(rules, depth);
    std::vector<int8_t> kinds(n_inputs, -1);  // inputs some rule here tests, by kind
    for (uint32_t pos : rules)
      for (const Constraint& c : cons[pos])
        if (!excluded[static_cast<size_t>(c.input)])
          kinds[static_cast<size_t>(c.input)] = static_cast<int8_t>(c.kind);
    Split best;
    bool have = false;
    for (size_t in = 0; in < n_inputs; ++in) {
      if (kinds[in] < 0) continue;
      const Kind kind = static_cast<Kind>(kinds[in]);
      if (kind == Kind::Str && (1 << (unions + 1)) > RuleIndex::kMaxLeaves) continue;
      Split s;
      if (!try_split(rules, static_cast<int32_t>(in), kind, &s)) continue;
      if (s.total > budget) continue;
      if (s.expected > opt.min_gain * static_cast<double>(rules.size())) continue;
      if (!have || s.expected < best.expected) {
        best = std::move(s);
        have = true;
      }
    }
    if (!have) return leaf(rules, depth);
    return emit(std::move(best), rules, excluded, depth, unions);
  }

  uint32_t emit(Split s, const List& rules, std::vector<uint8_t>& excluded, size_t depth,
                int unions) {
    const size_t in = static_cast<size_t>(s.input);
    const bool str = s.kind == Kind::Str;
    // Reserve the node first so the root is node 0; children fill in after.
    const uint32_t id = static_cast<uint32_t>(ix.nodes_.size());
    ix.nodes_.push_back(Node{});
    excluded[in] = 1;
    const int child_unions = unions + (str ? 1 : 0);
    // Identical child lists share one subtree. Not for Int: a child holds the rules whose range
    // meets its interval, and whether a rule certainly fires depends on the interval itself.
    std::map<List, uint32_t> seen;
    std::vector<uint32_t> kids;
    for (size_t v = 0; v < s.children.size(); ++v) {
      List& c = s.children[v];
      if (s.kind != Kind::Int) {
        auto it = seen.find(c);
        if (it != seen.end()) {
          kids.push_back(it->second);
          continue;
        }
      }
      Known& k = known[in];
      k.kind = s.kind;
      if (s.kind == Kind::Enum) k.member = static_cast<int64_t>(v);
      if (s.kind == Kind::Str) k.lit = s.lo_lit + static_cast<int32_t>(v);
      if (s.kind == Kind::Int) {
        k.lo = v == 0 ? kMin : s.bounds[v - 1];
        k.hi = v == s.bounds.size() ? kMax : s.bounds[v] - 1;
      }
      uint32_t id = build(c, excluded, depth + 1, child_unions);
      known[in] = Known{};
      if (s.kind != Kind::Int) seen.emplace(std::move(c), id);
      kids.push_back(id);
    }
    // The unknown branch (no value: a required input left unset, or an enum slot out of range):
    // this input does not prune, so every rule of the node is a candidate there (a Str node's
    // free subtree is visited anyway, so its branch holds only the bound rules). A plain leaf,
    // not a subtree: a subtree per split would double the index at every level for requests
    // that are erroring anyway.
    uint32_t unknown = leaf(str ? s.bound : rules, depth + 1, true);
    uint32_t free = str ? build(s.free, excluded, depth + 1, child_unions) : 0;
    excluded[in] = 0;

    Node n;
    n.kind = s.kind;
    n.input = s.input;
    n.unknown = unknown;
    n.base = static_cast<uint32_t>(ix.children_.size());
    n.count = static_cast<uint32_t>(kids.size());
    ix.children_.insert(ix.children_.end(), kids.begin(), kids.end());
    if (str) {
      n.lo_lit = s.lo_lit;
      n.other = free;
    } else if (s.kind == Kind::Int) {
      n.count = static_cast<uint32_t>(s.bounds.size());
      n.bounds = static_cast<uint32_t>(ix.bounds_.size());
      ix.bounds_.insert(ix.bounds_.end(), s.bounds.begin(), s.bounds.end());
    }
    ix.nodes_[id] = n;
    return id;
  }
};

std::unique_ptr<RuleIndex> RuleIndex::build(const Program& program, const EvalContext& ctx,
                                            const std::vector<int32_t>& order,
                                            const RuleIndexOptions& options) {
  if (order.size() < options.min_rules || order.empty()) return nullptr;
  auto ix = std::unique_ptr<RuleIndex>(new RuleIndex());
  RuleIndexBuilder b{*ix, options, {}, {}, {}, {}, {}, 0, program.inputs.size()};
  Analyser an(program);
  b.cons.resize(order.size());
  b.need.resize(order.size());
  b.complete.resize(order.size());
  b.decides.resize(order.size());
  b.known.resize(program.inputs.size());
  for (size_t pos = 0; pos < order.size(); ++pos) {
    const Rule& r = program.rules.at(static_cast<size_t>(order[pos]));
    b.need[pos] = rule_need(r);
    b.decides[pos] = rule_decides(r);
    bool complete = true;
    if (r.condition) b.cons[pos] = an.constraints(*r.condition, &complete);
    b.complete[pos] = complete;
    if (!b.cons[pos].empty()) ix->stats_.indexed_rules++;
  }
  ix->stats_.rules = order.size();
  if (ix->stats_.indexed_rules == 0) return nullptr;

  const size_t n = program.inputs.size();
  ix->has_default_.assign(n, 0);
  ix->defaults_.assign(n, Slot{});
  ix->enum_size_.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    ix->has_default_[i] = i < ctx.has_default.size() ? ctx.has_default[i] : 0;
    if (ix->has_default_[i]) ix->defaults_[i] = ctx.defaults[i];
    const Type& t = program.inputs[i].type;
    if (t.kind == TypeKind::Enum && t.enum_id >= 0 &&
        static_cast<size_t>(t.enum_id) < program.enums.size())
      ix->enum_size_[i] =
          static_cast<int64_t>(program.enums[static_cast<size_t>(t.enum_id)].members.size());
    if (t.kind == TypeKind::String && ix->has_default_[i]) {
      // The default's literal id, as Request interns a string it is given.
      Slot& s = ix->defaults_[i];
      s.str_id = -1;
      for (size_t k = 0; k < program.string_literals.size(); ++k)
        if (program.string_literals[k].size() == s.len &&
            std::memcmp(program.string_literals[k].data(), s.str, s.len) == 0)
          s.str_id = static_cast<int32_t>(k);
    }
  }

  b.budget = options.entry_factor * order.size() + options.entry_slack;
  std::vector<uint32_t> all(order.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint32_t>(i);
  std::vector<uint8_t> excluded(n, 0);
  b.build(all, excluded, 0, 0);
  if (ix->nodes_[0].kind == NodeKind::Leaf) return nullptr;  // nothing split: the chain it is
  ix->empty_ = b.leaf({}, 0, true);

  Stats& st = ix->stats_;
  st.nodes = ix->nodes_.size();
  st.entries = ix->entries_.size();
  st.bytes = ix->nodes_.size() * sizeof(Node) + ix->children_.size() * 4 + ix->bounds_.size() * 8 +
             ix->entries_.size() * sizeof(Entry) + n * (sizeof(Slot) + 9);
  return ix;
}

// The leaf a request reaches from `node`; a Str node on the way also hands its `free` subtree
// to the caller's stack.
uint32_t RuleIndex::descend(uint32_t id, const Slot* slots, uint32_t* stack, int* top) const {
  for (;;) {
    const Node& node = nodes_[id];
    if (node.kind == NodeKind::Leaf) return id;
    const size_t in = static_cast<size_t>(node.input);
    const Slot* v = slots && slots[in].set ? &slots[in]
                    : has_default_[in]     ? &defaults_[in]
                                           : nullptr;
    uint32_t next = node.unknown;
    switch (node.kind) {
      case NodeKind::Enum:
        if (v && v->i >= 0 && v->i < static_cast<int64_t>(node.count))
          next = children_[node.base + static_cast<size_t>(v->i)];
        break;
      case NodeKind::Str: {
        stack[(*top)++] = node.other;
        if (!v) break;
        const int64_t k = static_cast<int64_t>(v->str_id) - node.lo_lit;
        next = v->str_id >= 0 && k >= 0 && k < static_cast<int64_t>(node.count)
                   ? children_[node.base + static_cast<size_t>(k)]
                   : empty_;
        break;
      }
      case NodeKind::Int:
        if (v) {
          // upper_bound without branches (the cuts are few, the comparisons unpredictable):
          // k = the number of cuts <= the value.
          const int64_t* b = bounds_.data() + node.bounds;
          const int64_t x = v->i;
          size_t lo = 0, n = node.count;
          while (n > 0) {
            const size_t half = n / 2;
            const bool right = b[lo + half] <= x;
            lo = right ? lo + half + 1 : lo;
            n = right ? n - half - 1 : half;
          }
          next = children_[node.base + lo];
        }
        break;
      case NodeKind::Leaf:
        break;
    }
    id = next;
  }
}

int RuleIndex::lookup(const Slot* slots, Candidates* out) const {
  uint32_t stack[kMaxLeaves];
  int top = 0, n = 0;
  stack[top++] = 0;
  while (top > 0) {
    const Node& leaf = nodes_[descend(stack[--top], slots, stack, &top)];
    if (leaf.count == 0) continue;
    Candidates& c = out[n++];
    c.e = entries_.data() + leaf.base;
    c.n = leaf.count;
  }
  return n;
}

std::string RuleIndex::describe() const {
  const Stats& s = stats_;
  return "rule index: " + std::to_string(s.rules) + " rules (" + std::to_string(s.indexed_rules) +
         " indexed), " + std::to_string(s.nodes) + " nodes, " + std::to_string(s.leaves) +
         " leaves, " + std::to_string(s.entries) + " entries, largest leaf " +
         std::to_string(s.max_leaf) + ", depth " + std::to_string(s.depth) + ", " +
         std::to_string(s.bytes / 1024) + " KiB";
}

}  // namespace tollgate
