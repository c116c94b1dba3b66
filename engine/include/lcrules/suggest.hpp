// lcrules' public API: "did you mean" for a name that is not known, chosen as lcrules' own
// diagnostics choose it, for a program built on lcrules to check its own arguments.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lcrules {

// The candidate closest to `word` within max(1, length / 3) edits (insertions, deletions,
// substitutions, swaps of neighbours; case counts only to break ties), or nothing. Ties go
// to the candidate that sorts first.
std::optional<std::string> suggest_name(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace lcrules
