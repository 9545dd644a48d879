// The decision service's endpoints (see service.h and docs/serve.md). Every answer to bad input is
// a 4xx with a JSON error naming the field; a 500 means a bug in Tollgate.
#include "tools/serve/service.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <unordered_map>

#include "tollgate/audit.hpp"
#include "tollgate/redis_ledger.hpp"
#include "tools/decision_json.h"
#include "tools/explain_trace.h"
#include "tools/serve/decide_body.h"
#include "tools/serve/request_json.h"

namespace tollgate::serve {

using nlohmann::json;

namespace {

enum Endpoint { kDecide, kAuthz, kAdmit, kRecord, kRelease, kMetrics, kAdmin, kOther };
const char* const kEndpointNames[] = {"decide",  "authz",   "admit", "record",
                                      "release", "metrics", "admin", "other"};

void reply(HttpResponse* resp, int status, const json& body) {
  resp->status = status;
  resp->body = body.dump(-1, ' ', false, json::error_handler_t::replace);
}

void error(HttpResponse* resp, int status, std::string message, std::string field = "") {
  json body = {{"error", std::move(message)}};
  if (!field.empty()) body["field"] = std::move(field);
  reply(resp, status, body);
}

// A header value from policy text: CR, LF and other control bytes would split or corrupt the
// response, so they become spaces.
std::string header_safe(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// "/v1/decide" -> "", "/v1/decide/acme" -> "acme"; false when `path` is neither.
bool match(std::string_view path, std::string_view base, std::string_view* name) {
  if (path == base) {
    *name = {};
    return true;
  }
  if (path.size() > base.size() + 1 && starts_with(path, base) && path[base.size()] == '/') {
    *name = path.substr(base.size() + 1);
    return true;
  }
  return false;
}

// Parses a JSON object body; on failure fills a 400 and returns false.
bool parse_body(const HttpRequest& req, json* out, HttpResponse* resp) {
  if (req.body.empty()) {
    error(resp, 400, "the request needs a JSON object body");
    return false;
  }
  try {
    *out = json::parse(req.body.begin(), req.body.end());
  } catch (const json::exception& e) {  // parse_error, and out_of_range for 1e999
    error(resp, 400, std::string("body is not valid JSON: ") + e.what());
    return false;
  }
  if (!out->is_object()) {
    error(resp, 400, "the body must be a JSON object");
    return false;
  }
  return true;
}

// Rejects members other than `allowed` (a misspelt "inputs" must not decide on no inputs).
bool only_fields(const json& body, std::initializer_list<const char*> allowed, HttpResponse* resp) {
  for (auto it = body.begin(); it != body.end(); ++it) {
    bool ok = false;
    for (const char* a : allowed) ok |= it.key() == a;
    if (!ok) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      error(resp, 400, "unknown field '" + it.key() + "' (expected " + list + ")", it.key());
      return false;
    }
  }
  return true;
}

bool get_int(const json& body, const char* name, int64_t* out, HttpResponse* resp) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_number_integer() || it->get<int64_t>() < 0) {
    error(resp, 400, std::string("'") + name + "' must be a non-negative integer", name);
    return false;
  }
  *out = it->get<int64_t>();
  return true;
}

// Fills `req` from body["input"] and body["now"]; on failure fills a 400 and returns false.
bool fill_request(const Policy& policy, const json& body, Request* req, HttpResponse* resp) {
  auto in = body.find("input");
  if (in != body.end()) {
    std::string err;
    InputError e = set_inputs_from_json(policy, *in, req, &err);
    if (e != InputError::None) {
      error(resp, 400, err, "input");
      return false;
    }
  }
  auto now = body.find("now");
  if (now != body.end() && !now->is_null()) {
    int64_t ms = 0;
    if (!parse_request_time(*now, &ms)) {
      error(resp, 400, "'now' must be an RFC 3339 time or ms since the epoch", "now");
      return false;
    }
    req->now_ms = ms;
  }
  return true;
}

int64_t wall_ms() {
  return Ledger::wall_clock_ms();
}

// The label-set buffer of this thread: building a counter's key allocates nothing once warm.
std::string& label_buffer() {
  thread_local std::string buf;
  return buf;
}

