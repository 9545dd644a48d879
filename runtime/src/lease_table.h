// The Redis ledger's local counters: 64 shards of tsl::robin_map, each under a mutex that also
// guards its counters' hot fields. Lookups of existing counters build their key in a thread-local
// buffer and never allocate. Counters are heap objects with stable addresses; only the background
// thread removes them, so it may keep collected pointers and lock each counter's shard to use it.
#pragma once

#include <tsl/robin_map.h>

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/src/lease_counter.h"
#include "tollgate/ledger_backend.hpp"

namespace tollgate::redis {

class LeaseTable {
 public:
  using Factory = std::function<std::unique_ptr<LeaseCounter>(const CounterId&, int64_t)>;
  explicit LeaseTable(Factory factory) : factory_(std::move(factory)) {}

  // Calls f(LeaseCounter*) under the counter's shard mutex; the pointer is null when the counter
  // does not exist and create is false. Returns f's result. The factory may throw (allocation).
  template <class F>
  auto visit(const CounterId& id, int64_t ws, bool create, F&& f) {
    std::string_view k = encode(id, ws);
    size_t h = std::hash<std::string_view>()(k);
    const int index = shard_index(h);
    Shard& s = shards_[index];
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(k, h);
    if (it == s.map.end() && create) {
      std::unique_ptr<LeaseCounter> c = factory_(id, ws);
      c->shard = index;
      it = s.map.emplace(std::string(k), std::move(c)).first;
    }
    return f(it == s.map.end() ? nullptr : it->second.get());
  }

  // The mutex guarding c's hot fields.
  std::mutex& mutex_of(const LeaseCounter& c) const { return shards_[c.shard].mu; }

  // Calls f(const LeaseCounter&) for every counter, each under its shard's mutex.
  template <class F>
  void for_each(F&& f) const {
    for (const Shard& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mu);
      for (const auto& kv : s.map) f(*kv.second);
    }
  }
  // Appends every counter (background thread only: the pointers stay valid until it erases).
  void collect(std::vector<LeaseCounter*>* out) const;
  // Erases the counters for which pred(counter) holds (called under the shard mutex).
  size_t erase_if(const std::function<bool(const LeaseCounter&)>& pred);
  size_t size() const;

 private:
  static constexpr int kShardBits = 6;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };
  using Map = tsl::robin_map<std::string, std::unique_ptr<LeaseCounter>, Hash, Eq>;
  struct alignas(64) Shard {
    mutable std::mutex mu;
    Map map;
  };

  static std::string_view encode(const CounterId& id, int64_t ws);
  // The map uses the low bits of the hash for buckets; the shard takes the top bits.
  static int shard_index(size_t h) {
    return static_cast<int>(h >> (sizeof(size_t) * 8 - kShardBits));
  }

  Factory factory_;
  mutable std::array<Shard, 1 << kShardBits> shards_;
};

}  // namespace tollgate::redis
