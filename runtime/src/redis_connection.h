// A blocking hiredis connection with connect and command timeouts and reconnect-with-backoff.
// Used only by the Redis ledger's background thread, never on the decide/admit path.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct redisContext;
struct redisReply;

namespace tollgate::redis {

struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string unix_path;  // set: connect to this socket instead of host:port
  std::string password;
  int db = 0;
};

// redis://[:password@]host[:port][/db] or unix:///path; the query string (if any) is returned in
// *query for the caller to interpret.
bool parse_endpoint(std::string_view url, Endpoint* out, std::string* query, std::string* error);

struct ReplyDeleter {
  void operator()(redisReply* r) const;
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

class Connection {
 public:
  Connection(Endpoint endpoint, int connect_timeout_ms, int command_timeout_ms, int max_backoff_ms);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects (AUTH, SELECT) unless connected; after a failure, waits out the backoff first
  // (returns false without trying). True when connected.
  bool ensure_connected();
  bool connected() const { return ctx_ != nullptr; }
  // Bumped on every successful connect (a new server may have lost its script cache).
  uint64_t generation() const { return generation_; }
  void disconnect();

  // One command. Null on I/O error or timeout (the connection is then closed and the backoff
  // starts); a Redis error reply is returned as a reply of type REDIS_REPLY_ERROR.
  Reply command(const std::vector<std::string_view>& args);
  // Pipelining: queue commands, then read their replies in order.
  bool append(const std::vector<std::string_view>& args);
  Reply read_reply();

  const std::string& last_error() const { return last_error_; }

 private:
  void fail(const char* what);

  Endpoint endpoint_;
  int connect_timeout_ms_;
  int command_timeout_ms_;
  int max_backoff_ms_;
  int backoff_ms_ = 0;
  int64_t next_attempt_ms_ = 0;
  uint64_t generation_ = 0;
  redisContext* ctx_ = nullptr;
  std::string last_error_;
};

// Steady clock, milliseconds.
int64_t steady_ms();

}  // namespace tollgate::redis