std::atomic<uint64_t> next_service_id{1};

}  // namespace

// What a thread keeps per policy version it decides: a Request to reuse and the counters that
// version's decisions increment, resolved on first use. A hit costs one hash lookup, so the
// per-request path allocates nothing and builds no label text. The key is the ServedPolicy's
// serial; the entry is valid while the Service, the handle's generation (read before and after
// current(): equal means no swap in between) and the version's address are those it was built
// for. It holds no reference, so an old version is freed as soon as nothing else uses it.
struct Service::VersionCache {
  uint64_t service = 0, generation = 0;
  const void* impl = nullptr;
  std::unique_ptr<Request> request;
  std::vector<std::atomic<uint64_t>*> route_decisions;  // by route index
  std::vector<std::atomic<uint64_t>*> rule_hits;        // by rule index
  std::atomic<uint64_t>* deny_decisions = nullptr;
  std::atomic<uint64_t>* eval_errors = nullptr;
};

Service::VersionCache& Service::version_for(const ServedPolicy& served, Policy* out) {
  // Bounded: a server reloading all day must not grow it; clearing only costs a rebuild.
  constexpr size_t kMaxVersions = 4096;
  thread_local std::unordered_map<uint64_t, VersionCache> caches;
  const uint64_t g1 = served.handle->generation();
  *out = served.handle->current();
  const uint64_t g2 = served.handle->generation();
  auto it = caches.find(served.serial);
  if (it != caches.end()) {
    VersionCache& c = it->second;
    if (g1 == g2 && c.service == id_ && c.generation == g1 && c.impl == &out->impl()) {
      c.request->reset();
      c.request->now_ms = 0;
      return c;
    }
  } else {
    if (caches.size() >= kMaxVersions) caches.clear();
    it = caches.emplace(served.serial, VersionCache{}).first;
  }
  VersionCache& c = it->second;
  c.service = g1 == g2 ? id_ : 0;  // 0: never matches, rebuild next time
  c.generation = g1;
  c.impl = &out->impl();
  c.request = std::make_unique<Request>(*out);
  c.route_decisions.assign(out->routes().size(), nullptr);
  c.rule_hits.assign(out->rules().size(), nullptr);
  c.deny_decisions = nullptr;
  c.eval_errors = nullptr;
  return c;
}

namespace {}  // namespace

Service::Service(Engine& engine, PolicySet& policies, ServiceOptions options, DecisionLog* log)
    : id_(next_service_id.fetch_add(1)),
      engine_(engine),
      policies_(policies),
      options_(std::move(options)),
      log_(log),
      admissions_(options_.admissions) {}

void Service::handle(const HttpRequest& req, HttpResponse* resp) {
  const Clock::time_point t0 = Clock::now();
  int e = kOther;
  route(req, resp, &e);
  const uint64_t ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
  request_latency_[e].observe_ns(ns);
  const int code = resp->status >= 100 && resp->status < kMaxStatus ? resp->status : 0;
  request_counts_[static_cast<size_t>(e * kMaxStatus + code)].fetch_add(1,
                                                                        std::memory_order_relaxed);
}

void Service::route(const HttpRequest& req, HttpResponse* resp, int* endpoint) {
  std::string_view name;
  const bool post = req.method == "POST";
  if (match(req.path, "/v1/decide", &name)) {
    *endpoint = kDecide;
    if (!post) return error(resp, 405, "use POST for /v1/decide");
    return decide(req, name, resp);
  }
  if (match(req.path, "/v1/authz", &name)) {
    *endpoint = kAuthz;
    // Envoy's ext_authz appends the original path to its path_prefix
    // (/v1/authz/gateway/v1/chat/completions): the policy is the first segment.
    return authz(req, name.substr(0, name.find('/')), resp);
  }
  if (req.path == "/v1/admit") {
    *endpoint = kAdmit;
    if (!post) return error(resp, 405, "use POST for /v1/admit");
    return admit(req, resp);
  }
  if (req.path == "/v1/record" || req.path == "/v1/release") {
    const bool record = req.path == "/v1/record";
    *endpoint = record ? kRecord : kRelease;
    if (!post) return error(resp, 405, "use POST");
    return settle(req, record, resp);
  }
  if (req.path == "/metrics") {
    *endpoint = kMetrics;
    return metrics(resp);
  }
  if (req.path == "/healthz") return reply(resp, 200, {{"status", "alive"}});
  if (req.path == "/readyz") return readyz(resp);
  if (req.path == "/v1/policies") return policies(resp);
  if (req.path == "/v1/reload") {
    *endpoint = kAdmin;
    if (!post) return error(resp, 405, "use POST for /v1/reload");
    return admin_reload(req, resp);
  }
  if (req.path == "/null") return reply(resp, 200, json::object());  // the benchmark's floor
  error(resp, 404, "no such endpoint; see docs/serve.md");
}

