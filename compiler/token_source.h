// The policy lexer: a hand-written scanner that produces exactly the tokens of the grammar's
// lexer rules (grammar/Tollgate.g4), for ANTLR's parser to consume. ANTLR's generated lexer
// simulates its ATN per character and was a quarter of the time to ready a 10,000-rule policy;
// this one is a single pass over the bytes. tests/unit/token_source_test.cpp checks it token for
// token (type, channel, offsets, line, column, text) against the generated lexer, which stays
// the definition.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "antlr4-runtime.h"

namespace tollgate::parser_detail {

// ANTLR's UTF-8 loader throws on invalid input; this stream maps each byte to one code point.
class ByteStream : public antlr4::ANTLRInputStream {
 public:
  explicit ByteStream(std::string_view bytes) {
    _data.clear();
    _data.reserve(bytes.size());
    for (char c : bytes) _data.push_back(static_cast<char32_t>(static_cast<unsigned char>(c)));
    // A UTF-8 byte order mark (some Windows editors write one) reads as whitespace.
    if (bytes.substr(0, 3) == "\xEF\xBB\xBF") _data[0] = _data[1] = _data[2] = U' ';
    p = 0;
  }
};

class TokenSource : public antlr4::TokenSource {
 public:
  // `bytes` is the source; `input` holds one code point per byte of it (the parser's ByteStream)
  // and must outlive the tokens, which read their text from it.
  TokenSource(antlr4::CharStream* input, std::string_view bytes);

  std::unique_ptr<antlr4::Token> nextToken() override;
  size_t getLine() const override { return line_; }
  size_t getCharPositionInLine() override { return column_; }
  antlr4::CharStream* getInputStream() override { return input_; }
  std::string getSourceName() override { return input_->getSourceName(); }
  antlr4::TokenFactory<antlr4::CommonToken>* getTokenFactory() override;

 private:
  int at(size_t i) const;       // byte at offset i (a BOM reads as spaces), -1 past the end
  void advance_to(size_t end);  // moves the position, counting lines and columns
  std::unique_ptr<antlr4::Token> make(size_t type, size_t channel, size_t start, size_t end,
                                      size_t line, size_t column, std::string text = "");
  size_t digits_end(size_t i) const;
  size_t scan_number(size_t i, size_t* type) const;
  size_t scan_money(size_t i, size_t* type) const;
  size_t scan_string(size_t i) const;

  antlr4::CharStream* input_;
  std::string_view bytes_;
  bool bom_;
  size_t pos_ = 0, line_ = 1, column_ = 0;
  std::unique_ptr<antlr4::Token> pending_;  // second half of a split `10%3`
};

}  // namespace tollgate::parser_detail
