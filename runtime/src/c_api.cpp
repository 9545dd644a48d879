// The C ABI (runtime/include/tollgate.h) over the C++ API. Every entry point catches everything:
// no exception crosses the boundary; failures become a tg_status plus a thread-local message.
#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <new>
#include <optional>
#include <string>

#include "runtime/src/policy_impl.h"
#include "runtime/src/schema.h"
#include "tollgate.h"
#include "tollgate/audit.hpp"
#include "tollgate/engine.hpp"
#include "tollgate/ledger.hpp"
#include "tollgate/policy_handle.hpp"
#include "tollgate/prices.hpp"
#include "tollgate/redis_ledger.hpp"

using namespace tollgate;

struct tg_engine {
  std::unique_ptr<Engine> engine;
};

struct tg_policy {
  explicit tg_policy(Policy p) : policy(std::move(p)) {}
  Policy policy;
  std::string warnings;
  std::atomic<int> refs{1};
};

struct tg_request {
  tg_request(tg_policy* p) : owner(p), req(p->policy) {}
  tg_policy* owner;  // one reference held
  Request req;
};

struct tg_decision {
  Decision d;
  std::optional<Policy> policy;  // keeps route names and deny reasons alive
  std::string json;
};

struct tg_admission {
  Admission a;
  tg_decision view;
};

struct tg_handle {
  tg_handle(Engine& e, Policy p) : handle(e, std::move(p)) {}
  PolicyHandle handle;
};

