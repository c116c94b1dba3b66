#include "engine/core/explanation_recorder.hpp"

#include <nlohmann/json.hpp>
#include <utility>

namespace lcrules {
namespace {

constexpr std::size_t kQuoteLimit = 120;
constexpr std::size_t kHeadLimit = 200;

// A test as a rule spells it, for "none of the selected values satisfies ...".
std::string describe_test(const CompiledStringTest& t) {
  using ast::Op;
  if (t.regex) return std::string(t.op == Op::Matches ? "matches /" : "contains /") + t.regex->pattern + "/";
  if (t.op == Op::In) return "in " + t.list->spelling;
  static const char* names[] = {"==",       "!=",      "starts-with", "ends-with",
                                "contains", "matches", "inside",      "in"};
  return std::string(names[static_cast<int>(t.op)]) + " \"" + t.text.spelling + "\"";
}

// The field's value as JSON text.
std::string value_text(const Decision& d, Field f) {
  auto str = [](const std::optional<std::string>& s) { return s ? nlohmann::json(*s) : nlohmann::json(); };
  nlohmann::json v;
  switch (f) {
    case Field::Cluster:
      v = d.cluster;
      break;
    case Field::Local:
      v = d.local;
      break;
    case Field::ClusterName:
      v = str(d.cluster_name);
      break;
    case Field::LoadImages:
      v = d.load_images;
      break;
    case Field::PushImages:
      v = d.push_images;
      break;
    case Field::Registry:
      v = str(d.registry);
      break;
    case Field::LoadCommand:
      if (d.load_command) v = *d.load_command;
      break;
  }
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string quote_value(std::string_view s) {
  std::string out = "'";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == kQuoteLimit) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

std::string output_head(const std::string& s) {
  return s.size() <= kHeadLimit ? s : s.substr(0, kHeadLimit) + "...";
}

std::string command_status(const CommandResult& r) {
  if (r.status == CommandResult::Status::Exited) return "exit " + std::to_string(r.exit_code);
  if (!r.reason.empty()) return r.reason;
  if (r.status == CommandResult::Status::Signaled) return "killed by signal " + std::to_string(r.signal);
  return "did not run";
}

// --- CheckRecorder -------------------------------------------------------------------

std::string CheckRecorder::template_subject(const CompiledTemplate& t) { return "\"" + t.spelling + "\""; }

std::string CheckRecorder::command_subject(const Argv& argv) { return "`" + describe_argv(argv) + "`"; }

std::string CheckRecorder::output_subject(const std::string& command) { return "output of " + command; }

std::string CheckRecorder::document_subject(const std::string& command, bool json, const std::string& path) {
  return command + " " + (json ? "json " : "yaml ") + path;
}

void CheckRecorder::add_not_set(const std::string& fact, const ast::Location& loc) {
  checks_->push_back({fact + " is not set", false, loc});
}

void CheckRecorder::add_is_set(const std::string& fact, const std::string* value, bool held,
                               const ast::Location& loc) {
  checks_->push_back(
      {fact + (value ? " is set (" + quote_value(*value) + ")" : std::string(" is not set")), held, loc});
}

void CheckRecorder::add_negation(const Checks& inner, bool held, const ast::Location& loc) {
  std::string text = "not (";
  for (std::size_t i = 0; i < inner.size(); ++i) text += (i ? "; " : "") + inner[i].text;
  checks_->push_back({text + ")", held, loc});
}

void CheckRecorder::add_exists_not_set(const std::string& missing, const ast::Location& loc) {
  checks_->push_back({"exists: " + missing + " is not set", false, loc});
}

void CheckRecorder::add_file_exists(const std::string& path, bool held, const ast::Location& loc) {
  checks_->push_back({"file " + quote_value(path) + (held ? " exists" : " does not exist"), held, loc});
}

void CheckRecorder::add_regex_gave_up(const std::string& subject, const std::string& pattern, const char* why,
                                      const ast::Location& loc) {
  checks_->push_back({subject + ": regex /" + pattern + "/ gave up: " + why, false, loc});
}

void CheckRecorder::add_regex_test(const std::string& subject, const std::string& value, ast::Op op,
                                   const std::string& pattern, bool held, const ast::Location& loc) {
  const char* verb = op == ast::Op::Matches ? (held ? " matches /" : " does not match /")
                                            : (held ? " contains a match of /" : " has no match of /");
  checks_->push_back({subject + " " + quote_value(value) + verb + pattern + "/", held, loc});
}

void CheckRecorder::add_in_list(const std::string& subject, const std::string& value, const std::string& list,
                                bool held, const ast::Location& loc) {
  checks_->push_back(
      {subject + " " + quote_value(value) + (held ? " is in " : " is not in ") + list, held, loc});
}

void CheckRecorder::add_cannot_compare(const std::string& subject, const std::string& missing,
                                       const ast::Location& loc) {
  checks_->push_back({subject + ": cannot compare, " + missing + " is not set", false, loc});
}

void CheckRecorder::add_comparison(ast::Op op, const std::string& subject, const std::string& value,
                                   const std::string& operand, bool held, const ast::Location& loc) {
  using ast::Op;
  const char* verb = "";
  switch (op) {
    case Op::Equal:
      checks_->push_back({held ? subject + " is " + quote_value(value)
                               : subject + " is " + quote_value(value) + ", not " + quote_value(operand),
                          held, loc});
      return;
    case Op::NotEqual:
      checks_->push_back({held ? subject + " " + quote_value(value) + " is not " + quote_value(operand)
                               : subject + " is " + quote_value(value),
                          held, loc});
      return;
    case Op::StartsWith:
      verb = held ? " starts with " : " does not start with ";
      break;
    case Op::EndsWith:
      verb = held ? " ends with " : " does not end with ";
      break;
    case Op::Contains:
      verb = held ? " contains " : " does not contain ";
      break;
    case Op::Inside:
      verb = held ? " is inside " : " is not inside ";
      break;
    case Op::Matches:
    case Op::In:
      break;
  }
  checks_->push_back({subject + " " + quote_value(value) + verb + quote_value(operand), held, loc});
}

void CheckRecorder::add_command_not_run(const std::string& missing, const ast::Location& loc) {
  checks_->push_back({"command not run: " + missing + " is not set", false, loc});
}

void CheckRecorder::add_command_exit(const std::string& command, const CommandResult& r, int expected,
                                     bool held, const ast::Location& loc) {
  checks_->push_back(
      {command + " " + command_status(r) + (held ? "" : ", not exit " + std::to_string(expected)), held,
       loc});
}

void CheckRecorder::add_command_failed(const std::string& command, const CommandResult& r,
                                       const ast::Location& loc) {
  checks_->push_back({command + " failed: " + command_status(r), false, loc});
}

void CheckRecorder::add_command_succeeded(const std::string& command, const ast::Location& loc) {
  checks_->push_back({command + " succeeded", true, loc});
}

void CheckRecorder::add_output_unparsed(const std::string& source, bool json, const std::string& error,
                                        const ast::Location& loc) {
  checks_->push_back({source + " is not " + std::string(json ? "JSON" : "YAML") + ": " + error, false, loc});
}

void CheckRecorder::add_output_undecodable(const std::string& source, const std::string& type,
                                           const std::string& error, const ast::Location& loc) {
  checks_->push_back({source + " does not decode as go(" + type + "): " + error, false, loc});
}

void CheckRecorder::add_read_not_done(const std::string& missing, const ast::Location& loc) {
  checks_->push_back({"read: " + missing + " is not set", false, loc});
}

void CheckRecorder::add_read_gave_up(const std::string& path, const std::string& why,
                                     const ast::Location& loc) {
  checks_->push_back({"read " + quote_value(path) + " gave up: " + why, false, loc});
}

void CheckRecorder::add_read_no_file(const std::string& path, bool held, const ast::Location& loc) {
  checks_->push_back({"read " + quote_value(path) + " names no file", held, loc});
}

void CheckRecorder::add_file_unread(const std::string& path, const std::string& why,
                                    const ast::Location& loc) {
  checks_->push_back({"file " + quote_value(path) + " " + why, false, loc});
}

void CheckRecorder::add_every_selected_value_held(const std::string& subject, std::size_t seen,
                                                  const CompiledStringTest& t, const ast::Location& loc) {
  checks_->push_back({subject + ": every one of " + std::to_string(seen) + " selected value" +
                          (seen == 1 ? "" : "s") + " satisfies " + describe_test(t),
                      true, loc});
}

void CheckRecorder::add_no_selected_value_held(const std::string& subject, std::size_t seen,
                                               const CompiledStringTest& t, const ast::Location& loc) {
  checks_->push_back({subject + ": none of " + std::to_string(seen) + " selected value" +
                          (seen == 1 ? "" : "s") + " satisfies " + describe_test(t),
                      false, loc});
}

// --- RuleTraceRecorder ---------------------------------------------------------------

void RuleTraceRecorder::add_skipped(const CompiledRule& rule) {
  trace_->outcome = Explanation::RuleTrace::Outcome::Skipped;
  for (const auto& s : rule.sets) trace_->lost.push_back(s.field);
}

void RuleTraceRecorder::add_outcome(bool matched) {
  trace_->outcome =
      matched ? Explanation::RuleTrace::Outcome::Matched : Explanation::RuleTrace::Outcome::NotMatched;
  for (auto& c : checks_) {
    if (c.held == matched) trace_->checks.push_back(std::move(c));
  }
}

void RuleTraceRecorder::add_value_not_set(Field f, const std::string& missing) {
  trace_->unset_values.push_back(std::string(field_name(f)) + ": " + missing + " is not set");
}

void RuleTraceRecorder::add_note_not_set(const std::string& missing) {
  trace_->unset_values.push_back("note: " + missing + " is not set");
}

void RuleTraceRecorder::add_read(Field f, const Decision& d, const CompiledRule* by) {
  trace_->reads.push_back({f, value_text(d, f), by});
}

// --- ExplanationRecorder -------------------------------------------------------------

void ExplanationRecorder::add_context_not_in_kubeconfig(const std::string& context) {
  ex_->problems.push_back({"context.name", "context " + quote_value(context) +
                                               " is not in the kubeconfig: kubeconfig facts are absent, "
                                               "cluster.name is the context name"});
}

RuleTraceRecorder ExplanationRecorder::add_rule(const CompiledRule& rule) {
  ex_->rules.push_back({});
  Explanation::RuleTrace* trace = &ex_->rules.back();
  trace->rule = &rule;
  return RuleTraceRecorder(trace);
}

void ExplanationRecorder::add_identify_decision(const Decision& d, const RulePerField& decided_by) {
  for (std::size_t f = 0; f < kFieldCount; ++f) {
    ex_->fields.push_back(
        {static_cast<Field>(f), decided_by[f], value_text(d, static_cast<Field>(f)), nullptr, {}});
  }
}

void ExplanationRecorder::add_policy_decision(const Decision& d, const RulePerField& decided_by) {
  for (std::size_t f = 0; f < kFieldCount; ++f) {
    if (!decided_by[f]) continue;
    auto& ft = ex_->fields[f];
    ft.replaced_rule = ft.rule;
    ft.replaced_value = ft.value;
    ft.rule = decided_by[f];
    ft.value = value_text(d, static_cast<Field>(f));
  }
}

void ExplanationRecorder::add_command_ran(const Argv& argv, const CommandResult& r) {
  Explanation::CommandTrace t;
  t.argv = argv;
  t.status = command_status(r);
  t.duration = r.duration;
  t.output_head = output_head(r.out);
  t.error_head = output_head(r.err);
  t.from_cache = r.from_cache;
  t.cache_age = r.cache_age;
  ex_->commands.push_back(std::move(t));
}

}  // namespace lcrules
