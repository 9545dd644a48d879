// One side of a dry-run: a compiled policy replayed with its own simulated ledger and prompt
// cache (PolicySide), or what the log says happened (ActualSide). Each logged attempt becomes
// an Outcome: made (and what it cost), denied, or dropped.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tollgate/tollgate.hpp"
#include "tools/dryrun/prefix_cache.h"
#include "tools/dryrun/record.h"
#include "tools/dryrun/sim_ledger.h"
#include "tools/dryrun/spend_model.h"
#include "tools/dryrun/stats.h"

namespace tollgate::dryrun {

// Where a policy input's value comes from, per record.
struct InputBinding {
  enum Kind {
    Unset,
    Const,
    Tenant,
    Model,
    RequestId,
    Status,
    InTokens,
    OutTokens,
    CachedTokens,
    Attempt,
    Ts,
    PrevError,
    Attr
  };
  Kind kind = Unset;
  int slot = -1;
  InputType type = InputType::Int;
  std::string name;            // input name
  std::string value;           // Const
  uint32_t attr = 0;           // Attr
  int64_t fallback_attr = -1;  // PrevError: an explicitly logged attrs.error wins
  // Enum members already matched by text (name, member index), filled as values are seen.
  mutable std::vector<std::pair<std::string, int>> enum_cache;
};

// What the replay knows about the request an attempt belongs to. decision_attempt and
// prev_error are the same for both sides (share_work_with relies on it).
struct AttemptContext {
  int64_t decision_attempt = 0;  // attempt input: k-1 for a logged retry k (the failed attempt)
  std::string_view prev_error;   // status of the previous attempt ("" for a first attempt)
  bool prev_made = true;         // this side made the previous attempt
  int32_t prev_route = -1;       // and on which route
};

struct Outcome {
  bool made = false;
  bool denied = false;   // a first attempt the policy denied
  bool dropped = false;  // a logged retry this side would not make
  int32_t route = -1;
  CallCost cost;
  const Decision* decision = nullptr;  // null for the actual side and dropped retries
};

struct SideOptions {
  std::map<std::string, std::string> set;  // --set NAME=VALUE
  std::map<std::string, std::string> map;  // --map NAME=FIELD
  int64_t cache_ttl_ms = 5 * 60 * 1000;
  bool allow_unpriced = false;
  uint32_t rag_attr = 0;    // attribute holding retrieved-context tokens
  uint32_t batch_attr = 0;  // attribute marking a logged batch call ("true")
};

class Side {
 public:
  virtual ~Side() = default;
  virtual void process(const LogRecord& rec, const AttemptContext& ctx, Outcome* out) = 0;
  SideStats& stats() { return stats_; }
  // A fatal problem found during replay (an unpriced logged model); empty when none.
  const std::string& fatal() const { return fatal_; }
  // Labels used to compare the two sides' routes: "cheap (claude-3-5-haiku-20241022)".
  std::string route_label(int32_t r) const;
  // "line 41: if task in [...] route cheap max_out 64" for the rule that set `f`, or "".
  virtual std::string rule_text(const Decision* d, Field f) const { return ""; }
  // Lets this side reuse per-record work of `earlier`, which processes each record first: its
  // budget-key table (the ledgers' counters stay separate) and, when both bind the same inputs
  // the same way (the usual policy diff), its decoding of the record's text into inputs.
  virtual void share_work_with(const Side& earlier) {}

 protected:
  SideStats stats_;
  std::string fatal_;
};

// Builds the policy side. Returns null and sets *error on unpriced routes (unless allowed) or
// bad --set/--map names.
std::unique_ptr<Side> make_policy_side(const Policy& policy, const PriceTable* prices,
                                       const SideOptions& opts, AttrKeys* keys,
                                       std::map<std::string, uint64_t>* warnings,
                                       std::string* error);
std::unique_ptr<Side> make_actual_side(const PriceTable* prices, const SideOptions& opts,
                                       std::map<std::string, uint64_t>* warnings);

// Field names a --map may name besides attributes.
bool is_builtin_field(const std::string& name);

}  // namespace tollgate::dryrun
