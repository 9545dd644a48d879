// docs/language.md stays true to the code: every ```pol block is a policy that compiles (and its
// test blocks pass), every ```pol-error block is rejected by the checker.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tools/test_runner.h"

namespace {

struct Block {
  std::string kind;  // "pol" or "pol-error"
  int line = 0;      // line of the opening fence in the markdown
  std::string text;
};

std::vector<Block> fenced_blocks(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::vector<Block> blocks;
  std::string line;
  int n = 0;
  Block* open = nullptr;
  Block current;
  while (std::getline(in, line)) {
    ++n;
    if (!open) {
      if (line == "```pol" || line == "```pol-error") {
        current = Block{line.substr(3), n, ""};
        open = &current;
      }
      continue;
    }
    if (line == "```") {
      blocks.push_back(current);
      open = nullptr;
      continue;
    }
    current.text += line + "\n";
  }
  REQUIRE(open == nullptr);  // an unterminated fence
  return blocks;
}

}  // namespace

TEST_CASE("docs/language.md: every pol example checks and its tests pass") {
  auto blocks = fenced_blocks(std::string(TOLLGATE_SOURCE_DIR) + "/docs/language.md");
  int good = 0, bad = 0;
  tollgate::EngineOptions options;
  options.backend = tollgate::Backend::Interpreter;
  tollgate::Engine engine(options);
  for (const Block& b : blocks) {
    std::string name = "docs/language.md:" + std::to_string(b.line);
    tollgate::CompileResult r = engine.compile(b.text, name);
    INFO(name << "\n" << b.text << "\n" << r.rendered);
    if (b.kind == "pol-error") {
      ++bad;
      CHECK_FALSE(r.ok());
      continue;
    }
    ++good;
    REQUIRE(r.ok());
    tollgate::TestFileResult result;
    tollgate::run_tests(*r.policy, r.policy->program(), &result);
    for (const auto& c : result.cases) {
      std::string why;
      for (const auto& w : c.failures) why += "\n  " + w;
      INFO("test \"" << c.name << "\"" << why);
      CHECK(c.passed);
    }
  }
  CHECK(good >= 15);
  CHECK(bad >= 2);
}