namespace {

// initial-exec: one %fs-relative access instead of a __tls_get_addr call per tg_* call (the
// library is loaded at start or dlopen'ed into glibc's static TLS surplus; one byte fits).
// The string has a constructor, so reaching it goes through a TLS wrapper; successful calls test
// only the trivial flag.
thread_local std::string t_error;
thread_local bool t_has_error __attribute__((tls_model("initial-exec"))) = false;

tg_status fail(tg_status s, std::string msg) {
  try {
    t_error = std::move(msg);
    t_has_error = true;
  } catch (...) {
  }
  return s;
}

tg_status ok() {
  if (t_has_error) {
    t_error.clear();
    t_has_error = false;
  }
  return TG_OK;
}

tg_status from_status(Status s) {
  switch (s) {
    case Status::Ok:
      return ok();
    case Status::UnknownInput:
      return fail(TG_ERR_UNKNOWN_INPUT, to_string(s));
    case Status::WrongType:
      return fail(TG_ERR_WRONG_TYPE, to_string(s));
    case Status::UnknownEnumValue:
      return fail(TG_ERR_UNKNOWN_ENUM, to_string(s));
    case Status::BadValue:
      return fail(TG_ERR_BAD_VALUE, to_string(s));
  }
  return fail(TG_ERR_INTERNAL, "unknown status");
}

// Runs f (returning tg_status) and converts any exception into a status.
template <class F>
tg_status guard(F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return fail(TG_ERR_NO_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(TG_ERR_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(TG_ERR_INTERNAL, "internal error");
  }
}

#define TG_REQUIRE(cond)                                                           \
  do {                                                                             \
    if (!(cond)) return fail(TG_ERR_INVALID_ARGUMENT, "invalid argument: " #cond); \
  } while (0)

std::string warnings_of(const CompileResult& cr) {
  bool any = false;
  for (const Diagnostic& d : cr.diagnostics) any = any || d.severity == Severity::Warning;
  return any ? cr.rendered : std::string();
}

tg_status finish_compile(CompileResult cr, tg_policy** out) {
  if (!cr.ok()) return fail(TG_ERR_COMPILE, cr.rendered.empty() ? "compile failed" : cr.rendered);
  auto* p = new tg_policy(std::move(*cr.policy));
  p->warnings = warnings_of(cr);
  *out = p;
  return ok();
}

void hold(tg_decision* d, const Policy& p) {
  // Re-pin only when the version changed, so steady-state decides touch no refcount.
  if (!d->policy || &d->policy->impl() != &p.impl()) d->policy = p;
}

tg_status reload_status(const ReloadResult& r) {
  if (r.ok) return ok();
  return fail(TG_ERR_COMPILE, r.rendered.empty() ? "compile failed" : r.rendered);
}

}  // namespace

extern "C" {

int tg_abi_version(void) {
  return TG_ABI_VERSION;
}

const char* tg_last_error(void) {
  return t_error.c_str();
}

const char* tg_status_name(tg_status s) {
  switch (s) {
    case TG_OK:
      return "ok";
    case TG_ERR_INVALID_ARGUMENT:
      return "invalid argument";
    case TG_ERR_UNKNOWN_INPUT:
      return "unknown input";
    case TG_ERR_WRONG_TYPE:
      return "wrong type";
    case TG_ERR_UNKNOWN_ENUM:
      return "unknown enum member";
    case TG_ERR_BAD_VALUE:
      return "bad value";
    case TG_ERR_COMPILE:
      return "compile error";
    case TG_ERR_IO:
      return "i/o error";
    case TG_ERR_STATE:
      return "invalid state";
    case TG_ERR_NO_MEMORY:
      return "out of memory";
    case TG_ERR_BUFFER_TOO_SMALL:
      return "buffer too small";
    case TG_ERR_INTERNAL:
      return "internal error";
  }
  return "unknown status";
}

// ---- engine ----------------------------------------------------------------------------------

void tg_engine_config_init(tg_engine_config* c) {
  if (c == nullptr) return;
  std::memset(c, 0, sizeof(*c));
  c->struct_size = sizeof(*c);
}

tg_status tg_engine_create(const tg_engine_config* config, tg_engine** out) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(out != nullptr);
    *out = nullptr;
    tg_engine_config c;
    tg_engine_config_init(&c);
    if (config != nullptr) {
      TG_REQUIRE(config->struct_size >= offsetof(tg_engine_config, prices_path));
      std::memcpy(&c, config, std::min<size_t>(config->struct_size, sizeof(c)));
    }
    EngineOptions opts;
    opts.backend = c.use_interpreter ? Backend::Interpreter : Backend::Jit;
    opts.strict = c.strict != 0;
    opts.wait_for_jit = c.wait_for_jit != 0;
    opts.jit_hot_decisions = c.jit_hot_decisions;
    if (c.prices_path != nullptr && *c.prices_path) {
      std::string err;
      opts.prices = PriceTable::load(c.prices_path, &err);
      if (!opts.prices) return fail(TG_ERR_IO, "price table: " + err);
    }
    if (c.ledger_url != nullptr && *c.ledger_url) {
      std::string err;
      std::unique_ptr<LedgerBackend> backend = make_ledger_backend(c.ledger_url, &err);
      if (!backend) return fail(TG_ERR_BAD_VALUE, "ledger_url: " + err);
      opts.ledger = std::make_shared<Ledger>(std::move(backend));
    }
    auto e = std::make_unique<tg_engine>();
    e->engine = std::make_unique<Engine>(std::move(opts));
    if (c.ledger_snapshot != nullptr && *c.ledger_snapshot) {
      FILE* f = std::fopen(c.ledger_snapshot, "rb");
      if (f != nullptr) {
        std::fclose(f);
        std::string err;
        if (!e->engine->ledger().load(c.ledger_snapshot, 0, nullptr, &err))
          return fail(TG_ERR_IO, err);
      }
    }
    *out = e.release();
    return ok();
  });
}

void tg_engine_destroy(tg_engine* engine) {
  try {
    delete engine;
  } catch (...) {
  }
}

// ---- compile ---------------------------------------------------------------------------------

tg_status tg_compile(tg_engine* engine, const char* source, size_t len, const char* file,
                     tg_policy** out) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(engine != nullptr && out != nullptr && (source != nullptr || len == 0));
    *out = nullptr;
    return finish_compile(engine->engine->compile(std::string_view(source ? source : "", len),
                                                  file ? file : "<input>"),
                          out);
  });
}

tg_status tg_compile_file(tg_engine* engine, const char* path, tg_policy** out) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(engine != nullptr && path != nullptr && out != nullptr);
    *out = nullptr;
    FILE* f = std::fopen(path, "rb");
    if (f == nullptr) return fail(TG_ERR_IO, std::string("cannot read ") + path);
    std::fclose(f);
    return finish_compile(engine->engine->compile_file(path), out);
  });
}

