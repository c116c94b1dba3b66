// Stage 1 of the pipeline: which rule files make up the active rule set, and reading them
// (with the permission checks that guard files able to run commands).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/core/ruleset.hpp"
#include "lcrules/error.hpp"

namespace lcrules {

enum class RuleOrigin { Shipped, System, User, CommandLine };

struct RuleSources {
  std::optional<std::string> shipped_dir;  // nullopt: none found
  std::string system_dir;                  // /etc/lcrules or $LCRULES_SYSTEM_DIR
  std::string user_dir;                    // ${XDG_CONFIG_HOME:-$HOME/.config}/lcrules
  std::vector<std::string> extra;          // --rules FILE|DIR, in command-line order
  bool no_default_rules = false;
  bool no_user_rules = false;
};

struct RuleFileRef {
  std::string path;
  RuleOrigin origin = RuleOrigin::Shipped;
  bool checked = false;  // read through open_trusted (ownership and modes), not by its path
  // Refused by the ownership and mode checks (the error is with collect_rule_files' errors):
  // read by its path only so that its own mistakes are reported in the same run; a rule
  // set with a refused file is never built.
  bool refused = false;
};

// Errors are values whose text is the complete message ("FILE: error: ..." or a formatted
// Diagnostic).
struct LoadResult {
  std::optional<RuleSet> rule_set;
  std::vector<Error> errors;
};

// The files in load order: shipped, system, user, then --rules; in a folder only `*.rules`
// files, in lexical order. Missing system/user folders are skipped; a missing --rules path
// is an error. Every file and folder, the shipped ones too, must pass open_trusted; the
// files are marked `checked`, so that load_rule_set checks them again as it reads them.
// A file or folder the checks refuse is an error, and its files are still listed, marked
// `refused`, so that every problem of every file is reported in one run.
std::vector<RuleFileRef> collect_rule_files(const RuleSources& sources, std::vector<Error>& errors);

// Same, for explicit paths only (`lcrules check FILE|DIR ...`, `lcrules test`), all treated
// as `origin`; only origins other than Shipped are checked (check and test run no command).
std::vector<RuleFileRef> collect_paths(const std::vector<std::string>& paths, RuleOrigin origin,
                                       std::vector<Error>& errors);

// Opens a rule file (or, with `folder`, a rule folder) that may run commands, for reading
// (O_RDONLY, close-on-exec, non-blocking), refusing anything another user could change: the
// path is resolved (realpath) and then opened one folder at a time from `/` without
// following links (openat, O_NOFOLLOW), and each descriptor is checked (fstat) as it is
// opened, so the checks apply to exactly what is read. Every folder on the way must be
// owned by the caller or root and not writable by group or others unless sticky; the file
// or folder itself must be owned by the caller or root and not writable by group or others
// (a sticky folder is accepted), and a file must be a regular file. Returns the descriptor,
// or -1 with the reason ("PATH: error: ...") appended to `errors`; `refused`, when given, is
// set when the reason is an owner or a mode (not a file that cannot be read).
int open_trusted(const std::string& path, bool folder, std::vector<Error>& errors, bool* refused = nullptr);

// Reads, parses and checks the files into one rule set; a `checked` file is read from the
// descriptor open_trusted returns. Reports the first syntax error of each file and every
// semantic error. No rule set when a file is `refused` (its own errors are still reported).
LoadResult load_rule_set(const std::vector<RuleFileRef>& files);

// Where the shipped rules are: `<exe>/../share/lcrules` when installed, else `fallback`
// (the source tree's rules/ when run from the build tree).
std::optional<std::string> find_shipped_rules(const std::string& fallback);

}  // namespace lcrules
