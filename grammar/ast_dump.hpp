// A syntax tree as text, without locations: two files that dump the same define the same
// rules, whatever their layout and comments (the formatter checks its output with it).
#pragma once

#include <string>

#include "grammar/ast.hpp"

namespace lcrules::ast {

std::string dump(const File& file);

}  // namespace lcrules::ast
