// A minimal, allocation-free JSON scanner for the hot canonical-JSONL path: walks one object's
// keys and scalar values in place. Anything unusual (escapes, nested values, whitespace between
// tokens, fractions in integers) takes a slower but correct out-of-line branch; malformed input
// makes the calls return false. The scanner never reads outside the view it was given.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "tools/dryrun/bytes.h"
#include "tools/dryrun/numeric.h"

#if defined(__GNUC__) || defined(__clang__)
#define TOLLGATE_JSON_NOINLINE __attribute__((noinline))
#define TOLLGATE_JSON_INLINE inline __attribute__((always_inline))
#define TOLLGATE_JSON_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define TOLLGATE_JSON_NOINLINE
#define TOLLGATE_JSON_INLINE inline
#define TOLLGATE_JSON_LIKELY(x) (x)
#endif

namespace tollgate::dryrun {

// Up to 32 bytes expected verbatim at the cursor (a separator, a quoted key and its ':'), padded
// for whole-vector compares.
struct JsonPattern {
  alignas(16) char bytes[32] = {};
  uint32_t n = 0;     // 0: nothing to match
  uint32_t need = 0;  // the low n bits: the compare lanes that must be equal

  void set(const char* s, size_t len) {  // len <= 32
    std::memcpy(bytes, s, len);
    n = static_cast<uint32_t>(len);
    need = len >= 32 ? ~0u : (1u << len) - 1;
  }
  void clear() { n = need = 0; }
};

class JsonScan {
 public:
  explicit JsonScan(std::string_view s)
      : begin_(s.data()), p_(s.data()), end_(s.data() + s.size()) {}

  static bool is_ws(char c) {
    return static_cast<unsigned char>(c) <= ' ' &&
           (c == ' ' || c == '\t' || c == '\r' || c == '\n');
  }
  static bool is_digit(char c) { return static_cast<unsigned char>(c - '0') <= 9; }

  void ws() {
    while (p_ < end_ && is_ws(*p_)) ++p_;
  }
  TOLLGATE_JSON_INLINE bool eat(char c) {
    // Compact JSONL has no whitespace between tokens: test the byte before skipping any.
    if (TOLLGATE_JSON_LIKELY(p_ < end_ && *p_ == c)) {
      ++p_;
      return true;
    }
    ws();
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  TOLLGATE_JSON_INLINE char peek() {
    // Bytes above ' ' are never whitespace.
    if (TOLLGATE_JSON_LIKELY(p_<end_&& static_cast<unsigned char>(*p_)> ' ')) return *p_;
    ws();
    return p_ < end_ ? *p_ : '\0';
  }
  // Consumes exactly the bytes of pat at the cursor if they are there (no whitespace skipped).
  TOLLGATE_JSON_INLINE bool eat_pattern(const JsonPattern& pat) {
    const size_t n = pat.n, left = static_cast<size_t>(end_ - p_);
    if (n == 0) return false;
#ifdef __SSE2__
    // Whole-vector compares while they stay inside the line; only the first n lanes count.
    if (n <= 16 && left >= 16) {
      if ((lanes_equal(p_, pat.bytes) & pat.need) != pat.need) return false;
      p_ += n;
      return true;
    }
    if (left >= 32) {
      uint32_t eq = lanes_equal(p_, pat.bytes) | lanes_equal(p_ + 16, pat.bytes + 16) << 16;
      if ((eq & pat.need) != pat.need) return false;
      p_ += n;
      return true;
    }
#endif
    if (left < n || !bytes_equal(p_, pat.bytes, n)) return false;
    p_ += n;
    return true;
  }
  bool at_end() {
    ws();
    return p_ >= end_;
  }

  // A string value. Without escapes *out views the input; with escapes it is decoded into
  // *scratch and *out views that.
  TOLLGATE_JSON_INLINE bool string(std::string_view* out, std::string* scratch) {
    if (!eat('"')) return false;
    return string_body(out, scratch);
  }

  // The text of a number token (validated loosely: digits, sign, '.', exponent).
  TOLLGATE_JSON_INLINE bool number_text(std::string_view* out) {
    skip_ws_before_value();
    const char* start = p_;
    const char* q = p_;
    if (q < end_ && (*q == '-' || *q == '+')) ++q;
    const char* d0 = q;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (unsigned n = 8; n == 8 && end_ - q >= 8; q += n) n = leading_digits(load_u64(q));
#endif
    while (q < end_ && is_digit(*q)) ++q;
    bool digits = q > d0;
    if (q < end_ && is_number_char(*q)) q = number_tail(q, &digits);
    if (!digits) return false;
    p_ = q;
    *out = std::string_view(start, q - start);
    return true;
  }

  // An integer value; a number with a fraction or exponent is rounded toward zero.
  TOLLGATE_JSON_INLINE bool int64(int64_t* out) {
    skip_ws_before_value();
    const char* q = p_;
    bool neg = q < end_ && *q == '-';
    q += neg;
    const char* digits = q;
    // At most 18 digits accumulate exactly in a uint64; longer numbers go through strtod.
    const char* lim = end_ - q > 18 ? q + 18 : end_;
    uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    // Up to 8 digits per step while 8 bytes of the line remain; the byte loop finishes.
    while (lim - q >= 8) {
      uint64_t w = load_u64(q);
      unsigned n = leading_digits(w);
      if (n == 0) break;
      v = v * kPow10[n] + digits_value(w, n);
      q += n;
      if (n < 8) break;
    }
#endif
    while (q < lim) {
      unsigned d = static_cast<unsigned char>(*q) - static_cast<unsigned>('0');
      if (d > 9) break;
      v = v * 10 + d;
      ++q;
    }
    if (q == digits) return false;
    if (q < end_ && continues_integer(*q)) return int64_slow(out);
    p_ = q;
    *out = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
    return true;
  }

  // Any scalar as text (strings decoded); false for objects and arrays.
  TOLLGATE_JSON_INLINE bool scalar_text(std::string_view* out, std::string* scratch) {
    char c = peek();
    if (c == '"') {
      ++p_;  // peek() left the cursor on the quote
      return string_body(out, scratch);
    }
    if (c == 't' || c == 'f' || c == 'n') return literal(out);
    return number_text(out);
  }

  TOLLGATE_JSON_NOINLINE bool literal(std::string_view* out) {
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
  TOLLGATE_JSON_NOINLINE bool skip_value(int depth = 0) {
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
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  static constexpr uint64_t kPow10[9] = {1,      10,      100,      1000,     10000,
                                         100000, 1000000, 10000000, 100000000};
  static constexpr uint64_t kZeros = 0x3030303030303030ULL;
  static constexpr uint64_t kHigh = 0xF0F0F0F0F0F0F0F0ULL;

  // How many of the 8 bytes of w (first byte lowest) are ASCII digits before the first other
  // byte. Carries and borrows only travel upward, past the first non-digit, so they are harmless.
  static unsigned leading_digits(uint64_t w) {
    uint64_t bad = ((w & kHigh) ^ kZeros) | (((w + 0x0606060606060606ULL) & kHigh) ^ kZeros);
    return bad ? static_cast<unsigned>(__builtin_ctzll(bad)) >> 3 : 8;
  }
  // The value of the first n (1..8) digit bytes of w: they are shifted to the top so the low
  // bytes read as leading zeros, then combined pairwise (8 -> 4 -> 2 -> 1 lanes).
  static uint64_t digits_value(uint64_t w, unsigned n) {
    uint64_t d = (w - kZeros) << (8 * (8 - n));
    d = d * 10 + (d >> 8);
    d = (((d & 0x000000FF000000FFULL) * 0x000F424000000064ULL) +
         (((d >> 16) & 0x000000FF000000FFULL) * 0x0000271000000001ULL)) >>
        32;
    return static_cast<uint32_t>(d);
  }
#endif

  // c is a digit, '.', 'e' or 'E': one bit test over the range '.'..'e' (',' '}' ']' are not).
  static bool continues_integer(char c) {
    constexpr uint64_t kBits =
        1ULL | (0x3FFULL << ('0' - '.')) | (1ULL << ('E' - '.')) | (1ULL << ('e' - '.'));
    unsigned i = static_cast<unsigned char>(c) - static_cast<unsigned>('.');
    return i < 64 && ((kBits >> i) & 1);
  }

  static bool is_number_char(char c) {
    return is_digit(c) || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+';
  }

#ifdef __SSE2__
  // Bit i set when p[i] == pat[i], for 16 bytes; pat is 16-byte aligned.
  static uint32_t lanes_equal(const char* p, const char* pat) {
    return static_cast<uint32_t>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)),
                                         _mm_load_si128(reinterpret_cast<const __m128i*>(pat)))));
  }
