// The Redis ledger's local counters: 64 shards of tsl::robin_map under reader/writer locks.
// Lookups of existing counters build their key in a thread-local buffer and never allocate.
// Counters are heap objects with stable addresses; only the background thread removes them
// (under the shard's exclusive lock), so it may walk collected pointers without holding locks.
#pragma once

#include <tsl/robin_map.h>

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
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

  // Calls f(LeaseCounter*) under the shard's shared lock; the pointer is null when the counter
  // does not exist and create is false. Returns f's result.
  template <class F>
  auto visit(const CounterId& id, int64_t ws, bool create, F&& f) {
    std::string_view k = encode(id, ws);
    size_t h = std::hash<std::string_view>()(k);
    Shard& s = shard(h);
    {
      std::shared_lock<std::shared_mutex> lock(s.mu);
      auto it = s.map.find(k, h);
      if (it != s.map.end() || !create) return f(it == s.map.end() ? nullptr : it->second.get());
    }
    {
      std::unique_lock<std::shared_mutex> lock(s.mu);
      if (s.map.find(k, h) == s.map.end()) s.map.emplace(std::string(k), factory_(id, ws));
    }
    std::shared_lock<std::shared_mutex> lock(s.mu);
    auto it = s.map.find(k, h);
    return f(it == s.map.end() ? nullptr : it->second.get());
  }

  // Calls f(const LeaseCounter&) for every counter, under the shards' shared locks.
  template <class F>
  void for_each(F&& f) const {
    for (const Shard& s : shards_) {
      std::shared_lock<std::shared_mutex> lock(s.mu);
      for (const auto& kv : s.map) f(*kv.second);
    }
  }
  // Appends every counter (background thread only: the pointers stay valid until it erases).
  void collect(std::vector<LeaseCounter*>* out) const;
  // Erases the counters for which pred(counter) holds, under the exclusive lock. Returns how many.
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
    mutable std::shared_mutex mu;
    Map map;
  };

  static std::string_view encode(const CounterId& id, int64_t ws);
  Shard& shard(size_t h) { return shards_[h >> (sizeof(size_t) * 8 - kShardBits)]; }

  Factory factory_;
  std::array<Shard, 1 << kShardBits> shards_;
};

}  // namespace tollgate::redis
