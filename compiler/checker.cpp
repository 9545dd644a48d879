// check_program(): declarations (enums, duplicates, defaults, routes, budgets, lets), rules and
// their actions, evaluation order; then the lints when the program is free of errors.
#include "compiler/checker.h"

#include <unordered_map>

#include "compiler/checker_internal.h"

namespace tollgate {

namespace {

using check::ExprChecker;
using check::make_type;
using check::type_name;

class ProgramChecker {
 public:
  ProgramChecker(Program& p, DiagnosticSink& d)
      : p_(p), diags_(d), scope_(check::Scope::build(p)), exprs_(p, scope_, d) {}

  void run() {
    build_enums();
    check_duplicates();
    check_defaults();
    check_budgets();
    check_lets();
    check_rules();
    fill_eval_order();
  }

 private:
  void error(SourceLoc loc, std::string msg) { diags_.error(p_.file, loc, std::move(msg)); }

  // One EnumDef per enum input, in input order. The parser records members in Program::enums
  // (indexed by the input's enum_id); normalise to one fresh enum per input named after it.
  void build_enums() {
    std::vector<EnumDef> enums;
    for (auto& in : p_.inputs) {
      if (in.type.kind != TypeKind::Enum) continue;
      EnumDef def;
      if (in.type.enum_id >= 0 && static_cast<size_t>(in.type.enum_id) < p_.enums.size())
        def = p_.enums[in.type.enum_id];
      def.name = in.name;
      in.type.enum_id = static_cast<int32_t>(enums.size());
      if (def.members.empty()) error(in.loc, "enum input '" + in.name + "' has no members");
      std::unordered_map<std::string, size_t> seen;
      for (size_t i = 0; i < def.members.size(); ++i)
        if (!seen.emplace(def.members[i], i).second)
          error(in.loc,
                "duplicate member '" + def.members[i] + "' in enum of input '" + in.name + "'");
      enums.push_back(std::move(def));
    }
    p_.enums = std::move(enums);
  }

  template <typename Decl>
  void duplicates(const std::vector<Decl>& decls, const char* what) {
    std::unordered_map<std::string, const Decl*> first;
    for (const auto& d : decls) {
      auto [it, fresh] = first.emplace(d.name, &d);
      if (!fresh)
        error(d.loc, std::string("duplicate ") + what + " '" + d.name +
                         "' (first declared at line " + std::to_string(it->second->loc.line) + ")");
    }
  }

  void check_duplicates() {
    duplicates(p_.inputs, "input");
    duplicates(p_.routes, "route");
    duplicates(p_.budgets, "budget");
    duplicates(p_.lets, "let");
    for (const auto& let : p_.lets) {
      auto in = scope_.inputs.find(let.name);
      if (in != scope_.inputs.end())
        error(let.loc, "let '" + let.name + "' has the same name as input '" + let.name +
                           "' (line " + std::to_string(p_.inputs[in->second].loc.line) + ")");
    }
    const Rule* first_default = nullptr;
    for (const auto& r : p_.rules) {
      if (!r.is_default) continue;
      if (first_default)
        error(r.loc, "second default rule (the first is at line " +
                         std::to_string(first_default->loc.line) + ")");
      else
        first_default = &r;
    }
  }

  // A default must be a literal of the input's type (a bare member for enums).
  void check_defaults() {
    for (auto& in : p_.inputs) {
      if (!in.default_value) continue;
      Expr& v = *in.default_value;
      Expr* lit = &v;
      if (v.kind == ExprKind::Unary && v.unary_op == UnaryOp::Neg && v.args.size() == 1 &&
          v.args[0] &&
          (v.args[0]->kind == ExprKind::IntLit || v.args[0]->kind == ExprKind::FloatLit))
        lit = v.args[0].get();
      bool literal = lit->kind == ExprKind::BoolLit || lit->kind == ExprKind::IntLit ||
                     lit->kind == ExprKind::FloatLit || lit->kind == ExprKind::StringLit ||
                     (lit->kind == ExprKind::Name && lit == &v);
      if (!literal) {
        error(v.loc, "default for input '" + in.name + "' must be a literal");
        continue;
      }
      if (v.kind == ExprKind::Name) {
        if (in.type.kind != TypeKind::Enum) {
          error(v.loc, "default for input '" + in.name + "' must be " + type_name(p_, in.type) +
                           ", found name '" + v.text + "'");
          continue;
        }
        int32_t m = check::find_member(p_, in.type.enum_id, v.text);
        if (m < 0) {
          error(v.loc, "unknown enum member '" + v.text + "' for input '" + in.name +
                           "' (members: " + check::join(p_.enums[in.type.enum_id].members, ", ") +
                           ")");
          continue;
        }
        v.ref = NameRef::EnumMember;
        v.index = m;
        v.type = in.type;
        continue;
      }
      Type t = exprs_.check(v);
      if (t.kind == TypeKind::Error) continue;
      bool ok = check::eq_compatible(in.type, t) &&
                !(in.type.kind == TypeKind::Int && t.kind == TypeKind::Float);
      if (!ok) {
        error(v.loc, "default for input '" + in.name + "' must be " + type_name(p_, in.type) +
                         ", found " + type_name(p_, t));
      } else if (in.type.kind == TypeKind::Float && t.kind == TypeKind::Int) {
        // Keep the literal's kind for fmt, but make the promoted value readable as a float.
        lit->float_value = static_cast<double>(lit->int_value);
        v.float_value = lit == &v ? lit->float_value : -lit->float_value;
        v.type = in.type;
      }
    }
  }

