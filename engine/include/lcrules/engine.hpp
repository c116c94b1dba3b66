// lcrules' public API: load a rule set, evaluate kube-contexts against it, list its rules and
// the facts a context offers. The `lcrules` command line and `lcrules serve` are built on
// this header alone (docs/api.md).
//
// Errors are values (lcrules::Error): nothing below this API writes to stdout or stderr or
// exits. A LoadedRules is immutable and may be evaluated from many threads at once; an
// Engine may be shared by those threads too.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "lcrules/decision.hpp"
#include "lcrules/error.hpp"
#include "lcrules/style.hpp"

namespace lcrules {

// A value or the errors that prevented it (one or more; every problem found is reported).
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}                          // NOLINT(google-explicit-constructor)
  Result(std::vector<Error> errors) : v_(std::move(errors)) {}       // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::vector<Error>{std::move(error)}) {}  // NOLINT
  explicit operator bool() const { return v_.index() == 0; }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const std::vector<Error>& errors() const {
    static const std::vector<Error> none;
    return v_.index() == 1 ? std::get<1>(v_) : none;
  }

 private:
  std::variant<T, std::vector<Error>> v_;
};

// Where the engine reads its environment: HOME, XDG_CONFIG_HOME, XDG_CACHE_HOME,
// LCRULES_SYSTEM_DIR, KUBECONFIG, and the variables rules read (env.NAME). By default the
// process's own.
struct Environment {
  std::function<std::optional<std::string>(const std::string&)> getenv;  // null: ::getenv

  std::optional<std::string> get(const std::string& name) const;
  std::string home() const;       // $HOME, else the password database's
  std::string cache_dir() const;  // ${XDG_CACHE_HOME:-$HOME/.cache}/lcrules
};

// Which rule files make up the active rule set (the rule-set flags of every subcommand).
struct RuleSetOptions {
  std::string shipped_fallback;    // shipped rules when there is no share/lcrules beside the binary
  std::vector<std::string> extra;  // --rules FILE|DIR, in order
  bool no_default_rules = false;   // --no-default-rules
  bool no_user_rules = false;      // --no-user-rules
  bool use_cache = true;           // the compiled rule-set cache; false: --no-cache
};

// A place rules are read from: a folder (its *.rules files) or one file.
struct RulePath {
  std::string path;
  bool folder = true;
};

// One row of `lcrules rules`.
struct RuleInfo {
  std::string name;
  long long priority = 0;
  std::string stage;  // "identify" | "policy"
  std::string file;
  unsigned line = 0;
  std::string status;                   // "active" | "disabled" | "overridden"
  std::vector<std::string> changed_by;  // "FILE:LINE" of each override
  std::optional<std::string> disabled_by;
  std::string description;
};

// An immutable, checked rule set. Cheap to copy (shared); safe to use from many threads.
class LoadedRules {
 public:
  struct Impl;
  explicit LoadedRules(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  const std::vector<std::string>& files() const;     // rule files in load order
  std::vector<RuleInfo> rules() const;               // in evaluation order
  const std::vector<std::string>& warnings() const;  // "no shipped rules found"
  // Warnings about the rules, "FILE:LINE:COL: warning: ..." (docs/language.md, `leave`).
  const std::vector<std::string>& rule_warnings() const;

 private:
  friend class Engine;
  std::shared_ptr<const Impl> impl_;
};

// One evaluation. Unset fields mean what the absent flag of `lcrules eval` means.
struct EvalRequest {
  std::string context;                         // --context; empty: the current-context
  std::string kubeconfig;                      // --kubeconfig: one file, which must exist
  std::optional<std::string> kubeconfig_env;   // instead of the environment's $KUBECONFIG
  std::optional<std::string> kubeconfig_text;  // a kubeconfig's text instead of any file
  std::string skaffold_yaml;                   // --skaffold-yaml
  bool probe_cluster = false;                  // --probe-cluster
  double command_timeout = 5;                  // --command-timeout, seconds
  std::optional<double> deadline;              // --deadline, seconds
  bool no_exec = false;                        // --no-exec
  bool no_cache = false;                       // --no-cache (command results, kubeconfig)
  bool explain = false;                        // --explain
};

// A decision, and its explanation when one was asked for.
class Evaluation {
 public:
  struct Data;
  explicit Evaluation(std::shared_ptr<const Data> data) : data_(std::move(data)) {}
  const Decision& decision() const;
  bool explained() const;
  nlohmann::ordered_json json() const;  // exactly the object `lcrules eval -o json` prints (apiVersion first)
  std::string text(TextStyle style = {}) const;  // what `lcrules eval` prints (colour: docs/cli.md)
  // What the caller should be told besides the answer (`lcrules eval` prints each as
  // "lcrules: warning: ..."): 'context "x" is not in the kubeconfig (read FILE)'. Each is
  // also in the decision's notes.
  const std::vector<std::string>& warnings() const;

