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

// "2026-12-07T10:00:00Z" (RFC 3339) or a number of ms since the epoch, to ms. False otherwise.
bool parse_request_time(const nlohmann::json& now, int64_t* ms);

}  // namespace tollgate::serve
