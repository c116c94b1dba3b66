// Stage 3 of the pipeline: a RuleSet and the facts of one context -> a Decision, and,
// only when asked for, an Explanation of it.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/ruleset.hpp"
#include "engine/facts/command.hpp"
#include "engine/facts/file_reads.hpp"
#include "engine/facts/kubeconfig.hpp"
#include "lcrules/decision.hpp"

namespace lcrules {

// Everything outside lcrules that facts come from. The CLI fills it from the real
// environment; `lcrules test` and benchmarks fill it from test data.
struct EvaluationInput {
  KubeContext context;
  std::vector<std::string> kubeconfig_files;
  std::function<std::optional<std::string>(const std::string&)> getenv;
  std::function<bool(const std::string&)> file_exists;
  // `read`: lists a folder, reads a file (engine/facts/file_reads.hpp: the real ones).
  std::function<file_reads::ListResult(const std::string&, std::vector<file_reads::FolderEntry>&,
                                       std::string&)>
      list_folder;
  std::function<bool(const std::string&, std::string&, std::string&)> read_file;
  // Skaffold's global config for this context; called at most once, only when a rule
  // reads skaffold.*. May throw ConfigError.
  std::function<std::map<std::string, std::string>()> skaffold_config;
  std::optional<std::string> skaffold_build_local_push;
  bool probe_cluster = false;
  CommandExecutor* executor = nullptr;  // required when a rule runs a command
  std::chrono::milliseconds command_timeout{5000};
};

struct Explanation {
  struct Check {       // one predicate that was evaluated
    std::string text;  // "context.name 'dev' does not start with 'kind-'"
    bool held = false;
    ast::Location loc;
  };
  struct RuleTrace {
    const CompiledRule* rule = nullptr;
    enum class Outcome { Matched, NotMatched, Skipped } outcome = Outcome::NotMatched;
    std::vector<Check> checks;              // for Matched: the checks that held; else every failed one
    std::vector<Field> decided;             // fields this rule decided
    std::vector<Field> lost;                // fields it set but a higher-priority rule had decided
    std::vector<std::string> unset_values;  // "cluster_name: fact cluster.server.port is not set"
    std::vector<std::string> notes;
    // Stage policy: the decision fields the rule read, as the rules before it left them,
    // and the fields it took over from a policy rule of lower priority evaluated before it.
    struct FieldRef {
      Field field = Field::Cluster;
      std::string value;                   // JSON text; empty for `replaced`
      const CompiledRule* rule = nullptr;  // who set it (null: the default)
    };
    std::vector<FieldRef> reads;
    std::vector<FieldRef> replaced;
  };
  struct FieldTrace {
    Field field = Field::Cluster;
    const CompiledRule* rule = nullptr;           // null: default value
    std::string value;                            // JSON-ish text of the value
    const CompiledRule* replaced_rule = nullptr;  // policy replaced this identify decision
    std::string replaced_value;
  };
  struct CommandTrace {
    Argv argv;
    std::string status;  // "exit 0", "timed out after 5s", "not found on PATH"
    std::chrono::microseconds duration{0};
    std::string output_head;
    std::string error_head;
    bool from_cache = false;
    std::chrono::seconds cache_age{0};
  };
  struct FactProblem {
    std::string fact;
    std::string reason;
  };
  std::vector<RuleTrace> rules;
  std::size_t rules_not_reached = 0;  // identify rules after every field was decided
  std::vector<FieldTrace> fields;
  std::vector<CommandTrace> commands;
  std::vector<FactProblem> problems;
};

// Evaluates the active rules. `explanation` null: nothing is recorded (no cost).
Decision evaluate(const RuleSet& rules, const EvaluationInput& input, Explanation* explanation = nullptr);

// The ordered list of commands an evaluation ran, for `lcrules test` stubs and logs.
std::string describe_argv(const Argv& argv);

}  // namespace lcrules

namespace lcrules {

// One row of `lcrules facts`.
struct FactValue {
  std::string name;                  // "cluster.server.host", "env.MINIKUBE_HOME", "command"
  std::optional<std::string> value;  // absent facts have none
  std::string detail;                // commands: status and where it is used
};

// The facts a rule can use for this context: the kubeconfig facts, every env./skaffold.
// fact the rule set reads, and the commands it can run (run only with `run_commands`).
std::vector<FactValue> list_facts(const RuleSet& rules, const EvaluationInput& input, bool run_commands);

}  // namespace lcrules
