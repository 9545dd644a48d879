// The replay driver: reads every log (streamed, decompressed), orders records by timestamp
// (a bounded reorder heap per file, then a merge across files), feeds each to both sides and
// aggregates what they did into ReplayData.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tollgate/tollgate.hpp"
#include "tools/dryrun/reader.h"
#include "tools/dryrun/side.h"
#include "tools/dryrun/stats.h"

namespace tollgate::dryrun {

struct SideSpec {
  std::string source;            // as given: path, REV:PATH or "actual"
  std::optional<Policy> policy;  // unset for "actual"
};

struct ReplayOptions {
  std::vector<std::string> logs;
  LogFormat format = LogFormat::Auto;
  SideOptions side;
  int64_t start_ms = 0;           // anchors relative timestamps (Mooncake)
  size_t reorder_window = 10000;  // records held per file to fix local disorder
  size_t max_change_kinds = 64;
  size_t examples_per_kind = 3;
  bool progress = false;  // records/s and percent on stderr (callers pass isatty(2))
};

// Runs the replay. False with *error on input errors (unreadable log, --map naming a field the
// log lacks, an unpriced model): the caller exits 1.
bool run_replay(const SideSpec& base, const SideSpec& head, const PriceTable* prices,
                const ReplayOptions& options, ReplayData* out, std::string* error);

// Replays in-memory logs (tests): each string is one log file's text.
bool run_replay_texts(const SideSpec& base, const SideSpec& head, const PriceTable* prices,
                      const std::vector<std::string>& texts, const ReplayOptions& options,
                      ReplayData* out, std::string* error);

}  // namespace tollgate::dryrun
