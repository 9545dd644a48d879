// `tollgate fmt`: lays out a parsed Program canonically, keeping every comment.
//
// Layout rules (docs/language.md repeats them for users):
//  * one blank line between items of different kinds (header, input, routes, budgets, lets,
//    rules, tests) and around every block; items of the same kind (budgets, lets, rules) stay
//    contiguous unless the author separated them by at least one blank line, which is kept as
//    exactly one; blank lines inside input/routes blocks follow the same rule;
//  * one rule per line, condition then actions; within a run of contiguous rules the actions
//    start in one column (and `route NAME` is padded when more actions follow), as in DESIGN.md;
//  * input names, route names and contiguous budget names are aligned;
//  * literals are printed as written, expressions with the fewest parentheses that re-parse to
//    the same tree;
//  * a comment on its own line stays before the item (or block line) that follows it; a comment
//    after code stays at the end of that item's line. A construct printed on one line that had
//    several comments inside keeps the first trailing one at the end and the others above it.
#include "compiler/formatter.h"

#include <algorithm>
#include <string_view>

#include "compiler/ast_text.h"
#include "compiler/formatter_internal.h"

namespace tollgate {
namespace {

using fmt_detail::format_action;
using fmt_detail::format_expr;
using fmt_detail::quote;

constexpr size_t kAlignLimit = 60;  // longer rule heads do not push the action column
constexpr size_t kWrapColumn = 100;
constexpr size_t kCommentAlignLimit = 80;  // longer lines do not push the comment column

// Line/offset arithmetic and a tiny scanner over the original source (strings and comments
// skipped), used to find where constructs end and whether the author left blank lines.
class SourceMap {
 public:
  explicit SourceMap(std::string_view src) : src_(src) {
    starts_.push_back(0);
    for (size_t i = 0; i < src.size(); ++i)
      if (src[i] == '\n') starts_.push_back(i + 1);
  }

  size_t offset(SourceLoc l) const {
    if (l.line == 0 || l.line > starts_.size()) return src_.size();
    return std::min(src_.size(), starts_[l.line - 1] + (l.col > 0 ? l.col - 1 : 0));
  }
  uint32_t line_of(size_t off) const {
    return static_cast<uint32_t>(std::upper_bound(starts_.begin(), starts_.end(), off) -
                                 starts_.begin());
  }
  bool blank(uint32_t line) const {
    if (line == 0 || line > starts_.size()) return false;
    size_t end = line < starts_.size() ? starts_[line] : src_.size();
    for (size_t i = starts_[line - 1]; i < end; ++i)
      if (src_[i] != ' ' && src_[i] != '\t' && src_[i] != '\r' && src_[i] != '\n' &&
          src_[i] != '\f')
        return false;
    return true;
  }
  // Whether a blank line lies strictly between lines a and b.
  bool blank_between(uint32_t a, uint32_t b) const {
    for (uint32_t l = a + 1; l < b; ++l)
      if (blank(l)) return true;
    return false;
  }
  // Last line holding code (not whitespace or comment) in [from, to).
  uint32_t last_code_line(size_t from, size_t to, uint32_t fallback) const {
    size_t last = std::string_view::npos;
    to = std::min(to, src_.size());
    for (size_t i = from; i < to; ++i) {
      char c = src_[i];
      if (c == '#') {
        while (i < to && src_[i] != '\n') ++i;
      } else if (c == '"') {
        last = i;
        for (++i; i < to && src_[i] != '"' && src_[i] != '\n'; ++i) {
          if (src_[i] == '\\') ++i;
        }
        last = std::min(i, to - 1);
      } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\f') {
        last = i;
      }
    }
    return last == std::string_view::npos ? fallback : line_of(last);
  }
  // Offset of the first `c` at or after `from`, outside strings and comments.
  size_t find(char c, size_t from) const {
    for (size_t i = from; i < src_.size(); ++i) {
      char ch = src_[i];
      if (ch == c) return i;
      if (ch == '#') {
        while (i < src_.size() && src_[i] != '\n') ++i;
      } else if (ch == '"') {
        for (++i; i < src_.size() && src_[i] != '"' && src_[i] != '\n'; ++i)
          if (src_[i] == '\\') ++i;
      }
    }
    return src_.size();
  }

