// tollgate serve, in process: the endpoints through Service::handle (no sockets), then the HTTP
// server's limits over real loopback sockets (oversized bodies and heads, slow clients, too many
// connections, keep-alive). The real nginx / h2load / redis tests are tests/integration/.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tollgate/audit.hpp"
#include "tools/serve/http.h"
#include "tools/serve/policy_set.h"
#include "tools/serve/service.h"

using namespace tollgate;
using namespace tollgate::serve;
using nlohmann::json;

namespace {

const char* kPolicy = R"(policy shop on_error deny
input {
  tenant: string
  tier: enum(free, pro) = pro
  task: enum(classify, chat) = chat
  in_tokens: int = 100
  score: float = 0.5
  vip: bool = false
}
routes {
  cheap = "m-cheap" in $1/M out $2/M
  strong = "m-strong" in $3/M out $15/M
}
budget daily = 1 usd per tenant per day
if tenant startswith "blocked-" deny "blocked tenant"
if daily.remaining <= 0 deny "daily budget exhausted"
if task == classify route cheap max_out 64
default route strong max_out 1000
if tier == free max_in 2000
if vip tag "vip"
)";

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/tollgate-serve-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};

// An engine, a policy directory and the service over it.
struct Fixture {
  TempDir dir;
  Engine engine{[] {
    EngineOptions o;
    o.backend = Backend::Interpreter;
    return o;
  }()};
  std::unique_ptr<PolicySet> set;
  std::unique_ptr<Service> service;
  explicit Fixture(ServiceOptions opts = {}) {
    dir.write("shop.pol", kPolicy);
    set = std::make_unique<PolicySet>(engine, dir.path.string(), "");
    RefreshReport r = set->refresh();
    REQUIRE(r.added == 1);
    service = std::make_unique<Service>(engine, *set, opts, nullptr);
  }
  HttpResponse call(std::string_view method, std::string_view target, std::string_view body = "",
                    std::vector<std::pair<std::string_view, std::string_view>> headers = {}) {
    HttpRequest req;
    req.method = method;
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string_view::npos) req.query = target.substr(q + 1);
    req.body = body;
    req.headers = std::move(headers);
    HttpResponse resp;
    service->handle(req, &resp);
    return resp;
  }
  json post(std::string_view target, const json& body, int expect_status) {
    const std::string text = body.dump();
    HttpResponse r = call("POST", target, text);
    INFO(r.body);
    CHECK(r.status == expect_status);
    return json::parse(r.body);
  }
};

std::string header(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "<absent>";
}

}  // namespace

TEST_CASE("decide answers with the JSON of eval --json") {
  Fixture f;
  json out = f.post("/v1/decide", {{"input", {{"tenant", "acme"}, {"task", "classify"}}}}, 200);
  CHECK(out["policy"]["name"] == "shop");
  CHECK(out["decision"]["route"] == "cheap");
  CHECK(out["decision"]["model"] == "m-cheap");
  CHECK(out["decision"]["max_out"] == 64);
  CHECK(out["decision"]["rules"]["route"]["line"] == 17);
  // By name, and with the trace.
  json named = f.post("/v1/decide/shop?explain=true", {{"input", {{"tenant", "acme"}}}}, 200);
  CHECK(named["decision"]["route"] == "strong");
  REQUIRE(named["rules"].is_array());
  CHECK(named["rules"].size() == 6);
  CHECK(f.post("/v1/decide", {{"input", {{"tenant", "blocked-1"}}}},
               200)["decision"]["deny_reason"] == "blocked tenant");
}

