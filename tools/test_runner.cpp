// The test runner behind `tollgate test`; see test_runner.h.
#include "tools/test_runner.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "compiler/checker.h"
#include "compiler/parser.h"

namespace tollgate {

namespace fs = std::filesystem;

int TestFileResult::passed() const {
  return static_cast<int>(
      std::count_if(cases.begin(), cases.end(), [](const TestCaseResult& c) { return c.passed; }));
}

int TestFileResult::failed() const {
  return static_cast<int>(cases.size()) - passed() + (has_errors ? 1 : 0);
}

namespace {

// Literal values of givens and expects, as the parser builds them (a negative number may come
// as unary minus over a literal).
struct Literal {
  enum Kind { None, Bool, Int, Float, String, Name } kind = None;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;  // String: decoded text; Name: the identifier
};

Literal literal_of(const Expr* e) {
  Literal l;
  if (!e) return l;
  switch (e->kind) {
    case ExprKind::BoolLit:
      l.kind = Literal::Bool;
      l.b = e->bool_value;
      break;
    case ExprKind::IntLit:
      l.kind = Literal::Int;
      l.i = e->int_value;
      break;
    case ExprKind::FloatLit:
      l.kind = Literal::Float;
      l.f = e->float_value;
      break;
    case ExprKind::StringLit:
      l.kind = Literal::String;
      l.s = e->str_value;
      break;
    case ExprKind::Name:
      l.kind = Literal::Name;
      l.s = e->text;
      break;
    case ExprKind::Unary:
      if (e->unary_op == UnaryOp::Neg && e->args.size() == 1) {
        l = literal_of(e->args[0].get());
        if (l.kind == Literal::Int && l.i != INT64_MIN) {
          l.i = -l.i;
        } else if (l.kind == Literal::Float) {
          l.f = -l.f;
        } else {
          l.kind = Literal::None;
        }
      }
      break;
    default:
      break;
  }
  return l;
}

std::string show(const Literal& l) {
  switch (l.kind) {
    case Literal::Bool:
      return l.b ? "true" : "false";
    case Literal::Int:
      return std::to_string(l.i);
    case Literal::Float: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", l.f);
      return buf;
    }
    case Literal::String:
      return "\"" + l.s + "\"";
    case Literal::Name:
      return l.s;
    case Literal::None:
      break;
  }
  return "?";
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

// Sets one input from a literal; returns an error message or "".
std::string set_input(const Policy& policy, const std::string& name, const Literal& v,
                      Request* req) {
  int slot = policy.slot(name);
  if (slot < 0) {
    std::vector<std::string> names;
    for (const InputInfo& in : policy.inputs()) names.push_back(in.name);
    return "unknown input '" + name + "' (inputs: " + join(names) + ")";
  }
  const InputInfo& in = policy.inputs()[slot];
  Status st = Status::WrongType;
  switch (in.type) {
    case InputType::Bool:
      if (v.kind == Literal::Bool) st = req->set_bool(slot, v.b);
      break;
    case InputType::Int:
      if (v.kind == Literal::Int) st = req->set_int(slot, v.i);
      break;
    case InputType::Float:
      if (v.kind == Literal::Int) st = req->set_float(slot, static_cast<double>(v.i));
      if (v.kind == Literal::Float) st = req->set_float(slot, v.f);
      break;
    case InputType::String:
      if (v.kind == Literal::String) st = req->set_string_copy(slot, v.s);
      break;
    case InputType::Enum:
      if (v.kind == Literal::Name) {
        st = req->set_enum(slot, v.s);
        if (st != Status::Ok)
          return "'" + v.s + "' is not a member of " + name + ": enum(" + join(in.members) + ")";
      }
      break;
  }
  if (st == Status::Ok) return "";
  if (in.type == InputType::Enum)
    return "given " + name + " = " + show(v) + ": expected a member of enum(" + join(in.members) +
           ")";
  return "given " + name + " = " + show(v) + ": expected a " + to_string(in.type) + " value";
}

bool has_budget(const Policy& policy, const std::string& name) {
  for (const BudgetInfo& b : policy.budgets())
    if (b.name == name) return true;
  return false;
}

std::string budget_given_error(const Policy& policy, const TestGiven& g, const Literal& v) {
  if (!has_budget(policy, g.name)) return "unknown budget '" + g.name + "'";
  if (g.view != BudgetView::Spent) return "only " + g.name + ".spent can be given";
  if (v.kind != Literal::Int && v.kind != Literal::Float)
    return "given " + g.name + ".spent = " + show(v) + ": expected a number";
  return "";
}

bool cache_mode(const std::string& s, CacheMode* m) {
  if (s == "off")
    *m = CacheMode::Off;
  else if (s == "prompt")
    *m = CacheMode::Prompt;
  else if (s == "response")
    *m = CacheMode::Response;
  else
    return false;
  return true;
}

const char* expect_name(ExpectField f) {
  switch (f) {
    case ExpectField::Route:
      return "route";
    case ExpectField::Deny:
      return "deny";
    case ExpectField::MaxOut:
      return "max_out";
    case ExpectField::MaxIn:
      return "max_in";
    case ExpectField::Retry:
      return "retry";
    case ExpectField::Backoff:
      return "backoff";
    case ExpectField::Rag:
      return "rag";
    case ExpectField::TopK:
      return "top_k";
    case ExpectField::Cache:
      return "cache";
    case ExpectField::Tag:
      return "tag";
  }
  return "?";
}

std::string bool_text(bool b) {
  return b ? "true" : "false";
}

std::string got_route(const Policy& policy, const Decision& d) {
  if (d.denied) return std::string("deny \"") + d.deny_reason + "\"";
  if (d.route >= 0 && static_cast<size_t>(d.route) < policy.routes().size())
    return policy.routes()[d.route].name;
  return "no route";
}

std::string cap_text(int64_t v) {
  return v == kNoCap ? "none" : std::to_string(v);
}

}  // namespace

void validate_tests(const Policy& policy, Program& tests, DiagnosticSink& diags) {
  check_tests(policy.program(), tests, diags);
}

bool apply_givens(const Policy& policy, const TestCase& test, Request* req, FixedBudgets* budgets,
                  std::string* error) {
  req->reset();
  budgets->clear();
  for (const TestGiven& g : test.givens) {
    Literal v = literal_of(g.value.get());
    if (g.is_budget) {
      std::string err = budget_given_error(policy, g, v);
      if (!err.empty()) {
        *error = err;
        return false;
      }
      budgets->set(g.name, v.kind == Literal::Int ? static_cast<double>(v.i) : v.f);
      continue;
    }
    std::string err = set_input(policy, g.name, v, req);
    if (!err.empty()) {
      *error = err;
      return false;
    }
  }
  return true;
}

std::vector<std::string> compare_expects(const Policy& policy, const TestCase& test,
                                         const Decision& d) {
  std::vector<std::string> out;
  auto mismatch = [&](const char* field, const std::string& want, const std::string& got) {
    std::string f = std::string(field) + ":";
    if (f.size() < 8) f.append(8 - f.size(), ' ');
    out.push_back(f + " expected " + want + ", got " + got);
  };
  for (const TestExpect& x : test.expects) {
    Literal v = literal_of(x.value.get());
    switch (x.field) {
      case ExpectField::Route:
        if (d.denied || d.route < 0 || static_cast<size_t>(d.route) >= policy.routes().size() ||
            policy.routes()[d.route].name != v.s)
          mismatch("route", v.s, got_route(policy, d));
        break;
      case ExpectField::Deny:
        if (!d.denied || (x.value && v.s != d.deny_reason))
          mismatch("route", x.value ? "deny \"" + v.s + "\"" : "deny", got_route(policy, d));
        break;
      case ExpectField::MaxOut:
      case ExpectField::MaxIn: {
        int64_t want = x.none ? kNoCap : v.i;
        int64_t got = x.field == ExpectField::MaxOut ? d.max_out : d.max_in;
        if (want != got) mismatch(expect_name(x.field), cap_text(want), cap_text(got));
        break;
      }
      case ExpectField::Retry:
        if (d.retry != v.b) mismatch("retry", bool_text(v.b), bool_text(d.retry));
        break;
      case ExpectField::Backoff:
        if (d.backoff_ms != v.i)
          mismatch("backoff", std::to_string(v.i) + "ms", std::to_string(d.backoff_ms) + "ms");
        break;
      case ExpectField::Rag:
        if (d.rag != v.b) mismatch("rag", bool_text(v.b), bool_text(d.rag));
        break;
      case ExpectField::TopK:
        if (d.top_k != v.i) mismatch("top_k", std::to_string(v.i), std::to_string(d.top_k));
        break;
      case ExpectField::Cache: {
        CacheMode m = CacheMode::Off;
        cache_mode(v.s, &m);
        if (d.cache != m) mismatch("cache", to_string(m), to_string(d.cache));
        break;
      }
      case ExpectField::Tag:
        if (!d.has_tag(v.s)) {
          std::string tags;
          for (int i = 0; i < d.tag_count; ++i)
            tags += (i ? ", " : "") + ("\"" + std::string(d.tag(i)) + "\"");
          mismatch("tag", "\"" + v.s + "\"", tags.empty() ? "no tags" : "tags " + tags);
        }
        break;
    }
  }
  return out;
}

void run_tests(const Policy& policy, const Program& tests, TestFileResult* out,
               const TestObserver& observe) {
  Request req(policy);
  FixedBudgets budgets;
  Decision d;
  for (const TestCase& t : tests.tests) {
    TestCaseResult r;
    r.name = t.name;
    r.file = tests.file;
    r.loc = t.loc;
    std::string err;
    if (!apply_givens(policy, t, &req, &budgets, &err)) {
      r.failures.push_back("given: " + err);
    } else {
      policy.decide(req, budgets, &d);
      r.failures = compare_expects(policy, t, d);
      if (observe) observe(policy, t, req, budgets, d);
    }
    r.passed = r.failures.empty();
    out->cases.push_back(std::move(r));
  }
}

namespace {

bool read_text(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

}  // namespace

TestFileResult run_test_file(Engine& engine, const std::string& test_path,
                             const TestObserver& observe) {
  TestFileResult result;
  result.test_path = test_path;
  const std::string suffix = "_test.pol";
  result.policy_path =
      test_path.size() > suffix.size() &&
              test_path.compare(test_path.size() - suffix.size(), suffix.size(), suffix) == 0
          ? test_path.substr(0, test_path.size() - suffix.size()) + ".pol"
          : test_path;

  std::string source;
  if (!read_text(test_path, &source)) {
    result.has_errors = true;
    result.errors = test_path + ": cannot read file\n";
    return result;
  }
  DiagnosticSink diags;
  std::unique_ptr<Program> tests = parse_program(source, test_path, diags);
  if (diags.has_errors() || !tests) {
    result.has_errors = true;
    result.errors = render_all(diags.all(), source);
    return result;
  }
  if (!fs::is_regular_file(result.policy_path)) {
    result.has_errors = true;
    result.errors = test_path + ": no policy " + result.policy_path + " next to it\n";
    return result;
  }
  CompileResult compiled = engine.compile_file(result.policy_path);
  if (!compiled.ok()) {
    result.has_errors = true;
    result.errors = compiled.rendered;
    return result;
  }
  const Policy& policy = *compiled.policy;
  validate_tests(policy, *tests, diags);
  if (diags.has_errors()) {
    result.has_errors = true;
    result.errors = render_all(diags.all(), source);
    return result;
  }
  run_tests(policy, policy.program(), &result, observe);  // tests inside the policy itself
  run_tests(policy, *tests, &result, observe);
  return result;
}

std::vector<std::string> find_test_files(const std::vector<std::string>& paths,
                                         std::vector<std::string>* errors) {
  std::vector<std::string> found;
  auto is_test = [](const std::string& p) {
    const std::string suffix = "_test.pol";
    return p.size() > suffix.size() &&
           p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> here;
      fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec),
          end;
      for (; !ec && it != end; it.increment(ec)) {
        const fs::path& entry = it->path();
        std::string name = entry.filename().string();
        if (it->is_directory(ec) && !name.empty() && name[0] == '.') {
          it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file(ec) && is_test(entry.string())) here.push_back(entry.string());
      }
      std::sort(here.begin(), here.end());
      found.insert(found.end(), here.begin(), here.end());
    } else if (fs::is_regular_file(p, ec)) {
      if (is_test(p)) {
        found.push_back(p);
      } else {
        std::string t = p.size() > 4 && p.compare(p.size() - 4, 4, ".pol") == 0
                            ? p.substr(0, p.size() - 4) + "_test.pol"
                            : p + "_test.pol";
        if (fs::is_regular_file(t, ec)) {
          found.push_back(t);
        } else {
          errors->push_back(p + ": no test file " + t);
        }
      }
    } else {
      errors->push_back(p + ": no such file or directory");
    }
  }
  // The same file named twice (a dir and a file in it) runs once.
  std::vector<std::string> unique;
  for (const std::string& f : found)
    if (std::find(unique.begin(), unique.end(), f) == unique.end()) unique.push_back(f);
  return unique;
}

}  // namespace tollgate
