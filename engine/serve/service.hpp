// The protocol of `lcrules serve` as a function: an HTTP request in, a response out, with
// no socket in sight (docs/service.md). It holds what every connection shares: the engine,
// the rule set now serving (swapped whole on reload), and the metrics.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/serve/metrics.hpp"
#include "lcrules/engine.hpp"

namespace lcrules::serve {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // "/v1/eval?context=kind-dev"
  std::string body;
  std::string content_type;
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string allow;  // for 405
};

// A parsed /v1/watch request: which context to follow (none: the current context).
struct WatchRequest {
  std::optional<std::string> context;
  bool explain = false;
};

// One server-sent event: "decision" with the one-line `eval -o json` object, or "error"
// with {"error": {...}} when the context cannot be evaluated now.
struct WatchEvent {
  std::string event;
  std::string data;
  bool operator==(const WatchEvent&) const = default;
};

// The rule set serving now, and how the last load went.
class RuleHolder {
 public:
  // Loads the rule set to the side; on success it replaces the serving one, on failure the
  // old one keeps serving and the errors are kept for /healthz. Returns the errors.
  std::vector<Error> reload(const Engine& engine, const RuleSetOptions& options);
  std::shared_ptr<const LoadedRules> current() const;

  struct Status {
    std::shared_ptr<const LoadedRules> rules;  // null: none has loaded yet
    std::vector<Error> last_errors;            // of the last load, when it failed
    std::string loaded_at;                     // RFC 3339, UTC, of the serving set
  };
  Status status() const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const LoadedRules> rules_;
  std::vector<Error> last_errors_;
  std::string loaded_at_;
};

class Service {
 public:
  Service(const Engine& engine, RuleSetOptions rule_options);

  HttpResponse handle(const HttpRequest& request);

  // /v1/watch: parses the request, or gives the error response to send instead.
  std::variant<WatchRequest, HttpResponse> parse_watch(const HttpRequest& request);
  // What a watcher would be sent now.
  WatchEvent watch_event(const WatchRequest& watch);

  // Reloads the rules (SIGHUP, a rule file changed); logs and counts the result.
  void reload();

  RuleHolder& rules() { return rules_; }
  Metrics& metrics() { return metrics_; }
  const RuleSetOptions& rule_options() const { return rule_options_; }

 private:
  HttpResponse route(const HttpRequest& request, std::string& endpoint);
  HttpResponse eval(const EvalRequest& request, const std::shared_ptr<const LoadedRules>& rules);

  const Engine& engine_;
  RuleSetOptions rule_options_;
  RuleHolder rules_;
  Metrics metrics_;
};

// {"error": {"code": CODE, "message": MESSAGE}} (and "errors" with every Error's place).
HttpResponse error_response(unsigned status, const std::string& code, const std::string& message);

// Splits "/path?a=1&b=2" and decodes %XX and '+'. Returns false on a malformed escape.
bool parse_target(const std::string& target, std::string& path,
                  std::vector<std::pair<std::string, std::string>>& query);

}  // namespace lcrules::serve
