// Lints: each fires on a minimal example and stays quiet on a near miss; shadowing over enums,
// int ranges and and/or/not combinations; --strict promotion; no warnings on the shipped policies.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "compiler/checker.h"
#include "compiler/parser.h"

using namespace tollgate;

namespace {

struct Linted {
  std::unique_ptr<Program> program;
  DiagnosticSink diags;
  bool ok = false;
  std::string src;

  size_t count(const std::string& code) const {
    size_t n = 0;
    for (const auto& d : diags.all())
      if (d.code == code) ++n;
    return n;
  }
  // A warning with this code at `line` whose message contains `text`.
  bool at(const std::string& code, uint32_t line, const std::string& text = "") const {
    for (const auto& d : diags.all())
      if (d.code == code && d.loc.line == line && d.message.find(text) != std::string::npos)
        return true;
    return false;
  }
  std::string dump() const { return render_all(diags.all(), src); }
};

std::unique_ptr<Linted> lint(const std::string& src, CheckOptions opt = {}) {
  auto l = std::make_unique<Linted>();
  l->src = src;
  l->program = parse_program(src, "t.pol", l->diags);
  INFO(render_all(l->diags.all(), src));
  REQUIRE_FALSE(l->diags.has_errors());
  l->ok = check_program(*l->program, l->diags, opt);
  INFO(l->dump());
  REQUIRE(l->ok);
  return l;
}

// Inputs and routes used by most examples; every input is used by the `uses` rule at the end, so
// only the lint under test fires.
const char* kHead = R"(policy p
input {
  tenant: string
  tier: enum(free, pro, enterprise) = pro
  task: enum(classify, tag, qa, chat)
  in_tokens: int
  flag: bool = false
}
routes {
  a = "m1"
  b = "m2"
  c = "m3"
}
)";
constexpr uint32_t L = 14;  // line of the first rule after kHead
const char* kTail =
    "if tenant == \"x\" and tier == free and task == qa and in_tokens > 0 and flag tag \"u\"\n"
    "default route c\n";

