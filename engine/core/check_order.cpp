#include "engine/core/check_order.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace lcrules::check {

void order_rules(CheckState& state, CompiledDrafts&& compiled) {
  // Moving a CompiledRule copies its fields, not what they own.
  const std::size_t n = compiled.rules.size();
  const auto& keys = compiled.keys;
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&keys](std::size_t ia, std::size_t ib) {
    const CompiledDrafts::Key& a = keys[ia];
    const CompiledDrafts::Key& b = keys[ib];
    if (a.stage != b.stage) return a.stage < b.stage;
    if (a.priority != b.priority) return a.priority > b.priority;
    if (a.file_index != b.file_index) return a.file_index > b.file_index;
    return a.position < b.position;
  });
  // Rules with errors are left out. `rules` is reserved, so `active` can point into it.
  auto& rules = state.result.rule_set.rules;
  rules.reserve(n);
  state.result.rule_set.active.reserve(n);
  std::vector<std::uint32_t> slot_of(n, UINT32_MAX);
  for (const std::size_t i : order) {
    if (!compiled.ok[i]) continue;
    slot_of[i] = static_cast<std::uint32_t>(rules.size());
    rules.push_back(std::move(compiled.rules[i]));
    if (!state.drafts[i].disabled_by) state.result.rule_set.active.push_back(&rules.back());
  }
  auto& allocation_order = state.result.rule_set.allocation_order;
  allocation_order.reserve(rules.size());
  for (const std::uint32_t slot : slot_of) {
    if (slot != UINT32_MAX) allocation_order.push_back(slot);
  }
}

}  // namespace lcrules::check