  void check_budgets() {
    std::vector<std::string> input_names;
    for (const auto& in : p_.inputs) input_names.push_back(in.name);
    for (auto& b : p_.budgets) {
      if (!b.key_input.empty()) {
        auto it = scope_.inputs.find(b.key_input);
        if (it == scope_.inputs.end()) {
          error(b.key_loc, "unknown input '" + b.key_input + "' for budget '" + b.name + "' key" +
                               check::did_you_mean(b.key_input, input_names));
        } else {
          b.key_index = it->second;
          const Type& t = p_.inputs[it->second].type;
          if (t.kind == TypeKind::Float)
            error(b.key_loc, "budget key input '" + b.key_input +
                                 "' must be string, enum, int or bool, found float");
        }
      }
      if (!b.limit) continue;
      Expr& lim = *b.limit;
      if (lim.kind == ExprKind::Name) {
        auto it = scope_.inputs.find(lim.text);
        if (it == scope_.inputs.end()) {
          std::string kind = scope_.lets.count(lim.text) ? "let" : "";
          if (!kind.empty())
            error(lim.loc,
                  "budget limit must be a number or an input, found let '" + lim.text + "'");
          else
            error(lim.loc, "unknown input '" + lim.text + "' for budget '" + b.name + "' limit" +
                               check::did_you_mean(lim.text, input_names));
          lim.type = make_type(TypeKind::Error);
          continue;
        }
        lim.ref = NameRef::Input;
        lim.index = it->second;
        lim.type = p_.inputs[it->second].type;
        if (!check::is_numeric(lim.type))
          error(lim.loc, "budget limit input '" + lim.text + "' must be int or float, found " +
                             type_name(p_, lim.type));
        continue;
      }
      if (lim.kind == ExprKind::IntLit) {
        lim.type = make_type(TypeKind::Int);
        lim.float_value = static_cast<double>(lim.int_value);
      } else if (lim.kind == ExprKind::FloatLit) {
        lim.type = make_type(TypeKind::Float);
      } else {
        Type t = exprs_.check(lim);
        if (t.kind != TypeKind::Error)
          error(lim.loc,
                "budget limit must be a number or an input, found " +
                    (check::is_numeric(t) ? std::string("an expression") : type_name(p_, t)));
        continue;
      }
      if ((lim.kind == ExprKind::IntLit ? static_cast<double>(lim.int_value) : lim.float_value) < 0)
        error(lim.loc, "budget limit must not be negative");
    }
  }

  void check_lets() {
    for (size_t i = 0; i < p_.lets.size(); ++i) {
      exprs_.current_let = static_cast<int32_t>(i);
      auto& let = p_.lets[i];
      exprs_.let_types[i] = let.value ? exprs_.check(*let.value) : make_type(TypeKind::Error);
      if (exprs_.let_types[i].kind == TypeKind::Route) {
        error(let.value->loc, "let '" + let.name + "' cannot hold a route");
        exprs_.let_types[i] = make_type(TypeKind::Error);
      }
    }
    exprs_.current_let = -1;
  }

  void need_int(Action& a, const char* what) {
    if (!a.arg) return;
    Type t = exprs_.check(*a.arg);
    if (t.kind != TypeKind::Error && t.kind != TypeKind::Int)
      error(a.arg->loc, std::string(what) + " needs an int, found " + type_name(p_, t));
  }

