// Amazon Bedrock model invocation logs (schemaType "ModelInvocationLog"): input.inputTokenCount,
// input.cacheReadInputTokenCount, output.outputTokenCount, modelId, requestMetadata (caller tags,
// copied as attributes: tenant, task, ...). inputTokenCount is taken to exclude cache reads, as in
// Converse usage, so cached reads are added to the billed input.
#include "tools/dryrun/json_convert.h"

namespace tollgate::dryrun {

namespace {

class BedrockConverter : public JsonConverter {
 public:
  ConvResult convert(const json& obj, LogRecord* r) override {
    int64_t in = 0, read = 0, write = 0;
    if (!get_int(obj, {"input", "inputTokenCount"}, &in))
      return {Conv::Bad, "Bedrock record without input.inputTokenCount"};
    get_int(obj, {"input", "cacheReadInputTokenCount"}, &read);
    get_int(obj, {"input", "cacheWriteInputTokenCount"}, &write);
    r->in_tokens = in + read + write;
    r->cached_tokens = read;
    get_int(obj, {"output", "outputTokenCount"}, &r->out_tokens);
    get_text(obj, {"modelId"}, &r->model);
    get_text(obj, {"requestId"}, &r->request_id);
    const json* t = at(obj, {"timestamp"});
    if (!t || !json_time(*t, &r->ts_ms)) missing_time(o, r);
    std::string status, code;
    r->status = "ok";
    if (get_text(obj, {"errorCode"}, &code) && !code.empty()) {
      r->status = normalize_status(code);
      if (r->status == "ok") r->status = "error";
    } else if (get_text(obj, {"status"}, &status)) {
      r->status = normalize_status(status);
    }
    if (const json* md = at(obj, {"requestMetadata"})) {
      copy_scalars(*md, "", o, r);
      get_text(*md, {"tenant"}, &r->tenant);
    }
    for (const char* k : {"operation", "region", "accountId"}) {
      std::string v;
      if (get_text(obj, {k}, &v)) r->set_attr(o.keys->intern(k), v);
    }
    if (r->tenant.empty()) get_text(obj, {"identity", "arn"}, &r->tenant);
    return {};
  }
};

}  // namespace

std::unique_ptr<JsonConverter> make_bedrock_converter() {
  return std::make_unique<BedrockConverter>();
}

}  // namespace tollgate::dryrun
