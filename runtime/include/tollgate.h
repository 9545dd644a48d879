/* Tollgate C ABI: embed the policy engine from C, Go (cgo), Python (ctypes/cffi), Node (N-API/ffi)
 * or Rust. Mirrors the C++ API (tollgate/tollgate.hpp); see docs/embedding.md.
 *
 * Conventions
 * - Every function returning tg_status returns TG_OK (0) on success. On failure the calling
 *   thread's error message is set: tg_last_error() returns it (thread-local, valid until the next
 *   tg_* call on that thread). No C++ exception ever crosses this boundary.
 * - Ownership is stated on every function. "Caller owns" means: release it with the named
 *   function. "Borrowed" means: do not free; valid for as long as stated.
 * - Threading: tg_engine, tg_policy and tg_handle are thread-safe (share them across threads).
 *   tg_request, tg_decision and tg_admission are single-threaded objects: use one per thread
 *   (or per request) and reuse it; they may move between threads with external synchronization.
 * - Strings passed in are read during the call only (they are copied when kept), unless a
 *   function says otherwise.
 */
#ifndef TOLLGATE_H
#define TOLLGATE_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define TG_API __attribute__((visibility("default")))
#else
#define TG_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change of this header. */
#define TG_ABI_VERSION \
  2 /* 2: tiers (tg_engine_config.wait_for_jit, jit_hot_decisions, tg_policy_wait_for_jit) */
TG_API int tg_abi_version(void);

/* ---- errors ------------------------------------------------------------------------------ */

typedef enum tg_status {
  TG_OK = 0,
  TG_ERR_INVALID_ARGUMENT = 1, /* null pointer, slot or index out of range */
  TG_ERR_UNKNOWN_INPUT = 2,    /* the policy has no input of that name */
  TG_ERR_WRONG_TYPE = 3,       /* e.g. set_int on a string input */
  TG_ERR_UNKNOWN_ENUM = 4,     /* not a member of the input's enum */
  TG_ERR_BAD_VALUE = 5,        /* text that does not parse as the input's type */
  TG_ERR_COMPILE = 6,          /* the policy has errors; tg_last_error() holds the diagnostics */
  TG_ERR_IO = 7,               /* file could not be read or written */
  TG_ERR_STATE = 8,            /* e.g. record() of an admission that is not pending */
  TG_ERR_NO_MEMORY = 9,
  TG_ERR_BUFFER_TOO_SMALL = 10, /* the output did not fit; *needed says how much is needed */
  TG_ERR_INTERNAL = 11
} tg_status;

/* The calling thread's last error message ("" if none). Borrowed: valid until the next tg_* call
 * on this thread. */
TG_API const char* tg_last_error(void);
/* Static name of a status ("ok", "compile error", ...). Borrowed: valid forever. */
TG_API const char* tg_status_name(tg_status status);

/* ---- opaque handles ------------------------------------------------------------------------ */

typedef struct tg_engine tg_engine;       /* compiler, JIT, price table, budget ledger */
typedef struct tg_policy tg_policy;       /* an immutable compiled policy (reference counted) */
typedef struct tg_request tg_request;     /* one request's inputs, built for one policy version */
typedef struct tg_decision tg_decision;   /* a decision's fields (reusable output object) */
typedef struct tg_handle tg_handle;       /* hot-reloadable live policy + shadow candidate */
typedef struct tg_admission tg_admission; /* a decision plus its budget reservations */

/* ---- engine -------------------------------------------------------------------------------- */

typedef struct tg_engine_config {
  uint32_t struct_size;        /* sizeof(tg_engine_config): set by tg_engine_config_init */
  int use_interpreter;         /* 0: JIT-compile decisions (default); 1: reference interpreter */
  int strict;                  /* 1: lint warnings are compile errors */
  const char* prices_path;     /* LiteLLM/Portkey price table file or dir; NULL: none */
  const char* ledger_snapshot; /* restore budget spend from this snapshot if it exists; NULL */
  const char* ledger_url;      /* NULL or "memory": in-process budgets; "redis://host:port?..."
                                  shares budgets across replicas (docs/replicas.md) */
  /* ABI 2. A policy serves from the interpreter as soon as it compiles; its JIT tier is built on
   * the engine's worker thread and swapped in atomically (docs/embedding.md "Tiers"). */
  int wait_for_jit;           /* 1: tg_compile returns once the JIT tier serves (or failed) */
  uint64_t jit_hot_decisions; /* ask for the JIT tier after this many decisions; 0: at once */
} tg_engine_config;

/* Fills *config with the defaults. */
TG_API void tg_engine_config_init(tg_engine_config* config);
/* config may be NULL (defaults). On success the caller owns *out: tg_engine_destroy. */
TG_API tg_status tg_engine_create(const tg_engine_config* config, tg_engine** out);
/* Destroys the engine. Policies, handles and admissions created from it must be released
 * first (policies stay usable, but the engine's ledger is gone for new admissions). NULL is ok. */
