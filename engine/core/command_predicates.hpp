// Command predicates: `run [...] succeeds / exits N / output ... / json ... / yaml ...`.
// Kept apart because running a command is the one costly, effectful step of an evaluation:
// the argv is rendered from facts, the timeout is the command's, else its rule's, else the
// input's, each distinct argv runs at most once per evaluation (a memo, which also keeps
// the parsed JSON and YAML of its output), and every run is recorded for explanations.
#pragma once

#include <chrono>
#include <list>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/core/explanation_recorder.hpp"
#include "engine/core/fact_lookup.hpp"
#include "engine/core/ruleset.hpp"
#include "engine/core/string_tests.hpp"
#include "engine/facts/command.hpp"

namespace lcrules {

class CommandPredicates {
 public:
  // A command that ran in this evaluation, and its output parsed on first use.
  struct RanCommand {
    Argv argv;
    CommandResult result;
    bool json_parsed = false, yaml_parsed = false;
    std::optional<nlohmann::json> json, yaml;
    std::string json_error, yaml_error;
  };

  CommandPredicates(FactLookup& facts, StringTestEvaluator& tests, ExplanationRecorder recorder)
      : facts_(facts), tests_(tests), recorder_(recorder) {}

  // The rule whose commands run next (its timeout applies when a command sets none).
  void set_rule(const CompiledRule& rule) { rule_ = &rule; }

  // Evaluates a Command condition node.
  bool holds(const ConditionNode& n, CheckRecorder checks);

  // Runs `argv` of `cmd` unless it ran already in this evaluation.
  RanCommand& run(const CompiledCommand& cmd, Argv argv);

 private:
  // The command's own timeout, else its rule's, else the input's.
  std::chrono::milliseconds timeout(const CompiledCommand& cmd) const;
  const nlohmann::json* parsed_output(RanCommand& ran, bool json);

  FactLookup& facts_;
  StringTestEvaluator& tests_;
  ExplanationRecorder recorder_;
  const CompiledRule* rule_ = nullptr;
  std::list<RanCommand> ran_;  // stable references while a predicate uses one
};

}  // namespace lcrules
