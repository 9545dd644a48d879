// `tollgate serve`: the decision service (docs/serve.md). Wires the policy set, the ledger and its
// snapshots, the decision log and the HTTP server together, then runs the control loop on the main
// thread: signals (SIGHUP reloads, SIGTERM/SIGINT drain and stop), file changes (inotify),
// reservation expiry and state snapshots. Request threads only ever run Service::handle.
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "tollgate/redis_ledger.hpp"
#include "tools/cli.h"
#include "tools/serve/http.h"
#include "tools/serve/policy_set.h"
#include "tools/serve/service.h"

namespace {

const tollgate::cli::Command kServe = {
    "serve", "",
    "usage: tollgate serve POLICY|DIR [options]\n"
    "\n"
    "Serves decisions over HTTP: POST /v1/decide[/{policy}], POST /v1/admit, /v1/record,\n"
    "/v1/release, GET /v1/authz[/{policy}] (nginx auth_request, Envoy ext_authz), GET /metrics,\n"
    "/healthz, /readyz, /v1/policies, POST /v1/reload. POLICY is one .pol file; DIR serves every\n"
    "*.pol in it, each addressed by its `policy NAME`. Files are reloaded on change and on "
    "SIGHUP;\n"
    "a version that does not compile leaves the previous one serving. See docs/serve.md.\n"
    "\n"
    "options:\n"
    "  --listen HOST:PORT       address to listen on (default 127.0.0.1:8181; port 0 = any free)\n"
    "  --port-file FILE         write the bound port to FILE once listening\n"
    "  --threads N              request threads (default 2)\n"
    "  --prices FILE            price table for routes without inline prices ($TOLLGATE_PRICES)\n"
    "  --ledger URL             redis://host:port/db?... shares budgets across replicas\n"
    "                           (docs/replicas.md); default: in-process\n"
    "  --state FILE             in-process ledger snapshot: restored at start, saved every\n"
    "                           --state-interval seconds and on SIGTERM\n"
    "  --state-interval SEC     snapshot period (default 5)\n"
    "  --decision-log FILE      append one JSON audit record per decision/admission\n"
    "  --decision-log-max-bytes N  rotate to FILE.1 beyond N bytes (default 104857600)\n"
    "  --log-inputs             decision log records carry the request's inputs (may be PII)\n"
    "  --candidate DIR          shadow versions (matched by policy name), never enforced;\n"
    "                           their disagreements are in /metrics\n"
    "  --header INPUT=HEADER    /v1/authz reads INPUT from HEADER (default x-tollgate-INPUT,\n"
    "                           with _ written as -); repeatable\n"
    "  --token-file FILE        POST /v1/reload requires 'Authorization: Bearer <token>'\n"
    "  --reservation-ttl SEC    unsettled reservations are released after SEC (default 60)\n"
    "  --max-reservations N     open reservations held at most (default 100000)\n"
    "  --max-body BYTES         larger request bodies get 413 (default 1048576)\n"
    "  --max-header BYTES       larger request heads get 431 (default 16384)\n"
    "  --read-timeout SEC       a request must arrive whole within SEC (default 10)\n"
    "  --idle-timeout SEC       idle keep-alive connections are closed after SEC (default 60)\n"
    "  --max-connections N      beyond N open connections, new ones get 503 (default 1024)\n"
    "  --jit-hot N              a policy is JIT-compiled after N decisions (default 1000;\n"
    "                           0 = at load); idle policies stay on the interpreter\n"
    "  --interp                 never JIT: decide with the reference interpreter\n"
    "  --no-watch               reload on SIGHUP and POST /v1/reload only, not on file changes\n"
    "  -h, --help               this text\n"
    "\n"
    "exit status: 0 after a clean SIGTERM/SIGINT shutdown, 1 no policy could be loaded or the\n"
    "address cannot be bound, 2 usage error\n"};

bool parse_count(const std::string& text, long long min, long long* out) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < min) return false;
  *out = v;
  return true;
}

void log_line(const std::string& s) {
  std::fprintf(stderr, "tollgate serve: %s\n", s.c_str());
}

void log_report(const tollgate::serve::RefreshReport& r) {
  for (const std::string& m : r.messages) log_line(m);
}

int64_t mono_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// inotify on the directories holding the policy files: any write, rename or removal there schedules
// a reload (debounced, so an editor's save-as-rename is one reload).
class Watcher {
 public:
  void add(const std::string& path) {
    if (fd_ < 0) fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) return;
    std::error_code ec;
    std::string dir = std::filesystem::is_directory(path, ec)
                          ? path
                          : std::filesystem::path(path).parent_path().string();
    if (dir.empty()) dir = ".";
    inotify_add_watch(fd_, dir.c_str(),
                      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE);
  }
  // True when something changed since the last call.
  bool changed() {
    if (fd_ < 0) return false;
    bool any = false;
    alignas(inotify_event) char buf[4096];
    for (;;) {
      ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      any = true;
    }
    return any;
  }
  ~Watcher() {
    if (fd_ >= 0) close(fd_);
  }

 private:
  int fd_ = -1;
};

}  // namespace