std::shared_ptr<const ServedPolicy> Service::resolve(std::string_view name, HttpResponse* resp) {
  std::shared_ptr<const ServedPolicy> p = name.empty() ? policies_.sole() : policies_.find(name);
  if (p) return p;
  if (name.empty()) {
    error(resp, 404,
          std::to_string(policies_.size()) +
              " policies are served: name one in the path (/v1/decide/{policy})",
          "policy");
  } else {
    error(resp, 404, "no policy named '" + std::string(name) + "'", "policy");
  }
  return nullptr;
}

void Service::count_decision(const Policy& policy, VersionCache& cache, const Decision& d,
                             uint64_t ns) {
  decide_latency_.observe_ns(ns);
  const std::string& pname = policy.name();
  std::string& labels = label_buffer();
  // Resolves a cached counter on first use: the only place that builds label text.
  auto bump = [&](std::atomic<uint64_t>*& slot, LabeledCounter& counter,
                  std::initializer_list<std::pair<std::string_view, std::string_view>> kv,
                  uint64_t n) {
    if (!slot) {
      prom_labels_into(&labels, kv);
      slot = counter.slot(labels);
    }
    slot->fetch_add(n, std::memory_order_relaxed);
  };
  if (d.denied) {
    bump(cache.deny_decisions, decisions_, {{"policy", pname}, {"route", "deny"}}, 1);
    // Reasons are open text (budget names, rule literals): looked up by label each time.
    prom_labels_into(&labels, {{"policy", pname}, {"reason", d.deny_reason}});
    denials_.add(labels);
  } else if (d.route >= 0) {
    const size_t r = static_cast<size_t>(d.route);
    bump(cache.route_decisions[r], decisions_,
         {{"policy", pname}, {"route", policy.routes()[r].name}}, 1);
  }
  if (d.errors > 0) bump(cache.eval_errors, eval_errors_, {{"policy", pname}}, d.errors);
  int seen[kFieldCount];
  int n = 0;
  for (int f = 0; f < kFieldCount; ++f) {
    const int r = d.rule[f];
    if (r < 0 || std::find(seen, seen + n, r) != seen + n) continue;
    seen[n++] = r;
    const size_t ri = static_cast<size_t>(r);
    if (!cache.rule_hits[ri]) {
      const std::string line = std::to_string(policy.rules()[ri].line);
      prom_labels_into(&labels, {{"policy", pname}, {"line", line}});
      cache.rule_hits[ri] = rule_hits_.slot(labels);
    }
    cache.rule_hits[ri]->fetch_add(1, std::memory_order_relaxed);
  }
}

void Service::log_decision(const Policy& policy, const Decision& d, const Request& req) {
  if (!log_) return;
  AuditContext ctx;
  ctx.request = &req;
  ctx.budgets = &engine_.ledger();
  ctx.now_ms = req.now_ms;
  ctx.include_inputs = options_.log_inputs;
  std::string line;
  render_audit(policy, d, ctx, &line);
  log_->write(line);
}

