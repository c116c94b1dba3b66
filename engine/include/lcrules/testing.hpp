// lcrules' public API: rule-set tests (`lcrules test`), kept beside rule files as
// *.rules-test.yaml and run against stubbed facts and commands (docs/testing.md).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "lcrules/engine.hpp"
#include "lcrules/style.hpp"

namespace lcrules {

struct TestOptions {
  enum class Format { Text, Json, Junit };
  std::vector<std::string> paths;  // files or folders; empty: the test files in `search_folders`
  // The folders of the active rule set (Engine::rule_paths), searched when `paths` is empty;
  // missing ones are skipped. Both empty: the shipped rules' folder.
  std::vector<std::string> search_folders;
  std::string run_filter;  // regex over test names
  bool coverage = false;   // also list rules under test that no test saw decide something
  bool json = false;       // the report as JSON (the same as format = Json)
  Format format = Format::Text;
  bool quiet = false;    // text: only failed tests and the summary
  bool explain = false;  // text and JUnit: the whole explanation under each failed test
  TextStyle style;        // colour in the report: PASS/FAIL, explanations
  TextStyle error_style;  // colour in the errors: their error: labels
};

enum class TestStatus {
  Passed = 0,      // every test passed (and, with coverage, every rule is covered)
  Failed = 1,      // a test failed, or a rule is uncovered
  CouldNotRun = 2  // a test file or rule file could not be loaded, or no test ran
};

// Runs the tests; the report goes to `report`, errors (one per line) to `errors`.
TestStatus run_rule_tests(const TestOptions& options, const RuleSetOptions& rules, std::ostream& report,
                          std::ostream& errors);

// The names of the tests `run_rule_tests` would run (in options.paths, else the
// search_folders, else the shipped rules' folder), in file order, before the --run filter; a file that cannot be read or
// parsed is skipped. Shell completion offers them for --run.
std::vector<std::string> rule_test_names(const TestOptions& options, const RuleSetOptions& rules);

}  // namespace lcrules
