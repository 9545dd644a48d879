// JSON and header text to Request inputs (see request_json.h).
#include "tools/serve/request_json.h"

#include <cmath>

#include "tools/cli.h"
#include "tools/dryrun/timeparse.h"

namespace tollgate::serve {

namespace {

const char* type_name(const JsonValue& v) {
  switch (v.kind) {
    case JsonValue::Bool:
      return "a boolean";
    case JsonValue::Int:
    case JsonValue::Uint:
      return "an integer";
    case JsonValue::Float:
      return "a number";
    case JsonValue::String:
      return "a string";
    case JsonValue::Array:
      return "an array";
    case JsonValue::Object:
      return "an object";
    case JsonValue::Null:
      break;
  }
  return "null";
}

InputError invalid(const InputInfo& in, const std::string& what, std::string* error) {
  *error = "input '" + in.name + "': " + what + "; " + in.name + " is " + cli::describe_input(in);
  return InputError::Invalid;
}

InputError from_status(const InputInfo& in, Status st, std::string* error) {
  if (st == Status::Ok) return InputError::None;
  return invalid(in, to_string(st), error);
}

}  // namespace

JsonValue JsonValue::of(const nlohmann::json& v) {
  JsonValue out;
  if (v.is_boolean()) {
    out.kind = Bool;
    out.b = v.get<bool>();
  } else if (v.is_number_unsigned()) {
    out.kind = Uint;
    out.u = v.get<uint64_t>();
  } else if (v.is_number_integer()) {
    out.kind = Int;
    out.i = v.get<int64_t>();
  } else if (v.is_number()) {
    out.kind = Float;
    out.f = v.get<double>();
  } else if (v.is_string()) {
    out.kind = String;
    out.s = v.get_ref<const std::string&>();
  } else if (v.is_array()) {
    out.kind = Array;
  } else if (v.is_object()) {
    out.kind = Object;
  }
  return out;
}

InputError unknown_input(const Policy& policy, std::string_view name, std::string* error) {
  *error = "unknown input '" + std::string(name) + "'; the policy's inputs are " +
           cli::input_names(policy);
  return InputError::Unknown;
}

std::string input_not_object(const JsonValue& v) {
  return std::string("'input' must be an object of input values, got ") + type_name(v);
}

InputError set_input_from_value(const Policy& policy, int slot, const JsonValue& v,
                                bool copy_strings, Request* req, std::string* error) {
  const InputInfo& in = policy.inputs()[static_cast<size_t>(slot)];
  if (v.kind == JsonValue::Null) return InputError::None;
  const auto got = [&] { return invalid(in, std::string("got ") + type_name(v), error); };
  Status st = Status::Ok;
  switch (in.type) {
    case InputType::Bool:
      if (v.kind != JsonValue::Bool) return got();
      st = req->set_bool(slot, v.b);
      break;
    case InputType::Int:
      if (v.kind == JsonValue::Uint) {
        if (v.u > static_cast<uint64_t>(INT64_MAX))
          return invalid(in, "out of the int range", error);
        st = req->set_int(slot, static_cast<int64_t>(v.u));
      } else if (v.kind == JsonValue::Int) {
        st = req->set_int(slot, v.i);
      } else {
        return got();
      }
      break;
    case InputType::Float:
      if (v.kind == JsonValue::Int) {
        st = req->set_float(slot, static_cast<double>(v.i));
      } else if (v.kind == JsonValue::Uint) {
        st = req->set_float(slot, static_cast<double>(v.u));
      } else if (v.kind == JsonValue::Float) {
        st = req->set_float(slot, v.f);
      } else {
        return got();
      }
      break;
    case InputType::String:
      if (v.kind != JsonValue::String) return got();
      st = copy_strings ? req->set_string_copy(slot, v.s) : req->set_string(slot, v.s);
      break;
    case InputType::Enum:
      if (v.kind != JsonValue::String) return got();
      st = req->set_enum(slot, v.s);
      if (st == Status::UnknownEnumValue)
        return invalid(in, "'" + std::string(v.s) + "' is not a member", error);
      break;
  }
  return from_status(in, st, error);
}

InputError set_inputs_from_json(const Policy& policy, const nlohmann::json& input, Request* req,
                                std::string* error) {
  if (!input.is_object()) {
    *error = input_not_object(JsonValue::of(input));
    return InputError::Invalid;
  }
  for (auto it = input.begin(); it != input.end(); ++it) {
    const int slot = policy.slot(it.key());
    if (slot < 0) return unknown_input(policy, it.key(), error);
    const InputError e =
        set_input_from_value(policy, slot, JsonValue::of(it.value()), false, req, error);
    if (e != InputError::None) return e;
  }
  return InputError::None;
}

InputError set_input_from_text(const Policy& policy, int slot, std::string_view text, Request* req,
                               std::string* error) {
  const InputInfo& in = policy.inputs()[static_cast<size_t>(slot)];
  Status st = req->set(in.name, text);
  if (st == Status::UnknownEnumValue)
    return invalid(in, "'" + std::string(text) + "' is not a member", error);
  return from_status(in, st, error);
}

bool parse_request_time(const JsonValue& now, int64_t* ms) {
  if (now.kind == JsonValue::Int) {
    *ms = now.i;
    return *ms > 0;
  }
  if (now.kind == JsonValue::Uint) {
    if (now.u > static_cast<uint64_t>(INT64_MAX)) return false;
    *ms = static_cast<int64_t>(now.u);
    return *ms > 0;
  }
  if (now.kind == JsonValue::String) return dryrun::parse_datetime(now.s, ms);
  return false;
}

bool parse_request_time(const nlohmann::json& now, int64_t* ms) {
  return parse_request_time(JsonValue::of(now), ms);
}

}  // namespace tollgate::serve
