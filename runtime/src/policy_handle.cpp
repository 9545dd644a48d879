// PolicyHandle: hot reload by an RCU-ish epoch scheme, and shadow mode.
//
// Read side: a reader loads the epoch E, increments readers_[E&1][its slot], re-checks that the
// epoch is still E (else undoes and retries), then loads the state pointer and uses it, then
// decrements. Write side (serialized): exchange the state pointer, increment the epoch, wait until
// the counters of the old parity drain, free the old state. A reader validated on the old epoch
// incremented before the writer's epoch bump, so the writer waits for it; a reader validated on
// the new epoch loads the pointer after the exchange and cannot see the old state. New readers
// never join the drained parity, so the writer cannot starve. All operations are seq_cst.
#include "tollgate/policy_handle.hpp"

#include <cstring>
#include <thread>

#include "tollgate/audit.hpp"
#include "tollgate/engine.hpp"

namespace tollgate {

namespace {

std::atomic<unsigned> g_next_reader_slot{0};

unsigned reader_slot(unsigned slots) {
  thread_local unsigned slot = g_next_reader_slot.fetch_add(1, std::memory_order_relaxed);
  return slot % slots;
}

constexpr const char* kShadowFieldNames[kShadowFieldCount] = {
    "route",   "deny_reason", "max_out", "max_in", "retry",
    "backoff", "rag",         "top_k",   "cache",  "tags"};

}  // namespace

const char* shadow_field_name(int index) {
  return index >= 0 && index < kShadowFieldCount ? kShadowFieldNames[index] : "?";
}

void render_shadow_stats(const ShadowStats& st, std::string* o) {
  o->clear();
  *o += "{\"active\":";
  *o += st.active ? "true" : "false";
  *o += ",\"candidate_version\":\"" + st.candidate_version + "\"";
  *o += ",\"decisions\":" + std::to_string(st.decisions);
  *o += ",\"agree\":" + std::to_string(st.agree);
  *o += ",\"differ\":" + std::to_string(st.differ);
  *o += ",\"skipped\":" + std::to_string(st.skipped);
  *o += ",\"per_field\":{";
  for (int i = 0; i < kShadowFieldCount; ++i) {
    if (i) *o += ',';
    *o += std::string("\"") + kShadowFieldNames[i] + "\":" + std::to_string(st.per_field[i]);
  }
  *o += "},\"samples\":[";
  for (size_t k = 0; k < st.samples.size(); ++k) {
    const ShadowSample& s = st.samples[k];
    if (k) *o += ',';
    *o += "{\"fields\":[";
    bool first = true;
    for (int i = 0; i < kShadowFieldCount; ++i) {
      if (!(s.fields & (1u << i))) continue;
      if (!first) *o += ',';
      first = false;
      *o += std::string("\"") + kShadowFieldNames[i] + "\"";
    }
    *o +=
        "],\"inputs\":" + s.inputs + ",\"live\":" + s.live + ",\"candidate\":" + s.candidate + "}";
  }
  *o += "]}";
}

// A candidate and its counters. Candidate requests are translated from the live request by input
// name into a pooled Request (built up front, so shadowing does not allocate).
struct PolicyHandle::Shadow {
  static constexpr int kPool = 32;

  explicit Shadow(Policy c) : candidate(std::move(c)) {
    for (auto& p : pool) p.req = std::make_unique<Request>(candidate);
  }

  Policy candidate;
  std::atomic<uint64_t> decisions{0}, agree{0}, differ{0}, skipped{0};
  std::atomic<uint64_t> per_field[kShadowFieldCount] = {};
  std::atomic<uint32_t> sample_tickets{0};
  mutable std::mutex samples_mu;
  std::vector<ShadowSample> samples;

