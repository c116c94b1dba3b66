// "Did you mean": the known name closest to an unknown one, for diagnostics of the
// language (keywords, properties, fields, facts, rules, macros, lists) and of the command
// line (subcommands, flags).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lcrules {

// Optimal string alignment distance (Damerau-Levenshtein where no substring is edited
// twice): insertions, deletions, substitutions and swaps of two neighbouring bytes each
// cost 1. `nmae` -> `name` is 1, `priorty` -> `priority` is 1.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The largest distance at which a name of `length` bytes still suggests another:
// max(1, length / 3). Short names allow one typo; `context.nmae` allows four.
std::size_t suggestion_threshold(std::size_t length);

// The candidate closest to `word` (compared ignoring ASCII case, then with it), if it is
// within suggestion_threshold(word.size()) edits and is not `word` itself. Ties go to the
// candidate that sorts first, so the answer does not depend on the candidates' order.
std::optional<std::string> closest_name(std::string_view word,
                                        const std::vector<std::string_view>& candidates);
std::optional<std::string> closest_name(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean 'NAME'?)" for a suggestion, "" for none: appended to a message.
std::string did_you_mean(const std::optional<std::string>& suggestion);

}  // namespace lcrules
