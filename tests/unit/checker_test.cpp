// Checker: name resolution, type annotations, error messages with exact positions, evaluation
// order, string literal ids, and test-file checking.
#include "compiler/checker.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "compiler/parser.h"

using namespace tollgate;

namespace {

struct Checked {
  std::unique_ptr<Program> program;
  DiagnosticSink diags;
  bool ok = false;
};

std::unique_ptr<Checked> check_src(const std::string& src, bool lints = false) {
  auto c = std::make_unique<Checked>();
  c->program = parse_program(src, "t.pol", c->diags);
  INFO(render_all(c->diags.all(), src));
  REQUIRE_FALSE(c->diags.has_errors());
  CheckOptions opt;
  opt.lints = lints;
  c->ok = check_program(*c->program, c->diags, opt);
  return c;
}

std::string dump(const Checked& c) {
  return render_all(c.diags.all(), c.program->source);
}

// The error at line:col whose message contains `text`.
bool has_error(const Checked& c, uint32_t line, uint32_t col, const std::string& text) {
  for (const auto& d : c.diags.all())
    if (d.severity == Severity::Error && d.loc.line == line && d.loc.col == col &&
        d.message.find(text) != std::string::npos)
      return true;
  return false;
}

const char* kInputs = R"(policy p
input {
  tenant: string
  tier: enum(free, pro, enterprise) = pro
  task: enum(classify, tag, qa, chat)
  in_tokens: int
  ratio: float = 0.5
  flag: bool = false
}
routes {
  cheap = "m1"
  strong = "m2" in $3/M out $15/M
}
)";

std::string with_inputs(const std::string& rest) {
  return std::string(kInputs) + rest;
}
constexpr uint32_t kFirst = 14;  // first line after kInputs

