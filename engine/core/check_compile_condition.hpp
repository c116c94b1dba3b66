// Part of phase 3 of checking (check_compile.hpp): conditions. Compiles a rule's or a
// macro's condition tree, expanding each macro call in the caller's scope (reporting
// recursion, deep nesting and conditions that grow past a size budget) and compiling the
// command predicates.
#pragma once

#include <cstddef>

#include "engine/core/check_compile_text.hpp"
#include "engine/core/check_state.hpp"

namespace lcrules::check {

// Starts the size budget of one condition, whose errors are reported at `root`.
void reset_budget(CheckState& state, const ast::Location& root);

// Compiles `c` into `node`, in place: ConditionNode is large, and building each node in
// an optional and moving it into its parent cost as much as filling it. On failure
// (false) `node` is left partly filled; callers then discard the whole condition.
bool compile_condition(CheckState& state, const ast::Condition& c, const Scope& scope, bool under_not,
                       std::size_t depth, ConditionNode& node);

// Checks a macro on its own, so an error in an unused macro is still reported; marks it
// failed if it has errors.
void compile_macro(CheckState& state, MacroDef& def);

}  // namespace lcrules::check
