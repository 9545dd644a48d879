// The body of POST /v1/decide ({"input": {...}, "now": ...}) parsed straight into a Request:
// nlohmann's SAX events set each input as it is read, so no JSON document is built (that was
// half of the handler's time). Same checks and messages as set_inputs_from_json.
#pragma once

#include <string>
#include <string_view>

#include "tollgate/tollgate.hpp"

namespace tollgate::serve {

struct BodyError {
  std::string message;
  std::string field;  // "input", "now", the unknown field's name, or ""
};

// Sets the inputs and `now_ms` of `req` (reset by the caller) from `body`. String inputs are
// copied into the Request. False with *error on the first problem (always a 400).
bool parse_decide_body(const Policy& policy, std::string_view body, Request* req, BodyError* error);

}  // namespace tollgate::serve