  static int field_of(ActionKind k) {
    switch (k) {
      case ActionKind::Route:
      case ActionKind::Deny:
        return 0;
      case ActionKind::Retry:
        return 1;
      case ActionKind::Rag:
      case ActionKind::RagOff:
        return 2;
      case ActionKind::Cache:
        return 3;
      case ActionKind::MaxOut:
        return 4;
      case ActionKind::MaxIn:
        return 5;
      default:
        return -1;
    }
  }

  void check_rules() {
    std::vector<std::string> route_names;
    for (const auto& r : p_.routes) route_names.push_back(r.name);
    static const char* kFieldNames[] = {"route or deny", "retry",   "rag",
                                        "cache",         "max_out", "max_in"};
    for (size_t i = 0; i < p_.rules.size(); ++i) {
      Rule& r = p_.rules[i];
      r.index = static_cast<int32_t>(i);
      if (r.condition) {
        Type t = exprs_.check(*r.condition);
        if (t.kind != TypeKind::Error && t.kind != TypeKind::Bool)
          error(r.condition->loc, "rule condition must be bool, found " + type_name(p_, t));
      } else if (!r.is_default) {
        error(r.loc, "rule has no condition");
      }
      if (r.actions.empty()) error(r.loc, "rule has no action");
      const Action* seen[6] = {};
      for (auto& a : r.actions) {
        int f = field_of(a.kind);
        if (f >= 0) {
          if (seen[f])
            error(a.loc, std::string("rule already has a ") + kFieldNames[f] + " action (column " +
                             std::to_string(seen[f]->loc.col) + ")");
          else
            seen[f] = &a;
        }
        switch (a.kind) {
          case ActionKind::Route: {
            auto it = scope_.routes.find(a.route);
            if (it == scope_.routes.end())
              error(route_name_loc(a),
                    "unknown route '" + a.route + "'" + check::did_you_mean(a.route, route_names));
            else
              a.route_index = it->second;
            break;
          }
          case ActionKind::MaxOut:
            need_int(a, "max_out");
            break;
          case ActionKind::MaxIn:
            need_int(a, "max_in");
            break;
          case ActionKind::Retry:
            need_int(a, "retry backoff");
            break;
          case ActionKind::Rag:
            need_int(a, "rag top_k");
            break;
          case ActionKind::Tag:
            if (a.arg) {
              Type t = exprs_.check(*a.arg);
              if (t.kind != TypeKind::Error && t.kind != TypeKind::String &&
                  t.kind != TypeKind::Enum)
                error(a.arg->loc, "tag needs a string or enum, found " + type_name(p_, t));
            }
            break;
          default:
            break;
        }
      }
    }
  }

  // Action::loc is the `route` keyword; point the caret at the name after it when it is there.
  SourceLoc route_name_loc(const Action& a) const {
    std::string_view line = source_line(p_.source, a.loc.line);
    size_t i = a.loc.col ? a.loc.col - 1 : 0;
    if (line.substr(i, 5) != "route") return a.loc;
    i += 5;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (line.substr(i, a.route.size()) != a.route) return a.loc;
    return SourceLoc{a.loc.line, static_cast<uint32_t>(i + 1)};
  }

  void fill_eval_order() {
    p_.eval_order.clear();
    int32_t def = -1;
    for (const auto& r : p_.rules) {
      if (r.is_default) {
        if (def < 0) def = r.index;
        continue;
      }
      p_.eval_order.push_back(r.index);
    }
    if (def >= 0) p_.eval_order.push_back(def);
  }

  Program& p_;
  DiagnosticSink& diags_;
  check::Scope scope_;
  ExprChecker exprs_;
};

}  // namespace

bool check_program(Program& program, DiagnosticSink& diags, const CheckOptions& options) {
  size_t before = diags.error_count();
  program.string_literals.clear();
  ProgramChecker(program, diags).run();
  // Tests inside a policy file are checked against it; a test-only file goes to check_tests().
  bool has_policy = program.has_inputs || program.has_routes || !program.rules.empty();
  if (has_policy && !program.tests.empty() && diags.error_count() == before)
    check::check_test_cases(program, program, diags);
  bool ok = diags.error_count() == before;
  if (ok && options.lints) check::run_lints(program, diags, options);
  return ok;
}

bool check_tests(const Program& policy, Program& tests, DiagnosticSink& diags) {
  size_t before = diags.error_count();
  check::check_test_cases(policy, tests, diags);
  return diags.error_count() == before;
}

}  // namespace tollgate
