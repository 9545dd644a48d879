// Open reservations of /v1/admit, by id, until /v1/record or /v1/release settles them. A
// reservation that is never settled expires after a TTL and returns its budget, so a client that
// crashed between admit and record leaks nothing. A settle for an id that is unknown or already
// expired is counted, never silently dropped (the endpoint answers 404).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "tollgate/tollgate.hpp"

namespace tollgate::serve {

struct AdmissionTableOptions {
  int64_t ttl_ms = 60'000;           // an unsettled reservation is released after this
  size_t max_open = 100'000;         // beyond: admit answers 503 instead of holding more memory
  size_t remember_expired = 65'536;  // expired ids remembered, to say "expired" not "unknown"
};

class AdmissionTable {
 public:
  explicit AdmissionTable(AdmissionTableOptions options) : options_(options) {}

  // Stores a pending admission; returns its id (32 hex digits), or "" when the table is full.
  std::string put(Admission admission, int64_t now_ms);

  enum class Lookup : uint8_t { Found, Unknown, Expired };
  // Removes and returns the admission with this id.
  Lookup take(const std::string& id, Admission* out);

  // Releases the reservations older than the TTL; returns how many.
  size_t expire(int64_t now_ms);

  size_t open() const;
  uint64_t expired_total() const { return expired_.load(); }
  uint64_t unknown_total() const { return unknown_.load(); }
  uint64_t full_total() const { return full_.load(); }

 private:
  struct Entry {
    Admission admission;
    int64_t deadline_ms;
  };
  std::string new_id();

  AdmissionTableOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> open_;
  std::deque<std::string> expired_order_;
  std::unordered_set<std::string> expired_ids_;
  uint64_t rng_state_[2] = {0, 0};
  std::atomic<uint64_t> expired_{0}, unknown_{0}, full_{0};
};

}  // namespace tollgate::serve
