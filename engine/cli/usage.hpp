// Usage errors of the command line in lcrules' words: every one is
// "lcrules: error: MESSAGE" on stderr and exit 2 (docs/cli.md), with "did you mean" for an
// unknown subcommand, flag or value. Also `lcrules help [SUBCOMMAND]` and the flags that
// work after any subcommand (-v).
#pragma once

#include <CLI/CLI.hpp>
#include <initializer_list>
#include <string>

namespace lcrules::cli {

// A check for an option taking one of `values`: "'yaml' is not one of: text, json".
CLI::Validator one_of(std::initializer_list<const char*> values);

// After every subcommand is added: the parent's flags (-v, --help)
// work after a subcommand too, and `help [SUBCOMMAND]` is a subcommand. Returns the `help` subcommand.
CLI::App* add_usage_support(CLI::App& app, std::string& help_topic);

// `lcrules help [SUBCOMMAND]` after parsing: prints the main help or the subcommand's
// (what `--help` prints) and returns 0, or prints a usage error and returns 2.
int run_help(CLI::App& app, const std::string& topic);

// The text for a parse error app.parse() threw (not CLI::Success): "lcrules: error: ...".
std::string usage_error(const CLI::App& app, const CLI::ParseError& e);

}  // namespace lcrules::cli
