// Interner (see interner.h).
#include "tools/dryrun/interner.h"

namespace tollgate::dryrun {

uint32_t Interner::lookup(std::string_view s) {
  auto it = ids_.find(s);
  if (it != ids_.end()) return last_ = it->second;
  last_ = static_cast<uint32_t>(names_.size());
  names_.emplace_back(s);
  ids_.emplace(names_.back(), last_);
  return last_;
}

}  // namespace tollgate::dryrun
