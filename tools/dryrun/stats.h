// What a replay measures, per side (base, head) and across them: the data every report format
// renders. Memory is bounded by the number of distinct routes, tenants, tasks, days and minutes,
// never by the number of records.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "tools/dryrun/histogram.h"
#include "tools/dryrun/money.h"
#include "tools/dryrun/pricing.h"
#include "tools/dryrun/reader.h"

namespace tollgate::dryrun {

struct Bucket {
  Pico spend = 0;
  uint64_t requests = 0;  // first attempts seen
  uint64_t calls = 0;     // attempts made (billed)
  uint64_t denied = 0;
  int64_t in_tokens = 0, out_tokens = 0;
};

struct SideStats {
  std::string role;    // "base" / "head"
  std::string source;  // the .pol path, REV:PATH, or "actual"
  std::string policy;  // policy name ("" for actual)
  bool actual = false;

  Pico spend = 0;
  uint64_t requests = 0;                 // logical requests: records with attempt 0
  uint64_t calls = 0;                    // attempts made (each billed)
  uint64_t denied = 0;                   // first attempts the policy denied (cost nothing)
  uint64_t retries = 0;                  // attempts >= 1 made
  uint64_t retries_dropped = 0;          // logged attempts >= 1 this side would not make
  Pico retries_dropped_logged_cost = 0;  // what those cost as logged (priced as actual)
  uint64_t successful = 0;               // calls whose logged status is ok
  uint64_t eval_errors = 0;              // decisions that counted evaluation errors
  uint64_t cache_prompt_calls = 0;
  int64_t in_tokens = 0, out_tokens = 0, cached_tokens = 0;
  int64_t rag_tokens_removed = 0;
  Histogram in_hist, out_hist;  // billed tokens per call made

  std::vector<RoutePrice> routes;  // index = route id (policy routes, or logged models)
  std::vector<Bucket> by_route;
  std::vector<Bucket> by_tenant;                // index = ReplayData::tenants id
  std::vector<Bucket> by_task;                  // index = ReplayData::tasks id
  std::map<int64_t, Bucket> by_day;             // UTC day number
  std::unordered_map<int64_t, Pico> by_minute;  // spend per minute (charts)
  std::map<std::string, uint64_t> deny_reasons;

  Bucket& route_bucket(int r) {
    if (static_cast<size_t>(r) >= by_route.size()) by_route.resize(r + 1);
    return by_route[r];
  }
};

struct ChangeExample {
  std::string where;  // "file:line"
  std::string request_id, tenant, task;
  int64_t in_tokens = 0, out_tokens = 0;
  Pico base_cost = 0, head_cost = 0;
  std::string base_rule, head_rule;  // "line 41: if task in [...] route cheap max_out 64"
};

struct ChangeKind {
  std::string field;  // route, deny, allow, max_out, max_in, retry, rag, cache
  std::string from, to;
  uint64_t count = 0;
  Pico base_cost = 0, head_cost = 0;
  std::vector<ChangeExample> examples;
};

struct ReplayData {
  SideStats base, head;
  std::vector<std::string> tenants, tasks;  // names by id
  std::vector<std::string> logs;            // "path (format)"
  ReadStats read;
  uint64_t records = 0;       // records replayed
  uint64_t late_records = 0;  // arrived later than the reorder window allowed
  uint64_t reorder_window = 0;
  uint64_t changed = 0;  // records whose decision differs between base and head
  std::vector<ChangeKind> changes;
  uint64_t other_changes = 0;                // beyond the tracked kinds
  std::map<std::string, uint64_t> warnings;  // input mapping problems, unpriced calls, ...
  std::vector<std::string> assumptions;      // the spend model, as printed in reports
  int64_t first_ts = 0, last_ts = 0;
  int64_t cache_ttl_ms = 0;
  double seconds = 0;  // wall time of the replay
};

}  // namespace tollgate::dryrun
