// Entry point of the `tollgate` CLI: dispatches to one file per command (tools/cmd_*.cpp).
#include <cstdio>
#include <cstring>
#include <string_view>

#include "tools/cli.h"

namespace {

struct Entry {
  const char* name;
  const char* summary;
  int (*run)(int, char**);
};

int run_dryrun(int argc, char** argv) {
  // cmd_dryrun is weak: null until tools/cmd_dryrun.cpp is part of the build.
  if (&cmd_dryrun == nullptr) {
    std::fputs("tollgate dryrun: dryrun not built\n", stderr);
    return tollgate::cli::kExitUsage;
  }
  return cmd_dryrun(argc, argv);
}

const Entry kCommands[] = {
    {"check", "type-check policies and their tests, run the lints", cmd_check},
    {"fmt", "print, rewrite (-w) or verify (--check) the canonical layout", cmd_fmt},
    {"test", "run the test blocks of NAME_test.pol files against NAME.pol", cmd_test},
    {"eval", "decide one request given as --set name=value", cmd_eval},
    {"explain", "decide one request and show what every rule did and why", cmd_explain},
    {"dryrun", "replay a request log through two policies and price the difference", run_dryrun},
    {"serve", "serve decisions over HTTP (decide, admit, nginx/Envoy authz, metrics)", cmd_serve},
};

void print_usage(FILE* out) {
  std::fputs(
      "usage: tollgate <command> [options] [args]\n"
      "\n"
      "Tollgate checks, formats, tests and evaluates LLM cost-control policies (.pol files).\n"
      "\n"
      "commands:\n",
      out);
  for (const Entry& e : kCommands) std::fprintf(out, "  %-9s %s\n", e.name, e.summary);
  std::fputs(
      "\n"
      "Run `tollgate <command> --help` for a command's options.\n"
      "Exit status: 0 ok, 1 problems found (errors, failed tests, unformatted files),\n"
      "2 usage error or unreadable input.\n",
      out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return tollgate::cli::kExitUsage;
  }
  std::string_view cmd(argv[1]);
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    if (cmd == "help" && argc > 2) {
      // `tollgate help eval` = `tollgate eval --help`.
      for (const Entry& e : kCommands) {
        if (std::strcmp(e.name, argv[2]) == 0) {
          char help[] = "--help";
          char* args[] = {argv[2], help, nullptr};
          return e.run(2, args);
        }
      }
    }
    print_usage(stdout);
    return tollgate::cli::kExitOk;
  }
  if (cmd == "--version") {
    std::puts("tollgate 0.1.0");
    return tollgate::cli::kExitOk;
  }
  for (const Entry& e : kCommands) {
    if (cmd == e.name) return e.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "tollgate: unknown command '%s'\n\n", argv[1]);
  print_usage(stderr);
  return tollgate::cli::kExitUsage;
}
