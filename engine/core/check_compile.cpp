#include "engine/core/check_compile.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "engine/core/check_compile_condition.hpp"
#include "engine/core/check_compile_text.hpp"

namespace lcrules::check {

namespace {

// Compiles the value of `set` into `out`, in place; on failure (false) the caller discards `out`.
bool compile_value(CheckState& state, const ast::FieldSet& set, Field field, const Scope& scope,
                   CompiledValue& out) {
  const bool boolean = field == Field::Local || field == Field::LoadImages || field == Field::PushImages;
  if (boolean) {
    if (const auto* b = std::get_if<bool>(&set.value)) {
      out = *b;
      return true;
    }
    state.error(set.loc, "field '" + set.field + "' takes true or false");
    return false;
  }
  if (field == Field::LoadCommand) {
    if (std::holds_alternative<ast::Null>(set.value)) {
      out = ast::Null{};
      return true;
    }
    const auto* pipeline = std::get_if<ast::Pipeline>(&set.value);
    if (!pipeline) {
      state.error(
          set.loc,
          "field 'load_command' takes an argv list [\"prog\", \"arg\", ...], a pipeline [...] | [...], "
          "or null");
      return false;
    }
    auto& commands = out.emplace<std::vector<std::vector<CompiledTemplate>>>();
    commands.reserve(pipeline->size());
    for (const auto& argv : *pipeline) {
      if (argv.empty()) {
        state.error(set.loc, "each command of 'load_command' needs at least the program name");
        return false;
      }
      auto& command = commands.emplace_back();
      command.reserve(argv.size());
      for (const auto& arg : argv) {
        if (!compile_template(state, arg, scope, command.emplace_back())) return false;
      }
    }
    return true;
  }
  if (std::holds_alternative<ast::Null>(set.value)) {
    if (field == Field::Cluster) {
      state.error(set.loc, "field 'cluster' takes a string (a product id such as \"kind\")");
      return false;
    }
    out = ast::Null{};
    return true;
  }
  const auto* text = std::get_if<ast::Template>(&set.value);
  if (!text) {
    state.error(set.loc,
                "field '" + set.field + "' takes a string" + (field == Field::Cluster ? "" : " or null"));
    return false;
  }
  return compile_template(state, *text, scope, out.emplace<CompiledTemplate>());
}

// Compiles `draft` into `out` (a default-constructed rule); false if it has errors.
bool compile_rule(CheckState& state, const RuleDraft& draft, CompiledRule& out) {
  const ast::Rule& r = draft.rule();
  out.name = r.name;
  out.loc = r.loc;
  out.priority = r.priority.value_or(100);
  if (out.priority < 0 || out.priority > 1000) {
    state.error(r.priority_loc, "priority " + std::to_string(out.priority) + " is out of range 0..1000");
  }
  out.stage = r.stage.value_or(ast::Stage::Identify);
  out.description = r.description.value_or("");
  out.timeout_seconds = r.timeout_seconds;
  if (r.timeout_seconds && *r.timeout_seconds <= 0) {
    state.error(r.loc, "rule '" + r.name + "': a timeout must be more than 0 seconds");
  }
  out.file_index = draft.file_index;
  out.position = draft.position;
  out.changed_by = draft.changed_by;
  out.disabled_by = draft.disabled_by;

  std::vector<std::string>& bound = state.bound;
  std::vector<std::pair<std::string_view, const ast::Location*>>& uses = state.uses;
  bound.clear();
  uses.clear();
  Scope scope{&out.name, out.stage == ast::Stage::Policy, false, &bound, &uses};
  reset_budget(state, r.when ? r.when->loc : r.loc);
  bool ok = true;
  if (r.when) {
    auto when = std::make_unique<ConditionNode>();
    if (!compile_condition(state, *r.when, scope, false, 0, *when)) ok = false;
    out.when = std::move(when);
  }
  std::uint32_t seen_fields = 0;
  out.sets.reserve(r.sets.size());
  for (const auto& set : r.sets) {
    auto field = parse_field(set.field);
    if (!field) {
      state.error(
          set.loc,
          "unknown field '" + set.field +
              "' (fields: cluster, local, cluster_name, load_images, push_images, load_command, registry)");
      ok = false;
      continue;
    }
    if (seen_fields & field_bit(*field)) {
      state.error(set.loc, "rule '" + r.name + "' sets '" + set.field + "' twice");
      ok = false;
      continue;
    }
    seen_fields |= field_bit(*field);
    CompiledSet& compiled = out.sets.emplace_back();
    compiled.field = *field;
    if (!compile_value(state, set, *field, scope, compiled.value)) {
      out.sets.pop_back();
      ok = false;
      continue;
    }
    compiled.loc = set.loc;
    out.field_mask |= field_bit(*field);
  }
  for (const auto& leave : r.leaves) {
    if (auto field = parse_field(leave.field)) out.leave_mask |= field_bit(*field);
  }
  out.notes.reserve(r.notes.size());
  for (const auto& note : r.notes) {
    if (!compile_template(state, note.text, scope, out.notes.emplace_back())) {
      out.notes.pop_back();
      ok = false;
    }
  }
  for (const auto& [name_view, loc] : uses) {
    if (std::find(bound.begin(), bound.end(), name_view) == bound.end()) {
      const std::string name(name_view);
      state.error(*loc, "capture '" + name + "' does not exist: no regex of rule '" + r.name +
                            "' outside 'not' has a group (?<" + name + ">...)");
      ok = false;
    }
  }
  return ok;
}

// After a rule is compiled nothing reads its syntax tree again (every override and
// duplicate was merged before compiling; errors copy their locations).
void release_syntax(RuleDraft& draft) {
  draft.changed.reset();
  if (draft.releasable != nullptr) {
    { const ast::Rule released = std::move(*draft.releasable); }  // frees long strings too
    *draft.releasable = ast::Rule{};                              // nothing moved-from is left in the file
  }
}

}  // namespace

void compile_macros(CheckState& state) {
  for (auto& [name, def] : state.macros) compile_macro(state, def);
}

CompiledDrafts compile_rules(CheckState& state) {
  // Rules are compiled in definition order: the syntax trees are read in the order they
  // were built, errors come out in that order, and each tree is released as soon as its
  // rule is compiled (when the checker owns the files). Phase 4 then moves the compiled
  // rules into evaluation order.
  const std::size_t n = state.drafts.size();
  CompiledDrafts out{std::vector<CompiledDrafts::Key>(n), std::vector<CompiledRule>(n),
                     std::vector<bool>(n, false)};
  for (std::size_t i = 0; i < n; ++i) {
    RuleDraft& d = state.drafts[i];
    const ast::Rule& r = d.rule();
    out.keys[i] = CompiledDrafts::Key{r.stage.value_or(ast::Stage::Identify), r.priority.value_or(100),
                                      d.file_index, d.position};
    out.ok[i] = compile_rule(state, d, out.rules[i]);
    release_syntax(d);
  }
  return out;
}

}  // namespace lcrules::check
