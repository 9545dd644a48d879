// Formatting and conversion of exact pico-dollar amounts.
#include "tools/dryrun/money.h"

#include <cmath>

namespace tollgate::dryrun {

int64_t usd_to_pico(double usd) {
  return std::llround(usd * static_cast<double>(kPicoPerUsd));
}

namespace {

// Whole dollars and the fraction converted apart, so large totals keep their precision.
template <typename Int>
double split_to_usd(Int p) {
  return static_cast<double>(p / kPicoPerUsd) +
         static_cast<double>(p % kPicoPerUsd) / static_cast<double>(kPicoPerUsd);
}

}  // namespace

double pico_to_usd(Pico p) {
  // Per-call costs fit in 64 bits, where the division is one instruction, not a libgcc call.
  if (p >= 0 && p <= INT64_MAX) return split_to_usd(static_cast<int64_t>(p));
  return split_to_usd(p);
}

__extension__ typedef unsigned __int128 UPico;

std::string to_string_i128(Pico v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  UPico u = neg ? static_cast<UPico>(-(v + 1)) + 1 : static_cast<UPico>(v);
  char buf[48];
  int i = 47;
  buf[i] = 0;
  while (u > 0) {
    buf[--i] = static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  }
  if (neg) buf[--i] = '-';
  return std::string(buf + i);
}

std::string format_usd_exact(Pico p) {
  bool neg = p < 0;
  Pico a = neg ? -p : p;
  std::string whole = to_string_i128(a / kPicoPerUsd);
  std::string frac = to_string_i128(a % kPicoPerUsd);
  frac.insert(0, 12 - frac.size(), '0');
  return (neg ? "-" : "") + whole + "." + frac;
}

std::string format_usd(Pico p, int decimals) {
  if (decimals < 0) decimals = 0;
  if (decimals > 12) decimals = 12;
  bool neg = p < 0;
  Pico a = neg ? -p : p;
  Pico unit = 1;
  for (int i = 0; i < 12 - decimals; ++i) unit *= 10;
  Pico rounded = (a + unit / 2) / unit;  // in units of 10^-decimals USD
  Pico scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  std::string whole = to_string_i128(rounded / scale);
  std::string grouped;
  int n = static_cast<int>(whole.size());
  for (int i = 0; i < n; ++i) {
    grouped += whole[i];
    if ((n - i - 1) % 3 == 0 && i != n - 1) grouped += ',';
  }
  std::string out = (neg && rounded != 0 ? "-$" : "$") + grouped;
  if (decimals > 0) {
    std::string frac = to_string_i128(rounded % scale);
    frac.insert(0, decimals - frac.size(), '0');
    out += "." + frac;
  }
  return out;
}

}  // namespace tollgate::dryrun
