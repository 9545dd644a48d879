// libFuzzer target for the dry-run's replay: arbitrary log text (any format, a reorder window of
// 1-64 records picked by the first byte) replayed through two small policies that use every
// replay path (budgets of each unit, deny, retry, caps, RAG, prompt cache, batch), then rendered
// in every report format. Nothing may crash, and every record read must be replayed.
//
// Build: CC=clang-19 CXX=clang++-19 cmake -S . -B build-fuzz -G Ninja -DTOLLGATE_FUZZ=ON
//        ninja -C build-fuzz replay_fuzz
// Run:   build-fuzz/replay_fuzz -max_total_time=600 /tmp/replay_corpus \
//          tests/fuzz/corpus_replay_fuzz                              (see docs/fuzzing.md)
#include <cstddef>
#include <cstdint>
#include <string>

#include "tollgate/tollgate.hpp"
#include "tools/dryrun/replay.h"
#include "tools/dryrun/report.h"

using namespace tollgate;
using namespace tollgate::dryrun;

namespace {

const char* kHeader = R"(
input {
  tenant: string
  task: enum(classify, chat, qa, summarize) = chat
  tier: enum(free, pro) = pro
  in_tokens: int
  history_tokens: int = 0
  attempt: int = 0
  error: enum(none, throttled, server, timeout, parse, context_overflow) = none
}
routes {
  cheap = "model-cheap" in $0.15/M out $0.60/M
  strong = "model-strong" in $3/M out $15/M
  bulk = "model-strong" batch in $1.5/M out $7.5/M
}
budget monthly = 2 usd per tenant per month
budget tpm = 20k tokens per tenant per minute
budget daily = 50 requests per tier per day
)";

const char* kBase = R"(
if monthly.ratio >= 1.0 deny "monthly"
if task == classify route cheap max_out 64
default route strong max_out 1024
if error in [throttled, server] and attempt < 2 retry backoff 200ms
if task == qa rag top_k 2
if true cache prompt
)";

const char* kHead = R"(
if monthly.ratio >= 0.8 deny "monthly 80%"
if tpm.remaining < in_tokens deny "tpm"
if daily.remaining <= 0 deny "daily"
if task in [classify, summarize] route cheap max_out 32
if task == qa and history_tokens > 100 route bulk
default route strong max_out 512
if tier == free max_in 2000
if error == throttled and attempt < 1 retry backoff 100ms
if task == qa rag off
if task == chat cache prompt
)";

struct Sides {
  Engine engine;
  SideSpec base, head;
  Sides() : engine(options()) {
    base = make("policy base" + std::string(kHeader) + kBase, "base.pol");
    head = make("policy head" + std::string(kHeader) + kHead, "head.pol");
  }
  static EngineOptions options() {
    EngineOptions o;
    o.backend = Backend::Interpreter;  // the replay is under test here, not the evaluators
    return o;
  }
  SideSpec make(const std::string& src, const std::string& name) {
    CompileResult r = engine.compile(src, name);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.rendered.c_str());
      __builtin_trap();
    }
    return SideSpec{name, std::move(r.policy)};
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Sides* sides = new Sides();
  if (size == 0) return 0;
  static const LogFormat kFormats[] = {LogFormat::Auto, LogFormat::Canonical, LogFormat::Csv,
                                       LogFormat::Mooncake, LogFormat::Litellm};
  ReplayOptions o;
  o.format = kFormats[data[0] % (sizeof(kFormats) / sizeof(kFormats[0]))];
  o.reorder_window = 1 + (data[0] >> 2) % 64;
  o.start_ms = 1700000000000;
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  ReplayData d;
  std::string error;
  if (!run_replay_texts(sides->base, sides->head, nullptr, {text}, o, &d, &error)) return 0;
  if (d.records != d.read.records) __builtin_trap();  // every record read is replayed
  ReportOptions ro;
  Report report = build_report(d, ro);
  for (ReportFormat f :
       {ReportFormat::Text, ReportFormat::Markdown, ReportFormat::Json, ReportFormat::Html})
    if (render(report, f).empty()) __builtin_trap();
  return 0;
}
