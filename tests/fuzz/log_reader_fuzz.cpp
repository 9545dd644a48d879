// libFuzzer target for the dry-run's log readers: the first byte picks the format (or detection),
// the rest is the log text. Every reader must skip and count what it cannot read, never crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tools/dryrun/reader.h"

using namespace tollgate::dryrun;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const LogFormat kFormats[] = {LogFormat::Auto,   LogFormat::Canonical, LogFormat::Csv,
                                       LogFormat::Otel,   LogFormat::Litellm,   LogFormat::Mooncake,
                                       LogFormat::OpenAI, LogFormat::Anthropic, LogFormat::Bedrock};
  const LogFormat format = kFormats[data[0] % (sizeof(kFormats) / sizeof(kFormats[0]))];
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  AttrKeys keys;
  ReadStats stats;
  ReaderOptions options{&keys, &stats, 0, "fuzz.log", 0};
  std::string error;
  auto reader = open_log_text(std::move(text), format, options, &error);
  if (!reader) return 0;
  LogRecord rec;
  uint64_t records = 0;
  while (reader->next(&rec)) ++records;
  // Every non-empty line is either a record or counted as malformed (nothing silently dropped).
  if (records != stats.records) __builtin_trap();
  return 0;
}