TEST_CASE("decide rejects bad input with a 4xx naming the field") {
  Fixture f;
  auto status = [&](std::string_view target, std::string_view body) {
    return f.call("POST", target, body).status;
  };
  CHECK(status("/v1/decide", R"({"input":{"tenant":"a",)") == 400);  // truncated
  CHECK(status("/v1/decide", "[1,2]") == 400);
  CHECK(status("/v1/decide", R"({"input":{"in_tokens":1e999}})") == 400);  // overflow (fuzz)
  CHECK(status("/v1/decide", "") == 400);
  json e = f.post("/v1/decide", {{"input", {{"tenant", 7}}}}, 400);
  CHECK(e["error"].get<std::string>().find("input 'tenant'") != std::string::npos);
  e = f.post("/v1/decide", {{"input", {{"tier", "gold"}}}}, 400);
  CHECK(e["error"].get<std::string>().find("'gold' is not a member") != std::string::npos);
  e = f.post("/v1/decide", {{"input", {{"in_tokens", 1.5}}}}, 400);
  CHECK(e["error"].get<std::string>().find("in_tokens") != std::string::npos);
  e = f.post("/v1/decide", {{"input", {{"nope", 1}}}}, 400);
  CHECK(e["error"].get<std::string>().find("unknown input 'nope'") != std::string::npos);
  e = f.post("/v1/decide", {{"inputs", {{"tenant", "a"}}}}, 400);
  CHECK(e["field"] == "inputs");
  e = f.post("/v1/decide", {{"input", {{"tenant", "a"}}}, {"now", "yesterday"}}, 400);
  CHECK(e["field"] == "now");
  // The decide body is parsed by SAX events: every shape the document path refused still is.
  auto bad = [&](std::string_view body, const char* field, const char* words) {
    HttpResponse r = f.call("POST", "/v1/decide", body);
    INFO(body << " -> " << r.body);
    CHECK(r.status == 400);
    json e = json::parse(r.body);
    CHECK(e.value("field", "") == field);
    CHECK(e["error"].get<std::string>().find(words) != std::string::npos);
  };
  bad(R"({"input":[1]})", "input", "must be an object of input values, got an array");
  bad(R"({"input":null})", "input", "got null");
  bad(R"({"input":{"tenant":{"a":1}}})", "input", "got an object");
  bad(R"({"input":{"tenant":["a"]}})", "input", "got an array");
  bad(R"({"now":{}})", "now", "RFC 3339");
  bad(R"({"now":-5})", "now", "RFC 3339");
  bad(R"("text")", "", "must be a JSON object");
  bad(R"({"input":{"vip":1}})", "input", "input 'vip'");
  bad(R"({"input":{"tenant":"a"}} trailing)", "", "not valid JSON");
  // Strings are copied out of the parser's buffer: a long one survives until the decision.
  const std::string tenant = "blocked-" + std::string(200, 'x');
  CHECK(f.post("/v1/decide", {{"input", {{"tenant", tenant}}}, {"now", "2026-12-07T10:00:00Z"}},
               200)["decision"]["deny_reason"] == "blocked tenant");
  CHECK(f.post("/v1/decide", {{"input", {{"tenant", "a"}, {"score", 1}, {"tier", nullptr}}}},
               200)["decision"]["route"] == "strong");
  CHECK(f.post("/v1/decide/nosuch", {{"input", json::object()}}, 404)["field"] == "policy");
  CHECK(f.call("POST", "/v1/decide/../../etc/passwd", "{}").status == 404);
  CHECK(f.call("GET", "/v1/decide", "").status == 405);
  CHECK(f.call("GET", "/nowhere").status == 404);
}

TEST_CASE("bytes that are not UTF-8 give valid JSON answers, never an exception") {
  Fixture f;
  // Found by serve_request_fuzz: a parse error quoting the invalid byte made the error reply
  // itself throw.
  const std::string bad_body = "{\"id\":\"K\x8c\x0d\x12\", \"in\":1}";
  HttpResponse r = f.call("POST", "/v1/record", bad_body);
  CHECK(r.status == 400);
  CHECK_NOTHROW(json::parse(r.body));
  // A header value is raw bytes: it decides like any other string (authz answers in text).
  r = f.call("GET", "/v1/authz", "", {{"x-tollgate-tenant", "blocked-\xff\xc3("}});
  CHECK(r.status == 403);
  CHECK(r.body == "denied: blocked tenant\n");
  // What does reach JSON (decision logs with --log-inputs, ledger keys) goes through the one
  // escaper, which replaces every byte of an ill-formed sequence with U+FFFD.
  std::string ev;
  append_json_string("a\xe2\x82\xac b\xed\xa0\x80 c\xf4\x90\x80\x80 \xc0\xaf", &ev);
  CHECK(json::parse(ev) == "a\u20ac b\ufffd\ufffd\ufffd c\ufffd\ufffd\ufffd\ufffd \ufffd\ufffd");
}

