// Everything an evaluation writes into an Explanation: the checks of a rule's condition,
// rule and field traces, the commands run, problems with facts, and the wording of each.
// Kept apart so that the code that decides reads as deciding only, and so that explaining
// has one switch: each recorder wraps a pointer that is null when no explanation is asked
// for, and then every call is an inline test of that pointer (no text is built, nothing is
// allocated). The recording itself is out of line, off the hot path.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/evaluator.hpp"
#include "engine/core/ruleset.hpp"
#include "engine/facts/command.hpp"

namespace lcrules {

// The rule that decided each field (null: not decided).
using RulePerField = std::array<const CompiledRule*, kFieldCount>;

// 'value' for explanations: control bytes escaped, long values cut.
std::string quote_value(std::string_view s);
// The head of a command's output or error text.
std::string output_head(const std::string& s);
// "exit 0", "killed by signal 9", or why the command did not run.
std::string command_status(const CommandResult& r);

class NestedChecks;

// The checks of one condition, in the order they were evaluated.
class CheckRecorder {
 public:
  using Checks = std::vector<Explanation::Check>;

  CheckRecorder() = default;
  explicit CheckRecorder(Checks* checks) : checks_(checks) {}

  bool on() const { return checks_ != nullptr; }

  // The subjects that name a tested value; built only when on().
  static std::string template_subject(const CompiledTemplate& t);  // "\"<spelling>\""
  static std::string command_subject(const Argv& argv);            // "`argv`"
  static std::string output_subject(const std::string& command);   // "output of `argv`"
  static std::string document_subject(const std::string& command, bool json, const std::string& path);

  // "<fact> is not set"
  void not_set(const std::string& fact, const ast::Location& loc) {
    if (checks_) add_not_set(fact, loc);
  }
  void is_set(const std::string& fact, const std::string* value, bool held, const ast::Location& loc) {
    if (checks_) add_is_set(fact, value, held, loc);
  }
  void negation(const NestedChecks& inner, bool held, const ast::Location& loc);
  void exists_not_set(const std::string& missing, const ast::Location& loc) {
    if (checks_) add_exists_not_set(missing, loc);
  }
  void file_exists(const std::string& path, bool held, const ast::Location& loc) {
    if (checks_) add_file_exists(path, held, loc);
  }

  // --- string tests ---
  void regex_gave_up(const std::string& subject, const std::string& pattern, const char* why,
                     const ast::Location& loc) {
    if (checks_) add_regex_gave_up(subject, pattern, why, loc);
  }
  void regex_test(const std::string& subject, const std::string& value, ast::Op op,
                  const std::string& pattern, bool held, const ast::Location& loc) {
    if (checks_) add_regex_test(subject, value, op, pattern, held, loc);
  }
  void in_list(const std::string& subject, const std::string& value, const std::string& list, bool held,
               const ast::Location& loc) {
    if (checks_) add_in_list(subject, value, list, held, loc);
  }
  void cannot_compare(const std::string& subject, const std::string& missing, const ast::Location& loc) {
    if (checks_) add_cannot_compare(subject, missing, loc);
  }
  void comparison(ast::Op op, const std::string& subject, const std::string& value,
                  const std::string& operand, bool held, const ast::Location& loc) {
    if (checks_) add_comparison(op, subject, value, operand, held, loc);
  }

