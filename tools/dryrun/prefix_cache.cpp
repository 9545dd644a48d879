// Prefix cache simulation (see prefix_cache.h).
#include "tools/dryrun/prefix_cache.h"

#include <algorithm>

namespace tollgate::dryrun {

int64_t PrefixCache::lookup_and_insert(uint32_t model, const std::vector<uint64_t>& hashes,
                                       int64_t now_ms) {
  int64_t hits = 0;
  bool run = true;
  for (uint64_t h : hashes) {
    auto [it, inserted] = last_use_.try_emplace(key(model, h), now_ms);
    if (run && !inserted && now_ms - it->second <= ttl_ms_ && now_ms >= it->second - ttl_ms_) {
      ++hits;
    } else {
      run = false;
    }
    it->second = now_ms;
  }
  if (last_use_.size() >= sweep_at_) sweep(now_ms);
  return hits;
}

void PrefixCache::sweep(int64_t now_ms) {
  for (auto it = last_use_.begin(); it != last_use_.end();) {
    if (now_ms - it->second > ttl_ms_)
      it = last_use_.erase(it);
    else
      ++it;
  }
  // Sweep again when the live set has doubled, so sweeping stays amortised O(1) per insert.
  sweep_at_ = std::max<size_t>(1 << 16, last_use_.size() * 2);
  last_sweep_ = now_ms;
}

}  // namespace tollgate::dryrun
