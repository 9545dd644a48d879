// Shared CLI plumbing: argument scanning, usage errors, files, prices, `--set`.
#include "tools/cli.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tollgate::cli {

int usage_error(const Command& cmd, const std::string& message) {
  std::fprintf(stderr, "tollgate %s: %s\n\n%s", cmd.name, message.c_str(), cmd.usage);
  return kExitUsage;
}

bool wants_help(const Command& cmd, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a(argv[i]);
    if (a == "--") break;
    if (a == "-h" || a == "--help") {
      std::fputs(cmd.usage, stdout);
      return true;
    }
  }
  return false;
}

bool ArgScanner::next() {
  if (++i_ >= argc_) return false;
  current_ = argv_[i_];
  if (!after_dashdash_ && current_ == "--") {
    after_dashdash_ = true;
    return next();
  }
  // A lone "-" is a positional (stdin by convention); so is anything not starting with '-'.
  positional_ = after_dashdash_ || current_.size() < 2 || current_[0] != '-';
  return true;
}

bool ArgScanner::option(std::string_view name, std::string* value, bool* missing) {
  *missing = false;
  if (positional_) return false;
  if (current_ == name) {
    if (i_ + 1 >= argc_) {
      *missing = true;
      return true;
    }
    *value = argv_[++i_];
    return true;
  }
  if (current_.size() > name.size() && current_.substr(0, name.size()) == name &&
      current_[name.size()] == '=') {
    *value = std::string(current_.substr(name.size() + 1));
    return true;
  }
  return false;
}

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return !in.bad();
}

bool write_file(const std::string& path, const std::string& text) {
  // Write a sibling and rename, so an interrupted `fmt -w` never leaves a truncated policy.
  std::string tmp = path + ".tollgate-fmt.tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out << text;
    if (!out.flush()) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

std::shared_ptr<const PriceTable> load_prices(const std::string& path, std::string* error) {
  std::string p = path;
  if (p.empty()) {
    const char* env = std::getenv("TOLLGATE_PRICES");
    if (env && *env) p = env;
  }
  if (p.empty()) return nullptr;
  std::string err;
  auto table = PriceTable::load(p, &err);
  if (!table) {
    *error = "cannot load price table " + p + ": " + err;
    return nullptr;
  }
  return table;
}

namespace {
constexpr std::string_view kTestSuffix = "_test.pol";
constexpr std::string_view kPolSuffix = ".pol";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
}  // namespace

bool is_test_file(const std::string& path) {
  return ends_with(path, kTestSuffix);
}

std::string test_file_for(const std::string& policy_path) {
  if (!ends_with(policy_path, kPolSuffix)) return policy_path + std::string(kTestSuffix);
  return policy_path.substr(0, policy_path.size() - kPolSuffix.size()) + std::string(kTestSuffix);
}

std::string policy_file_for(const std::string& test_path) {
  return test_path.substr(0, test_path.size() - kTestSuffix.size()) + std::string(kPolSuffix);
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::vector<std::string> expand_pol_files(const std::vector<std::string>& paths, bool with_tests,
                                          std::vector<std::string>* errors) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> here;
      fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec),
          end;
      for (; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (it->is_directory(ec)) {
          if (!name.empty() && name[0] == '.') it.disable_recursion_pending();
          continue;
        }
        std::string path = it->path().string();
        if (ends_with(path, kPolSuffix) && (with_tests || !is_test_file(path)))
          here.push_back(path);
      }
      std::sort(here.begin(), here.end());
      out.insert(out.end(), here.begin(), here.end());
    } else if (fs::exists(p, ec)) {
      out.push_back(p);
    } else {
      errors->push_back(p + ": no such file or directory");
    }
  }
  return out;
}

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

}  // namespace

std::string describe_input(const InputInfo& in) {
  if (in.type == InputType::Enum) return "enum(" + join(in.members) + ")";
  return to_string(in.type);
}

std::string input_names(const Policy& policy) {
  std::vector<std::string> names;
  for (const InputInfo& in : policy.inputs()) names.push_back(in.name);
  return join(names);
}

