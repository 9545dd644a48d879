// Shared plumbing of the `tollgate` CLI: the command table entry points, argument scanning with
// uniform usage errors, file and price-table loading, and `--set` handling for eval/explain.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tollgate/tollgate.hpp"
#include "tools/fixed_budgets.h"

// Each command gets argv[0] = its own name ("check", ...) and its options after it, and returns
// the process exit code: 0 ok, 1 the command found problems (diagnostics, failed tests, files
// that need formatting), 2 usage error or unreadable input.
int cmd_check(int argc, char** argv);
int cmd_fmt(int argc, char** argv);
int cmd_eval(int argc, char** argv);
int cmd_explain(int argc, char** argv);
int cmd_test(int argc, char** argv);
int cmd_serve(int argc, char** argv);
// Owned by the dry-run (tools/cmd_dryrun.cpp). Weak so the CLI links and says "dryrun not built"
// until that file exists.
int cmd_dryrun(int argc, char** argv) __attribute__((weak));

namespace tollgate::cli {

constexpr int kExitOk = 0;
constexpr int kExitFail = 1;
constexpr int kExitUsage = 2;

struct Command {
  const char* name;
  const char* summary;  // one line, for `tollgate --help`
  const char* usage;    // full text for `tollgate CMD --help`
};

// Prints "tollgate CMD: message" and the command's usage to stderr; returns kExitUsage.
int usage_error(const Command& cmd, const std::string& message);
// True when argv holds -h/--help (then the usage has been printed to stdout).
bool wants_help(const Command& cmd, int argc, char** argv);

// Walks argv[1..]: flags, `--name value` / `--name=value` options and positional arguments.
class ArgScanner {
 public:
  ArgScanner(int argc, char** argv) : argc_(argc), argv_(argv) {}
  // Advances to the next argument; false at the end. After `--`, everything is positional.
  bool next();
  std::string_view arg() const { return current_; }
  bool is_positional() const { return positional_; }
  // True when the current argument is `name` (a flag) ...
  bool flag(std::string_view name) const { return !positional_ && current_ == name; }
  // ... or `name VALUE` / `name=VALUE`: stores VALUE (consuming the next argument if needed).
  // Sets *missing when the value is absent.
  bool option(std::string_view name, std::string* value, bool* missing);

 private:
  int argc_;
  char** argv_;
  int i_ = 0;
  bool after_dashdash_ = false;
  bool positional_ = false;
  std::string_view current_;
};

bool read_file(const std::string& path, std::string* out);
bool write_file(const std::string& path, const std::string& text);

// Loads --prices FILE (or $TOLLGATE_PRICES when `path` is empty). Null with *error set on failure;
// null without error when neither is given.
std::shared_ptr<const PriceTable> load_prices(const std::string& path, std::string* error);

// NAME.pol <-> NAME_test.pol next to it.
bool is_test_file(const std::string& path);
std::string test_file_for(const std::string& policy_path);
std::string policy_file_for(const std::string& test_path);
bool file_exists(const std::string& path);
// Files as given; directories searched recursively (hidden ones skipped) for *.pol, sorted,
// with or without the _test.pol files. Missing paths are reported in *errors.
std::vector<std::string> expand_pol_files(const std::vector<std::string>& paths, bool with_tests,
                                          std::vector<std::string>* errors);

// "int", "enum(free, pro)": an input's type as messages spell it.
std::string describe_input(const InputInfo& in);
// The policy's input names, comma-separated.
std::string input_names(const Policy& policy);

// `--set name=value` (an input) or `--set budget.spent=X` (a budget's spent for every key).
struct Setting {
  std::string name, value;
};
// Applies the settings to a request and the fixed budget reader. Returns false and sets *error
// ("--set tier=gold: unknown enum value; tier is one of free, pro, enterprise").
bool apply_settings(const Policy& policy, const std::vector<Setting>& settings, Request* req,
                    FixedBudgets* budgets, std::string* error);

// Compiles `path` with the given backend and prices; on failure prints the rendered diagnostics
// to stderr and returns nullopt.
std::optional<Policy> compile_or_report(Engine& engine, const std::string& path);

// What eval and explain share: `FILE --set NAME=VALUE... [--json] [--interp] [--prices FILE]`.
struct DecideOptions {
  std::string file;
  std::vector<Setting> settings;
  bool json = false;
  bool interp = false;
  std::string prices;
};
// Parses the arguments; returns -1 when decided to go on, else the exit code (usage printed).
int parse_decide_args(const Command& cmd, int argc, char** argv, DecideOptions* out);

// A compiled policy and a request filled from --set, ready to decide.
struct PreparedDecision {
  std::unique_ptr<Engine> engine;
  std::optional<Policy> policy;
  std::unique_ptr<Request> request;
  FixedBudgets budgets;
};
// Returns -1 when ready, else the exit code (diagnostics or the --set problem printed).
int prepare_decision(const Command& cmd, const DecideOptions& opts, PreparedDecision* out);

// Milliseconds since the Unix epoch (the decision time of eval/explain).
int64_t now_ms();

}  // namespace tollgate::cli
