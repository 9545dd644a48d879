// Dry-run throughput: canonical JSONL records per second for a two-policy replay
// (policies/gateway.pol vs gateway_v2.pol, JIT and interpreter; default and 16-record reorder
// windows) on a generated log, and the reader alone.
// The log is generated once into $TMPDIR (default 1M records; DRYRUN_BENCH_RECORDS to change).
// Run: build/dryrun_bench --benchmark_min_time=1   (figures: docs/performance.md "Dry-run replay")
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "tollgate/tollgate.hpp"
#include "tools/dryrun/reader.h"
#include "tools/dryrun/replay.h"

using namespace tollgate;
using namespace tollgate::dryrun;

namespace {

const std::string kSrc = TOLLGATE_SOURCE_DIR;

size_t record_count() {
  const char* e = std::getenv("DRYRUN_BENCH_RECORDS");
  return e ? std::strtoull(e, nullptr, 10) : 1000000;
}

// A deterministic gateway-like log: 200 tenants, 8 tasks, retries on ~2% of requests,
// timestamps 50 ms apart (one month of traffic per 52k records... ~14 h per 1M).
std::string generate_log() {
  size_t n = record_count();
  std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                     "/tollgate_dryrun_bench_" + std::to_string(n) + ".jsonl";
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    std::fclose(f);
    return path;
  }
  std::string tmp = path + ".tmp" + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  static const char* kTasks[] = {"classify", "extract", "tag",    "summarize",
                                 "qa",       "chat",    "report", "analysis"};
  static const char* kTiers[] = {"free", "pro", "pro", "enterprise"};
  static const char* kPrio[] = {"low", "normal", "normal", "normal", "high", "critical"};
  static const char* kModels[] = {"gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet-20241022"};
  uint64_t s = 0x9E3779B97F4A7C15ULL;
  auto rnd = [&s]() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  };
  int64_t ts = 1700000000000LL;
  size_t written = 0, req = 0;
  while (written < n) {
    ts += 50;
    uint64_t r = rnd();
    int tenant = static_cast<int>(r % 200);
    const char* task = kTasks[(r >> 8) % 8];
    int64_t in = 200 + static_cast<int64_t>((r >> 16) % 12000);
    int64_t out = 10 + static_cast<int64_t>((r >> 32) % 900);
    int attempts = (r >> 48) % 50 == 0 ? 2 : 1;
    ++req;
    for (int a = 0; a < attempts && written < n; ++a, ++written) {
      bool last = a == attempts - 1;
      std::fprintf(f,
                   "{\"ts\":%lld,\"request_id\":\"r%zu\",\"attempt\":%d,\"tenant\":\"%st-%d\","
                   "\"model\":\"%s\",\"in_tokens\":%lld,\"out_tokens\":%lld,\"cached_tokens\":0,"
                   "\"status\":\"%s\",\"attrs\":{\"task\":\"%s\",\"tier\":\"%s\",\"priority\":"
                   "\"%s\",\"latency\":\"%s\",\"history_tokens\":%lld,\"rag_tokens\":%lld}}\n",
                   static_cast<long long>(ts + a * 300), req, a, tenant % 17 == 0 ? "trial-" : "",
                   tenant, kModels[(r >> 40) % 3], static_cast<long long>(in),
                   static_cast<long long>(last ? out : 0), last ? "ok" : "throttled", task,
                   kTiers[tenant % 4], kPrio[(r >> 24) % 6],
                   (r >> 56) % 4 == 0 ? "async" : "realtime", static_cast<long long>(in / 3),
                   static_cast<long long>(in / 5));
    }
  }
  std::fclose(f);
  std::rename(tmp.c_str(), path.c_str());
  return path;
}

void BM_ReadCanonical(benchmark::State& state) {
  std::string path = generate_log();
  uint64_t records = 0;
  for (auto _ : state) {
    AttrKeys keys;
    ReadStats stats;
    ReaderOptions o{&keys, &stats, 0, path, 0};
    std::string err;
    auto r = open_log(path, LogFormat::Canonical, o, &err);
    LogRecord rec;
    while (r->next(&rec)) ++records;
    benchmark::DoNotOptimize(records);
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReadCanonical)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ReplayTwoPolicies(benchmark::State& state) {
  std::string path = generate_log();
  std::string err;
  std::shared_ptr<PriceTable> prices = PriceTable::load(kSrc + "/examples/data/prices.json", &err);
  EngineOptions eo;
  eo.prices = prices;
  eo.backend = state.range(0) ? Backend::Jit : Backend::Interpreter;
  eo.wait_for_jit = true;
  Engine engine(eo);
  CompileResult base = engine.compile_file(kSrc + "/policies/gateway.pol");
  CompileResult head = engine.compile_file(kSrc + "/policies/gateway_v2.pol");
  if (!base.ok() || !head.ok()) {
    state.SkipWithError("policies do not compile");
    return;
  }
  SideSpec b{"gateway.pol", base.policy}, h{"gateway_v2.pol", head.policy};
  uint64_t records = 0;
  for (auto _ : state) {
    ReplayOptions ro;
    ro.logs = {path};
    ro.format = LogFormat::Canonical;
    if (state.range(1) > 0) ro.reorder_window = static_cast<size_t>(state.range(1));
    ReplayData data;
    if (!run_replay(b, h, prices.get(), ro, &data, &err)) {
      state.SkipWithError(err.c_str());
      return;
    }
    records += data.records;
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
  state.SetLabel(b.policy->jitted() ? "jit" : "interpreter");
}
// Args: JIT (1) or interpreter (0); reorder window in records (0 = the default, 10,000). The
// 16-record window shows what the reorder buffer itself costs on in-order input.
BENCHMARK(BM_ReplayTwoPolicies)
    ->ArgNames({"jit", "window"})
    ->Args({1, 0})
    ->Args({1, 16})
    ->Args({0, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
