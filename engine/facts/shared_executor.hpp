// Commands shared between concurrent evaluations: when several evaluations need the same
// command with the same inputs at once (the service under load, a cold cache), one runs it
// and the others wait for its result instead of starting their own.
#pragma once

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <string>

#include "engine/facts/command.hpp"
#include "lcrules/engine.hpp"

namespace lcrules {

// What concurrent evaluations share: the commands in flight, and counters.
class CommandSharing {
 public:
  EngineStats stats() const;

 private:
  friend class SharedExecutor;
  std::mutex mutex_;
  std::map<std::string, std::shared_future<CommandResult>> in_flight_;
  std::atomic<std::uint64_t> run_{0}, cache_hits_{0}, shared_{0};
};

// One evaluation's executor: joins an identical command already in flight in `sharing`,
// else runs the request through `inner` (the cache and the process runner) and publishes
// the result to those who joined meanwhile.
class SharedExecutor final : public CommandExecutor {
 public:
  SharedExecutor(CommandExecutor& inner, CommandSharing& sharing) : inner_(inner), sharing_(sharing) {}
  CommandResult run(const CommandRequest& request) override;

 private:
  CommandExecutor& inner_;
  CommandSharing& sharing_;
};

}  // namespace lcrules
