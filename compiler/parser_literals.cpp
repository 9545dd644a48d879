// Literal decoding for the parser: digits with `_` separators and k/M suffixes, durations,
// percentages, money and per-million prices, and string escapes. Overflow is an error message,
// never undefined behaviour; floats are correctly rounded from their decimal text.
#include "compiler/parser_literals.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace tollgate::parser_detail {
namespace {

std::string strip_underscores(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text)
    if (c != '_') out += c;
  return out;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Parses "<digits>[.<digits>]" scaled by 10^exp10, correctly rounded.
bool decimal_to_double(std::string_view text, int exp10, double& out, std::string& error) {
  std::string s = strip_underscores(text);
  size_t dot = s.find('.');
  std::string_view whole = std::string_view(s).substr(0, dot);
  std::string_view frac =
      dot == std::string::npos ? std::string_view() : std::string_view(s).substr(dot + 1);
  if (!all_digits(whole) || (dot != std::string::npos && !all_digits(frac))) {
    error = "malformed number '" + std::string(text) + "'";
    return false;
  }
  if (exp10 != 0) s += "e" + std::to_string(exp10);
  double v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (res.ec == std::errc::result_out_of_range || (res.ec == std::errc() && !std::isfinite(v))) {
    error = "number literal '" + std::string(text) + "' out of range";
    return false;
  }
  if (res.ec != std::errc() || res.ptr != s.data() + s.size()) {
    error = "malformed number '" + std::string(text) + "'";
    return false;
  }
  out = v;
  return true;
}

}  // namespace

bool decode_int(std::string_view text, bool negated, int64_t& out, std::string& error) {
  uint64_t mult = 1;
  std::string_view digits = text;
  if (!digits.empty() && digits.back() == 'k') {
    mult = 1000;
    digits.remove_suffix(1);
  } else if (!digits.empty() && digits.back() == 'M') {
    mult = 1000000;
    digits.remove_suffix(1);
  }
  std::string s = strip_underscores(digits);
  if (!all_digits(s)) {
    error = "malformed integer literal '" + std::string(text) + "'";
    return false;
  }
  const uint64_t limit =
      negated ? uint64_t{1} << 63 : uint64_t(std::numeric_limits<int64_t>::max());
  uint64_t v = 0;
  for (char c : s) {
    uint64_t d = uint64_t(c - '0');
    if (v > (limit - d) / 10) {
      error = "integer literal '" + std::string(text) + "' out of range (max 9223372036854775807)";
      return false;
    }
    v = v * 10 + d;
  }
  if (mult != 1 && v > limit / mult) {
    error = "integer literal '" + std::string(text) + "' out of range (max 9223372036854775807)";
    return false;
  }
  v *= mult;
  // Two's complement negation of 2^63 is INT64_MIN; done in unsigned arithmetic to stay defined.
  out = negated ? int64_t(uint64_t(0) - v) : int64_t(v);
  return true;
}

bool decode_duration(std::string_view text, int64_t& out, std::string& error) {
  struct Unit {
    std::string_view suffix;
    int64_t ms;
  };
  static constexpr Unit kUnits[] = {{"ms", 1}, {"min", 60000}, {"s", 1000}, {"h", 3600000}};
  for (const Unit& u : kUnits) {
    if (text.size() <= u.suffix.size() || text.substr(text.size() - u.suffix.size()) != u.suffix)
      continue;
    std::string_view digits = text.substr(0, text.size() - u.suffix.size());
    if (digits.empty() || digits.back() < '0' || digits.back() > '9') continue;  // "5ms" vs "s"
    int64_t n = 0;
    if (!decode_int(digits, false, n, error)) {
      error = "duration '" + std::string(text) + "' out of range";
      return false;
    }
    if (n > std::numeric_limits<int64_t>::max() / u.ms) {
      error = "duration '" + std::string(text) + "' out of range";
      return false;
    }
    out = n * u.ms;
    return true;
  }
  error = "malformed duration '" + std::string(text) + "' (use ms, s, min or h)";
  return false;
}

bool decode_float(std::string_view text, double& out, std::string& error) {
  return decimal_to_double(text, 0, out, error);
}

bool decode_percent(std::string_view text, double& out, std::string& error) {
  if (text.empty() || text.back() != '%') {
    error = "malformed percentage '" + std::string(text) + "'";
    return false;
  }
  return decimal_to_double(text.substr(0, text.size() - 1), -2, out, error);
}

bool decode_money(std::string_view text, double& out, std::string& error) {
  if (text.empty() || text.front() != '$') {
    error = "malformed money literal '" + std::string(text) + "'";
    return false;
  }
  std::string_view digits = text.substr(1);
  int exp10 = 0;
  if (!digits.empty() && digits.back() == 'k') {
    exp10 = 3;
    digits.remove_suffix(1);
  } else if (!digits.empty() && digits.back() == 'M') {
    exp10 = 6;
    digits.remove_suffix(1);
  }
  return decimal_to_double(digits, exp10, out, error);
}

bool decode_price(std::string_view text, double& out, std::string& error) {
  if (text.size() < 4 || text.front() != '$' || text.substr(text.size() - 2) != "/M") {
    error = "malformed price '" + std::string(text) + "' (write $X/M, USD per million tokens)";
    return false;
  }
  return decimal_to_double(text.substr(1, text.size() - 3), 0, out, error);
}

bool decode_string(std::string_view text, std::string& out, std::string& error,
                   size_t& error_offset) {
  out.clear();
  error_offset = 0;
  if (text.empty() || text.front() != '"') {
    error = "malformed string literal";
    return false;
  }
  size_t i = 1;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"') {
      if (i + 1 != text.size()) break;  // cannot happen with the lexer's STRING rule
      return true;
    }
    if (c == '\\') {
      if (i + 1 >= text.size()) break;
      char e = text[i + 1];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        default: {
          error_offset = i;
          std::string shown =
              (static_cast<unsigned char>(e) >= 0x20 && static_cast<unsigned char>(e) < 0x7f)
                  ? std::string(1, e)
                  : "?";
          error =
              "unknown escape sequence '\\" + shown + "' in string (use \\\", \\\\, \\n or \\t)";
          return false;
        }
      }
      i += 2;
      continue;
    }
    if (c < 0x20 && c != '\t') {
      error_offset = i;
      error = "control character in string literal (use \\n or \\t)";
      return false;
    }
    if (c == 0x7f) {
      error_offset = i;
      error = "control character in string literal";
      return false;
    }
    if (c >= 0x80) {
      // Validate one UTF-8 sequence: strings reach JSON reports and logs, which need valid UTF-8.
      size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
      bool ok = len != 0 && c < 0xf5 && c != 0xc0 && c != 0xc1 && i + len <= text.size();
      for (size_t k = 1; ok && k < len; ++k)
        ok = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
      if (ok && len == 3) {
        unsigned char c1 = static_cast<unsigned char>(text[i + 1]);
        ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);  // overlong, surrogates
      }
      if (ok && len == 4) {
        unsigned char c1 = static_cast<unsigned char>(text[i + 1]);
        ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
      }
      if (!ok) {
        error_offset = i;
        error = "invalid UTF-8 in string literal";
        return false;
      }
      out.append(text.substr(i, len));
      i += len;
      continue;
    }
    out += static_cast<char>(c);
    ++i;
  }
  error_offset = 0;
  error = "unterminated string";
  return false;
}

}  // namespace tollgate::parser_detail
