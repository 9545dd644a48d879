// Exact money for the dry-run: prices are integer pico-dollars (1e-12 USD) per token and sums are
// 128-bit integers, so totals never drift the way accumulated doubles do.
#pragma once

#include <cstdint>
#include <string>

namespace tollgate::dryrun {

__extension__ typedef __int128 Pico;  // pico-dollars; __extension__ keeps -Wpedantic quiet

constexpr int64_t kPicoPerUsd = 1000000000000LL;

// USD per token (a table's binary float, e.g. 2.5e-06) rounded to the nearest pico-dollar. Exact
// for every price written with at most 12 decimals, which covers every entry of the tables.
int64_t usd_to_pico(double usd);

// tokens x price; both fit int64 comfortably, the product is taken in 128 bits.
inline Pico token_cost(int64_t tokens, int64_t pico_per_token) {
  return static_cast<Pico>(tokens) * pico_per_token;
}

double pico_to_usd(Pico p);

// "$1,234.57" (rounded half away from zero to `decimals` places; "-$0.12" for negatives).
std::string format_usd(Pico p, int decimals = 2);
// Exact decimal USD with 12 fractional digits, no grouping: "1234.567890123456" (JSON, tests).
std::string format_usd_exact(Pico p);
// Decimal text of a 128-bit integer.
std::string to_string_i128(Pico v);

}  // namespace tollgate::dryrun
