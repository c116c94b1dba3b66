// The facts of one context as rules read them, and the rendering of templates from them.
// Kept apart because it is the one place that knows where each fact comes from (the
// kubeconfig context, env., skaffold., option., the identify decision that policy rules
// read, a rule's regex captures, the item of a command's output being tested) and that
// looks up what is costly only once per evaluation (environment variables, Skaffold's
// config, the parsed server URL); predicates, commands and the decision all read through it.
#pragma once

#include <array>
#include <cstddef>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/evaluator.hpp"
#include "engine/core/ruleset.hpp"
#include "engine/facts/kubeconfig.hpp"

namespace lcrules {

// The text of a template that interpolates nothing, without rendering (copying) it.
inline const std::string* literal_text(const CompiledTemplate& t) {
  if (t.parts.empty()) return &t.spelling;
  if (t.parts.size() == 1) return std::get_if<std::string>(&t.parts[0]);
  return nullptr;
}

class FactLookup {
 public:
  explicit FactLookup(const EvaluationInput& input) : in_(input) {}

  const EvaluationInput& input() const { return in_; }

  // The fact's value; null when the context does not have it. match.* and item.* facts
  // are read by render() only.
  const std::string* fact(const FactRef& f);

  // Renders a template. False when it reads an absent fact without a default; `missing`
  // (if given) then names the fact.
  bool render(const CompiledTemplate& t, std::string& out, std::string* missing);
  // The same, and the offsets in `out` of each '*' of the template's own text (not of an
  // interpolated value): the wildcards of a `read` path.
  bool render(const CompiledTemplate& t, std::string& out, std::string* missing,
              std::vector<std::size_t>& own_stars);

  // The kubeconfig files joined with ':', as KUBECONFIG takes them.
  std::string kubeconfig_path() const;

  // --- match.*: the named groups of the regexes that held in the rule being evaluated ---
  void clear_captures() { captures_.clear(); }
  std::size_t capture_mark() const { return captures_.size(); }
  // Forgets the captures bound after `mark` (a branch that did not match, a `not`).
  void drop_captures_after(std::size_t mark) { captures_.resize(mark); }
  void add_capture(const std::string& name, std::string text) {
    captures_.emplace_back(name, std::move(text));
  }

  // --- item.*: the selected value of a command's JSON or YAML output being tested ---
  void set_item(const nlohmann::json* item) { item_ = item; }

  // --- decision.*: the identify decision, for policy rules ---
  void snapshot_decision(const Decision& d);
  // Renders decision.load_command if the snapshot has not yet: before it is read, or
  // before a policy rule replaces the load command it was taken from.
  void settle_load_command();

 private:
  static const std::string kTrue, kFalse, kEmpty;

  const ServerUrl& server_url();
  // Appends the value of one `${...}` of a template; false as render().
  bool append_reference(const CompiledReference& ref, std::string& out, std::string* missing);

  const EvaluationInput& in_;
  std::vector<std::pair<std::string, std::string>> captures_;
  const nlohmann::json* item_ = nullptr;
  // std::list, not std::deque: stable addresses, and nothing allocated while empty.
  std::list<std::pair<std::string, std::optional<std::string>>>
      env_;  // names copied: a FactRef may be a temporary
  std::optional<std::map<std::string, std::string>> skaffold_;
  std::optional<ServerUrl> server_url_;
  std::optional<std::string> kubeconfig_files_;
  std::array<std::optional<std::string>, kFieldCount> decision_;
  const Decision* identify_ = nullptr;  // the decision whose identify result decision_ holds
  bool load_command_pending_ = false;
};

}  // namespace lcrules
