// libFuzzer target for the dry-run's log readers: the first byte picks the format (or detection),
// the rest is the log text. Every reader must skip and count what it cannot read, never crash.
// Every text field and attribute value is read right after next() and again after the record
// went through a small reorder window (packed, two more records read, unpacked), as the replay
// does: a value borrowed from bytes that did not outlive it is a read ASan reports.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tools/dryrun/packed_record.h"
#include "tools/dryrun/reader.h"

using namespace tollgate::dryrun;

namespace {

size_t touch(const LogRecord& r) {
  size_t sum = 0;
  auto add = [&sum](std::string_view v) {
    for (char c : v) sum += static_cast<unsigned char>(c);
  };
  for (const TextField* f : {&r.request_id, &r.tenant, &r.model, &r.status}) add(*f);
  for (size_t i = 0; i < r.attr_count(); ++i) add(r.attr_value(i));
  return sum;
}

}  // namespace

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
  LogRecord rec, out;
  PackedRecord window[3];
  uint64_t records = 0;
  volatile size_t sink = 0;
  while (reader->next(&rec)) {
    sink = sink + touch(rec);
    window[records % 3].pack(rec);
    ++records;
    if (records >= 3) {
      window[records % 3].unpack(&out);  // the record read two calls ago
      sink = sink + touch(out);
    }
  }
  // Every non-empty line is either a record or counted as malformed (nothing silently dropped).
  if (records != stats.records) __builtin_trap();
  return 0;
}
