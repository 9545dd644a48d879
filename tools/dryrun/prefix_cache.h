// Simulated provider prompt cache over prefix-block hashes (Mooncake's hash_ids): a request reads
// the leading run of its blocks that some earlier request on the same model wrote or read within
// the TTL (reads refresh the TTL, as Anthropic's and OpenAI's caches do), then writes all its
// blocks. Expired entries are swept as the replay clock advances, so memory follows the live set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace tollgate::dryrun {

class PrefixCache {
 public:
  explicit PrefixCache(int64_t ttl_ms) : ttl_ms_(ttl_ms) {}
  // Number of leading blocks of `hashes` served from the cache for `model` at now_ms; then
  // records every block as fresh.
  int64_t lookup_and_insert(uint32_t model, const std::vector<uint64_t>& hashes, int64_t now_ms);
  size_t size() const { return last_use_.size(); }

 private:
  static uint64_t key(uint32_t model, uint64_t h) {
    return (h * 0x9E3779B97F4A7C15ULL) ^ (static_cast<uint64_t>(model) << 56) ^ model;
  }
  void sweep(int64_t now_ms);

  int64_t ttl_ms_;
  std::unordered_map<uint64_t, int64_t> last_use_;
  int64_t last_sweep_ = INT64_MIN;
  size_t sweep_at_ = 1 << 16;
};

}  // namespace tollgate::dryrun
