// Syntax errors that say how to fix them: the grammar's message for a commit point
// (grammar.hpp) becomes "did you mean" when an unknown word is near a keyword, an
// unclosed '{' is reported at the brace with the place the parser stopped as a note, and a
// single-quoted string is told to use double quotes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "grammar/ast.hpp"
#include "grammar/diagnostic.hpp"

namespace lcrules {

// The last '{' the parser opened for an item, and the item ("rule 'kind'").
struct OpenBrace {
  ast::Location loc;
  std::string item;
};

// The diagnostic for the grammar's `message` raised at `at` in `text`; `open` is the last
// item brace opened (braces of items do not nest).
Diagnostic syntax_diagnostic(std::string_view text, const ast::Location& at, const std::string& message,
                             const std::optional<OpenBrace>& open);

}  // namespace lcrules
