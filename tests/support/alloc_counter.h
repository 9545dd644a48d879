// Counts heap allocations of the whole test binary, for "decide() never allocates" checks. The
// replacement operator new/delete live in alloc_counter.cpp; calling heap_allocations() pulls
// that object (and so the replacements) into the binary.
#pragma once

#include <cstdint>

namespace tollgate::testing {

// Allocations made through operator new so far.
uint64_t heap_allocations();

}  // namespace tollgate::testing
