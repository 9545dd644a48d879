// A finite set algebra over requests, for the shadowing and totality lints: each input is one
// dimension (enum members / bool values as a bitmask, ints as interval sets, any other type only
// "set or not"), plus an "unset" element. A Region is a union of boxes (one value set per
// dimension); unions, intersections and coverage (box subtraction) are exact, and every operation
// is bounded so that a huge policy degrades to "unknown" instead of hanging.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace tollgate {
namespace check {

struct Interval {
  int64_t lo, hi;  // inclusive
};

// The values of one dimension in a box.
struct DimSet {
  bool unset = true;
  uint64_t bits = 0;          // enum-like dimensions: member bitmask
  std::vector<Interval> ivs;  // int dimensions: sorted, disjoint, non-adjacent
};

struct Dim {
  bool is_int = false;
  int members = 1;  // enum-like: number of values (bool: 2; string/float: 1, "set")
  uint64_t mask() const { return members >= 64 ? ~0ull : ((1ull << members) - 1); }
};

// Dimensions not listed are unconstrained (the full set).
struct Box {
  std::vector<std::pair<int, DimSet>> dims;  // sorted by dimension
};

struct Region {
  std::vector<Box> boxes;  // union; empty = the empty set
  bool overflow = false;   // an operation exceeded its bound: the caller must widen or narrow
};

class Domain {
 public:
  explicit Domain(std::vector<Dim> dims) : dims_(std::move(dims)) {}

  DimSet full(int d) const;
  bool is_empty(int d, const DimSet& s) const;
  bool is_full(int d, const DimSet& s) const;
  DimSet meet(int d, const DimSet& a, const DimSet& b) const;
  DimSet minus(int d, const DimSet& a, const DimSet& b) const;

  static Region everything() { return Region{{Box{}}, false}; }
  static Region nothing() { return Region{}; }
  Region single(int d, DimSet s) const;
  Region meet(const Region& a, const Region& b) const;
  Region join(const Region& a, const Region& b) const;

  bool meet(const Box& a, const Box& b, Box* out) const;  // false when empty
  // Appends the pieces of a \ b (disjoint boxes) to out.
  void minus(const Box& a, const Box& b, std::vector<Box>* out) const;

  // Whether every request in `a` lies in the union of `cover`. False when unsure: `budget` counts
  // down box operations shared across calls, and an exhausted budget answers false.
  // When `used` is given, it receives the indexes of the cover boxes that took part.
  bool covered(const Region& a, const std::vector<const Box*>& cover, int64_t* budget,
               std::vector<size_t>* used = nullptr) const;

  static constexpr size_t kMaxBoxes = 128;

 private:
  std::vector<Dim> dims_;
};

// Interval-set helpers (exposed for tests).
std::vector<Interval> iv_meet(const std::vector<Interval>& a, const std::vector<Interval>& b);
std::vector<Interval> iv_minus(const std::vector<Interval>& a, const std::vector<Interval>& b);

}  // namespace check
}  // namespace tollgate