TG_API void tg_engine_destroy(tg_engine* engine);

/* ---- compile ------------------------------------------------------------------------------- */

/* Compiles `len` bytes of policy source (file names it in diagnostics; may be NULL). On success
 * the caller owns *out (tg_policy_release). On TG_ERR_COMPILE, tg_last_error() holds the rendered
 * diagnostics (file:line:col: error: ..., source line, caret). */
TG_API tg_status tg_compile(tg_engine* engine, const char* source, size_t len, const char* file,
                            tg_policy** out);
TG_API tg_status tg_compile_file(tg_engine* engine, const char* path, tg_policy** out);

/* Policies are reference counted: retain returns the same pointer with one more reference; every
 * reference is dropped with tg_policy_release. NULL is ok for release. */
TG_API tg_policy* tg_policy_retain(tg_policy* policy);
TG_API void tg_policy_release(tg_policy* policy);

/* Borrowed strings below are valid while the caller holds a reference to the policy. */
TG_API const char* tg_policy_name(const tg_policy* policy);
TG_API const char* tg_policy_version(const tg_policy* policy);  /* hex hash of the source */
TG_API const char* tg_policy_warnings(const tg_policy* policy); /* rendered warnings, or "" */
TG_API int tg_policy_jitted(const tg_policy* policy);
/* ABI 2: blocks until the policy's JIT tier serves or has failed; returns tg_policy_jitted. */
TG_API int tg_policy_wait_for_jit(const tg_policy* policy);
/* Slot of an input by name; -1 when there is no such input. Resolve once, set by slot. */
TG_API int tg_policy_slot(const tg_policy* policy, const char* input);
TG_API int tg_policy_input_count(const tg_policy* policy);
TG_API const char* tg_policy_input_name(const tg_policy* policy, int slot); /* NULL if bad */
TG_API int tg_policy_route_count(const tg_policy* policy);
TG_API const char* tg_policy_route_name(const tg_policy* policy, int route);
TG_API const char* tg_policy_route_model(const tg_policy* policy, int route);

/* ---- requests ------------------------------------------------------------------------------ */

/* A request for `policy`'s input schema (it keeps its own reference to the policy). The caller
 * owns *out: tg_request_destroy. Reuse it: reset, set, decide. */
TG_API tg_status tg_request_create(const tg_policy* policy, tg_request** out);
TG_API void tg_request_destroy(tg_request* request);
/* Unsets every input (defaults apply again) and clears the time. */
TG_API void tg_request_reset(tg_request* request);
/* The policy this request was built for. Borrowed: valid while the request lives. */
TG_API const tg_policy* tg_request_policy(const tg_request* request);
/* Decision time for budget windows, ms since the Unix epoch (UTC); 0 = the wall clock. */
TG_API void tg_request_set_time(tg_request* request, int64_t now_ms);

/* Typed setters by slot: stores, no allocation (strings are copied into a per-slot buffer that
 * is reused). */
TG_API tg_status tg_request_set_int(tg_request* request, int slot, int64_t value);
TG_API tg_status tg_request_set_float(tg_request* request, int slot, double value);
TG_API tg_status tg_request_set_bool(tg_request* request, int slot, int value);
TG_API tg_status tg_request_set_enum(tg_request* request, int slot, const char* member);
TG_API tg_status tg_request_set_enum_index(tg_request* request, int slot, int member);
TG_API tg_status tg_request_set_string(tg_request* request, int slot, const char* value,
                                       size_t len);
/* By name, parsing `text` by the input's type ("42", "0.5", "true", "pro", any string). */
TG_API tg_status tg_request_set(tg_request* request, const char* input, const char* text);

/* ---- decisions ----------------------------------------------------------------------------- */

typedef enum tg_cache { TG_CACHE_OFF = 0, TG_CACHE_PROMPT = 1, TG_CACHE_RESPONSE = 2 } tg_cache;

/* The fields rules set, for tg_decision_rule_line. */
typedef enum tg_field {
  TG_FIELD_ROUTE = 0,
  TG_FIELD_MAX_OUT = 1,
  TG_FIELD_MAX_IN = 2,
  TG_FIELD_RETRY = 3,
  TG_FIELD_RAG = 4,
  TG_FIELD_CACHE = 5
} tg_field;

/* A reusable decision object. The caller owns *out: tg_decision_destroy. */
TG_API tg_status tg_decision_create(tg_decision** out);
TG_API void tg_decision_destroy(tg_decision* decision);

/* Decides `request` on the policy it was built for. Pure: reads budgets, reserves nothing.
 * Does not allocate. */
