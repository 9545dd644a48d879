// Named regression cases for the JIT: each is a minimal policy for a behaviour where the JIT and
// the interpreter could plausibly diverge (or once did). Every case checks both that the two
// evaluators agree on every field and the concrete expected value.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include "tests/support/decision_diff.h"
#include "tests/support/dual_policy.h"

using namespace tollgate;
using namespace tollgate::testing;

namespace {

// Slots from "name" -> text (int/float/bool literals, enum member names, raw strings); inputs not
// mentioned are unset.
struct Given {
  std::vector<Slot> slots;
  std::vector<std::string> strings;
  Given(const Program& p, const std::map<std::string, std::string>& values) {
    slots.assign(p.inputs.size(), Slot{});
    strings.assign(p.inputs.size(), std::string());
    for (size_t i = 0; i < p.inputs.size(); ++i) {
      Slot& s = slots[i];
      s.i = 0;
      s.str = "";
      s.len = 0;
      s.str_id = -1;
      s.set = 0;
      auto it = values.find(p.inputs[i].name);
      if (it == values.end()) continue;
      s.set = 1;
      const std::string& v = it->second;
      switch (p.inputs[i].type.kind) {
        case TypeKind::Bool:
          s.i = v == "true";
          break;
        case TypeKind::Int:
          s.i = std::stoll(v);
          break;
        case TypeKind::Float:
          s.f = v == "nan" ? std::nan("") : std::stod(v);
          break;
        case TypeKind::Enum: {
          const auto& m = p.enums[static_cast<size_t>(p.inputs[i].type.enum_id)].members;
          for (size_t k = 0; k < m.size(); ++k)
            if (m[k] == v) s.i = static_cast<int64_t>(k);
          break;
        }
        case TypeKind::String:
          strings[i] = v;
          s.str = strings[i].c_str();
          s.len = static_cast<uint32_t>(v.size());
          for (size_t k = 0; k < p.string_literals.size(); ++k)
            if (p.string_literals[k] == v) s.str_id = static_cast<int32_t>(k);
          break;
        default:
          break;
      }
    }
  }
};

// deny_reason of the last decide(): a Decision's strings belong to its policy, gone by then.
std::string g_reason;

// Decides `values` with both evaluators at both JIT tiers; returns the (agreed) decision.
Decision decide(const std::string& src, const std::map<std::string, std::string>& values) {
  Decision result;
  for (JitOptLevel level : {JitOptLevel::Optimized, JitOptLevel::Fast}) {
    JitOptions o;
    o.level = level;
    DualPolicy p;
    DualStatus st = build_dual(src, &p, o);
    INFO(p.diagnostics);
    REQUIRE(st == DualStatus::Ok);
    Given g(*p.program, values);
    Decision a, b;
    std::string diff = decide_both(p, g.slots.data(), nullptr, &a, &b);
    INFO("interp: " << describe_decision(a) << "\njit:    " << describe_decision(b));
    CHECK(diff.empty());
    result = a;
    g_reason = a.deny_reason;
    result.deny_reason = "";
  }
  return result;
}

const char* kHeader =
    "policy r\ninput {\n  a: int\n  b: int = 0\n  s: string\n  f: float\n"
    "  k: enum(x, y, z)\n}\nroutes {\n  one = \"m1\"\n  two = \"m2\" in $1/M out $2/M\n}\n";

std::string policy(const std::string& rules) {
  return std::string(kHeader) + rules;
}

}  // namespace

TEST_CASE("empty policy: the JIT'd function may start a page (UBSan function check, fuzz)",
          "[jit][regression]") {
  // Found by compile_fuzz: the indirect call into JIT code was instrumented by
  // -fsanitize=function, which reads the word before the callee.
  Decision d = decide("policy x\n", {});
  CHECK(d.denied);
  CHECK(g_reason == "no route");
}

