// One logged LLM call attempt, normalised from any log format. Records are reused (their strings
// and vectors keep capacity), so reading a log does not allocate per line in steady state.
#pragma once

#include <cstdint>
#include <optional>
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

  // Inline compare: asked several times per replayed record.
  bool ok() const {
    return status.empty() || (status.size() == 2 && status[0] == 'o' && status[1] == 'k');
  }

  // Attributes (task, tier, rag_tokens, ...): interned key, value text (strings unquoted,
  // numbers and booleans as written). Values live back to back in one buffer, so a record is a
  // few contiguous blocks however many attributes it has (the replay holds thousands of them).
  size_t attr_count() const { return attrs_.size(); }
  uint32_t attr_key(size_t i) const { return attrs_[i].key; }
  std::string_view attr_value(size_t i) const {
    return std::string_view(attr_text_.data() + attrs_[i].off, attrs_[i].len);
  }
  // The value of `key`, or nullopt. O(1): a replay reads several attributes per record per side.
  std::optional<std::string_view> attr(uint32_t key) const {
    if (key >= attr_pos_.size() || attr_pos_[key] == 0) return std::nullopt;
    return attr_value(attr_pos_[key] - 1);
  }

  void clear();
  // Sets `key` (replacing its value when present).
  void set_attr(uint32_t key, std::string_view value);
  // Appends without looking for an existing key (a reader that knows keys are distinct; were a
  // key repeated, the first value would win).
  void add_attr(uint32_t key, std::string_view value) {
    attrs_.push_back(AttrRef{key, static_cast<uint32_t>(attr_text_.size()),
                             static_cast<uint32_t>(value.size())});
    attr_text_.append(value.data(), value.size());
    if (key >= attr_pos_.size()) attr_pos_.resize(key + 1);
    if (attr_pos_[key] == 0) attr_pos_[key] = static_cast<uint32_t>(attrs_.size());
  }

 private:
  friend class PackedRecord;
  struct AttrRef {
    uint32_t key, off, len;  // value = attr_text_[off, off + len)
  };
  std::vector<AttrRef> attrs_;
  std::string attr_text_;
  // attr_pos_[key]: 1 + the index in attrs_ of the attribute with that key, 0 when absent.
  std::vector<uint32_t> attr_pos_;
};

}  // namespace tollgate::dryrun
