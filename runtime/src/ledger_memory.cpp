// The in-process LedgerBackend: 64 shards, each a tsl::robin_map under its own mutex. A counter is
// found by a composite key built in a thread-local buffer and looked up heterogeneously, so reads
// and updates of existing counters never allocate.
#include <tsl/robin_map.h>

#include <array>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "tollgate/budget.hpp"
#include "tollgate/ledger_backend.hpp"

namespace tollgate {
namespace {

constexpr int kShardBits = 6;
constexpr int kShards = 1 << kShardBits;

struct Counter {
  BudgetWindow window = BudgetWindow::Month;
  int64_t window_start = 0;
  int64_t committed = 0;
  int64_t reserved = 0;
};

struct Hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
struct Eq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

using Map = tsl::robin_map<std::string, Counter, Hash, Eq>;

struct alignas(64) Shard {
  mutable std::mutex mu;
  Map map;
};

// budget \x1f unit window \x1f key. Budget names are identifiers, so \x1f cannot occur in them and
// the encoding is unambiguous even when keys contain it.
std::string_view encode(const CounterId& id) {
  thread_local std::string buf;
  buf.clear();
  buf.append(id.budget);
  buf.push_back('\x1f');
  buf.push_back(static_cast<char>('0' + static_cast<int>(id.unit)));
  buf.push_back(static_cast<char>('0' + static_cast<int>(id.window)));
  buf.push_back('\x1f');
  buf.append(id.key);
  return buf;
}

bool decode(const std::string& k, CounterEntry* e) {
  size_t a = k.find('\x1f');
  if (a == std::string::npos || k.size() < a + 4 || k[a + 3] != '\x1f') return false;
  e->budget = k.substr(0, a);
  e->unit = static_cast<BudgetUnit>(k[a + 1] - '0');
  e->window = static_cast<BudgetWindow>(k[a + 2] - '0');
  e->key = k.substr(a + 4);
  return true;
}

// Brings a counter to window ws: a newer window resets it. Returns false when ws is older than the
// stored window (the write is stale and must be ignored).
bool roll(Counter& c, int64_t ws) {
  if (c.window_start == ws) return true;
  if (c.window_start > ws) return false;
  c.window_start = ws;
  c.committed = 0;
  c.reserved = 0;
  return true;
}

class MemoryBackend final : public LedgerBackend {
 public:
  int64_t spent(const CounterId& id, int64_t ws) const override {
    std::string_view k = encode(id);
    size_t h = Hash()(k);
    const Shard& s = shard(h);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(k, h);
    if (it == s.map.end() || it->second.window_start != ws) return 0;
    return it->second.committed + it->second.reserved;
  }

  ReserveResult try_reserve(const CounterId& id, int64_t ws, int64_t amount,
                            int64_t limit) override {
    std::string_view k = encode(id);
    size_t h = Hash()(k);
    Shard& s = shard(h);
    std::lock_guard<std::mutex> lock(s.mu);
    Counter& c = find_or_insert(s, k, h, id.window, ws);
    if (!roll(c, ws)) return ReserveResult::Exceeded;  // clock went backwards past a window
    // amount > limit - used, written without overflow (limit may be INT64_MAX).
    int64_t used = c.committed + c.reserved;
    if (amount > 0 && (used > limit || amount > limit - used)) return ReserveResult::Exceeded;
    c.reserved += amount;
    return ReserveResult::Ok;
  }

  void add(const CounterId& id, int64_t ws, int64_t committed_delta,
           int64_t reserved_delta) override {
    std::string_view k = encode(id);
    size_t h = Hash()(k);
    Shard& s = shard(h);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(k, h);
    if (it == s.map.end()) {
      if (committed_delta == 0 && reserved_delta <= 0) return;  // nothing to settle into
      it = s.map.emplace(std::string(k), Counter{id.window, ws, 0, 0}).first;
    }
    Counter& c = it.value();
    if (!roll(c, ws)) return;
    c.committed += committed_delta;
    c.reserved += reserved_delta;
    if (c.reserved < 0) c.reserved = 0;
  }

  void entries(std::vector<CounterEntry>* out) const override {
    for (const Shard& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mu);
      for (const auto& kv : s.map) {
        CounterEntry e;
        if (!decode(kv.first, &e)) continue;
        e.window_start = kv.second.window_start;
        e.committed = kv.second.committed;
        e.reserved = kv.second.reserved;
        out->push_back(std::move(e));
      }
    }
  }

  size_t drop_expired(int64_t now_ms) override {
    size_t dropped = 0;
    for (Shard& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mu);
      for (auto it = s.map.begin(); it != s.map.end();) {
        // Reservations of an ended window are dropped too: settling them later is a no-op.
        if (it->second.window_start < window_start(it->second.window, now_ms)) {
          it = s.map.erase(it);
          ++dropped;
        } else {
          ++it;
        }
      }
    }
    return dropped;
  }

  const char* name() const override { return "memory"; }

 private:
  // The map uses the low bits of the hash for buckets; the shard takes the top bits.
  Shard& shard(size_t h) { return shards_[h >> (sizeof(size_t) * 8 - kShardBits)]; }
  const Shard& shard(size_t h) const { return shards_[h >> (sizeof(size_t) * 8 - kShardBits)]; }

  static Counter& find_or_insert(Shard& s, std::string_view k, size_t h, BudgetWindow w,
                                 int64_t ws) {
    auto it = s.map.find(k, h);
    if (it == s.map.end()) it = s.map.emplace(std::string(k), Counter{w, ws, 0, 0}).first;
    return it.value();
  }

  std::array<Shard, kShards> shards_;
};

}  // namespace

std::unique_ptr<LedgerBackend> make_memory_backend() {
  return std::make_unique<MemoryBackend>();
}

}  // namespace tollgate