TG_API tg_status tg_decide(const tg_request* request, tg_decision* out);

/* Getters. Borrowed strings are valid until `decision` is reused or destroyed. */
TG_API int tg_decision_denied(const tg_decision* decision);
TG_API const char* tg_decision_deny_reason(const tg_decision* decision); /* "" if routed */
TG_API int tg_decision_route_index(const tg_decision* decision);         /* -1 if denied */
TG_API const char* tg_decision_route(const tg_decision* decision);       /* NULL if denied */
TG_API const char* tg_decision_model(const tg_decision* decision);       /* NULL if denied */
TG_API int64_t tg_decision_max_out(const tg_decision* decision);         /* -1: no cap */
TG_API int64_t tg_decision_max_in(const tg_decision* decision);          /* -1: no cap */
TG_API int tg_decision_retry(const tg_decision* decision);
TG_API int64_t tg_decision_backoff_ms(const tg_decision* decision);
TG_API int tg_decision_rag(const tg_decision* decision);
TG_API int64_t tg_decision_top_k(const tg_decision* decision);
TG_API tg_cache tg_decision_cache(const tg_decision* decision);
TG_API int tg_decision_tag_count(const tg_decision* decision);
/* Tag i (not NUL-terminated: *len receives its length); NULL if out of range. */
TG_API const char* tg_decision_tag(const tg_decision* decision, int i, size_t* len);
TG_API uint32_t tg_decision_errors(const tg_decision* decision);
/* Source line of the rule that set `field`; 0 when no rule did. */
TG_API uint32_t tg_decision_rule_line(const tg_decision* decision, tg_field field);
/* The decision as a JSON audit record (schema: docs/embedding.md). `request` (may be NULL) adds
 * budget keys, spent and ratios from the engine's ledger. Borrowed: valid until the next call on
 * this decision or its destruction. NULL on error. */
TG_API const char* tg_decision_audit_json(tg_decision* decision, const tg_request* request);

/* ---- the bulk path (ABI 2): every input in one call, the decision in a plain struct ---------- */

/* One input value. A request is an array of these in slot order (tg_policy_input_count entries,
 * tg_policy_input_name names slot i): plain data the host fills and reuses. */
typedef struct tg_value {
  int64_t i; /* int and bool (0/1) inputs; enum inputs: the member index (tg_policy_enum_index) */
  double f;  /* float inputs; NaN is TG_ERR_BAD_VALUE */
  const char* str; /* string inputs: borrowed bytes, valid until the call returns */
  uint32_t len;    /* string length */
  uint8_t set;     /* 0: not set (the input's default applies, or reading it is an error) */
  uint8_t pad[3];
} tg_value;

/* A decision as plain data: read the fields, no call per field. */
typedef struct tg_result {
  int32_t route;           /* route index (tg_policy_route_name); -1 when denied */
  int32_t denied;          /* 1: denied, deny_reason says why */
  int64_t max_out;         /* -1: no cap */
  int64_t max_in;          /* -1: no cap */
  int64_t backoff_ms;      /* with retry */
  int64_t top_k;           /* with rag */
  int32_t retry;           /* 1: retry after backoff_ms */
  int32_t rag;             /* 1: retrieve top_k chunks */
  int32_t cache;           /* tg_cache */
  uint32_t errors;         /* evaluation errors the decision met */
  const char* deny_reason; /* "" when routed. Borrowed: valid while the policy lives */
  uint32_t rule_line[6];   /* source line of the rule that set each tg_field; 0: none */
  uint32_t tag_count;      /* tags: only through tg_decide + tg_decision_tag */
  uint32_t pad;
} tg_result;

/* Member index of `member` of enum input `slot`; -1 if there is none. Resolve once. */
TG_API int tg_policy_enum_index(const tg_policy* policy, int slot, const char* member);

/* Decides one request given as `n` values in slot order (n must be tg_policy_input_count) at
 * `now_ms` (ms since the Unix epoch; 0: the wall clock). Pure, like tg_decide; no allocation;
 * reads budgets from the engine's ledger. A bad value (wrong enum index, NaN, NULL string with
 * len > 0) fails the call with the slot named in tg_last_error(). */
TG_API tg_status tg_decide_values(const tg_policy* policy, const tg_value* values, int n,
                                  int64_t now_ms, tg_result* out);

/* Decides `count` requests in one call: request k is values[k * n .. k * n + n), its result
 * out[k]. Stops at the first bad request (tg_last_error names it and its slot); results before
 * it are filled. */
TG_API tg_status tg_decide_batch(const tg_policy* policy, const tg_value* values, int n,
                                 size_t count, int64_t now_ms, tg_result* out);

/* ---- budgets: admit / record / release ----------------------------------------------------- */

