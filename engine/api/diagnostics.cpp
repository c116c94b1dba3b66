// `lcrules check -o json`: errors and warnings as diagnostics an editor can place, each with
// the range of the token it is about.
#include <fstream>
#include <optional>
#include <regex>
#include <string>

#include "lcrules/engine.hpp"

namespace lcrules {
namespace {

using json = nlohmann::ordered_json;

// Line `line` (1-based) of `file`, without its newline; nullopt when there is no such line.
std::optional<std::string> source_line(const std::string& file, unsigned line) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text;
  for (unsigned n = 1; std::getline(in, text); ++n) {
    if (n == line) {
      if (!text.empty() && text.back() == '\r') text.pop_back();
      return text;
    }
  }
  return std::nullopt;
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || static_cast<unsigned char>(c) >= 0x80;
}

// The column just past the token that starts at `column` (1-based, bytes) of `text`: a name
// or dotted fact (`context.nmae`), a number, a quoted string or /regex/ to its closing
// delimiter, else one character. At the end of the line the range is empty.
unsigned token_end(const std::string& text, unsigned column) {
  std::size_t i = column - 1;
  if (i >= text.size()) return column;
  const char c = text[i];
  if (c == '"' || c == '\'' || c == '/') {
    for (std::size_t j = i + 1; j < text.size(); ++j) {
      if (text[j] == '\\') {
        ++j;
      } else if (text[j] == c) {
        return static_cast<unsigned>(j + 2);
      }
    }
    return static_cast<unsigned>(text.size() + 1);
  }
  if (name_char(c)) {
    std::size_t j = i;
    while (j < text.size() && name_char(text[j])) ++j;
    return static_cast<unsigned>(j + 1);
  }
  return column + 1;
}

json position(unsigned n) { return n > 0 ? json(n) : json(nullptr); }

json diagnostic(const std::string& file, unsigned line, unsigned column, const char* severity,
                const std::string& message, const std::optional<std::string>& suggestion) {
  json end_line = nullptr, end_column = nullptr;
  if (line > 0 && column > 0) {
    end_line = line;
    const auto text = source_line(file, line);
    end_column = text ? token_end(*text, column) : column;
  }
  return {{"file", file.empty() ? json(nullptr) : json(file)},
          {"line", position(line)},
          {"column", position(column)},
          {"end_line", end_line},
          {"end_column", end_column},
          {"severity", severity},
          {"message", message},
          {"suggestion", suggestion ? json(*suggestion) : json(nullptr)}};
}

}  // namespace

json diagnostics_json(const std::vector<Error>& errors, const std::vector<std::string>& warnings) {
  json list = json::array();
  for (const auto& e : errors)
    list.push_back(
        diagnostic(e.file, e.line, e.column, "error", e.message,
                   e.suggestion.empty() ? std::nullopt : std::optional<std::string>(e.suggestion)));
  static const std::regex located(R"(^(.+):([0-9]+):([0-9]+): warning: ([\s\S]*)$)");
  for (const auto& w : warnings) {
    std::smatch m;
    if (std::regex_match(w, m, located) && m[2].length() < 10 && m[3].length() < 10) {
      list.push_back(diagnostic(m[1].str(), static_cast<unsigned>(std::stoul(m[2].str())),
                                static_cast<unsigned>(std::stoul(m[3].str())), "warning", m[4].str(),
                                std::nullopt));
    } else {
      list.push_back(diagnostic("", 0, 0, "warning", w, std::nullopt));
    }
  }
  return {{"diagnostics", list}};
}

}  // namespace lcrules
