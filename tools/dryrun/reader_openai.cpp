// OpenAI records: Chat Completions responses (usage.prompt_tokens, prompt_tokens_details.
// cached_tokens), Responses API objects (usage.input_tokens), Batch output lines (response.body),
// and Usage API pages (aggregated buckets: one record per result). Batch *input* lines carry no
// usage and are skipped with a note (read the batch output file instead).
#include "tools/dryrun/json_convert.h"

namespace tollgate::dryrun {

namespace {

class OpenAIConverter : public JsonConverter {
 public:
  bool expand(const json& doc, std::vector<json>* out) override {
    std::string object;
    if (!get_text(doc, {"object"}, &object) || object != "page") return false;
    const json* data = at(doc, {"data"});
    if (!data || !data->is_array()) return true;
    for (const auto& bucket : *data) {
      const json* results = at(bucket, {"results"});
      if (!results || !results->is_array()) continue;
      for (json r : *results) {
        if (const json* st = at(bucket, {"start_time"})) r["_bucket_start"] = *st;
        out->push_back(std::move(r));
      }
    }
    return true;
  }

  ConvResult convert(const json& obj, LogRecord* r) override {
    std::string object;
    get_text(obj, {"object"}, &object);
    if (object == "organization.usage.completions.result") return usage_result(obj, r);
    if (obj.contains("custom_id")) {
      if (obj.contains("method") && obj.contains("body") && !obj.contains("response"))
        return {Conv::Skip,
                "OpenAI batch input lines skipped (requests without usage; read the output file)"};
      r->request_id = obj.value("custom_id", "");
      set_attr(r, "batch", "true");
      const json* resp = at(obj, {"response"});
      const json* err = at(obj, {"error"});
      if (!resp || resp->is_null()) {
        std::string code = "error";
        if (err) get_text(*err, {"code"}, &code);
        r->status = normalize_status(code);
        if (r->status == "ok") r->status = "error";
        missing_time(o, r);
        return {};
      }
      int64_t code = 200;
      get_int(*resp, {"status_code"}, &code);
      const json* body = at(*resp, {"body"});
      if (!body) return {Conv::Bad, "batch output line without response.body"};
      ConvResult res = completion(*body, r);
      if (code != 200) {
        r->status = normalize_status(std::to_string(code));
        if (r->status == "ok") r->status = "error";
      }
      r->request_id = obj.value("custom_id", r->request_id.str());
      return res;
    }
    return completion(obj, r);
  }

 private:
  void set_attr(LogRecord* r, const char* k, const std::string& v) {
    r->set_attr(o.keys->intern(k), v);
  }

  ConvResult completion(const json& obj, LogRecord* r) {
    const json* usage = at(obj, {"usage"});
    if (!usage || !usage->is_object()) return {Conv::Bad, "OpenAI object without usage"};
    bool chat = get_int(*usage, {"prompt_tokens"}, &r->in_tokens);
    if (chat) {
      get_int(*usage, {"completion_tokens"}, &r->out_tokens);
      get_int(*usage, {"prompt_tokens_details", "cached_tokens"}, &r->cached_tokens);
    } else if (get_int(*usage, {"input_tokens"}, &r->in_tokens)) {
      get_int(*usage, {"output_tokens"}, &r->out_tokens);
      get_int(*usage, {"input_tokens_details", "cached_tokens"}, &r->cached_tokens);
    } else {
      return {Conv::Bad, "OpenAI usage without prompt_tokens/input_tokens"};
    }
    get_text(obj, {"id"}, &r->request_id);
    get_text(obj, {"model"}, &r->model);
    const json* t = at(obj, {"created"});
    if (!t) t = at(obj, {"created_at"});
    if (!t || !json_time(*t, &r->ts_ms)) missing_time(o, r);
    std::string status;
    r->status = "ok";
    if (get_text(obj, {"status"}, &status) && status != "completed")
      r->status = normalize_status(status);
    if (const json* err = at(obj, {"error"}); err && err->is_object()) {
      std::string code = "error";
      get_text(*err, {"code"}, &code);
      r->status = normalize_status(code);
      if (r->status == "ok") r->status = "error";
    }
    get_text(obj, {"user"}, &r->tenant);
    std::string tier;
    if (get_text(obj, {"service_tier"}, &tier)) set_attr(r, "service_tier", tier);
    if (const json* md = at(obj, {"metadata"})) copy_scalars(*md, "", o, r);
    return {};
  }

  ConvResult usage_result(const json& obj, LogRecord* r) {
    if (!get_int(obj, {"input_tokens"}, &r->in_tokens))
      return {Conv::Bad, "usage result without input_tokens"};
    get_int(obj, {"output_tokens"}, &r->out_tokens);
    get_int(obj, {"input_cached_tokens"}, &r->cached_tokens);
    get_text(obj, {"model"}, &r->model);
    get_text(obj, {"project_id"}, &r->tenant);
    const json* t = at(obj, {"_bucket_start"});
    if (!t || !json_time(*t, &r->ts_ms)) missing_time(o, r);
    r->status = "ok";
    int64_t n = 0;
    if (get_int(obj, {"num_model_requests"}, &n))
      set_attr(r, "num_model_requests", std::to_string(n));
    std::string batch;
    if (get_text(obj, {"batch"}, &batch)) set_attr(r, "batch", batch);
    o.stats->note("OpenAI usage-API results read as one aggregated record each");
    return {};
  }
};

}  // namespace

std::unique_ptr<JsonConverter> make_openai_converter() {
  return std::make_unique<OpenAIConverter>();
}

}  // namespace tollgate::dryrun
