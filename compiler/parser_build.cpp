// Parse tree -> AST (compiler/ast.h). Walks the ANTLR contexts directly (no visitor, so no
// antlrcpp::Any): every node gets its 1-based loc, literals keep their spelling in Expr::text and
// get their decoded value. The tree can be partial after syntax errors, so every child is
// null-checked and missing pieces become harmless placeholders.
#include <algorithm>
#include <cctype>

#include "compiler/parser_internal.h"
#include "compiler/parser_literals.h"

namespace tollgate::parser_detail {
namespace {

using P = tollgate_antlr::TollgateParser;
using antlr4::Token;
using antlr4::tree::TerminalNode;

class Builder {
 public:
  Builder(std::string_view source, Program& program, ErrorList& errors)
      : src_(source), p_(program), errors_(errors) {}

  void build(P::ProgramContext* ctx) {
    if (!ctx) return;
    for (P::ItemContext* it : ctx->item()) item(it);
  }

 private:
  std::string_view src_;
  Program& p_;
  ErrorList& errors_;
  bool any_item_ = false;
  bool depth_reported_ = false;

  // ---- helpers ------------------------------------------------------------------------------

  // A construct without a position was conjured or dropped by ANTLR's error recovery, which has
  // already reported the syntax error: a second message about it would only be noise.
  void error(SourceLoc loc, std::string message) {
    if (loc.line == 0) return;
    errors_.push_back({loc, std::move(message)});
  }

  static SourceLoc loc(Token* t) {
    if (!t || t->getLine() == 0) return {};
    return {static_cast<uint32_t>(t->getLine()),
            static_cast<uint32_t>(t->getCharPositionInLine() + 1)};
  }
  static SourceLoc loc(TerminalNode* n) { return n ? loc(n->getSymbol()) : SourceLoc{}; }
  static SourceLoc loc(antlr4::ParserRuleContext* c) {
    return c ? loc(c->getStart()) : SourceLoc{};
  }

  // The token's bytes from the original source (ANTLR sees one code point per byte, so token
  // indexes are byte offsets). Tokens conjured by error recovery have no text.
  std::string text(Token* t) const {
    if (!t) return {};
    size_t a = t->getStartIndex(), b = t->getStopIndex();
    if (a == INVALID_INDEX || b == INVALID_INDEX || a > b || b >= src_.size()) return {};
    return std::string(src_.substr(a, b - a + 1));
  }
  std::string text(TerminalNode* n) const { return n ? text(n->getSymbol()) : std::string(); }

  std::string ident(P::IdentContext* c) {
    if (!c) return {};
    std::string s = text(c->getStart());
    bool bad = false;
    for (char ch : s)
      if (std::isupper(static_cast<unsigned char>(ch))) bad = true;
    if (bad)
      error(loc(c), "invalid name '" + s +
                        "': names are lowercase letters, digits and '_' (and start with a letter "
                        "or '_')");
    return s;
  }

  ExprPtr make(ExprKind kind, SourceLoc l, std::string txt = {}) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->loc = l;
    e->text = std::move(txt);
    return e;
  }
  // Stands in for a sub-expression that failed to parse (an error was already reported).
  ExprPtr placeholder(SourceLoc l) { return make(ExprKind::Name, l); }

  std::string decode_string_token(TerminalNode* n) {
    if (!n) return {};
    std::string raw = text(n), out, err;
    size_t off = 0;
    if (raw.empty()) return {};
    if (!decode_string(raw, out, err, off)) {
      SourceLoc l = loc(n);
      l.col += static_cast<uint32_t>(off);
      error(l, err);
    }
    return out;
  }

  // ---- items --------------------------------------------------------------------------------

  void push_item(ItemKind kind, int32_t index, SourceLoc l) {
    p_.items.push_back({kind, index, l});
  }

  void item(P::ItemContext* c) {
    if (!c) return;
    bool first = !any_item_;
    any_item_ = true;
    if (auto* h = c->header()) {
      header(h, first);
    } else if (auto* in = c->inputBlock()) {
      inputs(in);
    } else if (auto* r = c->routesBlock()) {
      routes(r);
    } else if (auto* b = c->budgetDecl()) {
      budget(b);
    } else if (auto* l = c->letDecl()) {
      let(l);
    } else if (auto* r = c->ruleDecl()) {
      rule(r);
    } else if (auto* t = c->testBlock()) {
      test(t);
    }
  }

