// Sharded map of the Redis ledger's local lease counters (see lease_table.h).
#include "runtime/src/lease_table.h"

#include <cstring>

namespace tollgate::redis {

// budget \x1f unit window \x1f window_start (8 raw bytes) key. Budget names are identifiers, so
// the encoding is unambiguous whatever bytes the key holds.
std::string_view LeaseTable::encode(const CounterId& id, int64_t ws) {
  thread_local std::string buf;
  buf.clear();
  buf.append(id.budget);
  buf.push_back('\x1f');
  buf.push_back(static_cast<char>('0' + static_cast<int>(id.unit)));
  buf.push_back(static_cast<char>('0' + static_cast<int>(id.window)));
  buf.push_back('\x1f');
  char raw[sizeof(ws)];
  std::memcpy(raw, &ws, sizeof(ws));
  buf.append(raw, sizeof(raw));
  buf.append(id.key);
  return buf;
}

void LeaseTable::collect(std::vector<LeaseCounter*>* out) const {
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    for (const auto& kv : s.map) out->push_back(kv.second.get());
  }
}

size_t LeaseTable::erase_if(const std::function<bool(const LeaseCounter&)>& pred) {
  size_t erased = 0;
  for (Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    for (auto it = s.map.begin(); it != s.map.end();) {
      if (pred(*it->second)) {
        it = s.map.erase(it);
        ++erased;
      } else {
        ++it;
      }
    }
  }
  return erased;
}

size_t LeaseTable::size() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.map.size();
  }
  return n;
}

}  // namespace tollgate::redis
