// The formatter behind `lcrules fmt`: the text of a .rules file -> the same rules in the
// canonical layout (docs/language.md, "Layout"), every comment kept where it was.
//
// It parses the text with the grammar (grammar.hpp) to learn where items, properties and
// conditions start and end, splits it into tokens and comments with a small lexer of the
// same token shapes, and prints the tokens again. A file that does not parse gives the
// parser's diagnostic, exactly as `lcrules check` reports it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "grammar/diagnostic.hpp"

namespace lcrules {

// Lines of formatted text are wrapped (their lists, one element per line) past this width.
inline constexpr std::size_t kFormatWidth = 100;

struct FormatResult {
  std::optional<std::string> text;  // set on success
  std::optional<Diagnostic> error;  // set when the text does not parse
};

// Never throws for any input. Formatting is idempotent: formatting the result again gives
// the result.
FormatResult format_rules_text(std::string_view text, const std::string& path);

}  // namespace lcrules