tg_policy* tg_policy_retain(tg_policy* p) {
  if (p != nullptr) p->refs.fetch_add(1, std::memory_order_relaxed);
  return p;
}

void tg_policy_release(tg_policy* p) {
  if (p != nullptr && p->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    try {
      delete p;
    } catch (...) {
    }
  }
}

const char* tg_policy_name(const tg_policy* p) {
  return p ? p->policy.name().c_str() : "";
}
const char* tg_policy_version(const tg_policy* p) {
  return p ? p->policy.version_hash().c_str() : "";
}
const char* tg_policy_warnings(const tg_policy* p) {
  return p ? p->warnings.c_str() : "";
}
int tg_policy_jitted(const tg_policy* p) {
  return p && p->policy.jitted() ? 1 : 0;
}
int tg_policy_wait_for_jit(const tg_policy* p) {
  return p && p->policy.wait_for_jit() ? 1 : 0;
}
int tg_policy_slot(const tg_policy* p, const char* input) {
  return p && input ? p->policy.slot(input) : -1;
}
int tg_policy_input_count(const tg_policy* p) {
  return p ? static_cast<int>(p->policy.inputs().size()) : 0;
}
const char* tg_policy_input_name(const tg_policy* p, int slot) {
  if (!p || slot < 0 || slot >= tg_policy_input_count(p)) return nullptr;
  return p->policy.inputs()[slot].name.c_str();
}
int tg_policy_route_count(const tg_policy* p) {
  return p ? static_cast<int>(p->policy.routes().size()) : 0;
}
const char* tg_policy_route_name(const tg_policy* p, int r) {
  if (!p || r < 0 || r >= tg_policy_route_count(p)) return nullptr;
  return p->policy.routes()[r].name.c_str();
}
const char* tg_policy_route_model(const tg_policy* p, int r) {
  if (!p || r < 0 || r >= tg_policy_route_count(p)) return nullptr;
  return p->policy.routes()[r].model.c_str();
}

// ---- requests --------------------------------------------------------------------------------

tg_status tg_request_create(const tg_policy* policy, tg_request** out) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(policy != nullptr && out != nullptr);
    tg_policy* p = const_cast<tg_policy*>(policy);
    auto* r = new tg_request(p);
    tg_policy_retain(p);
    *out = r;
    return ok();
  });
}

void tg_request_destroy(tg_request* r) {
  if (r == nullptr) return;
  tg_policy* p = r->owner;
  try {
    delete r;
  } catch (...) {
  }
  tg_policy_release(p);
}

void tg_request_reset(tg_request* r) {
  if (r != nullptr) r->req.reset();
}
const tg_policy* tg_request_policy(const tg_request* r) {
  return r ? r->owner : nullptr;
}
void tg_request_set_time(tg_request* r, int64_t now_ms) {
  if (r != nullptr) r->req.now_ms = now_ms;
}

tg_status tg_request_set_int(tg_request* r, int slot, int64_t v) {
  if (r == nullptr) return fail(TG_ERR_INVALID_ARGUMENT, "null request");
  return from_status(r->req.set_int(slot, v));
}
tg_status tg_request_set_float(tg_request* r, int slot, double v) {
  if (r == nullptr) return fail(TG_ERR_INVALID_ARGUMENT, "null request");
  return from_status(r->req.set_float(slot, v));
}
tg_status tg_request_set_bool(tg_request* r, int slot, int v) {
  if (r == nullptr) return fail(TG_ERR_INVALID_ARGUMENT, "null request");
  return from_status(r->req.set_bool(slot, v != 0));
}
tg_status tg_request_set_enum(tg_request* r, int slot, const char* member) {
  if (r == nullptr || member == nullptr) return fail(TG_ERR_INVALID_ARGUMENT, "null argument");
  return from_status(r->req.set_enum(slot, std::string_view(member)));
}
tg_status tg_request_set_enum_index(tg_request* r, int slot, int member) {
  if (r == nullptr) return fail(TG_ERR_INVALID_ARGUMENT, "null request");
  return from_status(r->req.set_enum(slot, member));
}
tg_status tg_request_set_string(tg_request* r, int slot, const char* v, size_t len) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(r != nullptr && (v != nullptr || len == 0));
    return from_status(r->req.set_string_copy(slot, std::string_view(v ? v : "", len)));
  });
}
tg_status tg_request_set(tg_request* r, const char* input, const char* text) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(r != nullptr && input != nullptr && text != nullptr);
    Status s = r->req.set(input, text);
    if (s != Status::Ok)
      return fail(from_status(s), fmt::format("input '{}' = '{}': {}", input, text, to_string(s)));
    return ok();
  });
}

