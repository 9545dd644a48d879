// Number conversions for log fields: a double from untrusted text becomes an int64 only when it
// fits, because an out-of-range conversion is undefined behaviour (found by log_reader_fuzz).
#pragma once

#include <cstdint>

namespace tollgate::dryrun {

// False for NaN, infinities and values outside int64; otherwise truncates toward zero.
inline bool double_to_int64(double d, int64_t* out) {
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

}  // namespace tollgate::dryrun
