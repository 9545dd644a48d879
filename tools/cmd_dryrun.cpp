// `tollgate dryrun`: the CLI entry point; the command lives in the dry-run library
// (tools/dryrun/dryrun_main.cpp) so tests can run it in-process.
#include "tools/dryrun/dryrun.h"

int cmd_dryrun(int argc, char** argv) {
  return tollgate::dryrun::main(argc, argv);
}
