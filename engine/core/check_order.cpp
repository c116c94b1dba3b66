#include "engine/core/check_order.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <utility>
#include <vector>

namespace lcrules::check {

namespace {

// --- The decision fields a rule reads ----------------------------------------------------

void template_reads(const CompiledTemplate& t, std::uint32_t& mask);

void fact_reads(const FactRef& f, std::uint32_t& mask) {
  if (f.kind != FactRef::Kind::Decision) return;
  if (const auto field = parse_field(f.key)) mask |= field_bit(*field);
}

void template_reads(const CompiledTemplate& t, std::uint32_t& mask) {
  for (const auto& part : t.parts) {
    if (const auto* ref = std::get_if<CompiledReference>(&part)) {
      fact_reads(ref->fact, mask);
      if (ref->argument) template_reads(*ref->argument, mask);
    }
  }
}

void test_reads(const CompiledStringTest& t, std::uint32_t& mask) {
  template_reads(t.text, mask);
  if (t.list) {
    for (const auto& item : t.list->items) template_reads(item, mask);
  }
}

void condition_reads(const ConditionNode& n, std::uint32_t& mask) {
  using Kind = ConditionNode::Kind;
  if (n.kind == Kind::Fact || n.kind == Kind::IsSet) fact_reads(n.fact, mask);
  if (n.kind == Kind::Fact || n.kind == Kind::Value) test_reads(n.test, mask);
  if (n.subject) template_reads(*n.subject, mask);
  if (n.command) {
    for (const auto& arg : n.command->argv) template_reads(arg, mask);
    if (n.command->projection) template_reads(*n.command->projection, mask);
    if (n.command->string_test) test_reads(*n.command->string_test, mask);
  }
  for (const auto& c : n.children) condition_reads(c, mask);
}

std::uint32_t decision_reads(const CompiledRule& r) {
  std::uint32_t mask = 0;
  if (r.when) condition_reads(*r.when, mask);
  for (const auto& set : r.sets) {
    if (const auto* t = std::get_if<CompiledTemplate>(&set.value)) {
      template_reads(*t, mask);
    } else if (const auto* pipeline = std::get_if<std::vector<std::vector<CompiledTemplate>>>(&set.value)) {
      for (const auto& argv : *pipeline) {
        for (const auto& arg : argv) template_reads(arg, mask);
      }
    }
  }
  for (const auto& note : r.notes) template_reads(note, mask);
  return mask;
}

std::string fields_list(std::uint32_t mask) {
  std::string out;
  for (std::size_t f = 0; f < kFieldCount; ++f) {
    if (mask & (1u << f))
      out += (out.empty() ? "decision." : ", decision.") + std::string(field_name(static_cast<Field>(f)));
  }
  return out;
}

// --- Dependency order of the policy rules -------------------------------------------------

// `rules` are the policy rules in priority order. Returns them in an order where, for each
// field F a rule reads, every other rule that sets F comes first; among the rules free to
// go next, the one first in priority order. On a cycle, reports it and returns priority order.
std::vector<std::size_t> dependency_order(CheckState& state, const std::vector<const CompiledRule*>& rules) {
  const std::size_t n = rules.size();
  std::array<std::vector<std::size_t>, kFieldCount> setters, readers;  // enabled rules, by field
  for (std::size_t i = 0; i < n; ++i) {
    if (rules[i]->disabled_by) continue;
    for (std::size_t f = 0; f < kFieldCount; ++f) {
      if (rules[i]->field_mask & (1u << f)) setters[f].push_back(i);
      if (rules[i]->reads_mask & (1u << f)) readers[f].push_back(i);
    }
  }
  std::vector<std::size_t> waiting(n, 0);  // (setter, field) pairs each rule still waits for
  for (std::size_t f = 0; f < kFieldCount; ++f) {
    for (const std::size_t r : readers[f]) {
      for (const std::size_t s : setters[f]) waiting[r] += s != r;
    }
  }
  std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> free;
  for (std::size_t i = 0; i < n; ++i) {
    if (waiting[i] == 0) free.push(i);
  }
  std::vector<std::size_t> order;
  order.reserve(n);
  std::vector<bool> placed(n, false);
  while (!free.empty()) {
    const std::size_t next = free.top();
    free.pop();
    placed[next] = true;
    order.push_back(next);
    for (std::size_t f = 0; f < kFieldCount; ++f) {
      if (!(rules[next]->field_mask & (1u << f)) || rules[next]->disabled_by) continue;
      for (const std::size_t r : readers[f]) {
        if (r != next && --waiting[r] == 0) free.push(r);
      }
    }
  }
  if (order.size() == n) return order;

  // A cycle. Report it at the rule defined last (most likely the one just written) that lies
  // on one, with its shortest cycle, the story starting there: each rule reads a field the
  // next one sets. Rules left waiting only behind a cycle lie on none; a shortest cycle keeps
  // unrelated rules (other files' policy rules that read and set the same fields) out of it.
  auto waits_on = [&](std::size_t r) {  // the unplaced setters of the fields r reads
    std::vector<std::size_t> out;
    for (std::size_t f = 0; f < kFieldCount; ++f) {
      if (!(rules[r]->reads_mask & (1u << f))) continue;
      for (const std::size_t s : setters[f]) {
        if (s != r && !placed[s] && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
      }
    }
    return out;
  };
  auto later = [&](std::size_t a, std::size_t b) {
    const CompiledRule& x = *rules[a];
    const CompiledRule& y = *rules[b];
    return x.file_index != y.file_index ? x.file_index > y.file_index : x.position > y.position;
  };
  std::vector<std::size_t> waiting_rules;
  for (std::size_t i = 0; i < n; ++i) {
    if (!placed[i]) waiting_rules.push_back(i);
  }
  std::sort(waiting_rules.begin(), waiting_rules.end(), later);
  std::vector<std::size_t> cycle;
  for (const std::size_t first : waiting_rules) {
    // Breadth first from `first` until a rule waits on `first` again.
    std::vector<std::size_t> came_from(n, n);
    std::queue<std::size_t> queue;
    queue.push(first);
    came_from[first] = first;
    while (!queue.empty() && cycle.empty()) {
      const std::size_t at = queue.front();
      queue.pop();
      for (const std::size_t next : waits_on(at)) {
        if (next == first) {
          for (std::size_t r = at; r != first; r = came_from[r]) cycle.push_back(r);
          cycle.push_back(first);
          std::reverse(cycle.begin(), cycle.end());
          break;
        }
        if (came_from[next] == n) {
          came_from[next] = at;
          queue.push(next);
        }
      }
    }
    if (!cycle.empty()) break;
  }
  std::string names;
  for (std::size_t i = 0; i < cycle.size(); ++i) {
    names += (i == 0 ? "" : i + 1 == cycle.size() ? " and " : ", ") + ("\"" + rules[cycle[i]]->name + "\"");
  }
  std::string story;
  for (std::size_t i = 0; i < cycle.size(); ++i) {
    const CompiledRule& reader = *rules[cycle[i]];
    const CompiledRule& setter = *rules[cycle[(i + 1) % cycle.size()]];
    story += (i == 0                  ? ""
              : i + 1 == cycle.size() ? ", and "
                                      : ", ") +
             ("\"" + reader.name + "\" reads ") + fields_list(reader.reads_mask & setter.field_mask) +
             ", which \"" + setter.name + "\" sets";
  }
  state.error(rules[cycle[0]]->loc, "policy rules " + names + " depend on each other: " + story);
  order.clear();
  for (std::size_t i = 0; i < n; ++i) order.push_back(i);
  return order;
}

}  // namespace

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
  // Rules with errors are left out.
  order.erase(std::remove_if(order.begin(), order.end(), [&](std::size_t i) { return !compiled.ok[i]; }),
              order.end());
  // Each rule's rank in its stage's priority order; then the policy rules in dependency order.
  const auto policy_begin = std::find_if(
      order.begin(), order.end(), [&keys](std::size_t i) { return keys[i].stage == ast::Stage::Policy; });
  std::uint32_t rank = 0;
  for (auto it = order.begin(); it != order.end(); ++it) {
    if (it == policy_begin) rank = 0;
    compiled.rules[*it].rank = rank++;
  }
  std::vector<const CompiledRule*> policy;
  for (auto it = policy_begin; it != order.end(); ++it) {
    CompiledRule& r = compiled.rules[*it];
    r.reads_mask = decision_reads(r);
    policy.push_back(&r);
  }
  if (!policy.empty()) {
    const std::vector<std::size_t> by_dependency = dependency_order(state, policy);
    const std::vector<std::size_t> by_priority(policy_begin, order.end());
    for (std::size_t i = 0; i < by_dependency.size(); ++i) {
      *(policy_begin + static_cast<std::ptrdiff_t>(i)) = by_priority[by_dependency[i]];
    }
  }
  // `rules` is reserved, so `active` can point into it.
  auto& rules = state.result.rule_set.rules;
  rules.reserve(order.size());
  state.result.rule_set.active.reserve(order.size());
  std::vector<std::uint32_t> slot_of(n, UINT32_MAX);
  for (const std::size_t i : order) {
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
