// Request: typed slots sized by the policy's schema. Typed setters are stores; enum names and
// string values are interned through the schema's robin_maps without allocating.
#include "tollgate/request.hpp"

#include <cstring>

#include "runtime/src/policy_impl.h"
#include "runtime/src/schema.h"
#include "tollgate/policy.hpp"

namespace tollgate {

static_assert(static_cast<uint8_t>(InputType::Bool) == 0 &&
                  static_cast<uint8_t>(InputType::Int) == 1 &&
                  static_cast<uint8_t>(InputType::Float) == 2 &&
                  static_cast<uint8_t>(InputType::String) == 3 &&
                  static_cast<uint8_t>(InputType::Enum) == 4,
              "Request's inline type codes are InputType's values");

Request::Request(const Policy& policy)
    : schema_(policy.impl().schema), checks_(schema_->checks.data()) {
  slots_.resize(schema_->inputs.size());
  owned_.resize(schema_->inputs.size());
  reset();
}

void Request::reset() {
  schema_->fill_defaults(slots_.data());
  now_ms = 0;
}

Status Request::set_enum(int slot, std::string_view member) {
  if (!in_range(slot)) return Status::UnknownInput;
  const detail::SchemaInput& in = schema_->inputs[slot];
  if (in.type != InputType::Enum) return Status::WrongType;
  auto it = in.members.find(member);
  if (it == in.members.end()) return Status::UnknownEnumValue;
  slots_[slot].i = it->second;
  slots_[slot].set = 1;
  return Status::Ok;
}

Status Request::set_string(int slot, std::string_view borrowed) {
  if (!in_range(slot)) return Status::UnknownInput;
  if (schema_->inputs[slot].type != InputType::String) return Status::WrongType;
  if (borrowed.size() > UINT32_MAX) return Status::BadValue;
  Slot& s = slots_[slot];
  s.str = borrowed.data() ? borrowed.data() : "";
  s.len = static_cast<uint32_t>(borrowed.size());
  s.str_id = schema_->literal_id(borrowed);
  s.set = 1;
  return Status::Ok;
}

Status Request::set_string_copy(int slot, std::string_view value) {
  if (!in_range(slot)) return Status::UnknownInput;
  if (schema_->inputs[slot].type != InputType::String) return Status::WrongType;
  auto& owned = owned_[slot];
  if (!owned) owned = std::make_unique<std::string>();
  owned->assign(value.data(), value.size());
  return set_string(slot, *owned);
}

Status Request::set(std::string_view name, std::string_view text) {
  int slot = schema_->slot(name);
  if (slot < 0) return Status::UnknownInput;
  switch (schema_->inputs[slot].type) {
    case InputType::Int: {
      int64_t v;
      if (!detail::parse_int_text(text, &v)) return Status::BadValue;
      return set_int(slot, v);
    }
    case InputType::Float: {
      double v;
      if (!detail::parse_float_text(text, &v)) return Status::BadValue;
      return set_float(slot, v);
    }
    case InputType::Bool:
      if (text == "true") return set_bool(slot, true);
      if (text == "false") return set_bool(slot, false);
      return Status::BadValue;
    case InputType::Enum:
      return set_enum(slot, text);
    case InputType::String:
      // A quoted value ("acme") is taken without its quotes, as written in a policy.
      if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
        text = text.substr(1, text.size() - 2);
      return set_string_copy(slot, text);
  }
  return Status::BadValue;
}

Status Request::copy_from(const Request& other) {
  const detail::Schema* theirs = other.schema_.get();
  if (theirs != same_inputs_.get()) {
    bool ours = theirs == schema_.get();
    if (!ours && !detail::same_inputs(*schema_, *theirs)) {
      reset();
      return Status::WrongType;
    }
    same_inputs_ = other.schema_;
    same_literals_ = ours || detail::same_literals(*schema_, *theirs);
    same_defaults_ = ours || detail::same_defaults(*schema_, *theirs);
  }
  now_ms = other.now_ms;
  if (same_literals_ && same_defaults_) {
    // Slot for slot the same values, unset ones included (a string default then points into
    // their schema, which same_inputs_ keeps alive).
    std::memcpy(slots_.data(), other.slots_.data(), slots_.size() * sizeof(Slot));
    return Status::Ok;
  }
  schema_->fill_defaults(slots_.data());
  const Slot* from = other.slots_.data();
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!from[i].set) continue;
    slots_[i] = from[i];
    if (!same_literals_ && schema_->inputs[i].type == InputType::String)
      slots_[i].str_id = schema_->literal_id(std::string_view(from[i].str, from[i].len));
  }
  return Status::Ok;
}

bool Request::has(int slot) const {
  return in_range(slot) && slots_[slot].set != 0;
}

}  // namespace tollgate
