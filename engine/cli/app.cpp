#include "engine/cli/app.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "engine/facts/command.hpp"

namespace lcrules::cli {
namespace {

// After SIGTERM, SIGINT or SIGHUP the answer is incomplete (commands were killed): nothing
// is written, and main() exits with 128 + the signal.
bool interrupted() { return interrupted_by_signal() != 0; }

void print_errors(const std::vector<Error>& errors) {
  for (const auto& e : errors) std::cerr << e.text << (e.text.empty() || e.text.back() != '\n' ? "\n" : "");
}

// Loads the active rules (through the rule-set cache when `use_cache`); errors printed.
std::optional<LoadedRules> load(const Engine& engine, const RuleSetOptions& options) {
  auto loaded = engine.load(options);
  if (!loaded) {
    print_errors(loaded.errors());
    return std::nullopt;
  }
  for (const auto& w : loaded->warnings()) spdlog::warn("{}", w);
  return std::move(loaded.value());
}

// The answer went to std::cout: flushed here, so that a failed write (a full disk, a closed
// standard output, a pipe whose reader is gone) is an error, not an exit 0 with nothing printed.
int answer_written(int status) {
  if (std::cout.good()) {  // else errno is still the failed write's
    errno = 0;
    std::cout.flush();
    if (std::cout.good()) return status;
  }
  const int err = errno;
  std::cerr << "lcrules: error: cannot write the answer: "
            << (err != 0 ? std::strerror(err) : "the output stream failed") << "\n";
  return kExitInput;
}

}  // namespace

int run_eval(const Engine& engine, const EvalRequest& request, RuleSetOptions rules, bool json) {
  rules.use_cache = !request.no_cache;
  auto loaded = load(engine, rules);
  if (!loaded) return kExitInput;
  auto result = engine.evaluate(*loaded, request);
  if (interrupted()) return kExitInternal;  // main() turns it into 128 + N
  if (!result) {
    print_errors(result.errors());
    return kExitInput;
  }
  std::cout << (json ? dump_json(result->json()) : result->text());
  return answer_written(kExitOk);
}

int run_check(const Engine& engine, const std::vector<std::string>& paths, const RuleSetOptions& rules) {
  RuleSetOptions options = rules;
  options.use_cache = false;  // checking always reads the files
  if (paths.empty()) return load(engine, options) ? kExitOk : kExitInput;
  auto checked = engine.check(paths, options);
  if (!checked) print_errors(checked.errors());
  return checked ? kExitOk : kExitInput;
}

int run_rules(const Engine& engine, const RuleSetOptions& rules, bool json) {
  RuleSetOptions options = rules;
  options.use_cache = false;
  auto loaded = load(engine, options);
  if (!loaded) return kExitInput;
  const auto list = loaded->rules();
  if (interrupted()) return kExitInternal;  // main() turns it into 128 + N
  std::cout << (json ? dump_json(rules_json(list)) : rules_text(list));
  return answer_written(kExitOk);
}

int run_facts(const Engine& engine, const EvalRequest& request, RuleSetOptions rules, bool json,
              bool run_commands) {
  rules.use_cache = !request.no_cache;
  auto loaded = load(engine, rules);
  if (!loaded) return kExitInput;
  auto facts = engine.facts(*loaded, request, run_commands);
  if (interrupted()) return kExitInternal;  // main() turns it into 128 + N
  if (!facts) {
    print_errors(facts.errors());
    return kExitInput;
  }
  std::cout << (json ? dump_json(facts_json(facts.value())) : facts_text(facts.value()));
  return answer_written(kExitOk);
}

int run_tests(const TestOptions& options, const RuleSetOptions& rules) {
  return answer_written(static_cast<int>(run_rule_tests(options, rules, std::cout, std::cerr)));
}

}  // namespace lcrules::cli
