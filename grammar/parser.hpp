// Text of a .rules file -> syntax tree (first syntax error only).
#pragma once

#include <optional>
#include <string>

#include "grammar/ast.hpp"
#include "grammar/diagnostic.hpp"

namespace lcrules {

inline constexpr int kLanguageVersion = 1;
inline constexpr std::size_t kMaxNesting = 64;

struct ParseResult {
  std::optional<ast::File> file;    // set on success
  std::optional<Diagnostic> error;  // set on failure
};

// Never throws for any input (binary junk, NUL bytes, huge lines, deep nesting).
ParseResult parse_rules(std::string text, const std::string& path);

}  // namespace lcrules
