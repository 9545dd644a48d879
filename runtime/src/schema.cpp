// Builds the Request schema from a checked Program, and parses input values from text.
#include "runtime/src/schema.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "compiler/ast.h"
#include "compiler/eval_support.h"

namespace tollgate::detail {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

void Schema::fill_defaults(Slot* slots) const {
  if (!reset_image.empty())
    std::memcpy(slots, reset_image.data(), reset_image.size() * sizeof(Slot));
}

namespace {

Slot reset_slot(const SchemaInput& in) {
  Slot s{};
  if (in.has_default) {
    s = in.default_slot;
    if (in.type == InputType::String) {
      s.str = in.default_string.c_str();
      s.len = static_cast<uint32_t>(in.default_string.size());
    }
  } else {
    s.i = 0;
    s.str = "";
    s.len = 0;
    s.str_id = -1;
  }
  s.set = 0;
  return s;
}

}  // namespace

std::shared_ptr<const Schema> build_schema(const Program& program, const EvalContext& ctx) {
  auto schema = std::make_shared<Schema>();
  for (size_t i = 0; i < program.inputs.size(); ++i) {
    const InputDecl& decl = program.inputs[i];
    SchemaInput in;
    in.name = decl.name;
    in.type = input_type(decl.type.kind);
    if (in.type == InputType::Enum && decl.type.enum_id >= 0 &&
        static_cast<size_t>(decl.type.enum_id) < program.enums.size()) {
      const auto& members = program.enums[decl.type.enum_id].members;
      for (size_t m = 0; m < members.size(); ++m) in.members.emplace(members[m], int32_t(m));
      in.member_count = static_cast<int32_t>(members.size());
    }
    if (i < ctx.has_default.size() && ctx.has_default[i]) {
      in.has_default = true;
      in.default_slot = ctx.defaults[i];
      in.default_string = ctx.default_strings[i];
    }
    schema->slots.emplace(decl.name, static_cast<int32_t>(i));
    schema->inputs.push_back(std::move(in));
  }
  for (size_t i = 0; i < program.string_literals.size(); ++i) {
    schema->literals.emplace(program.string_literals[i], static_cast<int32_t>(i));
    schema->add_literal_shape(program.string_literals[i]);
  }
  // default_string pointers are taken only now: moving a SchemaInput moves short strings' bytes.
  for (const SchemaInput& in : schema->inputs) {
    schema->reset_image.push_back(reset_slot(in));
    schema->checks.push_back({static_cast<uint8_t>(in.type), in.member_count});
  }
  return schema;
}

bool same_inputs(const Schema& a, const Schema& b) {
  if (a.inputs.size() != b.inputs.size()) return false;
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    const SchemaInput &x = a.inputs[i], &y = b.inputs[i];
    if (x.name != y.name || x.type != y.type || x.member_count != y.member_count) return false;
    for (const auto& [member, index] : x.members) {
      auto it = y.members.find(member);
      if (it == y.members.end() || it->second != index) return false;
    }
  }
  return true;
}

bool same_literals(const Schema& a, const Schema& b) {
  if (a.literals.size() != b.literals.size()) return false;
  for (const auto& [text, id] : a.literals) {
    auto it = b.literals.find(text);
    if (it == b.literals.end() || it->second != id) return false;
  }
  return true;
}

bool same_defaults(const Schema& a, const Schema& b) {
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    const SchemaInput &x = a.inputs[i], &y = b.inputs[i];
    if (x.has_default != y.has_default) return false;
    if (!x.has_default) continue;
    const Slot &s = x.default_slot, &t = y.default_slot;
    // Bits, not values: -0.0 and 0.0 differ, and copy_from copies bits.
    if (std::memcmp(&s.i, &t.i, sizeof s.i) != 0 || s.str_id != t.str_id ||
        x.default_string != y.default_string)
      return false;
  }
  return true;
}

bool parse_int_text(std::string_view text, int64_t* out) {
  text = trim(text);
  bool neg = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    neg = text.front() == '-';
    text.remove_prefix(1);
  }
  // Digits (with `_` separators) then an optional suffix.
  uint64_t mag = 0;
  size_t i = 0;
  bool any = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '_') continue;
    if (c < '0' || c > '9') break;
    any = true;
    if (mag > (std::numeric_limits<uint64_t>::max() - 9) / 10) return false;
    mag = mag * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!any) return false;
  std::string_view suffix = text.substr(i);
  uint64_t mult = 1;
  if (suffix.empty() || suffix == "ms")
    mult = 1;
  else if (suffix == "k")
    mult = 1000;
  else if (suffix == "M")
    mult = 1000000;
  else if (suffix == "s")
    mult = 1000;
  else if (suffix == "min")
    mult = 60000;
  else if (suffix == "h")
    mult = 3600000;
  else
    return false;
  uint64_t v;
  if (__builtin_mul_overflow(mag, mult, &v)) return false;
  const uint64_t limit = neg ? uint64_t(1) << 63 : (uint64_t(1) << 63) - 1;
  if (v > limit) return false;
  *out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return true;
}

bool parse_float_text(std::string_view text, double* out) {
  text = trim(text);
  bool neg = false;
  if (!text.empty() && text.front() == '-') {
    neg = true;
    text.remove_prefix(1);
  }
  double scale = 1;
  if (!text.empty() && text.front() == '$') text.remove_prefix(1);
  if (ends_with(text, "usd")) text = trim(text.substr(0, text.size() - 3));
  if (ends_with(text, "%")) {
    scale = 0.01;
    text.remove_suffix(1);
  } else if (ends_with(text, "k")) {
    scale = 1e3;
    text.remove_suffix(1);
  } else if (ends_with(text, "M")) {
    scale = 1e6;
    text.remove_suffix(1);
  }
  if (text.empty()) return false;
  char buf[64];
  size_t n = 0;
  for (char c : text) {
    if (c == '_') continue;
    if (n + 1 >= sizeof(buf)) return false;
    buf[n++] = c;
  }
  double v = 0;
  auto [ptr, ec] = std::from_chars(buf, buf + n, v);
  if (ec != std::errc() || ptr != buf + n) return false;
  v *= scale;
  *out = neg ? -v : v;
  return true;
}

InputType input_type(TypeKind k) {
  switch (k) {
    case TypeKind::Bool:
      return InputType::Bool;
    case TypeKind::Float:
      return InputType::Float;
    case TypeKind::String:
      return InputType::String;
    case TypeKind::Enum:
      return InputType::Enum;
    default:
      return InputType::Int;
  }
}

}  // namespace tollgate::detail
