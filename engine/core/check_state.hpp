// What the checker's phases share (see checker.cpp for the order they run in): the files
// being checked, the result being built and its errors, the rule drafts found by name, the
// macro and list definitions, and the compile phase's scratch space.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/checker.hpp"
#include "engine/core/ruleset.hpp"
#include "grammar/ast.hpp"

namespace lcrules::check {

struct MacroDef {
  const ast::Macro* macro = nullptr;
  std::optional<ConditionNode> compiled;  // set once compiled
  bool compiling = false;
  bool failed = false;
};

struct ListDef {
  const ast::List* list = nullptr;
};

struct DecisionDef {
  const ast::Decision* decision = nullptr;
  bool failed = false;  // has errors: rules that use it are not expanded
};

struct RuleDraft {
  // The parsed rule, copied only when an override changes it (most rules are never
  // overridden, and copying every syntax tree was a large part of checking).
  const ast::Rule* original = nullptr;
  std::unique_ptr<ast::Rule> changed;
  // Set when the checker owns the files: the rule's syntax tree, released once compiled.
  ast::Rule* releasable = nullptr;
  const ast::Rule& rule() const { return changed ? *changed : *original; }
  ast::Rule& rule_to_change() {
    if (!changed) changed = std::make_unique<ast::Rule>(*original);
    return *changed;
  }
  std::size_t file_index = 0;
  std::size_t position = 0;
  std::vector<ast::Location> changed_by;
  std::optional<ast::Location> disabled_by;
};

// Rule drafts by name: an open-addressing table of indexes into the drafts (which are
// stored in definition order), sized once for every rule the files define. No allocation
// per rule, unlike a node-based map.
class DraftIndex {
 public:
  explicit DraftIndex(std::size_t rules) {
    std::size_t size = 16;
    while (size < rules * 2) size *= 2;
    slots_.assign(size, kEmpty);
  }
  // The index stored for `name`, or kEmpty; `slot` is where it is or would go.
  std::uint32_t find(std::string_view name, const std::vector<RuleDraft>& drafts, std::size_t& slot) const {
    const std::size_t mask = slots_.size() - 1;
    for (slot = std::hash<std::string_view>{}(name)&mask;; slot = (slot + 1) & mask) {
      const std::uint32_t i = slots_[slot];
      if (i == kEmpty || drafts[i].original->name == name) return i;
    }
  }
  void insert(std::size_t slot, std::uint32_t index) { slots_[slot] = index; }
  static constexpr std::uint32_t kEmpty = UINT32_MAX;

 private:
  std::vector<std::uint32_t> slots_;
};

struct CheckState {
  explicit CheckState(const std::vector<ast::File>& checked) : files(checked) {}
  // Owning the files, the checker frees each rule's syntax tree as soon as the rule is
  // compiled, so the compiled rules reuse that memory while it is still in the processor's
  // caches instead of taking fresh pages: what loading costs per rule then depends much
  // less on how many rules there are.
  explicit CheckState(std::vector<ast::File>& owned_files) : files(owned_files), owned(&owned_files) {}

  // Reports `message` at `loc`, quoting the line from the file's text when it is kept.
  void error(const ast::Location& loc, std::string message);
  // An error about an unknown name: " (did you mean 'SUGGESTION'?)" is appended to the
  // message when there is a suggestion.
  void error(const ast::Location& loc, std::string message, const std::optional<std::string>& suggestion);
  // The name of a rule defined so far that `name` may be a typo of.
  std::optional<std::string> closest_rule(std::string_view name) const;
  // The macro or list name `name` may be a typo of.
  std::optional<std::string> closest_macro(std::string_view name) const;
  std::optional<std::string> closest_list(std::string_view name) const;
  std::optional<std::string> closest_decision(std::string_view name) const;
  // The draft of the rule called `name`, or null.
  RuleDraft* find_draft(std::string_view name) {
    std::size_t slot = 0;
    const auto i = draft_index->find(name, drafts, slot);
    return i == DraftIndex::kEmpty ? nullptr : &drafts[i];
  }

  const std::vector<ast::File>& files;
  std::vector<ast::File>* owned = nullptr;  // the same files, when the checker may release them
  CheckResult result;
  // The condition being compiled: how many nodes it has expanded to, and where it starts.
  std::size_t nodes_compiled = 0;
  bool budget_exceeded = false;
  ast::Location budget_root;
  // In definition order, found by name through draft_index (looked up once per rule,
  // override and disable).
  std::vector<RuleDraft> drafts;
  std::optional<DraftIndex> draft_index;
  // Captures bound and `${match.*}` uses of the rule being compiled (kept to reuse their
  // storage from rule to rule).
  std::vector<std::string> bound;
  std::vector<std::pair<std::string_view, const ast::Location*>> uses;
  std::map<std::string, MacroDef> macros;
  std::map<std::string, ListDef> lists;
  std::map<std::string, DecisionDef, std::less<>> decisions;
};

}  // namespace lcrules::check
