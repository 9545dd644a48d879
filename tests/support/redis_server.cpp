// redis-server test fixture (see redis_server.h).
#include "tests/support/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

extern char** environ;

namespace tollgate::testing {

namespace {

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

void reply_text(const redisReply* r, std::string* out) {
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      *out += std::to_string(r->integer);
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      out->append(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      for (size_t i = 0; i < r->elements; ++i) {
        if (i > 0) out->push_back('\n');
        reply_text(r->element[i], out);
      }
      break;
    default:
      break;
  }
}

}  // namespace

int free_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

bool skip_without_redis_server(const char* test_name) {
  if (RedisServer::available()) return false;
  std::printf("SKIP: %s: redis-server is not on PATH\n", test_name);
  std::fflush(stdout);
  return true;
}

bool RedisServer::available() {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::string p = path;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string candidate = p.substr(start, end - start);
    if (candidate.empty()) candidate = ".";
    candidate += "/redis-server";
    if (access(candidate.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

RedisServer::RedisServer(Options options) : options_(options) {
  char tmpl[] = "/tmp/tollgate-redis-XXXXXX";
  if (mkdtemp(tmpl) != nullptr) dir_ = tmpl;
}

RedisServer::~RedisServer() {
  stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

bool RedisServer::spawn(std::string* error) {
  const std::string port = std::to_string(port_);
  std::vector<std::string> args = {
      "redis-server", "--port", port,          "--bind", "127.0.0.1",        "--save", "",
      "--dir",        dir_,     "--daemonize", "no",     "--protected-mode", "no"};
  if (options_.appendonly) {
    args.insert(args.end(), {"--appendonly", "yes", "--appendfsync", "always"});
  } else {
    args.insert(args.end(), {"--appendonly", "no"});
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log = dir_ + "/redis.log";
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, "redis-server", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    *error = std::string("posix_spawnp redis-server: ") + std::strerror(rc);
    return false;
  }
  pid_ = pid;
  return true;
}

bool RedisServer::start(std::string* error) {
  if (running()) return true;
  if (dir_.empty()) {
    *error = "could not create a temp directory";
    return false;
  }
  const bool first = port_ == 0;
  for (int attempt = 0; attempt < (first ? 5 : 1); ++attempt) {
    if (first) port_ = free_loopback_port();
    if (!spawn(error)) return false;
    if (wait_ready(10'000)) return true;
    kill();  // e.g. another process took the port between our probe and redis' bind
  }
  *error = "redis-server on port " + std::to_string(port_) + " did not answer PING (log: " + dir_ +
           "/redis.log)";
  return false;
}

bool RedisServer::wait_ready(int timeout_ms) const {
  const int64_t deadline = now_ms() + timeout_ms;
  while (now_ms() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) return false;  // exited (port taken?)
    std::string out;
    if (query({"PING"}, &out) && out == "PONG") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void RedisServer::wait_exit(int timeout_ms) {
  const int64_t deadline = now_ms() + timeout_ms;
  int status = 0;
  while (now_ms() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

void RedisServer::stop() {
  if (!running()) return;
  ::kill(pid_, SIGTERM);
  wait_exit(10'000);
}

void RedisServer::kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  wait_exit(10'000);
}

bool RedisServer::query(const std::vector<std::string>& args, std::string* out) const {
  out->clear();
  timeval tv{1, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
  if (c == nullptr || c->err != 0) {
    if (c != nullptr) redisFree(c);
    return false;
  }
  redisSetTimeout(c, tv);
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), argv.data(), lens.data()));
  bool ok = r != nullptr && r->type != REDIS_REPLY_ERROR;
  if (r != nullptr) {
    if (ok)
      reply_text(r, out);
    else
      out->assign(r->str, r->len);
    freeReplyObject(r);
  }
  redisFree(c);
  return ok;
}

int64_t RedisServer::query_int(const std::vector<std::string>& args, int64_t fallback) const {
  std::string out;
  if (!query(args, &out) || out.empty()) return fallback;
  char* end = nullptr;
  long long v = std::strtoll(out.c_str(), &end, 10);
  return *end == '\0' ? v : fallback;
}

}  // namespace tollgate::testing
