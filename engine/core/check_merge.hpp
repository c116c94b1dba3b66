// Phase 2 of checking: overrides and disables. Each one changes the draft of a rule
// defined before it (an override copies the rule's syntax tree the first time it changes
// it). Phase 1 hands them over as it meets them in the files, so a name is looked up
// among the rules defined so far and errors come out in the order of the files.
#pragma once

#include "engine/core/check_state.hpp"
#include "grammar/ast.hpp"

namespace lcrules::check {

void merge_override(CheckState& state, const ast::Override& ov);
void merge_disable(CheckState& state, const ast::Disable& dis);

}  // namespace lcrules::check
