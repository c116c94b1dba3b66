// `lcrules test`: rule-set tests kept beside rule files (*.rules-test.yaml), run against
// stubbed facts and commands, with coverage of which rules decided something.
#pragma once

#include <string>
#include <vector>

#include "engine/cli/app.hpp"

namespace lcrules {

struct TestOptions {
  std::vector<std::string> paths;  // files or folders; empty: the shipped rules' folder
  std::string run_filter;          // regex over test names
  bool coverage = false;
  bool json = false;
};

// Exit 0 all passed, 1 any failed (or uncovered rules with --coverage), 2 could not load or
// no test ran.
int run_tests(const TestOptions& opts, const RuleOptions& rule_opts);

}  // namespace lcrules