 private:
  std::string_view src_;
  std::vector<size_t> starts_;
};

enum class UnitKind {
  Header,
  InputsOpen,
  Input,
  InputsClose,
  RoutesOpen,
  Route,
  RoutesClose,
  Budget,
  Let,
  Rule,
  TestOpen,
  TestGivens,
  TestExpects,
  TestClose,
};

// One printed line (or wrapped line group) and the comments that travel with it.
struct Unit {
  UnitKind kind;
  int32_t index = -1;
  size_t start_off = 0;
  uint32_t start_line = 0;
  uint32_t end_line = 0;
  bool end_fixed = false;  // end_line known (block openers, test clauses)
  std::vector<const Comment*> leading, trailing;
};

class Formatter {
 public:
  explicit Formatter(const Program& p) : p_(p), map_(p.source) {}

  std::string run() {
    build_units();
    attach_comments();
    print_items();
    for (size_t i = 0; i < trailer_.size(); ++i) {
      if (i == 0 && !lines_.empty()) blank_line();
      line("", trailer_[i]->text);
    }
    return join();
  }

 private:
  const Program& p_;
  SourceMap map_;
  std::vector<Unit> units_;                      // in item order
  std::vector<std::vector<size_t>> item_units_;  // units of each item
  std::vector<const Comment*> trailer_;          // comments after the last code
  struct Line {
    std::string code, comment;
  };
  std::vector<Line> lines_;

  void blank_line() { lines_.push_back({}); }
  void line(std::string code, std::string comment = {}) {
    // Wrapped text arrives with embedded newlines: the comment goes on its last line.
    size_t nl;
    while ((nl = code.find('\n')) != std::string::npos) {
      lines_.push_back({code.substr(0, nl), {}});
      code.erase(0, nl + 1);
    }
    lines_.push_back({std::move(code), std::move(comment)});
  }

  // Trailing comments on consecutive lines share one column (lines with long code excepted).
  std::string join() const {
    std::string out;
    for (size_t i = 0; i < lines_.size();) {
      size_t j = i, width = 0;
      while (j < lines_.size() && !lines_[j].comment.empty() && !lines_[j].code.empty()) {
        if (lines_[j].code.size() <= kCommentAlignLimit)
          width = std::max(width, lines_[j].code.size());
        ++j;
      }
      if (j == i) j = i + 1;
      for (size_t k = i; k < j; ++k) {
        const Line& l = lines_[k];
        out += l.code;
        if (!l.comment.empty()) {
          if (!l.code.empty())
            out += l.code.size() <= width ? std::string(width - l.code.size() + 2, ' ') : "  ";
          out += l.comment;
        }
        out += "\n";
      }
      i = j;
    }
    return out;
  }

  // ---- units ----------------------------------------------------------------------------------

  size_t add(UnitKind kind, int32_t index, SourceLoc loc) {
    Unit u;
    u.kind = kind;
    u.index = index;
    u.start_off = map_.offset(loc);
    u.start_line = loc.line;
    units_.push_back(u);
    return units_.size() - 1;
  }
  size_t add_at(UnitKind kind, size_t off) {
    Unit u;
    u.kind = kind;
    u.start_off = off;
    u.start_line = map_.line_of(off);
    u.end_line = u.start_line;
    u.end_fixed = true;
    units_.push_back(u);
    return units_.size() - 1;
  }
  // A block opener ends at its `{`.
  size_t add_open(UnitKind kind, int32_t index, SourceLoc loc) {
    size_t u = add(kind, index, loc);
    units_[u].end_line = map_.line_of(map_.find('{', units_[u].start_off));
    units_[u].end_fixed = true;
    return u;
  }
  size_t close_of(size_t open) {
    size_t brace = map_.find('{', units_[open].start_off);
    return map_.find('}', brace + 1);
  }

