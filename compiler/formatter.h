// `tollgate fmt`: the canonical layout of a Program, comments kept. Idempotent:
// format(parse(format(x))) == format(x).
#pragma once

#include <string>

#include "compiler/ast.h"

namespace tollgate {

std::string format_program(const Program& program);

}  // namespace tollgate
