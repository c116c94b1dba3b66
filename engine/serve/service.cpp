#include "engine/serve/service.hpp"

#include <spdlog/spdlog.h>
#include <ctime>
#include <set>

#include "engine/serve/limits.hpp"

namespace lcrules::serve {
namespace {

using json = nlohmann::ordered_json;

std::string now_rfc3339() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

unsigned status_of(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Kubeconfig:
    case ErrorKind::SkaffoldConfig:
    case ErrorKind::NoContext:
      return 422;
    case ErrorKind::Usage:
      return 400;
    case ErrorKind::RuleFiles:
      return 503;
  }
  return 500;
}

json error_object(const Error& e) {
  json o = {{"code", error_kind_name(e.kind)}, {"message", e.text}};
  if (!e.file.empty()) o["file"] = e.file;
  if (e.line > 0) {
    o["line"] = e.line;
    o["column"] = e.column;
  }
  return o;
}

HttpResponse errors_response(const std::vector<Error>& errors) {
  HttpResponse r;
  r.status = errors.empty() ? 500 : status_of(errors.front().kind);
  json body = {{"error", errors.empty() ? json{{"code", "internal"}, {"message", "no error reported"}}
                                        : error_object(errors.front())}};
  if (errors.size() > 1) {
    json all = json::array();
    for (const auto& e : errors) all.push_back(error_object(e));
    body["errors"] = std::move(all);
  }
  r.body = dump_json(body);
  return r;
}

bool truthy(const std::string& v) { return v == "1" || v == "true" || v == "yes"; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool decode_component(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += in[i];
    }
  }
  return true;
}

// Query parameters of GET /v1/eval and /v1/watch into a request; false with the error.
bool apply_query(const std::vector<std::pair<std::string, std::string>>& query,
                 const std::set<std::string>& known, EvalRequest& req, HttpResponse& error) {
  for (const auto& [k, v] : query) {
    if (!known.count(k)) {
      error = error_response(400, "unknown_parameter", "unknown query parameter '" + k + "'");
      return false;
    }
    if (k == "context") req.context = v;
    if (k == "explain") req.explain = truthy(v);
    if (k == "probe_cluster") req.probe_cluster = truthy(v);
  }
  return true;
}

// The body of POST /v1/eval into a request; false with the error.
bool parse_eval_body(const std::string& body, EvalRequest& req, HttpResponse& error) {
  if (body.empty()) return true;
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {
    error = error_response(400, "bad_json", std::string("the body is not JSON: ") + e.what());
    return false;
  }
  if (!j.is_object()) {
    error = error_response(400, "bad_request", "the body must be a JSON object");
    return false;
  }
  auto type_error = [&](const std::string& key, const char* want) {
    error = error_response(400, "bad_request", "'" + key + "' must be " + want);
    return false;
  };
  for (const auto& [key, value] : j.items()) {
    if (key == "context") {
      if (!value.is_string()) return type_error(key, "a string");
      req.context = value.get<std::string>();
    } else if (key == "kubeconfig") {
      if (value.is_string()) {
        req.kubeconfig = value.get<std::string>();
        if (req.kubeconfig.empty()) return type_error(key, "a non-empty path or a list of paths");
      } else if (value.is_array()) {
        std::string joined;
        for (const auto& p : value) {
          if (!p.is_string()) return type_error(key, "a path or a list of paths");
          joined += (joined.empty() ? "" : ":") + p.get<std::string>();
        }
        req.kubeconfig_env = joined;
      } else {
        return type_error(key, "a path or a list of paths");
      }
    } else if (key == "skaffold_yaml") {
      if (!value.is_string()) return type_error(key, "a string");
      req.skaffold_yaml = value.get<std::string>();
    } else if (key == "explain") {
      if (!value.is_boolean()) return type_error(key, "true or false");
      req.explain = value.get<bool>();
    } else if (key == "probe_cluster") {
      if (!value.is_boolean()) return type_error(key, "true or false");
      req.probe_cluster = value.get<bool>();
    } else {
      error = error_response(
          400, "unknown_field",
          "unknown field '" + key + "' (known: context, kubeconfig, skaffold_yaml, explain, probe_cluster)");
      return false;
    }
  }
  return true;
}