  void header(P::HeaderContext* c, bool first) {
    if (p_.has_header) {
      error(loc(c), "duplicate policy header (the first is at line " +
                        std::to_string(p_.header.loc.line) + ")");
      return;
    }
    if (!first) error(loc(c), "the policy header must come first in the file");
    p_.has_header = true;
    p_.header.name = ident(c->ident());
    p_.header.loc = loc(c);
    if (auto* m = c->onErrorMode()) {
      p_.header.on_error_written = true;
      p_.header.on_error = m->K_DENY() ? OnError::Deny : OnError::Skip;
    }
    push_item(ItemKind::Header, -1, p_.header.loc);
  }

  void inputs(P::InputBlockContext* c) {
    if (p_.has_inputs) {
      error(loc(c), "duplicate input block (merge it into the one at line " +
                        std::to_string(p_.inputs_loc.line) + ")");
    } else {
      p_.has_inputs = true;
      p_.inputs_loc = loc(c);
      push_item(ItemKind::Inputs, -1, p_.inputs_loc);
    }
    for (P::InputDeclContext* d : c->inputDecl()) {
      if (!d) continue;
      InputDecl in;
      in.name = ident(d->ident());
      in.loc = loc(d);
      in.type = type_spec(d->typeSpec(), in.name);
      if (d->constValue()) in.default_value = const_value(d->constValue());
      p_.inputs.push_back(std::move(in));
    }
  }

  Type type_spec(P::TypeSpecContext* c, const std::string& input_name) {
    Type t;
    if (dynamic_cast<P::BoolTypeContext*>(c)) {
      t.kind = TypeKind::Bool;
    } else if (dynamic_cast<P::IntTypeContext*>(c)) {
      t.kind = TypeKind::Int;
    } else if (dynamic_cast<P::FloatTypeContext*>(c)) {
      t.kind = TypeKind::Float;
    } else if (dynamic_cast<P::StringTypeContext*>(c)) {
      t.kind = TypeKind::String;
    } else if (auto* e = dynamic_cast<P::EnumTypeContext*>(c)) {
      EnumDef def;
      def.name = input_name;
      for (P::IdentContext* m : e->ident()) def.members.push_back(ident(m));
      t.kind = TypeKind::Enum;
      t.enum_id = static_cast<int32_t>(p_.enums.size());
      p_.enums.push_back(std::move(def));
    }
    return t;
  }

  void routes(P::RoutesBlockContext* c) {
    if (p_.has_routes) {
      error(loc(c), "duplicate routes block (merge it into the one at line " +
                        std::to_string(p_.routes_loc.line) + ")");
    } else {
      p_.has_routes = true;
      p_.routes_loc = loc(c);
      push_item(ItemKind::Routes, -1, p_.routes_loc);
    }
    for (P::RouteDeclContext* d : c->routeDecl()) {
      if (!d) continue;
      RouteDecl r;
      r.name = ident(d->ident());
      r.loc = loc(d);
      r.model = decode_string_token(d->STRING());
      for (P::RouteOptionContext* o : d->routeOption()) {
        if (dynamic_cast<P::SelfHostedOptionContext*>(o)) {
          if (r.self_hosted) error(loc(o), "duplicate option 'self_hosted'");
          r.self_hosted = true;
        } else if (dynamic_cast<P::BatchOptionContext*>(o)) {
          if (r.batch) error(loc(o), "duplicate option 'batch'");
          r.batch = true;
        } else if (auto* po = dynamic_cast<P::PriceOptionContext*>(o)) {
          if (r.has_inline_price) error(loc(o), "duplicate inline price");
          r.has_inline_price = true;
          r.in_text = text(po->PRICE(0));
          r.out_text = text(po->PRICE(1));
          r.in_per_million = price(po->PRICE(0));
          r.out_per_million = price(po->PRICE(1));
        }
      }
      p_.routes.push_back(std::move(r));
    }
  }