void Service::decide(const HttpRequest& req, std::string_view name, HttpResponse* resp) {
  std::shared_ptr<const ServedPolicy> served = resolve(name, resp);
  if (!served) return;
  Policy policy = served->handle->current();
  VersionCache& cache = version_for(*served, &policy);
  Request& request = *cache.request;
  // Parsed straight into the Request: the common request builds no JSON document.
  BodyError bad;
  if (!parse_decide_body(policy, req.body, &request, &bad))
    return error(resp, 400, bad.message, bad.field);

  Decision d;
  const Clock::time_point t0 = Clock::now();
  served->handle->decide(policy, request, &d);
  count_decision(
      policy, cache, d,
      static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));
  log_decision(policy, d, request);

  std::string_view explain;
  if (req.query_param("explain", &explain) && explain != "false" && explain != "0") {
    json out = {{"policy", policy_to_json(policy)}, {"decision", decision_to_json(policy, d)}};
    const int64_t now = request.now_ms ? request.now_ms : wall_ms();
    Trace trace = trace_decision(policy, request, engine_.ledger(), now);
    out["rules"] = trace_rules_json(trace);
    out["no_route_deny"] = trace.no_route_deny;
    out["on_error_deny"] = trace.on_error_deny;
    return reply(resp, 200, out);
  }
  // The common answer is rendered straight into the body: the bytes of eval --json, compact.
  resp->status = 200;
  std::string& out = resp->body;
  out.reserve(640);
  out = "{\"decision\":";
  append_decision_json(policy, d, &out);
  out += ",\"policy\":";
  append_policy_json(policy, &out);
  out += '}';
}

void Service::authz(const HttpRequest& req, std::string_view name, HttpResponse* resp) {
  std::shared_ptr<const ServedPolicy> served = resolve(name, resp);
  if (!served) return;
  Policy policy = served->handle->current();
  VersionCache& cache = version_for(*served, &policy);
  Request& request = *cache.request;
  thread_local std::string header;  // reused: no allocation per input once warm
  resp->headers.reserve(12);
  for (size_t i = 0; i < policy.inputs().size(); ++i) {
    const InputInfo& in = policy.inputs()[i];
    header.clear();
    for (const auto& [input, h] : options_.header_map)
      if (input == in.name) header = h;
    if (header.empty()) {
      header.assign("x-tollgate-").append(in.name);
      std::replace(header.begin() + 11, header.end(), '_', '-');
    }
    std::string_view value = req.header(header);
    if (value.empty()) continue;
    std::string err;
    if (set_input_from_text(policy, static_cast<int>(i), value, &request, &err) !=
        InputError::None) {
      // Fail closed: nginx and Envoy treat 403 as a denial; a 400 would surface as a 500.
      resp->status = 403;
      resp->add_header("x-tollgate-reason", header_safe("bad header " + header + ": " + err));
      reply(resp, 403, {{"error", err}, {"field", header}});
      return;
    }
  }
  Decision d;
  const Clock::time_point t0 = Clock::now();
  served->handle->decide(policy, request, &d);
  count_decision(
      policy, cache, d,
      static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));
  log_decision(policy, d, request);

  resp->content_type = "text/plain";
  if (d.denied || d.route < 0) {
    resp->status = 403;
    resp->add_header("x-tollgate-reason", header_safe(d.deny_reason));
    resp->body = "denied: " + header_safe(d.deny_reason) + "\n";
    return;
  }
  const RouteInfo& route = policy.routes()[static_cast<size_t>(d.route)];
  resp->add_header("x-tollgate-route", route.name);
  resp->add_header("x-tollgate-model", header_safe(route.model));
  if (d.max_out != kNoCap) resp->add_header("x-tollgate-max-out", std::to_string(d.max_out));
  if (d.max_in != kNoCap) resp->add_header("x-tollgate-max-in", std::to_string(d.max_in));
  resp->add_header("x-tollgate-retry", d.retry ? "true" : "false");
  if (d.retry) resp->add_header("x-tollgate-backoff-ms", std::to_string(d.backoff_ms));
  if (d.rag) resp->add_header("x-tollgate-rag-top-k", std::to_string(d.top_k));
  resp->add_header("x-tollgate-cache", to_string(d.cache));
  const int rule = d.rule_for(Field::Route);
  if (rule >= 0)
    resp->add_header("x-tollgate-rule",
                     std::to_string(policy.rules()[static_cast<size_t>(rule)].line));
  if (d.tag_count > 0) {
    std::string tags;
    for (int i = 0; i < d.tag_count; ++i) {
      if (i) tags += ',';
      tags += header_safe(d.tag(i));
    }
    resp->add_header("x-tollgate-tags", tags);
  }
  resp->add_header("x-tollgate-version", policy.version_hash());
  resp->status = 200;
  resp->body = "ok\n";
}

