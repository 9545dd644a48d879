// Expression checking: resolves every Name (let, input, budget view, cost() route, or a member of
// the enum on the other side of a comparison), infers and checks types, and annotates each node.
// An Error-typed operand makes its parent Error (or Bool for predicates) without a new message,
// so one mistake yields one diagnostic.
#include <algorithm>

#include "compiler/checker_internal.h"

namespace tollgate {
namespace check {

namespace {
Type set_type(Expr& e, Type t) {
  e.type = t;
  return t;
}
bool is_error(const Type& t) {
  return t.kind == TypeKind::Error;
}
}  // namespace

ExprChecker::ExprChecker(Program& program, const Scope& scope, DiagnosticSink& diags)
    : program_(program), scope_(scope), diags_(diags) {
  let_types.resize(program.lets.size());
  for (size_t i = 0; i < program.string_literals.size(); ++i)
    strings_.emplace(program.string_literals[i], static_cast<int32_t>(i));
}

void ExprChecker::error(SourceLoc loc, std::string message) {
  diags_.error(program_.file, loc, std::move(message));
}

int32_t ExprChecker::intern_string(const std::string& s) {
  auto it = strings_.find(s);
  if (it != strings_.end()) return it->second;
  int32_t id = static_cast<int32_t>(program_.string_literals.size());
  program_.string_literals.push_back(s);
  strings_.emplace(s, id);
  return id;
}

bool ExprChecker::is_value_name(const std::string& name) const {
  return scope_.lets.count(name) || scope_.inputs.count(name);
}

std::vector<std::string> ExprChecker::value_names() const {
  std::vector<std::string> names;
  for (size_t i = 0; i < program_.lets.size(); ++i)
    if (current_let < 0 || static_cast<int32_t>(i) < current_let)
      names.push_back(program_.lets[i].name);
  for (const auto& in : program_.inputs) names.push_back(in.name);
  return names;
}

Type ExprChecker::resolve_value(Expr& e) {
  auto let = scope_.lets.find(e.text);
  if (let != scope_.lets.end()) {
    int32_t i = let->second;
    e.ref = NameRef::Let;
    e.index = i;
    if (current_let >= 0 && i >= current_let) {
      if (i == current_let)
        error(e.loc, "let '" + e.text + "' cannot refer to itself");
      else
        error(e.loc, "let '" + program_.lets[current_let].name + "' refers to let '" + e.text +
                         "', which is defined later (lets may only reference earlier lets)");
      return set_type(e, make_type(TypeKind::Error));
    }
    return set_type(e, let_types[i]);
  }
  int32_t i = scope_.inputs.at(e.text);
  e.ref = NameRef::Input;
  e.index = i;
  return set_type(e, program_.inputs[i].type);
}

Type ExprChecker::check_name(Expr& e) {
  if (is_value_name(e.text)) return resolve_value(e);
  if (scope_.budgets.count(e.text)) {
    error(e.loc, "budget '" + e.text + "' must be read through a view: " + e.text + ".spent, " +
                     e.text + ".limit, " + e.text + ".remaining or " + e.text + ".ratio");
  } else if (scope_.routes.count(e.text)) {
    error(e.loc, "route '" + e.text + "' can only be used as the first argument of cost()");
  } else {
    std::string owner;
    for (const auto& en : program_.enums)
      if (std::find(en.members.begin(), en.members.end(), e.text) != en.members.end()) {
        owner = en.name;
        break;
      }
    if (!owner.empty())
      error(e.loc, "enum member '" + e.text + "' of input '" + owner +
                       "' needs that enum on the other side of ==, != or in (e.g. " + owner +
                       " == " + e.text + ")");
    else
      error(e.loc, "unknown name '" + e.text + "'" + did_you_mean(e.text, value_names()));
  }
  return set_type(e, make_type(TypeKind::Error));
}

bool ExprChecker::ambiguous(Expr& name, const Type& other) {
  if (name.kind != ExprKind::Name || other.kind != TypeKind::Enum) return false;
  if (!is_value_name(name.text) || find_member(program_, other.enum_id, name.text) < 0)
    return false;
  const char* what = scope_.lets.count(name.text) ? "a let" : "an input";
  error(name.loc, "ambiguous name '" + name.text + "': it is both " + what +
                      " and a member of enum '" + program_.enums[other.enum_id].name + "'");
  set_type(name, make_type(TypeKind::Error));
  return true;
}

Type ExprChecker::check_in(Expr& e, const Type& context) {
  if (e.kind != ExprKind::Name) return check(e);
  if (is_value_name(e.text)) {
    if (ambiguous(e, context)) return e.type;
    return resolve_value(e);
  }
  if (is_error(context)) return set_type(e, context);  // the other side already failed
  if (context.kind == TypeKind::Enum) {
    int32_t m = find_member(program_, context.enum_id, e.text);
    if (m >= 0) {
      e.ref = NameRef::EnumMember;
      e.index = m;
      return set_type(e, make_type(TypeKind::Enum, context.enum_id));
    }
    const EnumDef& en = program_.enums[context.enum_id];
    error(e.loc, "unknown enum member '" + e.text + "' for input '" + en.name +
                     "' (members: " + join(en.members, ", ") + ")");
    return set_type(e, make_type(TypeKind::Error));
  }
  return check(e);
}

// Checks the operands of a comparison so that a bare enum member on either side resolves against
// the other side's type.
void ExprChecker::check_pair(Expr& a, Expr& b, Type* ta, Type* tb) {
  bool a_name = a.kind == ExprKind::Name, b_name = b.kind == ExprKind::Name;
  bool a_bare = a_name && !is_value_name(a.text);
  bool b_bare = b_name && !is_value_name(b.text);
  if (a_bare && b_bare) {
    *ta = check(a);
    *tb = check(b);
  } else if (a_bare) {
    *tb = check(b);
    *ta = check_in(a, *tb);
  } else if (b_bare) {
    *ta = check(a);
    *tb = check_in(b, *ta);
  } else if (a_name && b_name) {
    *ta = check(a);
    *tb = check(b);
    if (ambiguous(a, *tb)) *ta = a.type;
    if (ambiguous(b, *ta)) *tb = b.type;
  } else if (a_name) {
    *tb = check(b);
    *ta = check_in(a, *tb);
  } else {
    *ta = check(a);
    *tb = check_in(b, *ta);
  }
}

Type ExprChecker::check(Expr& e) {
  e.ref = e.kind == ExprKind::Name ? NameRef::Unresolved : e.ref;
  switch (e.kind) {
    case ExprKind::BoolLit:
      return set_type(e, make_type(TypeKind::Bool));
    case ExprKind::IntLit:
      return set_type(e, make_type(TypeKind::Int));
    case ExprKind::FloatLit:
      return set_type(e, make_type(TypeKind::Float));
    case ExprKind::StringLit:
      e.index = intern_string(e.str_value);
      return set_type(e, make_type(TypeKind::String));
    case ExprKind::Name:
      return check_name(e);
    case ExprKind::Member:
      return check_member(e);
    case ExprKind::Unary:
      return check_unary(e);
    case ExprKind::Binary:
      return check_binary(e);
    case ExprKind::In:
      return check_in_list(e);
    case ExprKind::Call:
      return check_call(e);
  }
  return set_type(e, make_type(TypeKind::Error));
}

Type ExprChecker::check_member(Expr& e) {
  auto it = scope_.budgets.find(e.text);
  if (it == scope_.budgets.end()) {
    if (is_value_name(e.text)) {
      error(e.loc, "'" + e.text + "' is not a budget: only budgets have ." + view_name(e.member));
    } else {
      std::vector<std::string> names;
      for (const auto& b : program_.budgets) names.push_back(b.name);
      error(e.loc, "unknown budget '" + e.text + "'" + did_you_mean(e.text, names));
    }
    return set_type(e, make_type(TypeKind::Error));
  }
  e.ref = NameRef::Budget;
  e.index = it->second;
  return set_type(e, make_type(TypeKind::Float));
}

Type ExprChecker::check_unary(Expr& e) {
  if (e.args.size() != 1 || !e.args[0]) return set_type(e, make_type(TypeKind::Error));
  Expr& x = *e.args[0];
  Type t = check(x);
  if (e.unary_op == UnaryOp::Not) {
    if (!is_error(t) && t.kind != TypeKind::Bool)
      error(x.loc, "'not' needs a bool, found " + type_name(program_, t));
    return set_type(e, make_type(TypeKind::Bool));
  }
  if (is_error(t)) return set_type(e, t);
  if (!is_numeric(t)) {
    error(x.loc, "unary '-' needs an int or float, found " + type_name(program_, t));
    return set_type(e, make_type(TypeKind::Error));
  }
  return set_type(e, t);
}

Type ExprChecker::check_binary(Expr& e) {
  if (e.args.size() != 2 || !e.args[0] || !e.args[1])
    return set_type(e, make_type(TypeKind::Error));
  Expr& a = *e.args[0];
  Expr& b = *e.args[1];
  const std::string op = binary_op_name(e.binary_op);
  Type ta, tb;
  switch (e.binary_op) {
    case BinaryOp::Or:
    case BinaryOp::And: {
      ta = check(a);
      tb = check(b);
      if (!is_error(ta) && ta.kind != TypeKind::Bool)
        error(a.loc, "'" + op + "' needs bool operands, found " + type_name(program_, ta));
      if (!is_error(tb) && tb.kind != TypeKind::Bool)
        error(b.loc, "'" + op + "' needs bool operands, found " + type_name(program_, tb));
      return set_type(e, make_type(TypeKind::Bool));
    }
    case BinaryOp::Eq:
    case BinaryOp::Ne: {
      check_pair(a, b, &ta, &tb);
      if (!is_error(ta) && !is_error(tb) && !eq_compatible(ta, tb)) {
        bool a_ok = ta.kind != TypeKind::Route && ta.kind != TypeKind::List;
        error(a_ok ? b.loc : a.loc,
              "cannot compare " + type_name(program_, ta) + " with " + type_name(program_, tb));
      }
      return set_type(e, make_type(TypeKind::Bool));
    }
    case BinaryOp::Lt:
    case BinaryOp::Le:
    case BinaryOp::Gt:
    case BinaryOp::Ge: {
      ta = check(a);
      tb = check(b);
      if (!is_error(ta) && !is_error(tb) && !(is_numeric(ta) && is_numeric(tb))) {
        const Expr& bad = is_numeric(ta) ? b : a;
        error(bad.loc, "cannot compare " + type_name(program_, ta) + " " + op + " " +
                           type_name(program_, tb) + ": '" + op + "' needs numbers");
      }
      return set_type(e, make_type(TypeKind::Bool));
    }
    case BinaryOp::StartsWith:
    case BinaryOp::EndsWith:
    case BinaryOp::Contains: {
      ta = check(a);
      tb = check(b);
      if (!is_error(ta) && ta.kind != TypeKind::String)
        error(a.loc, "'" + op + "' needs strings, found " + type_name(program_, ta));
      else if (!is_error(tb) && tb.kind != TypeKind::String)
        error(b.loc, "'" + op + "' needs strings, found " + type_name(program_, tb));
      return set_type(e, make_type(TypeKind::Bool));
    }
    default:
      break;
  }
  // Arithmetic.
  ta = check(a);
  tb = check(b);
  if (is_error(ta) || is_error(tb)) return set_type(e, make_type(TypeKind::Error));
  if (e.binary_op == BinaryOp::Add) {
    bool sa = ta.kind == TypeKind::String, sb = tb.kind == TypeKind::String;
    bool ea = ta.kind == TypeKind::Enum, eb = tb.kind == TypeKind::Enum;
    if ((sa && (sb || eb)) || (sb && ea)) return set_type(e, make_type(TypeKind::String));
  }
  if (is_numeric(ta) && is_numeric(tb)) {
    if (e.binary_op == BinaryOp::Mod && (ta.kind != TypeKind::Int || tb.kind != TypeKind::Int)) {
      const Expr& bad = ta.kind != TypeKind::Int ? a : b;
      error(bad.loc, "'%' needs ints, found " + type_name(program_, bad.type));
      return set_type(e, make_type(TypeKind::Error));
    }
    bool both_int = ta.kind == TypeKind::Int && tb.kind == TypeKind::Int;
    return set_type(e, make_type(both_int ? TypeKind::Int : TypeKind::Float));
  }
  const Expr& bad =
      (is_numeric(ta) || (e.binary_op == BinaryOp::Add && ta.kind == TypeKind::String)) ? b : a;
  error(bad.loc, "cannot apply '" + op + "' to " + type_name(program_, ta) + " and " +
                     type_name(program_, tb));
  return set_type(e, make_type(TypeKind::Error));
}

Type ExprChecker::check_in_list(Expr& e) {
  if (e.args.empty() || !e.args[0]) return set_type(e, make_type(TypeKind::Bool));
  Expr& lhs = *e.args[0];
  Type lt = check(lhs);
  if (!is_error(lt) && (lt.kind == TypeKind::Route || lt.kind == TypeKind::List)) {
    error(lhs.loc, "'in' cannot test a " + type_name(program_, lt));
    lt = make_type(TypeKind::Error);
  }
  for (size_t i = 1; i < e.args.size(); ++i) {
    if (!e.args[i]) continue;
    Expr& item = *e.args[i];
    Type it = check_in(item, lt);
    if (!is_error(lt) && !is_error(it) && !eq_compatible(lt, it))
      error(item.loc, "list item is " + type_name(program_, it) + " but '" +
                          (lhs.kind == ExprKind::Name ? lhs.text : std::string("the value")) +
                          "' is " + type_name(program_, lt));
  }
  return set_type(e, make_type(TypeKind::Bool));
}

Type ExprChecker::check_call(Expr& e) {
  const std::string fn = builtin_name(e.builtin);
  const size_t n = e.args.size();
  auto arity = [&](size_t lo, size_t hi) {
    if (n >= lo && n <= hi) return true;
    std::string want = lo == hi ? std::to_string(lo) : "at least " + std::to_string(lo);
    error(e.loc, fn + "() takes " + want + " argument" + (lo == 1 && hi == 1 ? "" : "s") +
                     ", found " + std::to_string(n));
    for (auto& a : e.args)
      if (a && e.builtin != Builtin::Has && e.builtin != Builtin::Cost) check(*a);
    return false;
  };
  auto numeric_args = [&](size_t from, bool* all_int) {
    bool ok = true;
    *all_int = true;
    for (size_t i = from; i < n; ++i) {
      if (!e.args[i]) return false;
      Type t = check(*e.args[i]);
      if (is_error(t)) {
        ok = false;
      } else if (!is_numeric(t)) {
        error(e.args[i]->loc,
              fn + "() needs int or float arguments, found " + type_name(program_, t));
        ok = false;
      } else if (t.kind != TypeKind::Int) {
        *all_int = false;
      }
    }
    return ok;
  };
  bool all_int = true;
  switch (e.builtin) {
    case Builtin::Min:
    case Builtin::Max:
    case Builtin::Clamp:
    case Builtin::Pow:
    case Builtin::Abs: {
      size_t lo = e.builtin == Builtin::Clamp ? 3 : e.builtin == Builtin::Abs ? 1 : 2;
      size_t hi = (e.builtin == Builtin::Min || e.builtin == Builtin::Max) ? SIZE_MAX : lo;
      if (!arity(lo, hi)) return set_type(e, make_type(TypeKind::Error));
      if (!numeric_args(0, &all_int)) return set_type(e, make_type(TypeKind::Error));
      return set_type(e, make_type(all_int ? TypeKind::Int : TypeKind::Float));
    }
    case Builtin::Has: {
      if (!arity(1, 1)) return set_type(e, make_type(TypeKind::Bool));
      Expr& x = *e.args[0];
      auto it = scope_.inputs.find(x.text);
      if (x.kind != ExprKind::Name) {
        error(x.loc, "has() needs an input name");
      } else if (scope_.lets.count(x.text)) {
        error(x.loc, "has() needs an input name, found let '" + x.text + "'");
        set_type(x, make_type(TypeKind::Error));
      } else if (it == scope_.inputs.end()) {
        std::vector<std::string> names;
        for (const auto& in : program_.inputs) names.push_back(in.name);
        error(x.loc, "unknown input '" + x.text + "'" + did_you_mean(x.text, names));
        set_type(x, make_type(TypeKind::Error));
      } else {
        x.ref = NameRef::Input;
        x.index = it->second;
        set_type(x, program_.inputs[it->second].type);
      }
      return set_type(e, make_type(TypeKind::Bool));
    }
    case Builtin::Cost: {
      if (!arity(3, 3)) return set_type(e, make_type(TypeKind::Float));
      Expr& r = *e.args[0];
      auto it = scope_.routes.find(r.text);
      if (r.kind != ExprKind::Name) {
        error(r.loc, "cost() needs a route name as its first argument");
      } else if (it == scope_.routes.end()) {
        std::vector<std::string> names;
        for (const auto& rt : program_.routes) names.push_back(rt.name);
        error(r.loc, "unknown route '" + r.text + "'" + did_you_mean(r.text, names));
        set_type(r, make_type(TypeKind::Error));
      } else {
        r.ref = NameRef::Route;
        r.index = it->second;
        set_type(r, make_type(TypeKind::Route));
      }
      numeric_args(1, &all_int);
      return set_type(e, make_type(TypeKind::Float));
    }
  }
  return set_type(e, make_type(TypeKind::Error));
}

}  // namespace check
}  // namespace tollgate
