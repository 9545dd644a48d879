// docs/language.md stays true to the code: every ```pol block is a policy that compiles (and its
// test blocks pass), every ```pol-error block is rejected by the checker.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
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

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every distinct match of `prefix` followed by [a-z0-9_-] characters.
std::vector<std::string> words_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  for (size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
    size_t end = at + prefix.size();
    while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                                 text[end] == '_' || text[end] == '-'))
      ++end;
    if (end == at + prefix.size()) continue;
    std::string w = text.substr(at, end - at);
    if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(w);
  }
  return out;
}

}  // namespace

TEST_CASE("docs/serve.md: every option it names exists, every metric it lists is exported") {
  const std::string doc = slurp(std::string(TOLLGATE_SOURCE_DIR) + "/docs/serve.md");
  const std::string help_file = "docs_test_serve_help.txt";
  REQUIRE(std::system((std::string(TOLLGATE_CLI) + " serve --help > " + help_file).c_str()) == 0);
  const std::string help = slurp(help_file);
  std::remove(help_file.c_str());
  int options = 0;
  for (const std::string& flag : words_starting(doc, "`--")) {
    INFO(flag.substr(1) << " is named in docs/serve.md but `tollgate serve --help` lacks it");
    CHECK(help.find(flag.substr(1)) != std::string::npos);
    ++options;
  }
  CHECK(options >= 20);
  const std::string service =
      slurp(std::string(TOLLGATE_SOURCE_DIR) + "/tools/serve/service.cpp");
  int metrics = 0;
  for (const std::string& metric : words_starting(doc, "`tollgate_")) {
    INFO(metric.substr(1) << " is documented but never exported");
    CHECK(service.find("\"" + metric.substr(1) + "\"") != std::string::npos);
    ++metrics;
  }
  CHECK(metrics >= 25);
}
