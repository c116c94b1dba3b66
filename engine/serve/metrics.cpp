#include "engine/serve/metrics.hpp"

#include <fmt/format.h>

namespace lcrules::serve {

void Metrics::count_request(const std::string& endpoint, unsigned status) {
  std::lock_guard lock(mutex_);
  ++requests_[{endpoint, status}];
}

void Metrics::observe_eval(std::chrono::nanoseconds latency) {
  const double seconds = std::chrono::duration<double>(latency).count();
  std::size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  eval_buckets_[i].fetch_add(1, std::memory_order_relaxed);
  eval_count_.fetch_add(1, std::memory_order_relaxed);
  eval_sum_ns_.fetch_add(static_cast<std::uint64_t>(latency.count()), std::memory_order_relaxed);
}

void Metrics::count_reload(bool ok) {
  (ok ? reloads_ok_ : reloads_failed_).fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::render(const EngineStats& engine, bool rules_loaded) const {
  std::string out;
  out += "# HELP lcrules_requests_total HTTP requests answered, by endpoint and status.\n";
  out += "# TYPE lcrules_requests_total counter\n";
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, n] : requests_)
      out += fmt::format("lcrules_requests_total{{endpoint=\"{}\",status=\"{}\"}} {}\n", key.first,
                         key.second, n);
  }
  out += "# HELP lcrules_eval_duration_seconds Time to evaluate one request.\n";
  out += "# TYPE lcrules_eval_duration_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += eval_buckets_[i].load(std::memory_order_relaxed);
    out += fmt::format("lcrules_eval_duration_seconds_bucket{{le=\"{}\"}} {}\n", kBuckets[i], cumulative);
  }
  cumulative += eval_buckets_[kBuckets.size()].load(std::memory_order_relaxed);
  out += fmt::format("lcrules_eval_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  out += fmt::format("lcrules_eval_duration_seconds_sum {}\n",
                     static_cast<double>(eval_sum_ns_.load(std::memory_order_relaxed)) / 1e9);
  out += fmt::format("lcrules_eval_duration_seconds_count {}\n", cumulative);
  out += "# HELP lcrules_reloads_total Rule-set reloads, by result.\n";
  out += "# TYPE lcrules_reloads_total counter\n";
  out +=
      fmt::format("lcrules_reloads_total{{result=\"ok\"}} {}\n", reloads_ok_.load(std::memory_order_relaxed));
  out += fmt::format("lcrules_reloads_total{{result=\"failed\"}} {}\n",
                     reloads_failed_.load(std::memory_order_relaxed));
  out += "# HELP lcrules_commands_run_total Commands run for rules (not answered from the cache).\n";
  out += "# TYPE lcrules_commands_run_total counter\n";
  out += fmt::format("lcrules_commands_run_total {}\n", engine.commands_run);
  out += "# HELP lcrules_command_cache_hits_total Command results answered from the cache.\n";
  out += "# TYPE lcrules_command_cache_hits_total counter\n";
  out += fmt::format("lcrules_command_cache_hits_total {}\n", engine.command_cache_hits);
  out += "# HELP lcrules_commands_shared_total Commands answered by an identical one already running.\n";
  out += "# TYPE lcrules_commands_shared_total counter\n";
  out += fmt::format("lcrules_commands_shared_total {}\n", engine.commands_shared);
  out += "# HELP lcrules_rules_loaded Whether a rule set is serving (1) or none has loaded yet (0).\n";
  out += "# TYPE lcrules_rules_loaded gauge\n";
  out += fmt::format("lcrules_rules_loaded {}\n", rules_loaded ? 1 : 0);
  return out;
}

}  // namespace lcrules::serve
