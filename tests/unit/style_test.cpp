// Colour for a terminal (lcrules/style.hpp): exact sequences, and nothing without colour.
#include <catch2/catch.hpp>

#include "lcrules/style.hpp"

using lcrules::paint;
using lcrules::paint_diagnostic;
using lcrules::TextStyle;
using lcrules::Tone;

TEST_CASE("paint wraps text in its tone's sequence only when asked for colour", "[style]") {
  const TextStyle color{true};
  CHECK(paint("PASS", Tone::Good, color) == "\033[32mPASS\033[0m");
  CHECK(paint("FAIL", Tone::Bad, color) == "\033[31mFAIL\033[0m");
  CHECK(paint("error:", Tone::Error, color) == "\033[1;31merror:\033[0m");
  CHECK(paint("warning:", Tone::Warning, color) == "\033[1;33mwarning:\033[0m");
  CHECK(paint("PASS", Tone::Good, TextStyle{}) == "PASS");
}

TEST_CASE("paint_diagnostic paints the first label of the first line", "[style]") {
  const TextStyle color{true};
  CHECK(paint_diagnostic("a.rules:4:8: error: unknown fact\n  when x\n  ^\n", color) ==
        "a.rules:4:8: \033[1;31merror:\033[0m unknown fact\n  when x\n  ^\n");
  CHECK(paint_diagnostic("a.rules: warning: shadowed: error: later", color) ==
        "a.rules: \033[1;33mwarning:\033[0m shadowed: error: later");
  CHECK(paint_diagnostic("lcrules: error: no context", color) ==
        "lcrules: \033[1;31merror:\033[0m no context");
  // A label only on a later line (a quoted source line) is not the diagnostic's.
  CHECK(paint_diagnostic("a.rules: note\n  x: error: y\n", color) == "a.rules: note\n  x: error: y\n");
  CHECK(paint_diagnostic("a.rules:1:1: error: x", TextStyle{}) == "a.rules:1:1: error: x");
}