#endif

  TOLLGATE_JSON_INLINE void skip_ws_before_value() {
    if (p_ < end_ && is_ws(*p_)) ws();
  }

  // The rest of a string whose opening quote was just consumed.
  TOLLGATE_JSON_INLINE bool string_body(std::string_view* out, std::string* scratch) {
    const char* start = p_;
    const char* q = find_quote_or_backslash(p_);
    if (q == end_) return false;  // unterminated (an escape needs a closing quote too)
    if (TOLLGATE_JSON_LIKELY(*q == '"')) {
      *out = std::string_view(start, q - start);
      p_ = q + 1;
      return true;
    }
    p_ = q;
    return string_escaped(start, out, scratch);
  }

  // The first '"' or '\\' at or after p, or end_. Reads only bytes of [begin_, end_).
  TOLLGATE_JSON_INLINE const char* find_quote_or_backslash(const char* p) const {
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i bslash = _mm_set1_epi8('\\');
    while (end_ - p >= 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      unsigned m = static_cast<unsigned>(
          _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash))));
      if (m) return p + __builtin_ctz(m);
      p += 16;
    }
    if (p < end_ && end_ - begin_ >= 16) {
      // Fewer than 16 bytes left: load the line's last 16 bytes and drop those before p.
      const char* base = end_ - 16;
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base));
      unsigned m = static_cast<unsigned>(
          _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash))));
      m >>= static_cast<unsigned>(p - base);
      return m ? p + __builtin_ctz(m) : end_;
    }
#endif
    while (p < end_ && *p != '"' && *p != '\\') ++p;
    return p;
  }

  // Decodes a string from `start` (just after the opening quote); p_ is at its first '\\'.
  TOLLGATE_JSON_NOINLINE bool string_escaped(const char* start, std::string_view* out,
                                             std::string* scratch) {
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

  // number_text's loop past the leading digits; q is at a number character.
  TOLLGATE_JSON_NOINLINE const char* number_tail(const char* q, bool* digits) const {
    while (q < end_ && is_number_char(*q)) {
      *digits |= is_digit(*q);
      ++q;
    }
    return q;
  }

  // A number with a fraction, an exponent or more than 18 digits: p_ is at its start.
  TOLLGATE_JSON_NOINLINE bool int64_slow(int64_t* out) {
    std::string_view t;
    if (!number_text(&t)) return false;
    return double_to_int64(std::strtod(std::string(t).c_str(), nullptr), out);
  }

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

  const char* begin_;
  const char* p_;
  const char* end_;
};

}  // namespace tollgate::dryrun
