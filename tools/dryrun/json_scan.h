// A minimal, allocation-free JSON scanner for the hot canonical-JSONL path: walks one object's
// keys and scalar values in place. Anything unusual (escapes, nested values) takes a slower but
// correct branch; malformed input makes the calls return false.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "tools/dryrun/numeric.h"

namespace tollgate::dryrun {

class JsonScan {
 public:
  explicit JsonScan(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\r' || *p_ == '\n')) ++p_;
  }
  bool eat(char c) {
    ws();
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  char peek() {
    ws();
    return p_ < end_ ? *p_ : '\0';
  }
  bool at_end() {
    ws();
    return p_ >= end_;
  }

  // A string value. Without escapes *out views the input; with escapes it is decoded into
  // *scratch and *out views that.
  bool string(std::string_view* out, std::string* scratch) {
    if (!eat('"')) return false;
    const char* start = p_;
    // memchr is vectorised: one pass for the closing quote, one for an escape before it.
    const char* q = static_cast<const char*>(std::memchr(p_, '"', end_ - p_));
    if (!q) return false;
    const char* bs = static_cast<const char*>(std::memchr(p_, '\\', q - p_));
    p_ = bs ? bs : q;
    if (*p_ == '"') {
      *out = std::string_view(start, p_ - start);
      ++p_;
      return true;
    }
    scratch->assign(start, p_ - start);
    while (p_ < end_ && *p_ != '"') {
      if (*p_ != '\\') {
        scratch->push_back(*p_++);
        continue;
      }
      if (++p_ >= end_) return false;
      char e = *p_++;
      switch (e) {
        case '"':
          scratch->push_back('"');
          break;
        case '\\':
          scratch->push_back('\\');
          break;
        case '/':
          scratch->push_back('/');
          break;
        case 'b':
          scratch->push_back('\b');
          break;
        case 'f':
          scratch->push_back('\f');
          break;
        case 'n':
          scratch->push_back('\n');
          break;
        case 'r':
          scratch->push_back('\r');
          break;
        case 't':
          scratch->push_back('\t');
          break;
        case 'u': {
          if (end_ - p_ < 4) return false;
          unsigned cp = 0;
          for (int i = 0; i < 4; ++i) {
            char h = *p_++;
            cp <<= 4;
            if (h >= '0' && h <= '9')
              cp |= h - '0';
            else if (h >= 'a' && h <= 'f')
              cp |= h - 'a' + 10;
            else if (h >= 'A' && h <= 'F')
              cp |= h - 'A' + 10;
            else
              return false;
          }
          append_utf8(cp, scratch);  // surrogate pairs are kept as two 3-byte sequences
          break;
        }
        default:
          return false;
      }
    }
    if (p_ >= end_) return false;
    ++p_;
    *out = *scratch;
    return true;
  }

  // The text of a number token (validated loosely: digits, sign, '.', exponent).
  bool number_text(std::string_view* out) {
    ws();
    const char* start = p_;
    if (p_ < end_ && (*p_ == '-' || *p_ == '+')) ++p_;
    bool digits = false;
    while (p_ < end_ && ((*p_ >= '0' && *p_ <= '9') || *p_ == '.' || *p_ == 'e' || *p_ == 'E' ||
                         *p_ == '-' || *p_ == '+')) {
      digits |= (*p_ >= '0' && *p_ <= '9');
      ++p_;
    }
    if (!digits) return false;
    *out = std::string_view(start, p_ - start);
    return true;
  }

  // An integer value; a number with a fraction or exponent is rounded toward zero.
  bool int64(int64_t* out) {
    ws();
    const char* q = p_;
    bool neg = false;
    if (q < end_ && *q == '-') {
      neg = true;
      ++q;
    }
    const char* digits = q;
    uint64_t v = 0;
    while (q < end_ && *q >= '0' && *q <= '9' && q - digits < 18) v = v * 10 + (*q++ - '0');
    if (q == digits) return false;
    if (q < end_ && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E')) {
      std::string_view t;
      if (!number_text(&t)) return false;
      return double_to_int64(std::strtod(std::string(t).c_str(), nullptr), out);
    }
    p_ = q;
    *out = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
    return true;
  }

  // Any scalar as text (strings decoded); false for objects and arrays.
  bool scalar_text(std::string_view* out, std::string* scratch) {
    char c = peek();
    if (c == '"') return string(out, scratch);
    if (c == 't' || c == 'f' || c == 'n') return literal(out);
    return number_text(out);
  }

  bool literal(std::string_view* out) {
    ws();
    for (const char* lit : {"true", "false", "null"}) {
      size_t n = std::char_traits<char>::length(lit);
      if (static_cast<size_t>(end_ - p_) >= n && std::string_view(p_, n) == lit) {
        *out = std::string_view(p_, n);
        p_ += n;
        return true;
      }
    }
    return false;
  }

  // Skips any value (nested objects and arrays included).
  bool skip_value(int depth = 0) {
    if (depth > 64) return false;
    char c = peek();
    std::string_view v;
    std::string scratch;
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++p_;
      if (eat(close)) return true;
      for (;;) {
        if (c == '{') {
          if (!string(&v, &scratch) || !eat(':')) return false;
        }
        if (!skip_value(depth + 1)) return false;
        if (eat(',')) continue;
        return eat(close);
      }
    }
    if (c == '"') return string(&v, &scratch);
    if (c == 't' || c == 'f' || c == 'n') return literal(&v);
    return number_text(&v);
  }

 private:
  static void append_utf8(unsigned cp, std::string* s) {
    if (cp < 0x80) {
      s->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  const char* p_;
  const char* end_;
};

}  // namespace tollgate::dryrun
