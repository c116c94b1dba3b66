#include "engine/core/command_predicates.hpp"

#include <chrono>
#include <utility>

#include <algorithm>

#include "engine/facts/docpath.hpp"
#include "engine/facts/file_reads.hpp"

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
  ran_.push_back({std::move(argv), std::move(result), {}});
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
  return test_document(cmd, r.out, memo.parsed, shown, false, n.loc, checks);
}

bool CommandPredicates::test_document(const CompiledCommand& cmd, const std::string& text, Parsed& p,
                                      const std::string& shown, bool file, const ast::Location& loc,
                                      CheckRecorder checks) {
  using CK = ast::CommandTest::Kind;
  const bool json = cmd.test == CK::Json;
  const nlohmann::json* doc = parsed(text, p, json);
  // What did not parse: "`argv` output", "file '/path'".
  const std::string source = checks.on() ? (file ? shown : shown + " output") : std::string();
  if (!doc) {
    checks.output_unparsed(source, json, json ? p.json_error : p.yaml_error, loc);
    return false;
  }
  // `go(TYPE)`: the output as Go's encoding/json decodes it into TYPE.
  std::optional<nlohmann::json> decoded;
  if (const std::string* type = docpath::go_type(cmd.doc_path)) {
    std::string why;
    decoded = docpath::go_decode(text, *type, &why);
    if (!decoded) {
      checks.output_undecodable(source, *type, why, loc);
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
      checks.selected_value_not_scalar(subject, loc);
      return false;
    }
    ++seen;
    const std::size_t mark = facts_.capture_mark();
    if (every) {  // each value must hold; the captures are the first value's
      if (!tests_.test(*cmd.string_test, *text, subject, loc, value_checks.recorder())) {
        checks.selected_value_held(value_checks);
        return false;
      }
      if (seen > 1) facts_.drop_captures_after(mark);
      value_checks.clear();
      continue;
    }
    if (tests_.test(*cmd.string_test, *text, subject, loc, value_checks.recorder())) {
      checks.selected_value_held(value_checks);
      return true;
    }
    value_checks.clear();
    facts_.drop_captures_after(mark);
  }
  if (every) {
    checks.every_selected_value_held(subject, seen, *cmd.string_test, loc);
    return true;
  }
  checks.no_selected_value_held(subject, seen, *cmd.string_test, loc);
  return false;
}

const nlohmann::json* CommandPredicates::parsed(const std::string& text, Parsed& p, bool json) {
  if (json) {
    if (!p.json_parsed) {
      p.json = docpath::parse_json(text, &p.json_error);
      p.json_parsed = true;
    }
    return p.json ? &*p.json : nullptr;
  }
  if (!p.yaml_parsed) {
    p.yaml = docpath::parse_yaml(text, &p.yaml_error);
    p.yaml_parsed = true;
  }
  return p.yaml ? &*p.yaml : nullptr;
}

// --- read ------------------------------------------------------------------------------

CommandPredicates::ReadFile& CommandPredicates::read(const std::string& path) {
  for (auto& f : read_) {
    if (f.path == path) return f;
  }
  const EvaluationInput& in = facts_.input();
  ReadFile f;
  f.path = path;
  std::string why = "files are not read here";
  if (in.read_file) f.ok = in.read_file(path, f.text, why);
  if (!f.ok) f.text = why.empty() ? std::string("cannot be read") : why;
  read_.push_back(std::move(f));
  return read_.back();
}

bool CommandPredicates::expand(const std::string& pattern, const std::vector<std::size_t>& stars,
                               std::vector<std::string>& out, std::string& why) const {
  const EvaluationInput& in = facts_.input();
  std::vector<std::string> paths{""};  // the paths so far, without a trailing '/'
  std::vector<file_reads::FolderEntry> entries;
  std::size_t at = 1;  // after the leading '/'
  while (at <= pattern.size()) {
    std::size_t end = pattern.find('/', at);
    if (end == std::string::npos) end = pattern.size();
    const std::string component = pattern.substr(at, end - at);
    const bool last = end == pattern.size();
    const bool wildcard = component == "*" && std::find(stars.begin(), stars.end(), at) != stars.end();
    if (wildcard) {
      std::vector<std::string> next;
      for (const auto& folder : paths) {
        const std::string listed = folder.empty() ? std::string("/") : folder;
        std::string reason;
        const auto result =
            in.list_folder ? in.list_folder(listed, entries, reason) : file_reads::ListResult::Missing;
        if (result == file_reads::ListResult::Failed) {
          why = "cannot list " + quote_value(listed) + ": " + reason;
          return false;
        }
        if (result == file_reads::ListResult::Missing) continue;
        for (const auto& e : entries) {
          if (e.folder == last) continue;  // a '*' before the end names folders, a final one files
          next.push_back(folder + "/" + e.name);
          if (next.size() > file_reads::kMaxReadFiles) {
            why = "it names more than " + std::to_string(file_reads::kMaxReadFiles) + " paths";
            return false;
          }
        }
      }
      paths = std::move(next);
    } else if (!component.empty()) {  // '//' and a trailing '/' add nothing
      for (auto& p : paths) p += "/" + component;
    }
    at = end + 1;
  }
  for (auto& p : paths) {
    if (p.empty()) p = "/";
  }
  out = std::move(paths);
  return true;
}

bool CommandPredicates::holds_read(const ConditionNode& n, CheckRecorder checks) {
  const CompiledCommand& cmd = *n.command;
  std::string pattern, missing;
  std::vector<std::size_t> stars;
  if (!facts_.render(*n.subject, pattern, &missing, stars)) {
    checks.read_not_done(missing, n.loc);
    return false;
  }
  if (pattern.empty() || pattern[0] != '/') {
    checks.read_gave_up(pattern, "the path is not absolute", n.loc);
    return false;
  }
  std::vector<std::string> paths;
  std::string why;
  if (!expand(pattern, stars, paths, why)) {
    checks.read_gave_up(pattern, why, n.loc);
    return false;
  }
  const bool every = docpath::selects_every(cmd.doc_path);
  if (paths.empty()) {
    checks.read_no_file(pattern, every, n.loc);
    return every;
  }
  const std::size_t mark = facts_.capture_mark();
  bool first = true;
  for (const auto& path : paths) {
    ReadFile& f = read(path);
    const std::string shown = checks.on() ? "file " + quote_value(path) : std::string();
    if (!f.ok) {
      checks.file_unread(path, f.text, n.loc);
      if (every) return false;
      continue;
    }
    const std::size_t before = facts_.capture_mark();
    const bool held = test_document(cmd, f.text, f.parsed, shown, true, n.loc, checks);
    if (every) {
      if (!held) return false;
      if (!first) facts_.drop_captures_after(before);  // the captures are the first file's
      first = false;
      continue;
    }
    if (held) return true;
    facts_.drop_captures_after(mark);
  }
  return every;
}

}  // namespace lcrules
