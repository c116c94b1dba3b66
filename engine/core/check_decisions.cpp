#include "engine/core/check_decisions.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace lcrules::check {

namespace {

std::string where(const ast::Location& loc) {
  return loc.file.str() + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.column);
}

// Names a parameter cannot take: the first segment of every fact, and the template names.
constexpr std::array<std::string_view, 10> kTakenNames = {
    "context", "cluster", "user", "env", "skaffold", "option", "kubeconfig", "decision", "match", "item"};

bool is_parameter_name(std::string_view name) { return name.find('.') == std::string_view::npos; }

std::string parameter_list(const ast::Decision& d) {
  if (d.params.empty()) return "it has no parameters";
  std::string out = "parameters: ";
  for (std::size_t i = 0; i < d.params.size(); ++i) out += (i ? ", " : "") + d.params[i];
  return out;
}

// Reports every `${NAME}` (no dot) in `t` that is not a parameter of `d`; false if any.
bool check_references(CheckState& state, const ast::Decision& d, const ast::Template& t) {
  bool ok = true;
  for (const auto& part : t.parts) {
    const auto* ref = std::get_if<ast::Reference>(&part);
    if (ref == nullptr) continue;
    if (is_parameter_name(ref->name) &&
        std::find(d.params.begin(), d.params.end(), ref->name) == d.params.end()) {
      state.error(ref->loc, "'${" + ref->name + "}' names no parameter of decision '" + d.name + "' (" +
                                parameter_list(d) + ")");
      ok = false;
    }
    if (ref->argument && !check_references(state, d, *ref->argument)) ok = false;
  }
  return ok;
}

bool check_value_references(CheckState& state, const ast::Decision& d, const ast::Value& v) {
  if (const auto* t = std::get_if<ast::Template>(&v)) return check_references(state, d, *t);
  bool ok = true;
  if (const auto* pipeline = std::get_if<ast::Pipeline>(&v)) {
    for (const auto& argv : *pipeline) {
      for (const auto& arg : argv) ok = check_references(state, d, arg) && ok;
    }
  }
  return ok;
}

bool check_decision(CheckState& state, const ast::Decision& d) {
  bool ok = true;
  for (std::size_t i = 0; i < d.params.size(); ++i) {
    if (std::find(kTakenNames.begin(), kTakenNames.end(), d.params[i]) != kTakenNames.end()) {
      state.error(d.param_locs[i], "a decision parameter cannot be called '" + d.params[i] +
                                       "': facts and templates use that name");
      ok = false;
    }
  }
  for (const auto& set : d.sets) ok = check_value_references(state, d, set.value) && ok;
  for (const auto& note : d.notes) ok = check_references(state, d, note.text) && ok;
  return ok;
}

// --- Substitution ----------------------------------------------------------------------

class Substitution {
 public:
  Substitution(CheckState& state, const ast::Decision& d, const ast::Decide& use)
      : state_(state), d_(d), use_(use) {}

  bool ok() const { return ok_; }

  ast::Template templ(const ast::Template& in) {
    ast::Template out;
    out.loc = in.loc;
    for (const auto& part : in.parts) {
      if (const auto* text = std::get_if<std::string>(&part)) {
        append(out, *text);
        continue;
      }
      const auto& ref = std::get<ast::Reference>(part);
      const std::size_t p = param_index(ref.name);
      if (p == d_.params.size()) {
        ast::Reference copy = ref;
        if (ref.argument) copy.argument = std::make_shared<const ast::Template>(templ(*ref.argument));
        out.parts.emplace_back(std::move(copy));
        continue;
      }
      const ast::Template& arg = use_.args[p];
      if (ref.modifier == ast::Reference::Modifier::None) {
        append_all(out, arg);
        continue;
      }
      modified(ref, arg, out);
    }
    return out;
  }

  ast::Value value(const ast::Value& v) {
    if (const auto* t = std::get_if<ast::Template>(&v)) return templ(*t);
    if (const auto* pipeline = std::get_if<ast::Pipeline>(&v)) {
      ast::Pipeline out;
      for (const auto& argv : *pipeline) {
        auto& command = out.emplace_back();
        for (const auto& arg : argv) command.push_back(templ(arg));
      }
      return out;
    }
    return v;
  }

 private:
  std::size_t param_index(const std::string& name) const {
    if (!is_parameter_name(name)) return d_.params.size();
    return static_cast<std::size_t>(std::find(d_.params.begin(), d_.params.end(), name) - d_.params.begin());
  }

  static void append(ast::Template& t, const std::string& text) {
    if (text.empty()) return;
    if (!t.parts.empty()) {
      if (auto* last = std::get_if<std::string>(&t.parts.back())) {
        *last += text;
        return;
      }
    }
    t.parts.emplace_back(text);
  }

  // Every part of `from` after `t`'s, text joined to text.
  static void append_all(ast::Template& t, const ast::Template& from) {
    for (const auto& part : from.parts) {
      if (const auto* text = std::get_if<std::string>(&part)) {
        append(t, *text);
      } else {
        t.parts.push_back(part);
      }
    }
  }

