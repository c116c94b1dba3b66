#include "engine/core/check_state.hpp"

#include "grammar/diagnostic.hpp"

namespace lcrules::check {

void CheckState::error(const ast::Location& loc, std::string message) {
  std::string_view text;
  for (const auto& f : files) {
    if (f.path == loc.file && f.text) text = *f.text;
  }
  result.errors.push_back(make_diagnostic(text, loc, std::move(message)));
}

}  // namespace lcrules::check
