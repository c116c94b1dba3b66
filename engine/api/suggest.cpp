#include "lcrules/suggest.hpp"

#include "grammar/suggest.hpp"

namespace lcrules {

std::optional<std::string> suggest_name(std::string_view word, const std::vector<std::string>& candidates) {
  return closest_name(word, candidates);
}

}  // namespace lcrules
