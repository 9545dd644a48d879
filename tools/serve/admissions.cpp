// AdmissionTable (see admissions.h). Ids are 128 random bits from a xorshift128+ generator
// seeded from /dev/urandom: unguessable enough that one client cannot settle another's
// reservation by counting.
#include "tools/serve/admissions.h"

#include <cstdio>
#include <random>

namespace tollgate::serve {

std::string AdmissionTable::new_id() {
  if (rng_state_[0] == 0 && rng_state_[1] == 0) {
    std::random_device rd;
    rng_state_[0] = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ 0x9e3779b97f4a7c15ull;
    rng_state_[1] = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  auto next = [this] {
    uint64_t s1 = rng_state_[0];
    const uint64_t s0 = rng_state_[1];
    rng_state_[0] = s0;
    s1 ^= s1 << 23;
    rng_state_[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return rng_state_[1] + s0;
  };
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(next()),
                static_cast<unsigned long long>(next()));
  return buf;
}

std::string AdmissionTable::put(Admission admission, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (open_.size() >= options_.max_open) {
    full_.fetch_add(1);
    return "";  // `admission` releases its reservations as it goes out of scope
  }
  std::string id = new_id();
  open_.emplace(id, Entry{std::move(admission), now_ms + options_.ttl_ms});
  return id;
}

AdmissionTable::Lookup AdmissionTable::take(const std::string& id, Admission* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = open_.find(id);
  if (it == open_.end()) {
    unknown_.fetch_add(1);
    return expired_ids_.count(id) ? Lookup::Expired : Lookup::Unknown;
  }
  *out = std::move(it->second.admission);
  open_.erase(it);
  return Lookup::Found;
}

size_t AdmissionTable::expire(int64_t now_ms) {
  std::vector<Admission> released;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = open_.begin(); it != open_.end();) {
      if (it->second.deadline_ms > now_ms) {
        ++it;
        continue;
      }
      released.push_back(std::move(it->second.admission));
      expired_ids_.insert(it->first);
      expired_order_.push_back(it->first);
      if (expired_order_.size() > options_.remember_expired) {
        expired_ids_.erase(expired_order_.front());
        expired_order_.pop_front();
      }
      it = open_.erase(it);
    }
  }
  // Off the lock: releasing may talk to the ledger's backend.
  for (Admission& a : released)
    if (a.ledger()) a.ledger()->release(a);
  expired_.fetch_add(released.size());
  return released.size();
}

size_t AdmissionTable::open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_.size();
}

}  // namespace tollgate::serve