bool apply_settings(const Policy& policy, const std::vector<Setting>& settings, Request* req,
                    FixedBudgets* budgets, std::string* error) {
  for (const Setting& s : settings) {
    const std::string where = "--set " + s.name + "=" + s.value;
    size_t dot = s.name.find('.');
    if (dot != std::string::npos) {
      std::string budget = s.name.substr(0, dot), view = s.name.substr(dot + 1);
      bool known = false;
      for (const BudgetInfo& b : policy.budgets()) known |= b.name == budget;
      if (!known) {
        *error = where + ": the policy has no budget '" + budget + "'";
        return false;
      }
      if (view != "spent") {
        *error = where + ": only " + budget + ".spent can be set (the other views follow from it)";
        return false;
      }
      char* end = nullptr;
      double v = std::strtod(s.value.c_str(), &end);
      if (s.value.empty() || *end != '\0') {
        *error = where + ": not a number";
        return false;
      }
      budgets->set(budget, v);
      continue;
    }
    int slot = policy.slot(s.name);
    if (slot < 0) {
      *error = where + ": the policy has no input '" + s.name +
               "' (inputs: " + input_names(policy) + ")";
      return false;
    }
    Status st = req->set(s.name, s.value);
    if (st != Status::Ok) {
      *error = where + ": " + to_string(st) + "; " + s.name + " is " +
               describe_input(policy.inputs()[slot]);
      return false;
    }
  }
  return true;
}

std::optional<Policy> compile_or_report(Engine& engine, const std::string& path) {
  CompileResult r = engine.compile_file(path);
  if (!r.ok()) {
    std::fputs(r.rendered.c_str(), stderr);
    if (r.rendered.empty()) std::fprintf(stderr, "%s: cannot compile\n", path.c_str());
    return std::nullopt;
  }
  return std::move(r.policy);
}

int parse_decide_args(const Command& cmd, int argc, char** argv, DecideOptions* out) {
  if (wants_help(cmd, argc, argv)) return kExitOk;
  ArgScanner args(argc, argv);
  while (args.next()) {
    std::string value;
    bool missing = false;
    if (args.is_positional()) {
      if (!out->file.empty())
        return usage_error(cmd, "one policy file only ('" + out->file + "' and '" +
                                    std::string(args.arg()) + "')");
      out->file = std::string(args.arg());
    } else if (args.option("--set", &value, &missing) || args.option("-s", &value, &missing)) {
      if (missing) return usage_error(cmd, "--set needs NAME=VALUE");
      size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0)
        return usage_error(cmd, "--set " + value + ": expected NAME=VALUE");
      out->settings.push_back({value.substr(0, eq), value.substr(eq + 1)});
    } else if (args.flag("--json")) {
      out->json = true;
    } else if (args.flag("--interp")) {
      out->interp = true;
    } else if (args.option("--prices", &out->prices, &missing)) {
      if (missing) return usage_error(cmd, "--prices needs a FILE");
    } else {
      return usage_error(cmd, "unknown option '" + std::string(args.arg()) + "'");
    }
  }
  if (out->file.empty()) return usage_error(cmd, "no policy file given");
  return -1;
}

int prepare_decision(const Command& cmd, const DecideOptions& opts, PreparedDecision* out) {
  std::string err;
  EngineOptions options;
  options.backend = opts.interp ? Backend::Interpreter : Backend::Jit;
  options.wait_for_jit = true;  // the backend a command reports is the one that decided
  options.prices = load_prices(opts.prices, &err);
  if (!err.empty()) {
    std::fprintf(stderr, "tollgate %s: %s\n", cmd.name, err.c_str());
    return kExitUsage;
  }
  if (!file_exists(opts.file)) {
    std::fprintf(stderr, "tollgate %s: %s: no such file\n", cmd.name, opts.file.c_str());
    return kExitUsage;
  }
  out->engine = std::make_unique<Engine>(options);
  out->policy = compile_or_report(*out->engine, opts.file);
  if (!out->policy) return kExitFail;
  out->request = std::make_unique<Request>(*out->policy);
  if (!apply_settings(*out->policy, opts.settings, out->request.get(), &out->budgets, &err)) {
    std::fprintf(stderr, "tollgate %s: %s\n", cmd.name, err.c_str());
    return kExitUsage;
  }
  out->request->now_ms = now_ms();
  return -1;
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace tollgate::cli