// ---- decisions -------------------------------------------------------------------------------

tg_status tg_decision_create(tg_decision** out) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(out != nullptr);
    *out = new tg_decision();
    return ok();
  });
}

void tg_decision_destroy(tg_decision* d) {
  try {
    delete d;
  } catch (...) {
  }
}

tg_status tg_decide(const tg_request* r, tg_decision* out) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(r != nullptr && out != nullptr);
    hold(out, r->owner->policy);
    out->policy->decide(r->req, &out->d);
    return TG_OK;
  });
}

// ---- the bulk path ---------------------------------------------------------------------------

int tg_policy_enum_index(const tg_policy* p, int slot, const char* member) {
  if (!p || !member || slot < 0 || slot >= tg_policy_input_count(p)) return -1;
  const detail::SchemaInput& in = p->policy.impl().schema->inputs[static_cast<size_t>(slot)];
  if (in.type != InputType::Enum) return -1;
  auto it = in.members.find(std::string_view(member));
  return it == in.members.end() ? -1 : it->second;
}

namespace {

const std::string& name(const detail::Schema& schema, int slot) {
  return schema.inputs[static_cast<size_t>(slot)].name;
}

// Slots for one request from the host's values (defaults where unset), validated like the
// Request setters; the failing slot is named in the error.
tg_status values_to_slots(const detail::Schema& schema, const tg_value* v, int n, Slot* slots) {
  const Slot* defaults = schema.reset_image.data();
  for (int k = 0; k < n; ++k) {
    Slot& s = slots[k];
    if (!v[k].set) {
      s = defaults[k];
      continue;
    }
    const detail::SlotCheck& in = schema.checks[static_cast<size_t>(k)];
    s.str = "";
    s.len = 0;
    s.str_id = -1;
    s.set = 1;
    switch (static_cast<InputType>(in.type)) {
      case InputType::Int:
        s.i = v[k].i;
        break;
      case InputType::Bool:
        s.i = v[k].i != 0;
        break;
      case InputType::Float:
        if (std::isnan(v[k].f))
          return fail(TG_ERR_BAD_VALUE, fmt::format("slot {} ({}): NaN", k, name(schema, k)));
        s.f = v[k].f;
        break;
      case InputType::Enum:
        if (v[k].i < 0 || v[k].i >= in.member_count)
          return fail(TG_ERR_UNKNOWN_ENUM,
                      fmt::format("slot {} ({}): no member {}", k, name(schema, k), v[k].i));
        s.i = v[k].i;
        break;
      case InputType::String:
        if (!v[k].str && v[k].len > 0)
          return fail(TG_ERR_INVALID_ARGUMENT,
                      fmt::format("slot {} ({}): NULL string", k, name(schema, k)));
        s.i = 0;
        s.str = v[k].str ? v[k].str : "";
        s.len = v[k].len;
        s.str_id = schema.literal_id(std::string_view(s.str, s.len));
        break;
    }
  }
  return TG_OK;
}

void to_result(const Policy& p, const Decision& d, tg_result* r) {
  r->route = d.denied ? -1 : d.route;
  r->denied = d.denied;
  r->max_out = d.max_out == kNoCap ? -1 : d.max_out;
  r->max_in = d.max_in == kNoCap ? -1 : d.max_in;
  r->backoff_ms = d.backoff_ms;
  r->top_k = d.top_k;
  r->retry = d.retry;
  r->rag = d.rag;
  r->cache = static_cast<int32_t>(d.cache);
  r->errors = d.errors;
  r->deny_reason = d.denied && d.deny_reason ? d.deny_reason : "";
  const std::vector<uint32_t>& lines = p.impl().rule_lines;
  for (int f = 0; f < kFieldCount; ++f) {
    const int idx = d.rule[f];
    r->rule_line[f] = idx >= 0 && static_cast<size_t>(idx) < lines.size() ? lines[idx] : 0;
  }
  r->tag_count = d.tag_count;
  r->pad = 0;
}

// Slot storage for one request: on the stack for the usual few dozen inputs, else a per-thread
// buffer that grows once.
constexpr int kStackSlots = 64;

tg_status decide_values(const tg_policy* p, const tg_value* values, int n, size_t count,
                        int64_t now_ms, tg_result* out) {
  if (!p || (!values && count > 0) || (!out && count > 0))
    return fail(TG_ERR_INVALID_ARGUMENT, "null argument");
  const Policy& policy = p->policy;
  const detail::PolicyImpl& impl = policy.impl();
  if (n != static_cast<int>(impl.inputs.size()))
    return fail(TG_ERR_INVALID_ARGUMENT,
                fmt::format("{} values for a policy with {} inputs", n, impl.inputs.size()));
  Slot stack[kStackSlots];
  Slot* slots = stack;
  if (n > kStackSlots) {
    static thread_local std::vector<Slot> heap;
    if (heap.size() < static_cast<size_t>(n)) heap.resize(static_cast<size_t>(n));
    slots = heap.data();
  }
  Decision d;
  for (size_t k = 0; k < count; ++k) {
    if (tg_status s =
            values_to_slots(*impl.schema, values + k * static_cast<size_t>(n), n, slots)) {
      if (count > 1) t_error = fmt::format("request {}: {}", k, t_error);
      return s;
    }
    detail::decide_slots(impl, slots, now_ms, impl.ledger.get(), &d);
    to_result(policy, d, out + k);
  }
  return ok();
}

}  // namespace

