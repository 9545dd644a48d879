// A string-keyed hash map that looks up by std::string_view without building a std::string
// (tsl::robin_map with transparent hashing): the replay's per-record lookups (budget counters,
// tenant and task interning) must not allocate.
#pragma once

#include <tsl/robin_map.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "tools/dryrun/bytes.h"

namespace tollgate::dryrun {

struct StrHash {
  using is_transparent = void;
  // Keys are short (tenant names, budget keys, task names): read them as at most two overlapping
  // words and fold a 64x64->128 multiply (the small-key path of wyhash-style hashes), instead of
  // a loop per byte. Longer keys fold 16 bytes a round.
  size_t operator()(std::string_view s) const {
    const char* p = s.data();
    size_t n = s.size();
    uint64_t seed = 0x9E3779B97F4A7C15ULL ^ n;
    uint64_t a, b;
    if (n > 16) {
      for (; n > 16; p += 16, n -= 16) seed = mix(load_u64(p) ^ kK1, load_u64(p + 8) ^ seed);
      a = load_u64(p + n - 16);
      b = load_u64(p + n - 8);
    } else if (n >= 8) {
      a = load_u64(p);
      b = load_u64(p + n - 8);
    } else if (n >= 4) {
      a = load_u32(p);
      b = load_u32(p + n - 4);
    } else if (n > 0) {
      a = static_cast<uint64_t>(static_cast<unsigned char>(p[0])) << 16 |
          static_cast<uint64_t>(static_cast<unsigned char>(p[n >> 1])) << 8 |
          static_cast<unsigned char>(p[n - 1]);
      b = 0;
    } else {
      a = b = 0;
    }
    return static_cast<size_t>(mix(mix(a ^ kK1, b ^ seed ^ kK2), kK2 ^ s.size()));
  }
  size_t operator()(const std::string& s) const { return (*this)(std::string_view(s)); }

 private:
  static constexpr uint64_t kK1 = 0xA0761D6478BD642FULL, kK2 = 0xE7037ED1A0B428DBULL;
  static uint64_t mix(uint64_t a, uint64_t b) {
    __extension__ using U128 = unsigned __int128;
    U128 r = static_cast<U128>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
  }
};

struct StrEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const {
    return a.size() == b.size() && bytes_equal(a.data(), b.data(), a.size());
  }
};

// The hash is stored with each entry: a probe compares it before the key bytes, so a miss or
// a collision in the probe sequence costs no memcmp.
template <typename V>
using StrMap =
    tsl::robin_map<std::string, V, StrHash, StrEq, std::allocator<std::pair<std::string, V>>,
                   /*StoreHash=*/true>;

}  // namespace tollgate::dryrun
