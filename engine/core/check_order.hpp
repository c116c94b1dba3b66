// Phase 4 of checking: moves the compiled rules into the rule set in evaluation order
// (stage, then higher priority, then later file, then position in the file), leaving out
// rules with errors; lists the enabled ones in `active`, and records in
// `allocation_order` the order their contents were allocated (definition order).
#pragma once

#include "engine/core/check_compile.hpp"
#include "engine/core/check_state.hpp"

namespace lcrules::check {

void order_rules(CheckState& state, CompiledDrafts&& compiled);

}  // namespace lcrules::check