void Service::admit(const HttpRequest& req, HttpResponse* resp) {
  json body;
  if (!parse_body(req, &body, resp) ||
      !only_fields(body, {"policy", "input", "now", "est_in_tokens", "est_out_tokens"}, resp))
    return;
  std::string name;
  if (auto p = body.find("policy"); p != body.end() && !p->is_null()) {
    if (!p->is_string()) return error(resp, 400, "'policy' must be a string", "policy");
    name = p->get<std::string>();
  }
  std::shared_ptr<const ServedPolicy> served = resolve(name, resp);
  if (!served) return;
  Policy policy = served->handle->current();
  VersionCache& cache = version_for(*served, &policy);
  Request& request = *cache.request;
  if (!fill_request(policy, body, &request, resp)) return;
  Estimate est;
  if (!get_int(body, "est_in_tokens", &est.in_tokens, resp) ||
      !get_int(body, "est_out_tokens", &est.out_tokens_uncapped, resp))
    return;

  Admission adm = engine_.ledger().admit(policy, request, est);
  admits_.add(
      prom_labels({{"policy", policy.name()}, {"result", adm.admitted() ? "admitted" : "denied"}}));
  if (log_) {
    std::string line;
    render_audit(adm, &request, &engine_.ledger(), &line);
    log_->write(line);
  }
  json out = {{"admitted", adm.admitted()},
              {"reason", std::string(adm.reason())},
              {"estimated_cost", adm.estimated_cost_usd()},
              {"estimated_tokens", adm.estimated_tokens()},
              {"policy", policy_to_json(policy)},
              {"decision", decision_to_json(policy, adm.decision())}};
  if (adm.pending()) {
    std::string id = admissions_.put(std::move(adm), wall_ms());
    if (id.empty())
      return error(resp, 503, "too many open reservations; record or release some first");
    out["id"] = id;
    out["expires_in_ms"] = options_.admissions.ttl_ms;
  } else {
    out["id"] = nullptr;
  }
  reply(resp, 200, out);
}

void Service::settle(const HttpRequest& req, bool record, HttpResponse* resp) {
  json body;
  if (!parse_body(req, &body, resp)) return;
  if (record) {
    if (!only_fields(body, {"id", "in_tokens", "out_tokens", "cached_in_tokens", "cost_usd"}, resp))
      return;
  } else if (!only_fields(body, {"id"}, resp)) {
    return;
  }
  auto idv = body.find("id");
  if (idv == body.end() || !idv->is_string())
    return error(resp, 400, "'id' (the id /v1/admit returned) is required", "id");
  Usage usage;
  if (record) {
    if (!get_int(body, "in_tokens", &usage.in_tokens, resp) ||
        !get_int(body, "out_tokens", &usage.out_tokens, resp) ||
        !get_int(body, "cached_in_tokens", &usage.cached_in_tokens, resp))
      return;
    if (auto c = body.find("cost_usd"); c != body.end() && !c->is_null()) {
      if (!c->is_number() || !(c->get<double>() >= 0) || !std::isfinite(c->get<double>()))
        return error(resp, 400, "'cost_usd' must be a finite non-negative number", "cost_usd");
      usage.cost_usd = c->get<double>();
    }
  }
  Admission adm;
  const std::string id = idv->get<std::string>();
  AdmissionTable::Lookup found = admissions_.take(id, &adm);
  if (found != AdmissionTable::Lookup::Found) {
    return error(resp, 404,
                 found == AdmissionTable::Lookup::Expired
                     ? "reservation " + id + " expired and was released"
                     : "no open reservation with id " + id,
                 "id");
  }
  if (record) {
    engine_.ledger().record(adm, usage);
    records_.fetch_add(1);
    return reply(resp, 200, {{"recorded", true}});
  }
  engine_.ledger().release(adm);
  releases_.fetch_add(1);
  reply(resp, 200, {{"released", true}});
}

