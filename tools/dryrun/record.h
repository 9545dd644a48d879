// One logged LLM call attempt, normalised from any log format. Records are reused (their strings
// and vectors keep capacity), so reading a log does not allocate per line in steady state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tollgate::dryrun {

// Attribute names are interned to small ids once; records carry (id, value text) pairs.
class AttrKeys {
 public:
  uint32_t intern(std::string_view name);
  // -1 when the name was never seen.
  int64_t find(std::string_view name) const;
  const std::string& name(uint32_t id) const { return names_[id]; }
  size_t size() const { return names_.size(); }

 private:
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<std::string> names_;
};

struct Attr {
  uint32_t key = 0;
  std::string value;  // text: strings unquoted, numbers and booleans as written
};

struct LogRecord {
  int64_t ts_ms = 0;  // ms since the Unix epoch (UTC)
  uint64_t seq = 0;   // arrival order across all inputs (ties in ts keep it)
  uint32_t file = 0;  // index of the --log file
  uint64_t line = 0;  // 1-based line (record number in whole-document formats)
  std::string request_id;
  std::string tenant;
  std::string model;
  std::string status;      // "ok" or an error kind ("throttled", "server", "timeout", "error", ...)
  int64_t attempt = 0;     // 0 = first call of the request
  int64_t in_tokens = 0;   // all prompt tokens, cached ones included
  int64_t out_tokens = 0;  // completion tokens, reasoning included
  int64_t cached_tokens = 0;       // the part of in_tokens read from a prompt cache (logged)
  std::vector<uint64_t> hash_ids;  // prefix-block hashes (Mooncake); empty when unknown
  int64_t block_size = 512;        // tokens per hash block
  double logged_cost_usd = -1;     // cost the source logged (LiteLLM spend), < 0 when none

  bool ok() const { return status.empty() || status == "ok"; }

  // Attributes (task, tier, rag_tokens, ...); n_attrs live entries, the rest is reusable storage.
  std::vector<Attr> attrs;
  size_t n_attrs = 0;

  void clear();
  void set_attr(uint32_t key, std::string_view value);
  // Appends without looking for an existing key (a reader that knows keys are distinct; were a
  // key repeated, the first value would win).
  void add_attr(uint32_t key, std::string_view value) {
    if (n_attrs == attrs.size()) attrs.emplace_back();
    attrs[n_attrs].key = key;
    attrs[n_attrs].value.assign(value.data(), value.size());
    ++n_attrs;
    if (key >= attr_pos_.size()) attr_pos_.resize(key + 1);
    if (attr_pos_[key] == 0) attr_pos_[key] = static_cast<uint32_t>(n_attrs);
  }
  // O(1): a replay reads several attributes per record for each side.
  const std::string* attr(uint32_t key) const {
    if (key >= attr_pos_.size() || attr_pos_[key] == 0) return nullptr;
    return &attrs[attr_pos_[key] - 1].value;
  }

 private:
  // attr_pos_[key]: 1 + the index in attrs of the live attribute with that key, 0 when absent.
  std::vector<uint32_t> attr_pos_;
};

}  // namespace tollgate::dryrun
