// Field-by-field comparison of two Decisions (every field, attribution, errors and tags), for
// the differential JIT/interpreter tests and the fuzzer.
#pragma once

#include <string>

#include "tollgate/decision.hpp"

namespace tollgate::testing {

// "" when equal, else one line per differing field ("max_out: 64 vs 128").
std::string decision_diff(const Decision& a, const Decision& b);

// All fields on one line, for failure messages.
std::string describe_decision(const Decision& d);

}  // namespace tollgate::testing
