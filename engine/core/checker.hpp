// Stage 2 of the pipeline: parsed files -> one checked, compiled RuleSet. Applies
// overrides and disables in load order, resolves macros, lists, facts and captures,
// compiles regexes, and orders the rules for evaluation.
#pragma once

#include <vector>

#include "engine/core/ruleset.hpp"
#include "grammar/ast.hpp"
#include "grammar/diagnostic.hpp"

namespace lcrules {

struct CheckResult {
  RuleSet rule_set;
  std::vector<Diagnostic> errors;  // empty when the set is usable
};

CheckResult check_rule_files(const std::vector<ast::File>& files);
// The same, consuming the files: each rule's syntax tree is freed once the rule is
// compiled, so loading needs less memory (what `load_rule_set` uses).
CheckResult check_rule_files(std::vector<ast::File>&& files);

// Warnings about a loaded rule set, "FILE:LINE:COL: warning: ...": an identify rule that
// sets `cluster` but neither sets nor leaves (`leave`) every other field. Computed from the
// rule set alone, so a rule set read from the cache gives the same warnings.
std::vector<std::string> rule_set_warnings(const RuleSet& rules);

// "Known fact" test used by the checker and by `lcrules facts`.
std::optional<FactRef> resolve_fact(std::string_view name);

// A known fact that the unknown `name` may be a typo of: the closest fact name
// (`context.nmae` -> `context.name`), a fixed part corrected (`env.` and extension facts
// keep their key), or the only fact with the same last parts under another root
// (`context.server.port` -> `cluster.server.port`).
std::optional<std::string> fact_suggestion(std::string_view name);

}  // namespace lcrules