  // --- commands; `command` is a command_subject() ---
  void command_not_run(const std::string& missing, const ast::Location& loc) {
    if (checks_) add_command_not_run(missing, loc);
  }
  void command_exit(const std::string& command, const CommandResult& r, int expected, bool held,
                    const ast::Location& loc) {
    if (checks_) add_command_exit(command, r, expected, held, loc);
  }
  void command_failed(const std::string& command, const CommandResult& r, const ast::Location& loc) {
    if (checks_) add_command_failed(command, r, loc);
  }
  void command_succeeded(const std::string& command, const ast::Location& loc) {
    if (checks_) add_command_succeeded(command, loc);
  }
  // `source`: "`argv` output" or "file '/path'".
  void output_unparsed(const std::string& source, bool json, const std::string& error,
                       const ast::Location& loc) {
    if (checks_) add_output_unparsed(source, json, error, loc);
  }
  void output_undecodable(const std::string& source, const std::string& type, const std::string& error,
                          const ast::Location& loc) {
    if (checks_) add_output_undecodable(source, type, error, loc);
  }
  // `read`: "read: <fact> is not set"; "read '<path>' gave up: <why>"; "read '<path>' names
  // no file" (holds with `every`); "file '<path>' <why it was not read>".
  void read_not_done(const std::string& missing, const ast::Location& loc) {
    if (checks_) add_read_not_done(missing, loc);
  }
  void read_gave_up(const std::string& path, const std::string& why, const ast::Location& loc) {
    if (checks_) add_read_gave_up(path, why, loc);
  }
  void read_no_file(const std::string& path, bool held, const ast::Location& loc) {
    if (checks_) add_read_no_file(path, held, loc);
  }
  void file_unread(const std::string& path, const std::string& why, const ast::Location& loc) {
    if (checks_) add_file_unread(path, why, loc);
  }
  // The check of the selected value that held (with `every`: the one that did not).
  void selected_value_held(NestedChecks& value_checks);
  // `every`: all `seen` selected values held; or one is not a scalar.
  void every_selected_value_held(const std::string& subject, std::size_t seen, const CompiledStringTest& t,
                                 const ast::Location& loc) {
    if (checks_) add_every_selected_value_held(subject, seen, t, loc);
  }
  void selected_value_not_scalar(const std::string& subject, const ast::Location& loc) {
    if (checks_)
      checks_->push_back({subject + ": a selected value is not a string, number or boolean", false, loc});
  }
  void no_selected_value_held(const std::string& subject, std::size_t seen, const CompiledStringTest& t,
                              const ast::Location& loc) {
    if (checks_) add_no_selected_value_held(subject, seen, t, loc);
  }

 private:
  void add_not_set(const std::string& fact, const ast::Location& loc);
  void add_is_set(const std::string& fact, const std::string* value, bool held, const ast::Location& loc);
  void add_negation(const Checks& inner, bool held, const ast::Location& loc);
  void add_exists_not_set(const std::string& missing, const ast::Location& loc);
  void add_file_exists(const std::string& path, bool held, const ast::Location& loc);
  void add_regex_gave_up(const std::string& subject, const std::string& pattern, const char* why,
                         const ast::Location& loc);
  void add_regex_test(const std::string& subject, const std::string& value, ast::Op op,
                      const std::string& pattern, bool held, const ast::Location& loc);
  void add_in_list(const std::string& subject, const std::string& value, const std::string& list, bool held,
                   const ast::Location& loc);
  void add_cannot_compare(const std::string& subject, const std::string& missing, const ast::Location& loc);
  void add_comparison(ast::Op op, const std::string& subject, const std::string& value,
                      const std::string& operand, bool held, const ast::Location& loc);
  void add_command_not_run(const std::string& missing, const ast::Location& loc);
  void add_command_exit(const std::string& command, const CommandResult& r, int expected, bool held,
                        const ast::Location& loc);
  void add_command_failed(const std::string& command, const CommandResult& r, const ast::Location& loc);
  void add_command_succeeded(const std::string& command, const ast::Location& loc);
  void add_output_unparsed(const std::string& source, bool json, const std::string& error,
                           const ast::Location& loc);
  void add_read_not_done(const std::string& missing, const ast::Location& loc);
  void add_read_gave_up(const std::string& path, const std::string& why, const ast::Location& loc);
  void add_read_no_file(const std::string& path, bool held, const ast::Location& loc);
  void add_file_unread(const std::string& path, const std::string& why, const ast::Location& loc);
  void add_no_selected_value_held(const std::string& subject, std::size_t seen, const CompiledStringTest& t,
                                  const ast::Location& loc);
  void add_output_undecodable(const std::string& source, const std::string& type, const std::string& error,
                              const ast::Location& loc);
  void add_every_selected_value_held(const std::string& subject, std::size_t seen,
                                     const CompiledStringTest& t, const ast::Location& loc);

  Checks* checks_ = nullptr;
};

// Checks gathered apart before they join the enclosing list: those under a `not` (which
// become one check), and those of one selected value of a command's output. Records only
// when the enclosing recorder does.
class NestedChecks {
 public:
  explicit NestedChecks(CheckRecorder outer) : on_(outer.on()) {}
  CheckRecorder recorder() { return CheckRecorder(on_ ? &checks_ : nullptr); }
  void clear() { checks_.clear(); }

