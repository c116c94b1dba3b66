// Decision blocks (phase 1 of checking, with the registration of rules): `decision NAME(PARAM, ...)`
// items are registered by name across every file first, so that a rule of any file can
// use one; then each rule's `decide NAME("ARG", ...)` is replaced by the decision's `set`
// lines and notes with every `${PARAM}` replaced by its argument's text, and its `leave`
// fields drop the decision's sets of them. After this a rule is exactly what its `set`
// lines written out would be: overrides, compiling and evaluation never see a decision.
#pragma once

#include "engine/core/check_state.hpp"

namespace lcrules::check {

// Registers every decision of every file (errors: a name defined twice, a parameter named
// like a fact or template name, `${NAME}` inside a decision naming no parameter).
void register_decisions(CheckState& state);

// Errors for a field the rule both sets and leaves.
void check_leaves(CheckState& state, const ast::Rule& rule);

// Expands the rule's `decide` into its sets and notes: the decision's fields in its order
// (a field the rule sets itself keeps the rule's value, a field it leaves is dropped), then
// the rule's other fields; the decision's notes, then the rule's. `rule` is the draft's
// syntax tree, changed in place.
void expand_decision(CheckState& state, ast::Rule& rule);

}  // namespace lcrules::check
