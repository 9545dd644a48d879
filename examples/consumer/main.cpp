// The smallest out-of-tree C++ host: the same policy and decision as main.c, through the C++ API
// (tollgate/tollgate.hpp) of the installed libtollgate.so.
#include <cstdio>
#include <string>
#include <tollgate/tollgate.hpp>

static const char* kPolicy =
    "policy consumer\n"
    "input {\n  task: enum(classify, chat) = chat\n  in_tokens: int = 100\n}\n"
    "routes {\n  cheap = \"small-model\" in $1/M out $2/M\n"
    "  strong = \"big-model\" in $3/M out $15/M\n}\n"
    "if task == classify route cheap max_out 64\n"
    "default route strong max_out 1024\n";

int main() {
  tollgate::Engine engine;
  tollgate::CompileResult cr = engine.compile(kPolicy, "consumer.pol");
  if (!cr.ok()) {
    std::fprintf(stderr, "consumer_cpp: %s\n", cr.rendered.c_str());
    return 1;
  }
  const tollgate::Policy& policy = *cr.policy;
  tollgate::Request req(policy);
  // The typed setters are inline in request.hpp; set_enum by name goes through the library.
  req.set_enum(policy.slot("task"), "classify");
  req.set_int(policy.slot("in_tokens"), 300);
  tollgate::Decision d;
  policy.decide(req, &d);
  const std::string route = d.route >= 0 ? policy.routes()[static_cast<size_t>(d.route)].name : "";
  std::printf("route=%s max_out=%lld\n", route.c_str(), static_cast<long long>(d.max_out));
  const bool good = route == "cheap" && d.max_out == 64;
  std::printf(good ? "consumer_cpp: ok\n" : "consumer_cpp: WRONG DECISION\n");
  return good ? 0 : 1;
}
