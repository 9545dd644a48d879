// Short byte strings read a word at a time: unaligned loads and an equality test that reads
// only the bytes it is given (overlapping words instead of a byte loop or a memcmp call). Shared
// by the JSON scanner, the string hash and the per-record key and enum matching.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tollgate::dryrun {

inline uint64_t load_u64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t load_u32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Equality of short byte strings by overlapping word loads instead of a memcmp call (keys and
// attribute names are mostly under 32 bytes). Reads only [a, a+n) and [b, b+n).
inline __attribute__((always_inline)) bool bytes_equal(const char* a, const char* b, size_t n) {
  if (n >= 8) {
    if (n <= 16)
      return ((load_u64(a) ^ load_u64(b)) | (load_u64(a + n - 8) ^ load_u64(b + n - 8))) == 0;
    if (n <= 32)
      return ((load_u64(a) ^ load_u64(b)) | (load_u64(a + 8) ^ load_u64(b + 8)) |
              (load_u64(a + n - 16) ^ load_u64(b + n - 16)) |
              (load_u64(a + n - 8) ^ load_u64(b + n - 8))) == 0;
    return std::memcmp(a, b, n) == 0;
  }
  if (n >= 4)
    return ((load_u32(a) ^ load_u32(b)) | (load_u32(a + n - 4) ^ load_u32(b + n - 4))) == 0;
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

}  // namespace tollgate::dryrun
