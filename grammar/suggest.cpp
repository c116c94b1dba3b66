#include "grammar/suggest.hpp"

#include <algorithm>
#include <tuple>

namespace lcrules {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

template <bool IgnoreCase>
std::size_t distance(std::string_view a, std::string_view b) {
  const auto same = [](char x, char y) { return IgnoreCase ? lower(x) == lower(y) : x == y; };
  // Three rows of the dynamic-programming table: i - 2, i - 1 and i.
  const std::size_t n = b.size();
  std::vector<std::size_t> before(n + 1), prev(n + 1), cur(n + 1);
  for (std::size_t j = 0; j <= n; ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= n; ++j) {
      const std::size_t cost = same(a[i - 1], b[j - 1]) ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1])) {
        cur[j] = std::min(cur[j], before[j - 2] + 1);
      }
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[n];
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) { return distance<false>(a, b); }

std::size_t suggestion_threshold(std::size_t length) { return std::max<std::size_t>(1, length / 3); }

std::optional<std::string> closest_name(std::string_view word,
                                        const std::vector<std::string_view>& candidates) {
  const std::size_t limit = suggestion_threshold(word.size());
  std::optional<std::tuple<std::size_t, std::size_t, std::string_view>> best;  // folded, exact, name
  for (const std::string_view c : candidates) {
    if (c == word || c.empty()) continue;
    // Lengths that differ by more than the limit cannot be within it.
    const std::size_t gap = c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
    if (gap > limit) continue;
    const std::size_t folded = distance<true>(word, c);
    if (folded > limit) continue;
    const auto key = std::make_tuple(folded, distance<false>(word, c), c);
    if (!best || key < *best) best = key;
  }
  if (!best) return std::nullopt;
  return std::string(std::get<2>(*best));
}

std::optional<std::string> closest_name(std::string_view word, const std::vector<std::string>& candidates) {
  return closest_name(word, std::vector<std::string_view>(candidates.begin(), candidates.end()));
}

std::string did_you_mean(const std::optional<std::string>& suggestion) {
  return suggestion ? " (did you mean '" + *suggestion + "'?)" : std::string();
}

}  // namespace lcrules
