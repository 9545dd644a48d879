// Reader factory, format detection, status normalisation and read statistics.
#include "tools/dryrun/reader.h"

#include <cctype>

namespace tollgate::dryrun {

const char* to_string(LogFormat f) {
  switch (f) {
    case LogFormat::Auto:
      return "auto";
    case LogFormat::Canonical:
      return "canonical";
    case LogFormat::Csv:
      return "csv";
    case LogFormat::Otel:
      return "otel";
    case LogFormat::Litellm:
      return "litellm";
    case LogFormat::Mooncake:
      return "mooncake";
    case LogFormat::OpenAI:
      return "openai";
    case LogFormat::Anthropic:
      return "anthropic";
    case LogFormat::Bedrock:
      return "bedrock";
  }
  return "?";
}

bool parse_log_format(std::string_view name, LogFormat* out) {
  static const std::pair<const char*, LogFormat> kNames[] = {
      {"auto", LogFormat::Auto},           {"canonical", LogFormat::Canonical},
      {"jsonl", LogFormat::Canonical},     {"csv", LogFormat::Csv},
      {"otel", LogFormat::Otel},           {"litellm", LogFormat::Litellm},
      {"mooncake", LogFormat::Mooncake},   {"openai", LogFormat::OpenAI},
      {"anthropic", LogFormat::Anthropic}, {"bedrock", LogFormat::Bedrock}};
  for (const auto& [n, f] : kNames) {
    if (name == n) {
      *out = f;
      return true;
    }
  }
  return false;
}

void ReadStats::bad(const std::string& file, uint64_t line, std::string message) {
  ++malformed;
  if (first_malformed.size() < kKeepIssues)
    first_malformed.push_back(ReadIssue{file, line, std::move(message)});
}

namespace {

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

LogFormat detect_format(std::string_view line, std::string_view path) {
  size_t i = 0;
  while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
  line.remove_prefix(i);
  if (line.empty()) return LogFormat::Canonical;
  if (line[0] != '{' && line[0] != '[') return LogFormat::Csv;
  // Key names are specific enough that a substring test on the first record decides.
  if (contains(line, "\"input_length\"") && contains(line, "\"timestamp\""))
    return LogFormat::Mooncake;
  if (contains(line, "\"in_tokens\"")) return LogFormat::Canonical;
  if (contains(line, "gen_ai.") || contains(line, "resourceSpans")) return LogFormat::Otel;
  if (contains(line, "ModelInvocationLog") || contains(line, "\"modelId\"") ||
      contains(line, "inputTokenCount"))
    return LogFormat::Bedrock;
  if (contains(line, "\"spend\"") || contains(line, "\"response_cost\"") ||
      contains(line, "\"call_type\""))
    return LogFormat::Litellm;
  if (contains(line, "message_start") || contains(line, "message_delta") ||
      contains(line, "cache_creation_input_tokens") || contains(line, "\"succeeded\""))
    return LogFormat::Anthropic;
  if (contains(line, "prompt_tokens") || contains(line, "\"custom_id\"") ||
      contains(line, "chat.completion") || contains(line, "\"object\""))
    return LogFormat::OpenAI;
  if (ends_with(path, ".csv") || ends_with(path, ".csv.gz") || ends_with(path, ".csv.zst"))
    return LogFormat::Csv;
  return LogFormat::Canonical;
}

namespace {

// Pretty-printed single-document files start with a line like "{": peek further for the keys.
std::string detection_text(LineReader* in) {
  std::string text;
  std::string_view line;
  uint64_t taken = 0;
  // Remember how far we read so the lines can be replayed: we re-open instead (cheap) when the
  // first line alone does not decide, by reading up to 64 lines into a copy.
  while (taken < 64 && in->next(&line)) {
    ++taken;
    text.append(line.data(), line.size());
    text.push_back('\n');
  }
  return text;
}

std::unique_ptr<LogReader> make_reader(std::unique_ptr<LineReader> in, LogFormat format,
                                       const ReaderOptions& options) {
  switch (format) {
    case LogFormat::Canonical:
      return make_canonical_reader(std::move(in), options);
    case LogFormat::Csv:
      return make_csv_reader(std::move(in), options);
    default:
      return make_json_reader(std::move(in), format, options);
  }
}

}  // namespace

std::unique_ptr<LogReader> open_log(const std::string& path, LogFormat format,
                                    const ReaderOptions& options, std::string* error) {
  auto src = open_source(path, error);
  if (!src) return nullptr;
  auto in = std::make_unique<LineReader>(std::move(src));
  if (format == LogFormat::Auto) {
    std::string_view first;
    bool got = false;
    while (in->next(&first)) {
      bool blank = true;
      for (char c : first) blank = blank && std::isspace(static_cast<unsigned char>(c));
      if (!blank) {
        got = true;
        break;
      }
    }
    if (!got) {
      format = LogFormat::Canonical;  // empty input: any reader yields nothing
    } else {
      std::string_view f = first;
      size_t i = 0;
      while (i < f.size() && std::isspace(static_cast<unsigned char>(f[i]))) ++i;
      f.remove_prefix(i);
      if (f == "{" || f == "[") {
        // A pretty-printed document: look at the first lines, then reopen from the start.
        std::string head(first);  // copy before reading on: `first` views the read buffer
        head += "\n";
        head += detection_text(in.get());
        std::string flat;
        for (char c : head)
          if (c != '\n') flat.push_back(c);
        format = detect_format(flat, path);
        auto again = open_source(path, error);
        if (!again) return nullptr;
        in = std::make_unique<LineReader>(std::move(again));
      } else {
        format = detect_format(first, path);
        in->unread();
      }
    }
  }
  return make_reader(std::move(in), format, options);
}

std::unique_ptr<LogReader> open_log_text(std::string text, LogFormat format,
                                         const ReaderOptions& options, std::string* error) {
  if (format == LogFormat::Auto) {
    size_t nl = text.find('\n');
    std::string_view first(text.data(), nl == std::string::npos ? text.size() : nl);
    std::string_view trimmed = first;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front())))
      trimmed.remove_prefix(1);
    if (trimmed == "{" || trimmed == "[") {
      std::string flat;
      for (char c : text.substr(0, 8192))
        if (c != '\n') flat.push_back(c);
      format = detect_format(flat, "");
    } else {
      format = detect_format(first, "");
    }
  }
  auto in = std::make_unique<LineReader>(memory_source(std::move(text)));
  return make_reader(std::move(in), format, options);
}

std::string normalize_status(std::string_view raw) {
  std::string s;
  for (char c : raw) s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (s.empty() || s == "ok" || s == "success" || s == "succeeded" || s == "completed" ||
      s == "stop" || s == "200" || s == "none")
    return "ok";
  if (s == "429" || contains(s, "rate") || contains(s, "throttl") || contains(s, "overloaded") ||
      s == "529")
    return "throttled";
  if (s == "408" || s == "504" || contains(s, "timeout") || contains(s, "timed out"))
    return "timeout";
  if (contains(s, "context") || contains(s, "too long") || contains(s, "overflow"))
    return "context_overflow";
  if (s == "parse" || contains(s, "parse") || contains(s, "json")) return "parse";
  if ((s.size() == 3 && s[0] == '5') || contains(s, "server") || contains(s, "internal") ||
      s == "api_error")
    return "server";
  if (s == "throttled" || s == "error") return s;
  if (s == "failure" || s == "failed" || s == "errored" || s == "fail") return "error";
  if (s.size() == 3 && s[0] == '2') return "ok";
  return "error";
}

}  // namespace tollgate::dryrun
