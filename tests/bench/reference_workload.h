// The reference decision workload of shared/bench/REFERENCE.md, shared by the benchmarks: the
// typed requests (1,000,000 from a fixed seed), the hand-written decision (the physical limit)
// and the checksum every implementation must reproduce.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tollgate/decision.hpp"

namespace reference_bench {

// ------------------------------------------------------------------------------------------------
// The workload: typed requests (REFERENCE.md distributions), generated once from a fixed seed.
// ------------------------------------------------------------------------------------------------

enum Tier : uint8_t { kFree, kPro, kEnterprise };
enum Task : uint8_t { kClassify, kExtract, kTag, kSummarize, kQa, kChat, kReport, kAnalysis };
enum Priority : uint8_t { kLow, kNormal, kHigh, kCritical };
enum Latency : uint8_t { kRealtime, kAsync };
enum Sensitivity : uint8_t { kPublic, kInternal, kRestricted };
enum Error : uint8_t { kNone, kThrottled, kServer, kTimeout, kParse, kContextOverflow };

struct Req {
  uint16_t tenant;  // index into Workload::tenants
  Tier tier;
  Task task;
  Priority priority;
  Latency latency;
  Sensitivity sensitivity;
  Error error;
  int64_t in_tokens;
  int64_t history_tokens;
  int64_t attempt;
  double spent_ratio;
};

struct Workload {
  std::vector<std::string> tenants;  // 1,000; 5% "trial-..."
  std::vector<Req> reqs;
};

inline const Workload& workload() {
  static const Workload w = [] {
    Workload w;
    std::mt19937_64 rng(20241123);
    for (int i = 0; i < 1000; ++i) {
      char buf[32];
      std::snprintf(buf, sizeof buf, i % 20 == 0 ? "trial-%04d" : "t-%04d", i);
      w.tenants.push_back(buf);
    }
    std::lognormal_distribution<double> tokens(7.0, 1.4);
    std::uniform_real_distribution<double> ratio(0.0, 1.3);
    w.reqs.resize(1000000);
    for (Req& r : w.reqs) {
      r.tenant = static_cast<uint16_t>(rng() % 1000);
      r.tier = static_cast<Tier>(rng() % 3);
      r.task = static_cast<Task>(rng() % 8);
      r.priority = static_cast<Priority>(rng() % 4);
      r.latency = static_cast<Latency>(rng() % 2);
      r.sensitivity = static_cast<Sensitivity>(rng() % 10 == 0 ? 2 : rng() % 2);
      r.error = static_cast<Error>(rng() % 3 == 0 ? 1 + rng() % 5 : 0);
      r.in_tokens = std::clamp<int64_t>(static_cast<int64_t>(tokens(rng)), 50, 60000);
      r.history_tokens = static_cast<int64_t>(rng() % 20001);
      r.attempt = static_cast<int64_t>(rng() % 4);
      r.spent_ratio = ratio(rng);
    }
    return w;
  }();
  return w;
}

// ------------------------------------------------------------------------------------------------
// The hand-written decision (the physical limit), REFERENCE.md rule for rule.
// ------------------------------------------------------------------------------------------------

struct Out {
  int route;  // local=0 .. long=5, deny=6
  int64_t max_out, max_in, backoff_ms, top_k;
  bool deny, retry, rag;
};

__attribute__((noinline)) inline Out hand_decide(const Req& r, const std::string& tenant) {
  Out o{};
  if (r.sensitivity == kRestricted) {
    o.route = 0, o.max_out = 512;
  } else if (r.spent_ratio >= 1.0 && r.priority != kCritical) {
    o.route = 6, o.deny = true, o.max_out = INT64_MAX;
  } else if (r.error == kContextOverflow) {
    o.route = 5, o.max_out = 1024;
  } else if (r.latency == kAsync && (r.task == kSummarize || r.task == kReport || r.task == kTag)) {
    o.route = 1, o.max_out = 1024;
  } else if (r.task == kClassify || r.task == kExtract || r.task == kTag) {
    o.route = 2, o.max_out = 64;
  } else if (r.task == kSummarize && r.in_tokens < 8000) {
    o.route = 3, o.max_out = 256;
  } else if (r.task == kAnalysis && (r.priority == kHigh || r.priority == kCritical)) {
    o.route = 4, o.max_out = 2048;
  } else if (r.spent_ratio >= 0.8) {
    o.route = 2, o.max_out = 512;
  } else if (r.tier == kFree) {
    o.route = 3, o.max_out = 256;
  } else {
    o.route = 4, o.max_out = 1024;
  }
  if (tenant.size() >= 6 && std::memcmp(tenant.data(), "trial-", 6) == 0 && o.max_out > 128)
    o.max_out = 128;
  o.max_in = INT64_MAX;
  if (r.tier == kFree) o.max_in = 2500;
  if (r.task == kChat && o.max_in > 6000) o.max_in = 6000;
  if ((r.error == kThrottled || r.error == kServer || r.error == kTimeout) && r.attempt < 2) {
    o.retry = true, o.backoff_ms = 200 << r.attempt;
  } else if (r.error == kParse && r.attempt < 1) {
    o.retry = true;
  }
  if (r.task == kQa && r.history_tokens < 2000) {
    o.rag = true, o.top_k = 4;
  } else if (r.task == kQa) {
    o.rag = true, o.top_k = 2;
  } else if (r.task == kChat && r.in_tokens > 4000) {
    o.rag = true, o.top_k = 1;
  }
  return o;
}

// REFERENCE.md checksum: route index*7 (deny = 6) + max_out + max_in + backoff_ms + top_k + deny
// + retry + rag. A denied request's max_out counts as 0 and "no cap" counts as 0.
inline uint64_t checksum_of(const Out& o) {
  uint64_t max_out = o.deny || o.max_out == INT64_MAX ? 0 : static_cast<uint64_t>(o.max_out);
  uint64_t max_in = o.max_in == INT64_MAX ? 0 : static_cast<uint64_t>(o.max_in);
  return static_cast<uint64_t>(o.route) * 7 + max_out + max_in +
         static_cast<uint64_t>(o.backoff_ms) + static_cast<uint64_t>(o.top_k) + o.deny + o.retry +
         o.rag;
}

inline uint64_t checksum_of(const tollgate::Decision& d) {
  Out o{};
  o.deny = d.denied;
  o.route = d.denied ? 6 : d.route;
  o.max_out = d.max_out;
  o.max_in = d.max_in;
  o.backoff_ms = d.backoff_ms;
  o.top_k = d.top_k;
  o.retry = d.retry;
  o.rag = d.rag;
  return checksum_of(o);
}


}  // namespace reference_bench
