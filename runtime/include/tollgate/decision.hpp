// The result of one policy decision. A fixed-size value: deciding never allocates. Strings in it
// (deny reason, tags) point into the Policy or into the Decision itself, so a Decision must not
// outlive the Policy that produced it.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>

namespace tollgate {

enum class CacheMode : uint8_t { Off, Prompt, Response };

// The decision fields that rules set, used to index Decision::rule.
enum class Field : uint8_t { Route, MaxOut, MaxIn, Retry, Rag, Cache };
constexpr int kFieldCount = 6;

// Names as they appear in policies, JSON records and reports.
inline const char* to_string(CacheMode m) {
  switch (m) {
    case CacheMode::Off:
      return "off";
    case CacheMode::Prompt:
      return "prompt";
    case CacheMode::Response:
      return "response";
  }
  return "off";
}
inline const char* to_string(Field f) {
  switch (f) {
    case Field::Route:
      return "route";
    case Field::MaxOut:
      return "max_out";
    case Field::MaxIn:
      return "max_in";
    case Field::Retry:
      return "retry";
    case Field::Rag:
      return "rag";
    case Field::Cache:
      return "cache";
  }
  return "route";
}

// A cap that no firing rule set.
constexpr int64_t kNoCap = std::numeric_limits<int64_t>::max();

struct Decision {
  static constexpr int kMaxTags = 16;
  static constexpr int kTagBytes = 480;

  bool denied = false;
  int32_t route = -1;            // route index (Policy::route_info), -1 when denied
  const char* deny_reason = "";  // NUL-terminated, owned by the Policy
  int64_t max_out = kNoCap;
  int64_t max_in = kNoCap;
  bool retry = false;
  int64_t backoff_ms = 0;
  bool rag = false;
  int64_t top_k = 0;
  CacheMode cache = CacheMode::Off;

  // Which rule (index into Policy::rule_info, file order) set each field; -1 = none did.
  int32_t rule[kFieldCount] = {-1, -1, -1, -1, -1, -1};

  // Evaluation errors (overflow, division by zero, unset input, ...) and the first rule that hit
  // one.
  uint32_t errors = 0;
  int32_t first_error_rule = -1;

  // Tags accumulate over all firing rules, stored inline: tag i is
  // tag_buf[tag_start(i) .. tag_end[i]). Tags that do not fit are counted in tags_dropped.
  // tag_end and tag_buf are written before they are read (only the first tag_count count), so a
  // Decision is not zero-filled: constructing one per call costs a few stores, not 512 bytes.
  uint8_t tag_count = 0;
  uint16_t tags_dropped = 0;
  uint16_t tag_end[kMaxTags];
  char tag_buf[kTagBytes];

  int32_t rule_for(Field f) const { return rule[static_cast<int>(f)]; }
  std::string_view tag(int i) const {
    uint16_t start = i == 0 ? 0 : tag_end[i - 1];
    return std::string_view(tag_buf + start, tag_end[i] - start);
  }
  bool has_tag(std::string_view t) const {
    for (int i = 0; i < tag_count; ++i)
      if (tag(i) == t) return true;
    return false;
  }
  // Appends a tag; returns false (and counts it) when the inline storage is full.
  bool add_tag(std::string_view t) {
    uint16_t start = tag_count == 0 ? 0 : tag_end[tag_count - 1];
    if (tag_count >= kMaxTags || start + t.size() > static_cast<size_t>(kTagBytes)) {
      ++tags_dropped;
      return false;
    }
    if (!t.empty()) std::memcpy(tag_buf + start, t.data(), t.size());
    tag_end[tag_count++] = static_cast<uint16_t>(start + t.size());
    return true;
  }
  // Resets to the state before any rule fired, without touching the tag bytes.
  void reset() {
    denied = false;
    route = -1;
    deny_reason = "";
    max_out = max_in = kNoCap;
    retry = false;
    backoff_ms = 0;
    rag = false;
    top_k = 0;
    cache = CacheMode::Off;
    for (auto& r : rule) r = -1;
    errors = 0;
    first_error_rule = -1;
    tag_count = 0;
    tags_dropped = 0;
  }
};

}  // namespace tollgate
