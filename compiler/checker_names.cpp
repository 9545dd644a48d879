// Spelling helpers for checker messages: type names, operator names, did-you-mean suggestions.
#include <algorithm>

#include "compiler/checker_internal.h"

namespace tollgate {
namespace check {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      size_t sub = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, sub});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates) {
  // Allow roughly one typo per three characters, so short names only match close neighbours.
  size_t limit = std::max<size_t>(1, std::min<size_t>(3, name.size() / 3));
  const std::string* best = nullptr;
  size_t best_d = limit + 1;
  for (const auto& c : candidates) {
    if (c == name) continue;
    size_t d = edit_distance(name, c);
    if (d < best_d) {
      best_d = d;
      best = &c;
    }
  }
  return best ? " (did you mean '" + *best + "'?)" : "";
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

static const char* kind_name(TypeKind k) {
  switch (k) {
    case TypeKind::Error:
      return "<error>";
    case TypeKind::Bool:
      return "bool";
    case TypeKind::Int:
      return "int";
    case TypeKind::Float:
      return "float";
    case TypeKind::String:
      return "string";
    case TypeKind::Enum:
      return "enum";
    case TypeKind::List:
      return "list";
    case TypeKind::Route:
      return "route";
  }
  return "?";
}

std::string type_name(const Program& program, const Type& type) {
  auto enum_name = [&](int32_t id) {
    if (id >= 0 && static_cast<size_t>(id) < program.enums.size())
      return "enum '" + program.enums[id].name + "'";
    return std::string("enum");
  };
  if (type.kind == TypeKind::Enum) return enum_name(type.enum_id);
  if (type.kind == TypeKind::List) {
    if (type.elem == TypeKind::Enum) return "list of " + enum_name(type.enum_id);
    return std::string("list of ") + kind_name(type.elem);
  }
  return kind_name(type.kind);
}

bool eq_compatible(const Type& a, const Type& b) {
  if (is_numeric(a) && is_numeric(b)) return true;
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case TypeKind::Bool:
    case TypeKind::String:
      return true;
    case TypeKind::Enum:
      return a.enum_id == b.enum_id;
    default:
      return false;
  }
}

Type make_type(TypeKind k, int32_t enum_id) {
  Type t;
  t.kind = k;
  t.enum_id = enum_id;
  return t;
}

int32_t find_member(const Program& program, int32_t enum_id, const std::string& name) {
  if (enum_id < 0 || static_cast<size_t>(enum_id) >= program.enums.size()) return -1;
  const auto& m = program.enums[enum_id].members;
  for (size_t i = 0; i < m.size(); ++i)
    if (m[i] == name) return static_cast<int32_t>(i);
  return -1;
}

Scope Scope::build(const Program& program) {
  Scope s;
  for (size_t i = 0; i < program.inputs.size(); ++i)
    s.inputs.emplace(program.inputs[i].name, static_cast<int32_t>(i));
  for (size_t i = 0; i < program.lets.size(); ++i)
    s.lets.emplace(program.lets[i].name, static_cast<int32_t>(i));
  for (size_t i = 0; i < program.budgets.size(); ++i)
    s.budgets.emplace(program.budgets[i].name, static_cast<int32_t>(i));
  for (size_t i = 0; i < program.routes.size(); ++i)
    s.routes.emplace(program.routes[i].name, static_cast<int32_t>(i));
  return s;
}

}  // namespace check
}  // namespace tollgate
