// OpenTelemetry GenAI spans (semantic conventions v1.41, gen_ai.* attributes) as JSON: flat spans
// ({"attributes": {"gen_ai.usage.input_tokens": 52, ...}}), OTLP/JSON spans (attributes as
// [{"key", "value": {"intValue": "52"}}]) and OTLP export envelopes (resourceSpans/scopeSpans).
#include "tools/dryrun/json_convert.h"

namespace tollgate::dryrun {

namespace {

// OTLP AnyValue {"stringValue": ...} -> plain JSON value.
json any_value(const json& v) {
  if (!v.is_object()) return v;
  for (const char* k : {"stringValue", "boolValue", "doubleValue"}) {
    auto it = v.find(k);
    if (it != v.end()) return *it;
  }
  auto it = v.find("intValue");
  if (it != v.end()) {
    int64_t x = 0;
    json holder = json::object({{"v", *it}});
    if (get_int(holder, {"v"}, &x)) return x;
    return *it;
  }
  it = v.find("arrayValue");
  if (it != v.end()) {
    json arr = json::array();
    if (auto vals = at(*it, {"values"}); vals && vals->is_array())
      for (const auto& e : *vals) arr.push_back(any_value(e));
    return arr;
  }
  return nullptr;
}

class OtelConverter : public JsonConverter {
 public:
  bool expand(const json& doc, std::vector<json>* out) override {
    const json* rs = at(doc, {"resourceSpans"});
    if (!rs || !rs->is_array()) return false;
    for (const auto& r : *rs) {
      json resource_attrs = attributes(r.contains("resource") ? r["resource"] : json::object());
      for (const char* scope_key : {"scopeSpans", "instrumentationLibrarySpans"}) {
        const json* ss = at(r, {scope_key});
        if (!ss || !ss->is_array()) continue;
        for (const auto& s : *ss) {
          const json* spans = at(s, {"spans"});
          if (!spans || !spans->is_array()) continue;
          for (json span : *spans) {
            // Resource attributes (service.name, tenant tags) apply to every span under them.
            json attrs = attributes(span);
            for (auto it = resource_attrs.begin(); it != resource_attrs.end(); ++it)
              if (!attrs.contains(it.key())) attrs[it.key()] = *it;
            span["attributes"] = attrs;
            out->push_back(std::move(span));
          }
        }
      }
    }
    return true;
  }

  ConvResult convert(const json& span, LogRecord* r) override {
    json attrs = attributes(span);
    int64_t in = 0, out = 0;
    bool has_in = get_int(attrs, {"gen_ai.usage.input_tokens"}, &in) ||
                  get_int(attrs, {"gen_ai.usage.prompt_tokens"}, &in);
    bool has_out = get_int(attrs, {"gen_ai.usage.output_tokens"}, &out) ||
                   get_int(attrs, {"gen_ai.usage.completion_tokens"}, &out);
    if (!has_in && !has_out)
      return {Conv::Skip, "OTel spans without gen_ai.usage tokens (tool/agent spans) skipped"};
    r->in_tokens = in;
    r->out_tokens = out;
    get_int(attrs, {"gen_ai.usage.cache_read.input_tokens"}, &r->cached_tokens);
    if (!get_text(attrs, {"gen_ai.response.model"}, &r->model))
      get_text(attrs, {"gen_ai.request.model"}, &r->model);
    if (!get_text(attrs, {"gen_ai.response.id"}, &r->request_id) &&
        !get_text(span, {"span_id"}, &r->request_id))
      get_text(span, {"spanId"}, &r->request_id);
    for (const char* k : {"tenant", "enduser.id", "user.id", "gen_ai.conversation.id"})
      if (get_text(attrs, {k}, &r->tenant)) break;
    int64_t attempt;
    if (get_int(attrs, {"attempt"}, &attempt) ||
        get_int(attrs, {"http.request.resend_count"}, &attempt))
      r->attempt = attempt;

    bool timed = false;
    for (const char* k :
         {"start_time_unix_nano", "startTimeUnixNano", "start_time", "startTime", "timestamp"}) {
      const json* t = at(span, {k});
      if (!t) continue;
      int64_t ns;
      if ((std::string(k).find("nano") != std::string::npos ||
           std::string(k).find("Nano") != std::string::npos) &&
          get_int(span, {k}, &ns)) {
        r->ts_ms = ns / 1000000;
        timed = true;
      } else {
        timed = json_time(*t, &r->ts_ms);
      }
      if (timed) break;
    }
    if (!timed) missing_time(o, r);

    std::string err;
    if (get_text(attrs, {"error.type"}, &err)) {
      r->status = normalize_status(err);
      if (r->status == "ok") r->status = "error";
    } else if (const json* st = at(span, {"status", "code"})) {
      bool failed = (st->is_number() && st->get<int>() == 2) ||
                    (st->is_string() && st->get<std::string>().find("ERROR") != std::string::npos);
      r->status = failed ? "error" : "ok";
    } else {
      r->status = "ok";
    }
    copy_scalars(attrs, "", o, r);
    return {};
  }

 private:
  // The span's attributes as a flat object, whichever encoding it uses.
  static json attributes(const json& span) {
    const json* a = at(span, {"attributes"});
    if (!a) return json::object();
    if (a->is_object()) return *a;
    json flat = json::object();
    if (a->is_array()) {
      for (const auto& kv : *a) {
        std::string key;
        if (!get_text(kv, {"key"}, &key)) continue;
        flat[key] = kv.contains("value") ? any_value(kv["value"]) : json(nullptr);
      }
    }
    return flat;
  }
};

}  // namespace

std::unique_ptr<JsonConverter> make_otel_converter() {
  return std::make_unique<OtelConverter>();
}

}  // namespace tollgate::dryrun