  void build_units() {
    for (const Item& it : p_.items) {
      std::vector<size_t> us;
      switch (it.kind) {
        case ItemKind::Header:
          us.push_back(add(UnitKind::Header, -1, p_.header.loc));
          break;
        case ItemKind::Inputs: {
          size_t open = add_open(UnitKind::InputsOpen, -1, p_.inputs_loc);
          us.push_back(open);
          for (size_t i = 0; i < p_.inputs.size(); ++i)
            us.push_back(add(UnitKind::Input, int32_t(i), p_.inputs[i].loc));
          us.push_back(add_at(UnitKind::InputsClose, close_of(open)));
          break;
        }
        case ItemKind::Routes: {
          size_t open = add_open(UnitKind::RoutesOpen, -1, p_.routes_loc);
          us.push_back(open);
          for (size_t i = 0; i < p_.routes.size(); ++i)
            us.push_back(add(UnitKind::Route, int32_t(i), p_.routes[i].loc));
          us.push_back(add_at(UnitKind::RoutesClose, close_of(open)));
          break;
        }
        case ItemKind::Budget:
          us.push_back(add(UnitKind::Budget, it.index, p_.budgets.at(size_t(it.index)).loc));
          break;
        case ItemKind::Let:
          us.push_back(add(UnitKind::Let, it.index, p_.lets.at(size_t(it.index)).loc));
          break;
        case ItemKind::Rule:
          us.push_back(add(UnitKind::Rule, it.index, p_.rules.at(size_t(it.index)).loc));
          break;
        case ItemKind::Test: {
          const TestCase& t = p_.tests.at(size_t(it.index));
          size_t open = add_open(UnitKind::TestOpen, it.index, t.loc);
          us.push_back(open);
          if (!t.givens.empty()) {
            size_t g = add(UnitKind::TestGivens, it.index, t.givens.front().loc);
            for (const TestGiven& x : t.givens)
              units_[g].end_line =
                  std::max({units_[g].end_line, x.loc.line, x.value ? x.value->loc.line : 0u});
            units_[g].end_fixed = true;
            us.push_back(g);
          }
          if (!t.expects.empty()) {
            size_t e = add(UnitKind::TestExpects, it.index, t.expects.front().loc);
            for (const TestExpect& x : t.expects)
              units_[e].end_line =
                  std::max({units_[e].end_line, x.loc.line, x.value ? x.value->loc.line : 0u});
            units_[e].end_fixed = true;
            us.push_back(e);
          }
          us.push_back(add_at(UnitKind::TestClose, close_of(open)));
          break;
        }
      }
      item_units_.push_back(std::move(us));
    }
  }

  // Units sorted by where they start in the source.
  std::vector<size_t> by_offset() const {
    std::vector<size_t> order(units_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return units_[a].start_off != units_[b].start_off ? units_[a].start_off < units_[b].start_off
                                                        : a < b;
    });
    return order;
  }

  void attach_comments() {
    std::vector<size_t> order = by_offset();
    for (size_t k = 0; k < order.size(); ++k) {
      Unit& u = units_[order[k]];
      if (u.end_fixed) continue;
      size_t next = k + 1 < order.size() ? units_[order[k + 1]].start_off : p_.source.size();
      u.end_line = map_.last_code_line(u.start_off, next, u.start_line);
    }
    for (const Comment& c : p_.comments) {
      size_t off = map_.offset(c.loc);
      // The last unit starting before the comment, and the first one after it.
      size_t k = 0;
      while (k < order.size() && units_[order[k]].start_off <= off) ++k;
      Unit* before = k > 0 ? &units_[order[k - 1]] : nullptr;
      Unit* after = k < order.size() ? &units_[order[k]] : nullptr;
      if (c.trailing && before) {
        before->trailing.push_back(&c);
      } else if (before && c.loc.line <= before->end_line) {
        before->leading.push_back(&c);  // inside a construct printed on one line: hoisted
      } else if (after) {
        after->leading.push_back(&c);
      } else {
        trailer_.push_back(&c);
      }
    }
  }

  // First source line of a unit including its own-line comments above it.
  uint32_t first_line(const Unit& u) const {
    uint32_t l = u.start_line;
    for (const Comment* c : u.leading) l = std::min(l, c->loc.line);
    return l;
  }

  // ---- printing -------------------------------------------------------------------------------

  // Prints a unit's comments (indented by `indent`) and its line (indented by `line_indent`).
  void emit(const Unit& u, const std::string& indent, const std::string& text,
            const std::string* line_indent = nullptr) {
    const Comment* prev = nullptr;
    for (const Comment* c : u.leading) {
      if (prev && prev->loc.line < u.start_line && map_.blank_between(prev->loc.line, c->loc.line))
        blank_line();
      line("", indent + c->text);
      prev = c;
    }
    if (prev && prev->loc.line < u.start_line && map_.blank_between(prev->loc.line, u.start_line))
      blank_line();
    for (size_t i = 1; i < u.trailing.size(); ++i) line("", indent + u.trailing[i]->text);
    line((line_indent ? *line_indent : indent) + text,
         u.trailing.empty() ? "" : u.trailing[0]->text);
  }