 private:
  std::shared_ptr<const Data> data_;
};

// One row of `lcrules facts`.
struct Fact {
  std::string name;                  // "cluster.server.host", "env.MINIKUBE_HOME", "command"
  std::optional<std::string> value;  // absent facts have none
  std::string detail;                // commands: status and where they are used
};

// Counters for the whole life of an Engine (the service's /metrics).
struct EngineStats {
  std::uint64_t commands_run = 0;
  std::uint64_t command_cache_hits = 0;
  std::uint64_t commands_shared = 0;  // answered by an identical command already running
};

class Engine {
 public:
  explicit Engine(Environment env = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const Environment& environment() const;

  // Shipped, system (/etc/lcrules), user (~/.config/lcrules) and extra rule files, read,
  // parsed and checked. Every problem of every file is in the errors.
  Result<LoadedRules> load(const RuleSetOptions& options) const;

  // Where `load` looks for rules (shipped, system, user folders, extra paths), whether or
  // not they exist now: what a long-running program watches to reload.
  std::vector<RulePath> rule_paths(const RuleSetOptions& options) const;

  // `lcrules check FILE|DIR ...`: the given files loaded after the active rule set (shipped,
  // system, user and extra rules, as `load` finds them, with their ownership checks), so
  // that an override of a shipped or user rule checks as it will load; a file of the active
  // set that is also given loads once, in its place. `alone`: only the given files. The
  // given files run nothing here, so no ownership checks apply to them.
  Result<LoadedRules> check(const std::vector<std::string>& paths, const RuleSetOptions& options,
                            bool alone = false) const;

  // Classifies one context. Concurrent evaluations that need the same command with the
  // same inputs run it once.
  Result<Evaluation> evaluate(const LoadedRules& rules, const EvalRequest& request) const;

  // The facts rules can use for the request's context (`lcrules facts`); commands are
  // listed, and run only with `run_commands`.
  Result<std::vector<Fact>> facts(const LoadedRules& rules, const EvalRequest& request,
                                  bool run_commands) const;

  // The context names of the kubeconfig `evaluate` would read for this request (its
  // `kubeconfig`, else $KUBECONFIG, else ~/.kube/config), in first-definition order; shell
  // completion offers them for --context.
  Result<std::vector<std::string>> context_names(const EvalRequest& request) const;

  EngineStats stats() const;

 private:
  struct Shared;
  Environment env_;
  std::unique_ptr<Shared> shared_;
};

// The `-o json` and text forms of `lcrules rules` and `lcrules facts`.
nlohmann::ordered_json rules_json(const std::vector<RuleInfo>& rules);
std::string rules_text(const std::vector<RuleInfo>& rules);
nlohmann::ordered_json facts_json(const std::vector<Fact>& facts);
std::string facts_text(const std::vector<Fact>& facts);

// `lcrules check -o json`: {"diagnostics": [{file, line, column, end_line, end_column,
// severity, message, suggestion}, ...]} for the errors and the warnings ("FILE:LINE:COL:
// warning: MESSAGE" or any text). end_line/end_column: just past the token at the position
// (read from the file), 1-based; null with the position when it is not known.
nlohmann::ordered_json diagnostics_json(const std::vector<Error>& errors,
                                        const std::vector<std::string>& warnings);

// The version of the JSON lcrules writes (docs/cli.md, "JSON contracts"): every top-level
// JSON object carries it as "apiVersion". Keys are only ever added under one version; a
// key's meaning or type changes only with a new version.
inline constexpr const char* kApiVersion = "lcrules/v1";

// `j` with "apiVersion": kApiVersion as its first key when it is an object that has none;
// anything else (an array such as `lcrules rules -o json`) unchanged.
nlohmann::ordered_json with_api_version(nlohmann::ordered_json j);

// Pretty-printed JSON as the command line prints it (two spaces, a final newline), a
// top-level object with its "apiVersion" (with_api_version).
std::string dump_json(const nlohmann::ordered_json& j);

// Process-wide allocator settings for a program that loads rule sets (docs/performance.md,
// "The allocator"): glibc's fastbins off. Call first thing in main().
void configure_allocator();

}  // namespace lcrules
