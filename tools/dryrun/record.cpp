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
  attrs_.refs.clear();
  attrs_.own.clear();
}

void LogRecord::put_attr(uint32_t key, std::string_view value, bool borrow) {
  if (key >= attrs_.pos.size() || attrs_.pos[key] == 0) {
    borrow ? borrow_attr(key, value) : add_attr(key, value);
    return;
  }
  AttrRef& a = attrs_.refs[attrs_.pos[key] - 1];
  a.len = static_cast<uint32_t>(value.size());
  if (borrow) {
    a.ptr = value.data() ? value.data() : "";
    a.off = 0;
  } else {
    // The old bytes stay unused in the buffer until clear(): replacing is rare (duplicate keys).
    a.ptr = nullptr;
    a.off = static_cast<uint32_t>(attrs_.own.size());
    attrs_.own.append(value.data(), value.size());
  }
}

void LogRecord::Attrs::copy_from(const Attrs& o) {
  // Built aside: o's borrowed values may be views of this record's own bytes.
  std::string text;
  std::vector<AttrRef> r(o.refs.size());
  size_t bytes = 0;
  for (const AttrRef& a : o.refs) bytes += a.len;
  text.reserve(bytes);
  for (size_t i = 0; i < r.size(); ++i) {
    std::string_view v = o.value(i);
    r[i] = AttrRef{nullptr, o.refs[i].key, static_cast<uint32_t>(text.size()),
                   static_cast<uint32_t>(v.size())};
    text.append(v.data(), v.size());
  }
  refs = std::move(r);
  own = std::move(text);
  pos = o.pos;
}

}  // namespace tollgate::dryrun