  static std::string pad(std::string s, size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
  }

  // A unit separated from the previous one (ending at prev_end) by a blank line in the source.
  bool separated(uint32_t prev_end, const Unit& u) const {
    return map_.blank_between(prev_end, first_line(u));
  }

  static bool same_kind_run(ItemKind k) {
    return k == ItemKind::Budget || k == ItemKind::Let || k == ItemKind::Rule;
  }

  void print_items() {
    // Decide blank lines between items first: alignment groups depend on them.
    size_t n = p_.items.size();
    std::vector<bool> blank_before(n, false);
    for (size_t i = 1; i < n; ++i) {
      ItemKind k = p_.items[i].kind, pk = p_.items[i - 1].kind;
      const Unit& prev_last = units_[item_units_[i - 1].back()];
      const Unit& first = units_[item_units_[i].front()];
      blank_before[i] = k != pk || !same_kind_run(k) || separated(prev_last.end_line, first);
    }
    for (size_t i = 0; i < n;) {
      // A run of contiguous items of one kind shares column alignment.
      size_t j = i + 1;
      while (j < n && p_.items[j].kind == p_.items[i].kind && !blank_before[j]) ++j;
      if (i > 0 && blank_before[i]) blank_line();
      switch (p_.items[i].kind) {
        case ItemKind::Header:
          print_header(i);
          break;
        case ItemKind::Inputs:
          print_inputs(i);
          break;
        case ItemKind::Routes:
          print_routes(i);
          break;
        case ItemKind::Budget:
          print_budgets(i, j);
          break;
        case ItemKind::Let:
          print_lets(i, j);
          break;
        case ItemKind::Rule:
          print_rules(i, j);
          break;
        case ItemKind::Test:
          print_test(i);
          break;
      }
      i = p_.items[i].kind == ItemKind::Header || p_.items[i].kind == ItemKind::Inputs ||
                  p_.items[i].kind == ItemKind::Routes || p_.items[i].kind == ItemKind::Test
              ? i + 1
              : j;
    }
  }

  const Unit& unit(size_t item, size_t k = 0) const { return units_[item_units_[item][k]]; }

  void print_header(size_t item) {
    std::string s = "policy " + p_.header.name;
    if (p_.header.on_error_written)
      s += p_.header.on_error == OnError::Deny ? " on_error deny" : " on_error skip";
    emit(unit(item), "", s);
  }

  // Block members, with an author's blank lines between them kept (collapsed to one).
  template <typename LineFn>
  void print_block(size_t item, const std::string& opener, LineFn line) {
    const std::vector<size_t>& us = item_units_[item];
    emit(units_[us.front()], "", opener + " {");
    for (size_t k = 1; k + 1 < us.size(); ++k) {
      const Unit& u = units_[us[k]];
      if (k > 1 && separated(units_[us[k - 1]].end_line, u)) blank_line();
      emit(u, "  ", line(u.index));
    }
    const std::string none;
    emit(units_[us.back()], "  ", "}", &none);  // comments before `}` stay inside the block
  }

  void print_inputs(size_t item) {
    size_t width = 0;
    for (const InputDecl& in : p_.inputs) width = std::max(width, in.name.size() + 1);
    print_block(item, "input", [&](int32_t i) {
      const InputDecl& in = p_.inputs.at(size_t(i));
      std::string s = pad(in.name + ":", width) + " " + input_type_text(in.type, p_, ", ");
      if (in.default_value) s += " = " + format_expr(*in.default_value);
      return s;
    });
  }

  void print_routes(size_t item) {
    size_t width = 0;
    for (const RouteDecl& r : p_.routes) width = std::max(width, r.name.size());
    print_block(item, "routes", [&](int32_t i) {
      const RouteDecl& r = p_.routes.at(size_t(i));
      std::string s = pad(r.name, width) + " = " + quote(r.model);
      std::string opts;
      if (r.self_hosted) opts += " self_hosted";
      if (r.batch) opts += " batch";
      if (r.has_inline_price) opts += " in " + r.in_text + " out " + r.out_text;
      if (!opts.empty()) s += " " + opts;
      return s;
    });
  }

