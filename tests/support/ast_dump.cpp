// Canonical AST dump for parser and formatter tests (see ast_dump.h).
#include "tests/support/ast_dump.h"

#include <cstdio>
#include <sstream>

#include "compiler/ast_text.h"

namespace tollgate::test {
namespace {

std::string at(SourceLoc l, bool with_locs) {
  if (!with_locs) return {};
  return "@" + std::to_string(l.line) + ":" + std::to_string(l.col);
}

std::string fmt_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string opt_expr(const ExprPtr& e, bool with_locs) {
  return e ? dump_expr(*e, with_locs) : std::string("null");
}

}  // namespace

std::string dump_expr(const Expr& e, bool w) {
  std::string l = at(e.loc, w);
  switch (e.kind) {
    case ExprKind::BoolLit:
      return std::string("(bool") + l + " " + (e.bool_value ? "true" : "false") + ")";
    case ExprKind::IntLit:
      return "(int" + l + " " + std::to_string(e.int_value) + " '" + e.text + "')";
    case ExprKind::FloatLit:
      return "(float" + l + " " + fmt_double(e.float_value) + " '" + e.text + "')";
    case ExprKind::StringLit:
      return "(str" + l + " " + e.text + ")";
    case ExprKind::Name:
      return "(name" + l + " " + e.text + ")";
    case ExprKind::Member:
      return "(member" + l + " " + e.text + "." + view_name(e.member) + ")";
    case ExprKind::Unary:
      return std::string("(") + (e.unary_op == UnaryOp::Not ? (e.symbolic ? "!" : "not") : "neg") +
             l + " " + (e.args.empty() ? "null" : dump_expr(*e.args[0], w)) + ")";
    case ExprKind::Binary: {
      std::string op = binary_op_name(e.binary_op);
      if (e.symbolic) op = e.binary_op == BinaryOp::And ? "&&" : "||";
      std::string s = "(" + op + l;
      for (const auto& a : e.args) s += " " + dump_expr(*a, w);
      return s + ")";
    }
    case ExprKind::In: {
      std::string s = std::string("(") + (e.negated ? "not-in" : "in") + l;
      for (size_t i = 0; i < e.args.size(); ++i)
        s += (i == 1 ? " [" : " ") + dump_expr(*e.args[i], w);
      return s + (e.args.size() > 1 ? "])" : " [])");
    }
    case ExprKind::Call: {
      std::string s = std::string("(call") + l + " " + builtin_name(e.builtin);
      for (const auto& a : e.args) s += " " + dump_expr(*a, w);
      return s + ")";
    }
  }
  return "(?)";
}

std::string dump_program(const Program& p, bool w) {
  std::ostringstream out;
  for (const Item& it : p.items) {
    switch (it.kind) {
      case ItemKind::Header:
        out << "policy" << at(p.header.loc, w) << " " << p.header.name
            << " on_error=" << (p.header.on_error == OnError::Deny ? "deny" : "skip")
            << (p.header.on_error_written ? "(written)" : "") << "\n";
        break;
      case ItemKind::Inputs:
        out << "inputs" << at(p.inputs_loc, w) << "\n";
        for (const InputDecl& in : p.inputs)
          out << "  input" << at(in.loc, w) << " " << in.name << ": "
              << input_type_text(in.type, p, ",") << " = " << opt_expr(in.default_value, w) << "\n";
        break;
      case ItemKind::Routes:
        out << "routes" << at(p.routes_loc, w) << "\n";
        for (const RouteDecl& r : p.routes) {
          out << "  route" << at(r.loc, w) << " " << r.name << " = \"" << r.model << "\""
              << (r.self_hosted ? " self_hosted" : "") << (r.batch ? " batch" : "");
          if (r.has_inline_price)
            out << " in " << fmt_double(r.in_per_million) << " '" << r.in_text << "' out "
                << fmt_double(r.out_per_million) << " '" << r.out_text << "'";
          out << "\n";
        }
        break;
      case ItemKind::Budget: {
        const BudgetDecl& b = p.budgets.at(size_t(it.index));
        static const char* kUnits[] = {"usd", "tokens", "requests"};
        static const char* kWindows[] = {"minute", "hour", "day", "month"};
        out << "budget" << at(b.loc, w) << " " << b.name << " = " << opt_expr(b.limit, w) << " "
            << kUnits[int(b.unit)] << " per " << (b.key_input.empty() ? "-" : b.key_input)
            << at(b.key_loc, w && !b.key_input.empty()) << " per " << kWindows[int(b.window)]
            << " fail " << (b.fail == FailMode::Open ? "open" : "closed")
            << (b.fail_written ? "(written)" : "") << "\n";
        break;
      }
      case ItemKind::Let: {
        const LetDecl& l = p.lets.at(size_t(it.index));
        out << "let" << at(l.loc, w) << " " << l.name << " = " << opt_expr(l.value, w) << "\n";
        break;
      }
      case ItemKind::Rule: {
        const Rule& r = p.rules.at(size_t(it.index));
        out << "rule" << at(r.loc, w) << " #" << r.index << " "
            << (r.is_default ? std::string("default") : opt_expr(r.condition, w));
        for (const Action& a : r.actions) {
          out << " |" << at(a.loc, w) << " ";
          switch (a.kind) {
            case ActionKind::Route:
              out << "route " << a.route;
              break;
            case ActionKind::Deny:
              out << "deny " << a.reason_text << "=\"" << a.reason << "\"";
              break;
            case ActionKind::MaxOut:
              out << "max_out " << opt_expr(a.arg, w);
              break;
            case ActionKind::MaxIn:
              out << "max_in " << opt_expr(a.arg, w);
              break;
            case ActionKind::Retry:
              out << "retry " << opt_expr(a.arg, w);
              break;
            case ActionKind::Rag:
              out << "rag " << opt_expr(a.arg, w);
              break;
            case ActionKind::RagOff:
              out << "rag off";
              break;
            case ActionKind::Cache:
              out << "cache " << to_string(a.cache);
              break;
            case ActionKind::Tag:
              out << "tag " << opt_expr(a.arg, w);
              break;
          }
        }
        out << "\n";
        break;
      }
      case ItemKind::Test: {
        const TestCase& t = p.tests.at(size_t(it.index));
        static const char* kFields[] = {"route",   "deny", "max_out", "max_in", "retry",
                                        "backoff", "rag",  "top_k",   "cache",  "tag"};
        out << "test" << at(t.loc, w) << " \"" << t.name << "\"\n";
        for (const TestGiven& g : t.givens)
          out << "  given" << at(g.loc, w) << " " << g.name << (g.is_budget ? ".spent" : "")
              << " = " << opt_expr(g.value, w) << "\n";
        for (const TestExpect& e : t.expects)
          out << "  expect" << at(e.loc, w) << " " << kFields[int(e.field)] << " "
              << (e.none ? std::string("none") : opt_expr(e.value, w)) << "\n";
        break;
      }
    }
  }
  return out.str();
}

}  // namespace tollgate::test