EvalRequest base_request() {
  EvalRequest req;
  req.deadline = kRequestDeadline.count();
  return req;
}

}  // namespace

HttpResponse error_response(unsigned status, const std::string& code, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.body = dump_json(json{{"error", {{"code", code}, {"message", message}}}});
  return r;
}

bool parse_target(const std::string& target, std::string& path,
                  std::vector<std::pair<std::string, std::string>>& query) {
  const auto q = target.find('?');
  if (!decode_component(std::string_view(target).substr(0, q), path)) return false;
  if (q == std::string::npos) return true;
  std::string_view rest = std::string_view(target).substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    std::string k, v;
    if (!decode_component(pair.substr(0, eq), k)) return false;
    if (eq != std::string_view::npos && !decode_component(pair.substr(eq + 1), v)) return false;
    query.emplace_back(std::move(k), std::move(v));
  }
  return true;
}

// --- RuleHolder -------------------------------------------------------------------------

std::vector<Error> RuleHolder::reload(const Engine& engine, const RuleSetOptions& options) {
  auto loaded = engine.load(options);
  std::lock_guard lock(mutex_);
  if (!loaded) {
    last_errors_ = loaded.errors();
    return last_errors_;
  }
  rules_ = std::make_shared<const LoadedRules>(std::move(loaded.value()));
  last_errors_.clear();
  loaded_at_ = now_rfc3339();
  return {};
}

std::shared_ptr<const LoadedRules> RuleHolder::current() const {
  std::lock_guard lock(mutex_);
  return rules_;
}

RuleHolder::Status RuleHolder::status() const {
  std::lock_guard lock(mutex_);
  return {rules_, last_errors_, loaded_at_};
}

// --- Service ----------------------------------------------------------------------------

Service::Service(const Engine& engine, RuleSetOptions rule_options)
    : engine_(engine), rule_options_(std::move(rule_options)) {}

void Service::reload() {
  const auto errors = rules_.reload(engine_, rule_options_);
  metrics_.count_reload(errors.empty());
  if (errors.empty()) {
    const auto rules = rules_.current();
    spdlog::info("rule set loaded: {} rule files", rules->files().size());
    for (const auto& w : rules->warnings()) spdlog::warn("{}", w);
    for (const auto& w : rules->rule_warnings()) spdlog::warn("{}", w);
    return;
  }
  for (const auto& e : errors) spdlog::error("rule set not loaded: {}", e.text);
}

HttpResponse Service::handle(const HttpRequest& request) {
  std::string endpoint = "other";
  HttpResponse response;
  try {
    response = route(request, endpoint);
  } catch (const std::exception& e) {
    spdlog::error("internal error answering {} {}: {}", request.method, request.target, e.what());
    response = error_response(500, "internal", std::string("internal error: ") + e.what());
  }
  metrics_.count_request(endpoint, response.status);
  spdlog::debug("{} {} -> {}", request.method, request.target, response.status);
  return response;
}

HttpResponse Service::eval(const EvalRequest& request, const std::shared_ptr<const LoadedRules>& rules) {
  const auto start = std::chrono::steady_clock::now();
  auto result = engine_.evaluate(*rules, request);
  metrics_.observe_eval(std::chrono::steady_clock::now() - start);
  if (!result) return errors_response(result.errors());
  HttpResponse r;
  r.body = dump_json(result->json());
  return r;
}

