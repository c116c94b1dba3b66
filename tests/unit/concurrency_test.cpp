// A loaded rule set evaluated from many threads at once, and commands shared between
// concurrent evaluations (SharedExecutor). Tagged [concurrent]: CI also runs these under
// ThreadSanitizer (.ci/run, docs/hardening.md).
//
// Catch2's assertions are not thread-safe: the threads only record what they saw, and the
// test thread checks it after joining them. Nothing here checks how long anything took;
// waits are bounded only so that a broken implementation fails instead of hanging.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <latch>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/facts/command.hpp"
#include "engine/facts/kubeconfig.hpp"
#include "engine/facts/shared_executor.hpp"
#include "lcrules/engine.hpp"
#include "support.hpp"

using lcrules::CommandExecutor;
using lcrules::CommandRequest;
using lcrules::CommandResult;
using lcrules::CommandSharing;
using lcrules::SharedExecutor;
using lcrules::testing::TempDir;
using namespace std::chrono_literals;

namespace {

const std::string kDemoKubeconfig = LCRULES_SOURCE_DIR "/docs/demo/kubeconfig";

// An environment with nothing in it but a sandbox HOME (so the caches live in the sandbox).
lcrules::Environment sandbox_environment(const std::string& home) {
  lcrules::Environment env;
  env.getenv = [home](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") return home;
    return std::nullopt;
  };
  return env;
}

lcrules::LoadedRules load_shipped(const lcrules::Engine& engine) {
  auto loaded = engine.load(lcrules::RuleSetOptions{
      .shipped_fallback = LCRULES_SOURCE_DIR "/rules", .no_user_rules = true, .use_cache = false});
  if (!loaded) FAIL("the shipped rules do not load: " << loaded.errors().front().text);
  return loaded.value();
}

// What an evaluation answered, as one string to compare: `-o json`'s object, or the errors.
// Of the commands in an explanation, how long each took and whether a result cached by an
// earlier evaluation answered it are measurements of this run, not part of the answer.
std::string answer_of(const lcrules::Result<lcrules::Evaluation>& result) {
  if (!result) {
    std::string text = "errors:";
    for (const auto& e : result.errors()) text += "\n" + e.text;
    return text;
  }
  nlohmann::ordered_json j = result->json();
  if (j.contains("explain") && j["explain"].contains("commands")) {
    for (auto& command : j["explain"]["commands"]) {
      command.erase("duration_ms");
      command.erase("cached");
      command.erase("cache_age_seconds");
    }
  }
  return j.dump();
}

// Polls `done` until it holds; false when it still does not after 30 s.
bool wait_until(const std::function<bool()>& done) {
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

std::string joined(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& a : argv) text += (text.empty() ? "" : " ") + a;
  return text;
}

// The executor behind SharedExecutor: counts its runs and holds each one until `release`
// holds (bounded by wait_until), then answers with the argv and the number of the run, so
// that results of different runs differ. With `fail`, it throws instead of answering.
class GatedExecutor final : public CommandExecutor {
 public:
  explicit GatedExecutor(std::function<bool()> release, bool fail = false)
      : release_(std::move(release)), fail_(fail) {}

  CommandResult run(const CommandRequest& request) override {
    const int number = ++calls;
    ++running;
    if (!wait_until(release_)) gave_up = true;
    if (fail_) throw std::runtime_error("run " + std::to_string(number) + " failed");
    CommandResult result;
    result.status = CommandResult::Status::Exited;
    result.exit_code = 0;
    result.out = joined(request.argv) + " (run " + std::to_string(number) + ")";
    result.resolved_path = "/bin/" + request.argv.front();
    return result;
  }

  std::atomic<int> calls{0};
  std::atomic<int> running{0};
  std::atomic<bool> gave_up{false};

 private:
  std::function<bool()> release_;
  bool fail_;
};

CommandRequest request_for(std::vector<std::string> argv) {
  CommandRequest request;
  request.argv = std::move(argv);
  request.timeout = 5000ms;
  return request;
}

}  // namespace

