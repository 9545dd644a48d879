// A SAX handler for the decide body (see decide_body.h). Depth 1 is the body object, depth 2 the
// "input" object; anything deeper is a wrong-typed input value.
#include "tools/serve/decide_body.h"

#include <nlohmann/json.hpp>

#include "tools/serve/request_json.h"

namespace tollgate::serve {
namespace {

using json = nlohmann::json;

class DecideSax : public nlohmann::json_sax<json> {
 public:
  DecideSax(const Policy& policy, Request* req, BodyError* error)
      : policy_(policy), req_(req), error_(error) {}

  bool null() override { return value(JsonValue{}); }
  bool boolean(bool b) override {
    JsonValue v;
    v.kind = JsonValue::Bool;
    v.b = b;
    return value(v);
  }
  bool number_integer(number_integer_t i) override {
    JsonValue v;
    v.kind = JsonValue::Int;
    v.i = i;
    return value(v);
  }
  bool number_unsigned(number_unsigned_t u) override {
    JsonValue v;
    v.kind = JsonValue::Uint;
    v.u = u;
    return value(v);
  }
  bool number_float(number_float_t f, const string_t&) override {
    JsonValue v;
    v.kind = JsonValue::Float;
    v.f = f;
    return value(v);
  }
  bool string(string_t& s) override {
    JsonValue v;
    v.kind = JsonValue::String;
    v.s = s;  // valid during this call: the Request copies it
    return value(v);
  }
  bool binary(binary_t&) override { return fail("the body must be a JSON object", ""); }

  bool start_object(std::size_t) override {
    if (depth_ == 0 || (depth_ == 1 && top_ == kInput)) return ++depth_, true;
    JsonValue v;
    v.kind = JsonValue::Object;
    return value(v) && (++depth_, true);
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    JsonValue v;
    v.kind = JsonValue::Array;
    return value(v) && (++depth_, true);
  }
  bool end_array() override {
    --depth_;
    return true;
  }

  bool key(string_t& k) override {
    if (depth_ == 1) {
      if (k == "input") {
        top_ = kInput;
      } else if (k == "now") {
        top_ = kNow;
      } else {
        return fail("unknown field '" + k + "' (expected input, now)", k);
      }
      return true;
    }
    slot_ = policy_.slot(k);  // depth 2: a member of "input"
    if (slot_ < 0) {
      unknown_input(policy_, k, &error_->message);
      error_->field = "input";
      return false;
    }
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    return fail(std::string("body is not valid JSON: ") + e.what(), "");
  }

 private:
  // A value at the current depth (arrays and objects reported by their start).
  bool value(const JsonValue& v) {
    if (depth_ == 0) return fail("the body must be a JSON object", "");
    if (depth_ == 1) {
      if (top_ == kInput) return fail(input_not_object(v), "input");
      if (v.kind == JsonValue::Null) return true;  // "now": null is absent
      int64_t ms = 0;
      if (!parse_request_time(v, &ms))
        return fail("'now' must be an RFC 3339 time or ms since the epoch", "now");
      req_->now_ms = ms;
      return true;
    }
    if (depth_ == 2) {
      const InputError e = set_input_from_value(policy_, slot_, v, true, req_, &error_->message);
      if (e == InputError::None) return true;
      error_->field = "input";
      return false;
    }
    return true;  // inside a value already refused (never reached: parsing stopped there)
  }
  bool fail(std::string message, std::string field) {
    error_->message = std::move(message);
    error_->field = std::move(field);
    return false;
  }

  enum Top { kNone, kInput, kNow };
  const Policy& policy_;
  Request* req_;
  BodyError* error_;
  int depth_ = 0;
  Top top_ = kNone;
  int slot_ = -1;
};

}  // namespace

bool parse_decide_body(const Policy& policy, std::string_view body, Request* req,
                       BodyError* error) {
  if (body.empty()) {
    error->message = "the request needs a JSON object body";
    error->field.clear();
    return false;
  }
  DecideSax sax(policy, req, error);
  try {
    return json::sax_parse(body.begin(), body.end(), &sax);
  } catch (const json::exception& e) {  // defensive: sax_parse reports through parse_error
    error->message = std::string("body is not valid JSON: ") + e.what();
    error->field.clear();
    return false;
  }
}

}  // namespace tollgate::serve
