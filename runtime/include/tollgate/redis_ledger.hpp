// Budgets shared by many gateway replicas: a LedgerBackend on Redis (hiredis). Each replica leases
// a slice of a budget's remaining amount from Redis (atomically, in a Lua script) and reserves
// against its local lease, so admit()/decide() never wait on the network; a background thread
// reports usage and renews or returns slices. See docs/replicas.md for the design and the knobs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tollgate/ledger_backend.hpp"

namespace tollgate {

struct RedisLedgerOptions {
  // redis://[:password@]host[:port][/db] or unix:///path/to/redis.sock
  std::string url = "redis://127.0.0.1:6379";
  // Prefix of every key this ledger writes; replicas sharing budgets must use the same prefix.
  std::string key_prefix = "tollgate:";
  // Names this process in lease records (e.g. the pod name). A random incarnation suffix is always
  // appended, so a restarted replica never inherits the records of its previous life.
  std::string replica_id;
  int connect_timeout_ms = 200;
  int command_timeout_ms = 200;

  // ---- lease knobs (docs/replicas.md "Knobs") ----
  // Size of a lease slice as a fraction of the budget's limit (at least one unit).
  double slice_fraction = 0.02;
  // Renew when the local lease drops below low_water * slice.
  double low_water = 0.25;
  // A lease Redis has not heard about for this long is freed for the other replicas; this
  // replica stops using it a safety margin earlier.
  int lease_ttl_ms = 10'000;
  // Background thread period: usage is reported and leases renewed at least this often.
  int flush_interval_ms = 50;
  // Spent of counters this replica only reads is refreshed this often.
  int refresh_interval_ms = 1'000;
  // A counter unused this long returns its unused lease to Redis.
  int idle_return_ms = 5'000;
  // A counter unused this long (and fully reported) is forgotten locally.
  int idle_forget_ms = 120'000;
  // When the local lease cannot cover a reservation (first use of a counter in this process, or a
  // burst), admit waits at most this long for the background thread to bring a lease. 0 = never
  // wait: such admissions follow the budget's fail mode at once.
  int admit_wait_ms = 100;
  // Redis keys expire this long after their window ends.
  int64_t expire_slack_ms = 3'600'000;
  // Ceiling of the reconnect backoff (it starts at 20 ms and doubles).
  int reconnect_max_backoff_ms = 1'000;
};

// Parses "redis://host:port/db?prefix=...&connect_timeout_ms=...&command_timeout_ms=...
// &slice=...&low_water=...&lease_ttl_ms=...&flush_interval_ms=...&admit_wait_ms=...&replica=..."
// into options (unknown parameters are an error).
bool parse_redis_ledger_url(std::string_view url, RedisLedgerOptions* out, std::string* error);

struct RedisLedgerStats {
  bool connected = false;        // the last exchange with Redis succeeded
  uint64_t syncs = 0;            // counter syncs Redis acknowledged
  uint64_t sync_errors = 0;      // syncs that failed (timeouts, connection loss, script errors)
  uint64_t reconnects = 0;       // successful (re)connections
  uint64_t leases_voided = 0;    // leases dropped locally because Redis could not renew them
  uint64_t unavailable = 0;      // reservations answered Unavailable (store down, lease spent)
  uint64_t waits = 0;            // reservations that waited for the background thread
  size_t counters = 0;           // counters known locally
  int64_t unreported_units = 0;  // usage recorded locally and not yet acknowledged by Redis
};

class RedisLedgerBackend : public LedgerBackend {
 public:
  // Reports all locally recorded usage to Redis now and waits until Redis acknowledged it (true)
  // or timeout_ms passed (false), retrying (reconnecting) meanwhile. Also called (bounded by
  // command_timeout_ms) on destruction, which returns unused leases too.
  virtual bool flush(int timeout_ms) = 0;
  // Returns every unused lease to Redis now (leases are re-acquired on the next reservation).
  virtual bool return_leases(int timeout_ms) = 0;
  virtual RedisLedgerStats stats() const = 0;
  // Replica id with its incarnation suffix, as written in lease records.
  virtual const std::string& replica_id() const = 0;
};

// Never blocks on Redis: the connection is made by the background thread, and until it succeeds
// reservations follow each budget's fail mode. Returns null (and sets *error) for bad options.
std::unique_ptr<RedisLedgerBackend> make_redis_backend(const RedisLedgerOptions& options,
                                                       std::string* error);

// Backend from a configuration string: "" or "memory" -> the in-process backend;
// redis://... or unix://... (with the parse_redis_ledger_url parameters) -> Redis.
// For engine configuration: Ledger ledger(make_ledger_backend(config_url, &error)).
std::unique_ptr<LedgerBackend> make_ledger_backend(std::string_view url, std::string* error);

}  // namespace tollgate
