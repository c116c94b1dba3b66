// How lcrules was started, decided before CLI11 parses the command line:
// - as `kubectl-lcrules` (kubectl's plugin `kubectl lcrules`, docs/cli.md), it acts as
//   `lcrules eval` unless a subcommand is named;
// - as `kubectl_complete-lcrules` (kubectl's completion of its plugin), it completes that;
// - `lcrules __complete ...` (the completion scripts' helper) and `lcrules __man [PAGE]`
//   (the man pages' generated parts) are hidden commands, handled here.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lcrules/engine.hpp"

namespace lcrules::cli {

struct Invocation {
  std::string name;               // what usage messages call the program
  std::vector<std::string> args;  // argv, rewritten for the plugin (`eval` inserted)
};

// `app` must hold every subcommand and flag already.
Invocation invocation(const CLI::App& app, int argc, char** argv);

// The hidden commands: their exit status, or nullopt when `args` is an ordinary command line.
std::optional<int> run_hidden_command(const CLI::App& app, const Invocation& invocation,
                                      const RuleSetOptions& rules);

// `lcrules __man`: the man pages' names, one per line (`lcrules`, `lcrules-eval`, ...).
// `lcrules __man PAGE`: PAGE as pandoc Markdown: title, NAME, SYNOPSIS, a line
// `@DESCRIPTION@` where the build puts the page's text from docs/, OPTIONS (every flag with
// its --help text and allowed values), SEE ALSO. Section 1; the build adds lcrules-rules(5).
std::string man_page_names(const CLI::App& app);
std::optional<std::string> man_page_markdown(const CLI::App& app, const std::string& page);

}  // namespace lcrules::cli
