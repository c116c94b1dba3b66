#include "engine/facts/shared_executor.hpp"

namespace lcrules {
namespace {

// Everything that makes two requests the same command: argv, environment additions,
// timeout and cache settings. (The process environment is the same for every request.)
std::string key_of(const CommandRequest& r) {
  std::string key;
  for (const auto& a : r.argv) key += a + '\0';
  key += '\x01';
  for (const auto& [k, v] : r.extra_env) key += k + '=' + v + '\0';
  key += '\x01' + std::to_string(r.timeout.count());
  key += '\x01' + (r.cache_ttl ? std::to_string(r.cache_ttl->count()) : std::string("-"));
  for (const auto& e : r.cache_env) key += '\0' + e;
  return key;
}

}  // namespace

EngineStats CommandSharing::stats() const {
  EngineStats s;
  s.commands_run = run_.load(std::memory_order_relaxed);
  s.command_cache_hits = cache_hits_.load(std::memory_order_relaxed);
  s.commands_shared = shared_.load(std::memory_order_relaxed);
  return s;
}

CommandResult SharedExecutor::run(const CommandRequest& request) {
  const std::string key = key_of(request);
  std::promise<CommandResult> promise;
  {
    std::unique_lock lock(sharing_.mutex_);
    if (auto it = sharing_.in_flight_.find(key); it != sharing_.in_flight_.end()) {
      auto future = it->second;
      lock.unlock();
      sharing_.shared_.fetch_add(1, std::memory_order_relaxed);
      return future.get();
    }
    sharing_.in_flight_.emplace(key, promise.get_future().share());
  }
  CommandResult result;
  try {
    result = inner_.run(request);
  } catch (...) {
    std::lock_guard lock(sharing_.mutex_);
    promise.set_exception(std::current_exception());
    sharing_.in_flight_.erase(key);
    throw;
  }
  if (result.from_cache) {
    sharing_.cache_hits_.fetch_add(1, std::memory_order_relaxed);
  } else if (result.status != CommandResult::Status::NotRun) {
    sharing_.run_.fetch_add(1, std::memory_order_relaxed);
  }
  std::lock_guard lock(sharing_.mutex_);
  promise.set_value(result);
  sharing_.in_flight_.erase(key);
  return result;
}

}  // namespace lcrules
