// hiredis connection wrapper for the Redis ledger: URL parsing, timeouts, AUTH/SELECT, and a
// reconnect backoff so an unreachable Redis costs the background thread one timeout per attempt,
// not a busy loop.
#include "runtime/src/redis_connection.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>

namespace tollgate::redis {

int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

void ReplyDeleter::operator()(redisReply* r) const {
  if (r != nullptr) freeReplyObject(r);
}

namespace {

bool parse_int(std::string_view s, int* out) {
  if (s.empty() || s.size() > 9) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

timeval to_timeval(int ms) {
  timeval tv;
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  return tv;
}

}  // namespace

bool parse_endpoint(std::string_view url, Endpoint* out, std::string* query, std::string* error) {
  *out = Endpoint{};
  query->clear();
  size_t q = url.find('?');
  if (q != std::string_view::npos) {
    *query = std::string(url.substr(q + 1));
    url = url.substr(0, q);
  }
  constexpr std::string_view kUnix = "unix://";
  constexpr std::string_view kRedis = "redis://";
  if (url.substr(0, kUnix.size()) == kUnix) {
    out->unix_path = std::string(url.substr(kUnix.size()));
    if (out->unix_path.empty() || out->unix_path[0] != '/') {
      *error = "unix:// URL needs an absolute socket path";
      return false;
    }
    return true;
  }
  if (url.substr(0, kRedis.size()) != kRedis) {
    *error = "Redis URL must start with redis:// or unix://";
    return false;
  }
  url = url.substr(kRedis.size());
  size_t at = url.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = url.substr(0, at);
    size_t colon = userinfo.find(':');
    // Only the password is used (AUTH password); "user:" ACL names are not supported.
    out->password =
        std::string(colon == std::string_view::npos ? userinfo : userinfo.substr(colon + 1));
    url = url.substr(at + 1);
  }
  size_t slash = url.find('/');
  std::string_view hostport = url.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view db = url.substr(slash + 1);
    if (!db.empty() && !parse_int(db, &out->db)) {
      *error = "Redis URL database must be a number";
      return false;
    }
  }
  size_t colon = hostport.rfind(':');
  if (colon != std::string_view::npos && hostport.find(']') == std::string_view::npos) {
    if (!parse_int(hostport.substr(colon + 1), &out->port) || out->port <= 0 || out->port > 65535) {
      *error = "Redis URL port must be 1..65535";
      return false;
    }
    hostport = hostport.substr(0, colon);
  }
  if (!hostport.empty()) out->host = std::string(hostport);
  return true;
}

Connection::Connection(Endpoint endpoint, int connect_timeout_ms, int command_timeout_ms,
                       int max_backoff_ms)
    : endpoint_(std::move(endpoint)),
      connect_timeout_ms_(std::max(1, connect_timeout_ms)),
      command_timeout_ms_(std::max(1, command_timeout_ms)),
      max_backoff_ms_(std::max(1, max_backoff_ms)) {}

Connection::~Connection() {
  disconnect();
}

void Connection::disconnect() {
  if (ctx_ != nullptr) redisFree(ctx_);
  ctx_ = nullptr;
}

void Connection::fail(const char* what) {
  last_error_ = what;
  if (ctx_ != nullptr && ctx_->errstr[0] != '\0') {
    last_error_ += ": ";
    last_error_ += ctx_->errstr;
  }
  disconnect();
  backoff_ms_ = backoff_ms_ == 0 ? 20 : std::min(backoff_ms_ * 2, max_backoff_ms_);
  next_attempt_ms_ = steady_ms() + backoff_ms_;
}

bool Connection::ensure_connected() {
  if (ctx_ != nullptr) return true;
  if (steady_ms() < next_attempt_ms_) return false;
  const timeval ctv = to_timeval(connect_timeout_ms_);
  ctx_ = endpoint_.unix_path.empty()
             ? redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, ctv)
             : redisConnectUnixWithTimeout(endpoint_.unix_path.c_str(), ctv);
  if (ctx_ == nullptr || ctx_->err != 0) {
    fail("connect");
    return false;
  }
  redisSetTimeout(ctx_, to_timeval(command_timeout_ms_));
  if (endpoint_.unix_path.empty()) redisEnableKeepAlive(ctx_);
  if (!endpoint_.password.empty()) {
    Reply r = command({"AUTH", endpoint_.password});
    if (!r || r->type == REDIS_REPLY_ERROR) {
      if (ctx_ != nullptr) fail("AUTH failed");
      return false;
    }
  }
  if (endpoint_.db != 0) {
    std::string db = std::to_string(endpoint_.db);
    Reply r = command({"SELECT", db});
    if (!r || r->type == REDIS_REPLY_ERROR) {
      if (ctx_ != nullptr) fail("SELECT failed");
      return false;
    }
  }
  backoff_ms_ = 0;
  ++generation_;
  return true;
}

bool Connection::append(const std::vector<std::string_view>& args) {
  if (ctx_ == nullptr) return false;
  const char* argv[16];
  size_t lens[16];
  if (args.size() > 16) return false;
  for (size_t i = 0; i < args.size(); ++i) {
    argv[i] = args[i].data();
    lens[i] = args[i].size();
  }
  if (redisAppendCommandArgv(ctx_, static_cast<int>(args.size()), argv, lens) != REDIS_OK) {
    fail("append");
    return false;
  }
  return true;
}

Reply Connection::read_reply() {
  if (ctx_ == nullptr) return nullptr;
  void* raw = nullptr;
  if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
    if (raw != nullptr) freeReplyObject(raw);
    fail("read");
    return nullptr;
  }
  return Reply(static_cast<redisReply*>(raw));
}

Reply Connection::command(const std::vector<std::string_view>& args) {
  if (!append(args)) return nullptr;
  return read_reply();
}

}  // namespace tollgate::redis
