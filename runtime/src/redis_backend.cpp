// The Redis LedgerBackend's hot path: reservations, usage and reads touch only the local lease
// counters (atomics under a shard's shared lock). Redis is reached only by the background thread
// (redis_sync.cpp); a reservation the lease cannot cover waits briefly for it (admit_wait_ms) or
// answers Unavailable, and the Ledger applies the budget's fail mode.
#include "runtime/src/redis_backend.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>

namespace tollgate::redis {

namespace {

// End of the window starting at ws: the start of the window 31 days (etc.) later is the next one,
// since no window is longer than its kind's maximum length.
int64_t window_end(BudgetWindow w, int64_t ws) {
  switch (w) {
    case BudgetWindow::Minute:
      return ws + 60'000;
    case BudgetWindow::Hour:
      return ws + 3'600'000;
    case BudgetWindow::Day:
      return ws + 86'400'000;
    case BudgetWindow::Month:
      return window_start(w, ws + 31LL * 86'400'000);
  }
  return ws;
}

std::string make_replica_id(const std::string& configured) {
  std::string id = configured;
  if (id.empty()) {
    char host[256] = {0};
    if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::snprintf(host, 8, "host");
    id = host;
  }
  std::random_device rd;
  uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char suffix[64];
  std::snprintf(suffix, sizeof(suffix), "#%d-%08llx", static_cast<int>(getpid()),
                static_cast<unsigned long long>(r & 0xffffffffULL));
  return id + suffix;
}

constexpr int64_t kMaxUnits = (int64_t{1} << 53) - 1;  // exact in Lua numbers (doubles)

}  // namespace

Backend::Backend(const RedisLedgerOptions& options, Endpoint endpoint)
    : opt_(options),
      replica_id_(make_replica_id(options.replica_id)),
      table_([this](const CounterId& id, int64_t ws) { return make_counter(id, ws); }),
      conn_(std::make_unique<Connection>(std::move(endpoint), options.connect_timeout_ms,
                                         options.command_timeout_ms,
                                         options.reconnect_max_backoff_ms)) {
  thread_ = std::thread([this] { run(); });
}

Backend::~Backend() {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    stop_ = true;
  }
  wake_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int64_t Backend::now_steady() const {
  return steady_ms();
}

std::unique_ptr<LeaseCounter> Backend::make_counter(const CounterId& id, int64_t ws) {
  auto c = std::make_unique<LeaseCounter>();
  c->budget = std::string(id.budget);
  c->key = std::string(id.key);
  c->unit = id.unit;
  c->window = id.window;
  c->window_start = ws;
  c->window_end = window_end(id.window, ws);
  // One hash tag per counter: both keys land in the same Redis Cluster slot.
  std::string tag = opt_.key_prefix + "{" + c->budget + ":" + to_string(id.unit) + ":" +
                    to_string(id.window) + ":" + std::to_string(ws) + ":" + c->key + "}";
  c->state_key = tag + ":s";
  c->lease_key = tag + ":l";
  // A new incarnation per local counter: a counter forgotten and re-created (idle, late usage
  // after its window) starts a fresh cumulative total under a fresh name.
  c->field = replica_id_ + "/" + std::to_string(serial_.fetch_add(1));
  c->last_use_ms = coarse_ms_.load();
  return c;
}

void Backend::kick() {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    wake_ = true;
  }
  wake_cv_.notify_one();
}

int64_t Backend::spent(const CounterId& id, int64_t ws) const {
  try {
    bool created = false;
    int64_t v = const_cast<LeaseTable&>(table_).visit(id, ws, true, [&](LeaseCounter* c) {
      if (c == nullptr) return int64_t{0};
      if (!c->synced && !c->kicked) {
        c->kicked = true;
        created = true;  // first read: fetch its spend now
      }
      touch(c);
      return c->spent_view();
    });
    if (created) const_cast<Backend*>(this)->kick();
    return v;
  } catch (...) {
    return 0;  // out of memory creating the counter: read as unspent, admit still reserves
  }
}

ReserveResult Backend::try_reserve(const CounterId& id, int64_t ws, int64_t amount, int64_t limit) {
  limit = std::min(limit, kMaxUnits);
  if (amount > 0 && amount > limit) return ReserveResult::Exceeded;
  int64_t deadline = -1;  // set when a wait starts: the clock is not read on the fast path
  for (;;) {
    ReserveResult result = ReserveResult::Ok;
    bool wake = false;
    LeaseCounter* pinned = nullptr;
    uint32_t gen = 0;
    try {
      table_.visit(id, ws, true, [&](LeaseCounter* c) {
        if (c == nullptr) {
          result = ReserveResult::Unavailable;
          return 0;
        }
        c->limit = limit;
        touch(c);
        if (amount <= 0) {
          c->settle(amount, 0);
          return 0;
        }
        if (c->try_take(amount)) {
          if (c->avail < c->low_water && !c->kicked) {
            c->kicked = true;
            wake = true;
          }
          return 0;
        }
        // The local lease cannot cover it: ask for more, then decide whether waiting can help.
        if (c->miss < amount) c->miss = amount;
        // One wake-up per sync: a storm of denials on an exhausted budget must not spin the
        // background thread (it retries exhausted counters once per flush interval).
        if (!c->kicked) {
          c->kicked = true;
          wake = true;
        }
        const int state = store_.load();
        if (state == kDown) {
          result = ReserveResult::Unavailable;
        } else if (c->synced && c->exhausted) {
          result = ReserveResult::Exceeded;
        } else if (opt_.admit_wait_ms <= 0 || (deadline >= 0 && now_steady() >= deadline)) {
          // Redis is up but no lease came in time (slow store, or contention for the last units).
          result = ReserveResult::Unavailable;
        } else {
          if (deadline < 0) deadline = now_steady() + opt_.admit_wait_ms;
          pinned = c;
          gen = c->gen.load();
          c->waiters.fetch_add(1);
        }
        return 0;
      });
    } catch (...) {
      return ReserveResult::Unavailable;  // out of memory creating the counter
    }
    if (pinned == nullptr) {
      if (wake) kick();
      if (result == ReserveResult::Unavailable) unavailable_.fetch_add(1);
      return result;
    }
    kick();
    wait_for_sync(pinned, gen, deadline);
    pinned->waiters.fetch_sub(1);
  }
}

