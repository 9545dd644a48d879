// Test fixture: a private redis-server on a free loopback port, in its own temp directory, spawned
// with posix_spawn and stopped (or killed, then restarted on the same port and data) by the test.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tollgate::testing {

class RedisServer {
 public:
  struct Options {
    // --appendonly yes --appendfsync always: every acknowledged write survives a kill -9.
    bool appendonly = false;
  };

  // True when redis-server is on PATH (tests print SKIP and return when it is not).
  static bool available();

  explicit RedisServer(Options options);
  RedisServer() : RedisServer(Options{}) {}
  ~RedisServer();  // stops the server and removes its directory
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts the server and waits until it answers PING. The first start picks a free port; later
  // starts reuse the port and the data directory (a restart).
  bool start(std::string* error);
  void stop();  // SIGTERM, then wait
  void kill();  // SIGKILL, then wait (a crash)
  bool running() const { return pid_ > 0; }

  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }

  // Runs one command on a fresh connection; the reply as text (integers in decimal, nil as "",
  // arrays joined by '\n'). False when the server cannot be reached or replies with an error.
  bool query(const std::vector<std::string>& args, std::string* out) const;
  // Integer (or numeric string) reply of a command; `fallback` on nil or error.
  int64_t query_int(const std::vector<std::string>& args, int64_t fallback = -1) const;

 private:
  bool spawn(std::string* error);
  bool wait_ready(int timeout_ms) const;
  void wait_exit(int timeout_ms);

  Options options_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// Prints "SKIP: <test>: redis-server is not on PATH" and returns true when redis-server is
// missing: the Redis tests skip only for that reason (a server that fails to start fails them).
bool skip_without_redis_server(const char* test_name);

// A free TCP port on 127.0.0.1 (bound to port 0, then released).
int free_loopback_port();

}  // namespace tollgate::testing
