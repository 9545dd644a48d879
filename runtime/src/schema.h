// The input schema a Request is built against: slot per input, enum member and string-literal
// interning maps (tsl::robin_map with heterogeneous string_view lookup, so interning a borrowed
// string never allocates), and the default values Request::reset() stores.
#pragma once

#include <tsl/robin_map.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tollgate/policy.hpp"
#include "tollgate/request.hpp"

namespace tollgate {
struct Program;
enum class TypeKind : uint8_t;  // compiler/ast.h
struct EvalContext;

namespace detail {

// The public type of an input, from its checked TypeKind.
InputType input_type(TypeKind k);

struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
struct NameEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
};
using NameMap = tsl::robin_map<std::string, int32_t, NameHash, NameEq>;

struct SchemaInput {
  std::string name;
  InputType type = InputType::Int;
  NameMap members;  // enum member -> index
  int32_t member_count = 0;
  bool has_default = false;
  Slot default_slot{};         // str filled at reset from default_string
  std::string default_string;  // for string inputs
};

struct Schema {
  std::vector<SchemaInput> inputs;
  NameMap slots;     // input name -> slot
  NameMap literals;  // string literal -> id in Program::string_literals
  // A filter over (length, first byte, last byte) of every literal: a bit clear means no literal
  // has that shape. Most host strings (tenant ids, request ids) match no literal, and the filter
  // answers them without hashing the bytes.
  static constexpr size_t kLiteralFilterBits = 1024;
  uint64_t literal_filter[kLiteralFilterBits / 64] = {};
  static size_t literal_shape(std::string_view s) {
    if (s.empty()) return 0;
    return (s.size() * 131 + static_cast<unsigned char>(s.front()) * 31 +
            static_cast<unsigned char>(s.back())) %
           kLiteralFilterBits;
  }
  void add_literal_shape(std::string_view s) {
    size_t b = literal_shape(s);
    literal_filter[b / 64] |= uint64_t{1} << (b % 64);
  }

  int slot(std::string_view name) const {
    auto it = slots.find(name);
    return it == slots.end() ? -1 : it->second;
  }
  int32_t literal_id(std::string_view s) const {
    size_t b = literal_shape(s);
    if (!(literal_filter[b / 64] >> (b % 64) & 1)) return -1;
    auto it = literals.find(s);
    return it == literals.end() ? -1 : it->second;
  }
  // Every slot unset, holding its default value (or zero): one copy of reset_image, since
  // hosts reset a Request before every decision.
  void fill_defaults(Slot* slots) const;
  std::vector<Slot> reset_image;  // built last, once `inputs` no longer moves
  // Per slot, what the inline Request setters and the C ABI's bulk path check a value against,
  // packed so a request's inputs are read from one or two cache lines, not a SchemaInput each.
  std::vector<SlotCheck> checks;
};

// Whether two policies' schemas declare the same inputs (names, types, enum members, in order),
// so a slot of one means the same value in the other; and whether their string literals (and so
// literal ids) and defaults are the same. Request::copy_from.
bool same_inputs(const Schema& a, const Schema& b);
bool same_literals(const Schema& a, const Schema& b);
bool same_defaults(const Schema& a, const Schema& b);  // for schemas with the same inputs

// Defaults come from the evaluators' context so both agree on them.
std::shared_ptr<const Schema> build_schema(const Program& program, const EvalContext& ctx);

// Literal parsing shared by Request::set and tools: ints with `_`, k/M suffixes and durations
// (ms s min h); floats also accept `$` prefix, `%` and ` usd` suffixes. False on bad text/overflow.
bool parse_int_text(std::string_view text, int64_t* out);
bool parse_float_text(std::string_view text, double* out);

}  // namespace detail
}  // namespace tollgate
