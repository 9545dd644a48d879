// `tollgate fmt`: the canonical layout of policies and test files, comments kept.
#include <cstdio>

#include "compiler/formatter.h"
#include "compiler/parser.h"
#include "tools/cli.h"

namespace {

const tollgate::cli::Command kFmt = {
    "fmt", "",
    "usage: tollgate fmt [-w | --check] FILE|DIR...\n"
    "\n"
    "Formats policies and test files in the canonical layout (comments are kept).\n"
    "Without options the formatted text is printed to stdout. Directories are searched for\n"
    "*.pol files.\n"
    "\n"
    "options:\n"
    "  -w, --write   rewrite the files in place (only those that change)\n"
    "  --check       change nothing; list the files that are not formatted, exit 1 if any\n"
    "  -h, --help    this text\n"
    "\n"
    "exit status: 0 ok, 1 syntax errors or (with --check) unformatted files, 2 usage error\n"};

}  // namespace

int cmd_fmt(int argc, char** argv) {
  using namespace tollgate;
  if (cli::wants_help(kFmt, argc, argv)) return cli::kExitOk;
  bool write = false, check = false;
  std::vector<std::string> paths;
  cli::ArgScanner args(argc, argv);
  while (args.next()) {
    if (args.is_positional()) {
      paths.emplace_back(args.arg());
    } else if (args.flag("-w") || args.flag("--write")) {
      write = true;
    } else if (args.flag("--check")) {
      check = true;
    } else {
      return cli::usage_error(kFmt, "unknown option '" + std::string(args.arg()) + "'");
    }
  }
  if (write && check) return cli::usage_error(kFmt, "-w and --check exclude each other");
  if (paths.empty()) return cli::usage_error(kFmt, "no files given");
  std::vector<std::string> missing;
  std::vector<std::string> files = cli::expand_pol_files(paths, /*with_tests=*/true, &missing);
  for (const std::string& m : missing) std::fprintf(stderr, "tollgate fmt: %s\n", m.c_str());
  if (!missing.empty()) return cli::kExitUsage;

  int status = cli::kExitOk;
  size_t unformatted = 0;
  for (const std::string& path : files) {
    std::string source;
    if (!cli::read_file(path, &source)) {
      std::fprintf(stderr, "%s: error: cannot read file\n", path.c_str());
      status = cli::kExitFail;
      continue;
    }
    DiagnosticSink diags;
    std::unique_ptr<Program> program = parse_program(source, path, diags);
    if (diags.has_errors() || !program) {
      std::fputs(render_all(diags.all(), source).c_str(), stderr);
      status = cli::kExitFail;
      continue;
    }
    std::string formatted = format_program(*program);
    // Never write text that does not parse back: a formatter bug must not destroy a policy.
    DiagnosticSink again;
    if (!parse_program(formatted, path, again) || again.has_errors()) {
      std::fprintf(stderr, "%s: internal error: the formatted text does not parse:\n%s",
                   path.c_str(), render_all(again.all(), formatted).c_str());
      status = cli::kExitFail;
      continue;
    }
    if (check) {
      if (formatted != source) {
        std::printf("%s\n", path.c_str());
        ++unformatted;
      }
    } else if (write) {
      if (formatted != source && !cli::write_file(path, formatted)) {
        std::fprintf(stderr, "%s: error: cannot write file\n", path.c_str());
        status = cli::kExitFail;
      }
    } else {
      std::fputs(formatted.c_str(), stdout);
    }
  }
  if (check && unformatted > 0) {
    std::fprintf(stderr, "%zu file%s would be reformatted (run `tollgate fmt -w`)\n", unformatted,
                 unformatted == 1 ? "" : "s");
    status = cli::kExitFail;
  }
  return status;
}
