/* The smallest out-of-tree host: compile a policy, decide one request, print the decision. */
#include <stdio.h>
#include <string.h>
#include <tollgate.h>

static const char* kPolicy =
    "policy consumer\n"
    "input {\n  task: enum(classify, chat) = chat\n  in_tokens: int = 100\n}\n"
    "routes {\n  cheap = \"small-model\" in $1/M out $2/M\n"
    "  strong = \"big-model\" in $3/M out $15/M\n}\n"
    "if task == classify route cheap max_out 64\n"
    "default route strong max_out 1024\n";

int main(void) {
  tg_engine* engine = NULL;
  tg_policy* policy = NULL;
  tg_request* req = NULL;
  tg_decision* d = NULL;
  if (tg_engine_create(NULL, &engine) != TG_OK ||
      tg_compile(engine, kPolicy, strlen(kPolicy), "consumer.pol", &policy) != TG_OK ||
      tg_request_create(policy, &req) != TG_OK || tg_decision_create(&d) != TG_OK) {
    fprintf(stderr, "consumer: %s\n", tg_last_error());
    return 1;
  }
  tg_request_set_enum(req, tg_policy_slot(policy, "task"), "classify");
  tg_decide(req, d);
  printf("abi %d: route=%s model=%s max_out=%lld\n", tg_abi_version(), tg_decision_route(d),
         tg_decision_model(d), (long long)tg_decision_max_out(d));
  int good = tg_decision_route(d) && strcmp(tg_decision_route(d), "cheap") == 0 &&
             tg_decision_max_out(d) == 64;
  tg_decision_destroy(d);
  tg_request_destroy(req);
  tg_policy_release(policy);
  tg_engine_destroy(engine);
  printf(good ? "consumer: ok\n" : "consumer: WRONG DECISION\n");
  return good ? 0 : 1;
}
