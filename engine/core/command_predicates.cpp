#include "engine/core/command_predicates.hpp"

#include <chrono>
#include <utility>

#include "engine/facts/docpath.hpp"

namespace lcrules {

CommandPredicates::RanCommand& CommandPredicates::run(const CompiledCommand& cmd, Argv argv) {
  for (auto& r : ran_) {
    if (r.argv == argv) return r;
  }
  const EvaluationInput& in = facts_.input();
  CommandRequest req;
  req.argv = argv;
  req.timeout = timeout(cmd);
  // Exactly the kubeconfig files read. None read: ":", a list of no file (kubectl does not
  // fall back to ~/.kube/config then), never the inherited $KUBECONFIG, which may name files
  // that were missing when lcrules looked, or another list than a serve request's.
  req.extra_env["KUBECONFIG"] = in.kubeconfig_files.empty() ? std::string(":") : facts_.kubeconfig_path();
  if (cmd.cache_seconds) req.cache_ttl = std::chrono::seconds(static_cast<long long>(*cmd.cache_seconds));
  req.cache_env = cmd.cache_env;
  CommandResult result;
  if (in.executor) {
    result = in.executor->run(req);
  } else {
    result.status = CommandResult::Status::NotRun;
    result.reason = "commands are disabled";
  }
  recorder_.command_ran(argv, result);
  ran_.push_back({std::move(argv), std::move(result), false, false, {}, {}, {}, {}});
  return ran_.back();
}

std::chrono::milliseconds CommandPredicates::timeout(const CompiledCommand& cmd) const {
  double seconds = cmd.timeout_seconds      ? *cmd.timeout_seconds
                   : rule_->timeout_seconds ? *rule_->timeout_seconds
                                            : facts_.input().command_timeout.count() / 1000.0;
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

bool CommandPredicates::holds(const ConditionNode& n, CheckRecorder checks) {
  const CompiledCommand& cmd = *n.command;
  Argv argv;
  for (const auto& arg : cmd.argv) {
    std::string text, missing;
    if (!facts_.render(arg, text, &missing)) {
      checks.command_not_run(missing, n.loc);
      return false;
    }
    argv.push_back(std::move(text));
  }
  RanCommand& memo = run(cmd, argv);
  const CommandResult& r = memo.result;
  // The command as checks name it; only built when they are recorded.
  const std::string shown = checks.on() ? CheckRecorder::command_subject(memo.argv) : std::string();
  using CK = ast::CommandTest::Kind;
  if (cmd.test == CK::Exits) {
    const bool held = r.status == CommandResult::Status::Exited && r.exit_code == cmd.exit_status;
    checks.command_exit(shown, r, cmd.exit_status, held, n.loc);
    return held;
  }
  if (!r.succeeded()) {
    checks.command_failed(shown, r, n.loc);
    return false;
  }
  if (cmd.test == CK::Succeeds) {
    checks.command_succeeded(shown, n.loc);
    return true;
  }
  if (cmd.test == CK::Output) {
    return tests_.test(*cmd.string_test, r.out, checks.on() ? CheckRecorder::output_subject(shown) : shown,
                       n.loc, checks);
  }
  const bool json = cmd.test == CK::Json;
  const nlohmann::json* doc = parsed_output(memo, json);
  if (!doc) {
    checks.output_unparsed(shown, json, json ? memo.json_error : memo.yaml_error, n.loc);
    return false;
  }
  // `go(TYPE)`: the output as Go's encoding/json decodes it into TYPE.
  std::optional<nlohmann::json> decoded;
  if (const std::string* type = docpath::go_type(cmd.doc_path)) {
    std::string why;
    decoded = docpath::go_decode(r.out, *type, &why);
    if (!decoded) {
      checks.output_undecodable(shown, *type, why, n.loc);
      return false;
    }
    doc = &*decoded;
  }
  const bool every = docpath::selects_every(cmd.doc_path);
  const std::string subject =
      checks.on() ? CheckRecorder::document_subject(shown, json, cmd.doc_path_spelling) : std::string();
  std::size_t seen = 0;
  NestedChecks value_checks(checks);  // the check of the value that held, if one does
  for (const nlohmann::json* value : docpath::select(*doc, cmd.doc_path)) {
    std::optional<std::string> text;
    if (cmd.projection) {
      facts_.set_item(value);
      std::string rendered;
      if (facts_.render(*cmd.projection, rendered, nullptr)) text = std::move(rendered);
      facts_.set_item(nullptr);
    } else {
      text = docpath::scalar_text(*value);
    }
    if (!text) {
      if (!every) continue;
      checks.selected_value_not_scalar(subject, n.loc);
      return false;
    }
    ++seen;
    const std::size_t mark = facts_.capture_mark();
    if (every) {  // each value must hold; the captures are the first value's
      if (!tests_.test(*cmd.string_test, *text, subject, n.loc, value_checks.recorder())) {
        checks.selected_value_held(value_checks);
        return false;
      }
      if (seen > 1) facts_.drop_captures_after(mark);
      value_checks.clear();
      continue;
    }
    if (tests_.test(*cmd.string_test, *text, subject, n.loc, value_checks.recorder())) {
      checks.selected_value_held(value_checks);
      return true;
    }
    value_checks.clear();
    facts_.drop_captures_after(mark);
  }
  if (every) {
    checks.every_selected_value_held(subject, seen, *cmd.string_test, n.loc);
    return true;
  }
  checks.no_selected_value_held(subject, seen, *cmd.string_test, n.loc);
  return false;
}

const nlohmann::json* CommandPredicates::parsed_output(RanCommand& ran, bool json) {
  if (json) {
    if (!ran.json_parsed) {
      ran.json = docpath::parse_json(ran.result.out, &ran.json_error);
      ran.json_parsed = true;
    }
    return ran.json ? &*ran.json : nullptr;
  }
  if (!ran.yaml_parsed) {
    ran.yaml = docpath::parse_yaml(ran.result.out, &ran.yaml_error);
    ran.yaml_parsed = true;
  }
  return ran.yaml ? &*ran.yaml : nullptr;
}

}  // namespace lcrules