  struct alignas(64) Pooled {
    std::atomic<bool> busy{false};
    std::unique_ptr<Request> req;
  };
  Pooled pool[kPool];
};

struct PolicyHandle::State {
  State(Policy l, std::shared_ptr<Shadow> s) : live(std::move(l)), shadow(std::move(s)) {}
  Policy live;
  std::shared_ptr<Shadow> shadow;  // null: no candidate
};

namespace {

// Copies the inputs the host set on `from` (built for `src`) into `to` (built for `dst`), matching
// inputs by name. Inputs that the candidate lacks or declares with another type stay unset.
void translate(const Policy& src, const Request& from, const Policy& dst, Request* to) {
  to->reset();
  to->now_ms = from.now_ms;
  const auto& dst_inputs = dst.inputs();
  const auto& src_inputs = src.inputs();
  const Slot* slots = from.slots();
  for (int j = 0; j < static_cast<int>(dst_inputs.size()); ++j) {
    const InputInfo& in = dst_inputs[j];
    int i = src.slot(in.name);
    if (i < 0 || i >= from.size() || !slots[i].set) continue;
    const Slot& s = slots[i];
    const InputType st = src_inputs[i].type;
    switch (in.type) {
      case InputType::Bool:
        if (st == InputType::Bool) to->set_bool(j, s.i != 0);
        break;
      case InputType::Int:
        if (st == InputType::Int) to->set_int(j, s.i);
        break;
      case InputType::Float:
        if (st == InputType::Float) to->set_float(j, s.f);
        if (st == InputType::Int) to->set_float(j, static_cast<double>(s.i));
        break;
      case InputType::String:
        if (st == InputType::String) to->set_string(j, std::string_view(s.str, s.len));
        break;
      case InputType::Enum:
        if (st == InputType::Enum && s.i >= 0 &&
            s.i < static_cast<int64_t>(src_inputs[i].members.size())) {
          to->set_enum(j, std::string_view(src_inputs[i].members[s.i]));
        }
        break;
    }
  }
}

std::string_view route_name(const Policy& p, const Decision& d) {
  if (d.denied || d.route < 0 || d.route >= static_cast<int>(p.routes().size())) return {};
  return p.routes()[d.route].name;
}

uint32_t compare(const Policy& lp, const Decision& l, const Policy& cp, const Decision& c) {
  uint32_t f = 0;
  if (l.denied != c.denied || route_name(lp, l) != route_name(cp, c)) f |= kShadowRoute;
  if (l.denied && c.denied && std::strcmp(l.deny_reason, c.deny_reason) != 0)
    f |= kShadowDenyReason;
  if (l.max_out != c.max_out) f |= kShadowMaxOut;
  if (l.max_in != c.max_in) f |= kShadowMaxIn;
  if (l.retry != c.retry) f |= kShadowRetry;
  if (l.retry && c.retry && l.backoff_ms != c.backoff_ms) f |= kShadowBackoff;
  if (l.rag != c.rag) f |= kShadowRag;
  if (l.rag && c.rag && l.top_k != c.top_k) f |= kShadowTopK;
  if (l.cache != c.cache) f |= kShadowCache;
  bool tags_equal = l.tag_count == c.tag_count;
  for (int i = 0; tags_equal && i < l.tag_count; ++i) tags_equal = l.tag(i) == c.tag(i);
  if (!tags_equal) f |= kShadowTags;
  return f;
}

void shadow_decide(PolicyHandle::Shadow& sh, const Policy& live, const Request& req,
                   const Decision& ld) {
  // A pooled request: start at this thread's slot, take the first free one.
  const unsigned start = reader_slot(PolicyHandle::Shadow::kPool);
  PolicyHandle::Shadow::Pooled* p = nullptr;
  for (unsigned k = 0; k < PolicyHandle::Shadow::kPool; ++k) {
    auto& cand = sh.pool[(start + k) % PolicyHandle::Shadow::kPool];
    if (!cand.busy.exchange(true, std::memory_order_acquire)) {
      p = &cand;
      break;
    }
  }
  if (p == nullptr) {  // more concurrent deciders than pooled requests: sample, don't block
    sh.skipped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  translate(live, req, sh.candidate, p->req.get());
  Decision cd;
  sh.candidate.decide(*p->req, &cd);
  const uint32_t diff = compare(live, ld, sh.candidate, cd);
  sh.decisions.fetch_add(1, std::memory_order_relaxed);
  if (diff == 0) {
    sh.agree.fetch_add(1, std::memory_order_relaxed);
    p->busy.store(false, std::memory_order_release);
    return;
  }
  sh.differ.fetch_add(1, std::memory_order_relaxed);
  for (int i = 0; i < kShadowFieldCount; ++i)
    if (diff & (1u << i)) sh.per_field[i].fetch_add(1, std::memory_order_relaxed);
  if (sh.sample_tickets.load(std::memory_order_relaxed) < PolicyHandle::kMaxSamples &&
      sh.sample_tickets.fetch_add(1, std::memory_order_relaxed) < PolicyHandle::kMaxSamples) {
    try {
      ShadowSample s;
      s.fields = diff;
      render_inputs(live, req, &s.inputs);
      render_decision_fields(live, ld, &s.live);
      render_decision_fields(sh.candidate, cd, &s.candidate);
      std::lock_guard<std::mutex> lock(sh.samples_mu);
      sh.samples.push_back(std::move(s));
    } catch (...) {
      // A lost sample is acceptable; the counters above are exact.
    }
  }
  p->busy.store(false, std::memory_order_release);
}

}  // namespace

PolicyHandle::PolicyHandle(Engine& engine, Policy initial) : engine_(engine) {
  state_.store(new State(std::move(initial), nullptr));
  generation_.store(1);
}

PolicyHandle::~PolicyHandle() {
  delete state_.load();
}

template <class F>
void PolicyHandle::read(F&& f) const {
  const unsigned slot = reader_slot(kReaderSlots);
  for (;;) {
    const uint32_t e = epoch_.load();
    std::atomic<int64_t>& n = readers_[e & 1][slot].n;
    n.fetch_add(1);
    if (epoch_.load() == e) {
      f(*state_.load());
      n.fetch_sub(1);
      return;
    }
    n.fetch_sub(1);
  }
}

void PolicyHandle::publish(std::unique_ptr<State> next) {
  State* old = state_.exchange(next.release());
  const uint32_t e = epoch_.fetch_add(1);
  for (int spins = 0;; ++spins) {
    int64_t sum = 0;
    for (const ReaderCount& r : readers_[e & 1]) sum += r.n.load();
    if (sum == 0) break;
    if (spins > 64) std::this_thread::yield();
  }
  delete old;
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

Policy PolicyHandle::current() const {
  std::optional<Policy> out;
  read([&](const State& s) { out.emplace(s.live); });
  return *out;
}

std::optional<Policy> PolicyHandle::candidate() const {
  std::optional<Policy> out;
  read([&](const State& s) {
    if (s.shadow) out.emplace(s.shadow->candidate);
  });
  return out;
}

void PolicyHandle::swap(Policy next) {
  std::lock_guard<std::mutex> lock(write_mu_);
  std::shared_ptr<Shadow> shadow = state_.load()->shadow;
  publish(std::make_unique<State>(std::move(next), std::move(shadow)));
}

void PolicyHandle::set_candidate(Policy candidate) {
  auto shadow = std::make_shared<Shadow>(std::move(candidate));  // off the lock: builds requests
  std::lock_guard<std::mutex> lock(write_mu_);
  publish(std::make_unique<State>(state_.load()->live, std::move(shadow)));
}

void PolicyHandle::clear_candidate() {
  std::lock_guard<std::mutex> lock(write_mu_);
  publish(std::make_unique<State>(state_.load()->live, nullptr));
}

ReloadResult PolicyHandle::install(CompileResult& cr, bool candidate) {
  ReloadResult r;
  r.diagnostics = std::move(cr.diagnostics);
  r.rendered = std::move(cr.rendered);
  if (!cr.ok()) {
    reloads_failed_.fetch_add(1);
    r.ok = false;
    r.version_hash = candidate ? "" : current().version_hash();
    r.generation = generation();
    return r;
  }
  r.ok = true;
  r.version_hash = cr.policy->version_hash();
  if (candidate) {
    set_candidate(std::move(*cr.policy));
  } else {
    swap(std::move(*cr.policy));
    reloads_ok_.fetch_add(1);
  }
  r.generation = generation();
  return r;
}

namespace {

ReloadResult failure(std::string message) {
  ReloadResult r;
  Diagnostic d;
  d.message = std::move(message);
  r.rendered = "error: " + d.message + "\n";
  r.diagnostics.push_back(std::move(d));
  return r;
}

}  // namespace

ReloadResult PolicyHandle::reload(std::string_view source, std::string_view file) {
  try {
    CompileResult cr = engine_.compile(source, file);
    return install(cr, false);
  } catch (const std::exception& e) {
    reloads_failed_.fetch_add(1);
    return failure(std::string("reload failed: ") + e.what());
  }
}

ReloadResult PolicyHandle::reload_file(const std::string& path) {
  try {
    CompileResult cr = engine_.compile_file(path);
    return install(cr, false);
  } catch (const std::exception& e) {
    reloads_failed_.fetch_add(1);
    return failure(std::string("reload failed: ") + e.what());
  }
}

ReloadResult PolicyHandle::set_candidate(std::string_view source, std::string_view file) {
  try {
    CompileResult cr = engine_.compile(source, file);
    return install(cr, true);
  } catch (const std::exception& e) {
    return failure(std::string("candidate failed: ") + e.what());
  }
}

ReloadResult PolicyHandle::set_candidate_file(const std::string& path) {
  try {
    CompileResult cr = engine_.compile_file(path);
    return install(cr, true);
  } catch (const std::exception& e) {
    return failure(std::string("candidate failed: ") + e.what());
  }
}

void PolicyHandle::decide(const Policy& policy, const Request& req, Decision* out) const {
  policy.decide(req, out);
  read([&](const State& s) {
    if (s.shadow) shadow_decide(*s.shadow, policy, req, *out);
  });
}

void PolicyHandle::decide(const Request& req, Decision* out) const {
  read([&](const State& s) {
    s.live.decide(req, out);
    if (s.shadow) shadow_decide(*s.shadow, s.live, req, *out);
  });
}

ShadowStats PolicyHandle::shadow_stats() const {
  ShadowStats st;
  std::shared_ptr<Shadow> sh;
  read([&](const State& s) { sh = s.shadow; });
  if (!sh) return st;
  st.active = true;
  st.candidate_version = sh->candidate.version_hash();
  st.decisions = sh->decisions.load();
  st.agree = sh->agree.load();
  st.differ = sh->differ.load();
  st.skipped = sh->skipped.load();
  for (int i = 0; i < kShadowFieldCount; ++i) st.per_field[i] = sh->per_field[i].load();
  std::lock_guard<std::mutex> lock(sh->samples_mu);
  st.samples = sh->samples;
  return st;
}

}  // namespace tollgate