TEST_CASE("err and false is false; err and true is an error", "[jit][regression]") {
  std::string src = policy(
      "if a > 0 and b == 1 route one\nif a > 0 and b == 0 tag \"t\"\n"
      "default route two\n");
  Decision d = decide(src, {{"b", "0"}});  // a unset: a > 0 errs
  CHECK(d.route == 1);
  CHECK(d.errors == 1);  // rule 1: err and false absorbs; rule 2: err and true = err
  CHECK(d.first_error_rule == 1);
  CHECK(d.tag_count == 0);
}

TEST_CASE("true or err is true; err or false is an error", "[jit][regression]") {
  std::string src = policy("if b == 0 or a > 0 route one\nif a > 0 or b == 5 tag \"t\"\n");
  Decision d = decide(src, {});
  CHECK(d.route == 0);
  CHECK(d.errors == 1);
  CHECK(d.first_error_rule == 1);
}

TEST_CASE("strict operators evaluate the right operand after a left error (scratch use)",
          "[jit][regression]") {
  // The left side errs (a unset), yet the right side's concat still consumes scratch; the later
  // concat then no longer fits in the 1024 bytes.
  std::string src = policy(
      "if (a + 1 > 0) == (s + s == \"\") tag \"never\"\n"
      "if true tag s + s\n");
  std::string big(300, 'q');
  Decision d = decide(src, {{"s", big}});
  CHECK(d.errors == 2);  // rule 0 (left error), rule 1 (scratch: 600 + 600 > 1024)
  CHECK(d.tag_count == 0);
}

TEST_CASE("in evaluates every item, an erroring item makes it an error", "[jit][regression]") {
  std::string src = policy("if b in [0, a] route one\ndefault route two\n");
  Decision d = decide(src, {});
  CHECK(d.route == 1);
  CHECK(d.errors == 1);
}

TEST_CASE("cap written before the route still belongs to the route", "[jit][regression]") {
  std::string src = policy("if true max_out 7 route one\nif true max_out 99\n");
  Decision d = decide(src, {});
  CHECK(d.route == 0);
  CHECK(d.max_out == 7);
  CHECK(d.rule[static_cast<int>(Field::MaxOut)] == 0);
}

TEST_CASE("caps on a deny rule and on a rule that lost the route are ignored",
          "[jit][regression]") {
  std::string src = policy("if true deny \"no\" max_out 5\nif true route one max_out 6\n");
  Decision d = decide(src, {});
  CHECK(d.denied);
  CHECK(d.max_out == kNoCap);
  CHECK(d.errors == 0);
}

TEST_CASE("route-attached cap error: the route still applies", "[jit][regression]") {
  std::string src = policy("if true route one max_out 10 / b\n");
  Decision d = decide(src, {});
  CHECK(d.route == 0);
  CHECK(d.max_out == kNoCap);
  CHECK(d.errors == 1);
}

TEST_CASE("on_error deny names the first erroring rule", "[jit][regression]") {
  std::string src =
      "policy r on_error deny\ninput {\n  a: int\n}\nroutes {\n  one = \"m\"\n}\n"
      "if a > 1 tag \"x\"\ndefault route one\n";
  Decision d = decide(src, {});
  CHECK(d.denied);
  CHECK(d.route == -1);
  CHECK(d.rule[0] == 0);
  CHECK(g_reason == "evaluation error in rule at line 8");
}

TEST_CASE("integer edges: INT64_MIN / -1, overflow, abs, pow", "[jit][regression]") {
  std::string src = policy(
      "if a / b <= 0 tag \"div\"\nif a * 2 > 0 tag \"mul\"\nif abs(a) > 0 tag \"abs\"\n"
      "if pow(2, b) > 0 tag \"pow\"\nif -a > 0 tag \"neg\"\n");
  std::string min = std::to_string(std::numeric_limits<int64_t>::min());
  Decision d = decide(src, {{"a", min}, {"b", "-1"}});
  CHECK(d.errors == 5);
  Decision ok = decide(src, {{"a", "-9"}, {"b", "62"}});
  CHECK(ok.errors == 0);
  CHECK(ok.has_tag("pow"));
  CHECK(ok.has_tag("div"));
}

