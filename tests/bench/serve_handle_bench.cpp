// tollgate serve's request handling without sockets: Service::handle for /null (routing and
// metrics only), /v1/decide (JSON body in, JSON decision out) and /v1/authz (headers in, headers
// out) on policies/gateway.pol with the JIT. What decide and authz add over /null is what the
// service itself costs per request beyond HTTP; serve_bench.py measures the whole server.
#include <benchmark/benchmark.h>

#include <string>

#include "tools/serve/policy_set.h"
#include "tools/serve/service.h"

using namespace tollgate;
using namespace tollgate::serve;

namespace {

struct Server {
  Engine engine;
  PolicySet set{engine, TOLLGATE_SOURCE_DIR "/policies/gateway.pol", ""};
  Service service{engine, set, ServiceOptions{}, nullptr};
  Server() {
    if (set.refresh().added != 1) std::abort();
  }
};

Server& server() {
  static Server s;
  return s;
}

void run(benchmark::State& state, HttpRequest req, int want_status) {
  Server& s = server();
  HttpResponse resp;
  for (auto _ : state) {
    resp.headers.clear();
    resp.body.clear();
    s.service.handle(req, &resp);
    benchmark::DoNotOptimize(resp.body.data());
  }
  if (resp.status != want_status)
    state.SkipWithError(("status " + std::to_string(resp.status) + ": " + resp.body).c_str());
}

void BM_Null(benchmark::State& state) {
  HttpRequest req;
  req.method = "GET";
  req.path = "/null";
  run(state, req, 200);
}

const char* kBody = R"({"input":{"tenant":"acme","task":"classify","in_tokens":300}})";

void BM_Decide(benchmark::State& state) {
  HttpRequest req;
  req.method = "POST";
  req.path = "/v1/decide";
  req.body = kBody;
  run(state, req, 200);
}

void BM_Authz(benchmark::State& state) {
  HttpRequest req;
  req.method = "GET";
  req.path = "/v1/authz";
  req.headers = {{"host", "127.0.0.1"},
                 {"x-tollgate-tenant", "acme"},
                 {"x-tollgate-task", "classify"},
                 {"x-tollgate-in-tokens", "300"}};
  run(state, req, 200);
}

}  // namespace

BENCHMARK(BM_Null);
BENCHMARK(BM_Decide);
BENCHMARK(BM_Authz);
BENCHMARK_MAIN();