TEST_CASE("authz maps headers to inputs and the decision to headers") {
  ServiceOptions opts;
  opts.header_map = {{"tier", "x-user-tier"}};
  Fixture f(opts);
  HttpResponse r = f.call("GET", "/v1/authz", "",
                          {{"X-Tollgate-Tenant", "acme"},
                           {"x-tollgate-task", "classify"},
                           {"x-user-tier", "free"},
                           {"x-tollgate-vip", "true"}});
  CHECK(r.status == 200);
  CHECK(header(r, "x-tollgate-route") == "cheap");
  CHECK(header(r, "x-tollgate-model") == "m-cheap");
  CHECK(header(r, "x-tollgate-max-out") == "64");
  CHECK(header(r, "x-tollgate-max-in") == "2000");
  CHECK(header(r, "x-tollgate-rule") == "17");
  CHECK(header(r, "x-tollgate-tags") == "vip");
  CHECK(header(r, "x-tollgate-rag-top-k") == "<absent>");  // no RAG decided: no header

  HttpResponse pro = f.call("GET", "/v1/authz/shop", "", {{"x-tollgate-tenant", "acme"}});
  CHECK(pro.status == 200);
  CHECK(header(pro, "x-tollgate-max-in") == "<absent>");  // absent cap: no header

  // Envoy ext_authz appends the original request path to path_prefix.
  HttpResponse envoy =
      f.call("POST", "/v1/authz/shop/v1/chat/completions", "", {{"x-tollgate-tenant", "acme"}});
  CHECK(envoy.status == 200);
  CHECK(header(envoy, "x-tollgate-route") == "strong");

  HttpResponse denied = f.call("GET", "/v1/authz", "", {{"x-tollgate-tenant", "blocked-9"}});
  CHECK(denied.status == 403);
  CHECK(header(denied, "x-tollgate-reason") == "blocked tenant");
  HttpResponse bad = f.call("GET", "/v1/authz", "", {{"x-tollgate-in-tokens", "lots"}});
  CHECK(bad.status == 403);  // fail closed: a bad input is a denial, not an error page
  CHECK(header(bad, "x-tollgate-reason").find("x-tollgate-in-tokens") != std::string::npos);
  // No tenant: the rule reading it errs, and on_error deny denies.
  CHECK(f.call("GET", "/v1/authz").status == 403);
}

TEST_CASE("admit reserves, record settles, and the budget runs out") {
  Fixture f;
  json base = {{"policy", "shop"}, {"input", {{"tenant", "t1"}}}, {"est_in_tokens", 1000}};
  int admitted = 0;
  for (int i = 0; i < 100; ++i) {
    json a = f.post("/v1/admit", base, 200);
    if (!a["admitted"].get<bool>()) {
      CHECK(a["id"].is_null());
      CHECK(a["reason"].get<std::string>().find("daily") != std::string::npos);
      break;
    }
    ++admitted;
    // max_out 1000 at $15/M + 1000 in at $3/M: $0.018 reserved.
    CHECK(a["estimated_cost"].get<double>() == Approx(0.018));
    json rec =
        f.post("/v1/record", {{"id", a["id"]}, {"in_tokens", 1000}, {"out_tokens", 1000}}, 200);
    CHECK(rec["recorded"] == true);
    // The id is settled: a second record is a 404, counted.
    f.post("/v1/record", {{"id", a["id"]}, {"in_tokens", 1}}, 404);
  }
  // Each call costs $0.018; $1 admits floor((1 - 0.018) / 0.018) + 1 calls before the estimate
  // no longer fits.
  CHECK(admitted == 55);
  // $0.99 spent: the policy still routes, but no further call's estimate fits.
  json d = f.post("/v1/decide", {{"input", {{"tenant", "t1"}}}}, 200);
  CHECK(d["decision"]["route"] == "strong");
  CHECK(f.post("/v1/admit", base, 200)["reason"] == "budget daily exhausted");
  CHECK(f.post("/v1/decide", {{"input", {{"tenant", "t2"}}}}, 200)["decision"]["route"] ==
        "strong");

  HttpResponse m = f.call("GET", "/metrics");
  CHECK(m.status == 200);
  CHECK(m.body.find("tollgate_settle_unknown_total 55") != std::string::npos);
  CHECK(m.body.find(
            "tollgate_budget_spent{budget=\"daily\",window=\"day\",unit=\"usd\",key=\"t1\"}") !=
        std::string::npos);
  CHECK(m.body.find("tollgate_admissions_total{policy=\"shop\",result=\"denied\"} 2") !=
        std::string::npos);
}

