// The Redis LedgerBackend (internal declaration shared by redis_backend.cpp, the hot path, and
// redis_sync.cpp, the background thread that talks to Redis).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/src/lease_table.h"
#include "runtime/src/redis_connection.h"
#include "tollgate/redis_ledger.hpp"

namespace tollgate::redis {

std::unique_ptr<RedisLedgerBackend> make_redis_backend_impl(const RedisLedgerOptions& options,
                                                            std::string* error);

class Backend final : public RedisLedgerBackend {
 public:
  Backend(const RedisLedgerOptions& options, Endpoint endpoint);
  ~Backend() override;

  // LedgerBackend
  int64_t spent(const CounterId& id, int64_t window_start) const override;
  ReserveResult try_reserve(const CounterId& id, int64_t window_start, int64_t amount,
                            int64_t limit) override;
  void add(const CounterId& id, int64_t window_start, int64_t committed_delta,
           int64_t reserved_delta) override;
  void entries(std::vector<CounterEntry>* out) const override;
  size_t drop_expired(int64_t now_ms) override;
  const char* name() const override { return "redis"; }

  // RedisLedgerBackend
  bool flush(int timeout_ms) override;
  bool return_leases(int timeout_ms) override;
  RedisLedgerStats stats() const override;
  const std::string& replica_id() const override { return replica_id_; }

 private:
  std::unique_ptr<LeaseCounter> make_counter(const CounterId& id, int64_t ws);
  void kick();
  // Waits (at most until deadline) for the background thread to sync c. Called without locks.
  void wait_for_sync(LeaseCounter* c, uint32_t gen, int64_t deadline_ms);
  int64_t now_steady() const;
  // Marks a counter used (under its shard mutex), with the background thread's coarse clock:
  // no clock read per admit.
  void touch(LeaseCounter* c) const { c->last_use_ms = coarse_ms_.load(std::memory_order_relaxed); }

  // ---- background thread (redis_sync.cpp)
  void run();
  // One pass over the counters; force = report everything, return_all = give back every lease.
  // True when Redis acknowledged every counter that had something to report.
  bool round(bool force, bool return_all);
  bool load_script();
  struct Plan {
    LeaseCounter* c;
    int64_t cum;
    int64_t want;
    int64_t limit;
    int64_t min_grant;
    int64_t seq;
  };
  bool plan(LeaseCounter* c, int64_t now, int64_t wall, bool force, bool return_all, Plan* p);
  bool apply(const Plan& p, int64_t sent_at, const redisReply& r);
  void void_expired(LeaseCounter* c, int64_t now);
  void garbage_collect(int64_t now, int64_t wall);
  // Runs a forced round on the background thread and waits for its result.
  bool request_round(bool return_all, int timeout_ms);
  bool force_until(bool return_all, int timeout_ms);

  RedisLedgerOptions opt_;
  std::string replica_id_;
  LeaseTable table_;
  std::unique_ptr<Connection> conn_;  // background thread only
  std::string sha_;                   // background thread only
  uint64_t script_gen_ = 0;           // connection generation the script was loaded on
  int64_t seq_ = 0;                   // background thread only
  std::vector<LeaseCounter*> scratch_;
  std::vector<Plan> plans_;

  // What the last exchange with Redis said: not tried yet, answered, unreachable.
  static constexpr int kUnknown = 0, kUp = 1, kDown = 2;
  std::atomic<int> store_{kUnknown};
  std::atomic<int64_t> unreported_{0};
  std::atomic<int64_t> coarse_ms_{steady_ms()};  // steady clock, updated by the background thread
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> serial_{0};
  mutable std::atomic<uint64_t> syncs_{0}, sync_errors_{0}, reconnects_{0}, voided_{0},
      unavailable_{0}, waits_{0};

  // Wakes the background thread.
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool wake_ = false;
  // Forced rounds requested by flush()/return_leases(): request/complete tickets.
  uint64_t force_requested_ = 0, force_done_ = 0;
  bool force_return_ = false, force_ok_ = false;
  std::condition_variable force_cv_;
  // Reservations waiting for a sync.
  std::mutex wait_mu_;
  std::condition_variable wait_cv_;
  std::atomic<int> waiting_{0};

  std::thread thread_;
};

}  // namespace tollgate::redis
