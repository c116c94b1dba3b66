// Phase 1 of checking: walks the files in load order and registers their definitions:
// rule drafts (by name, in definition order), macros and lists, reporting a name defined
// twice and a file that needs a newer language version. Overrides and disables go to
// phase 2 (check_merge.hpp) as they are met, since they may only name rules defined
// before them.
#pragma once

#include "engine/core/check_state.hpp"

namespace lcrules::check {

void register_definitions(CheckState& state);

}  // namespace lcrules::check