tg_status tg_decide_values(const tg_policy* p, const tg_value* values, int n, int64_t now_ms,
                           tg_result* out) {
  return guard([&] { return decide_values(p, values, n, 1, now_ms, out); });
}

tg_status tg_decide_batch(const tg_policy* p, const tg_value* values, int n, size_t count,
                          int64_t now_ms, tg_result* out) {
  return guard([&] { return decide_values(p, values, n, count, now_ms, out); });
}

int tg_decision_denied(const tg_decision* d) {
  return d && d->d.denied ? 1 : 0;
}
const char* tg_decision_deny_reason(const tg_decision* d) {
  return d && d->d.denied && d->d.deny_reason ? d->d.deny_reason : "";
}
int tg_decision_route_index(const tg_decision* d) {
  return d && !d->d.denied ? d->d.route : -1;
}
const char* tg_decision_route(const tg_decision* d) {
  if (!d || !d->policy || d->d.denied || d->d.route < 0) return nullptr;
  return d->policy->routes()[d->d.route].name.c_str();
}
const char* tg_decision_model(const tg_decision* d) {
  if (!d || !d->policy || d->d.denied || d->d.route < 0) return nullptr;
  return d->policy->routes()[d->d.route].model.c_str();
}
int64_t tg_decision_max_out(const tg_decision* d) {
  return !d || d->d.max_out == kNoCap ? -1 : d->d.max_out;
}
int64_t tg_decision_max_in(const tg_decision* d) {
  return !d || d->d.max_in == kNoCap ? -1 : d->d.max_in;
}
int tg_decision_retry(const tg_decision* d) {
  return d && d->d.retry ? 1 : 0;
}
int64_t tg_decision_backoff_ms(const tg_decision* d) {
  return d ? d->d.backoff_ms : 0;
}
int tg_decision_rag(const tg_decision* d) {
  return d && d->d.rag ? 1 : 0;
}
int64_t tg_decision_top_k(const tg_decision* d) {
  return d ? d->d.top_k : 0;
}
tg_cache tg_decision_cache(const tg_decision* d) {
  return d ? static_cast<tg_cache>(d->d.cache) : TG_CACHE_OFF;
}
int tg_decision_tag_count(const tg_decision* d) {
  return d ? d->d.tag_count : 0;
}
const char* tg_decision_tag(const tg_decision* d, int i, size_t* len) {
  if (!d || i < 0 || i >= d->d.tag_count) return nullptr;
  std::string_view t = d->d.tag(i);
  if (len) *len = t.size();
  return t.data();
}
uint32_t tg_decision_errors(const tg_decision* d) {
  return d ? d->d.errors : 0;
}
uint32_t tg_decision_rule_line(const tg_decision* d, tg_field f) {
  if (!d || !d->policy || f < 0 || f >= kFieldCount) return 0;
  int r = d->d.rule[f];
  if (r < 0 || r >= static_cast<int>(d->policy->rules().size())) return 0;
  return d->policy->rules()[r].line;
}

