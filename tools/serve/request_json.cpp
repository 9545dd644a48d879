// JSON and header text to Request inputs (see request_json.h).
#include "tools/serve/request_json.h"

#include <cmath>

#include "tools/cli.h"
#include "tools/dryrun/timeparse.h"

namespace tollgate::serve {

namespace {

const char* json_type(const nlohmann::json& v) {
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
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

InputError set_inputs_from_json(const Policy& policy, const nlohmann::json& input, Request* req,
                                std::string* error) {
  if (!input.is_object()) {
    *error = std::string("'input' must be an object of input values, got ") + json_type(input);
    return InputError::Invalid;
  }
  for (auto it = input.begin(); it != input.end(); ++it) {
    const int slot = policy.slot(it.key());
    if (slot < 0) {
      *error =
          "unknown input '" + it.key() + "'; the policy's inputs are " + cli::input_names(policy);
      return InputError::Unknown;
    }
    const InputInfo& in = policy.inputs()[static_cast<size_t>(slot)];
    const nlohmann::json& v = it.value();
    if (v.is_null()) continue;
    Status st = Status::Ok;
    switch (in.type) {
      case InputType::Bool:
        if (!v.is_boolean()) return invalid(in, std::string("got ") + json_type(v), error);
        st = req->set_bool(slot, v.get<bool>());
        break;
      case InputType::Int:
        if (v.is_number_unsigned()) {
          if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
            return invalid(in, "out of the int range", error);
          st = req->set_int(slot, static_cast<int64_t>(v.get<uint64_t>()));
        } else if (v.is_number_integer()) {
          st = req->set_int(slot, v.get<int64_t>());
        } else {
          return invalid(in, std::string("got ") + json_type(v), error);
        }
        break;
      case InputType::Float:
        if (!v.is_number()) return invalid(in, std::string("got ") + json_type(v), error);
        st = req->set_float(slot, v.get<double>());
        break;
      case InputType::String:
        if (!v.is_string()) return invalid(in, std::string("got ") + json_type(v), error);
        st = req->set_string(slot, v.get_ref<const std::string&>());
        break;
      case InputType::Enum:
        if (!v.is_string()) return invalid(in, std::string("got ") + json_type(v), error);
        st = req->set_enum(slot, v.get_ref<const std::string&>());
        if (st == Status::UnknownEnumValue)
          return invalid(in, "'" + v.get<std::string>() + "' is not a member", error);
        break;
    }
    if (st != Status::Ok) return from_status(in, st, error);
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

bool parse_request_time(const nlohmann::json& now, int64_t* ms) {
  if (now.is_number_integer() || now.is_number_unsigned()) {
    *ms = now.get<int64_t>();
    return *ms > 0;
  }
  if (now.is_string()) return dryrun::parse_datetime(now.get_ref<const std::string&>(), ms);
  return false;
}

}  // namespace tollgate::serve
