// Inputs of a decision from the wire: a JSON object ({"tier": "pro", "in_tokens": 300}) or header
// text (x-tollgate-in-tokens: 300). Every problem is reported naming the input and what it
// expects, so a client can fix its request from the message alone.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tollgate/tollgate.hpp"

namespace tollgate::serve {

enum class InputError : uint8_t { None, Unknown, Invalid };

// Sets every member of `input` on `req`: booleans on bool inputs, integers on int inputs, any
// number on float inputs, strings on string and enum inputs (strings are borrowed from `input`,
// which must outlive the decision). A null member leaves the input unset. On the first problem
// returns Unknown (no such input) or Invalid (wrong JSON type, not an enum member, NaN) with
// *error naming the input.
InputError set_inputs_from_json(const Policy& policy, const nlohmann::json& input, Request* req,
                                std::string* error);

// Sets input `slot` from text, parsed by the input's type as `tollgate eval --set` does.
InputError set_input_from_text(const Policy& policy, int slot, std::string_view text, Request* req,
                               std::string* error);

// One JSON value as a parser reports it: what a member of "input" can be. The one form both the
// document path (set_inputs_from_json) and the streaming one (decide_body.h) check.
struct JsonValue {
  enum Kind : uint8_t { Null, Bool, Int, Uint, Float, String, Array, Object };
  Kind kind = Null;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0;
  std::string_view s;
  static JsonValue of(const nlohmann::json& v);
};

// Sets input `slot` from one value, with the checks above. Strings are copied into the Request
// when `copy_strings`, borrowed otherwise. A Null value leaves the input unset.
InputError set_input_from_value(const Policy& policy, int slot, const JsonValue& v,
                                bool copy_strings, Request* req, std::string* error);
// The message for a member of "input" that names no input (returns InputError::Unknown).
InputError unknown_input(const Policy& policy, std::string_view name, std::string* error);
// "'input' must be an object ..., got an array": for an "input" that is not an object.
std::string input_not_object(const JsonValue& v);

// "2026-12-07T10:00:00Z" (RFC 3339) or a number of ms since the epoch, to ms. False otherwise.
bool parse_request_time(const JsonValue& now, int64_t* ms);
bool parse_request_time(const nlohmann::json& now, int64_t* ms);

}  // namespace tollgate::serve
