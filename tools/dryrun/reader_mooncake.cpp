// Mooncake (FAST'25) traces: {"timestamp": ms from the trace start, "input_length",
// "output_length", "hash_ids": [512-token prefix blocks]}. Timestamps are relative: --start-time
// anchors them. Other members become attributes.
#include "tools/dryrun/json_convert.h"

namespace tollgate::dryrun {

namespace {

class MooncakeConverter : public JsonConverter {
 public:
  ConvResult convert(const json& row, LogRecord* r) override {
    int64_t ts;
    if (!get_int(row, {"timestamp"}, &ts)) return {Conv::Bad, "missing timestamp"};
    if (!get_int(row, {"input_length"}, &r->in_tokens) || r->in_tokens < 0)
      return {Conv::Bad, "missing or bad input_length"};
    if (!get_int(row, {"output_length"}, &r->out_tokens) || r->out_tokens < 0)
      return {Conv::Bad, "missing or bad output_length"};
    r->ts_ms = o.start_ms + ts;
    if (const json* h = at(row, {"hash_ids"})) {
      if (!h->is_array()) return {Conv::Bad, "hash_ids is not an array"};
      for (const auto& e : *h) {
        if (!e.is_number_integer()) return {Conv::Bad, "hash_ids must hold integers"};
        r->hash_ids.push_back(e.get<uint64_t>());
      }
    }
    r->request_id = "L" + std::to_string(++row_);
    r->status = "ok";
    std::string text;
    for (auto it = row.begin(); it != row.end(); ++it) {
      const std::string& k = it.key();
      if (k == "timestamp" || k == "input_length" || k == "output_length" || k == "hash_ids")
        continue;
      if (scalar_text(*it, &text)) r->set_attr(o.keys->intern(k), text);
    }
    return {};
  }

 private:
  uint64_t row_ = 0;
};

}  // namespace

std::unique_ptr<JsonConverter> make_mooncake_converter() {
  return std::make_unique<MooncakeConverter>();
}

}  // namespace tollgate::dryrun