HttpResponse Service::route(const HttpRequest& request, std::string& endpoint) {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  if (!parse_target(request.target, path, query))
    return error_response(400, "bad_request", "malformed request target");

  auto method_not_allowed = [&](const char* allow) {
    HttpResponse r = error_response(
        405, "method_not_allowed",
        "method " + request.method + " is not allowed on " + path + " (allowed: " + allow + ")");
    r.allow = allow;
    return r;
  };
  auto no_rules = [&]() {
    const auto status = rules_.status();
    HttpResponse r = status.last_errors.empty()
                         ? error_response(503, "no_rules", "no rule set has loaded yet")
                         : errors_response(status.last_errors);
    r.status = 503;
    return r;
  };

  if (path == "/v1/eval") {
    endpoint = path;
    EvalRequest req = base_request();
    HttpResponse error;
    if (request.method == "GET") {
      if (!apply_query(query, {"context", "explain", "probe_cluster"}, req, error)) return error;
    } else if (request.method == "POST") {
      if (!query.empty())
        return error_response(400, "bad_request", "POST /v1/eval takes its request in the body");
      if (!parse_eval_body(request.body, req, error)) return error;
    } else {
      return method_not_allowed("GET, POST");
    }
    const auto rules = rules_.current();
    if (!rules) return no_rules();
    return eval(req, rules);
  }
  if (path == "/v1/rules") {
    endpoint = path;
    if (request.method != "GET") return method_not_allowed("GET");
    if (!query.empty()) return error_response(400, "unknown_parameter", "/v1/rules takes no parameters");
    const auto rules = rules_.current();
    if (!rules) return no_rules();
    HttpResponse r;
    r.body = dump_json(rules_json(rules->rules()));
    return r;
  }
  if (path == "/v1/facts") {
    endpoint = path;
    if (request.method != "GET") return method_not_allowed("GET");
    EvalRequest req = base_request();
    HttpResponse error;
    if (!apply_query(query, {"context", "probe_cluster"}, req, error)) return error;
    const auto rules = rules_.current();
    if (!rules) return no_rules();
    auto facts = engine_.facts(*rules, req, false);
    if (!facts) return errors_response(facts.errors());
    HttpResponse r;
    r.body = dump_json(facts_json(facts.value()));
    return r;
  }
  if (path == "/healthz") {
    endpoint = path;
    if (request.method != "GET") return method_not_allowed("GET");
    const auto status = rules_.status();
    json body;
    HttpResponse r;
    if (!status.rules) {
      r.status = 503;
      body["status"] = "unavailable";
    } else {
      body["status"] = status.last_errors.empty() ? "ok" : "degraded";
      body["rule_files"] = status.rules->files();
      body["loaded_at"] = status.loaded_at;
    }
    if (!status.last_errors.empty()) {
      std::string text;
      for (const auto& e : status.last_errors) text += (text.empty() ? "" : "\n") + e.text;
      body["error"] = text;
    }
    r.body = dump_json(body);
    return r;
  }
  if (path == "/metrics") {
    endpoint = path;
    if (request.method != "GET") return method_not_allowed("GET");
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics_.render(engine_.stats(), rules_.current() != nullptr);
    return r;
  }
  if (path == "/v1/watch") {
    endpoint = path;
    return error_response(400, "bad_request", "/v1/watch is answered as a stream of events");
  }
  return error_response(404, "not_found", "no such endpoint: " + path);
}

std::variant<WatchRequest, HttpResponse> Service::parse_watch(const HttpRequest& request) {
  metrics_.count_request("/v1/watch", request.method == "GET" ? 200 : 405);
  if (request.method != "GET") {
    HttpResponse r =
        error_response(405, "method_not_allowed",
                       "method " + request.method + " is not allowed on /v1/watch (allowed: GET)");
    r.allow = "GET";
    return r;
  }
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  parse_target(request.target, path, query);
  EvalRequest req;
  HttpResponse error;
  if (!apply_query(query, {"context", "explain"}, req, error)) return error;
  WatchRequest w;
  if (!req.context.empty()) w.context = req.context;
  w.explain = req.explain;
  return w;
}

WatchEvent Service::watch_event(const WatchRequest& watch) {
  EvalRequest req = base_request();
  if (watch.context) req.context = *watch.context;
  req.explain = watch.explain;
  const auto rules = rules_.current();
  if (!rules) {
    const auto status = rules_.status();
    const json error = {{"error",
                         {{"code", "no_rules"},
                          {"message", status.last_errors.empty() ? "no rule set has loaded yet"
                                                                 : status.last_errors.front().text}}}};
    return {"error", with_api_version(error).dump(-1, ' ', false, json::error_handler_t::replace)};
  }
  auto result = engine_.evaluate(*rules, req);
  if (!result) {
    const json error = {{"error", error_object(result.errors().front())}};
    return {"error", with_api_version(error).dump(-1, ' ', false, json::error_handler_t::replace)};
  }
  return {"decision", result->json().dump(-1, ' ', false, json::error_handler_t::replace)};
}

}  // namespace lcrules::serve
