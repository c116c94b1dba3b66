#include "engine/core/check_merge.hpp"

#include <algorithm>

namespace lcrules::check {

namespace {

void apply_override(CheckState& state, RuleDraft& draft, const ast::Override& ov) {
  ast::Rule& r = draft.rule_to_change();
  if (ov.priority) {
    r.priority = ov.priority;
    r.priority_loc = ov.priority_loc;
  }
  if (ov.stage) r.stage = ov.stage;
  if (ov.description) r.description = ov.description;
  if (ov.timeout_seconds) r.timeout_seconds = ov.timeout_seconds;
  if (ov.replace_when) r.when = ov.replace_when;
  for (const auto& extra : ov.append_when) {
    if (!r.when) {
      r.when = extra;
      continue;
    }
    ast::Condition both{ast::Conjunction{{*r.when, extra}}, extra.loc};
    r.when = std::move(both);
  }
  for (const auto& unset : ov.unsets) {
    auto it =
        std::find_if(r.sets.begin(), r.sets.end(), [&](const auto& s) { return s.field == unset.field; });
    if (it == r.sets.end()) {
      state.error(unset.loc,
                  "rule '" + r.name + "' does not set '" + unset.field + "', so it cannot be unset");
      continue;
    }
    r.sets.erase(it);
    // An unset field falls through on purpose, as with `leave`.
    r.leaves.push_back(ast::FieldSet{unset.field, ast::Null{}, unset.loc});
  }
  for (const auto& set : ov.sets) {
    r.leaves.erase(
        std::remove_if(r.leaves.begin(), r.leaves.end(), [&](const auto& l) { return l.field == set.field; }),
        r.leaves.end());
    auto it = std::find_if(r.sets.begin(), r.sets.end(), [&](const auto& s) { return s.field == set.field; });
    if (it != r.sets.end()) {
      *it = set;
    } else {
      r.sets.push_back(set);
    }
  }
  for (const auto& note : ov.notes) r.notes.push_back(note);
  draft.changed_by.push_back(ov.loc);
}

}  // namespace

void merge_override(CheckState& state, const ast::Override& ov) {
  RuleDraft* draft = state.find_draft(ov.name);
  if (draft == nullptr) {
    state.error(ov.loc, "override names no rule defined earlier: '" + ov.name + "'",
                state.closest_rule(ov.name));
    return;
  }
  apply_override(state, *draft, ov);
}

void merge_disable(CheckState& state, const ast::Disable& dis) {
  RuleDraft* draft = state.find_draft(dis.name);
  if (draft == nullptr) {
    state.error(dis.loc, "disable names no rule defined earlier: '" + dis.name + "'",
                state.closest_rule(dis.name));
    return;
  }
  draft->disabled_by = dis.loc;
  draft->changed_by.push_back(dis.loc);
}

}  // namespace lcrules::check
