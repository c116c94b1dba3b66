// The subcommands of the `lcrules` command line, on the public API (lcrules/engine.hpp):
// each turns the API's values and errors into output and an exit status.
#pragma once

#include <string>
#include <vector>

#include "lcrules/engine.hpp"
#include "lcrules/testing.hpp"
#include "lcrules/version.hpp"

namespace lcrules::cli {

// The one exit-code table (docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitNo = 1;        // the answer is no (failing tests)
inline constexpr int kExitInput = 2;     // usage or input error
inline constexpr int kExitInternal = 3;  // a bug in lcrules

// `status`, once the answer written to std::cout is flushed; a failed write is reported
// (`lcrules: error: cannot write the answer: ...`) and gives kExitInput.
int answer_written(int status);

int run_eval(const Engine& engine, const EvalRequest& request, RuleSetOptions rules, bool json);
// `alone`: only the given files; `json`: diagnostics for editors on stdout (docs/cli.md).
int run_check(const Engine& engine, const std::vector<std::string>& paths, const RuleSetOptions& rules,
              bool alone, bool json);
int run_rules(const Engine& engine, const RuleSetOptions& rules, bool json);
int run_facts(const Engine& engine, const EvalRequest& request, RuleSetOptions rules, bool json,
              bool run_commands);
// No path: the tests beside the active rule set (shipped, system and user folders).
int run_tests(const Engine& engine, TestOptions options, const RuleSetOptions& rules);
// Colour (docs/cli.md, "Colour"), decided once by main() for each stream: `when` is the
// --color value, auto (a terminal, and NO_COLOR unset or empty), always or never.
struct Styles {
  TextStyle out;  // standard output
  TextStyle err;  // standard error
};
Styles decide_styles(const std::string& when);
void set_styles(const Styles& styles);
const Styles& styles();

// `lcrules version [-o json]`; `lcrules --version` prints version_text().
int run_version(bool json);
std::string version_text();

// `lcrules fmt` (docs/cli.md).
struct FmtOptions {
  std::vector<std::string> paths;  // files and folders; none or "-": stdin to stdout
  bool check = false;              // write nothing, list what would change, exit 1 if anything would
  bool diff = false;               // write nothing, print a unified diff of what would change
};
int run_fmt(const FmtOptions& options);

}  // namespace lcrules::cli
