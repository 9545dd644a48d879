// The hand-written policy lexer (see token_source.h). Each branch below is one lexer rule of
// grammar/Tollgate.g4, with ANTLR's rule for choosing among them: the longest match wins, and
// of equally long ones the rule written first. Keywords come from the generated lexer's
// vocabulary, so the grammar stays their one definition.
#include "compiler/token_source.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "TollgateLexer.h"

namespace tollgate::parser_detail {
namespace {

using L = tollgate_antlr::TollgateLexer;

bool is_digit(int c) {
  return c >= '0' && c <= '9';
}
bool is_ident_start(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_ident(int c) {
  return is_ident_start(c) || is_digit(c);
}
bool is_space(int c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

// Every keyword token ('policy', 'max_out', ...) of the grammar, sorted for binary search.
const std::vector<std::pair<std::string, size_t>>& keywords() {
  static const std::vector<std::pair<std::string, size_t>> table = [] {
    antlr4::ANTLRInputStream empty("");
    L lexer(&empty);
    const antlr4::dfa::Vocabulary& vocab = lexer.getVocabulary();
    std::vector<std::pair<std::string, size_t>> out;
    for (size_t t = 1; t <= vocab.getMaxTokenType(); ++t) {
      const std::string lit = vocab.getLiteralName(t);  // "'policy'", or "" for ID, INT...
      if (lit.size() < 3 || lit.front() != '\'' || !is_ident_start(lit[1])) continue;
      out.emplace_back(lit.substr(1, lit.size() - 2), t);
    }
    std::sort(out.begin(), out.end());
    return out;
  }();
  return table;
}

// ID, UPPER_ID (typed ID) or a keyword: a keyword rule is as long as ID's match and written first.
size_t word_type(std::string_view word) {
  const auto& table = keywords();
  auto it = std::lower_bound(
      table.begin(), table.end(), word,
      [](const std::pair<std::string, size_t>& e, std::string_view w) { return e.first < w; });
  return it != table.end() && it->first == word ? it->second : static_cast<size_t>(L::ID);
}

}  // namespace

TokenSource::TokenSource(antlr4::CharStream* input, std::string_view bytes)
    : input_(input), bytes_(bytes), bom_(bytes.substr(0, 3) == "\xEF\xBB\xBF") {
  keywords();  // built before the first token, not in the middle of the scan
}

antlr4::TokenFactory<antlr4::CommonToken>* TokenSource::getTokenFactory() {
  return antlr4::CommonTokenFactory::DEFAULT.get();
}

int TokenSource::at(size_t i) const {
  if (i >= bytes_.size()) return -1;
  if (bom_ && i < 3) return ' ';  // as the ByteStream reads it
  return static_cast<unsigned char>(bytes_[i]);
}

void TokenSource::advance_to(size_t end) {
  for (; pos_ < end; ++pos_) {
    if (bytes_[pos_] == '\n') {
      ++line_;
      column_ = 0;
    } else {
      ++column_;
    }
  }
}

std::unique_ptr<antlr4::Token> TokenSource::make(size_t type, size_t channel, size_t start,
                                                 size_t end, size_t line, size_t column,
                                                 std::string text) {
  // No text: the token reads it from the input on demand, as the generated lexer's tokens do.
  return getTokenFactory()->create({this, input_}, type, text, channel, start, end - 1, line,
                                   column);
}

// DIGITS : [0-9] ('_'? [0-9])*, starting at a digit.
size_t TokenSource::digits_end(size_t i) const {
  size_t e = i + 1;
  for (;;) {
    if (is_digit(at(e))) {
      ++e;
    } else if (at(e) == '_' && is_digit(at(e + 1))) {
      e += 2;
    } else {
      return e;
    }
  }
}

// At a digit: the longest of DURATION, PERCENT, FLOAT and INT (they never tie).
size_t TokenSource::scan_number(size_t i, size_t* type) const {
  const size_t whole = digits_end(i);
  size_t best = whole;
  *type = L::INT;
  if (at(whole) == 'k' || at(whole) == 'M') best = whole + 1;
  // DURATION : DIGITS ('ms' | 's' | 'min' | 'h')
  size_t dur = 0;
  if (at(whole) == 'm' && at(whole + 1) == 'i' && at(whole + 2) == 'n') {
    dur = whole + 3;
  } else if (at(whole) == 'm' && at(whole + 1) == 's') {
    dur = whole + 2;
  } else if (at(whole) == 's' || at(whole) == 'h') {
    dur = whole + 1;
  }
  if (dur > best) {
    best = dur;
    *type = L::DURATION;
  }
  // FLOAT : DIGITS '.' DIGITS, PERCENT : DIGITS ('.' DIGITS)? '%'
  size_t number = whole;
  if (at(whole) == '.' && is_digit(at(whole + 1))) {
    number = digits_end(whole + 1);
    if (number > best) {
      best = number;
      *type = L::FLOAT;
    }
  }
  if (at(number) == '%' && number + 1 > best) {
    best = number + 1;
    *type = L::PERCENT;
  }
  return best;
}

// At '$': PRICE ('$' DIGITS ('.' DIGITS)? '/M') or MONEY ('$' DIGITS ('.' DIGITS)? [kM]?); 0 when
// no digit follows (the '$' is then an unknown character).
size_t TokenSource::scan_money(size_t i, size_t* type) const {
  if (!is_digit(at(i + 1))) return 0;
  size_t e = digits_end(i + 1);
  if (at(e) == '.' && is_digit(at(e + 1))) e = digits_end(e + 1);
  if (at(e) == '/' && at(e + 1) == 'M') {
    *type = L::PRICE;
    return e + 2;
  }
  *type = L::MONEY;
  return at(e) == 'k' || at(e) == 'M' ? e + 1 : e;
}

// At '"': STRING when a closing quote comes before the end of the line, else
// UNTERMINATED_STRING (typed STRING), which also takes a backslash ending the line.
size_t TokenSource::scan_string(size_t i) const {
  size_t e = i + 1;
  for (;;) {
    const int c = at(e);
    if (c < 0 || c == '\r' || c == '\n') return e;
    if (c == '"') return e + 1;
    if (c == '\\') {
      const int n = at(e + 1);
      if (n < 0 || n == '\r' || n == '\n') return e + 1;
      e += 2;
      continue;
    }
    ++e;
  }
}

std::unique_ptr<antlr4::Token> TokenSource::nextToken() {
  if (pending_) return std::move(pending_);
  for (;;) {
    const size_t start = pos_, line = line_, column = column_;
    const int c = at(pos_);
    if (c < 0) {
      return getTokenFactory()->create({this, input_}, antlr4::Token::EOF, "",
                                       antlr4::Token::DEFAULT_CHANNEL, pos_, pos_ - 1, line_,
                                       column_);
    }
    if (is_space(c)) {  // WS -> skip
      size_t e = pos_ + 1;
      while (is_space(at(e))) ++e;
      advance_to(e);
      continue;
    }
    size_t end = pos_ + 1, type = L::UNKNOWN_CHAR, channel = antlr4::Token::DEFAULT_CHANNEL;
    const int n = at(pos_ + 1);
    if (c == '#') {  // COMMENT -> channel(HIDDEN)
      while (at(end) >= 0 && at(end) != '\r' && at(end) != '\n') ++end;
      type = L::COMMENT;
      channel = antlr4::Token::HIDDEN_CHANNEL;
    } else if (is_ident_start(c)) {
      while (is_ident(at(end))) ++end;
      type = word_type(bytes_.substr(start, end - start));
    } else if (is_digit(c)) {
      end = scan_number(pos_, &type);
    } else if (c == '"') {
      end = scan_string(pos_);
      type = L::STRING;
    } else if (c == '$' && (end = scan_money(pos_, &type)) != 0) {
      // PRICE or MONEY
    } else {
      end = pos_ + 1;
      switch (c) {
        case '&':
          type = L::AMPAMP;  // '&' is SINGLE_AMP -> type(AMPAMP)
          if (n == '&') ++end;
          break;
        case '|':
          type = L::PIPEPIPE;
          if (n == '|') ++end;
          break;
        case '=':
          type = n == '=' ? (++end, L::EQ) : L::ASSIGN;
          break;
        case '!':
          type = n == '=' ? (++end, L::NE) : L::BANG;
          break;
        case '<':
          type = n == '=' ? (++end, L::LE) : L::LT;
          break;
        case '>':
          type = n == '=' ? (++end, L::GE) : L::GT;
          break;
        case '+':
          type = L::PLUS;
          break;
        case '-':
          type = L::MINUS;
          break;
        case '*':
          type = L::STAR;
          break;
        case '/':
          type = L::SLASH;
          break;
        case '%':
          type = L::PERCENT_OP;
          break;
        case '(':
          type = L::LPAREN;
          break;
        case ')':
          type = L::RPAREN;
          break;
        case '[':
          type = L::LBRACK;
          break;
        case ']':
          type = L::RBRACK;
          break;
        case '{':
          type = L::LBRACE;
          break;
        case '}':
          type = L::RBRACE;
          break;
        case ',':
          type = L::COMMA;
          break;
        case ':':
          type = L::COLON;
          break;
        case '.':
          type = L::DOT;
          break;
        default:  // UNKNOWN_CHAR : . -> channel(HIDDEN)
          type = L::UNKNOWN_CHAR;
          channel = antlr4::Token::HIDDEN_CHANNEL;
      }
    }
    advance_to(end);
    if (type == L::PERCENT) {
      // `10%3` is `10 % 3`: a percentage is one only when no operand follows it directly.
      const int next = at(end);
      const bool operand = is_digit(next) || is_ident_start(next) || next == '(' || next == '$';
      if (operand) {
        std::string text(bytes_.substr(start, end - 1 - start));
        const size_t number = text.find('.') == std::string::npos ? L::INT : L::FLOAT;
        const size_t width = text.size();
        pending_ = make(L::PERCENT_OP, channel, end - 1, end, line, column + width, "%");
        return make(number, channel, start, end - 1, line, column, std::move(text));
      }
    }
    return make(type, channel, start, end, line, column);
  }
}

}  // namespace tollgate::parser_detail
