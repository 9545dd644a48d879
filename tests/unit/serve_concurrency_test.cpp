// tollgate serve under concurrency, over real sockets: client threads decide, admit and record
// through the HTTP server while another thread rewrites the policy file and reloads it, alternating
// versions that compile and versions that do not. Every request must succeed, every answer must
// come from a version that compiled, and the ledger must hold exactly what was recorded. Built
// under TSan by run.sh tsan.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tools/serve/http.h"
#include "tools/serve/policy_set.h"
#include "tools/serve/service.h"

using namespace tollgate;
using namespace tollgate::serve;
using nlohmann::json;

namespace {

// Version n tags every decision "v<n>", so an answer names the version that made it.
std::string version(int n) {
  return "policy gw\n"
         "input {\n  tenant: string\n  task: enum(classify, chat) = chat\n}\n"
         "routes {\n  cheap = \"m-cheap\" in $1/M out $2/M\n  strong = \"m-strong\" in $3/M out "
         "$15/M\n}\n"
         "budget daily = 1000 usd per tenant per day\n"
         "if daily.ratio >= 1.0 deny \"daily budget exhausted\"\n"
         "if task == classify route cheap max_out 64\n"
         "default route strong max_out 100\n"
         "if true tag \"v" +
         std::to_string(n) + "\"\n";
}

class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Client() { close(fd_); }
  // POSTs on the keep-alive connection; returns the status and sets *body.
  int post(const std::string& path, const std::string& body, std::string* out) {
    if (!ok_) return 0;
    std::string req = "POST " + path +
                      " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\n\r\n" + body;
    if (send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
      return 0;
    std::string in;
    char buf[8192];
    for (;;) {
      size_t head = in.find("\r\n\r\n");
      if (head != std::string::npos) {
        size_t cl = in.find("Content-Length: ");
        if (cl != std::string::npos && cl < head) {
          size_t len = std::stoul(in.substr(cl + 16));
          if (in.size() >= head + 4 + len) {
            *out = in.substr(head + 4, len);
            return std::stoi(in.substr(9, 3));
          }
        }
      }
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return 0;
      in.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

}  // namespace

TEST_CASE("decisions, admissions and reload storms at once") {
  char tmpl[] = "/tmp/tollgate-serve-cc-XXXXXX";
  const std::filesystem::path dir = mkdtemp(tmpl);
  const std::string file = (dir / "gw.pol").string();
  std::ofstream(file) << version(0);

  EngineOptions eo;
  eo.backend = Backend::Jit;
  eo.jit_hot_decisions = 50;  // the JIT tier arrives in the middle of the load
  Engine engine(eo);
  PolicySet set(engine, dir.string(), "");
  REQUIRE(set.refresh().added == 1);
  Service service(engine, set, {}, nullptr);
  HttpServerOptions ho;
  ho.port = 0;
  ho.threads = 2;
  HttpServer server(ho, [&](const HttpRequest& rq, HttpResponse* rs) { service.handle(rq, rs); });
  std::string err;
  REQUIRE(server.start(&err));

  std::mutex good_mu;
  std::set<std::string> good = {"v0"};  // tags of versions that compiled
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, bad_versions{0}, decisions{0};
  std::atomic<int64_t> recorded_out{0};

  std::thread reloader([&] {
    for (int n = 1; n <= 60; ++n) {
      const bool valid = n % 2 == 0;
      if (valid) {
        std::lock_guard<std::mutex> lock(good_mu);
        good.insert("v" + std::to_string(n));  // before it can serve
      }
      const std::string tmp = file + ".tmp";
      std::ofstream(tmp) << (valid ? version(n) : version(n) + "if true route nowhere\n");
      std::filesystem::rename(tmp, file);
      service.reload();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });

  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&, t] {
      Client c(server.port());
      const std::string tenant = "t" + std::to_string(t);
      // At least 150 requests each, and on until the last reload is done.
      for (int i = 0; i < 150 || !stop.load(); ++i) {
        std::string body;
        const bool classify = i % 2 == 0;
        json in = {{"tenant", tenant}, {"task", classify ? "classify" : "chat"}};
        if (c.post("/v1/decide", json({{"input", in}}).dump(), &body) != 200) {
          failures.fetch_add(1);
          continue;
        }
        json d = json::parse(body)["decision"];
        decisions.fetch_add(1);
        {
          std::lock_guard<std::mutex> lock(good_mu);
          if (d["tags"].size() != 1 || !good.count(d["tags"][0].get<std::string>()))
            bad_versions.fetch_add(1);
        }
        if (d["route"] != (classify ? "cheap" : "strong")) bad_versions.fetch_add(1);
        if (i % 3 != 0) continue;
        if (c.post("/v1/admit", json({{"input", in}, {"est_in_tokens", 10}}).dump(), &body) !=
            200) {
          failures.fetch_add(1);
          continue;
        }
        json a = json::parse(body);
        if (!a["admitted"].get<bool>()) {
          failures.fetch_add(1);
          continue;
        }
        // Record a cost in whole micro-dollars so the total is exact.
        if (c.post("/v1/record",
                   json({{"id", a["id"]},
                         {"in_tokens", 10},
                         {"out_tokens", 5},
                         {"cost_usd", 0.000001 * (1 + t)}})
                       .dump(),
                   &body) != 200) {
          failures.fetch_add(1);
          continue;
        }
        recorded_out.fetch_add(1 + t);
      }
    });
  }
  reloader.join();
  stop.store(true);
  for (auto& c : clients) c.join();

  CHECK(failures.load() == 0);
  CHECK(bad_versions.load() == 0);
  CHECK(decisions.load() >= 450);
  CHECK(set.find("gw")->reloads_ok.load() == 30);
  CHECK(set.find("gw")->reloads_failed.load() == 30);
  // Each client's tenant: the sum of what it recorded, in micro-dollars.
  const Policy p = set.find("gw")->handle->current();
  double total = 0;
  for (int t = 0; t < 3; ++t)
    total +=
        engine.ledger().spent(p.budgets()[0], "t" + std::to_string(t), Ledger::wall_clock_ms());
  CHECK(total * 1e6 == Approx(static_cast<double>(recorded_out.load())).margin(1e-6));
  CHECK(service.admissions().open() == 0);
  server.stop();
  std::filesystem::remove_all(dir);
}