void Backend::wait_for_sync(LeaseCounter* c, uint32_t gen, int64_t deadline_ms) {
  waits_.fetch_add(1);
  std::unique_lock<std::mutex> lock(wait_mu_);
  waiting_.fetch_add(1);
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(std::max<int64_t>(0, deadline_ms - now_steady()));
  wait_cv_.wait_until(
      lock, until, [&] { return c->gen.load() != gen || store_.load() == kDown || stop_.load(); });
  waiting_.fetch_sub(1);
}

void Backend::add(const CounterId& id, int64_t ws, int64_t committed_delta,
                  int64_t reserved_delta) {
  const bool create = committed_delta != 0 || reserved_delta > 0;
  try {
    table_.visit(id, ws, create, [&](LeaseCounter* c) {
      if (c == nullptr) return 0;
      c->settle(reserved_delta, committed_delta);
      touch(c);
      return 0;
    });
  } catch (...) {
    // Out of memory creating a counter for usage: nothing to charge it to. The allocation that
    // failed is a few hundred bytes; the process is already failing.
  }
}

void Backend::entries(std::vector<CounterEntry>* out) const {
  table_.for_each([&](const LeaseCounter& c) {
    CounterEntry e;
    e.budget = c.budget;
    e.unit = c.unit;
    e.window = c.window;
    e.key = c.key;
    e.window_start = c.window_start;
    e.committed = c.base + c.consumed;
    e.reserved = c.reserved;
    out->push_back(std::move(e));
  });
}

size_t Backend::drop_expired(int64_t /*now_ms*/) {
  // Counters of ended windows are forgotten by the background thread once their usage is
  // reported and their lease returned; dropping them earlier would lose that usage.
  return 0;
}

// Forced rounds until one succeeds or the time is up: a round fails at once while the
// connection waits out its reconnect backoff, so one attempt is not enough.
bool Backend::force_until(bool return_all, int timeout_ms) {
  const int64_t deadline = now_steady() + std::max(0, timeout_ms);
  for (;;) {
    const int64_t left = deadline - now_steady();
    if (request_round(return_all, static_cast<int>(std::max<int64_t>(0, left)))) return true;
    if (now_steady() >= deadline || stop_.load()) return false;
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::min<int64_t>(10, deadline - now_steady())));
  }
}

bool Backend::flush(int timeout_ms) {
  return force_until(false, timeout_ms);
}

bool Backend::return_leases(int timeout_ms) {
  return force_until(true, timeout_ms);
}

RedisLedgerStats Backend::stats() const {
  RedisLedgerStats s;
  s.connected = store_.load() == kUp;
  s.syncs = syncs_.load();
  s.sync_errors = sync_errors_.load();
  s.reconnects = reconnects_.load();
  s.leases_voided = voided_.load();
  s.unavailable = unavailable_.load();
  s.waits = waits_.load();
  s.counters = table_.size();
  s.unreported_units = unreported_.load();
  return s;
}

std::unique_ptr<RedisLedgerBackend> make_redis_backend_impl(const RedisLedgerOptions& options,
                                                            std::string* error) {
  Endpoint endpoint;
  std::string query;
  if (!parse_endpoint(options.url, &endpoint, &query, error)) return nullptr;
  if (!query.empty()) {
    *error = "pass URL parameters through parse_redis_ledger_url";
    return nullptr;
  }
  if (options.slice_fraction <= 0 || options.slice_fraction > 1 || options.low_water < 0 ||
      options.low_water >= 1 || options.lease_ttl_ms < 100 || options.flush_interval_ms < 1 ||
      options.flush_interval_ms * 3 > options.lease_ttl_ms) {
    *error =
        "invalid lease options: need 0 < slice <= 1, 0 <= low_water < 1, lease_ttl_ms >= 100, "
        "1 <= flush_interval_ms <= lease_ttl_ms / 3";
    return nullptr;
  }
  try {
    return std::make_unique<Backend>(options, std::move(endpoint));
  } catch (const std::exception& e) {
    *error = e.what();
    return nullptr;
  }
}

}  // namespace tollgate::redis

namespace tollgate {

std::unique_ptr<RedisLedgerBackend> make_redis_backend(const RedisLedgerOptions& options,
                                                       std::string* error) {
  std::string ignored;
  return redis::make_redis_backend_impl(options, error != nullptr ? error : &ignored);
}

}  // namespace tollgate