const char* tg_decision_audit_json(tg_decision* d, const tg_request* r) {
  tg_status s = guard([&]() -> tg_status {
    TG_REQUIRE(d != nullptr && d->policy);
    AuditContext ctx;
    if (r != nullptr && &r->owner->policy.impl() == &d->policy->impl()) {
      ctx.request = &r->req;
      ctx.now_ms = r->req.now_ms;
    }
    // Budget views read the ledger the decision read: the engine's (shared with the policy).
    ctx.budgets = d->policy->impl().ledger.get();
    render_audit(*d->policy, d->d, ctx, &d->json);
    return d->json.empty() ? fail(TG_ERR_NO_MEMORY, "audit render failed") : ok();
  });
  return s == TG_OK ? d->json.c_str() : nullptr;
}

// ---- admissions ------------------------------------------------------------------------------

tg_status tg_admission_create(tg_admission** out) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(out != nullptr);
    *out = new tg_admission();
    return ok();
  });
}

void tg_admission_destroy(tg_admission* a) {
  try {
    delete a;  // ~Admission releases a pending reservation
  } catch (...) {
  }
}

tg_status tg_admit(tg_engine* engine, const tg_request* r, int64_t est_in, int64_t est_out,
                   tg_admission* out) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(engine != nullptr && r != nullptr && out != nullptr);
    Estimate e;
    e.in_tokens = est_in;
    e.out_tokens_uncapped = est_out;
    engine->engine->ledger().admit(r->owner->policy, r->req, e, &out->a);
    hold(&out->view, r->owner->policy);
    out->view.d = out->a.decision();
    return ok();
  });
}

int tg_admission_admitted(const tg_admission* a) {
  return a && a->a.admitted() ? 1 : 0;
}
int tg_admission_pending(const tg_admission* a) {
  return a && a->a.pending() ? 1 : 0;
}
const char* tg_admission_reason(const tg_admission* a) {
  return a ? a->a.reason().data() : "";
}
double tg_admission_estimated_cost(const tg_admission* a) {
  return a ? a->a.estimated_cost_usd() : 0.0;
}
const tg_decision* tg_admission_decision(const tg_admission* a) {
  return a ? &a->view : nullptr;
}

const char* tg_admission_audit_json(tg_admission* a, const tg_request* r) {
  tg_status s = guard([&]() -> tg_status {
    TG_REQUIRE(a != nullptr && a->a.policy());
    const Request* req = nullptr;
    if (r != nullptr && &r->owner->policy.impl() == &a->a.policy()->impl()) req = &r->req;
    render_audit(a->a, req, a->a.ledger(), &a->view.json);
    return a->view.json.empty() ? fail(TG_ERR_NO_MEMORY, "audit render failed") : ok();
  });
  return s == TG_OK ? a->view.json.c_str() : nullptr;
}

tg_status tg_record(tg_admission* a, const tg_usage* u) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(a != nullptr && u != nullptr);
    if (!a->a.pending()) return fail(TG_ERR_STATE, "admission is not pending");
    Usage usage{u->in_tokens, u->out_tokens, u->cached_in_tokens, u->cost_usd};
    a->a.ledger()->record(a->a, usage);
    return ok();
  });
}

tg_status tg_release(tg_admission* a) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(a != nullptr);
    if (!a->a.pending()) return fail(TG_ERR_STATE, "admission is not pending");
    a->a.ledger()->release(a->a);
    return ok();
  });
}