  double price(TerminalNode* n) {
    std::string t = text(n), err;
    double v = 0;
    if (!t.empty() && !decode_price(t, v, err)) error(loc(n), err);
    return v;
  }

  void budget(P::BudgetDeclContext* c) {
    BudgetDecl b;
    std::vector<P::IdentContext*> ids = c->ident();
    b.name = ids.empty() ? std::string() : ident(ids[0]);
    b.loc = loc(c);
    bool money = false;
    if (auto* l = c->budgetLimit()) {
      if (l->INT()) {
        b.limit = int_literal(l->INT(), nullptr);
      } else if (l->FLOAT()) {
        b.limit = float_literal(l->FLOAT(), nullptr);
      } else if (l->MONEY()) {
        b.limit = money_literal(l->MONEY(), nullptr);
        money = true;
      } else if (l->ident()) {
        b.limit = make(ExprKind::Name, loc(l), ident(l->ident()));
      }
    }
    if (!b.limit) b.limit = placeholder(b.loc);
    if (auto* u = c->budgetUnit()) {
      b.unit = u->K_TOKENS()     ? BudgetUnit::Tokens
               : u->K_REQUESTS() ? BudgetUnit::Requests
                                 : BudgetUnit::Usd;
      if (money && b.unit != BudgetUnit::Usd)
        error(loc(u), "a money limit ('$...') needs the unit usd");
    } else if (money) {
      b.unit = BudgetUnit::Usd;
    } else if (c->budgetLimit()) {
      SourceLoc l = loc(c->budgetLimit());
      error(l, "expected a unit (usd, tokens or requests) after the budget limit");
    }
    if (c->key) {
      b.key_input = ident(c->key);
      b.key_loc = loc(c->key);
    }
    if (auto* w = c->budgetWindow()) {
      b.window = w->K_MINUTE() ? BudgetWindow::Minute
                 : w->K_HOUR() ? BudgetWindow::Hour
                 : w->K_DAY()  ? BudgetWindow::Day
                               : BudgetWindow::Month;
    }
    if (auto* f = c->failMode()) {
      b.fail_written = true;
      b.fail = f->K_OPEN() ? FailMode::Open : FailMode::Closed;
    }
    push_item(ItemKind::Budget, static_cast<int32_t>(p_.budgets.size()), b.loc);
    p_.budgets.push_back(std::move(b));
  }

  void let(P::LetDeclContext* c) {
    LetDecl l;
    l.name = ident(c->ident());
    l.loc = loc(c);
    l.value = expr(c->expr(), 0);
    push_item(ItemKind::Let, static_cast<int32_t>(p_.lets.size()), l.loc);
    p_.lets.push_back(std::move(l));
  }

  // ---- rules --------------------------------------------------------------------------------

  void rule(P::RuleDeclContext* c) {
    Rule r;
    r.loc = loc(c);
    std::vector<P::ActionContext*> acts;
    if (auto* i = dynamic_cast<P::IfRuleContext*>(c)) {
      r.condition = expr(i->expr(), 0);
      acts = i->action();
    } else if (auto* d = dynamic_cast<P::DefaultRuleContext*>(c)) {
      r.is_default = true;
      acts = d->action();
    } else {
      return;
    }
    for (P::ActionContext* a : acts) r.actions.push_back(action(a));
    r.index = static_cast<int32_t>(p_.rules.size());
    push_item(ItemKind::Rule, r.index, r.loc);
    p_.rules.push_back(std::move(r));
  }

