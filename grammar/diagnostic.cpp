#include "grammar/diagnostic.hpp"

#include <algorithm>

namespace lcrules {
namespace {

constexpr std::size_t kExcerptWidth = 200;

// Escapes control bytes and bytes that are not part of valid UTF-8, so an excerpt is
// always printable. Returns the escaped text and, through `caret`, the caret position.
std::string escape_excerpt(std::string_view line, std::size_t column0, std::size_t* caret) {
  std::string out;
  std::size_t i = 0;
  *caret = 0;
  bool caret_set = false;
  auto hex = [&](unsigned char c) {
    static const char* digits = "0123456789abcdef";
    out += "\\x";
    out += digits[c >> 4];
    out += digits[c & 15];
  };
  while (i < line.size()) {
    if (!caret_set && i >= column0) {
      *caret = out.size();
      caret_set = true;
    }
    const auto c = static_cast<unsigned char>(line[i]);
    if (c == '\t') {
      out += ' ';
      ++i;
      continue;
    }
    if (c < 0x20 || c == 0x7f) {
      hex(c);
      ++i;
      continue;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    std::size_t len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    bool valid = len != 0 && i + len <= line.size();
    for (std::size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(line[i + k]) & 0xc0) == 0x80;
    }
    if (!valid) {
      hex(c);
      ++i;
      continue;
    }
    out.append(line.substr(i, len));
    i += len;
  }
  if (!caret_set) *caret = out.size();
  return out;
}

}  // namespace

Diagnostic make_diagnostic(std::string_view text, const ast::Location& loc, std::string message) {
  Diagnostic d{loc, std::move(message), {}, 0, {}, {}};
  if (loc.line == 0 || loc.offset > text.size()) return d;
  const std::size_t begin = loc.offset - std::min(loc.offset, loc.column - 1);
  std::size_t end = text.find('\n', begin);
  if (end == std::string_view::npos) end = text.size();
  std::string_view line = text.substr(begin, end - begin);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::size_t column0 = loc.column - 1;
  // Cut very long lines to a window around the column.
  std::size_t from = 0;
  if (line.size() > kExcerptWidth) {
    from = column0 > kExcerptWidth / 2 ? column0 - kExcerptWidth / 2 : 0;
    from = std::min(from, line.size() - std::min(line.size(), kExcerptWidth));
    line = line.substr(from, kExcerptWidth);
    column0 -= std::min(column0, from);
  }
  std::size_t caret = 0;
  d.excerpt = escape_excerpt(line, column0, &caret);
  if (from > 0) {
    d.excerpt = "..." + d.excerpt;
    caret += 3;
  }
  if (from + kExcerptWidth < (end - begin)) d.excerpt += "...";
  d.caret_column = caret + 1;
  return d;
}

namespace {

std::string first_line(const Diagnostic& d, const char* severity) {
  return d.loc.file.str() + ":" + std::to_string(d.loc.line) + ":" + std::to_string(d.loc.column) + ": " +
         severity + ": " + d.message;
}

void append(std::string& out, const Diagnostic& d, const char* severity) {
  out += first_line(d, severity) + "\n";
  if (d.caret_column > 0) {
    out += "  " + d.excerpt + "\n";
    out += "  " + std::string(d.caret_column - 1, ' ') + "^\n";
  }
}

}  // namespace

std::string headline(const Diagnostic& d) { return first_line(d, "error"); }

std::string headlines(const Diagnostic& d) {
  std::string out = headline(d);
  for (const auto& n : d.notes) out += "\n" + first_line(n, "note");
  return out;
}

std::string format(const Diagnostic& d) {
  std::string out;
  append(out, d, "error");
  for (const auto& n : d.notes) append(out, n, "note");
  return out;
}

}  // namespace lcrules
