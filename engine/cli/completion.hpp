// Shell completion for the `lcrules` command line (docs/cli.md, "Shell completion"):
// `lcrules completion bash|zsh|fish` prints a script, and the script asks the binary itself
// for candidates through the hidden `lcrules __complete WORD... CURRENT`, which reads the
// CLI11 definitions (subcommands, flags, `IsMember` values), so the two cannot drift.
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "lcrules/engine.hpp"

namespace lcrules::cli {

// The shells `lcrules completion` writes a script for.
const std::vector<std::string>& completion_shells();

// The completion script for `shell` (one of completion_shells()).
std::string completion_script(const std::string& shell);

// `lcrules __complete WORD... CURRENT`: the words after the program name up to the cursor,
// the last one being the word being completed (possibly empty). Writes one candidate per
// line (`VALUE` or `VALUE<TAB>DESCRIPTION`) that starts with CURRENT, then `:DIRECTIVE`:
// 0 when the shell may complete file names if there is no candidate, 4 when it must not
// (cobra's directives, so kubectl's plugin completion can use it). Never fails: what it
// cannot read gives no candidate.
void complete(const CLI::App& app, const std::vector<std::string>& words, const RuleSetOptions& rules,
              std::ostream& out);

// Whether the option takes a value (`--context NAME`), unlike a flag (`--explain`).
bool takes_value(const CLI::Option* opt);

// A shell word as the shell would pass it: quotes and backslashes removed, a leading `~/`
// replaced by $HOME.
std::string shell_unquote(const std::string& word);

}  // namespace lcrules::cli