typedef struct tg_usage {
  int64_t in_tokens; /* all prompt tokens, cached included */
  int64_t out_tokens;
  int64_t cached_in_tokens; /* part of in_tokens priced at the cache-read price */
  double cost_usd;          /* < 0: computed from the admitted route's prices */
} tg_usage;

/* A reusable admission object. The caller owns *out: tg_admission_destroy, which releases any
 * reservation still pending. */
TG_API tg_status tg_admission_create(tg_admission** out);
TG_API void tg_admission_destroy(tg_admission* admission);

/* Decides `request` and, when it routes, atomically reserves the estimate (est_in_tokens input +
 * max_out or est_out_tokens_uncapped output, priced with the route) against every budget the
 * policy reads, in the engine's ledger. TG_OK whether or not admitted: check
 * tg_admission_admitted. A pending admission in `out` is released first. */
TG_API tg_status tg_admit(tg_engine* engine, const tg_request* request, int64_t est_in_tokens,
                          int64_t est_out_tokens_uncapped, tg_admission* out);
TG_API int tg_admission_admitted(const tg_admission* admission);
TG_API int tg_admission_pending(const tg_admission* admission);
/* Why not admitted ("budget monthly exhausted", the policy's deny reason); "" if admitted.
 * Borrowed: valid until the admission is reused or destroyed. */
TG_API const char* tg_admission_reason(const tg_admission* admission);
TG_API double tg_admission_estimated_cost(const tg_admission* admission);
/* The admission's decision. Borrowed: valid until the admission is reused or destroyed. */
TG_API const tg_decision* tg_admission_decision(const tg_admission* admission);
/* Audit record including the estimate and admitted/reason. Borrowed like
 * tg_decision_audit_json. */
TG_API const char* tg_admission_audit_json(tg_admission* admission, const tg_request* request);
/* Settles with the actual usage (TG_ERR_STATE if not pending). */
TG_API tg_status tg_record(tg_admission* admission, const tg_usage* usage);
/* Returns the reservation without charging (TG_ERR_STATE if not pending). */
TG_API tg_status tg_release(tg_admission* admission);

/* Spent (committed + reserved) of `policy`'s budget `budget` for `key` ("" for a global budget)
 * in the window containing now_ms (0 = now), in the budget's unit. */
TG_API tg_status tg_ledger_spent(tg_engine* engine, const tg_policy* policy, const char* budget,
                                 const char* key, int64_t now_ms, double* out);
/* Snapshot of the engine's ledger to a JSON file (atomic replace), and restore from one
 * (counters of ended windows are dropped). */
TG_API tg_status tg_ledger_save(tg_engine* engine, const char* path);
TG_API tg_status tg_ledger_load(tg_engine* engine, const char* path);

/* ---- hot reload and shadow mode ------------------------------------------------------------ */

/* A handle serving `initial` (the handle takes its own reference; the caller keeps theirs). The
 * engine must outlive the handle. The caller owns *out: tg_handle_destroy (after every thread
 * stopped using it). */
TG_API tg_status tg_handle_create(tg_engine* engine, tg_policy* initial, tg_handle** out);
TG_API void tg_handle_destroy(tg_handle* handle);
/* Compiles and installs a new live version. TG_ERR_COMPILE: the old version keeps serving and
 * tg_last_error() holds the diagnostics. Safe while other threads decide. */
TG_API tg_status tg_handle_reload(tg_handle* handle, const char* source, size_t len,
                                  const char* file);
TG_API tg_status tg_handle_reload_file(tg_handle* handle, const char* path);
/* The live version: a new reference the caller owns (tg_policy_release). Build requests for it;
 * when tg_handle_generation changes, fetch it again and rebuild them. */
TG_API tg_policy* tg_handle_current(tg_handle* handle);
TG_API uint64_t tg_handle_generation(const tg_handle* handle);
/* Decides `request` on the version it was built for and, when a candidate is set, decides the
 * candidate beside it (never enforced) and counts differences. */
TG_API tg_status tg_handle_decide(tg_handle* handle, const tg_request* request, tg_decision* out);
/* Shadow candidate: compile and set (resets the counters), or clear. */
TG_API tg_status tg_handle_set_candidate(tg_handle* handle, const char* source, size_t len,
                                         const char* file);
TG_API tg_status tg_handle_set_candidate_file(tg_handle* handle, const char* path);
TG_API tg_status tg_handle_clear_candidate(tg_handle* handle);
/* Shadow counters and samples as JSON into buf (cap bytes, NUL-terminated). *needed (may be
 * NULL) receives the length without the NUL; TG_ERR_BUFFER_TOO_SMALL when cap <= that. */
TG_API tg_status tg_handle_shadow_json(tg_handle* handle, char* buf, size_t cap, size_t* needed);

#ifdef __cplusplus
}
#endif

#endif /* TOLLGATE_H */
