// Fixed-bucket histogram for token counts: exact below 1024, then 64 log-spaced buckets per power
// of two (<1.6% relative error), so p50/p95 need constant memory however long the log is.
#pragma once

#include <array>
#include <cstdint>

namespace tollgate::dryrun {

class Histogram {
 public:
  static constexpr int kExact = 1024;
  static constexpr int kSub = 64;
  static constexpr int kOctaves = 40;  // up to 2^50 tokens
  static constexpr int kBuckets = kExact + kSub * kOctaves;

  void add(int64_t v) {
    ++counts_[bucket(v)];
    ++total_;
  }
  uint64_t count() const { return total_; }
  // The value at quantile q in [0, 1] (lower edge of its bucket; exact below 1024). 0 if empty.
  int64_t quantile(double q) const {
    if (total_ == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
    uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return lower(i);
    }
    return lower(kBuckets - 1);
  }
  void merge(const Histogram& o) {
    for (int i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
  }

  static int bucket(int64_t v) {
    if (v < 0) v = 0;
    if (v < kExact) return static_cast<int>(v);
    int msb = 63 - __builtin_clzll(static_cast<uint64_t>(v));  // >= 10
    int octave = msb - 10;
    if (octave >= kOctaves) return kBuckets - 1;
    int sub = static_cast<int>((static_cast<uint64_t>(v) >> (msb - 6)) & (kSub - 1));
    return kExact + octave * kSub + sub;
  }
  static int64_t lower(int b) {
    if (b < kExact) return b;
    int octave = (b - kExact) / kSub, sub = (b - kExact) % kSub;
    int msb = octave + 10;
    return (int64_t{1} << msb) + (static_cast<int64_t>(sub) << (msb - 6));
  }

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
};

}  // namespace tollgate::dryrun
