// parse_program(): source bytes -> ANTLR tokens and parse tree -> AST, with every syntax error
// reported (ANTLR recovers and carries on) in readable "expected ..." wording instead of ANTLR's
// token-set messages. Never throws: bytes are fed to ANTLR one code point per byte (so invalid
// UTF-8 and NUL cannot trip its UTF-8 decoder, and columns are byte columns), nesting is bounded
// before parsing, and anything unexpected from the runtime becomes a diagnostic.
#include "compiler/parser.h"

#include <algorithm>
#include <set>

#include "TollgateLexer.h"
#include "TollgateParser.h"
#include "antlr4-runtime.h"
#include "compiler/parser_internal.h"
#include "compiler/token_source.h"

namespace tollgate {
namespace {

using namespace parser_detail;
using L = tollgate_antlr::TollgateLexer;
using P = tollgate_antlr::TollgateParser;

constexpr size_t kMaxSyntaxErrors = 50;

SourceLoc loc_of(const antlr4::Token* t) {
  if (!t) return {};
  return {static_cast<uint32_t>(t->getLine()),
          static_cast<uint32_t>(t->getCharPositionInLine() + 1)};
}

// ---- readable descriptions of what the parser expected ----------------------------------------

const std::vector<size_t>& action_tokens() {
  static const std::vector<size_t> v = {L::K_ROUTE, L::K_DENY, L::K_MAX_OUT, L::K_MAX_IN,
                                        L::K_RETRY, L::K_RAG,  L::K_CACHE,   L::K_TAG};
  return v;
}
const std::vector<size_t>& item_tokens() {
  static const std::vector<size_t> v = {L::K_POLICY, L::K_INPUT, L::K_ROUTES,  L::K_BUDGET,
                                        L::K_LET,    L::K_IF,    L::K_DEFAULT, L::K_TEST};
  return v;
}
// Tokens that may start an expression (idents include the soft keywords).
const std::vector<size_t>& expr_start_tokens() {
  static const std::vector<size_t> v = {
      L::INT,      L::FLOAT,      L::PERCENT, L::MONEY,    L::DURATION, L::STRING,
      L::PRICE,    L::K_TRUE,     L::K_FALSE, L::ID,       L::LPAREN,   L::MINUS,
      L::K_NOT,    L::BANG,       L::K_TAG,   L::K_BATCH,  L::K_NONE,   L::K_OFF,
      L::K_PROMPT, L::K_RESPONSE, L::K_OPEN,  L::K_CLOSED, L::K_SKIP};
  return v;
}
const std::vector<size_t>& soft_keyword_tokens() {
  static const std::vector<size_t> v = {L::K_TAG,  L::K_BATCH,  L::K_NONE,
                                        L::K_OFF,  L::K_PROMPT, L::K_RESPONSE,
                                        L::K_OPEN, L::K_CLOSED, L::K_SKIP};
  return v;
}
const std::vector<size_t>& operator_tokens() {
  static const std::vector<size_t> v = {
      L::EQ,       L::NE,   L::LT,    L::LE,           L::GT,         L::GE,         L::PLUS,
      L::MINUS,    L::STAR, L::SLASH, L::PERCENT_OP,   L::K_AND,      L::K_OR,       L::AMPAMP,
      L::PIPEPIPE, L::K_IN, L::K_NOT, L::K_STARTSWITH, L::K_ENDSWITH, L::K_CONTAINS, L::DOT};
  return v;
}

std::string token_kind_name(size_t type, const antlr4::dfa::Vocabulary& vocab) {
  switch (type) {
    case L::ID:
      return "a name";
    case L::INT:
      return "an integer";
    case L::FLOAT:
      return "a number";
    case L::STRING:
      return "a string";
    case L::PRICE:
      return "a price ($X/M)";
    case L::MONEY:
      return "an amount ($X)";
    case L::DURATION:
      return "a duration";
    case L::PERCENT:
      return "a percentage";
    case antlr4::Token::EOF:
      return "end of file";
    default:
      return vocab.getLiteralName(type).empty() ? vocab.getSymbolicName(type)
                                                : vocab.getLiteralName(type);
  }
}

std::string join_or(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += (i + 1 == parts.size()) ? " or " : ", ";
    out += parts[i];
  }
  return out;
}

bool contains_all(const std::set<size_t>& s, const std::vector<size_t>& v) {
  return std::all_of(v.begin(), v.end(), [&](size_t t) { return s.count(t) > 0; });
}
void erase_all(std::set<size_t>& s, const std::vector<size_t>& v) {
  for (size_t t : v) s.erase(t);
}

// "an action (route, ...)", "an expression", "':' or '='", ...; `is_action` tells the caller
// to phrase the position as "after the condition".
std::string describe_expected(const antlr4::misc::IntervalSet& set,
                              const antlr4::dfa::Vocabulary& vocab, bool& is_action) {
  std::set<size_t> s;
  for (ssize_t t : set.toList())
    if (t >= 0 || t == -1) s.insert(static_cast<size_t>(t));
  std::vector<std::string> parts;
  is_action = false;
  if (contains_all(s, action_tokens())) {
    parts.push_back("an action (route, deny, max_out, max_in, retry, rag, cache, tag)");
    is_action = true;
    erase_all(s, action_tokens());
    erase_all(s, operator_tokens());  // "or an operator" is noise after a complete condition
    erase_all(s, expr_start_tokens());
  }
  if (s.count(L::INT) && s.count(L::ID) && s.count(L::LPAREN)) {
    parts.push_back("an expression");
    erase_all(s, expr_start_tokens());
  } else if (s.count(L::INT) && s.count(L::STRING) && s.count(L::ID)) {
    parts.push_back("a value (a literal or a name)");  // defaults, list items, test givens
    erase_all(s, expr_start_tokens());
  }
  if (contains_all(s, item_tokens())) {
    parts.push_back(
        "a declaration, rule or test (policy, input, routes, budget, let, if, default, test)");
    erase_all(s, item_tokens());
    s.erase(static_cast<size_t>(antlr4::Token::EOF));
  }
  size_t ops = 0;
  for (size_t t : operator_tokens()) ops += s.count(t);
  if (ops >= 6) {
    parts.push_back("an operator");
    erase_all(s, operator_tokens());
  }
  if (s.count(L::ID)) {
    parts.push_back("a name");
    s.erase(L::ID);
    erase_all(s, soft_keyword_tokens());
  }
  size_t listed = 0;
  for (size_t t : s) {
    if (++listed > 8) {
      parts.push_back("...");
      break;
    }
    parts.push_back(token_kind_name(t, vocab));
  }
  if (parts.empty()) return "something else";
  return join_or(parts);
}

std::string display_token(const antlr4::Token* t, std::string_view source) {
  if (!t || t->getType() == antlr4::Token::EOF) return "end of file";
  size_t a = t->getStartIndex(), b = t->getStopIndex();
  if (a == INVALID_INDEX || b == INVALID_INDEX || a > b || b >= source.size())
    return "'" + t->getText() + "'";
  std::string_view text = source.substr(a, b - a + 1);
  std::string shown;
  for (char c : text.substr(0, 24)) {
    unsigned char u = static_cast<unsigned char>(c);
    shown += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  if (text.size() > 24) shown += "...";
  return "'" + shown + "'";
}

std::string_view token_text(const antlr4::Token* t, std::string_view source) {
  size_t a = t->getStartIndex(), b = t->getStopIndex();
  if (a == INVALID_INDEX || b == INVALID_INDEX || a > b || b >= source.size()) return {};
  return source.substr(a, b - a + 1);
}

// Whether a STRING token's text ends with an unescaped closing quote.
bool string_closed(std::string_view text) {
  if (text.size() < 2 || text.back() != '"') return false;
  size_t i = 1;
  while (i + 1 < text.size()) i += text[i] == '\\' ? 2 : 1;
  return i == text.size() - 1;
}

// Replaces ANTLR's "mismatched input 'x' expecting {...}" family with our wording and sends
// errors to `errors` instead of the console.
class ErrorStrategy : public antlr4::DefaultErrorStrategy {
 public:
  ErrorStrategy(std::string_view source, antlr4::BufferedTokenStream& tokens, ErrorList& errors)
      : source_(source), tokens_(tokens), errors_(errors) {}

 protected:
  void reportNoViableAlternative(antlr4::Parser* p,
                                 const antlr4::NoViableAltException& e) override {
    report(p, e.getOffendingToken(), p->getExpectedTokens(), false);
  }
  void reportInputMismatch(antlr4::Parser* p, const antlr4::InputMismatchException& e) override {
    report(p, e.getOffendingToken(), e.getExpectedTokens(), false);
  }
  void reportFailedPredicate(antlr4::Parser* p,
                             const antlr4::FailedPredicateException& e) override {
    report(p, e.getOffendingToken(), p->getExpectedTokens(), false);
  }
  // ANTLR drops a token when the one after it fits (`if a and route x` would lose `route` and
  // read `x` as the operand). A keyword that starts an action or an item is far more likely to
  // be right with something missing before it, so it is never dropped.
  antlr4::Token* singleTokenDeletion(antlr4::Parser* p) override {
    size_t type = p->getCurrentToken()->getType();
    const auto& acts = action_tokens();
    const auto& items = item_tokens();
    if (std::find(acts.begin(), acts.end(), type) != acts.end() ||
        std::find(items.begin(), items.end(), type) != items.end())
      return nullptr;
    return DefaultErrorStrategy::singleTokenDeletion(p);
  }
  void reportUnwantedToken(antlr4::Parser* p) override {
    if (inErrorRecoveryMode(p)) return;
    beginErrorCondition(p);
    report(p, p->getCurrentToken(), getExpectedTokens(p), true);
  }
  void reportMissingToken(antlr4::Parser* p) override {
    if (inErrorRecoveryMode(p)) return;
    beginErrorCondition(p);
    report(p, p->getCurrentToken(), getExpectedTokens(p), false);
  }

 private:
  std::string_view source_;
  antlr4::BufferedTokenStream& tokens_;
  ErrorList& errors_;

  const antlr4::Token* previous_token(const antlr4::Token* t) {
    if (!t || t->getTokenIndex() == INVALID_INDEX) return nullptr;
    size_t i = t->getTokenIndex();
    while (i > 0) {
      --i;
      antlr4::Token* prev = tokens_.get(i);
      if (prev->getChannel() == antlr4::Token::DEFAULT_CHANNEL) return prev;
    }
    return nullptr;
  }

  void report(antlr4::Parser* p, const antlr4::Token* found, const antlr4::misc::IntervalSet& set,
              bool unwanted) {
    if (errors_.size() > kMaxSyntaxErrors) return;
    bool is_action = false;
    std::string expected = describe_expected(set, p->getVocabulary(), is_action);
    const antlr4::Token* prev = previous_token(found);
    // An unterminated string swallowed the rest of its line, and was already reported.
    if (prev && prev->getType() == L::STRING && !string_closed(token_text(prev, source_))) return;
    // A stray character right before the offending token was already reported, and hiding it
    // is what upset the parser: one error is enough.
    if (found && found->getTokenIndex() != INVALID_INDEX) {
      size_t from = prev ? prev->getTokenIndex() + 1 : 0;
      for (size_t i = from; i < found->getTokenIndex(); ++i)
        if (tokens_.get(i)->getType() == L::UNKNOWN_CHAR) return;
    }
    std::string after;
    bool item_level = set.contains(size_t(L::K_IF)) && set.contains(size_t(L::K_TEST));
    if (prev && !item_level) {
      bool prev_if = prev->getType() == L::K_IF;
      after = (is_action && !prev_if && prev->getType() != L::K_DEFAULT)
                  ? " after the condition"
                  : " after " + display_token(prev, source_);
    }
    std::string found_text = display_token(found, source_);
    SourceLoc where = loc_of(found);
    // A missing piece is reported where it is missing (just after the previous token) when the
    // next token is on a later line or the file ended, as clang does for a missing ';'.
    if (!unwanted && prev && found &&
        (found->getType() == antlr4::Token::EOF || found->getLine() > prev->getLine())) {
      where = loc_of(prev);
      size_t a = prev->getStartIndex(), b = prev->getStopIndex();
      if (a != INVALID_INDEX && b != INVALID_INDEX && b >= a)
        where.col += static_cast<uint32_t>(b - a + 1);
    }
    if (where.line == 0) where = {1, 1};
    std::string msg = unwanted ? "unexpected " + found_text + "; expected " + expected + after
                               : "expected " + expected + after + ", found " + found_text;
    if (found && found->getType() == L::ASSIGN && (is_action || set.contains(size_t(L::EQ))))
      msg += " (use '==' to compare)";
    errors_.push_back({where, std::move(msg)});
  }
};

std::string unknown_char_message(unsigned char c) {
  if (c == '&') return "unexpected character '&' (use '&&' or 'and')";
  if (c == '|') return "unexpected character '|' (use '||' or 'or')";
  if (c == '\'') return "unexpected character ''' (strings use double quotes)";
  if (c >= 0x21 && c < 0x7f) return std::string("unexpected character '") + char(c) + "'";
  static const char* kHex = "0123456789ABCDEF";
  std::string hex = std::string("0x") + kHex[c >> 4] + kHex[c & 15];
  if (c >= 0x80)
    return "unexpected non-ASCII byte " + hex + " (only strings and comments may contain it)";
  return "unexpected control character " + hex;
}

// One pass over all tokens (hidden ones included): comments, stray characters, unterminated
// strings, and the nesting bound. Returns false when nesting is too deep to parse safely.
bool scan_tokens(const std::vector<antlr4::Token*>& toks, std::string_view source, Program& program,
                 ErrorList& errors) {
  size_t last_code_line = 0;
  size_t prev_unknown_index = INVALID_INDEX;
  int paren_depth = 0, prefix_run = 0;
  bool nesting_ok = true;
  for (antlr4::Token* t : toks) {
    size_t type = t->getType();
    size_t a = t->getStartIndex(), b = t->getStopIndex();
    bool has_text = a != INVALID_INDEX && b != INVALID_INDEX && a <= b && b < source.size();
    std::string_view text = has_text ? source.substr(a, b - a + 1) : std::string_view();
    if (type == L::COMMENT) {
      Comment c;
      c.loc = loc_of(t);
      c.text = std::string(text);
      c.trailing = last_code_line == t->getLine();
      program.comments.push_back(std::move(c));
      continue;
    }
    if (type == L::UNKNOWN_CHAR) {
      // A run of stray bytes (a UTF-8 sequence, binary junk) is one error, not one per byte.
      if (prev_unknown_index == INVALID_INDEX || a != prev_unknown_index + 1)
        errors.push_back({loc_of(t), unknown_char_message(text.empty() ? 0 : text[0])});
      prev_unknown_index = a;
      continue;
    }
    if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL || type == antlr4::Token::EOF) continue;
    last_code_line = t->getLine();
    if ((type == L::AMPAMP || type == L::PIPEPIPE) && text.size() == 1)
      errors.push_back({loc_of(t), unknown_char_message(static_cast<unsigned char>(text[0]))});
    if (type == L::STRING && !string_closed(text))
      errors.push_back({loc_of(t), "unterminated string"});
    // Nesting bound: open brackets plus the current run of prefix operators approximates the
    // parser's recursion depth; operator chains are bounded later by the AST builder.
    if (type == L::LPAREN || type == L::LBRACK) {
      ++paren_depth;
    } else if (type == L::RPAREN || type == L::RBRACK) {
      paren_depth = std::max(0, paren_depth - 1);
    }
    if (type == L::MINUS || type == L::K_NOT || type == L::BANG) {
      ++prefix_run;
    } else if (type != L::LPAREN && type != L::LBRACK) {
      prefix_run = 0;
    }
    if (nesting_ok && paren_depth + prefix_run > kMaxNesting) {
      errors.push_back({loc_of(t), "expression nested too deeply (more than " +
                                       std::to_string(kMaxNesting) + " levels)"});
      nesting_ok = false;
    }
  }
  return nesting_ok;
}

void parse_into(std::string_view source, Program& program, ErrorList& errors) {
  ByteStream input(source);
  TokenSource lexer(&input, source);
  antlr4::CommonTokenStream tokens(&lexer);
  tokens.fill();
  if (!scan_tokens(tokens.getTokens(), source, program, errors)) return;

  P parser(&tokens);
  parser.removeErrorListeners();  // errors are reported by the strategy, not listeners
  auto strategy = std::make_shared<ErrorStrategy>(source, tokens, errors);
  parser.setErrorHandler(strategy);
  P::ProgramContext* tree = parser.program();
  build_ast(tree, source, program, errors);
}

}  // namespace

