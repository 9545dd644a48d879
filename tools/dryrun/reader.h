// Log readers: each format turns its lines into LogRecords. Malformed lines are skipped, counted
// and the first ones kept with their line numbers; lossy conversions are counted as notes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tools/dryrun/input.h"
#include "tools/dryrun/record.h"

namespace tollgate::dryrun {

enum class LogFormat { Auto, Canonical, Csv, Otel, Litellm, Mooncake, OpenAI, Anthropic, Bedrock };

const char* to_string(LogFormat f);
// "canonical", "jsonl", "csv", "otel", "litellm", "mooncake", "openai", "anthropic", "bedrock".
bool parse_log_format(std::string_view name, LogFormat* out);

struct ReadIssue {
  std::string file;
  uint64_t line = 0;
  std::string message;
};

struct ReadStats {
  static constexpr size_t kKeepIssues = 10;
  uint64_t lines = 0;      // non-empty lines (or documents) seen
  uint64_t records = 0;    // records produced
  uint64_t malformed = 0;  // lines skipped as malformed
  std::vector<ReadIssue> first_malformed;
  // Lossy or defaulted conversions ("records without a timestamp (replayed at t=0)": count).
  std::map<std::string, uint64_t> notes;

  void bad(const std::string& file, uint64_t line, std::string message);
  void note(const std::string& what, uint64_t n = 1) { notes[what] += n; }
};

struct ReaderOptions {
  AttrKeys* keys = nullptr;
  ReadStats* stats = nullptr;
  uint32_t file_index = 0;
  std::string file_name;
  // Added to relative timestamps (Mooncake's ms-from-start), ms since the epoch.
  int64_t start_ms = 0;
};

class LogReader {
 public:
  virtual ~LogReader() = default;
  // Fills *rec (cleared first) with the next record; false at the end of the input.
  virtual bool next(LogRecord* rec) = 0;
  virtual LogFormat format() const = 0;
  // Attribute names the source declares up front (a CSV header); empty when it has no header.
  virtual std::vector<std::string> declared_fields() const { return {}; }
  // Progress: compressed bytes read and total (0 when unknown).
  virtual uint64_t bytes_read() const = 0;
  virtual uint64_t bytes_total() const = 0;
  // Error from the byte stream (corrupt gzip/zstd), reported once at the end.
  virtual std::string stream_error() const = 0;
};

// Opens `path` in `format` (Auto: detected from the first line). Null with *error on failure.
std::unique_ptr<LogReader> open_log(const std::string& path, LogFormat format,
                                    const ReaderOptions& options, std::string* error);
// Same over an in-memory text (tests).
std::unique_ptr<LogReader> open_log_text(std::string text, LogFormat format,
                                         const ReaderOptions& options, std::string* error);

// Format detection from the first non-empty line (and the file name for CSV).
LogFormat detect_format(std::string_view first_line, std::string_view path);

// Per-format constructors (reader_*.cpp).
std::unique_ptr<LogReader> make_canonical_reader(std::unique_ptr<LineReader> in,
                                                 const ReaderOptions& o);
std::unique_ptr<LogReader> make_csv_reader(std::unique_ptr<LineReader> in, const ReaderOptions& o);
std::unique_ptr<LogReader> make_json_reader(std::unique_ptr<LineReader> in, LogFormat format,
                                            const ReaderOptions& o);

// Normalises a logged status ("success", "200", "429", "failure", "rate_limit_error", ...) to
// "ok" or an error kind: throttled, server, timeout, context_overflow, parse, error.
std::string normalize_status(std::string_view s);

}  // namespace tollgate::dryrun