  Action action(P::ActionContext* c) {
    Action a;
    a.loc = loc(c);
    if (auto* x = dynamic_cast<P::RouteActionContext*>(c)) {
      a.kind = ActionKind::Route;
      a.route = ident(x->ident());
    } else if (auto* x = dynamic_cast<P::DenyActionContext*>(c)) {
      a.kind = ActionKind::Deny;
      a.reason_text = text(x->STRING());
      a.reason = decode_string_token(x->STRING());
    } else if (auto* x = dynamic_cast<P::MaxOutActionContext*>(c)) {
      a.kind = ActionKind::MaxOut;
      a.arg = expr(x->expr(), 0);
    } else if (auto* x = dynamic_cast<P::MaxInActionContext*>(c)) {
      a.kind = ActionKind::MaxIn;
      a.arg = expr(x->expr(), 0);
    } else if (auto* x = dynamic_cast<P::RetryActionContext*>(c)) {
      a.kind = ActionKind::Retry;
      if (x->K_BACKOFF()) a.arg = expr(x->expr(), 0);
    } else if (dynamic_cast<P::RagOffActionContext*>(c)) {
      a.kind = ActionKind::RagOff;
    } else if (auto* x = dynamic_cast<P::RagActionContext*>(c)) {
      a.kind = ActionKind::Rag;
      if (x->K_TOP_K()) a.arg = expr(x->expr(), 0);
    } else if (auto* x = dynamic_cast<P::CacheActionContext*>(c)) {
      a.kind = ActionKind::Cache;
      a.cache = cache_mode(x->cacheMode());
    } else if (auto* x = dynamic_cast<P::TagActionContext*>(c)) {
      a.kind = ActionKind::Tag;
      a.arg = expr(x->expr(), 0);
    }
    return a;
  }

  static CacheMode cache_mode(P::CacheModeContext* m) {
    if (!m) return CacheMode::Off;
    if (m->K_PROMPT()) return CacheMode::Prompt;
    if (m->K_RESPONSE()) return CacheMode::Response;
    return CacheMode::Off;
  }

  // ---- expressions --------------------------------------------------------------------------

  bool too_deep(int depth, SourceLoc l) {
    if (depth <= kMaxNesting) return false;
    if (!depth_reported_) {
      depth_reported_ = true;
      error(l,
            "expression nested too deeply (more than " + std::to_string(kMaxNesting) + " levels)");
    }
    return true;
  }

  static bool is_comparison(P::ExprContext* c) {
    return dynamic_cast<P::CmpExprContext*>(c) || dynamic_cast<P::InExprContext*>(c);
  }

  ExprPtr binary(BinaryOp op, Token* op_tok, P::ExprContext* lhs, P::ExprContext* rhs, int depth,
                 bool symbolic = false) {
    auto e = make(ExprKind::Binary, loc(op_tok));
    e->binary_op = op;
    e->symbolic = symbolic;
    e->args.push_back(expr(lhs, depth + 1));
    e->args.push_back(expr(rhs, depth + 1));
    return e;
  }

  ExprPtr expr(P::ExprContext* c, int depth) {
    if (!c) return placeholder({});
    if (too_deep(depth, loc(c))) return placeholder(loc(c));
    if (auto* x = dynamic_cast<P::PrimaryExprContext*>(c)) return primary(x->primary(), depth);
    if (auto* x = dynamic_cast<P::NegExprContext*>(c)) {
      auto e = make(ExprKind::Unary, loc(x->MINUS()));
      e->unary_op = UnaryOp::Neg;
      e->args.push_back(expr(x->expr(), depth + 1));
      return e;
    }
    if (auto* x = dynamic_cast<P::NotExprContext*>(c)) {
      auto e = make(ExprKind::Unary, loc(x->op));
      e->unary_op = UnaryOp::Not;
      e->symbolic = x->BANG() != nullptr;
      e->args.push_back(expr(x->expr(), depth + 1));
      return e;
    }
    if (auto* x = dynamic_cast<P::MulExprContext*>(c)) {
      BinaryOp op = x->STAR() ? BinaryOp::Mul : x->SLASH() ? BinaryOp::Div : BinaryOp::Mod;
      return binary(op, x->op, x->expr(0), x->expr(1), depth);
    }
    if (auto* x = dynamic_cast<P::AddExprContext*>(c)) {
      return binary(x->PLUS() ? BinaryOp::Add : BinaryOp::Sub, x->op, x->expr(0), x->expr(1),
                    depth);
    }
    if (auto* x = dynamic_cast<P::CmpExprContext*>(c)) {
      BinaryOp op = x->EQ()             ? BinaryOp::Eq
                    : x->NE()           ? BinaryOp::Ne
                    : x->LT()           ? BinaryOp::Lt
                    : x->LE()           ? BinaryOp::Le
                    : x->GT()           ? BinaryOp::Gt
                    : x->GE()           ? BinaryOp::Ge
                    : x->K_STARTSWITH() ? BinaryOp::StartsWith
                    : x->K_ENDSWITH()   ? BinaryOp::EndsWith
                                        : BinaryOp::Contains;
      if (is_comparison(x->expr(0)) || is_comparison(x->expr(1)))
        error(loc(x->op), "comparisons cannot be chained: add parentheses");
      return binary(op, x->op, x->expr(0), x->expr(1), depth);
    }
    if (auto* x = dynamic_cast<P::AndExprContext*>(c)) {
      return binary(BinaryOp::And, x->op, x->expr(0), x->expr(1), depth, x->AMPAMP() != nullptr);
    }
    if (auto* x = dynamic_cast<P::OrExprContext*>(c)) {
      return binary(BinaryOp::Or, x->op, x->expr(0), x->expr(1), depth, x->PIPEPIPE() != nullptr);
    }
    if (auto* x = dynamic_cast<P::InExprContext*>(c)) {
      SourceLoc l = x->K_NOT() ? loc(x->K_NOT()) : loc(x->K_IN());
      if (is_comparison(x->expr())) error(l, "comparisons cannot be chained: add parentheses");
      auto e = make(ExprKind::In, l);
      e->negated = x->K_NOT() != nullptr;
      e->args.push_back(expr(x->expr(), depth + 1));
      if (auto* list = x->list())
        for (P::ConstValueContext* v : list->constValue()) e->args.push_back(const_value(v));
      return e;
    }
    return placeholder(loc(c));
  }