std::unique_ptr<Program> parse_program(std::string_view source, std::string_view file,
                                       DiagnosticSink& diags) {
  auto program = std::make_unique<Program>();
  program->file = std::string(file);
  program->source = std::string(source);
  ErrorList errors;
  try {
    parse_into(program->source, *program, errors);
  } catch (const std::exception& e) {
    errors.push_back({{1, 1}, std::string("internal parser error: ") + e.what()});
  } catch (...) {
    errors.push_back({{1, 1}, "internal parser error"});
  }
  // Report in source order, once per position and message.
  // Source order; equal positions keep their report order (std::stable_sort's temporary
  // buffer is deprecated under clang + libstdc++, so the index breaks ties instead).
  std::vector<size_t> order(errors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const SourceLoc &la = errors[a].loc, &lb = errors[b].loc;
    if (la.line != lb.line) return la.line < lb.line;
    if (la.col != lb.col) return la.col < lb.col;
    return a < b;
  });
  ErrorList sorted;
  for (size_t i : order) sorted.push_back(std::move(errors[i]));
  errors = std::move(sorted);
  errors.erase(std::unique(errors.begin(), errors.end(),
                           [](const SyntaxError& a, const SyntaxError& b) {
                             return a.loc.line == b.loc.line && a.loc.col == b.loc.col &&
                                    a.message == b.message;
                           }),
               errors.end());
  if (errors.size() > kMaxSyntaxErrors) {
    errors.resize(kMaxSyntaxErrors);
    errors.push_back({errors.back().loc, "too many errors; stopping"});
  }
  for (auto& e : errors) diags.error(program->file, e.loc, std::move(e.message));
  return program;
}

}  // namespace tollgate