int cmd_serve(int argc, char** argv) {
  using namespace tollgate;
  if (cli::wants_help(kServe, argc, argv)) return cli::kExitOk;

  std::string root, listen = "127.0.0.1:8181", port_file, prices, ledger_url, state_file;
  std::string decision_log, candidate, token_file;
  long long threads = 2, state_interval = 5, log_max = 100ll << 20, ttl = 60, max_res = 100000;
  long long max_body = 1 << 20, max_header = 16 << 10, read_timeout = 10, idle_timeout = 60;
  long long max_conn = 1024, jit_hot = 1000;
  bool interp = false, watch = true, log_inputs = false;
  serve::ServiceOptions sopts;

  cli::ArgScanner args(argc, argv);
  while (args.next()) {
    std::string value;
    bool missing = false;
    auto count = [&](const char* flag, long long min, long long* out) {
      if (!args.option(flag, &value, &missing)) return false;
      if (!missing && !parse_count(value, min, out)) {
        cli::usage_error(kServe, std::string(flag) + " wants a whole number >= " +
                                     std::to_string(min) + ", got '" + value + "'");
        std::exit(cli::kExitUsage);
      }
      return true;
    };
    if (args.is_positional()) {
      if (!root.empty()) return cli::usage_error(kServe, "one POLICY file or DIR only");
      root = std::string(args.arg());
    } else if (args.option("--listen", &listen, &missing) ||
               args.option("--port-file", &port_file, &missing) ||
               args.option("--prices", &prices, &missing) ||
               args.option("--ledger", &ledger_url, &missing) ||
               args.option("--state", &state_file, &missing) ||
               args.option("--decision-log", &decision_log, &missing) ||
               args.option("--candidate", &candidate, &missing) ||
               args.option("--token-file", &token_file, &missing)) {
    } else if (count("--threads", 1, &threads) || count("--state-interval", 1, &state_interval) ||
               count("--decision-log-max-bytes", 1024, &log_max) ||
               count("--reservation-ttl", 1, &ttl) || count("--max-reservations", 1, &max_res) ||
               count("--max-body", 1, &max_body) || count("--max-header", 256, &max_header) ||
               count("--read-timeout", 1, &read_timeout) ||
               count("--idle-timeout", 1, &idle_timeout) ||
               count("--max-connections", 1, &max_conn) || count("--jit-hot", 0, &jit_hot)) {
    } else if (args.option("--header", &value, &missing)) {
      size_t eq = value.find('=');
      if (!missing && (eq == std::string::npos || eq == 0 || eq + 1 == value.size()))
        return cli::usage_error(kServe, "--header wants INPUT=HEADER, got '" + value + "'");
      if (!missing) sopts.header_map.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else if (args.flag("--interp")) {
      interp = true;
    } else if (args.flag("--no-watch")) {
      watch = false;
    } else if (args.flag("--log-inputs")) {
      log_inputs = true;
    } else {
      return cli::usage_error(kServe, "unknown option '" + std::string(args.arg()) + "'");
    }
    if (missing) return cli::usage_error(kServe, std::string(args.arg()) + " needs a value");
  }
  if (root.empty()) return cli::usage_error(kServe, "give a POLICY file or a DIR of policies");
  if (!ledger_url.empty() && !state_file.empty())
    return cli::usage_error(kServe,
                            "--state snapshots the in-process ledger; with --ledger the "
                            "spend lives in Redis");

  serve::HttpServerOptions hopts;
  {
    size_t colon = listen.rfind(':');
    long long port = 0;
    if (colon == std::string::npos || !parse_count(listen.substr(colon + 1), 0, &port) ||
        port > 65535)
      return cli::usage_error(kServe, "--listen wants HOST:PORT, got '" + listen + "'");
    hopts.host = listen.substr(0, colon);
    if (hopts.host.size() > 2 && hopts.host.front() == '[' && hopts.host.back() == ']')
      hopts.host = hopts.host.substr(1, hopts.host.size() - 2);
    hopts.port = static_cast<uint16_t>(port);
  }
  hopts.threads = static_cast<int>(threads);
  hopts.max_body_bytes = static_cast<size_t>(max_body);
  hopts.max_header_bytes = static_cast<size_t>(max_header);
  hopts.read_timeout_ms = static_cast<int>(read_timeout * 1000);
  hopts.idle_timeout_ms = static_cast<int>(idle_timeout * 1000);
  hopts.max_connections = static_cast<int>(max_conn);

  if (!token_file.empty()) {
    if (!cli::read_file(token_file, &sopts.admin_token)) {
      std::fprintf(stderr, "tollgate serve: cannot read --token-file %s\n", token_file.c_str());
      return cli::kExitUsage;
    }
    while (!sopts.admin_token.empty() &&
           (sopts.admin_token.back() == '\n' || sopts.admin_token.back() == '\r' ||
            sopts.admin_token.back() == ' '))
      sopts.admin_token.pop_back();
    if (sopts.admin_token.empty()) {
      std::fprintf(stderr, "tollgate serve: --token-file %s is empty\n", token_file.c_str());
      return cli::kExitUsage;
    }
  }
  sopts.admissions.ttl_ms = ttl * 1000;
  sopts.admissions.max_open = static_cast<size_t>(max_res);
  sopts.log_inputs = log_inputs;

  // Signals are taken by the control loop below: block them before any thread exists, so every
  // thread the engine and server start inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  EngineOptions eopts;
  eopts.backend = interp ? Backend::Interpreter : Backend::Jit;
  eopts.jit_hot_decisions = static_cast<uint64_t>(jit_hot);
  std::string err;
  eopts.prices = cli::load_prices(prices, &err);
  if (!err.empty()) {
    std::fprintf(stderr, "tollgate serve: %s\n", err.c_str());
    return cli::kExitUsage;
  }
  if (!ledger_url.empty()) {
    std::unique_ptr<LedgerBackend> backend = make_ledger_backend(ledger_url, &err);
    if (!backend) {
      std::fprintf(stderr, "tollgate serve: --ledger: %s\n", err.c_str());
      return cli::kExitUsage;
    }
    eopts.ledger = std::make_shared<Ledger>(std::move(backend));
  } else {
    eopts.ledger = std::make_shared<Ledger>();
    if (!state_file.empty() && cli::file_exists(state_file)) {
      LedgerLoadStats st;
      if (!eopts.ledger->load(state_file, 0, &st, &err)) {
        std::fprintf(stderr, "tollgate serve: --state %s: %s\n", state_file.c_str(), err.c_str());
        return cli::kExitFail;
      }
      log_line("restored " + std::to_string(st.restored) + " budget counters from " + state_file +
               " (" + std::to_string(st.expired) + " of ended windows dropped)");
    }
  }
  Engine engine(eopts);

  serve::PolicySet policies(engine, root, candidate);
  serve::RefreshReport first = policies.refresh();
  log_report(first);
  if (policies.size() == 0) {
    std::fprintf(stderr, "tollgate serve: no policy could be loaded from %s\n", root.c_str());
    return cli::kExitFail;
  }

  std::unique_ptr<serve::DecisionLog> dlog;
  if (!decision_log.empty()) {
    dlog = std::make_unique<serve::DecisionLog>(decision_log, static_cast<uint64_t>(log_max));
    if (!dlog->open(&err)) {
      std::fprintf(stderr, "tollgate serve: %s\n", err.c_str());
      return cli::kExitUsage;
    }
  }

  serve::Service service(engine, policies, sopts, dlog.get());
  serve::HttpServer server(hopts, [&service](const serve::HttpRequest& rq,
                                             serve::HttpResponse* rs) { service.handle(rq, rs); });
  service.set_http_stats([&server] { return server.stats(); });
  if (!server.start(&err)) {
    std::fprintf(stderr, "tollgate serve: %s\n", err.c_str());
    return cli::kExitFail;
  }
  log_line("listening on " + hopts.host + ":" + std::to_string(server.port()) + ", " +
           std::to_string(policies.size()) + " policies");
  if (!port_file.empty()) cli::write_file(port_file, std::to_string(server.port()) + "\n");

  Watcher watcher;
  if (watch) {
    watcher.add(root);
    if (!candidate.empty()) watcher.add(candidate);
  }
  auto save_state = [&] {
    if (state_file.empty()) return;
    std::string e;
    if (!engine.ledger().save(state_file, &e)) log_line("state snapshot failed: " + e);
  };

  int64_t next_tick = mono_ms() + 1000, next_save = mono_ms() + state_interval * 1000;
  int64_t reload_at = -1;
  for (;;) {
    // Wake every 100 ms, sooner when a reload is due.
    int64_t wait_ms = 100;
    if (reload_at >= 0)
      wait_ms = std::max<int64_t>(1, std::min<int64_t>(wait_ms, reload_at - mono_ms()));
    timespec wait = {0, static_cast<long>(wait_ms) * 1000 * 1000};
    siginfo_t info;
    int sig = sigtimedwait(&signals, &info, &wait);
    if (sig == SIGTERM || sig == SIGINT) {
      log_line(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
               ": draining in-flight requests");
      break;
    }
    const int64_t now = mono_ms();
    if (sig == SIGHUP) {
      log_line("received SIGHUP: reloading");
      log_report(service.reload());
    }
    // A change schedules one reload 50 ms later, which takes in the rest of a burst of writes.
    // Later changes do not push it back: a file rewritten more often than that is still
    // reloaded every 50 ms instead of never.
    if (watcher.changed() && reload_at < 0) reload_at = now + 50;
    if (reload_at >= 0 && now >= reload_at) {
      reload_at = -1;
      log_report(service.reload());
    }
    if (now >= next_tick) {
      service.tick(Ledger::wall_clock_ms());
      next_tick = now + 1000;
    }
    if (now >= next_save) {
      save_state();
      next_save = now + state_interval * 1000;
    }
  }
  server.stop();
  save_state();
  if (dlog) dlog->flush();
  if (auto* redis = dynamic_cast<RedisLedgerBackend*>(&engine.ledger().backend())) {
    if (!redis->flush(2000)) log_line("could not report all recorded usage to Redis before exit");
  }
  log_line("stopped");
  return cli::kExitOk;
}
