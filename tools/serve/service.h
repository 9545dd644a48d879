// The decision service's endpoints (docs/serve.md "API"): decide, admit/record/release, the HTTP
// external-authorization check for nginx auth_request and Envoy ext_authz, metrics, health, the
// policy list and reload. A plain function of HttpRequest to HttpResponse, so tests call it
// without sockets and the HTTP layer stays replaceable.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tollgate/tollgate.hpp"
#include "tools/serve/admissions.h"
#include "tools/serve/decision_log.h"
#include "tools/serve/http.h"
#include "tools/serve/metrics.h"
#include "tools/serve/policy_set.h"

namespace tollgate::serve {

struct ServiceOptions {
  // --header INPUT=HEADER: read INPUT from HEADER in /v1/authz instead of x-tollgate-INPUT.
  std::vector<std::pair<std::string, std::string>> header_map;
  // Bearer token the admin endpoints (POST /v1/reload) require; "" = no token configured.
  std::string admin_token;
  AdmissionTableOptions admissions;
  size_t top_budget_keys = 10;  // per budget window in /metrics; the rest sum into key="other"
  bool log_inputs = false;      // decision log records carry the inputs (may contain PII)
};

class Service {
 public:
  // `log` may be null (no --decision-log). `policies` and `engine` must outlive the service.
  Service(Engine& engine, PolicySet& policies, ServiceOptions options, DecisionLog* log);

  void handle(const HttpRequest& req, HttpResponse* resp);

  // Periodic duties of the control loop: expire unsettled reservations.
  void tick(int64_t now_ms);
  // Reload: re-reads the policy files (also what SIGHUP and file changes call).
  RefreshReport reload();

  // For /metrics: connection counters of the HTTP server in front (may be unset).
  void set_http_stats(std::function<HttpServerStats()> f) { http_stats_ = std::move(f); }
  AdmissionTable& admissions() { return admissions_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct VersionCache;
  VersionCache& version_for(const ServedPolicy& served, Policy* out);
  // Dispatches; sets *endpoint to the index in kEndpointNames the request is counted under.
  void route(const HttpRequest& req, HttpResponse* resp, int* endpoint);
  void decide(const HttpRequest& req, std::string_view name, HttpResponse* resp);
  void authz(const HttpRequest& req, std::string_view name, HttpResponse* resp);
  void admit(const HttpRequest& req, HttpResponse* resp);
  void settle(const HttpRequest& req, bool record, HttpResponse* resp);
  void metrics(HttpResponse* resp);
  void policies(HttpResponse* resp);
  void readyz(HttpResponse* resp);
  void admin_reload(const HttpRequest& req, HttpResponse* resp);

  // The served policy for `name` ("" = the only one); sets a 404 and returns null if none.
  std::shared_ptr<const ServedPolicy> resolve(std::string_view name, HttpResponse* resp);
  void count_decision(const Policy& policy, VersionCache& cache, const Decision& d, uint64_t ns);
  void log_decision(const Policy& policy, const Decision& d, const Request& req);

  const uint64_t id_;  // unique per Service in the process: per-thread caches check it
  Engine& engine_;
  PolicySet& policies_;
  ServiceOptions options_;
  DecisionLog* log_;
  AdmissionTable admissions_;
  std::function<HttpServerStats()> http_stats_;

  LabeledCounter decisions_;    // {policy, route}
  LabeledCounter denials_;      // {policy, reason}
  LabeledCounter rule_hits_;    // {policy, line}
  LabeledCounter eval_errors_;  // {policy}
  LabeledCounter admits_;       // {policy, result}
  std::atomic<uint64_t> records_{0}, releases_{0}, reload_requests_{0};
  LatencyHistogram decide_latency_;
  static constexpr int kEndpoints = 8;
  LatencyHistogram request_latency_[kEndpoints];
  // tollgate_requests_total{endpoint, code}: one counter per endpoint and status (0 = out of
  // range), a fixed array so counting a request is one relaxed increment.
  static constexpr int kMaxStatus = 600;
  std::array<std::atomic<uint64_t>, kEndpoints * kMaxStatus> request_counts_{};
};

}  // namespace tollgate::serve
