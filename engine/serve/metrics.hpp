// What `lcrules serve` counts, and its Prometheus text exposition (GET /metrics).
// Counters are atomics: request handlers on several threads update them without a lock.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "lcrules/engine.hpp"

namespace lcrules::serve {

class Metrics {
 public:
  // One answered request: its endpoint ("/v1/eval", "other" for unknown paths) and status.
  void count_request(const std::string& endpoint, unsigned status);
  void observe_eval(std::chrono::nanoseconds latency);
  void count_reload(bool ok);

  // The exposition, with the engine's command counters and the rule set's state.
  std::string render(const EngineStats& engine, bool rules_loaded) const;

 private:
  // Upper bounds of the eval latency histogram, seconds.
  static constexpr std::array<double, 12> kBuckets{0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
                                                   0.001,   0.0025,   0.005,   0.01,   0.1,     1.0};
  mutable std::mutex mutex_;  // guards requests_ (endpoint/status pairs are few)
  std::map<std::pair<std::string, unsigned>, std::uint64_t> requests_;
  std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> eval_buckets_{};
  std::atomic<std::uint64_t> eval_count_{0};
  std::atomic<std::uint64_t> eval_sum_ns_{0};
  std::atomic<std::uint64_t> reloads_ok_{0}, reloads_failed_{0};
};

}  // namespace lcrules::serve
