// LiteLLM spend logs: SpendLogsPayload rows (LiteLLM_SpendLogs table, GCS/PubSub export) and
// StandardLoggingPayload objects. `metadata` and `request_tags` may be JSON *strings* holding JSON.
#include "tools/dryrun/json_convert.h"

namespace tollgate::dryrun {

namespace {

// A member that is either a JSON value or a string containing JSON.
json maybe_embedded(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return nullptr;
  if (it->is_string()) {
    json inner = json::parse(it->get<std::string>(), nullptr, false);
    return inner.is_discarded() ? json(nullptr) : inner;
  }
  return *it;
}

class LitellmConverter : public JsonConverter {
 public:
  ConvResult convert(const json& row, LogRecord* r) override {
    json meta = maybe_embedded(row, "metadata");
    if (!get_int(row, {"prompt_tokens"}, &r->in_tokens) &&
        !get_int(meta, {"usage_object", "prompt_tokens"}, &r->in_tokens))
      return {Conv::Bad, "LiteLLM row without prompt_tokens"};
    if (!get_int(row, {"completion_tokens"}, &r->out_tokens))
      get_int(meta, {"usage_object", "completion_tokens"}, &r->out_tokens);
    // Cached input: usage_object.prompt_tokens_details.cached_tokens, or the Anthropic-style
    // cache_read_input_tokens LiteLLM keeps in additional_usage_values.
    if (!get_int(meta, {"usage_object", "prompt_tokens_details", "cached_tokens"},
                 &r->cached_tokens))
      get_int(meta, {"additional_usage_values", "cache_read_input_tokens"}, &r->cached_tokens);

    if (!get_text(row, {"request_id"}, &r->request_id)) get_text(row, {"id"}, &r->request_id);
    get_text(row, {"model"}, &r->model);
    int64_t ts;
    const json* start = at(row, {"startTime"});
    if (start && json_time(*start, &ts))
      r->ts_ms = ts;
    else
      missing_time(o, r);

    std::string status;
    r->status = get_text(row, {"status"}, &status) ? normalize_status(status) : "ok";
    if (r->status != "ok") {
      std::string code;
      if (get_text(meta, {"error_information", "error_code"}, &code) && !code.empty())
        r->status = normalize_status(code);
      else if (get_text(row, {"error_information", "error_code"}, &code) && !code.empty())
        r->status = normalize_status(code);
      if (r->status == "ok") r->status = "error";
    }
    const json* spend = at(row, {"spend"});
    if (!spend) spend = at(row, {"response_cost"});
    if (spend && spend->is_number()) r->logged_cost_usd = spend->get<double>();

    // Tenant: team, else the key alias, else the end user.
    for (auto path : {std::initializer_list<const char*>{"team_id"}, {"end_user"}, {"user"}}) {
      if (get_text(row, path, &r->tenant) && !r->tenant.empty()) break;
    }
    if (r->tenant.empty()) {
      for (const char* k : {"user_api_key_team_id", "user_api_key_team_alias", "user_api_key_alias",
                            "user_api_key_user_id"})
        if (get_text(meta, {k}, &r->tenant) && !r->tenant.empty()) break;
    }
    int64_t retries;
    if (get_int(meta, {"attempted_retries"}, &retries)) r->attempt = retries;

    for (const char* k : {"call_type", "custom_llm_provider", "model_group", "session_id",
                          "api_base", "end_user", "user", "team_id", "cache_hit"}) {
      std::string v;
      if (get_text(row, {k}, &v) && !v.empty()) r->set_attr(o.keys->intern(k), v);
    }
    // Caller-supplied metadata (task, tier, ...) is where policy inputs usually live.
    json slm = meta.is_object() && meta.contains("spend_logs_metadata")
                   ? meta["spend_logs_metadata"]
                   : json(nullptr);
    copy_scalars(slm, "", o, r);
    json req_md = meta.is_object() && meta.contains("requester_metadata")
                      ? meta["requester_metadata"]
                      : json(nullptr);
    copy_scalars(req_md, "", o, r);
    json tags = maybe_embedded(row, "request_tags");
    if (tags.is_array()) {
      std::string joined;
      for (const auto& t : tags)
        if (t.is_string()) joined += (joined.empty() ? "" : ",") + t.get<std::string>();
      if (!joined.empty()) r->set_attr(o.keys->intern("request_tags"), joined);
    }
    return {};
  }
};

}  // namespace

std::unique_ptr<JsonConverter> make_litellm_converter() {
  return std::make_unique<LitellmConverter>();
}

}  // namespace tollgate::dryrun
