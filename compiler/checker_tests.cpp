// Checks `test` blocks against their policy: given names are inputs (or BUDGET.spent) with values
// of the input's type, expected routes exist, each expect item has the right kind of value.
#include <unordered_map>
#include <unordered_set>

#include "compiler/checker_internal.h"

namespace tollgate {
namespace check {

namespace {

class TestChecker {
 public:
  TestChecker(const Program& policy, Program& tests, DiagnosticSink& diags)
      : policy_(policy), tests_(tests), diags_(diags), scope_(Scope::build(policy)) {
    for (size_t i = 0; i < policy.string_literals.size(); ++i)
      strings_.emplace(policy.string_literals[i], static_cast<int32_t>(i));
  }

  void run() {
    if (&policy_ != &tests_ &&
        (!tests_.inputs.empty() || !tests_.rules.empty() || !tests_.routes.empty() ||
         !tests_.budgets.empty() || !tests_.lets.empty()))
      error(first_non_test_loc(), "a test file may contain only test blocks");
    std::unordered_map<std::string, uint32_t> names;
    for (auto& tc : tests_.tests) {
      auto [it, fresh] = names.emplace(tc.name, tc.loc.line);
      if (!fresh)
        error(tc.loc, "duplicate test name \"" + tc.name + "\" (first at line " +
                          std::to_string(it->second) + ")");
      check_case(tc);
    }
  }

 private:
  void error(SourceLoc loc, std::string msg) { diags_.error(tests_.file, loc, std::move(msg)); }

  SourceLoc first_non_test_loc() const {
    for (const auto& it : tests_.items)
      if (it.kind != ItemKind::Test) return it.loc;
    return {1, 1};
  }

  // The literal under an optional unary minus, or null when `v` is not a (negated) literal.
  static Expr* literal(Expr& v, bool* negated) {
    *negated = false;
    if (v.kind == ExprKind::Unary && v.unary_op == UnaryOp::Neg && v.args.size() == 1 &&
        v.args[0]) {
      *negated = true;
      return literal_kind(*v.args[0]) ? v.args[0].get() : nullptr;
    }
    return literal_kind(v) ? &v : nullptr;
  }
  static bool literal_kind(const Expr& e) {
    return e.kind == ExprKind::BoolLit || e.kind == ExprKind::IntLit ||
           e.kind == ExprKind::FloatLit || e.kind == ExprKind::StringLit;
  }

  static const char* kind_of(const Expr& e) {
    switch (e.kind) {
      case ExprKind::BoolLit:
        return "bool";
      case ExprKind::IntLit:
        return "int";
      case ExprKind::FloatLit:
        return "float";
      case ExprKind::StringLit:
        return "string";
      case ExprKind::Name:
        return "name";
      default:
        return "expression";
    }
  }

  // Annotates a given value with the input's type; reports a mismatch.
  void check_value(Expr& v, const Type& want, const std::string& what) {
    if (want.kind == TypeKind::Enum) {
      if (want.enum_id < 0 || static_cast<size_t>(want.enum_id) >= policy_.enums.size()) {
        error(v.loc, what + ": the policy was not checked");  // check_program() first
        return;
      }
      const EnumDef& en = policy_.enums[want.enum_id];
      if (v.kind != ExprKind::Name) {
        error(v.loc, what + " must be a member of enum '" + en.name +
                         "' (members: " + join(en.members, ", ") + "), found " + kind_of(v));
        return;
      }
      int32_t m = find_member(policy_, want.enum_id, v.text);
      if (m < 0) {
        error(v.loc, "unknown enum member '" + v.text + "' for input '" + en.name +
                         "' (members: " + join(en.members, ", ") + ")");
        return;
      }
      v.ref = NameRef::EnumMember;
      v.index = m;
      v.type = want;
      return;
    }
    bool neg = false;
    Expr* lit = literal(v, &neg);
    bool ok = false;
    if (lit) {
      switch (want.kind) {
        case TypeKind::Bool:
          ok = lit->kind == ExprKind::BoolLit && !neg;
          break;
        case TypeKind::String:
          ok = lit->kind == ExprKind::StringLit && !neg;
          break;
        case TypeKind::Int:
          ok = lit->kind == ExprKind::IntLit;
          break;
        case TypeKind::Float:
          ok = lit->kind == ExprKind::IntLit || lit->kind == ExprKind::FloatLit;
          break;
        default:
          break;
      }
    }
    if (!ok) {
      error(v.loc,
            what + " must be " + type_name(policy_, want) + ", found " + kind_of(lit ? *lit : v));
      return;
    }
    if (lit->kind == ExprKind::IntLit) {
      lit->type = make_type(TypeKind::Int);
      lit->float_value = static_cast<double>(lit->int_value);
    } else if (lit->kind == ExprKind::FloatLit) {
      lit->type = make_type(TypeKind::Float);
    } else if (lit->kind == ExprKind::StringLit) {
      auto it = strings_.find(lit->str_value);
      lit->index = it == strings_.end() ? -1 : it->second;
      lit->type = make_type(TypeKind::String);
    } else {
      lit->type = make_type(TypeKind::Bool);
    }
    if (neg) {
      v.int_value = -lit->int_value;
      v.float_value = -lit->float_value;
    }
    v.type = want;
  }