void Service::readyz(HttpResponse* resp) {
  json out = {{"policies", policies_.size()}};
  bool ready = policies_.size() > 0;
  if (!ready) out["reason"] = "no policy loaded";
  if (auto* redis = dynamic_cast<const RedisLedgerBackend*>(&engine_.ledger().backend())) {
    const bool connected = redis->stats().connected;
    out["ledger"] = connected ? "connected" : "unreachable";
    if (!connected) {
      ready = false;
      out["reason"] = "the Redis ledger is unreachable";
    }
  } else {
    out["ledger"] = "memory";
  }
  out["ready"] = ready;
  reply(resp, ready ? 200 : 503, out);
}

void Service::policies(HttpResponse* resp) {
  json list = json::array();
  for (const auto& p : policies_.list()) {
    const Policy live = p->handle->current();
    json j = {{"name", p->name},
              {"file", p->file},
              {"version", live.version_hash()},
              {"generation", p->handle->generation()},
              {"tier", live.jitted() ? "jit" : "interpreter"},
              {"rules", live.rules().size()},
              {"reloads_ok", p->reloads_ok.load()},
              {"reloads_failed", p->reloads_failed.load()}};
    const std::string jit_error = live.jit_error();
    if (!jit_error.empty()) j["jit_error"] = jit_error;
    {
      std::lock_guard<std::mutex> lock(p->mu);
      j["last_reload_error"] = p->last_error.empty() ? json(nullptr) : json(p->last_error);
      if (!p->candidate_file.empty()) j["candidate_file"] = p->candidate_file;
    }
    if (auto c = p->handle->candidate()) j["candidate_version"] = c->version_hash();
    list.push_back(std::move(j));
  }
  json errors = json::array();
  for (const FileError& e : policies_.file_errors())
    errors.push_back({{"file", e.file}, {"error", e.error}});
  reply(resp, 200, {{"policies", list}, {"file_errors", errors}});
}

void Service::admin_reload(const HttpRequest& req, HttpResponse* resp) {
  if (!options_.admin_token.empty()) {
    std::string_view auth = req.header("authorization");
    const std::string expected = "Bearer " + options_.admin_token;
    // Compare every byte whatever matches, so timing tells nothing about the token.
    bool ok = auth.size() == expected.size();
    unsigned char diff = 0;
    for (size_t i = 0; i < expected.size(); ++i)
      diff |= static_cast<unsigned char>((i < auth.size() ? auth[i] : 0) ^ expected[i]);
    if (!ok || diff != 0) {
      resp->add_header("www-authenticate", "Bearer");
      return error(resp, 401, "POST /v1/reload needs 'Authorization: Bearer <token>'");
    }
  }
  RefreshReport r = reload();
  reply(resp, r.failed > 0 ? 422 : 200,
        {{"added", r.added},
         {"reloaded", r.reloaded},
         {"unchanged", r.unchanged},
         {"failed", r.failed},
         {"removed", r.removed},
         {"messages", r.messages}});
}

RefreshReport Service::reload() {
  reload_requests_.fetch_add(1);
  return policies_.refresh();
}

void Service::tick(int64_t now_ms) {
  admissions_.expire(now_ms);
}