  ExprPtr primary(P::PrimaryContext* c, int depth) {
    if (!c) return placeholder({});
    if (auto* x = dynamic_cast<P::LiteralPrimaryContext*>(c)) return literal(x->literal(), nullptr);
    if (auto* x = dynamic_cast<P::NamePrimaryContext*>(c))
      return make(ExprKind::Name, loc(c), ident(x->ident()));
    if (auto* x = dynamic_cast<P::MemberPrimaryContext*>(c)) {
      auto e = make(ExprKind::Member, loc(c), ident(x->ident(0)));
      std::string view = ident(x->ident(1));
      if (view == "spent") {
        e->member = BudgetView::Spent;
      } else if (view == "limit") {
        e->member = BudgetView::Limit;
      } else if (view == "remaining") {
        e->member = BudgetView::Remaining;
      } else if (view == "ratio") {
        e->member = BudgetView::Ratio;
      } else if (!view.empty()) {
        error(loc(x->ident(1)),
              "unknown budget view '" + view + "' (expected spent, limit, remaining or ratio)");
      }
      return e;
    }
    if (auto* x = dynamic_cast<P::CallPrimaryContext*>(c)) {
      std::string name = ident(x->ident());
      auto e = make(ExprKind::Call, loc(c), name);
      static const std::pair<const char*, Builtin> kBuiltins[] = {
          {"min", Builtin::Min},  {"max", Builtin::Max}, {"clamp", Builtin::Clamp},
          {"pow", Builtin::Pow},  {"abs", Builtin::Abs}, {"has", Builtin::Has},
          {"cost", Builtin::Cost}};
      bool found = false;
      for (const auto& b : kBuiltins)
        if (name == b.first) {
          e->builtin = b.second;
          found = true;
        }
      if (!found && !name.empty())
        error(loc(c),
              "unknown function '" + name + "' (builtins: min, max, clamp, pow, abs, has, cost)");
      for (P::ExprContext* a : x->expr()) e->args.push_back(expr(a, depth + 1));
      return e;
    }
    if (auto* x = dynamic_cast<P::ParenPrimaryContext*>(c)) return expr(x->expr(), depth + 1);
    return placeholder(loc(c));
  }

  // ---- literals -----------------------------------------------------------------------------

  // `minus` is the '-' of a negative constant (input default, list item, test given): the value
  // is folded into the literal so `-9223372036854775808` is representable.
  ExprPtr int_literal(TerminalNode* n, Token* minus) {
    std::string t = text(n), err;
    auto e = make(ExprKind::IntLit, minus ? loc(minus) : loc(n), minus ? "-" + t : t);
    if (!t.empty() && !decode_int(t, minus != nullptr, e->int_value, err)) error(loc(n), err);
    return e;
  }

