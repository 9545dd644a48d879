// Short byte strings a word at a time: unaligned loads, and an equality test and a copy that
// touch only the bytes they are given (overlapping words instead of a byte loop or a memcmp /
// memcpy call). Shared by the JSON scanner, the string hash, key and enum matching, and packing.
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

// memcpy of a short string (attribute values are mostly a few bytes, model names a few dozen) as
// two overlapping word moves instead of a call into the library's size dispatch.
inline void copy_bytes(char* dst, const char* src, size_t n) {
  if (n > 16) {
    if (n > 32) {
      std::memcpy(dst, src, n);
      return;
    }
    char a[16], b[16];
    std::memcpy(a, src, 16);
    std::memcpy(b, src + n - 16, 16);
    std::memcpy(dst, a, 16);
    std::memcpy(dst + n - 16, b, 16);
  } else if (n >= 8) {
    const uint64_t a = load_u64(src), b = load_u64(src + n - 8);
    std::memcpy(dst, &a, 8);
    std::memcpy(dst + n - 8, &b, 8);
  } else if (n >= 4) {
    const uint32_t a = load_u32(src), b = load_u32(src + n - 4);
    std::memcpy(dst, &a, 4);
    std::memcpy(dst + n - 4, &b, 4);
  } else if (n > 0) {
    dst[0] = src[0];
    dst[n / 2] = src[n / 2];
    dst[n - 1] = src[n - 1];
  }
}

}  // namespace tollgate::dryrun
