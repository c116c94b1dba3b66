// Part of phase 3 of checking (check_compile.hpp): the leaves of conditions and values.
// Compiles templates (resolving the facts and captures they read), regexes (checked at
// load time, compiled again on first use), and string tests with their operands (text,
// regex, list literal or named list).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/check_state.hpp"

namespace lcrules::check {

struct Scope {
  const std::string* rule_name = nullptr;  // null inside a macro definition
  bool policy = false;
  bool allow_item = false;
  std::vector<std::string>* bound_captures = nullptr;  // captures the condition binds
  // `${match.NAME}` uses: NAME and where, both in the syntax tree (which outlives the checker).
  std::vector<std::pair<std::string_view, const ast::Location*>>* capture_uses = nullptr;
};

// Compiles `t` into `out` (empty), in place; on failure (false) the caller discards `out`.
bool compile_template(CheckState& state, const ast::Template& t, const Scope& scope, CompiledTemplate& out);

// A fact a predicate reads: known, and readable in this rule's stage. Reports the error
// at `loc` and returns nullopt otherwise.
std::optional<FactRef> resolve_readable_fact(CheckState& state, const std::string& name,
                                             const ast::Location& loc, const Scope& scope);

// Fills `out` in place (moving the results out of optionals showed in the profile); on
// failure (false) the caller discards `out`. Regexes outside 'not' bind their named groups.
bool compile_string_test(CheckState& state, const ast::StringTest& t, const Scope& scope, bool under_not,
                         CompiledStringTest& out);

}  // namespace lcrules::check
