// A positioned error message and its rendering as `FILE:LINE:COL: error: MESSAGE`,
// followed by the source line and a caret.
#pragma once

#include <string>
#include <string_view>

#include "grammar/ast.hpp"

namespace lcrules {

struct Diagnostic {
  ast::Location loc;
  std::string message;
  std::string excerpt;           // the source line (cut to ~200 bytes around the column, escaped)
  std::size_t caret_column = 0;  // 1-based column of the caret inside `excerpt`; 0: no excerpt
};

// Builds a diagnostic for `loc` in `text`, filling the excerpt and caret.
Diagnostic make_diagnostic(std::string_view text, const ast::Location& loc, std::string message);

// "FILE:LINE:COL: error: MESSAGE\n    EXCERPT\n    ^\n" (excerpt lines only when present).
std::string format(const Diagnostic& d);

// The first line only: "FILE:LINE:COL: error: MESSAGE".
std::string headline(const Diagnostic& d);

}  // namespace lcrules
