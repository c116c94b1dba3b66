// The subcommands behind the command line, and what they share: finding the rule files,
// reading the kubeconfig, and gathering the real environment into an EvaluationInput.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/core/evaluator.hpp"
#include "engine/core/loader.hpp"

namespace lcrules {

// The one exit-code table (docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitNo = 1;        // the answer is no (failing tests)
inline constexpr int kExitInput = 2;     // usage or input error
inline constexpr int kExitInternal = 3;  // a bug in lcrules

struct RuleOptions {
  std::string shipped_fallback;  // the source tree's rules/ when run from the build tree
  std::vector<std::string> extra;
  bool no_default_rules = false;
  bool no_user_rules = false;
};

struct EvalOptions {
  std::string context;
  std::string kubeconfig;
  std::string skaffold_yaml;
  bool probe_cluster = false;
  double command_timeout = 5;
  std::optional<double> deadline;
  bool no_exec = false;
  bool no_cache = false;
  bool explain = false;
};

// Where rules come from for this process (environment: HOME, XDG_CONFIG_HOME, LCRULES_SYSTEM_DIR).
RuleSources rule_sources(const RuleOptions& opts);

// Loads the active rule set; prints errors to stderr and returns nullopt on failure. With
// `cache_dir`, through the compiled rule-set cache there (engine/cache/ruleset_cache.hpp).
std::optional<RuleSet> load_active_rules(const RuleOptions& opts, const std::string* cache_dir = nullptr);

std::optional<std::string> env_var(const std::string& name);
std::string home_dir();

// Process-wide allocator settings, called first thing by `lcrules` (and by the benchmarks,
// so that they measure what lcrules does). Loading rules allocates and frees many small
// blocks in allocation order, where glibc's fastbins make every large free consolidate
// them: with fastbins off, loading 10k rules is about 15 % faster and nothing else slower
// (docs/performance.md, "The allocator").
void configure_allocator();

int run_eval(const EvalOptions& opts, const RuleOptions& rule_opts, bool json);
int run_check(const std::vector<std::string>& paths, const RuleOptions& rule_opts);
int run_rules(const RuleOptions& rule_opts, bool json);
int run_facts(const EvalOptions& opts, const RuleOptions& rule_opts, bool json, bool run_commands);

}  // namespace lcrules