TEST_CASE("float division by zero is an error; a NaN input is an error", "[jit][regression]") {
  std::string src = policy(
      "if 1.0 / f > 0 tag \"div\"\nif f == f tag \"eq\"\n"
      "if f != f tag \"ne\"\n");
  Decision z = decide(src, {{"f", "-0.0"}});
  CHECK(z.errors == 1);
  CHECK(z.has_tag("eq"));
  Decision n = decide(src, {{"f", "nan"}});  // written into the slot directly
  CHECK(n.errors == 3);
  CHECK(n.tag_count == 0);
}

TEST_CASE("string equality: literal ids, concatenations and enum names", "[jit][regression]") {
  std::string src = policy(
      "if s == \"acme\" tag \"lit\"\nif s + \"\" == \"acme\" tag \"cat\"\n"
      "if \"k:\" + k == \"k:y\" tag \"enum\"\nif s in [\"a\", \"acme\"] tag \"in\"\n"
      "if s startswith \"ac\" and s endswith \"me\" and s contains \"cm\" tag \"ops\"\n");
  Decision d = decide(src, {{"s", "acme"}, {"k", "y"}});
  CHECK(d.tag_count == 5);
  Decision e = decide(src, {{"s", "acmex"}, {"k", "z"}});
  CHECK(e.tag_count == 0);
}

TEST_CASE("cost() folds route prices; an unpriced route is an error", "[jit][regression]") {
  std::string src = policy(
      "if cost(two, a, 1000) > 0.0021 tag \"dear\"\n"
      "if cost(one, a, 1) > 0 tag \"unpriced\"\n");
  Decision d = decide(src, {{"a", "1001"}});
  CHECK(d.has_tag("dear"));  // 1001 * 1e-6 + 1000 * 2e-6 = 0.003001
  CHECK(d.errors == 1);
}

TEST_CASE("first match per field with shadowing and attribution", "[jit][regression]") {
  std::string src = policy(
      "if b == 0 retry backoff 100 rag top_k 2\nif b == 0 retry backoff 200 cache prompt\n"
      "if b == 0 rag off max_in 10\nif b == 0 max_in 20\n");
  Decision d = decide(src, {});
  CHECK(d.retry);
  CHECK(d.backoff_ms == 100);
  CHECK(d.top_k == 2);
  CHECK(d.cache == CacheMode::Prompt);
  CHECK(d.max_in == 10);
  CHECK(d.rule[static_cast<int>(Field::Retry)] == 0);
  CHECK(d.rule[static_cast<int>(Field::Rag)] == 0);
  CHECK(d.rule[static_cast<int>(Field::Cache)] == 1);
  CHECK(d.rule[static_cast<int>(Field::MaxIn)] == 2);
}

TEST_CASE("a rule is evaluated only if it can still take effect", "[jit][regression]") {
  // Rule 1 would error (a unset) but the route is already decided: not evaluated, no error.
  std::string src = policy("if true route one\nif a > 0 route two\n");
  Decision d = decide(src, {});
  CHECK(d.errors == 0);
}

TEST_CASE("large policies are split into chunk functions and still agree", "[jit][regression]") {
  std::string rules;
  for (int i = 0; i < 300; ++i)
    rules += "if a == " + std::to_string(i) + " route " + (i % 2 ? "one" : "two") + " max_out " +
             std::to_string(i + 1) + "\nif b == " + std::to_string(i) + " max_in " +
             std::to_string(1000 - i) + "\n";
  std::string src = policy(rules);
  Decision d = decide(src, {{"a", "299"}, {"b", "7"}});
  CHECK(d.route == 0);
  CHECK(d.max_out == 300);
  CHECK(d.max_in == 993);
  CHECK(d.rule[0] == 598);
}
