// The `lcrules` command line: eval, check, rules, facts, test, fmt, serve, version, completion;
// the hidden __complete and __man, and the name kubectl-lcrules (engine/cli/invocation.hpp).
#include <sys/stat.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "engine/cli/app.hpp"
#include "engine/cli/completion.hpp"
#include "engine/cli/invocation.hpp"
#include "engine/cli/usage.hpp"
#include "engine/facts/command.hpp"
#include "engine/serve/server.hpp"

#ifndef LCRULES_SOURCE_RULES_DIR
#define LCRULES_SOURCE_RULES_DIR ""
#endif

namespace {

// --deadline when not given (eval, facts), seconds.
constexpr double kDefaultDeadlineSeconds = 10;

// 128 + N after signal N interrupted a one-shot subcommand (docs/cli.md), else nothing.
std::optional<int> interrupted_status() {
  if (int sig = lcrules::interrupted_by_signal()) return 128 + sig;
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lcrules;
  using namespace lcrules::cli;
  configure_allocator();
  CLI::App app{
      "lcrules: is the cluster behind a kube-context local, which product is it, and how do images get in?"};
  app.set_version_flag(
      "--version",
      [] {
        auto text = version_text();
        text.pop_back();
        return text;
      },
      "Print lcrules' version and what it was built with");
  app.require_subcommand(1);

  RuleSetOptions rule_opts;
  rule_opts.shipped_fallback = LCRULES_SOURCE_RULES_DIR;
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Log what lcrules does to stderr");

  auto add_rule_options = [&](CLI::App* sub) {
    sub->add_option("--rules", rule_opts.extra, "Also load this rule file or folder (repeatable)");
    sub->add_flag("--no-default-rules", rule_opts.no_default_rules, "Do not load the shipped rules");
    sub->add_flag("--no-user-rules", rule_opts.no_user_rules,
                  "Do not load /etc/lcrules or ~/.config/lcrules");
  };

  EvalRequest eval_opts;
  auto add_context_options = [&](CLI::App* sub) {
    sub->add_option("--context", eval_opts.context,
                    "The kube-context to classify (default: current-context)");
    sub->add_option("--kubeconfig", eval_opts.kubeconfig,
                    "Read this kubeconfig instead of $KUBECONFIG or ~/.kube/config");
    sub->add_option("--skaffold-yaml", eval_opts.skaffold_yaml,
                    "A project's skaffold.yaml (its build.local.push)");
    sub->add_flag("--probe-cluster", eval_opts.probe_cluster, "Let rules ask the API server (kubectl)");
    // Bounded like durations in rule files, so milliseconds always fit in a clock.
    sub->add_option("--command-timeout", eval_opts.command_timeout,
                    "Default timeout of each command, seconds")
        ->check(CLI::Range(0.001, 1e9));
    sub->add_option("--deadline", eval_opts.deadline,
                    "Deadline for the whole evaluation, seconds (default " +
                        std::to_string(static_cast<int>(kDefaultDeadlineSeconds)) + ")")
        ->check(CLI::Range(0.001, 1e9));
    sub->add_flag("--no-exec", eval_opts.no_exec, "Run no command; command predicates are false");
    sub->add_flag("--no-cache", eval_opts.no_cache,
                  "Do not use or write cached results (commands, compiled rules, kubeconfig)");
  };

  std::string output = "text";
  auto add_output = [&](CLI::App* sub) {
    sub->add_option("-o,--output", output, "Output format")->check(one_of({"text", "json"}));
  };

  auto* eval = app.add_subcommand("eval", "Classify a kube-context");
  add_context_options(eval);
  add_rule_options(eval);
  add_output(eval);
  eval->add_flag("--explain", eval_opts.explain, "Say why each field was decided");

  std::vector<std::string> check_paths;
  bool check_alone = false;
  auto* check = app.add_subcommand("check", "Parse and check rule files (default: the active rule set)");
  check->add_option("paths", check_paths, "Rule files or folders, checked on top of the active rule set");
  check->add_flag("--alone", check_alone, "Check only the given files, not on top of the active rule set");
  add_rule_options(check);
  add_output(check);

  auto* rules = app.add_subcommand("rules", "List the active rules in evaluation order");
  add_rule_options(rules);
  add_output(rules);

  bool run_commands = false;
  auto* facts = app.add_subcommand("facts", "Show the facts rules can use for a context");
  add_context_options(facts);
  add_rule_options(facts);
  add_output(facts);
  facts->add_flag("--run-commands", run_commands, "Also run the commands the rules can run");

  TestOptions test_opts;
  std::string test_output = "text";
  auto* test = app.add_subcommand("test", "Run rule-set tests (*.rules-test.yaml)");
  test->add_option("paths", test_opts.paths,
                   "Test files or folders (default: the tests beside the shipped, system and user rules)");
  test->add_option("--run", test_opts.run_filter, "Only tests whose name matches this regex");
  test->add_flag("--coverage", test_opts.coverage,
                 "List rules under test that no test saw match and decide a field");
  test->add_flag("--explain", test_opts.explain, "Print the whole explanation under each failed test");
  test->add_flag("-q,--quiet", test_opts.quiet, "Print only failed tests and the summary");
  test->add_option("-o,--output", test_output, "Output format")
      ->check(CLI::IsMember({"text", "json", "junit"}));
  test->add_flag("--no-default-rules", rule_opts.no_default_rules,
                 "Without PATH: do not run the tests beside the shipped rules");
  test->add_flag("--no-user-rules", rule_opts.no_user_rules,
                 "Without PATH: do not run the tests in /etc/lcrules or ~/.config/lcrules");

  FmtOptions fmt_opts;
  auto* fmt =
      app.add_subcommand("fmt", "Rewrite rule files in the canonical layout (no path: stdin to stdout)");
  fmt->add_option("paths", fmt_opts.paths, "Rule files, or folders (their *.rules files); - for stdin");
  fmt->add_flag("--check", fmt_opts.check, "Write nothing; list the files that would change (exit 1 if any)");
  fmt->add_flag("--diff", fmt_opts.diff, "Write nothing; print the changes as a unified diff");

  serve::ServeOptions serve_opts;
  std::string log_level = "info";
  auto* serve = app.add_subcommand(
      "serve",
      "Answer evaluations over a local socket, reload rules as they change, and stream decision changes");
  serve->add_option("--socket", serve_opts.socket_path,
                    "Listen on this Unix socket (default: $XDG_RUNTIME_DIR/lcrules/lcrules.sock)");
  serve->add_option("--listen", serve_opts.listen,
                    "Serve HTTP on this loopback ADDRESS:PORT (needs --token-file)");
  serve->add_option("--token-file", serve_opts.token_file,
                    "A file holding the bearer token TCP clients must send (mode 0600)");
  serve->add_option("--log-level", log_level, "debug (one line per request), info, warn or error")
      ->check(one_of({"debug", "info", "warn", "error"}));
  add_rule_options(serve);

  auto* version = app.add_subcommand(
      "version", "Print lcrules' version, the rule language version it reads and what it was built with");
  add_output(version);

  std::string completion_shell;
  auto* completion =
      app.add_subcommand("completion", "Print the shell completion script for bash, zsh or fish");
  completion->add_option("shell", completion_shell, "The shell: bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember(completion_shells()));

  // --color, before or after the subcommand (docs/cli.md, "Colour").
  std::string color = "auto";
  for (auto* a : app.get_subcommands({})) {
    a->add_option("--color", color, "Colour: auto (a terminal, NO_COLOR unset), always or never")
        ->check(CLI::IsMember({"auto", "always", "never"}));
  }
  app.add_option("--color", color, "Colour: auto (a terminal, NO_COLOR unset), always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));

  std::string help_topic;
  const CLI::App* help = add_usage_support(app, help_topic);

  // kubectl-lcrules (kubectl's plugin) acts as `lcrules eval`; __complete and __man are hidden.
  const Invocation invoked = invocation(app, argc, argv);
  if (auto status = run_hidden_command(app, invoked, rule_opts)) return *status;
  app.name(invoked.name);
  std::vector<char*> args;
  for (const auto& a : invoked.args) args.push_back(const_cast<char*>(a.c_str()));

  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << usage_error(app, e);
    return kExitInput;  // every usage error is exit 2
  }
  if (*help) return run_help(app, help_topic);

  if (*completion) {
    std::cout << completion_script(completion_shell);
    return answer_written(kExitOk);
  }

  if (*serve) {
    // The service logs from several threads, with times.
    auto logger = spdlog::stderr_color_mt("lcrules");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e lcrules: %l: %v");
    logger->set_level(verbose ? spdlog::level::debug : spdlog::level::from_str(log_level));
    spdlog::set_default_logger(logger);
    try {
      const Engine engine;
      serve_opts.rules = rule_opts;
      serve_opts.rules.use_cache = false;  // a long-running server loads seldom and always from the files
      const char* watch = std::getenv("LCRULES_WATCH");
      serve_opts.poll_files = watch && std::string(watch) == "poll";
      return serve::run(engine, serve_opts);
    } catch (const std::exception& e) {
      spdlog::error("internal error: {}", e.what());
      return kExitInternal;
    }
  }

  // One-shot subcommands: SIGTERM, SIGINT and SIGHUP kill the running command's process
  // group and end lcrules with 128 + the signal (lcrules serve handles them itself).
  install_interrupt_handlers();
  // A hanging command must not hold an evaluation for the sum of its commands' timeouts.
  if ((*eval || *facts) && !eval_opts.deadline) eval_opts.deadline = kDefaultDeadlineSeconds;

  set_styles(decide_styles(color));
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_st>(
      styles().err.color ? spdlog::color_mode::always : spdlog::color_mode::never);
  sink->set_color(spdlog::level::warn, "\033[1;33m");  // as lcrules' own warning: (lcrules/style.hpp)
  sink->set_color(spdlog::level::err, "\033[1;31m");
  auto logger = std::make_shared<spdlog::logger>("lcrules", sink);
  logger->set_pattern("lcrules: %^%l%$: %v");
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::warn);
  spdlog::set_default_logger(logger);

  try {
    const Engine engine;
    int status = kExitInternal;
    if (*eval) {
      status = run_eval(engine, eval_opts, rule_opts, output == "json");
    } else if (*check) {
      status = run_check(engine, check_paths, rule_opts, check_alone, output == "json");
    } else if (*rules) {
      status = run_rules(engine, rule_opts, output == "json");
    } else if (*facts) {
      status = run_facts(engine, eval_opts, rule_opts, output == "json", run_commands);
    } else if (*fmt) {
      status = run_fmt(fmt_opts);
    } else if (*test) {
      test_opts.format = test_output == "json"    ? TestOptions::Format::Json
                         : test_output == "junit" ? TestOptions::Format::Junit
                                                  : TestOptions::Format::Text;
      test_opts.explain = test_opts.explain || verbose;
      status = run_tests(engine, test_opts, rule_opts);
    } else if (*version) {
      status = run_version(output == "json");
    }
    return interrupted_status().value_or(status);
  } catch (const std::exception& e) {
    std::cerr << "lcrules: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
  return kExitInternal;
}
