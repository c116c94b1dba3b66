// Unified diffs of two texts, line by line, for `lcrules fmt --diff` (no external `diff`).
#pragma once

#include <string>
#include <string_view>

namespace lcrules::cli {

// "--- OLD_NAME\n+++ NEW_NAME\n@@ -l,n +l,n @@\n..." with 3 lines of context; "" when the
// texts are equal. A last line without a newline is marked "\ No newline at end of file".
std::string unified_diff(std::string_view old_text, std::string_view new_text, const std::string& old_name,
                         const std::string& new_name);

}  // namespace lcrules::cli