TEST_CASE("unsettled reservations expire and return their budget") {
  ServiceOptions opts;
  opts.admissions.ttl_ms = 1000;
  Fixture f(opts);
  json base = {{"input", {{"tenant", "t1"}}}, {"est_in_tokens", 1000}};
  std::vector<std::string> ids;
  for (;;) {
    json a = f.post("/v1/admit", base, 200);
    if (!a["admitted"].get<bool>()) break;
    ids.push_back(a["id"]);
    REQUIRE(ids.size() < 100);
  }
  CHECK(ids.size() == 55);
  CHECK(f.service->admissions().open() == 55);
  // Reservations alone exhaust the day; once they expire, the budget is whole again.
  f.service->tick(Ledger::wall_clock_ms() + 2000);
  CHECK(f.service->admissions().open() == 0);
  CHECK(f.post("/v1/admit", base, 200)["admitted"] == true);
  json late = f.post("/v1/record", {{"id", ids[0]}, {"in_tokens", 10}}, 404);
  CHECK(late["error"].get<std::string>().find("expired") != std::string::npos);
  json rel = f.post("/v1/release", {{"id", "0123"}}, 404);
  CHECK(rel["error"].get<std::string>().find("no open reservation") != std::string::npos);
  CHECK(f.call("GET", "/metrics").body.find("tollgate_reservations_expired_total 55") !=
        std::string::npos);
}

TEST_CASE("reload keeps the old version when the new one does not compile") {
  ServiceOptions opts;
  opts.admin_token = "s3cret";
  Fixture f(opts);
  const std::string v1 =
      f.post("/v1/decide", {{"input", {{"tenant", "a"}}}}, 200)["policy"]["version"];
  f.dir.write("shop.pol", std::string(kPolicy) + "if task == chat route nowhere\n");
  CHECK(f.call("POST", "/v1/reload").status == 401);
  HttpResponse bad = f.call("POST", "/v1/reload", "", {{"Authorization", "Bearer s3cret"}});
  CHECK(bad.status == 422);
  CHECK(f.post("/v1/decide", {{"input", {{"tenant", "a"}}}}, 200)["policy"]["version"] == v1);
  json list = json::parse(f.call("GET", "/v1/policies").body);
  REQUIRE(list["policies"].size() == 1);
  CHECK(list["policies"][0]["last_reload_error"].get<std::string>().find("nowhere") !=
        std::string::npos);
  CHECK(f.call("GET", "/metrics").body.find("tollgate_policy_reload_error{policy=\"shop\"} 1") !=
        std::string::npos);

  f.dir.write("shop.pol", std::string(kPolicy) + "if task == chat tag \"v2\"\n");
  CHECK(f.call("POST", "/v1/reload", "", {{"Authorization", "Bearer s3cret"}}).status == 200);
  json d = f.post("/v1/decide", {{"input", {{"tenant", "a"}}}}, 200);
  CHECK(d["policy"]["version"] != v1);
  CHECK(d["decision"]["tags"][0] == "v2");
  list = json::parse(f.call("GET", "/v1/policies").body);
  CHECK(list["policies"][0]["last_reload_error"].is_null());
  CHECK(list["policies"][0]["generation"].get<uint64_t>() >= 1);

  // A second policy: /v1/decide must now name one.
  f.dir.write("other.pol",
              "policy other\ninput { x: int = 1 }\nroutes { a = \"m\" in $1/M out $1/M }\ndefault "
              "route a\n");
  f.service->reload();
  CHECK(f.set->size() == 2);
  CHECK(f.post("/v1/decide", {{"input", json::object()}}, 404)["field"] == "policy");
  CHECK(f.post("/v1/decide/other", {{"input", json::object()}}, 200)["decision"]["route"] == "a");
  std::filesystem::remove(f.dir.path / "other.pol");
  f.service->reload();
  CHECK(f.set->size() == 1);
}

TEST_CASE("readyz, healthz and metrics") {
  Fixture f;
  CHECK(f.call("GET", "/healthz").status == 200);
  json ready = json::parse(f.call("GET", "/readyz").body);
  CHECK(ready["ready"] == true);
  CHECK(ready["ledger"] == "memory");
  f.post("/v1/decide", {{"input", {{"tenant", "a"}, {"task", "classify"}}}}, 200);
  f.post("/v1/decide", {{"input", {{"tenant", "blocked-\"x\""}}}}, 200);
  const std::string m = f.call("GET", "/metrics").body;
  CHECK(m.find("tollgate_decisions_total{policy=\"shop\",route=\"cheap\"} 1") != std::string::npos);
  CHECK(m.find("tollgate_denials_total{policy=\"shop\",reason=\"blocked tenant\"} 1") !=
        std::string::npos);
  CHECK(m.find("tollgate_rule_hits_total{policy=\"shop\",line=\"17\"} 1") != std::string::npos);
  CHECK(m.find("tollgate_decision_duration_seconds_count 2") != std::string::npos);
  CHECK(m.find("tollgate_request_duration_seconds_bucket{endpoint=\"decide\",le=\"+Inf\"} 2") !=
        std::string::npos);
  CHECK(m.find("tollgate_policy_jit{policy=\"shop\"} 0") != std::string::npos);
}

