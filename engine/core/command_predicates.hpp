// Command predicates: `run [...] succeeds / exits N / output ... / json ... / yaml ...`, and
// `read "PATH" json ... / yaml ...`, which tests files the same way a command's output.
// Kept apart because running a command is the one costly, effectful step of an evaluation:
// the argv is rendered from facts, the timeout is the command's, else its rule's, else the
// input's, each distinct argv runs at most once per evaluation (a memo, which also keeps
// the parsed JSON and YAML of its output), and every run is recorded for explanations.
#pragma once

#include <chrono>
#include <list>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/explanation_recorder.hpp"
#include "engine/core/fact_lookup.hpp"
#include "engine/core/ruleset.hpp"
#include "engine/core/string_tests.hpp"
#include "engine/facts/command.hpp"

namespace lcrules {

class CommandPredicates {
 public:
  // A text (a command's output, a file) parsed on first use.
  struct Parsed {
    bool json_parsed = false, yaml_parsed = false;
    std::optional<nlohmann::json> json, yaml;
    std::string json_error, yaml_error;
  };
  // A command that ran in this evaluation.
  struct RanCommand {
    Argv argv;
    CommandResult result;
    Parsed parsed;
  };
  // A file a `read` read in this evaluation.
  struct ReadFile {
    std::string path;
    bool ok = false;
    std::string text;  // ok: the content; else why it was not read
    Parsed parsed;
  };

  CommandPredicates(FactLookup& facts, StringTestEvaluator& tests, ExplanationRecorder recorder)
      : facts_(facts), tests_(tests), recorder_(recorder) {}

  // The rule whose commands run next (its timeout applies when a command sets none).
  void set_rule(const CompiledRule& rule) { rule_ = &rule; }

  // Evaluates a Command condition node.
  bool holds(const ConditionNode& n, CheckRecorder checks);
  // Evaluates a Read condition node.
  bool holds_read(const ConditionNode& n, CheckRecorder checks);

  // Runs `argv` of `cmd` unless it ran already in this evaluation.
  RanCommand& run(const CompiledCommand& cmd, Argv argv);

 private:
  // The command's own timeout, else its rule's, else the input's.
  std::chrono::milliseconds timeout(const CompiledCommand& cmd) const;
  const nlohmann::json* parsed(const std::string& text, Parsed& p, bool json);
  // The json/yaml test of `cmd` on `text` (a command's output or a file), named `shown`.
  bool test_document(const CompiledCommand& cmd, const std::string& text, Parsed& p, const std::string& shown,
                     bool file, const ast::Location& loc, CheckRecorder checks);
  // The files `pattern` (rendered, with the offsets of its own '*'s) names, in order; false
  // with `why` when it names too many or a folder cannot be listed.
  bool expand(const std::string& pattern, const std::vector<std::size_t>& stars,
              std::vector<std::string>& out, std::string& why) const;
  ReadFile& read(const std::string& path);

  FactLookup& facts_;
  StringTestEvaluator& tests_;
  ExplanationRecorder recorder_;
  const CompiledRule* rule_ = nullptr;
  std::list<RanCommand> ran_;  // stable references while a predicate uses one
  std::list<ReadFile> read_;
};

}  // namespace lcrules
