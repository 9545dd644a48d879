// libFuzzer target for tollgate serve's request handling: arbitrary bytes as the body of
// /v1/decide, /v1/admit, /v1/record and /v1/release, or as header lines of /v1/authz (the first
// byte picks the endpoint and the query), through Service::handle without sockets. Nothing may
// crash, and no answer may be a 500: bad input is always a 4xx.
//
// Build: CC=clang-19 CXX=clang++-19 cmake -S . -B build-fuzz -G Ninja -DTOLLGATE_FUZZ=ON
//        ninja -C build-fuzz serve_request_fuzz
// Run:   build-fuzz/serve_request_fuzz -max_total_time=600 /tmp/serve_corpus \
//          tests/fuzz/corpus_serve_request_fuzz                        (see docs/fuzzing.md)
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tollgate/tollgate.hpp"
#include "tools/serve/policy_set.h"
#include "tools/serve/service.h"

using namespace tollgate;
using namespace tollgate::serve;

namespace {

const char* kPolicy = R"(policy fz on_error deny
input {
  tenant: string
  tier: enum(free, pro) = pro
  in_tokens: int = 100
  score: float = 0.5
  vip: bool = false
}
routes {
  cheap = "m-cheap" in $1/M out $2/M
  strong = "m-strong" in $3/M out $15/M
}
budget daily = 1 usd per tenant per day
if tenant startswith "x" deny "x tenants"
if daily.remaining <= 0 deny "daily budget exhausted"
if in_tokens / 10 > 100 and score > 0.7 route cheap max_out 64
default route strong max_out 1000
if vip tag tenant
)";

struct World {
  std::string dir;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<PolicySet> set;
  std::unique_ptr<Service> service;
  World() {
    char tmpl[] = "/tmp/tollgate-serve-fuzz-XXXXXX";
    dir = mkdtemp(tmpl);
    std::ofstream(dir + "/fz.pol") << kPolicy;
    EngineOptions o;
    o.backend = Backend::Interpreter;
    engine = std::make_unique<Engine>(o);
    set = std::make_unique<PolicySet>(*engine, dir, "");
    if (set->refresh().added != 1) std::abort();
    ServiceOptions so;
    so.admissions.max_open = 64;
    service = std::make_unique<Service>(*engine, *set, so, nullptr);
  }
};

World& world() {
  static World* w = new World();  // never destroyed: libFuzzer exits without unwinding
  return *w;
}

const char* const kTargets[] = {"/v1/decide",         "/v1/decide/fz", "/v1/decide/fz?explain=1",
                                "/v1/admit",          "/v1/record",    "/v1/release",
                                "/v1/authz",          "/v1/authz/fz",  "/v1/decide/../fz"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  World& w = world();
  const std::string target = kTargets[data[0] % (sizeof kTargets / sizeof kTargets[0])];
  std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);

  HttpRequest req;
  size_t q = target.find('?');
  req.path = std::string_view(target).substr(0, q);
  if (q != std::string::npos) req.query = std::string_view(target).substr(q + 1);
  std::vector<std::string> lines;
  if (target.rfind("/v1/authz", 0) == 0) {
    req.method = "GET";
    // "name: value" lines become headers.
    size_t at = 0;
    while (at <= rest.size()) {
      size_t nl = rest.find('\n', at);
      lines.push_back(rest.substr(at, nl == std::string::npos ? std::string::npos : nl - at));
      if (nl == std::string::npos) break;
      at = nl + 1;
    }
    for (const std::string& l : lines) {
      size_t colon = l.find(':');
      if (colon == std::string::npos) continue;
      std::string_view line(l);
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      req.headers.emplace_back(line.substr(0, colon), value);
    }
  } else {
    req.method = "POST";
    req.body = rest;
  }
  HttpResponse resp;
  w.service->handle(req, &resp);
  static int calls = 0;
  if (++calls % 64 == 0) w.service->tick(Ledger::wall_clock_ms() + 10 * 60 * 1000);  // expire all
  if (resp.status >= 500 && resp.status != 503) {
    std::fprintf(stderr, "status %d for %s: %s\n", resp.status, target.c_str(), resp.body.c_str());
    std::abort();
  }
  return 0;
}