TEST_CASE("one LoadedRules evaluated from 8 threads at once answers as a single thread does",
          "[concurrent]") {
  TempDir home("lcrules-concurrent");
  const lcrules::Engine engine(sandbox_environment(home.str()));

  // Every context of the demo kubeconfig, its current context (no --context) and one it
  // does not name; each with and without an explanation.
  struct Job {
    lcrules::EvalRequest request;
    std::string expected;
  };
  std::vector<Job> jobs;
  std::vector<std::string> contexts = lcrules::Kubeconfig::load({kDemoKubeconfig}, true).context_names();
  REQUIRE(contexts.size() >= 4);
  contexts.push_back("");
  contexts.push_back("not-in-the-kubeconfig");
  for (const auto& context : contexts) {
    for (bool explain : {false, true}) {
      lcrules::EvalRequest request;
      request.context = context;
      request.kubeconfig = kDemoKubeconfig;
      request.explain = explain;
      jobs.push_back({request, ""});
    }
  }

  // The single-threaded answers, from a rule set of their own: the one evaluated
  // concurrently below must compile its regexes on first use, in the threads.
  {
    const lcrules::LoadedRules reference = load_shipped(engine);
    for (auto& job : jobs) job.expected = answer_of(engine.evaluate(reference, job.request));
  }
  for (const auto& job : jobs) {
    INFO("context '" << job.request.context << "', explain " << job.request.explain);
    CHECK(job.expected.rfind("errors:", 0) == std::string::npos);
  }
  CHECK(jobs[0].expected.find("\"cluster\":\"kind\"") != std::string::npos);  // kind-dev, as the README says

  // Cold caches too: the threads' first evaluations also race to write the kubeconfig cache.
  std::filesystem::remove_all(home.path() / ".cache");

  const lcrules::LoadedRules rules = load_shipped(engine);
  constexpr int kThreads = 8;
  constexpr int kRounds = 5;
  struct Mismatch {
    std::size_t job;
    std::string got;
  };
  std::vector<std::vector<Mismatch>> mismatches(kThreads);
  std::vector<int> evaluated(kThreads, 0);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();  // every thread's first evaluation at once, on a fresh rule set
      // Even threads begin with the same job (the same first regexes); odd ones elsewhere.
      const std::size_t offset = t % 2 == 0 ? 0 : static_cast<std::size_t>(t) % jobs.size();
      for (int round = 0; round < kRounds; ++round) {
        for (std::size_t k = 0; k < jobs.size(); ++k) {
          const std::size_t j = (offset + k) % jobs.size();
          std::string got = answer_of(engine.evaluate(rules, jobs[j].request));
          if (got != jobs[j].expected) mismatches[t].push_back({j, std::move(got)});
          ++evaluated[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();

  for (int t = 0; t < kThreads; ++t) {
    CHECK(evaluated[t] == kRounds * static_cast<int>(jobs.size()));
    for (const auto& m : mismatches[t]) {
      INFO("thread " << t << ", context '" << jobs[m.job].request.context << "', explain "
                     << jobs[m.job].request.explain);
      CHECK(m.got == jobs[m.job].expected);
    }
  }
}

TEST_CASE("concurrent identical commands run once, and every caller gets that run's result", "[concurrent]") {
  CommandSharing sharing;
  constexpr int kCallers = 6;
  // The one run is held until every other caller has joined it.
  GatedExecutor inner([&] { return sharing.stats().commands_shared == kCallers - 1; });
  const CommandRequest request = request_for({"kind", "get", "clusters"});

  std::vector<CommandResult> results(kCallers);
  std::latch start(kCallers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      SharedExecutor executor(inner, sharing);  // one per evaluation, as Engine::evaluate has
      start.arrive_and_wait();
      results[i] = executor.run(request);
    });
  }
  for (auto& thread : threads) thread.join();

  CHECK_FALSE(inner.gave_up);
  CHECK(inner.calls == 1);
  for (const auto& result : results) {
    CHECK(result.status == CommandResult::Status::Exited);
    CHECK(result.out == "kind get clusters (run 1)");
    CHECK(result.resolved_path == "/bin/kind");
  }
  const lcrules::EngineStats stats = sharing.stats();
  CHECK(stats.commands_run == 1);
  CHECK(stats.commands_shared == kCallers - 1);
  CHECK(stats.command_cache_hits == 0);

  // Once it has finished, the same command runs again: only commands in flight are shared.
  SharedExecutor later(inner, sharing);
  CHECK(later.run(request).out == "kind get clusters (run 2)");
  CHECK(inner.calls == 2);
  CHECK(sharing.stats().commands_shared == kCallers - 1);
}

TEST_CASE("concurrent commands that differ in argv or environment are not shared", "[concurrent]") {
  CommandSharing sharing;
  std::vector<CommandRequest> requests = {request_for({"kind", "get", "clusters"}),
                                          request_for({"kind", "get", "nodes"}),
                                          request_for({"kind", "get", "clusters"})};
  requests[2].extra_env["KUBECONFIG"] = "/elsewhere/config";
  const int n = static_cast<int>(requests.size());
  // Each run is held until all of them are running: were any two shared, they never would be.
  GatedExecutor* gate = nullptr;
  GatedExecutor inner([&] { return gate->running == n; });
  gate = &inner;

  std::vector<CommandResult> results(requests.size());
  std::latch start(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      SharedExecutor executor(inner, sharing);
      start.arrive_and_wait();
      results[i] = executor.run(requests[i]);
    });
  }
  for (auto& thread : threads) thread.join();

  CHECK_FALSE(inner.gave_up);
  CHECK(inner.calls == n);
  CHECK(results[0].out.rfind("kind get clusters (run ", 0) == 0);
  CHECK(results[1].out.rfind("kind get nodes (run ", 0) == 0);
  CHECK(results[2].out.rfind("kind get clusters (run ", 0) == 0);
  CHECK(results[0].out != results[2].out);  // two runs of the same argv
  const lcrules::EngineStats stats = sharing.stats();
  CHECK(stats.commands_run == static_cast<std::uint64_t>(n));
  CHECK(stats.commands_shared == 0);
}

// Not [concurrent]: every caller rethrows the same exception object, whose reference count
// lives in libstdc++, which is not built with ThreadSanitizer; it would report the object's
// release by the last caller as a race with the others' reads of what().
TEST_CASE("a shared command that throws throws in every caller that joined it", "[shared-executor]") {
  CommandSharing sharing;
  constexpr int kCallers = 4;
  GatedExecutor inner([&] { return sharing.stats().commands_shared == kCallers - 1; }, /*fail=*/true);
  const CommandRequest request = request_for({"minikube", "profile", "list"});

  std::vector<std::string> errors(kCallers);
  std::latch start(kCallers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      SharedExecutor executor(inner, sharing);
      start.arrive_and_wait();
      try {
        executor.run(request);
        errors[i] = "(no exception)";
      } catch (const std::runtime_error& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();

  CHECK_FALSE(inner.gave_up);
  CHECK(inner.calls == 1);
  for (const auto& error : errors) CHECK(error == "run 1 failed");
  CHECK(sharing.stats().commands_shared == kCallers - 1);
  CHECK(sharing.stats().commands_run == 0);

  // The failed run is no longer in flight: the next caller runs the command again.
  SharedExecutor later(inner, sharing);
  CHECK_THROWS_WITH(later.run(request), "run 2 failed");
}
