// A compiled rule SET: a dispatch tree over the indexable conjuncts of every rule's condition, so a
// decision evaluates only the rules that can still fire for its inputs (RE2::Set and Cedar's
// policy indexing in spirit). First-match per field and the error semantics are unchanged because
// the index only ever PRUNES a rule whose condition is certainly `false` for this request, with no
// effect on anything later evaluation or the host can observe:
//
//  * A conjunct is indexable when it compares one input with constants: a string input `==` a
//    literal or `in` a list of literals, an enum input `== != in` members, an int input
//    `== < <= > >=` an int literal. Lets are looked through. Only conjuncts of the condition's
//    top-level `and` chain count, and only while every conjunct to their left is free of effects
//    (no string `+`, which uses the per-decision scratch, no budget view, which calls spent()).
//  * When that input has a known value (set, or its default) such a conjunct evaluates to a bool
//    without error, so if it is false the whole `and` chain is false (false absorbs errors on
//    either side) and the interpreter would have evaluated only effect-free conjuncts before it.
//  * An input without a known value (unset without default, an out-of-range enum slot) takes the
//    node's `unknown` branch, which keeps every rule as far as that input is concerned.
//
// Candidates come back in evaluation order; each carries the fields that it and the candidates
// after it could still set, so the loop stops as soon as nothing left can change the decision.
// The interpreter and the JIT both dispatch through the same index (run_candidates below), and
// the tracing interpreter (explain) walks the full chain, so a trace shows every rule.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compiler/ast.h"
#include "tollgate/decision.hpp"
#include "tollgate/request.hpp"

namespace tollgate {

struct EvalContext;

// Every limit of the index builder is a field here (cel-cpp's habit).
struct RuleIndexOptions {
  // Policies with fewer rules keep the plain chain: it is as fast, and its code is smaller.
  size_t min_rules = 64;
  // A node with at most this many rules is a leaf (scanned in order).
  size_t leaf_rules = 8;
  // Rules appear in several leaves (a rule that does not test an input sits under every value
  // of it). The builder stops splitting once the leaves hold more than
  // entry_factor * rules + entry_slack entries in all, so memory stays linear.
  size_t entry_factor = 32;
  size_t entry_slack = 4096;
  // An int split cuts the input's range at most this many times (at quantiles of the rules'
  // thresholds when they have more distinct ones).
  size_t max_cuts = 32;
  // A split is taken only when its mean child is at most this fraction of the node.
  double min_gain = 0.75;

  // No index at all: the plain chain (the reference the differential test compares against).
  static RuleIndexOptions chain() {
    RuleIndexOptions o;
    o.min_rules = static_cast<size_t>(-1);
    return o;
  }
};

class RuleIndex {
 public:
  // Need bits of a candidate (for early exit): the decided-once fields, and kAlways for a rule
  // whose standalone caps or tags keep it live whatever is decided.
  static constexpr uint8_t kNeedRoute = 1, kNeedRetry = 2, kNeedRag = 4, kNeedCache = 8;
  static constexpr uint8_t kAlways = 0x80;

  // One candidate of a leaf.
  struct Entry {
    uint32_t pos;    // position in the evaluation order (ascending within a leaf)
    uint32_t next;   // the next entry whose own need differs: a run of rules that can only set
                     // fields already decided is skipped in one step
    uint8_t own;     // this rule's need bits
    uint8_t suffix;  // the OR of the need bits of this entry and every later one in the leaf
  };
  // Plain (no initializers): the candidate loop keeps kMaxLeaves of them on the stack per
  // decision, and lookup fills the ones it returns.
  struct Candidates {
    const Entry* e;
    uint32_t n;
  };

  // Null when the policy has fewer than options.min_rules rules or nothing to index. `order` is
  // the evaluation order (Program::eval_order); `ctx` supplies the inputs' defaults.
  static std::unique_ptr<RuleIndex> build(const Program& program, const EvalContext& ctx,
                                          const std::vector<int32_t>& order,
                                          const RuleIndexOptions& options = {});

  // Leaves one lookup can reach (each string split on the way adds its `free` subtree).
  static constexpr int kMaxLeaves = 8;

  // The candidates for one request: fills up to kMaxLeaves lists (disjoint; each ascending) and
  // returns how many. No allocation; a few loads per tree level.
  int lookup(const Slot* slots, Candidates* out) const;

