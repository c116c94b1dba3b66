// lcrules' public API: `lcrules fmt`, the canonical layout of a .rules file
// (docs/language.md, "Layout"; docs/cli.md, "lcrules fmt").
#pragma once

#include <string>
#include <string_view>

#include "lcrules/engine.hpp"

namespace lcrules {

// The text of a rule file laid out canonically, every comment kept. Idempotent, and the
// result parses to the same rules. A text that does not parse gives the parser's error,
// as `lcrules check` reports it (`text` is "FILE:LINE:COL: error: ...", the source line
// and a caret); `file_name` names the text in it.
Result<std::string> format_rules(std::string_view text, const std::string& file_name);

}  // namespace lcrules
