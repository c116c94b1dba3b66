#include "engine/core/check_register.hpp"

#include <string>
#include <variant>

#include "engine/core/check_decisions.hpp"
#include "engine/core/check_merge.hpp"

namespace lcrules::check {

namespace {

std::string where(const ast::Location& loc) {
  return loc.file.str() + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.column);
}

void register_file(CheckState& state, std::size_t file_index) {
  const ast::File& file = state.files[file_index];
  if (file.version && *file.version > 1) {
    state.error(file.version_loc, "this file needs language version " + std::to_string(*file.version) +
                                      ", this lcrules reads version 1");
    return;
  }
  auto& drafts = state.drafts;
  auto& macros = state.macros;
  auto& lists = state.lists;
  std::size_t position = 0;
  for (std::size_t k = 0; k < file.items.size(); ++k) {
    const ast::Item& item = file.items[k];
    if (const auto* rule = std::get_if<ast::Rule>(&item)) {
      std::size_t slot = 0;
      if (const auto i = state.draft_index->find(rule->name, drafts, slot); i != DraftIndex::kEmpty) {
        state.error(rule->loc, "rule '" + rule->name + "' is already defined at " +
                                   where(drafts[i].rule().loc) +
                                   "; to change it from here, write 'override " + rule->name + " { ... }'");
        continue;
      }
      state.draft_index->insert(slot, static_cast<std::uint32_t>(drafts.size()));
      RuleDraft& draft = drafts.emplace_back();
      draft.original = rule;
      if (state.owned != nullptr)
        draft.releasable = std::get_if<ast::Rule>(&(*state.owned)[file_index].items[k]);
      draft.file_index = file_index;
      draft.position = position++;
      check_leaves(state, *rule);
      if (rule->decide) expand_decision(state, draft.releasable ? *draft.releasable : draft.rule_to_change());
    } else if (const auto* ov = std::get_if<ast::Override>(&item)) {
      merge_override(state, *ov);
    } else if (const auto* dis = std::get_if<ast::Disable>(&item)) {
      merge_disable(state, *dis);
    } else if (const auto* macro = std::get_if<ast::Macro>(&item)) {
      if (auto it = macros.find(macro->name); it != macros.end()) {
        state.error(macro->loc,
                    "macro '" + macro->name + "' is already defined at " + where(it->second.macro->loc));
        continue;
      }
      if (lists.count(macro->name)) {
        state.error(macro->loc, "'" + macro->name + "' is already defined as a list at " +
                                    where(lists.at(macro->name).list->loc));
        continue;
      }
      macros[macro->name].macro = macro;
    } else if (const auto* list = std::get_if<ast::List>(&item)) {
      if (auto it = lists.find(list->name); it != lists.end()) {
        state.error(list->loc,
                    "list '" + list->name + "' is already defined at " + where(it->second.list->loc));
        continue;
      }
      if (macros.count(list->name)) {
        state.error(list->loc, "'" + list->name + "' is already defined as a macro at " +
                                   where(macros.at(list->name).macro->loc));
        continue;
      }
      lists[list->name].list = list;
    }
  }
}

}  // namespace

void register_definitions(CheckState& state) {
  std::size_t rule_items = 0;
  for (const auto& f : state.files) {
    for (const auto& item : f.items) rule_items += std::holds_alternative<ast::Rule>(item) ? 1 : 0;
  }
  state.drafts.reserve(rule_items);
  state.draft_index.emplace(rule_items);
  state.result.rule_set.files.reserve(state.files.size());
  register_decisions(state);
  for (std::size_t i = 0; i < state.files.size(); ++i) {
    state.result.rule_set.files.push_back(state.files[i].path);
    register_file(state, i);
  }
}

}  // namespace lcrules::check