  ExprPtr float_from(TerminalNode* n, Token* minus,
                     bool (*decode)(std::string_view, double&, std::string&),
                     const std::string& suffix = {}) {
    std::string t = text(n), err;
    auto e = make(ExprKind::FloatLit, minus ? loc(minus) : loc(n), (minus ? "-" : "") + t + suffix);
    if (!t.empty() && !decode(t, e->float_value, err)) error(loc(n), err);
    if (minus) e->float_value = -e->float_value;
    return e;
  }
  ExprPtr float_literal(TerminalNode* n, Token* minus) {
    return float_from(n, minus, decode_float);
  }
  ExprPtr money_literal(TerminalNode* n, Token* minus) {
    return float_from(n, minus, decode_money);
  }

  ExprPtr literal(P::LiteralContext* c, Token* minus) {
    if (!c) return placeholder(loc(minus));
    if (c->K_USD()) {
      // `5000 usd`, `8k usd`, `1.5 usd`: a float in USD, spelled with one space before `usd`.
      if (c->INT()) {
        std::string t = text(c->INT()), err;
        auto e =
            make(ExprKind::FloatLit, minus ? loc(minus) : loc(c), (minus ? "-" : "") + t + " usd");
        int64_t v = 0;
        if (!t.empty() && !decode_int(t, minus != nullptr, v, err)) error(loc(c->INT()), err);
        e->float_value = static_cast<double>(v);
        return e;
      }
      return float_from(c->FLOAT(), minus, decode_float, " usd");
    }
    if (c->INT()) return int_literal(c->INT(), minus);
    if (c->FLOAT()) return float_literal(c->FLOAT(), minus);
    if (c->PERCENT()) return float_from(c->PERCENT(), minus, decode_percent);
    if (c->MONEY()) return money_literal(c->MONEY(), minus);
    if (c->PRICE()) {
      error(loc(c), "per-million prices like '" + text(c->PRICE()) +
                        "' are only allowed in the routes block");
      return float_from(c->PRICE(), minus, decode_price);
    }
    if (c->DURATION()) {
      std::string t = text(c->DURATION()), err;
      auto e = make(ExprKind::IntLit, minus ? loc(minus) : loc(c), (minus ? "-" : "") + t);
      if (!t.empty() && !decode_duration(t, e->int_value, err)) error(loc(c), err);
      if (minus) e->int_value = -e->int_value;
      return e;
    }
    if (c->STRING()) {
      if (minus) error(loc(minus), "'-' applies only to numbers");
      auto e = make(ExprKind::StringLit, loc(c), text(c->STRING()));
      e->str_value = decode_string_token(c->STRING());
      return e;
    }
    if (c->K_TRUE() || c->K_FALSE()) {
      if (minus) error(loc(minus), "'-' applies only to numbers");
      auto e = make(ExprKind::BoolLit, loc(c), c->K_TRUE() ? "true" : "false");
      e->bool_value = c->K_TRUE() != nullptr;
      return e;
    }
    return placeholder(loc(c));
  }

  ExprPtr const_value(P::ConstValueContext* c) {
    if (auto* x = dynamic_cast<P::LiteralValueContext*>(c)) {
      Token* minus = x->MINUS() ? x->MINUS()->getSymbol() : nullptr;
      return literal(x->literal(), minus);
    }
    if (auto* x = dynamic_cast<P::NameValueContext*>(c))
      return make(ExprKind::Name, loc(c), ident(x->ident()));
    return placeholder(loc(c));
  }

  // ---- tests --------------------------------------------------------------------------------

  void test(P::TestBlockContext* c) {
    TestCase t;
    t.loc = loc(c);
    t.name = decode_string_token(c->STRING());
    for (P::GivenClauseContext* g : c->givenClause())
      for (P::GivenContext* x : g->given()) t.givens.push_back(given(x));
    for (P::ExpectClauseContext* ex : c->expectClause())
      for (P::ExpectItemContext* x : ex->expectItem()) t.expects.push_back(expect(x));
    push_item(ItemKind::Test, static_cast<int32_t>(p_.tests.size()), t.loc);
    p_.tests.push_back(std::move(t));
  }

