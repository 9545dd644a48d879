// A string-keyed hash map that looks up by std::string_view without building a std::string
// (tsl::robin_map with transparent hashing): the replay's per-record lookups (budget counters,
// tenant and task interning) must not allocate.
#pragma once

#include <tsl/robin_map.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace tollgate::dryrun {

struct StrHash {
  using is_transparent = void;
  // FNV-1a: keys are short (tenant names, budget keys), where it beats a block hash.
  size_t operator()(std::string_view s) const {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    return static_cast<size_t>(h ^ (h >> 32));
  }
  size_t operator()(const std::string& s) const { return (*this)(std::string_view(s)); }
};

struct StrEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

template <typename V>
using StrMap = tsl::robin_map<std::string, V, StrHash, StrEq>;

}  // namespace tollgate::dryrun
