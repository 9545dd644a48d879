// The Redis ledger's background thread: every flush interval (or sooner when a counter runs low)
// it pipelines one EVALSHA of the sync script per counter that has usage to report, needs a
// larger lease, must renew its lease before the TTL, or should return an idle one. When Redis is
// unreachable it voids leases Redis can no longer vouch for, and keeps the usage to report later.
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "runtime/src/redis_backend.h"
#include "runtime/src/redis_scripts.h"

namespace tollgate::redis {

namespace {

constexpr int64_t kMaxUnits = (int64_t{1} << 53) - 1;
constexpr size_t kPipelineBatch = 256;

int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool reply_int(const redisReply& r, size_t i, int64_t* out) {
  if (r.type != REDIS_REPLY_ARRAY || i >= r.elements) return false;
  const redisReply* e = r.element[i];
  if (e->type != REDIS_REPLY_INTEGER) return false;
  *out = e->integer;
  return true;
}

}  // namespace

void Backend::run() {
  // A write to a connection Redis closed raises SIGPIPE, whose default action kills the host
  // process. Blocked in this thread (the only one that talks to Redis), the write fails with EPIPE
  // instead and the signal stays pending here, harmlessly.
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
  int64_t last_gc = 0;
  while (true) {
    bool force = false, return_all = false;
    uint64_t ticket = 0;
    {
      std::unique_lock<std::mutex> lock(wake_mu_);
      wake_cv_.wait_for(lock, std::chrono::milliseconds(opt_.flush_interval_ms),
                        [&] { return wake_ || stop_.load() || force_requested_ > force_done_; });
      wake_ = false;
      coarse_ms_.store(now_steady(), std::memory_order_relaxed);
      if (stop_.load()) break;
      if (force_requested_ > force_done_) {
        force = true;
        return_all = force_return_;
        force_return_ = false;
        ticket = force_requested_;
      }
    }
    const bool ok = round(force, return_all);
    if (force) {
      std::lock_guard<std::mutex> lock(wake_mu_);
      force_done_ = ticket;
      force_ok_ = ok;
      force_cv_.notify_all();
    }
    const int64_t now = now_steady();
    if (now - last_gc >= 1000) {
      garbage_collect(now, wall_ms());
      last_gc = now;
    }
  }
  // Shutdown: report what is left and give the leases back (bounded by the command timeout).
  round(true, true);
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    force_done_ = force_requested_;
    force_ok_ = false;
  }
  force_cv_.notify_all();
  std::lock_guard<std::mutex> lock(wait_mu_);
  wait_cv_.notify_all();
}

bool Backend::request_round(bool return_all, int timeout_ms) {
  std::unique_lock<std::mutex> lock(wake_mu_);
  if (stop_.load()) return false;
  const uint64_t ticket = ++force_requested_;
  force_return_ = force_return_ || return_all;
  wake_cv_.notify_all();
  const bool done = force_cv_.wait_for(lock, std::chrono::milliseconds(std::max(0, timeout_ms)),
                                       [&] { return force_done_ >= ticket; });
  return done && force_ok_;
}

bool Backend::load_script() {
  Reply r = conn_->command({"SCRIPT", "LOAD", kSyncScript});
  if (!r) return false;
  if (r->type != REDIS_REPLY_STRING) {
    sync_errors_.fetch_add(1);
    conn_->disconnect();  // e.g. scripting disabled: retry with backoff, never spin
    return false;
  }
  sha_.assign(r->str, r->len);
  script_gen_ = conn_->generation();
  return true;
}

void Backend::void_expired(LeaseCounter* c, int64_t now) {
  if (c->held > 0 && now >= c->valid_until_ms) {
    // Redis may already have given this lease to other replicas: stop using it.
    std::lock_guard<std::mutex> lock(table_.mutex_of(*c));
    c->avail -= c->held;
    c->held = 0;
    voided_.fetch_add(1);
  }
}

bool Backend::plan(LeaseCounter* c, int64_t now, int64_t wall, bool force, bool return_all,
                   Plan* p) {
  std::lock_guard<std::mutex> lock(table_.mutex_of(*c));
  const int64_t limit = std::min(c->limit, kMaxUnits);
  const int64_t reserved = std::max<int64_t>(0, c->reserved);
  const int64_t cum = c->consumed;
  const int64_t unreported = cum - c->acked;
  const bool ended = wall >= c->window_end;
  const bool idle = now - c->last_use_ms > opt_.idle_return_ms;
  const bool leasing = limit >= 0 && !ended && !idle && !return_all;
  int64_t slice = 0;
  if (leasing) {
    slice = std::max<int64_t>(1, std::llround(static_cast<double>(limit) * opt_.slice_fraction));
    c->low_water = std::max<int64_t>(1, std::llround(static_cast<double>(slice) * opt_.low_water));
  } else {
    c->low_water = 0;
  }
  const int64_t miss = c->miss;
  const int64_t since_send = now - c->last_send_ms;
  const int64_t avail = c->avail;
  const bool need = !c->synced || unreported != 0 || (force && return_all && c->held > 0) ||
                    (leasing && (avail < c->low_water || miss > 0) &&
                     (!c->exhausted || since_send >= opt_.flush_interval_ms)) ||
                    (c->held > 0 && since_send >= opt_.lease_ttl_ms / 3) ||
                    (!leasing && c->held > reserved) ||
                    (!idle && since_send >= opt_.refresh_interval_ms);
  if (!need) return false;
  c->miss = 0;
  c->kicked = false;
  p->c = c;
  p->cum = cum;
  p->limit = limit;
  p->want = leasing ? reserved + std::max(slice, miss) : reserved;
  if (limit < 0) p->want = 0;
  p->min_grant = std::max<int64_t>(1, miss);
  p->seq = ++seq_;
  return true;
}

