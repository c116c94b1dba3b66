#include "lcrules/format.hpp"

#include <utility>

#include "grammar/formatter.hpp"

namespace lcrules {

Result<std::string> format_rules(std::string_view text, const std::string& file_name) {
  FormatResult r = format_rules_text(text, file_name);
  if (r.error) {
    const Diagnostic& d = *r.error;
    Error e = Error::at(ErrorKind::RuleFiles, d.loc.file, d.loc.line, d.loc.column, d.message);
    if (d.loc.line > 0) e.text = format(d);  // else "FILE: error: MESSAGE"
    return e;
  }
  return std::move(*r.text);
}

}  // namespace lcrules
