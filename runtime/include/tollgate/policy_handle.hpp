// PolicyHandle: the live version of a policy, hot-reloadable while many threads decide, plus an
// optional shadow candidate decided beside it and never enforced.
//
// Reads are an RCU-ish epoch scheme (two per-slot reader counters, no locks, no shared refcount
// on the decide path); a swap compiles off the hot path, publishes the new version with one atomic
// store and frees the old one once no reader can still see it. Policies are shared handles, so a
// decision that pinned a version (current()) finishes on it whatever happens meanwhile.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tollgate/decision.hpp"
#include "tollgate/diagnostic.hpp"
#include "tollgate/policy.hpp"
#include "tollgate/request.hpp"

namespace tollgate {

class Engine;
struct CompileResult;

struct ReloadResult {
  bool ok = false;
  std::vector<Diagnostic> diagnostics;  // errors (when !ok) and warnings
  std::string rendered;                 // clang-style text of the diagnostics
  std::string version_hash;             // of the version now installed (ok) or still serving
  uint64_t generation = 0;              // handle generation after the call
};

// Fields compared by shadow mode, as bits of ShadowSample::fields and indexes of
// ShadowStats::per_field.
enum ShadowField : uint32_t {
  kShadowRoute = 1u << 0,  // route name, or deny vs route
  kShadowDenyReason = 1u << 1,
  kShadowMaxOut = 1u << 2,
  kShadowMaxIn = 1u << 3,
  kShadowRetry = 1u << 4,
  kShadowBackoff = 1u << 5,
  kShadowRag = 1u << 6,
  kShadowTopK = 1u << 7,
  kShadowCache = 1u << 8,
  kShadowTags = 1u << 9,
};
constexpr int kShadowFieldCount = 10;
const char* shadow_field_name(int index);  // "route", "deny_reason", "max_out", ...

// One request on which the candidate disagreed with the live policy.
struct ShadowSample {
  uint32_t fields = 0;    // ShadowField bits that differ
  std::string inputs;     // JSON object of the inputs the host set
  std::string live;       // JSON of the live decision's fields
  std::string candidate;  // JSON of the candidate decision's fields
};

struct ShadowStats {
  bool active = false;
  std::string candidate_version;  // version hash of the candidate these counters are for
  uint64_t decisions = 0;         // requests decided by both
  uint64_t agree = 0;             // all compared fields equal
  uint64_t differ = 0;
  uint64_t skipped = 0;  // not shadowed: every pooled candidate request was busy
  uint64_t per_field[kShadowFieldCount] = {};
  std::vector<ShadowSample> samples;  // the first kMaxSamples differing requests
};

// The stats as JSON: {"active","candidate_version","decisions","agree","differ","skipped",
// "per_field":{"route":n,...},"samples":[{"fields":[...],"inputs":{},"live":{},"candidate":{}}]}.
void render_shadow_stats(const ShadowStats& stats, std::string* out);

class PolicyHandle {
 public:
  static constexpr int kMaxSamples = 32;

  // The engine compiles reloads and must outlive the handle.
  PolicyHandle(Engine& engine, Policy initial);
  ~PolicyHandle();
  PolicyHandle(const PolicyHandle&) = delete;
  PolicyHandle& operator=(const PolicyHandle&) = delete;

  // The live version, pinned: holding the copy keeps it alive across reloads.
  Policy current() const;
  // Changes on every swap (reload, candidate change); a cheap check for per-thread caches.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // Compiles and, when it has no errors, installs the new live version. On errors the old
  // version keeps serving and the diagnostics are returned. Runs on the caller's thread (never on
  // the decide path); concurrent reloads are serialized.
  ReloadResult reload(std::string_view source, std::string_view file = "<reload>");
  ReloadResult reload_file(const std::string& path);
  // Installs an already compiled version.
  void swap(Policy next);

  // Shadow mode: the candidate is decided beside the live version on every decide() call and its
  // differences counted; never enforced. Setting a candidate resets the counters.
  ReloadResult set_candidate(std::string_view source, std::string_view file = "<candidate>");
  ReloadResult set_candidate_file(const std::string& path);
  void set_candidate(Policy candidate);
  void clear_candidate();
  std::optional<Policy> candidate() const;

  // Decides `req` (built for `policy`, normally a version pinned with current()) into *out and,
  // when a candidate is set, decides it too and compares. Never throws; allocates only the
  // first time a thread sees a new candidate and for the first kMaxSamples differing samples.
  void decide(const Policy& policy, const Request& req, Decision* out) const;
  // Same, deciding the live version (the request must have been built for the current schema:
  // inputs are matched by slot).
  void decide(const Request& req, Decision* out) const;

  ShadowStats shadow_stats() const;

  uint64_t reloads_ok() const { return reloads_ok_.load(); }
  uint64_t reloads_failed() const { return reloads_failed_.load(); }

  struct State;
  struct Shadow;

 private:
  // Runs f(state) inside a read-side section: the state cannot be freed until f returns.
  template <class F>
  void read(F&& f) const;
  void publish(std::unique_ptr<State> next);  // caller holds write_mu_
  ReloadResult install(CompileResult& cr, bool candidate);

  static constexpr int kReaderSlots = 32;
  struct alignas(64) ReaderCount {
    std::atomic<int64_t> n{0};
  };

  Engine& engine_;
  std::atomic<State*> state_{nullptr};
  std::atomic<uint32_t> epoch_{0};
  mutable ReaderCount readers_[2][kReaderSlots];
  std::mutex write_mu_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> reloads_ok_{0};
  std::atomic<uint64_t> reloads_failed_{0};
};

}  // namespace tollgate