  // The fields a decision has not decided yet, as need bits.
  static uint8_t undecided(const Decision& d) {
    return static_cast<uint8_t>((d.rule[static_cast<int>(Field::Route)] < 0 ? kNeedRoute : 0) |
                                (d.rule[static_cast<int>(Field::Retry)] < 0 ? kNeedRetry : 0) |
                                (d.rule[static_cast<int>(Field::Rag)] < 0 ? kNeedRag : 0) |
                                (d.rule[static_cast<int>(Field::Cache)] < 0 ? kNeedCache : 0));
  }

  struct Stats {
    size_t rules = 0;          // rules in the policy
    size_t indexed_rules = 0;  // rules with at least one indexable conjunct
    size_t nodes = 0, leaves = 0, entries = 0, depth = 0;
    size_t max_leaf = 0;  // the largest leaf a request with known values can reach
    size_t bytes = 0;     // memory held by the index
  };
  const Stats& stats() const { return stats_; }
  std::string describe() const;  // one line, for `tollgate check --stats` style output and tests

  enum class NodeKind : uint8_t { Leaf, Enum, Str, Int };
  struct Node {
    NodeKind kind = NodeKind::Leaf;
    int32_t input = -1;
    uint32_t unknown = 0;  // child when the input's value is not known
    uint32_t base = 0;     // Leaf: first entry; Enum/Str/Int: first child
    uint32_t count = 0;    // Leaf: entries; Enum: members; Str: literal id span; Int: bounds
                           // (Enum/Int children hold the rules that do not test the input too;
                           // Str children only the rules naming that literal)
    int32_t lo_lit = 0;    // Str: literal id of child `base`; a value outside the span -> `other`
    uint32_t other = 0;    // Str: the subtree of the rules that do not test the input
    uint32_t bounds = 0;   // Int: first bound in bounds_ (child k covers [b[k-1], b[k]) )
  };

 private:
  friend struct RuleIndexBuilder;
  std::vector<Node> nodes_;         // nodes_[0] is the root
  std::vector<uint32_t> children_;  // node ids
  std::vector<int64_t> bounds_;     // Int cut points, ascending per node
  std::vector<Entry> entries_;      // leaf contents
  // The effective value source per input: has a default, and the default slot (a string
  // default's str_id resolved against the literals, as Request interns a set string).
  std::vector<uint8_t> has_default_;
  std::vector<Slot> defaults_;
  std::vector<int64_t> enum_size_;  // per input: member count for enum inputs, else 0
  uint32_t empty_ = 0;              // a leaf with no rules
  Stats stats_;

  uint32_t descend(uint32_t node, const Slot* slots, uint32_t* stack, int* top) const;
};

// The candidate loop both evaluators share. `step(pos)` evaluates the rule at eval-order
// position `pos` exactly as the chain would (its own live test included). Several lists are
// merged by position; the loop ends once nothing left in any list can change the decision.
template <class Step>
inline void run_candidates(const RuleIndex& index, const Slot* slots, Decision* out, Step&& step) {
  using E = RuleIndex::Entry;
  constexpr uint8_t kAlways = RuleIndex::kAlways;
  RuleIndex::Candidates c[RuleIndex::kMaxLeaves];
  const int k = index.lookup(slots, c);
  if (k == 1) {
    const E* e = c[0].e;
    for (uint32_t i = 0; i < c[0].n;) {
      const uint8_t open = RuleIndex::undecided(*out);
      if (!(e[i].suffix & kAlways) && !(e[i].suffix & open)) return;
      if (!(e[i].own & kAlways) && !(e[i].own & open)) {
        i = e[i].next;
        continue;
      }
      step(e[i].pos);
      ++i;
    }
    return;
  }
  uint32_t at[RuleIndex::kMaxLeaves] = {};
  for (;;) {
    const uint8_t open = RuleIndex::undecided(*out);
    int best = -1;
    uint8_t need = 0;
    for (int j = 0; j < k; ++j) {
      const E* e = c[j].e;
      uint32_t& i = at[j];
      while (i < c[j].n && !(e[i].own & kAlways) && !(e[i].own & open)) i = e[i].next;
      if (i == c[j].n) continue;
      need |= e[i].suffix;
      if (best < 0 || e[i].pos < c[best].e[at[best]].pos) best = j;
    }
    if (best < 0 || (!(need & kAlways) && !(need & open))) return;
    step(c[best].e[at[best]++].pos);
  }
}

}  // namespace tollgate
