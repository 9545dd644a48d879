// The hand-written lexer (compiler/token_source.cpp) against the definition it replaces: ANTLR's
// generated lexer for grammar/Tollgate.g4 plus the parser's one rule on top of it (`10%3` is
// `10 % 3`). Every token must agree in type, channel, offsets, line, column and text, on every
// policy in the repository and on random byte strings built from the fragments where lexer
// rules meet (digits and units, `$` prices, `%`, quotes and escapes, operators, bytes >= 0x80).
#include "compiler/token_source.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "TollgateLexer.h"

using tollgate::parser_detail::ByteStream;
using tollgate::parser_detail::TokenSource;
using L = tollgate_antlr::TollgateLexer;

namespace {

struct Tok {
  size_t type, channel, start, stop, line, column;
  std::string text;
  bool operator==(const Tok& o) const {
    return type == o.type && channel == o.channel && start == o.start && stop == o.stop &&
           line == o.line && column == o.column && text == o.text;
  }
};

std::string show(const Tok& t) {
  std::ostringstream o;
  o << "type " << t.type << " ch " << t.channel << " [" << t.start << "," << t.stop << "] "
    << t.line << ":" << t.column << " '" << t.text << "'";
  return o.str();
}

Tok tok(const antlr4::Token& t) {
  return {t.getType(),      t.getChannel(), t.getStartIndex(),
          t.getStopIndex(), t.getLine(),    t.getCharPositionInLine(),
          t.getText()};
}

// The reference: the generated lexer, then the parser's former split of `10%` before an operand.
std::vector<Tok> reference(std::string_view src) {
  ByteStream input(src);
  L lexer(&input);
  lexer.removeErrorListeners();
  std::vector<Tok> out;
  for (;;) {
    std::unique_ptr<antlr4::Token> t = lexer.nextToken();
    Tok k = tok(*t);
    if (k.type == L::PERCENT) {
      const size_t next = input.LA(1);
      const bool operand = (next >= '0' && next <= '9') || (next >= 'a' && next <= 'z') ||
                           (next >= 'A' && next <= 'Z') || next == '_' || next == '(' ||
                           next == '$';
      if (operand) {
        std::string text = k.text.substr(0, k.text.size() - 1);
        out.push_back({text.find('.') == std::string::npos ? size_t(L::INT) : size_t(L::FLOAT),
                       k.channel, k.start, k.stop - 1, k.line, k.column, text});
        out.push_back(
            {L::PERCENT_OP, k.channel, k.stop, k.stop, k.line, k.column + text.size(), "%"});
        continue;
      }
    }
    out.push_back(k);
    if (k.type == antlr4::Token::EOF) return out;
  }
}

std::vector<Tok> hand(std::string_view src) {
  ByteStream input(src);
  TokenSource lexer(&input, src);
  std::vector<Tok> out;
  for (;;) {
    std::unique_ptr<antlr4::Token> t = lexer.nextToken();
    out.push_back(tok(*t));
    if (out.back().type == antlr4::Token::EOF) return out;
  }
}

void same(std::string_view src, const std::string& what) {
  const std::vector<Tok> want = reference(src), got = hand(src);
  for (size_t i = 0; i < want.size() || i < got.size(); ++i) {
    if (i < want.size() && i < got.size() && want[i] == got[i]) continue;
    INFO(what << ": token " << i << "\n  generated: " << (i < want.size() ? show(want[i]) : "-")
              << "\n  hand:      " << (i < got.size() ? show(got[i]) : "-"));
    FAIL_CHECK("the lexers disagree");
    return;
  }
  SUCCEED();
}

}  // namespace

TEST_CASE("the hand lexer agrees with the generated one on every policy in the repository") {
  int files = 0;
  for (const char* dir : {"policies", "examples", "tests"}) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(
             std::string(TOLLGATE_SOURCE_DIR) + "/" + dir)) {
      if (e.path().extension() != ".pol") continue;
      std::ifstream f(e.path(), std::ios::binary);
      std::stringstream text;
      text << f.rdbuf();
      same(text.str(), e.path().string());
      ++files;
    }
  }
  CHECK(files >= 15);
}

TEST_CASE("the hand lexer agrees with the generated one where lexer rules meet") {
  for (const char* s :
       {"", "10ms 10s 10min 10mins 10h 10m 10mx 10k 10kb 10M 1_000 1__0 1_ 1.5 1. 1.5.3 1.5%",
        "10%3 10% 3 1.5%x 10%(a) 10%$1 10%_ 10%%", "$3/M $3 $3M $3k $3.5/M $3.5 $3. $ $x $3/x",
        "$3M/M $1_000/M", "\"a\" \"a\\\"b\" \"unterminated\n\"x\\\n\"\\", "\"abc\\\"",
        "a&&b a&b a||b a|b == = != ! <= < >= > + - * / % ( ) [ ] { } , : .",
        "policy policyx Policy ifX if max_out max_outs _x x1 MAX", "# comment\r\nx\r\ny\f\tz",
        "\xEF\xBB\xBFpolicy a", "caf\xC3\xA9 \xFF \x01 \x7F ' @ ~ ^ ` ? ;", "a\n\n\nb #c"})
    same(s, std::string("fixed input: ") + s);
}

TEST_CASE("the hand lexer agrees with the generated one on random inputs") {
  const std::vector<std::string> pieces = {
      "0",  "1",  "9",      "_",     ".",       "%",   "$",        "/M",   "/",    "M", "k",
      "m",  "s",  "min",    "ms",    "h",       "\"",  "\\",       "\n",   "\r",   " ", "\t",
      "#",  "&",  "|",      "=",     "!",       "<",   ">",        "(",    ")",    "a", "Z",
      "if", "in", "policy", "route", "max_out", "tag", "\xC3\xA9", "\xFF", "\x01", "-", "+",
      ",",  ":",  "{",      "}",     "[",       "]",   "'",        "x_1"};
  std::mt19937 rng(7);
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    const int len = static_cast<int>(rng() % 24);
    for (int i = 0; i < len; ++i) s += pieces[rng() % pieces.size()];
    same(s, "random input " + std::to_string(n));
  }
}