  void check_given(TestGiven& g) {
    if (!g.value) return;
    if (g.is_budget) {
      auto it = scope_.budgets.find(g.name);
      if (it == scope_.budgets.end()) {
        std::vector<std::string> names;
        for (const auto& b : policy_.budgets) names.push_back(b.name);
        error(g.loc, "unknown budget '" + g.name + "'" + did_you_mean(g.name, names));
        return;
      }
      if (g.view != BudgetView::Spent) {
        error(g.loc, std::string("only ") + g.name + ".spent can be given, not " + g.name + "." +
                         view_name(g.view));
        return;
      }
      check_value(*g.value, make_type(TypeKind::Float), "given " + g.name + ".spent");
      return;
    }
    auto it = scope_.inputs.find(g.name);
    if (it == scope_.inputs.end()) {
      std::vector<std::string> names;
      for (const auto& in : policy_.inputs) names.push_back(in.name);
      std::string hint = scope_.lets.count(g.name) ? " ('" + g.name + "' is a let)" : "";
      error(g.loc, "unknown input '" + g.name + "'" + hint + did_you_mean(g.name, names));
      return;
    }
    check_value(*g.value, policy_.inputs[it->second].type, "given '" + g.name + "'");
  }

  void expect_int(TestExpect& e, const char* what, bool allow_none) {
    if (e.none) {
      if (!allow_none) error(e.loc, std::string("expect ") + what + " cannot be none");
      return;
    }
    if (!e.value) {
      error(e.loc, std::string("expect ") + what + " needs a value");
      return;
    }
    check_value(*e.value, make_type(TypeKind::Int), std::string("expect ") + what);
  }

  void check_expect(TestExpect& e) {
    switch (e.field) {
      case ExpectField::Route: {
        if (!e.value || e.value->kind != ExprKind::Name) {
          error(e.loc, "expect route needs a route name");
          return;
        }
        auto it = scope_.routes.find(e.value->text);
        if (it == scope_.routes.end()) {
          std::vector<std::string> names;
          for (const auto& r : policy_.routes) names.push_back(r.name);
          error(e.value->loc,
                "unknown route '" + e.value->text + "'" + did_you_mean(e.value->text, names));
          return;
        }
        e.value->ref = NameRef::Route;
        e.value->index = it->second;
        e.value->type = make_type(TypeKind::Route);
        return;
      }
      case ExpectField::Deny:
        if (e.value) check_value(*e.value, make_type(TypeKind::String), "expect deny reason");
        return;
      case ExpectField::MaxOut:
        expect_int(e, "max_out", true);
        return;
      case ExpectField::MaxIn:
        expect_int(e, "max_in", true);
        return;
      case ExpectField::Backoff:
        expect_int(e, "backoff", false);
        return;
      case ExpectField::TopK:
        expect_int(e, "top_k", false);
        return;
      case ExpectField::Retry:
      case ExpectField::Rag:
        if (!e.value) {
          error(e.loc, "expect needs true or false");
          return;
        }
        check_value(*e.value, make_type(TypeKind::Bool),
                    e.field == ExpectField::Retry ? "expect retry" : "expect rag");
        return;
      case ExpectField::Cache: {
        if (!e.value) {
          error(e.loc, "expect cache needs off, prompt or response");
          return;
        }
        const std::string& m =
            e.value->kind == ExprKind::StringLit ? e.value->str_value : e.value->text;
        if (m != "off" && m != "prompt" && m != "response")
          error(e.value->loc, "expect cache needs off, prompt or response, found '" + m + "'");
        return;
      }
      case ExpectField::Tag:
        if (!e.value) {
          error(e.loc, "expect tag needs a string");
          return;
        }
        check_value(*e.value, make_type(TypeKind::String), "expect tag");
        return;
    }
  }

  void check_case(TestCase& tc) {
    std::unordered_map<std::string, uint32_t> given;
    for (auto& g : tc.givens) {
      std::string key = g.is_budget ? g.name + "." + view_name(g.view) : g.name;
      auto [it, fresh] = given.emplace(key, g.loc.col);
      if (!fresh) error(g.loc, "'" + key + "' is given twice in this test");
      check_given(g);
    }
    std::unordered_set<int> fields;
    for (auto& e : tc.expects) {
      int f = static_cast<int>(e.field);
      if (e.field != ExpectField::Tag && !fields.insert(f).second)
        error(e.loc, "this field is already expected in this test");
      check_expect(e);
    }
  }

  const Program& policy_;
  Program& tests_;
  DiagnosticSink& diags_;
  Scope scope_;
  std::unordered_map<std::string, int32_t> strings_;
};

}  // namespace

void check_test_cases(const Program& policy, Program& tests, DiagnosticSink& diags) {
  TestChecker(policy, tests, diags).run();
}

}  // namespace check
}  // namespace tollgate
