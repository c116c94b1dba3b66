// Phase 3 of checking: compiles the macros on their own, then every rule draft in
// definition order into a CompiledRule: its condition (check_compile_condition.hpp), the
// fields it sets, its notes, and the captures it uses. When the checker owns the files,
// each rule's syntax tree is freed as soon as the rule is compiled.
#pragma once

#include <cstddef>
#include <vector>

#include "engine/core/check_state.hpp"

namespace lcrules::check {

// Phase 3's output for phase 4, indexed like CheckState::drafts (definition order).
struct CompiledDrafts {
  // What evaluation order sorts by, read before the syntax tree is freed.
  struct Key {
    ast::Stage stage;
    int priority;
    std::size_t file_index;
    std::size_t position;
  };
  std::vector<Key> keys;
  std::vector<CompiledRule> rules;
  std::vector<bool> ok;  // false: the rule has errors and is left out of the set
};

void compile_macros(CheckState& state);
CompiledDrafts compile_rules(CheckState& state);

}  // namespace lcrules::check
