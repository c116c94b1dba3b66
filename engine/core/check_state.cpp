#include "engine/core/check_state.hpp"

#include "grammar/diagnostic.hpp"
#include "grammar/suggest.hpp"

namespace lcrules::check {

void CheckState::error(const ast::Location& loc, std::string message) {
  std::string_view text;
  for (const auto& f : files) {
    if (f.path == loc.file && f.text) text = *f.text;
  }
  result.errors.push_back(make_diagnostic(text, loc, std::move(message)));
}

namespace {

template <typename Map>
std::optional<std::string> closest_key(std::string_view name, const Map& map) {
  std::vector<std::string_view> keys;
  keys.reserve(map.size());
  for (const auto& [key, value] : map) keys.emplace_back(key);
  return closest_name(name, keys);
}

}  // namespace

std::optional<std::string> CheckState::closest_rule(std::string_view name) const {
  std::vector<std::string_view> names;
  names.reserve(drafts.size());
  for (const auto& d : drafts) names.emplace_back(d.original->name);
  return closest_name(name, names);
}

std::optional<std::string> CheckState::closest_macro(std::string_view name) const {
  return closest_key(name, macros);
}

std::optional<std::string> CheckState::closest_list(std::string_view name) const {
  return closest_key(name, lists);
}

std::optional<std::string> CheckState::closest_decision(std::string_view name) const {
  return closest_key(name, decisions);
}

void CheckState::error(const ast::Location& loc, std::string message,
                       const std::optional<std::string>& suggestion) {
  error(loc, std::move(message) + did_you_mean(suggestion));
  if (suggestion) result.errors.back().suggestion = *suggestion;
}

}  // namespace lcrules::check
