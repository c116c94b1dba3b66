// Colour for a terminal (lcrules/style.hpp).
#include "lcrules/style.hpp"

namespace lcrules {

std::string paint(std::string_view text, Tone tone, TextStyle style) {
  if (!style.color) return std::string(text);
  const char* start = "";
  switch (tone) {
    case Tone::Good:
      start = "\033[32m";
      break;
    case Tone::Bad:
      start = "\033[31m";
      break;
    case Tone::Error:
      start = "\033[1;31m";
      break;
    case Tone::Warning:
      start = "\033[1;33m";
      break;
  }
  return start + std::string(text) + "\033[0m";
}

std::string paint_diagnostic(std::string_view text, TextStyle style) {
  if (!style.color) return std::string(text);
  const std::string_view first_line = text.substr(0, text.find('\n'));
  // The label follows the place ("FILE:LINE:COL: ", "FILE: ", "lcrules: "): the first
  // ": error: " or ": warning: " of the first line.
  const auto error_at = first_line.find(": error: ");
  const auto warning_at = first_line.find(": warning: ");
  if (error_at == std::string_view::npos && warning_at == std::string_view::npos) return std::string(text);
  const bool error = error_at <= warning_at;  // npos is the largest
  const std::string_view label = error ? "error:" : "warning:";
  const auto label_at = (error ? error_at : warning_at) + 2;
  return std::string(text.substr(0, label_at)) + paint(label, error ? Tone::Error : Tone::Warning, style) +
         std::string(text.substr(label_at + label.size()));
}

}  // namespace lcrules