const Expr& cond(const Checked& c, size_t rule) {
  return *c.program->rules.at(rule).condition;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("enums are built per enum input and members resolve on either side of ==") {
  auto c =
      check_src(with_inputs("if tier == free route cheap\n"
                            "if pro != tier route cheap\n"
                            "default route strong\n"));
  INFO(dump(*c));
  REQUIRE(c->ok);
  const Program& p = *c->program;
  REQUIRE(p.enums.size() == 2);
  CHECK(p.enums[0].name == "tier");
  CHECK(p.enums[0].members == std::vector<std::string>{"free", "pro", "enterprise"});
  CHECK(p.enums[1].name == "task");
  CHECK(p.inputs[1].type.enum_id == 0);
  CHECK(p.inputs[2].type.enum_id == 1);

  const Expr& e0 = cond(*c, 0);
  CHECK(e0.type.kind == TypeKind::Bool);
  CHECK(e0.args[0]->ref == NameRef::Input);
  CHECK(e0.args[0]->index == 1);
  CHECK(e0.args[0]->type.kind == TypeKind::Enum);
  CHECK(e0.args[1]->ref == NameRef::EnumMember);
  CHECK(e0.args[1]->index == 0);
  CHECK(e0.args[1]->type.enum_id == 0);

  const Expr& e1 = cond(*c, 1);
  CHECK(e1.args[0]->ref == NameRef::EnumMember);
  CHECK(e1.args[0]->index == 1);
  CHECK(e1.args[1]->ref == NameRef::Input);

  // Enum default values resolve to members too.
  const Expr& d = *p.inputs[1].default_value;
  CHECK(d.ref == NameRef::EnumMember);
  CHECK(d.index == 1);
}

TEST_CASE("in-list items resolve against the tested enum; lets, budgets and cost() resolve") {
  auto c =
      check_src(with_inputs("budget monthly = 100 usd per tenant per month\n"
                            "let small = task in [classify, tag] and in_tokens < 8k\n"
                            "if small and monthly.ratio < 80% route cheap\n"
                            "if cost(strong, in_tokens, 1024) > $0.05 route cheap\n"
                            "default route strong\n"));
  INFO(dump(*c));
  REQUIRE(c->ok);
  const Program& p = *c->program;
  const Expr& let = *p.lets[0].value;
  const Expr& in = *let.args[0];
  REQUIRE(in.kind == ExprKind::In);
  CHECK(in.args[1]->ref == NameRef::EnumMember);
  CHECK(in.args[1]->index == 0);
  CHECK(in.args[2]->index == 1);
  CHECK(in.type.kind == TypeKind::Bool);

  const Expr& r0 = cond(*c, 0);
  CHECK(r0.args[0]->ref == NameRef::Let);
  CHECK(r0.args[0]->index == 0);
  CHECK(r0.args[0]->type.kind == TypeKind::Bool);
  const Expr& view = *r0.args[1]->args[0];
  CHECK(view.kind == ExprKind::Member);
  CHECK(view.ref == NameRef::Budget);
  CHECK(view.index == 0);
  CHECK(view.type.kind == TypeKind::Float);
  CHECK(p.budgets[0].key_index == 0);

  const Expr& call = *cond(*c, 1).args[0];
  CHECK(call.kind == ExprKind::Call);
  CHECK(call.type.kind == TypeKind::Float);
  CHECK(call.args[0]->ref == NameRef::Route);
  CHECK(call.args[0]->index == 1);
  CHECK(call.args[0]->type.kind == TypeKind::Route);
  CHECK(p.rules[0].actions[0].route_index == 0);
  CHECK(p.rules[2].actions[0].route_index == 1);
}

TEST_CASE("expression types are annotated on every node") {
  auto c =
      check_src(with_inputs("if in_tokens * ratio > 10 route cheap\n"
                            "if in_tokens + 1 > 10 route cheap\n"
                            "if min(in_tokens, 5) > max(1, 2.5) route cheap\n"
                            "if pow(2, in_tokens) > 4 and abs(ratio) < 1 route cheap\n"
                            "if true tag \"t:\" + tier\n"
                            "default route strong\n"));
  INFO(dump(*c));
  REQUIRE(c->ok);
  CHECK(cond(*c, 0).args[0]->type.kind == TypeKind::Float);
  CHECK(cond(*c, 1).args[0]->type.kind == TypeKind::Int);
  CHECK(cond(*c, 2).args[0]->type.kind == TypeKind::Int);
  CHECK(cond(*c, 2).args[1]->type.kind == TypeKind::Float);
  CHECK(cond(*c, 3).args[0]->args[0]->type.kind == TypeKind::Int);
  CHECK(cond(*c, 3).args[1]->args[0]->type.kind == TypeKind::Float);
  const Expr& tag = *c->program->rules[4].actions[0].arg;
  CHECK(tag.type.kind == TypeKind::String);
  CHECK(tag.args[1]->type.kind == TypeKind::Enum);
}

TEST_CASE("eval_order puts the default last and indexes rules in file order") {
  auto c =
      check_src(with_inputs("if tier == free route cheap\n"
                            "default route strong\n"
                            "if in_tokens > 5 max_out 10\n"
                            "if task == qa route cheap\n"));
  REQUIRE(c->ok);
  const Program& p = *c->program;
  CHECK(p.eval_order == std::vector<int32_t>{0, 2, 3, 1});
  for (size_t i = 0; i < p.rules.size(); ++i) CHECK(p.rules[i].index == static_cast<int32_t>(i));
}

TEST_CASE("string literals get distinct ids shared by equal strings") {
  auto c =
      check_src(with_inputs("if tenant == \"acme\" route cheap\n"
                            "if tenant startswith \"trial-\" route cheap\n"
                            "if tenant == \"acme\" or tenant == \"beta\" route strong\n"
                            "default route strong\n"));
  REQUIRE(c->ok);
  const Program& p = *c->program;
  CHECK(p.string_literals == std::vector<std::string>{"acme", "trial-", "beta"});
  CHECK(cond(*c, 0).args[1]->index == 0);
  CHECK(cond(*c, 1).args[1]->index == 1);
  CHECK(cond(*c, 2).args[0]->args[1]->index == 0);
  CHECK(cond(*c, 2).args[1]->args[1]->index == 2);
}

TEST_CASE("unknown names suggest the closest declared name") {
  auto c = check_src(with_inputs("if tenat == \"x\" route cheap\ndefault route strong\n"));
  INFO(dump(*c));
  CHECK_FALSE(c->ok);
  CHECK(has_error(*c, kFirst, 4, "unknown name 'tenat' (did you mean 'tenant'?)"));
  CHECK(c->diags.error_count() == 1);
}

TEST_CASE("unknown enum members list the members") {
  auto c = check_src(with_inputs("if tier == gold route cheap\ndefault route strong\n"));
  INFO(dump(*c));
  CHECK(has_error(*c, kFirst, 12,
                  "unknown enum member 'gold' for input 'tier' (members: free, pro, enterprise)"));
  CHECK(c->diags.error_count() == 1);
}

TEST_CASE("type mismatches name what was expected and found") {
  auto c =
      check_src(with_inputs("if tier == 5 route cheap\n"
                            "if tenant < 3 route cheap\n"
                            "if in_tokens route cheap\n"
                            "if tier == task route cheap\n"
                            "if flag route cheap max_out 0.5\n"
                            "if flag tag 5\n"
                            "if flag retry backoff 1.5\n"
                            "if task in [qa, 3] route cheap\n"
                            "if in_tokens % 2.0 > 1 route cheap\n"
                            "if not in_tokens route cheap\n"
                            "if tenant + 1 == \"x\" route cheap\n"
                            "default route strong\n"));
  INFO(dump(*c));
  CHECK_FALSE(c->ok);
  CHECK(has_error(*c, kFirst, 12, "cannot compare enum 'tier' with int"));
  CHECK(has_error(*c, kFirst + 1, 4, "cannot compare string < int"));
  CHECK(has_error(*c, kFirst + 2, 4, "rule condition must be bool, found int"));
  CHECK(has_error(*c, kFirst + 3, 12, "cannot compare enum 'tier' with enum 'task'"));
  CHECK(has_error(*c, kFirst + 4, 29, "max_out needs an int, found float"));
  CHECK(has_error(*c, kFirst + 5, 13, "tag needs a string or enum, found int"));
  CHECK(has_error(*c, kFirst + 6, 23, "retry backoff needs an int, found float"));
  CHECK(has_error(*c, kFirst + 7, 17, "list item is int but 'task' is enum 'task'"));
  CHECK(has_error(*c, kFirst + 8, 16, "'%' needs ints, found float"));
  CHECK(has_error(*c, kFirst + 9, 8, "'not' needs a bool, found int"));
  CHECK(has_error(*c, kFirst + 10, 13, "cannot apply '+' to string and int"));
  CHECK(c->diags.error_count() == 11);
}

TEST_CASE("an Error-typed operand does not cascade") {
  auto c =
      check_src(with_inputs("if (tenat + 1) * 2 > 3 and tier == gold route cheap\n"
                            "default route strong\n"));
  INFO(dump(*c));
  CHECK(c->diags.error_count() == 2);
  CHECK(has_error(*c, kFirst, 5, "unknown name 'tenat'"));
  CHECK(has_error(*c, kFirst, 36, "unknown enum member 'gold'"));
}

TEST_CASE("a name that is both an input and a member of the other side's enum is ambiguous") {
  auto c = check_src(
      "input {\n  tier: enum(free, pro)\n  pro: bool\n}\nroutes { a = \"m\" }\n"
      "if tier == pro route a\n"
      "if pro route a\n"
      "default route a\n");
  INFO(dump(*c));
  CHECK(has_error(*c, 6, 12,
                  "ambiguous name 'pro': it is both an input and a member of enum 'tier'"));
  CHECK(c->diags.error_count() == 1);
}

TEST_CASE("a bare enum member outside a comparison is an error that says how to use it") {
  auto c = check_src(with_inputs("if free route cheap\ndefault route strong\n"));
  CHECK(
      has_error(*c, kFirst, 4, "enum member 'free' of input 'tier' needs that enum on the other"));
}

TEST_CASE("routes, budgets, lets and builtins are checked") {
  auto c =
      check_src(with_inputs("budget b1 = 100 usd per tenat per month\n"
                            "budget b2 = flag usd per month\n"
                            "budget b3 = ratio usd per month\n"
                            "let a = a and flag\n"
                            "let c = d\n"
                            "let d = true\n"
                            "if flag route stong\n"
                            "if b3 > 1 route cheap\n"
                            "if b4.spent > 1 route cheap\n"
                            "if cost(chep, 1, 2) > 1 route cheap\n"
                            "if has(a) route cheap\n"
                            "if min(in_tokens) > 1 route cheap\n"
                            "if b3.ratio > 1 and b1.ratio > 1 and b2.ratio > 1 and c and d "
                            "route cheap\n"
                            "default route strong\n"));
  INFO(dump(*c));
  CHECK(has_error(*c, kFirst, 25,
                  "unknown input 'tenat' for budget 'b1' key (did you mean 'tenant'?)"));
  CHECK(
      has_error(*c, kFirst + 1, 13, "budget limit input 'flag' must be int or float, found bool"));
  CHECK(has_error(*c, kFirst + 3, 9, "let 'a' cannot refer to itself"));
  CHECK(has_error(*c, kFirst + 4, 9, "let 'c' refers to let 'd', which is defined later"));
  CHECK(has_error(*c, kFirst + 6, 15, "unknown route 'stong' (did you mean 'strong'?)"));
  CHECK(has_error(*c, kFirst + 7, 4, "budget 'b3' must be read through a view"));
  CHECK(has_error(*c, kFirst + 8, 4, "unknown budget 'b4'"));
  CHECK(has_error(*c, kFirst + 9, 9, "unknown route 'chep' (did you mean 'cheap'?)"));
  CHECK(has_error(*c, kFirst + 10, 8, "has() needs an input name, found let 'a'"));
  CHECK(has_error(*c, kFirst + 11, 4, "min() takes at least 2 arguments, found 1"));
  CHECK(c->diags.error_count() == 10);
}

TEST_CASE("duplicates are errors at the second declaration") {
  auto c = check_src(
      "input {\n  a: int\n  a: bool\n  e: enum(x, y, x)\n}\n"
      "routes {\n  r = \"m\"\n  r = \"n\"\n}\n"
      "budget b = 1 usd per month\nbudget b = 2 usd per month\n"
      "let l = true\nlet l = false\nlet e = true\n"
      "default route r\ndefault route r\n");
  INFO(dump(*c));
  CHECK(has_error(*c, 3, 3, "duplicate input 'a' (first declared at line 2)"));
  CHECK(has_error(*c, 4, 3, "duplicate member 'x' in enum of input 'e'"));
  CHECK(has_error(*c, 8, 3, "duplicate route 'r' (first declared at line 7)"));
  CHECK(has_error(*c, 11, 1, "duplicate budget 'b' (first declared at line 10)"));
  CHECK(has_error(*c, 13, 1, "duplicate let 'l' (first declared at line 12)"));
  CHECK(has_error(*c, 14, 1, "let 'e' has the same name as input 'e'"));
  CHECK(has_error(*c, 16, 1, "second default rule (the first is at line 15)"));
  CHECK(c->diags.error_count() == 7);
}

TEST_CASE("default values are validated against the input type") {
  auto c = check_src(
      "input {\n  a: int = \"x\"\n  b: enum(p, q) = r\n  c: float = 5000\n  d: int = 0.5\n"
      "  e: bool = true\n  f: int = -3\n}\nroutes { x = \"m\" }\n"
      "if a > 0 and b == p and c > 1.0 and d > 0 and e and f < 0 route x\ndefault route x\n");
  INFO(dump(*c));
  CHECK(has_error(*c, 2, 12, "default for input 'a' must be int, found string"));
  CHECK(has_error(*c, 3, 19, "unknown enum member 'r' for input 'b' (members: p, q)"));
  CHECK(has_error(*c, 5, 12, "default for input 'd' must be int, found float"));
  CHECK(c->diags.error_count() == 3);
  const Expr& promoted = *c->program->inputs[2].default_value;
  CHECK(promoted.type.kind == TypeKind::Float);
  CHECK(promoted.float_value == 5000.0);
}

TEST_CASE("every error is reported in one run") {
  auto c =
      check_src(with_inputs("if tier == gold route cheap\n"
                            "if tenat == \"a\" route cheep\n"
                            "if in_tokens < \"x\" route cheap\n"
                            "default route strong\n"));
  INFO(dump(*c));
  CHECK(c->diags.error_count() == 4);
}

TEST_CASE("check_tests checks test files against their policy") {
  DiagnosticSink pd;
  auto policy = parse_program(with_inputs("budget monthly = 100 usd per tenant per month\n"
                                          "if tenant == \"acme\" and monthly.ratio < 1.0 "
                                          "route cheap\ndefault route strong\n"),
                              "p.pol", pd);
  REQUIRE(check_program(*policy, pd));

  const std::string good =
      "test \"ok\" {\n  given tenant = \"acme\", tier = free, in_tokens = -5, ratio = 2,\n"
      "        monthly.spent = 40\n  expect route cheap, max_out none, retry false\n}\n";
  DiagnosticSink td;
  auto tests = parse_program(good, "p_test.pol", td);
  REQUIRE_FALSE(td.has_errors());
  CHECK(check_tests(*policy, *tests, td));
  const auto& g = tests->tests[0].givens;
  CHECK(g[0].value->index == 0);  // "acme" is string literal 0 of the policy
  CHECK(g[1].value->ref == NameRef::EnumMember);
  CHECK(g[1].value->index == 0);
  CHECK(tests->tests[0].expects[0].value->index == 0);

  const std::string bad =
      "test \"bad\" {\n  given tenat = \"a\", tier = gold, in_tokens = \"x\", flag = 1,\n"
      "        budget_x.spent = 3\n  expect route stong\n}\n";
  DiagnosticSink bd;
  auto bt = parse_program(bad, "p_test.pol", bd);
  REQUIRE_FALSE(bd.has_errors());
  CHECK_FALSE(check_tests(*policy, *bt, bd));
  Checked view;
  view.program = std::move(bt);
  view.diags = bd;
  INFO(render_all(bd.all(), bad));
  CHECK(has_error(view, 2, 9, "unknown input 'tenat' (did you mean 'tenant'?)"));
  CHECK(has_error(view, 2, 29, "unknown enum member 'gold' for input 'tier'"));
  CHECK(has_error(view, 2, 47, "given 'in_tokens' must be int, found string"));
  CHECK(has_error(view, 2, 59, "given 'flag' must be bool, found int"));
  CHECK(has_error(view, 3, 9, "unknown budget 'budget_x'"));
  CHECK(has_error(view, 4, 16, "unknown route 'stong' (did you mean 'strong'?)"));
  CHECK(bd.error_count() == 6);
  for (const auto& d : bd.all()) CHECK(d.file == "p_test.pol");
}

TEST_CASE("the repository policies and their tests check cleanly") {
  for (const char* name : {"gateway", "gateway_v2", "reference"}) {
    std::string base = std::string(TOLLGATE_SOURCE_DIR) + "/policies/" + name;
    std::string src = slurp(base + ".pol");
    REQUIRE_FALSE(src.empty());
    DiagnosticSink d;
    auto p = parse_program(src, base + ".pol", d);
    bool ok = check_program(*p, d);
    INFO(render_all(d.all(), src));
    CHECK(ok);
    std::string tsrc = slurp(base + "_test.pol");
    DiagnosticSink td;
    auto t = parse_program(tsrc, base + "_test.pol", td);
    INFO(render_all(td.all(), tsrc));
    CHECK(check_tests(*p, *t, td));
  }
}