void Service::metrics(HttpResponse* resp) {
  PromWriter w;
  w.family("tollgate_requests_total", "counter", "HTTP requests by endpoint and status code.");
  for (int e = 0; e < kEndpoints; ++e) {
    for (int code = 0; code < kMaxStatus; ++code) {
      const uint64_t n = request_counts_[static_cast<size_t>(e * kMaxStatus + code)].load(
          std::memory_order_relaxed);
      if (n == 0) continue;
      w.sample("tollgate_requests_total",
               prom_labels({{"endpoint", kEndpointNames[e]}, {"code", std::to_string(code)}}), n);
    }
  }
  w.family("tollgate_request_duration_seconds", "histogram",
           "Time from a request received whole to its answer ready, by endpoint.");
  for (int e = 0; e < kEndpoints; ++e) {
    LatencyHistogram::Snapshot s = request_latency_[e].snapshot();
    if (s.count > 0)
      w.histogram("tollgate_request_duration_seconds",
                  prom_labels({{"endpoint", kEndpointNames[e]}}), s);
  }
  w.family("tollgate_decision_duration_seconds", "histogram",
           "Time of the decision itself (policy evaluation, shadow included).");
  w.histogram("tollgate_decision_duration_seconds", "", decide_latency_.snapshot());
  w.counters("tollgate_decisions_total", "Decisions by policy and route (route=\"deny\": denied).",
             decisions_);
  w.counters("tollgate_denials_total", "Denied decisions by policy and reason.", denials_);
  w.counters("tollgate_rule_hits_total",
             "Decisions in which the rule at this line set at least one field.", rule_hits_);
  w.counters("tollgate_evaluation_errors_total", "Evaluation errors inside decisions.",
             eval_errors_);
  w.counters("tollgate_admissions_total", "POST /v1/admit answers by policy and result.", admits_);
  w.family("tollgate_records_total", "counter", "Reservations settled by /v1/record.");
  w.sample("tollgate_records_total", "", records_.load());
  w.family("tollgate_releases_total", "counter", "Reservations returned by /v1/release.");
  w.sample("tollgate_releases_total", "", releases_.load());
  w.family("tollgate_reservations_open", "gauge", "Admitted reservations not yet settled.");
  w.sample("tollgate_reservations_open", "", static_cast<uint64_t>(admissions_.open()));
  w.family("tollgate_reservations_expired_total", "counter",
           "Reservations released because no record or release came within the TTL.");
  w.sample("tollgate_reservations_expired_total", "", admissions_.expired_total());
  w.family("tollgate_settle_unknown_total", "counter",
           "Records and releases for an unknown or expired reservation id (answered 404).");
  w.sample("tollgate_settle_unknown_total", "", admissions_.unknown_total());

  // Policies: reloads, generation, tier, shadow.
  const auto list = policies_.list();
  w.family("tollgate_reloads_total", "counter", "Policy reloads by result.");
  for (const auto& p : list) {
    w.sample("tollgate_reloads_total", prom_labels({{"policy", p->name}, {"result", "ok"}}),
             p->reloads_ok.load());
    w.sample("tollgate_reloads_total", prom_labels({{"policy", p->name}, {"result", "failed"}}),
             p->reloads_failed.load());
  }
  w.family("tollgate_policy_generation", "gauge", "Swaps of the policy's handle so far.");
  for (const auto& p : list)
    w.sample("tollgate_policy_generation", prom_labels({{"policy", p->name}}),
             p->handle->generation());
  w.family("tollgate_policy_jit", "gauge",
           "1 when the policy serves from JIT code, 0 when from the interpreter.");
  for (const auto& p : list)
    w.sample("tollgate_policy_jit", prom_labels({{"policy", p->name}}),
             static_cast<uint64_t>(p->handle->current().jitted() ? 1 : 0));
  w.family("tollgate_policy_reload_error", "gauge",
           "1 when the policy's last reload failed (its previous version serves).");
  for (const auto& p : list)
    w.sample("tollgate_policy_reload_error", prom_labels({{"policy", p->name}}),
             static_cast<uint64_t>(p->error().empty() ? 0 : 1));
  w.family("tollgate_policy_file_errors", "gauge",
           "Policy files that serve nothing: they never compiled.");
  w.sample("tollgate_policy_file_errors", "",
           static_cast<uint64_t>(policies_.file_errors().size()));
  w.family("tollgate_shadow_decisions_total", "counter",
           "Requests decided by both the live policy and its candidate.");
  for (const auto& p : list) {
    ShadowStats s = p->handle->shadow_stats();
    if (!s.active) continue;
    w.sample("tollgate_shadow_decisions_total", prom_labels({{"policy", p->name}}), s.decisions);
  }
  w.family("tollgate_shadow_disagreements_total", "counter",
           "Shadowed requests on which the candidate decided a field differently.");
  for (const auto& p : list) {
    ShadowStats s = p->handle->shadow_stats();
    if (!s.active) continue;
    for (int f = 0; f < kShadowFieldCount; ++f)
      w.sample("tollgate_shadow_disagreements_total",
               prom_labels({{"policy", p->name}, {"field", shadow_field_name(f)}}), s.per_field[f]);
  }

  // Budget spend per window: the top keys by spend, the rest summed as key="other".
  std::vector<CounterEntry> entries;
  engine_.ledger().backend().entries(&entries);
  std::map<std::string, std::vector<const CounterEntry*>> by_budget;
  for (const CounterEntry& e : entries)
    by_budget[e.budget + '\x1f' + to_string(e.window) + '\x1f' + to_string(e.unit)].push_back(&e);
  w.family("tollgate_budget_spent", "gauge",
           "Settled spend in the current window, in the budget's unit, for the top keys.");
  for (auto& [group, list_entries] : by_budget) {
    std::sort(
        list_entries.begin(), list_entries.end(),
        [](const CounterEntry* a, const CounterEntry* b) { return a->committed > b->committed; });
    int64_t other = 0;
    bool has_other = false;
    for (size_t i = 0; i < list_entries.size(); ++i) {
      const CounterEntry& e = *list_entries[i];
      if (i < options_.top_budget_keys) {
        w.sample("tollgate_budget_spent",
                 prom_labels({{"budget", e.budget},
                              {"window", to_string(e.window)},
                              {"unit", to_string(e.unit)},
                              {"key", e.key}}),
                 from_units(e.unit, e.committed));
      } else {
        other += e.committed;
        has_other = true;
      }
    }
    if (has_other) {
      const CounterEntry& e = *list_entries.front();
      w.sample("tollgate_budget_spent",
               prom_labels({{"budget", e.budget},
                            {"window", to_string(e.window)},
                            {"unit", to_string(e.unit)},
                            {"key", "other"}}),
               from_units(e.unit, other));
    }
  }
  w.family("tollgate_budget_keys", "gauge", "Counters (keys) per budget window in the ledger.");
  for (auto& [group, list_entries] : by_budget) {
    const CounterEntry& e = *list_entries.front();
    w.sample("tollgate_budget_keys",
             prom_labels({{"budget", e.budget}, {"window", to_string(e.window)}}),
             static_cast<uint64_t>(list_entries.size()));
  }
  if (auto* redis = dynamic_cast<const RedisLedgerBackend*>(&engine_.ledger().backend())) {
    RedisLedgerStats s = redis->stats();
    w.family("tollgate_ledger_connected", "gauge",
             "1 while the last exchange with Redis succeeded.");
    w.sample("tollgate_ledger_connected", "", static_cast<uint64_t>(s.connected ? 1 : 0));
    w.family("tollgate_ledger_unavailable_total", "counter",
             "Reservations answered by the budgets' fail mode because Redis was unreachable.");
    w.sample("tollgate_ledger_unavailable_total", "", s.unavailable);
    w.family("tollgate_ledger_unreported_units", "gauge",
             "Usage recorded locally and not yet acknowledged by Redis.");
    w.sample("tollgate_ledger_unreported_units", "", static_cast<uint64_t>(s.unreported_units));
  }
  if (http_stats_) {
    HttpServerStats s = http_stats_();
    w.family("tollgate_http_connections_open", "gauge", "Open client connections.");
    w.sample("tollgate_http_connections_open", "", static_cast<uint64_t>(s.connections_open));
    w.family("tollgate_http_connections_rejected_total", "counter",
             "Connections refused with 503 over --max-connections.");
    w.sample("tollgate_http_connections_rejected_total", "", s.connections_rejected);
    w.family("tollgate_http_timeouts_total", "counter",
             "Connections closed by the read or idle timeout.");
    w.sample("tollgate_http_timeouts_total", "", s.timeouts);
    w.family("tollgate_http_bad_requests_total", "counter",
             "Unparsable or oversized requests (400, 413, 431).");
    w.sample("tollgate_http_bad_requests_total", "", s.bad_requests);
  }
  if (log_) {
    w.family("tollgate_decision_log_records_total", "counter",
             "Records written to the decision log.");
    w.sample("tollgate_decision_log_records_total", "", log_->records());
    w.family("tollgate_decision_log_rotations_total", "counter", "Rotations of the decision log.");
    w.sample("tollgate_decision_log_rotations_total", "", log_->rotations());
  }
  resp->status = 200;
  resp->content_type = "text/plain; version=0.0.4";
  resp->body = w.take();
}

}  // namespace tollgate::serve
