// A request's inputs: a fixed array of typed slots sized by the policy's input schema. Built once
// and reused: setting a value by slot is a store, so the typed hot path never allocates.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate {

namespace detail {
struct Schema;
// Per slot, what the inline setters check: the input's type (InputType's value) and, for an
// enum, its member count. The Schema owns the array.
struct SlotCheck {
  uint8_t type;
  int32_t member_count;
};
}  // namespace detail

// One input value. The layout is shared with JIT-compiled code: do not reorder.
struct Slot {
  union {
    int64_t i;  // int, bool (0/1), enum member index
    double f;   // float
  };
  const char* str;  // string bytes (borrowed or owned by the Request)
  uint32_t len;     // string length
  int32_t str_id;   // id of the equal string literal in the policy, -1 if none
  uint8_t set;      // 1 when the host set this input (has())
  uint8_t pad[7];
};
static_assert(sizeof(Slot) == 32, "Slot layout is part of the JIT ABI");

enum class Status : uint8_t {
  Ok,
  UnknownInput,      // no input of that name / slot out of range
  WrongType,         // e.g. set_int on a string input
  UnknownEnumValue,  // not a member of the input's enum
  BadValue,          // text that does not parse as the input's type
};
const char* to_string(Status s);

class Policy;

class Request {
 public:
  explicit Request(const Policy& policy);

  // Forget every value: all inputs unset, defaults apply.
  void reset();

  // Typed setters by slot (Policy::slot resolves a name once). No allocation. Inline: a range
  // check, a type check and the stores, so a C++ host pays no call per input.
  Status set_int(int slot, int64_t v) {
    if (!in_range(slot)) return Status::UnknownInput;
    const uint8_t t = checks_[slot].type;
    if (t == kInt) {
      slots_[static_cast<size_t>(slot)].i = v;
    } else if (t == kFloat) {
      slots_[static_cast<size_t>(slot)].f = static_cast<double>(v);
    } else {
      return Status::WrongType;
    }
    slots_[static_cast<size_t>(slot)].set = 1;
    return Status::Ok;
  }
  // Float inputs; set_int on a float input converts. NaN is BadValue (a NaN is never a value).
  Status set_float(int slot, double v) {
    if (!in_range(slot)) return Status::UnknownInput;
    if (checks_[slot].type != kFloat) return Status::WrongType;
    if (v != v) return Status::BadValue;
    slots_[static_cast<size_t>(slot)].f = v;
    slots_[static_cast<size_t>(slot)].set = 1;
    return Status::Ok;
  }
  Status set_bool(int slot, bool v) {
    if (!in_range(slot)) return Status::UnknownInput;
    if (checks_[slot].type != kBool) return Status::WrongType;
    slots_[static_cast<size_t>(slot)].i = v ? 1 : 0;
    slots_[static_cast<size_t>(slot)].set = 1;
    return Status::Ok;
  }
  Status set_enum(int slot, int member) {
    if (!in_range(slot)) return Status::UnknownInput;
    const detail::SlotCheck& c = checks_[slot];
    if (c.type != kEnum) return Status::WrongType;
    if (member < 0 || member >= c.member_count) return Status::UnknownEnumValue;
    slots_[static_cast<size_t>(slot)].i = member;
    slots_[static_cast<size_t>(slot)].set = 1;
    return Status::Ok;
  }
  Status set_enum(int slot, std::string_view member);  // interned through a hash map
  // Borrowed: the bytes must stay valid until the decision is made.
  Status set_string(int slot, std::string_view borrowed);
  // Owned: the Request keeps a copy (allocates).
  Status set_string_copy(int slot, std::string_view value);

  // By name, parsing `text` by the input's type (CLI, tests, dry-run). Strings are copied.
  Status set(std::string_view name, std::string_view text);

  // Takes `other`'s inputs and now_ms: what `other` has set is set here to the same value
  // (strings borrowed from where `other` holds them), the rest is reset. For evaluating one
  // request under several policies (a shadow or canary policy, the dry-run's two sides) with one
  // decoding. Both policies must declare the same inputs: names, types and enum members, in the
  // same order; else WrongType, and this request is left reset. No allocation (the first call
  // with another policy's request compares the two schemas once; when their string literals and
  // defaults are the same too, later calls are one copy of the slot array).
  Status copy_from(const Request& other);

  bool has(int slot) const;
  int size() const { return static_cast<int>(slots_.size()); }
  const Slot* slots() const { return slots_.data(); }

  // The decision's time for budget windows, ms since the Unix epoch; 0 = the wall clock.
  int64_t now_ms = 0;

 private:
  // InputType's values (policy.hpp includes this header; request.cpp checks they match).
  static constexpr uint8_t kBool = 0, kInt = 1, kFloat = 2, kString = 3, kEnum = 4;
  bool in_range(int slot) const { return slot >= 0 && static_cast<size_t>(slot) < slots_.size(); }

  std::shared_ptr<const detail::Schema> schema_;
  const detail::SlotCheck* checks_ = nullptr;  // schema_->checks, one per slot
  std::vector<Slot> slots_;
  std::vector<std::unique_ptr<std::string>> owned_;  // set_string_copy storage, reused per slot
  // copy_from: the last schema found to declare the same inputs as ours (held, so its address
  // cannot be reused by another), and whether its string literals (so literal ids) and its
  // defaults are ours too.
  std::shared_ptr<const detail::Schema> same_inputs_;
  bool same_literals_ = false;
  bool same_defaults_ = false;
};

}  // namespace tollgate