  TestGiven given(P::GivenContext* c) {
    TestGiven g;
    g.loc = loc(c);
    std::vector<P::IdentContext*> ids = c->ident();
    if (!ids.empty()) g.name = ident(ids[0]);
    if (c->view) {
      g.is_budget = true;
      std::string view = ident(c->view);
      if (view != "spent" && !view.empty())
        error(loc(c->view), "only '" + g.name + ".spent' can be set in a test, not '" + view + "'");
    }
    g.value = c->constValue() ? const_value(c->constValue()) : placeholder(g.loc);
    return g;
  }

  TestExpect expect(P::ExpectItemContext* c) {
    TestExpect e;
    e.loc = loc(c);
    auto bool_lit = [&](P::BoolLitContext* b) {
      auto x = make(ExprKind::BoolLit, loc(b), b && b->K_TRUE() ? "true" : "false");
      x->bool_value = b && b->K_TRUE();
      return x;
    };
    auto cap = [&](P::ExpectCapContext* k) -> ExprPtr {
      if (!k || k->K_NONE()) {
        e.none = k != nullptr;
        return nullptr;
      }
      return int_literal(k->INT(), nullptr);
    };
    if (auto* x = dynamic_cast<P::ExpectRouteContext*>(c)) {
      e.field = ExpectField::Route;
      e.value = make(ExprKind::Name, loc(x->ident()), ident(x->ident()));
    } else if (auto* x = dynamic_cast<P::ExpectDenyContext*>(c)) {
      e.field = ExpectField::Deny;
      if (x->STRING()) {
        e.value = make(ExprKind::StringLit, loc(x->STRING()), text(x->STRING()));
        e.value->str_value = decode_string_token(x->STRING());
      }
    } else if (auto* x = dynamic_cast<P::ExpectMaxOutContext*>(c)) {
      e.field = ExpectField::MaxOut;
      e.value = cap(x->expectCap());
    } else if (auto* x = dynamic_cast<P::ExpectMaxInContext*>(c)) {
      e.field = ExpectField::MaxIn;
      e.value = cap(x->expectCap());
    } else if (auto* x = dynamic_cast<P::ExpectRetryContext*>(c)) {
      e.field = ExpectField::Retry;
      e.value = bool_lit(x->boolLit());
    } else if (auto* x = dynamic_cast<P::ExpectBackoffContext*>(c)) {
      e.field = ExpectField::Backoff;
      if (x->INT()) {
        e.value = int_literal(x->INT(), nullptr);
      } else {
        std::string t = text(x->DURATION()), err;
        e.value = make(ExprKind::IntLit, loc(x->DURATION()), t);
        if (!t.empty() && !decode_duration(t, e.value->int_value, err))
          error(loc(x->DURATION()), err);
      }
    } else if (auto* x = dynamic_cast<P::ExpectRagContext*>(c)) {
      e.field = ExpectField::Rag;
      e.value = bool_lit(x->boolLit());
    } else if (auto* x = dynamic_cast<P::ExpectTopKContext*>(c)) {
      e.field = ExpectField::TopK;
      e.value = int_literal(x->INT(), nullptr);
    } else if (auto* x = dynamic_cast<P::ExpectCacheContext*>(c)) {
      e.field = ExpectField::Cache;
      P::CacheModeContext* m = x->cacheMode();
      e.value = make(ExprKind::Name, loc(m), m ? text(m->getStart()) : std::string());
    } else if (auto* x = dynamic_cast<P::ExpectTagContext*>(c)) {
      e.field = ExpectField::Tag;
      e.value = make(ExprKind::StringLit, loc(x->STRING()), text(x->STRING()));
      e.value->str_value = decode_string_token(x->STRING());
    }
    return e;
  }
};

}  // namespace

void build_ast(P::ProgramContext* tree, std::string_view source, Program& program,
               ErrorList& errors) {
  Builder(source, program, errors).build(tree);
}

}  // namespace tollgate::parser_detail
