// A positioned error message and its rendering as `FILE:LINE:COL: error: MESSAGE`,
// followed by the source line and a caret, and by notes at further places
// (`FILE:LINE:COL: note: MESSAGE`, each with its line and caret).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "grammar/ast.hpp"

namespace lcrules {

struct Diagnostic {
  ast::Location loc;
  std::string message;
  std::string excerpt;            // the source line (cut to ~200 bytes around the column, escaped)
  std::size_t caret_column = 0;   // 1-based column of the caret inside `excerpt`; 0: no excerpt
  std::vector<Diagnostic> notes;  // further places, printed as "note:" after the error
  std::string suggestion;         // the name a "did you mean" proposes; empty: none
};

// Builds a diagnostic for `loc` in `text`, filling the excerpt and caret.
Diagnostic make_diagnostic(std::string_view text, const ast::Location& loc, std::string message);

// "FILE:LINE:COL: error: MESSAGE\n    EXCERPT\n    ^\n" (excerpt lines only when present),
// then each note the same way with "note:".
std::string format(const Diagnostic& d);

// The first line only: "FILE:LINE:COL: error: MESSAGE".
std::string headline(const Diagnostic& d);

// The first line of the error and of each note, one a line, without a final newline.
std::string headlines(const Diagnostic& d);

}  // namespace lcrules