  void print_budgets(size_t from, size_t to) {
    size_t width = 0;
    for (size_t i = from; i < to; ++i)
      width = std::max(width, p_.budgets.at(size_t(p_.items[i].index)).name.size());
    static const char* kUnits[] = {"usd", "tokens", "requests"};
    static const char* kWindows[] = {"minute", "hour", "day", "month"};
    for (size_t i = from; i < to; ++i) {
      const BudgetDecl& b = p_.budgets.at(size_t(p_.items[i].index));
      std::string limit = b.limit ? format_expr(*b.limit) : "0";
      std::string s = "budget " + pad(b.name, width) + " = " + limit;
      // `$50` already says usd.
      if (!(limit.size() > 0 && limit[0] == '$' && b.unit == BudgetUnit::Usd))
        s += std::string(" ") + kUnits[int(b.unit)];
      if (!b.key_input.empty()) s += " per " + b.key_input;
      s += std::string(" per ") + kWindows[int(b.window)];
      if (b.fail_written) s += b.fail == FailMode::Open ? " fail open" : " fail closed";
      emit(unit(i), "", s);
    }
  }

  void print_lets(size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      const LetDecl& l = p_.lets.at(size_t(p_.items[i].index));
      emit(unit(i), "", "let " + l.name + " = " + (l.value ? format_expr(*l.value) : ""));
    }
  }

  void print_rules(size_t from, size_t to) {
    std::vector<std::string> heads;
    size_t head_width = 0, route_width = 0;
    for (size_t i = from; i < to; ++i) {
      const Rule& r = p_.rules.at(size_t(p_.items[i].index));
      heads.push_back(r.is_default || !r.condition ? "default" : "if " + format_expr(*r.condition));
      if (heads.back().size() <= kAlignLimit)
        head_width = std::max(head_width, heads.back().size());
      if (r.actions.size() > 1 && r.actions[0].kind == ActionKind::Route)
        route_width = std::max(route_width, format_action(r.actions[0]).size());
    }
    for (size_t i = from; i < to; ++i) {
      const Rule& r = p_.rules.at(size_t(p_.items[i].index));
      const std::string& head = heads[i - from];
      std::string s = head.size() <= kAlignLimit ? pad(head, head_width) + "  " : head + "  ";
      for (size_t k = 0; k < r.actions.size(); ++k) {
        std::string a = format_action(r.actions[k]);
        if (k == 0 && r.actions.size() > 1 && r.actions[0].kind == ActionKind::Route)
          a = pad(a, route_width);
        s += (k ? " " : "") + a;
      }
      emit(unit(i), "", s);
    }
  }

  // `given a = 1, b = 2`, wrapped after a comma when it gets too long.
  static std::string clause(const std::string& keyword, const std::vector<std::string>& parts) {
    std::string s = "  " + keyword + " ";
    std::string indent(s.size(), ' ');
    size_t line_start = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
      std::string piece = parts[i] + (i + 1 < parts.size() ? "," : "");
      if (i > 0) {
        if (s.size() - line_start + 1 + piece.size() > kWrapColumn) {
          s += "\n";
          line_start = s.size();
          s += indent;
        } else {
          s += " ";
        }
      }
      s += piece;
    }
    return s.substr(2);  // emit() adds the indent of the first line
  }

  static std::string expect_text(const TestExpect& e) {
    static const char* kFields[] = {"route",   "deny", "max_out", "max_in", "retry",
                                    "backoff", "rag",  "top_k",   "cache",  "tag"};
    std::string s = kFields[int(e.field)];
    if (e.none) return s + " none";
    if (e.value) s += " " + format_expr(*e.value);
    return s;
  }

  void print_test(size_t item) {
    const TestCase& t = p_.tests.at(size_t(unit(item).index));
    const std::vector<size_t>& us = item_units_[item];
    emit(units_[us.front()], "", "test " + quote(t.name) + " {");
    for (size_t k = 1; k + 1 < us.size(); ++k) {
      const Unit& u = units_[us[k]];
      std::vector<std::string> parts;
      if (u.kind == UnitKind::TestGivens) {
        for (const TestGiven& g : t.givens)
          parts.push_back(g.name + (g.is_budget ? ".spent" : "") + " = " +
                          (g.value ? format_expr(*g.value) : ""));
        emit(u, "  ", clause("given", parts));
      } else {
        for (const TestExpect& e : t.expects) parts.push_back(expect_text(e));
        emit(u, "  ", clause("expect", parts));
      }
    }
    const std::string none;
    emit(units_[us.back()], "  ", "}", &none);
  }
};

}  // namespace

std::string format_program(const Program& program) {
  return Formatter(program).run();
}

}  // namespace tollgate