 private:
  friend class CheckRecorder;
  bool on_;
  CheckRecorder::Checks checks_;
};

inline void CheckRecorder::negation(const NestedChecks& inner, bool held, const ast::Location& loc) {
  if (checks_) add_negation(inner.checks_, held, loc);
}
inline void CheckRecorder::selected_value_held(NestedChecks& value_checks) {
  if (checks_) checks_->push_back(std::move(value_checks.checks_.back()));
}

// The trace of one rule. Null: not explaining.
class RuleTraceRecorder {
 public:
  RuleTraceRecorder() = default;
  explicit RuleTraceRecorder(Explanation::RuleTrace* trace) : trace_(trace) {}

  bool on() const { return trace_ != nullptr; }
  // Where the checks of the rule's condition go until outcome() keeps the ones that tell.
  CheckRecorder condition_checks() { return CheckRecorder(trace_ ? &checks_ : nullptr); }

  // Every field the rule sets was decided already: it was not evaluated.
  void skipped(const CompiledRule& rule) {
    if (trace_) add_skipped(rule);
  }
  // Keeps the checks that held when the rule matched, else every failed one.
  void outcome(bool matched) {
    if (trace_) add_outcome(matched);
  }
  void lost(Field f) {
    if (trace_) trace_->lost.push_back(f);
  }
  void decided(Field f) {
    if (trace_) trace_->decided.push_back(f);
  }
  void value_not_set(Field f, const std::string& missing) {
    if (trace_) add_value_not_set(f, missing);
  }
  void note(const std::string& text) {
    if (trace_) trace_->notes.push_back(text);
  }
  void note_not_set(const std::string& missing) {
    if (trace_) add_note_not_set(missing);
  }
  // Stage policy: the rule reads decision.F, whose value `by` set (null: the default).
  void read(Field f, const Decision& d, const CompiledRule* by) {
    if (trace_) add_read(f, d, by);
  }
  // Stage policy: the rule took `f` over from `by`, a rule of lower priority run before it.
  void replaced(Field f, const CompiledRule* by) {
    if (trace_) trace_->replaced.push_back({f, {}, by});
  }

 private:
  void add_skipped(const CompiledRule& rule);
  void add_outcome(bool matched);
  void add_value_not_set(Field f, const std::string& missing);
  void add_note_not_set(const std::string& missing);
  void add_read(Field f, const Decision& d, const CompiledRule* by);

  Explanation::RuleTrace* trace_ = nullptr;
  CheckRecorder::Checks checks_;
};

// The explanation of one evaluation. Null: not explaining.
class ExplanationRecorder {
 public:
  explicit ExplanationRecorder(Explanation* explanation) : ex_(explanation) {}

  bool on() const { return ex_ != nullptr; }

  void context_not_in_kubeconfig(const std::string& context) {
    if (ex_) add_context_not_in_kubeconfig(context);
  }
  // An identify rule after every field was decided.
  void rule_not_reached() {
    if (ex_) ++ex_->rules_not_reached;
  }
  RuleTraceRecorder begin_rule(const CompiledRule& rule) {
    return ex_ ? add_rule(rule) : RuleTraceRecorder();
  }
  // Every field of the identify decision and the rule (or default) that decided it.
  void identify_decision(const Decision& d, const RulePerField& decided_by) {
    if (ex_) add_identify_decision(d, decided_by);
  }
  // The fields policy rules replaced.
  void policy_decision(const Decision& d, const RulePerField& decided_by) {
    if (ex_) add_policy_decision(d, decided_by);
  }
  void command_ran(const Argv& argv, const CommandResult& r) {
    if (ex_) add_command_ran(argv, r);
  }

 private:
  void add_context_not_in_kubeconfig(const std::string& context);
  RuleTraceRecorder add_rule(const CompiledRule& rule);
  void add_identify_decision(const Decision& d, const RulePerField& decided_by);
  void add_policy_decision(const Decision& d, const RulePerField& decided_by);
  void add_command_ran(const Argv& argv, const CommandResult& r);

  Explanation* ex_;
};

}  // namespace lcrules
