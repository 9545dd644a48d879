// Set operations of the lint domain (see checker_domain.h).
#include "compiler/checker_domain.h"

#include <algorithm>
#include <limits>

namespace tollgate {
namespace check {

namespace {
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
}  // namespace

std::vector<Interval> iv_meet(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  std::vector<Interval> out;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    int64_t lo = std::max(a[i].lo, b[j].lo), hi = std::min(a[i].hi, b[j].hi);
    if (lo <= hi) out.push_back({lo, hi});
    if (a[i].hi < b[j].hi)
      ++i;
    else
      ++j;
  }
  return out;
}

std::vector<Interval> iv_minus(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  std::vector<Interval> out;
  size_t j = 0;
  for (Interval cur : a) {
    while (j < b.size() && b[j].hi < cur.lo) ++j;
    size_t k = j;
    bool alive = true;
    while (alive && k < b.size() && b[k].lo <= cur.hi) {
      if (b[k].lo > cur.lo) out.push_back({cur.lo, b[k].lo - 1});
      if (b[k].hi >= cur.hi) {
        alive = false;
      } else {
        cur.lo = b[k].hi + 1;
        ++k;
      }
    }
    if (alive) out.push_back(cur);
  }
  return out;
}

DimSet Domain::full(int d) const {
  DimSet s;
  s.unset = true;
  if (dims_[d].is_int)
    s.ivs = {{kMin, kMax}};
  else
    s.bits = dims_[d].mask();
  return s;
}

bool Domain::is_empty(int d, const DimSet& s) const {
  if (s.unset) return false;
  return dims_[d].is_int ? s.ivs.empty() : (s.bits & dims_[d].mask()) == 0;
}

bool Domain::is_full(int d, const DimSet& s) const {
  if (!s.unset) return false;
  if (dims_[d].is_int) return s.ivs.size() == 1 && s.ivs[0].lo == kMin && s.ivs[0].hi == kMax;
  return (s.bits & dims_[d].mask()) == dims_[d].mask();
}

DimSet Domain::meet(int d, const DimSet& a, const DimSet& b) const {
  DimSet s;
  s.unset = a.unset && b.unset;
  if (dims_[d].is_int)
    s.ivs = iv_meet(a.ivs, b.ivs);
  else
    s.bits = a.bits & b.bits & dims_[d].mask();
  return s;
}

DimSet Domain::minus(int d, const DimSet& a, const DimSet& b) const {
  DimSet s;
  s.unset = a.unset && !b.unset;
  if (dims_[d].is_int)
    s.ivs = iv_minus(a.ivs, b.ivs);
  else
    s.bits = a.bits & ~b.bits & dims_[d].mask();
  return s;
}

Region Domain::single(int d, DimSet s) const {
  if (is_empty(d, s)) return nothing();
  Box b;
  if (!is_full(d, s)) b.dims.emplace_back(d, std::move(s));
  return Region{{std::move(b)}, false};
}

bool Domain::meet(const Box& a, const Box& b, Box* out) const {
  out->dims.clear();
  size_t i = 0, j = 0;
  while (i < a.dims.size() || j < b.dims.size()) {
    if (j == b.dims.size() || (i < a.dims.size() && a.dims[i].first < b.dims[j].first)) {
      out->dims.push_back(a.dims[i++]);
    } else if (i == a.dims.size() || b.dims[j].first < a.dims[i].first) {
      out->dims.push_back(b.dims[j++]);
    } else {
      int d = a.dims[i].first;
      DimSet s = meet(d, a.dims[i].second, b.dims[j].second);
      if (is_empty(d, s)) return false;
      out->dims.emplace_back(d, std::move(s));
      ++i;
      ++j;
    }
  }
  return true;
}

void Domain::minus(const Box& a, const Box& b, std::vector<Box>* out) const {
  Box tmp;
  if (!meet(a, b, &tmp)) {
    out->push_back(a);
    return;
  }
  // Peel off, dimension by dimension, the part of `a` outside b; `rest` narrows to a ∩ b.
  Box rest = a;
  for (const auto& [d, bs] : b.dims) {
    auto it = std::lower_bound(rest.dims.begin(), rest.dims.end(), d,
                               [](const std::pair<int, DimSet>& p, int k) { return p.first < k; });
    bool present = it != rest.dims.end() && it->first == d;
    DimSet as = present ? it->second : full(d);
    DimSet outside = minus(d, as, bs);
    if (!is_empty(d, outside)) {
      Box piece = rest;
      auto pit = piece.dims.begin() + (it - rest.dims.begin());
      if (present)
        pit->second = std::move(outside);
      else
        piece.dims.insert(pit, {d, std::move(outside)});
      out->push_back(std::move(piece));
    }
    DimSet inside = meet(d, as, bs);
    if (present)
      it->second = std::move(inside);
    else
      rest.dims.insert(it, {d, std::move(inside)});
  }
}

Region Domain::meet(const Region& a, const Region& b) const {
  Region r;
  r.overflow = a.overflow || b.overflow;
  Box tmp;
  for (const auto& x : a.boxes)
    for (const auto& y : b.boxes) {
      if (!meet(x, y, &tmp)) continue;
      if (r.boxes.size() >= kMaxBoxes) {
        r.overflow = true;
        return r;
      }
      r.boxes.push_back(tmp);
    }
  return r;
}

Region Domain::join(const Region& a, const Region& b) const {
  Region r = a;
  r.overflow = a.overflow || b.overflow;
  for (const auto& y : b.boxes) {
    if (r.boxes.size() >= kMaxBoxes) {
      r.overflow = true;
      return r;
    }
    r.boxes.push_back(y);
  }
  return r;
}

bool Domain::covered(const Region& a, const std::vector<const Box*>& cover, int64_t* budget,
                     std::vector<size_t>* used) const {
  if (a.overflow) return false;
  std::vector<Box> work = a.boxes, next;
  Box tmp;
  for (size_t i = 0; i < cover.size(); ++i) {
    if (work.empty()) return true;
    next.clear();
    bool touched = false;
    for (const Box& w : work) {
      if (--*budget < 0) return false;
      if (!meet(w, *cover[i], &tmp)) {
        next.push_back(w);
      } else {
        touched = true;
        minus(w, *cover[i], &next);
      }
      if (next.size() > 4 * kMaxBoxes) return false;
    }
    if (touched && used) used->push_back(i);
    work.swap(next);
  }
  return work.empty();
}

}  // namespace check
}  // namespace tollgate
