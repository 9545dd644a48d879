// Converters from one parsed JSON record (nlohmann) of a log format to a LogRecord. The small
// formats (OTel, LiteLLM, Mooncake, OpenAI, Anthropic, Bedrock) go through these: correctness
// over speed. reader_json.cpp feeds them lines, arrays and whole documents.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tools/dryrun/reader.h"

namespace tollgate::dryrun {

using nlohmann::json;

enum class Conv { Record, Skip, Bad };

struct ConvResult {
  Conv kind = Conv::Record;
  std::string why;  // for Skip (counted as a note) and Bad (a malformed line)
};

class JsonConverter {
 public:
  virtual ~JsonConverter() = default;
  // Some containers hold many records (OTLP resourceSpans, OpenAI usage pages): appends them to
  // *out and returns true; false when `doc` is itself one record.
  virtual bool expand(const json& doc, std::vector<json>* out) { return false; }
  virtual ConvResult convert(const json& obj, LogRecord* r) = 0;
  // A record still pending at the end of input (Anthropic stream events); false when none.
  virtual bool flush(LogRecord* r) { return false; }

  ReaderOptions o;
};

std::unique_ptr<JsonConverter> make_otel_converter();
std::unique_ptr<JsonConverter> make_litellm_converter();
std::unique_ptr<JsonConverter> make_mooncake_converter();
std::unique_ptr<JsonConverter> make_openai_converter();
std::unique_ptr<JsonConverter> make_anthropic_converter();
std::unique_ptr<JsonConverter> make_bedrock_converter();

// Helpers shared by the converters.
const json* at(const json& obj, std::initializer_list<const char*> path);
bool get_int(const json& obj, std::initializer_list<const char*> path, int64_t* out);
bool get_text(const json& obj, std::initializer_list<const char*> path, std::string* out);
bool get_text(const json& obj, std::initializer_list<const char*> path, TextField* out);
// A timestamp value: RFC 3339 / naive text, or an epoch number (unit by magnitude).
bool json_time(const json& v, int64_t* ms);
// Scalar JSON to attribute text (strings unquoted); false for null, objects, arrays.
bool scalar_text(const json& v, std::string* out);
// Copies every scalar member of `obj` into attributes, keys prefixed with `prefix`.
void copy_scalars(const json& obj, const std::string& prefix, const ReaderOptions& o, LogRecord* r);
// A record with no usable timestamp replays at start_ms and is counted as a note.
void missing_time(const ReaderOptions& o, LogRecord* r);

}  // namespace tollgate::dryrun
