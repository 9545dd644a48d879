// The reader for the nlohmann-parsed formats: one JSON value per line (objects, or arrays of
// records), or the whole file as one pretty-printed document; each value goes to the format's
// converter.
#include <deque>

#include "tools/dryrun/json_convert.h"
#include "tools/dryrun/numeric.h"
#include "tools/dryrun/timeparse.h"

namespace tollgate::dryrun {

const json* at(const json& obj, std::initializer_list<const char*> path) {
  const json* cur = &obj;
  for (const char* k : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(k);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

bool get_int(const json& obj, std::initializer_list<const char*> path, int64_t* out) {
  const json* v = at(obj, path);
  if (!v) return false;
  if (v->is_number_integer()) {
    *out = v->get<int64_t>();
    return true;
  }
  if (v->is_number()) {
    return double_to_int64(v->get<double>(), out);
  }
  if (v->is_string()) {  // OTLP JSON encodes int64 as strings
    const std::string& s = v->get_ref<const std::string&>();
    char* end = nullptr;
    long long x = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0') return false;
    *out = x;
    return true;
  }
  return false;
}

bool get_text(const json& obj, std::initializer_list<const char*> path, std::string* out) {
  const json* v = at(obj, path);
  return v && scalar_text(*v, out);
}

bool get_text(const json& obj, std::initializer_list<const char*> path, TextField* out) {
  std::string text;
  if (!get_text(obj, path, &text)) return false;
  *out = text;
  return true;
}

bool scalar_text(const json& v, std::string* out) {
  if (v.is_string())
    *out = v.get<std::string>();
  else if (v.is_boolean())
    *out = v.get<bool>() ? "true" : "false";
  else if (v.is_number_integer())
    *out = std::to_string(v.get<int64_t>());
  else if (v.is_number())
    *out = v.dump();
  else
    return false;
  return true;
}

bool json_time(const json& v, int64_t* ms) {
  if (v.is_number()) {
    *ms = epoch_number_to_ms(v.get<double>());
    return true;
  }
  if (v.is_string()) return parse_any_time(v.get_ref<const std::string&>(), ms);
  return false;
}

void copy_scalars(const json& obj, const std::string& prefix, const ReaderOptions& o,
                  LogRecord* r) {
  if (!obj.is_object()) return;
  std::string text;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (scalar_text(*it, &text)) r->set_attr(o.keys->intern(prefix + it.key()), text);
  }
}

void missing_time(const ReaderOptions& o, LogRecord* r) {
  r->ts_ms = o.start_ms;
  o.stats->note("records without a usable timestamp (replayed at --start-time)");
}

namespace {

class JsonReader : public LogReader {
 public:
  JsonReader(std::unique_ptr<LineReader> in, LogFormat f, std::unique_ptr<JsonConverter> conv,
             const ReaderOptions& o)
      : in_(std::move(in)), format_(f), conv_(std::move(conv)), o_(o) {
    conv_->o = o;
  }

  LogFormat format() const override { return format_; }
  uint64_t bytes_read() const override { return in_->source().raw_offset(); }
  uint64_t bytes_total() const override { return in_->source().raw_size; }
  std::string stream_error() const override { return in_->source().error(); }

  bool next(LogRecord* rec) override {
    for (;;) {
      while (!queue_.empty()) {
        json v = std::move(queue_.front());
        queue_.pop_front();
        if (emit(v, rec)) return true;
      }
      if (done_) {
        rec->clear();
        if (conv_->flush(rec)) {
          finish(rec);
          return true;
        }
        return false;
      }
      std::string_view line;
      if (!in_->next(&line)) {
        done_ = true;
        continue;
      }
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      ++o_.stats->lines;
      line_ = in_->line_no();
      json v = json::parse(line.begin(), line.end(), nullptr, false);
      if (v.is_discarded()) {
        if (!seen_value_) {
          // Not one value per line: the whole file is one (pretty-printed) document.
          std::string doc(line);
          doc.push_back('\n');
          doc += in_->rest();
          v = json::parse(doc, nullptr, false);
          done_ = true;
          if (v.is_discarded()) {
            o_.stats->bad(o_.file_name, line_,
                          "not valid JSON (neither JSON lines nor one document)");
            continue;
          }
        } else {
          o_.stats->bad(o_.file_name, line_, "not valid JSON");
          continue;
        }
      }
      seen_value_ = true;
      enqueue(std::move(v));
    }
  }

 private:
  void enqueue(json v) {
    if (v.is_array()) {
      for (auto& e : v) enqueue(std::move(e));
      return;
    }
    std::vector<json> parts;
    if (conv_->expand(v, &parts)) {
      for (auto& p : parts) queue_.push_back(std::move(p));
    } else {
      queue_.push_back(std::move(v));
    }
  }

  bool emit(const json& v, LogRecord* rec) {
    rec->clear();
    if (!v.is_object()) {
      o_.stats->bad(o_.file_name, line_, "expected a JSON object");
      return false;
    }
    ConvResult res = conv_->convert(v, rec);
    if (res.kind == Conv::Bad) {
      o_.stats->bad(o_.file_name, line_, res.why);
      return false;
    }
    if (res.kind == Conv::Skip) {
      if (!res.why.empty()) o_.stats->note(res.why);
      return false;
    }
    finish(rec);
    return true;
  }

  void finish(LogRecord* rec) {
    if (rec->status.empty()) rec->status = "ok";
    if (rec->cached_tokens > rec->in_tokens) rec->cached_tokens = rec->in_tokens;
    rec->file = o_.file_index;
    rec->line = line_;
    ++o_.stats->records;
  }

  std::unique_ptr<LineReader> in_;
  LogFormat format_;
  std::unique_ptr<JsonConverter> conv_;
  ReaderOptions o_;
  std::deque<json> queue_;
  uint64_t line_ = 0;
  bool done_ = false;
  bool seen_value_ = false;
};

}  // namespace

std::unique_ptr<LogReader> make_json_reader(std::unique_ptr<LineReader> in, LogFormat format,
                                            const ReaderOptions& o) {
  std::unique_ptr<JsonConverter> conv;
  switch (format) {
    case LogFormat::Otel:
      conv = make_otel_converter();
      break;
    case LogFormat::Litellm:
      conv = make_litellm_converter();
      break;
    case LogFormat::Mooncake:
      conv = make_mooncake_converter();
      break;
    case LogFormat::OpenAI:
      conv = make_openai_converter();
      break;
    case LogFormat::Anthropic:
      conv = make_anthropic_converter();
      break;
    case LogFormat::Bedrock:
      conv = make_bedrock_converter();
      break;
    default:
      conv = make_openai_converter();
      break;
  }
  return std::make_unique<JsonReader>(std::move(in), format, std::move(conv), o);
}

}  // namespace tollgate::dryrun