TEST_CASE("Prometheus label values are escaped") {
  CHECK(prom_labels({{"reason", "a \"b\" \\ c\nd"}}) == "reason=\"a \\\"b\\\" \\\\ c\\nd\"");
}

// ---- over sockets ------------------------------------------------------------------------------

namespace {

int connect_to(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

void send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;  // the server may close on us; the reply tells
    off += static_cast<size_t>(n);
  }
}

// Reads until the server closes or one response (by Content-Length) has arrived.
std::string read_response(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    size_t head = out.find("\r\n\r\n");
    if (head != std::string::npos) {
      size_t cl = out.find("Content-Length: ");
      if (cl != std::string::npos && cl < head) {
        size_t len = std::stoul(out.substr(cl + 16));
        if (out.size() >= head + 4 + len) return out;
      }
    }
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

int status_of(const std::string& response) {
  if (response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

struct Served {
  Fixture f;
  HttpServer server;
  explicit Served(HttpServerOptions o)
      : server(o, [this](const HttpRequest& rq, HttpResponse* rs) { f.service->handle(rq, rs); }) {
    std::string err;
    REQUIRE(server.start(&err));
  }
};

HttpServerOptions small_limits() {
  HttpServerOptions o;
  o.port = 0;
  o.max_body_bytes = 4096;
  o.max_header_bytes = 2048;
  o.read_timeout_ms = 500;
  o.idle_timeout_ms = 2000;
  o.max_connections = 8;
  return o;
}

std::string post_request(const std::string& body) {
  return "POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Type: "
         "application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

TEST_CASE("the HTTP server answers with keep-alive and enforces its limits") {
  Served s(small_limits());
  const uint16_t port = s.server.port();

  SECTION("keep-alive: many requests on one connection") {
    int fd = connect_to(port);
    for (int i = 0; i < 50; ++i) {
      send_all(fd, post_request(R"({"input":{"tenant":"a"}})"));
      std::string r = read_response(fd);
      REQUIRE(status_of(r) == 200);
      CHECK(r.find("\"route\":\"strong\"") != std::string::npos);
    }
    close(fd);
  }
  SECTION("a body over the limit gets 413") {
    int fd = connect_to(port);
    send_all(fd, post_request("{\"input\":{\"tenant\":\"" + std::string(10000, 'a') + "\"}}"));
    CHECK(status_of(read_response(fd)) == 413);
    close(fd);
  }
  SECTION("10,000 headers get 431") {
    int fd = connect_to(port);
    std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 10000; ++i) req += "x-h" + std::to_string(i) + ": v\r\n";
    req += "\r\n";
    send_all(fd, req);
    CHECK(status_of(read_response(fd)) == 431);
    close(fd);
  }
  SECTION("garbage gets 400") {
    int fd = connect_to(port);
    send_all(fd, "\x01\x02 NOT HTTP\r\n\r\n");
    CHECK(status_of(read_response(fd)) == 400);
    close(fd);
  }
  SECTION("a drip-feeding client is cut off by the read timeout, others are served") {
    int slow = connect_to(port);
    send_all(slow, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    const auto t0 = std::chrono::steady_clock::now();
    std::string r;
    for (int i = 0; i < 20; ++i) {
      send_all(slow, "x");  // one byte at a time, never ending the head
      int fast = connect_to(port);
      send_all(fast, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
      CHECK(status_of(read_response(fast)) == 200);
      close(fast);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      char c;
      if (recv(slow, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0 || errno != EAGAIN) break;
    }
    r = read_response(slow);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(r.empty());   // closed: the timer closes the socket, so no 408 can be written
    CHECK(secs < 2.0);  // read timeout 0.5 s; a bound, not a measurement
    close(slow);
  }
  SECTION("connections over the limit get 503, and the server recovers") {
    std::vector<int> fds;
    for (int i = 0; i < 8; ++i) fds.push_back(connect_to(port));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int extra = connect_to(port);
    CHECK(status_of(read_response(extra)) == 503);
    close(extra);
    for (int fd : fds) close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int fd = connect_to(port);
    send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(status_of(read_response(fd)) == 200);
    close(fd);
    CHECK(s.server.stats().connections_rejected == 1);
  }
}