std::string pol(const std::string& rules) {
  return std::string(kHead) + rules + kTail;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

// ---- shadowed-rule
// --------------------------------------------------------------------------------

TEST_CASE("shadowed-rule: an enum member already covered by an earlier in-list") {
  auto l = lint(pol("if task in [classify, tag] route a\nif task == tag route b\n"));
  INFO(l->dump());
  CHECK(l->at("shadowed-rule", L + 1, "never sets route: earlier rule at line 14 always fires"));
  CHECK(l->count("shadowed-rule") == 1);
}

TEST_CASE("shadowed-rule near miss: a member the earlier list does not cover") {
  auto l =
      lint(pol("if task in [classify, tag] route a\nif task == qa route b\n"
               "if task != classify route b\n"));
  INFO(l->dump());
  CHECK(l->count("shadowed-rule") == 0);
}

TEST_CASE("shadowed-rule: int ranges") {
  auto l =
      lint(pol("if in_tokens < 8k route a\nif in_tokens < 4k route b\n"
               "if in_tokens >= 8000 route b\nif in_tokens == 9000 route a\n"));
  INFO(l->dump());
  CHECK(l->at("shadowed-rule", L + 1, "earlier rule at line 14"));
  CHECK(l->at("shadowed-rule", L + 3, "earlier rule at line 16"));
  // The two ranges cover every value, but in_tokens is required: when the host leaves it unset
  // both rules fail and the default still routes.
  CHECK_FALSE(l->at("shadowed-rule", L + 5));
  CHECK(l->count("shadowed-rule") == 2);
}

TEST_CASE("shadowed-rule near miss: a wider range after a narrower one") {
  auto l =
      lint(pol("if in_tokens < 4k route a\nif in_tokens < 8k route b\n"
               "if in_tokens > 10 and in_tokens <= 4000 route b\n"
               "if in_tokens >= 4000 and in_tokens != 5000 route b\n"));
  INFO(l->dump());
  CHECK(l->at("shadowed-rule", L + 2));  // (10, 4000]: only 4000 is left, which rule 2 takes
  CHECK(l->count("shadowed-rule") == 1);
}

TEST_CASE("shadowed-rule: and/or/not combinations over enums and bools") {
  auto l =
      lint(pol("if tier == free or tier == pro route a\n"
               "if tier != enterprise and task == qa route b\n"       // shadowed
               "if not (task in [classify, tag]) and flag route a\n"  // not shadowed
               "if (task == qa or task == chat) and flag route b\n"   // shadowed by line 3
               "if flag and tier == enterprise route b\n"             // shadowed by line 3?
               ));
  INFO(l->dump());
  CHECK(l->at("shadowed-rule", L + 1, "line 14"));
  CHECK(l->at("shadowed-rule", L + 3, "lines 14, 16"));
  CHECK_FALSE(l->at("shadowed-rule", L + 2));
  // flag and enterprise: task classify/tag are not covered by line 17, so it can still fire.
  CHECK_FALSE(l->at("shadowed-rule", L + 4));
  CHECK(l->count("shadowed-rule") == 2);
}

TEST_CASE("shadowed-rule: an unconditional rule shadows every later rule of its field only") {
  auto l =
      lint(pol("if true route a\nif task == qa route b\nif task == qa cache prompt\n"
               "if flag retry\nif flag retry backoff 5s\n"));
  INFO(l->dump());
  CHECK(l->at("shadowed-rule", L + 1, "line 14"));
  CHECK_FALSE(l->at("shadowed-rule", L + 2));  // cache: no earlier cache rule
  CHECK(l->at("shadowed-rule", L + 4, "never sets retry"));
  CHECK(l->at("shadowed-rule", L + 6, "default rule"));
  CHECK(l->count("shadowed-rule") == 3);
}

TEST_CASE("shadowed-rule: a required input may be unset, an input with a default may not") {
  // task is required: when unset both enumerating rules error, so the next rule can still fire.
  auto l1 =
      lint(pol("if task in [classify, tag] route a\nif task in [qa, chat] route b\n"
               "if in_tokens > 5 route a\n"));
  INFO(l1->dump());
  CHECK(l1->count("shadowed-rule") == 0);
  // tier has a default: enumerating all its members covers every request.
  auto l2 =
      lint(pol("if tier in [free, pro] route a\nif tier == enterprise route b\n"
               "if in_tokens > 5 route a\n"));
  INFO(l2->dump());
  CHECK(l2->at("shadowed-rule", L + 2, "lines 14, 15"));
  CHECK(l2->at("shadowed-rule", L + 4, "default rule"));
  CHECK(l2->count("shadowed-rule") == 2);
}

TEST_CASE("shadowed-rule: has() guards and a retry whose backoff can fail") {
  auto l =
      lint(pol("if has(in_tokens) route a\nif in_tokens > 5 route b\n"
               "if flag retry backoff 100 / in_tokens\nif flag retry\n"));
  INFO(l->dump());
  CHECK(l->at("shadowed-rule", L + 1));
  // The first retry rule's backoff can fail (division), so it does not surely set retry.
  CHECK_FALSE(l->at("shadowed-rule", L + 3));
}

TEST_CASE("shadowed-rule: not in, and a has() guard inside a let") {
  auto l =
      lint(pol("let known = has(in_tokens) and in_tokens > 100\n"
               "if task not in [qa, chat] route a\nif task == tag and flag route b\n"
               "if known route a\nif in_tokens >= 101 route b\nif in_tokens > 99 route b\n"));
  INFO(l->dump());
  CHECK(l->at("shadowed-rule", L + 2, "line 15"));
  CHECK(l->at("shadowed-rule", L + 4, "lines 15, 17"));
  CHECK_FALSE(l->at("shadowed-rule", L + 5));
  CHECK(l->count("shadowed-rule") == 2);
}

TEST_CASE("deny-can-error follows has() guards through lets and or") {
  auto l =
      lint(pol("let big = has(in_tokens) and in_tokens > 100k\n"
               "if big deny \"too big\"\n"
               "if not has(in_tokens) or in_tokens > 100k deny \"too big\"\n"
               "if has(in_tokens) or in_tokens > 100k deny \"x\"\n"));
  INFO(l->dump());
  CHECK_FALSE(l->at("deny-can-error", L + 1));
  CHECK_FALSE(l->at("deny-can-error", L + 2));
  CHECK(l->at("deny-can-error", L + 3, "in_tokens"));
  CHECK(l->count("deny-can-error") == 1);
}

TEST_CASE("shadowed-rule: string equality with literals") {
  auto l =
      lint(pol("if tenant in [\"acme\", \"beta\"] route a\n"
               "if tenant == \"beta\" and flag route b\n"
               "if tenant != \"acme\" route b\n"
               "if tenant == \"gamma\" route b\n"));
  INFO(l->dump());
  CHECK(l->at("shadowed-rule", L + 1, "line 14"));
  CHECK_FALSE(l->at("shadowed-rule", L + 2));  // every other tenant still gets here
  CHECK(l->at("shadowed-rule", L + 3, "line 16"));
  CHECK(l->count("shadowed-rule") == 2);

  // A string input with a default: == and != on the same literal cover every request.
  auto d = lint(
      "input {\n  region: string = \"eu\"\n  flag: bool\n}\nroutes { a = \"m\" }\n"
      "if region == \"eu\" route a\nif region != \"eu\" route a\nif flag route a\n");
  INFO(d->dump());
  CHECK(d->at("shadowed-rule", 8, "lines 6, 7"));
  CHECK(d->count("missing-default") == 0);
}

TEST_CASE("shadowed-rule: a condition that is never true") {
  auto l = lint(pol("if task == qa and task == chat route a\n"));
  CHECK(l->at("shadowed-rule", L, "condition is never true"));
}

TEST_CASE("shadowed-rule: bool lets are inlined") {
  auto l =
      lint(pol("let small = in_tokens < 1000 or task == tag\n"
               "if small route a\nif in_tokens < 10 route b\nif task == tag route b\n"));
  INFO(l->dump());
  CHECK(l->at("shadowed-rule", L + 2));
  CHECK(l->at("shadowed-rule", L + 3));
}

// ---- missing-default --------------------------------------------------------------------------

TEST_CASE("missing-default fires without a default unless the rules are total") {
  const std::string head = kHead;
  auto l1 = lint(head +
                 "if task == qa and tier == free and tenant == \"x\" and in_tokens > 0 "
                 "and flag route a\n");
  INFO(l1->dump());
  CHECK(l1->at("missing-default", 1));
  auto l2 = lint(head +
                 "if task in [qa, chat] and tier == free and tenant == \"x\" and flag "
                 "route a\nif task in [classify, tag] route b\n"
                 "if task in [qa, chat] route c\nif in_tokens > 0 max_out 5\n");
  INFO(l2->dump());
  CHECK(l2->count("missing-default") == 0);
  auto l3 = lint(pol("if task == qa route a\n"));
  CHECK(l3->count("missing-default") == 0);
}

// ---- unused-* ---------------------------------------------------------------------------------

TEST_CASE("unused inputs, lets and budgets") {
  auto l = lint(std::string(kHead) +
                "budget spend = 100 usd per tenant per month\n"
                "budget unread = 5 requests per day\n"
                "let used = in_tokens > 5\nlet idle = flag\n"
                "if used and spend.ratio < 1.0 route a\ndefault route b\n");
  INFO(l->dump());
  CHECK(l->at("unused-input", 4, "input 'tier' is never used"));
  CHECK(l->at("unused-input", 5, "input 'task' is never used"));
  CHECK_FALSE(l->at("unused-input", 3));  // tenant keys the budget that is read
  CHECK_FALSE(l->at("unused-input", 7));  // flag is read by a let, even an unused one
  CHECK(l->count("unused-input") == 2);
  CHECK(l->at("unused-let", L + 3, "let 'idle' is never used"));
  CHECK(l->count("unused-let") == 1);
  CHECK(l->at("unused-budget", L + 1, "budget 'unread' is never read"));
  CHECK(l->count("unused-budget") == 1);
}

// ---- cap-never-tightens -----------------------------------------------------------------------

TEST_CASE("cap-never-tightens: caps above an unconditional cap, and caps on deny rules") {
  auto l =
      lint(pol("if true max_out 512\nif flag max_out 1024\nif flag max_out 256\n"
               "if task == qa route a max_out 512\nif task == tag deny \"no\" max_out 5\n"
               "if true max_in 10\nif flag max_out 512\n"));
  INFO(l->dump());
  CHECK(l->at("cap-never-tightens", L + 1, "max_out 1024 never tightens"));
  CHECK_FALSE(l->at("cap-never-tightens", L + 2));
  CHECK(l->at("cap-never-tightens", L + 3, "max_out 512 never tightens"));
  CHECK(l->at("cap-never-tightens", L + 4, "deny rule"));
  CHECK(l->at("cap-never-tightens", L + 6));
  CHECK(l->count("cap-never-tightens") == 4);
}

TEST_CASE("cap-never-tightens near miss: a conditional cap does not make others useless") {
  auto l =
      lint(pol("if flag max_out 512\nif task == qa max_out 1024\n"
               "if task == qa route a max_out 2048\n"));
  INFO(l->dump());
  CHECK(l->count("cap-never-tightens") == 0);
}

TEST_CASE("cap-never-tightens: a standalone cap at or above every route's cap") {
  const std::string head = kHead;
  const std::string tail =
      "if tenant == \"x\" and tier == free and task == qa and in_tokens > 0 and flag tag \"u\"\n";
  auto l = lint(head + "if task == qa route a max_out 64\ndefault route b max_out 1024\n" +
                "if flag max_out 2000\nif flag max_out 1000\n" + tail);
  INFO(l->dump());
  CHECK(l->at("cap-never-tightens", L + 2, "every route rule already caps max_out at 1024"));
  CHECK(l->count("cap-never-tightens") == 1);
}

// ---- deny-can-error ---------------------------------------------------------------------------

TEST_CASE("deny-can-error fires on conditions that can fail and not on guarded ones") {
  auto l =
      lint(pol("budget spend = 100 usd per tenant per month\n"
               "budget global = 1000 usd per month\n"
               "if in_tokens > 100k deny \"too long\"\n"
               "if has(in_tokens) and in_tokens > 100k deny \"too long\"\n"
               "if 10 / 1 > 1 and flag deny \"x\"\n"
               "if 10 / (1 + 0) > 1 and flag and global.ratio > 1.0 deny \"x\"\n"
               "if spend.ratio > 1.0 deny \"over\"\n"
               "if tier == free and 100 / 5 > 1 deny \"x\"\n"
               "if tier == free and 100.0 / 0.0 > 1 deny \"x\"\n"));
  INFO(l->dump());
  CHECK(l->at("deny-can-error", L + 2, "reads required input 'in_tokens' without has()"));
  CHECK_FALSE(l->at("deny-can-error", L + 3));
  CHECK_FALSE(l->at("deny-can-error", L + 4));
  CHECK_FALSE(l->at("deny-can-error", L + 5));
  CHECK(l->at("deny-can-error", L + 6, "keyed by required input 'tenant'"));
  CHECK_FALSE(l->at("deny-can-error", L + 7));
  CHECK(l->at("deny-can-error", L + 8, "divides"));
  CHECK(l->count("deny-can-error") == 3);

  auto strict_policy = lint(std::string("policy q on_error deny\n") +
                            pol("if in_tokens > 100k deny \"too long\"\n").substr(9));
  CHECK(strict_policy->count("deny-can-error") == 0);
}

// ---- enum-member-unmentioned ----------------------------------------------------------------

TEST_CASE("enum-member-unmentioned: rules enumerate all members but one") {
  auto l = lint(pol("if task in [classify, tag] route a\nif task == qa route b\n"));
  INFO(l->dump());
  CHECK(l->at("enum-member-unmentioned", L, "enum member 'chat' of input 'task'"));
  CHECK(l->count("enum-member-unmentioned") == 1);
}

TEST_CASE("enum-member-unmentioned: one list naming all but one member is a complement") {
  auto l =
      lint(pol("if task in [classify, tag, qa] route a\n"
               "if tier == free route a\nif tier == enterprise route b\n"));
  INFO(l->dump());
  // task: a single list; tier: the unmentioned member `pro` is the input's default.
  CHECK(l->count("enum-member-unmentioned") == 0);
}

TEST_CASE("enum-member-unmentioned near misses") {
  // Two members left out; a negative mention; another field; a two-member split.
  auto l =
      lint(pol("if task in [classify, tag] route a\nif task != qa route b\n"
               "if task == chat cache prompt\nif tier == free route a\n"));
  INFO(l->dump());
  CHECK(l->count("enum-member-unmentioned") == 0);
}

// ---- route-unpriced ---------------------------------------------------------------------------

TEST_CASE("route-unpriced fires only when a price table is given and lacks the model") {
  const std::string src =
      "input { x: int }\nroutes {\n  known = \"m-known\"\n  unknown = \"m-unknown\"\n"
      "  own = \"m-own\" self_hosted\n  inline = \"m-inline\" in $1/M out $2/M\n}\n"
      "if x > 1 route known\nif x > 2 route unknown\nif x > 3 route own\ndefault route inline\n";
  auto l1 = lint(src);
  CHECK(l1->count("route-unpriced") == 0);
  CheckOptions opt;
  opt.has_price = [](const std::string& m) { return m == "m-known"; };
  auto l2 = lint(src, opt);
  INFO(l2->dump());
  CHECK(l2->at("route-unpriced", 4, "route 'unknown' has no price"));
  CHECK(l2->count("route-unpriced") == 1);
}

// ---- strict and shipped policies --------------------------------------------------------------

TEST_CASE("strict mode (--strict) turns lint warnings into errors") {
  auto l = lint(pol("if task in [classify, tag] route a\nif task == tag route b\n"));
  REQUIRE(l->diags.warning_count() > 0);
  REQUIRE(l->diags.error_count() == 0);
  size_t warnings = l->diags.warning_count();
  l->diags.promote_warnings();
  CHECK(l->diags.error_count() == warnings);
  CHECK(l->diags.warning_count() == 0);
}

TEST_CASE("lints can be turned off") {
  DiagnosticSink d;
  auto p = parse_program(pol("if task in [classify, tag] route a\nif task == tag route b\n"),
                         "t.pol", d);
  CheckOptions opt;
  opt.lints = false;
  CHECK(check_program(*p, d, opt));
  CHECK(d.warning_count() == 0);
}

TEST_CASE("the shipped gateway policies have no lint warnings") {
  for (const char* name : {"gateway", "gateway_v2"}) {
    std::string path = std::string(TOLLGATE_SOURCE_DIR) + "/policies/" + name + ".pol";
    std::string src = slurp(path);
    REQUIRE_FALSE(src.empty());
    DiagnosticSink d;
    auto p = parse_program(src, path, d);
    CHECK(check_program(*p, d));
    INFO(render_all(d.all(), src));
    CHECK(d.warning_count() == 0);
  }
}
