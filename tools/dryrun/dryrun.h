// The dry-run: replay logged traffic through two policies and price the difference.
// Entry point for the CLI (tools/cmd_dryrun.cpp) and for tests: parse arguments, load the
// policies (path, REV:PATH via git, or `actual`), replay, render, pick the exit code.
#pragma once

#include <string>
#include <vector>

namespace tollgate::dryrun {

// Exit codes of `tollgate dryrun` (docs/dryrun.md).
constexpr int kExitOk = 0;
constexpr int kExitInput = 1;     // unreadable or invalid input: policies, logs, prices, --map
constexpr int kExitUsage = 2;     // bad command line
constexpr int kExitIncrease = 3;  // --fail-if-increase tripped

extern const char* const kUsage;

// Runs `tollgate dryrun` with argv[0] = "dryrun"; report on stdout (or --out), messages on stderr.
int main(int argc, char** argv);

// Reads a policy argument: a file path, or REV:PATH through `git show` (when no file by that
// name exists). False with *error when neither works.
bool read_policy_source(const std::string& arg, std::string* text, std::string* error);

// "5min", "300s", "1h", "250ms", or plain seconds -> ms.
bool parse_duration_ms(const std::string& s, int64_t* out);

}  // namespace tollgate::dryrun