bool Backend::apply(const Plan& p, int64_t sent_at, const redisReply& r) {
  int64_t spent = 0, held = 0, room = 0, delta = 0, stale = 0;
  if (!reply_int(r, 0, &spent) || !reply_int(r, 1, &held) || !reply_int(r, 2, &room) ||
      !reply_int(r, 3, &delta) || !reply_int(r, 4, &stale)) {
    sync_errors_.fetch_add(1);
    return false;
  }
  if (stale != 0) {  // an older sync than one already applied; cannot happen in order
    sync_errors_.fetch_add(1);
    return false;
  }
  LeaseCounter* c = p.c;
  // avail == held - reserved - (consumed - acked): move it by what Redis changed.
  std::lock_guard<std::mutex> lock(table_.mutex_of(*c));
  c->avail += held - c->held + (p.cum - c->acked);
  c->held = held;
  c->acked = p.cum;
  c->base = spent - p.cum;
  const int64_t margin = std::max<int64_t>(opt_.lease_ttl_ms / 10, opt_.command_timeout_ms);
  c->valid_until_ms = sent_at + opt_.lease_ttl_ms - margin;
  c->exhausted = p.limit >= 0 && held < p.want && room <= 0;
  c->synced = true;
  syncs_.fetch_add(1);
  return true;
}

bool Backend::round(bool force, bool return_all) {
  const int64_t now = now_steady();
  const int64_t wall = wall_ms();
  scratch_.clear();
  table_.collect(&scratch_);
  for (LeaseCounter* c : scratch_) void_expired(c, now);

  bool ok = true;
  const uint64_t gen_before = conn_->generation();
  if (!conn_->ensure_connected()) {
    ok = false;
  } else {
    if (conn_->generation() != gen_before) reconnects_.fetch_add(1);
    if (script_gen_ != conn_->generation() && !load_script()) ok = false;
  }
  if (!ok) {
    store_.store(kDown);
  } else {
    plans_.clear();
    for (LeaseCounter* c : scratch_) {
      Plan p;
      if (plan(c, now, wall, force, return_all, &p)) plans_.push_back(p);
    }
    const std::string ttl = std::to_string(opt_.lease_ttl_ms);
    bool io = true;  // the connection survived; ok additionally needs every reply applied
    for (size_t begin = 0; begin < plans_.size() && io; begin += kPipelineBatch) {
      const size_t end = std::min(plans_.size(), begin + kPipelineBatch);
      const int64_t sent_at = now_steady();
      for (size_t i = begin; i < end && io; ++i) {
        const Plan& p = plans_[i];
        const std::string seq = std::to_string(p.seq), cum = std::to_string(p.cum),
                          want = std::to_string(p.want), limit = std::to_string(p.limit),
                          expire = std::to_string(p.c->window_end + opt_.expire_slack_ms),
                          min_grant = std::to_string(p.min_grant);
        io = conn_->append({"EVALSHA", sha_, "2", p.c->state_key, p.c->lease_key, p.c->field, seq,
                            cum, want, limit, ttl, expire, min_grant});
        p.c->last_send_ms = sent_at;
      }
      for (size_t i = begin; i < end && io; ++i) {
        Reply r = conn_->read_reply();
        if (!r) {
          io = false;
        } else if (r->type == REDIS_REPLY_ERROR) {
          sync_errors_.fetch_add(1);
          if (std::strncmp(r->str, "NOSCRIPT", 8) == 0) script_gen_ = 0;  // reload next round
          ok = false;
        } else {
          ok = apply(plans_[i], sent_at, *r) && ok;
        }
      }
    }
    ok = ok && io;
    if (conn_->connected()) {
      store_.store(kUp);
    } else {
      store_.store(kDown);
      sync_errors_.fetch_add(1);
    }
  }
  int64_t unreported = 0;
  for (LeaseCounter* c : scratch_) {
    {
      std::lock_guard<std::mutex> lock(table_.mutex_of(*c));
      unreported += c->consumed - c->acked;
    }
    c->gen.fetch_add(1);
  }
  unreported_.store(unreported);
  if (waiting_.load() > 0) {
    std::lock_guard<std::mutex> lock(wait_mu_);
    wait_cv_.notify_all();
  }
  // Every counter with usage at planning time was planned, so ok means all of it was reported.
  return ok;
}

void Backend::garbage_collect(int64_t now, int64_t wall) {
  table_.erase_if([&](const LeaseCounter& c) {
    if (c.waiters.load() != 0 || c.reserved != 0 || c.consumed != c.acked || c.held != 0) {
      return false;
    }
    return wall >= c.window_end + opt_.lease_ttl_ms || now - c.last_use_ms > opt_.idle_forget_ms;
  });
}

}  // namespace tollgate::redis
