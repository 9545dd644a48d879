// Anthropic records: Message objects, Message Batch result lines ({"custom_id", "result": {...}}),
// and streaming events (message_start opens a record, message_delta carries the final cumulative
// usage and closes it). Billable input = input_tokens + cache_creation_input_tokens +
// cache_read_input_tokens (input_tokens alone excludes cached and cache-written tokens).
#include "tools/dryrun/json_convert.h"

namespace tollgate::dryrun {

namespace {

class AnthropicConverter : public JsonConverter {
 public:
  ConvResult convert(const json& obj, LogRecord* r) override {
    std::string type;
    get_text(obj, {"type"}, &type);
    if (type == "message_start") {
      bool had = pending_;
      LogRecord prev;
      if (had) prev = pending_rec_;
      pending_rec_.clear();
      const json* msg = at(obj, {"message"});
      if (!msg) return {Conv::Bad, "message_start without message"};
      ConvResult res = message(*msg, &pending_rec_);
      if (res.kind != Conv::Record) return res;
      pending_ = true;
      if (had) {  // a stream that ended without message_delta
        *r = std::move(prev);
        return {};
      }
      return {Conv::Skip, ""};
    }
    if (type == "message_delta") {
      const json* usage = at(obj, {"usage"});
      if (!usage) return {Conv::Bad, "message_delta without usage"};
      if (pending_) {
        *r = std::move(pending_rec_);
        pending_ = false;
      } else {
        o.stats->note("Anthropic message_delta without message_start (no model/time)");
        missing_time(o, r);
        r->status = "ok";
      }
      apply_usage(*usage, r, /*delta=*/true);
      return {};
    }
    if (obj.contains("custom_id") && obj.contains("result")) {
      const json& res = obj["result"];
      std::string rtype;
      get_text(res, {"type"}, &rtype);
      if (rtype != "succeeded") {
        if (rtype == "canceled" || rtype == "expired")
          return {Conv::Skip, "Anthropic batch results canceled/expired (not billed) skipped"};
        missing_time(o, r);
        std::string etype = "error";
        get_text(res, {"error", "error", "type"}, &etype) ||
            get_text(res, {"error", "type"}, &etype);
        r->status = normalize_status(etype);
        if (r->status == "ok") r->status = "error";
        r->request_id = obj.value("custom_id", "");
        r->set_attr(o.keys->intern("batch"), "true");
        return {};
      }
      const json* msg = at(res, {"message"});
      if (!msg) return {Conv::Bad, "batch result without message"};
      ConvResult cr = message(*msg, r);
      r->request_id = obj.value("custom_id", r->request_id.str());
      r->set_attr(o.keys->intern("batch"), "true");
      return cr;
    }
    if (obj.contains("usage")) return message(obj, r);
    return {Conv::Skip, "Anthropic events without usage skipped"};
  }

  bool flush(LogRecord* r) override {
    if (!pending_) return false;
    *r = std::move(pending_rec_);
    pending_ = false;
    return true;
  }

 private:
  ConvResult message(const json& msg, LogRecord* r) {
    const json* usage = at(msg, {"usage"});
    if (!usage) return {Conv::Bad, "Anthropic message without usage"};
    get_text(msg, {"model"}, &r->model);
    get_text(msg, {"id"}, &r->request_id);
    // Messages carry no timestamp; a log wrapper may add one.
    const json* t = at(msg, {"timestamp"});
    if (!t) t = at(msg, {"created_at"});
    if (!t || !json_time(*t, &r->ts_ms)) missing_time(o, r);
    r->status = "ok";
    std::string stop;
    if (get_text(msg, {"stop_reason"}, &stop)) r->set_attr(o.keys->intern("stop_reason"), stop);
    if (const json* md = at(msg, {"metadata"})) copy_scalars(*md, "", o, r);
    apply_usage(*usage, r, false);
    return {};
  }

  void apply_usage(const json& u, LogRecord* r, bool delta) {
    int64_t in = 0, write = 0, read = 0, out = 0;
    bool has_in = get_int(u, {"input_tokens"}, &in);
    get_int(u, {"cache_creation_input_tokens"}, &write);
    get_int(u, {"cache_read_input_tokens"}, &read);
    if (!delta || has_in) {
      r->in_tokens = in + write + read;
      r->cached_tokens = read;
      if (write > 0) r->set_attr(o.keys->intern("cache_write_tokens"), std::to_string(write));
    }
    if (get_int(u, {"output_tokens"}, &out)) r->out_tokens = out;
    std::string tier;
    if (get_text(u, {"service_tier"}, &tier)) {
      r->set_attr(o.keys->intern("service_tier"), tier);
      if (tier == "batch") r->set_attr(o.keys->intern("batch"), "true");
    }
  }

  bool pending_ = false;
  LogRecord pending_rec_;
};

}  // namespace

std::unique_ptr<JsonConverter> make_anthropic_converter() {
  return std::make_unique<AnthropicConverter>();
}

}  // namespace tollgate::dryrun