  // `${PARAM:-X}`, `${PARAM#X}`, `${PARAM%X}`: on an argument that is one `${FACT}`, the
  // modifier moves onto the fact; on plain text it is applied now.
  void modified(const ast::Reference& ref, const ast::Template& arg, ast::Template& out) {
    const ast::Template modifier_arg = ref.argument ? templ(*ref.argument) : ast::Template{};
    if (arg.parts.size() == 1 && std::holds_alternative<ast::Reference>(arg.parts[0]) &&
        std::get<ast::Reference>(arg.parts[0]).modifier == ast::Reference::Modifier::None) {
      ast::Reference moved = std::get<ast::Reference>(arg.parts[0]);
      moved.modifier = ref.modifier;
      moved.argument = std::make_shared<const ast::Template>(modifier_arg);
      out.parts.emplace_back(std::move(moved));
      return;
    }
    if (arg.is_literal()) {
      const std::string text = arg.literal();
      if (ref.modifier == ast::Reference::Modifier::Default) {
        if (!text.empty()) {
          append(out, text);
        } else {
          append_all(out, modifier_arg);
        }
        return;
      }
      if (modifier_arg.is_literal()) {
        const std::string affix = modifier_arg.literal();
        std::string_view result = text;
        if (ref.modifier == ast::Reference::Modifier::StripPrefix &&
            result.substr(0, affix.size()) == affix) {
          result.remove_prefix(affix.size());
        } else if (ref.modifier == ast::Reference::Modifier::StripSuffix && result.size() >= affix.size() &&
                   result.substr(result.size() - affix.size()) == affix) {
          result.remove_suffix(affix.size());
        }
        append(out, std::string(result));
        return;
      }
    }
    state_.error(ref.loc, "'${" + ref.name + "...}' of decision '" + d_.name +
                              "' needs an argument that is one ${FACT} or plain text, given at " +
                              where(use_.loc));
    ok_ = false;
  }

  CheckState& state_;
  const ast::Decision& d_;
  const ast::Decide& use_;
  bool ok_ = true;
};

}  // namespace

void register_decisions(CheckState& state) {
  for (const auto& file : state.files) {
    for (const auto& item : file.items) {
      const auto* d = std::get_if<ast::Decision>(&item);
      if (d == nullptr) continue;
      if (auto it = state.decisions.find(d->name); it != state.decisions.end()) {
        state.error(d->loc,
                    "decision '" + d->name + "' is already defined at " + where(it->second.decision->loc));
        continue;
      }
      DecisionDef& def = state.decisions[d->name];
      def.decision = d;
      def.failed = !check_decision(state, *d);
    }
  }
}

void check_leaves(CheckState& state, const ast::Rule& rule) {
  for (const auto& leave : rule.leaves) {
    const bool also_set = std::any_of(rule.sets.begin(), rule.sets.end(),
                                      [&](const ast::FieldSet& s) { return s.field == leave.field; });
    if (also_set) {
      state.error(leave.loc, "rule '" + rule.name + "' both sets and leaves '" + leave.field + "'");
    }
  }
}

void expand_decision(CheckState& state, ast::Rule& rule) {
  if (!rule.decide) return;
  const ast::Decide& use = *rule.decide;
  const auto it = state.decisions.find(use.name);
  if (it == state.decisions.end()) {
    state.error(use.loc, "decide names no decision: '" + use.name + "'", state.closest_decision(use.name));
    return;
  }
  const ast::Decision& d = *it->second.decision;
  if (use.args.size() != d.params.size()) {
    std::string takes = std::to_string(d.params.size()) + " argument" + (d.params.size() == 1 ? "" : "s");
    if (!d.params.empty()) {
      takes += " (";
      for (std::size_t i = 0; i < d.params.size(); ++i) takes += (i ? ", " : "") + d.params[i];
      takes += ")";
    }
    state.error(use.loc,
                "decision '" + d.name + "' takes " + takes + ", given " + std::to_string(use.args.size()));
    return;
  }
  if (it->second.failed) return;
  Substitution sub(state, d, use);
  std::vector<ast::FieldSet> sets;
  sets.reserve(d.sets.size() + rule.sets.size());
  auto own = [&](const std::string& field) {
    return std::find_if(rule.sets.begin(), rule.sets.end(),
                        [&](const ast::FieldSet& s) { return s.field == field; });
  };
  auto left = [&](const std::string& field) {
    return std::any_of(rule.leaves.begin(), rule.leaves.end(),
                       [&](const ast::FieldSet& s) { return s.field == field; });
  };
  // The decision's fields in its order, a field the rule sets itself in its place; then
  // the rule's other fields.
  std::vector<bool> placed(rule.sets.size(), false);
  for (const auto& set : d.sets) {
    if (left(set.field)) continue;
    if (const auto mine = own(set.field); mine != rule.sets.end()) {
      placed[static_cast<std::size_t>(mine - rule.sets.begin())] = true;
      sets.push_back(*mine);
      continue;
    }
    sets.push_back(ast::FieldSet{set.field, sub.value(set.value), set.loc});
  }
  for (std::size_t i = 0; i < rule.sets.size(); ++i) {
    if (!placed[i]) sets.push_back(rule.sets[i]);
  }
  std::vector<ast::Note> notes;
  notes.reserve(d.notes.size() + rule.notes.size());
  for (const auto& note : d.notes) notes.push_back(ast::Note{sub.templ(note.text), note.loc});
  if (!sub.ok()) return;
  for (auto& note : rule.notes) notes.push_back(std::move(note));
  rule.sets = std::move(sets);
  rule.notes = std::move(notes);
  rule.decide.reset();
}

}  // namespace lcrules::check