tg_status tg_ledger_spent(tg_engine* engine, const tg_policy* policy, const char* budget,
                          const char* key, int64_t now_ms, double* out) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(engine != nullptr && policy != nullptr && budget != nullptr && out != nullptr);
    for (const BudgetInfo& b : policy->policy.budgets()) {
      if (b.name != budget) continue;
      *out = engine->engine->ledger().spent(b, key ? key : "",
                                            now_ms != 0 ? now_ms : Ledger::wall_clock_ms());
      return ok();
    }
    return fail(TG_ERR_INVALID_ARGUMENT, std::string("no budget named ") + budget);
  });
}

tg_status tg_ledger_save(tg_engine* engine, const char* path) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(engine != nullptr && path != nullptr);
    std::string err;
    if (!engine->engine->ledger().save(path, &err)) return fail(TG_ERR_IO, err);
    return ok();
  });
}

tg_status tg_ledger_load(tg_engine* engine, const char* path) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(engine != nullptr && path != nullptr);
    std::string err;
    if (!engine->engine->ledger().load(path, 0, nullptr, &err)) return fail(TG_ERR_IO, err);
    return ok();
  });
}

// ---- hot reload and shadow -------------------------------------------------------------------

tg_status tg_handle_create(tg_engine* engine, tg_policy* initial, tg_handle** out) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(engine != nullptr && initial != nullptr && out != nullptr);
    *out = new tg_handle(*engine->engine, initial->policy);
    return ok();
  });
}

void tg_handle_destroy(tg_handle* h) {
  try {
    delete h;
  } catch (...) {
  }
}

tg_status tg_handle_reload(tg_handle* h, const char* source, size_t len, const char* file) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(h != nullptr && (source != nullptr || len == 0));
    return reload_status(
        h->handle.reload(std::string_view(source ? source : "", len), file ? file : "<reload>"));
  });
}

tg_status tg_handle_reload_file(tg_handle* h, const char* path) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(h != nullptr && path != nullptr);
    return reload_status(h->handle.reload_file(path));
  });
}

tg_policy* tg_handle_current(tg_handle* h) {
  tg_policy* out = nullptr;
  guard([&]() -> tg_status {
    TG_REQUIRE(h != nullptr);
    out = new tg_policy(h->handle.current());
    return ok();
  });
  return out;
}

uint64_t tg_handle_generation(const tg_handle* h) {
  return h ? h->handle.generation() : 0;
}

tg_status tg_handle_decide(tg_handle* h, const tg_request* r, tg_decision* out) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(h != nullptr && r != nullptr && out != nullptr);
    hold(out, r->owner->policy);
    h->handle.decide(*out->policy, r->req, &out->d);
    return TG_OK;
  });
}

tg_status tg_handle_set_candidate(tg_handle* h, const char* source, size_t len, const char* file) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(h != nullptr && (source != nullptr || len == 0));
    return reload_status(h->handle.set_candidate(std::string_view(source ? source : "", len),
                                                 file ? file : "<candidate>"));
  });
}

tg_status tg_handle_set_candidate_file(tg_handle* h, const char* path) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(h != nullptr && path != nullptr);
    return reload_status(h->handle.set_candidate_file(path));
  });
}

tg_status tg_handle_clear_candidate(tg_handle* h) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(h != nullptr);
    h->handle.clear_candidate();
    return ok();
  });
}

tg_status tg_handle_shadow_json(tg_handle* h, char* buf, size_t cap, size_t* needed) {
  return guard([&]() -> tg_status {
    TG_REQUIRE(h != nullptr && (buf != nullptr || cap == 0));
    std::string json;
    render_shadow_stats(h->handle.shadow_stats(), &json);
    if (needed) *needed = json.size();
    if (cap <= json.size()) {
      if (cap > 0) buf[0] = '\0';
      return fail(TG_ERR_BUFFER_TOO_SMALL,
                  "shadow json needs " + std::to_string(json.size() + 1) + " bytes");
    }
    std::memcpy(buf, json.c_str(), json.size() + 1);
    return ok();
  });
}

}  // extern "C"
