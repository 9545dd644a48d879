// Strings -> dense ids (0, 1, 2, ... in first-seen order), with the names by id: the replay's
// tenant, task and label breakdowns, and the budget keys of the simulated ledgers. Lookups do not
// allocate. A repeat of the previous string is answered by comparing it in place, without
// hashing: a record's budget views and charges ask for the same key several times in a row.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/dryrun/bytes.h"
#include "tools/dryrun/str_map.h"

namespace tollgate::dryrun {

class Interner {
 public:
  __attribute__((always_inline)) uint32_t id(std::string_view s) {
    if (last_ != UINT32_MAX) {
      const std::string& last = names_[last_];
      if (s.size() == last.size() && bytes_equal(s.data(), last.data(), s.size())) return last_;
    }
    return lookup(s);
  }
  size_t size() const { return names_.size(); }
  const std::vector<std::string>& names() const { return names_; }

 private:
  uint32_t lookup(std::string_view s);

  StrMap<uint32_t> ids_;
  std::vector<std::string> names_;
  uint32_t last_ = UINT32_MAX;
};

}  // namespace tollgate::dryrun
