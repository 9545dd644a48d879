/* A C host using only tollgate.h: compile a policy, decide by slot and by name, admit/record/
 * release against a per-user budget until it is exhausted, hot-reload (a broken version is
 * rejected, the old one keeps serving), shadow a candidate, print an audit record.
 * Usage: c_host POLICY.pol [CANDIDATE.pol] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tollgate.h"

#define CHECK(call)                                                                       \
  do {                                                                                    \
    tg_status s_ = (call);                                                                \
    if (s_ != TG_OK) {                                                                    \
      fprintf(stderr, "%s failed: %s\n%s\n", #call, tg_status_name(s_), tg_last_error()); \
      exit(1);                                                                            \
    }                                                                                     \
  } while (0)

static void print_decision(const char* label, const tg_decision* d) {
  if (tg_decision_denied(d)) {
    printf("%s: denied: %s\n", label, tg_decision_deny_reason(d));
    return;
  }
  printf("%s: route=%s model=%s max_out=%lld retry=%d backoff_ms=%lld cache=%d", label,
         tg_decision_route(d), tg_decision_model(d), (long long)tg_decision_max_out(d),
         tg_decision_retry(d), (long long)tg_decision_backoff_ms(d), (int)tg_decision_cache(d));
  for (int i = 0; i < tg_decision_tag_count(d); ++i) {
    size_t len = 0;
    const char* t = tg_decision_tag(d, i, &len);
    printf(" tag=%.*s", (int)len, t);
  }
  printf(" (route rule at line %u)\n", tg_decision_rule_line(d, TG_FIELD_ROUTE));
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: c_host POLICY.pol [CANDIDATE.pol]\n");
    return 2;
  }
  const char* candidate_path = argc > 2 ? argv[2] : NULL;

  tg_engine_config config;
  tg_engine_config_init(&config);
  tg_engine* engine = NULL;
  CHECK(tg_engine_create(&config, &engine));

  tg_policy* policy = NULL;
  CHECK(tg_compile_file(engine, argv[1], &policy));
  printf("policy %s version %s (%s)\n", tg_policy_name(policy), tg_policy_version(policy),
         tg_policy_jitted(policy) ? "jit" : "interpreter");

  /* Resolve slots once; set by slot on the hot path. */
  const int s_user = tg_policy_slot(policy, "user");
  const int s_task = tg_policy_slot(policy, "task");
  const int s_in = tg_policy_slot(policy, "in_tokens");
  if (s_user < 0 || s_task < 0 || s_in < 0) {
    fprintf(stderr, "policy lacks user/task/in_tokens inputs\n");
    return 1;
  }

  tg_request* req = NULL;
  tg_decision* d = NULL;
  CHECK(tg_request_create(policy, &req));
  CHECK(tg_decision_create(&d));

  /* 1. Pure decisions. */
  CHECK(tg_request_set_string(req, s_user, "alice", 5));
  CHECK(tg_request_set_enum(req, s_task, "classify"));
  CHECK(tg_request_set_int(req, s_in, 300));
  CHECK(tg_decide(req, d));
  print_decision("classify", d);

  tg_request_reset(req);
  CHECK(tg_request_set(req, "user", "alice")); /* by name, parsed by type */
  CHECK(tg_request_set(req, "task", "code"));
  CHECK(tg_request_set(req, "in_tokens", "2000"));
  CHECK(tg_request_set(req, "error", "throttled"));
  CHECK(tg_decide(req, d));
  print_decision("code after 429", d);

  /* 1b. The fast path for a hot loop (ABI 2): every input in one array in slot order, the
   * decision in a plain struct, one call per request (or tg_decide_batch for many). */
  {
    const int n = tg_policy_input_count(policy);
    tg_value values[16];
    if (n > 16) {
      fprintf(stderr, "more inputs than this example's array\n");
      return 1;
    }
    memset(values, 0, sizeof values); /* set = 0: defaults apply */
    values[s_user].str = "alice";
    values[s_user].len = 5;
    values[s_user].set = 1;
    values[s_task].i = tg_policy_enum_index(policy, s_task, "classify"); /* resolve once */
    values[s_task].set = 1;
    values[s_in].i = 300;
    values[s_in].set = 1;
    tg_result res;
    CHECK(tg_decide_values(policy, values, n, 0, &res));
    printf("%-16s route=%s max_out=%lld (bulk path, rule at line %u)\n", "classify (bulk)",
           res.denied ? "-" : tg_policy_route_name(policy, res.route), (long long)res.max_out,
           res.rule_line[TG_FIELD_ROUTE]);
  }

  /* Errors come back as codes plus a thread-local message. */
  tg_status bad = tg_request_set(req, "task", "poetry");
  printf("set task=poetry -> %s: %s\n", tg_status_name(bad), tg_last_error());

  /* 2. Budgets: admit reserves the estimate, record settles with the actual cost. */
  tg_admission* adm = NULL;
  CHECK(tg_admission_create(&adm));
  tg_request_reset(req);
  CHECK(tg_request_set_string(req, s_user, "bob", 3));
  CHECK(tg_request_set_enum(req, s_task, "chat"));
  CHECK(tg_request_set_int(req, s_in, 2000));
  int admitted = 0, denied = 0;
  for (int i = 0; i < 6; ++i) {
    CHECK(tg_admit(engine, req, 2000, 1024, adm));
    if (!tg_admission_admitted(adm)) {
      printf("call %d denied: %s\n", i, tg_admission_reason(adm));
      ++denied;
      continue;
    }
    ++admitted;
    printf("call %d admitted: route=%s model=%s estimate $%.5f\n", i,
           tg_decision_route(tg_admission_decision(adm)),
           tg_decision_model(tg_admission_decision(adm)), tg_admission_estimated_cost(adm));
    if (i == 1) {
      CHECK(tg_release(adm)); /* the upstream call failed before it cost anything */
      printf("call %d released (upstream 503)\n", i);
    } else {
      tg_usage usage = {2000, 600, 0, -1.0}; /* the model stopped before max_out */
      CHECK(tg_record(adm, &usage));
    }
  }
  double spent = 0;
  CHECK(tg_ledger_spent(engine, policy, "daily", "bob", 0, &spent));
  printf("bob spent $%.5f today (%d admitted, %d denied)\n", spent, admitted, denied);
  printf("audit: %s\n", tg_admission_audit_json(adm, req));

  /* 3. Hot reload: a broken version is rejected with diagnostics, the old one keeps serving. */
  tg_handle* handle = NULL;
  CHECK(tg_handle_create(engine, policy, &handle));
  const char* broken = "policy assistant\ndefault route nowhere\n";
  tg_status rs = tg_handle_reload(handle, broken, strlen(broken), "broken.pol");
  printf("reload broken -> %s\n%s", tg_status_name(rs), tg_last_error());
  CHECK(tg_handle_reload_file(handle, argv[1]));
  printf("reload good -> generation %llu\n", (unsigned long long)tg_handle_generation(handle));

  /* 4. Shadow: decide a candidate beside the live version, compare, never enforce. */
  if (candidate_path != NULL) {
    CHECK(tg_handle_set_candidate_file(handle, candidate_path));
  } else {
    const char* cand_src =
        "policy assistant\ninput {\n user: string\n task: enum(classify, chat, code) = chat\n "
        "in_tokens: int\n}\nroutes {\n cheap = \"claude-3-5-haiku-20241022\" in $0.8/M out "
        "$4/M\n}\ndefault route cheap max_out 256\n";
    CHECK(tg_handle_set_candidate(handle, cand_src, strlen(cand_src), "candidate.pol"));
  }
  tg_policy* live = tg_handle_current(handle);
  tg_request* r2 = NULL;
  CHECK(tg_request_create(live, &r2));
  const char* tasks[] = {"classify", "chat", "code"};
  for (int i = 0; i < 30; ++i) {
    tg_request_reset(r2);
    char user[16];
    snprintf(user, sizeof user, "u%d", i % 5);
    CHECK(tg_request_set(r2, "user", user));
    CHECK(tg_request_set(r2, "task", tasks[i % 3]));
    CHECK(tg_request_set_int(r2, tg_policy_slot(live, "in_tokens"), 100 + 150 * i));
    CHECK(tg_handle_decide(handle, r2, d));
  }
  char json[16384];
  size_t needed = 0;
  CHECK(tg_handle_shadow_json(handle, json, sizeof json, &needed));
  printf("shadow: %.300s...\n", json);

  tg_request_destroy(r2);
  tg_policy_release(live);
  tg_handle_destroy(handle);
  tg_admission_destroy(adm);
  tg_decision_destroy(d);
  tg_request_destroy(req);
  tg_policy_release(policy);
  tg_engine_destroy(engine);
  if (admitted < 1 || denied < 1) {
    printf("c_host: expected both admitted and denied calls\n");
    return 1;
  }
  printf("c_host: ok\n");
  return 0;
}
