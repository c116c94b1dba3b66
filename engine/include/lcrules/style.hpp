// lcrules' public API: colour in text for a terminal. The library writes plain text unless
// it is asked for colour; whether to ask is the program's decision (the command line's:
// docs/cli.md, "Colour").
#pragma once

#include <string>
#include <string_view>

namespace lcrules {

struct TextStyle {
  bool color = false;  // ANSI colour sequences (SGR) around the words below
};

enum class Tone {
  Good,    // PASS, [matched], held:               green   ESC[32m
  Bad,     // FAIL, [not-matched], failed:         red     ESC[31m
  Error,   // the "error:" of a diagnostic         bold red    ESC[1;31m
  Warning  // the "warning:" of a diagnostic       bold yellow ESC[1;33m
};

// `text` in `tone`, followed by ESC[0m; `text` itself when the style has no colour.
std::string paint(std::string_view text, Tone tone, TextStyle style);

// A diagnostic as lcrules prints it ("FILE:LINE:COL: error: MESSAGE" and what follows it,
// "FILE: warning: ...", "lcrules: error: ...") with its first "error:" or "warning:" label
// painted; anything else unchanged.
std::string paint_diagnostic(std::string_view text, TextStyle style);

}  // namespace lcrules
