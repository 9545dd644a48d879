// LogRecord and attribute-name interning.
#include "tools/dryrun/record.h"

namespace tollgate::dryrun {

uint32_t AttrKeys::intern(std::string_view name) {
  auto it = ids_.find(std::string(name));
  if (it != ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(names_.back(), id);
  return id;
}

int64_t AttrKeys::find(std::string_view name) const {
  auto it = ids_.find(std::string(name));
  return it == ids_.end() ? -1 : static_cast<int64_t>(it->second);
}

void LogRecord::clear() {
  ts_ms = 0;
  seq = 0;
  file = 0;
  line = 0;
  request_id.clear();
  tenant.clear();
  model.clear();
  status.clear();
  attempt = 0;
  in_tokens = out_tokens = cached_tokens = 0;
  hash_ids.clear();
  block_size = 512;
  logged_cost_usd = -1;
  unindex_attrs();
  attrs_.clear();
  attr_text_.clear();
}

void LogRecord::set_attr(uint32_t key, std::string_view value) {
  if (key < attr_pos_.size() && attr_pos_[key] != 0) {
    // The old bytes stay unused in the buffer until clear(): replacing is rare (duplicate keys).
    AttrRef& a = attrs_[attr_pos_[key] - 1];
    a.off = static_cast<uint32_t>(attr_text_.size());
    a.len = static_cast<uint32_t>(value.size());
    attr_text_.append(value.data(), value.size());
    return;
  }
  add_attr(key, value);
}

}  // namespace tollgate::dryrun
