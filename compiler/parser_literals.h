// Decoding of literal spellings into values (8k, 2min, 80%, $0.05, $3/M, "a\n"), shared by the
// parse-tree builder. No ANTLR here: these are plain string functions, tested through the parser.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tollgate::parser_detail {

// On failure each returns false and sets `error` to a one-line message (no file:line:col).

// `1_000`, `8k`, `2M`. With `negated` the bound is 2^63 so `-9223372036854775808` fits.
bool decode_int(std::string_view text, bool negated, int64_t& out, std::string& error);
// `200ms`, `5s`, `2min`, `1h` -> milliseconds.
bool decode_duration(std::string_view text, int64_t& out, std::string& error);
// `0.5`, `1_000.25` (no suffix); also used for the digits of money and percentages.
bool decode_float(std::string_view text, double& out, std::string& error);
// `80%` -> 0.8 (correctly rounded from the decimal text).
bool decode_percent(std::string_view text, double& out, std::string& error);
// `$0.05`, `$5k` -> USD.
bool decode_money(std::string_view text, double& out, std::string& error);
// `$1.25/M` -> 1.25 (USD per million tokens).
bool decode_price(std::string_view text, double& out, std::string& error);
// `"a\"b"` -> a"b. `error_offset` is the byte offset (within text) of the problem.
bool decode_string(std::string_view text, std::string& out, std::string& error,
                   size_t& error_offset);

}  // namespace tollgate::parser_detail
