#include "engine/cli/app.hpp"

#include <pwd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "engine/cache/cache_codec.hpp"
#include "engine/cache/kubeconfig_cache.hpp"
#include "engine/core/output.hpp"
#include "engine/cache/ruleset_cache.hpp"
#include "engine/facts/skaffold_config.hpp"

namespace lcrules {
namespace {

namespace fs = std::filesystem;

std::string dump(const nlohmann::ordered_json& j) {
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string canonical_or_self(const std::string& p) {
  std::error_code ec;
  auto c = fs::weakly_canonical(p, ec);
  return ec ? p : c.string();
}

// The kubeconfig files' identities (size, times, inode): cached command results depend on
// them (`minikube start` rewrites the kubeconfig).
std::string kubeconfig_cache_key(const std::vector<std::string>& files) {
  std::string key;
  for (const auto& f : files) key += f + "@" + cache_codec::file_identity(f).value_or("") + ";";
  return key;
}

// ${XDG_CACHE_HOME:-$HOME/.cache}/lcrules: command results, compiled rule sets and
// kubeconfigs read.
std::string cache_dir() {
  auto xdg = env_var("XDG_CACHE_HOME");
  return (xdg && !xdg->empty() ? *xdg : home_dir() + "/.cache") + "/lcrules";
}

struct Prepared {
  Kubeconfig kubeconfig;
  EvaluationInput input;
};

// Reads the kubeconfig (through the cache in `cache`, unless --no-cache) and fills the
// input from the real environment. Prints the error and returns nullopt on bad input.
std::optional<Prepared> prepare(const EvalOptions& opts, const std::string& cache) {
  const std::string home = home_dir();
  const auto files = Kubeconfig::locate(opts.kubeconfig, env_var("KUBECONFIG"), home);
  Prepared p;
  try {
    p.kubeconfig = opts.no_cache ? Kubeconfig::load(files, !opts.kubeconfig.empty())
                                 : kubeconfig_cache::load(files, !opts.kubeconfig.empty(), cache);
  } catch (const KubeconfigError& e) {
    std::cerr << e.what() << "\n";
    return std::nullopt;
  }
  std::string context = opts.context;
  if (context.empty()) {
    if (!p.kubeconfig.current_context()) {
      std::string where;
      for (const auto& f : files) where += (where.empty() ? "" : ", ") + f;
      std::cerr
          << "lcrules: error: no context: give --context NAME, or set current-context in the kubeconfig ("
          << (p.kubeconfig.files_read().empty() ? "none found; looked for " + where : "read " + where)
          << ")\n";
      return std::nullopt;
    }
    context = *p.kubeconfig.current_context();
  }
  spdlog::debug("classifying context '{}' ({} kubeconfig file(s) read)", context,
                p.kubeconfig.files_read().size());
  EvaluationInput& in = p.input;
  in.context = p.kubeconfig.resolve(context);
  in.kubeconfig_files = p.kubeconfig.files_read();
  in.getenv = [](const std::string& name) { return env_var(name); };
  in.file_exists = [](const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
  };
  in.skaffold_config = [home, context]() {
    const std::string path = home + "/.skaffold/config";
    spdlog::debug("reading Skaffold's global config {}", path);
    return SkaffoldGlobalConfig::load(path).resolve(context);
  };
  if (!opts.skaffold_yaml.empty()) {
    try {
      in.skaffold_build_local_push = read_skaffold_yaml_push(opts.skaffold_yaml);
    } catch (const ConfigError& e) {
      std::cerr << e.what() << "\n";
      return std::nullopt;
    }
  }
  in.probe_cluster = opts.probe_cluster;
  in.command_timeout = std::chrono::milliseconds(static_cast<long long>(opts.command_timeout * 1000));
  return p;
}

// Owns the executors an evaluation uses: real processes behind the result cache, or none.
struct Executors {
  Executors(const EvalOptions& opts, const std::vector<std::string>& kubeconfig_files,
            const std::string& cache_dir)
      : process(opts.deadline
                    ? std::optional(std::chrono::steady_clock::now() +
                                    std::chrono::milliseconds(static_cast<long long>(*opts.deadline * 1000)))
                    : std::nullopt),
        cache(process, cache_dir, [&kubeconfig_files] { return kubeconfig_cache_key(kubeconfig_files); }) {
    if (opts.no_exec) {
      active = &no_exec;
    } else if (opts.no_cache) {
      active = &process;
    } else {
      active = &cache;
    }
  }
  ProcessExecutor process;
  CachingExecutor cache;
  NoExecExecutor no_exec;
  CommandExecutor* active = nullptr;
};

}  // namespace

std::optional<std::string> env_var(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v ? std::optional<std::string>(v) : std::nullopt;
}

void configure_allocator() {
#if defined(__GLIBC__)
  ::mallopt(M_MXFAST, 0);
#endif
}

std::string home_dir() {
  if (auto h = env_var("HOME"); h && !h->empty()) return *h;
  if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return "/";
}

RuleSources rule_sources(const RuleOptions& opts) {
  RuleSources s;
  s.shipped_dir = find_shipped_rules(opts.shipped_fallback);
  auto sys = env_var("LCRULES_SYSTEM_DIR");
  s.system_dir = sys && !sys->empty() ? *sys : "/etc/lcrules";
  auto xdg = env_var("XDG_CONFIG_HOME");
  s.user_dir = (xdg && !xdg->empty() ? *xdg : home_dir() + "/.config") + "/lcrules";
  s.extra = opts.extra;
  s.no_default_rules = opts.no_default_rules;
  s.no_user_rules = opts.no_user_rules;
  return s;
}

std::optional<RuleSet> load_active_rules(const RuleOptions& opts, const std::string* rules_cache_dir) {
  std::vector<std::string> errors;
  const RuleSources sources = rule_sources(opts);
  if (!sources.shipped_dir && !opts.no_default_rules) spdlog::warn("no shipped rules found");
  auto files = collect_rule_files(sources, errors);
  LoadResult loaded;
  if (errors.empty())
    loaded = rules_cache_dir ? ruleset_cache::load_with_cache(files, *rules_cache_dir) : load_rule_set(files);
  for (const auto& e : loaded.errors) errors.push_back(e);
  if (!errors.empty()) {
    for (const auto& e : errors) std::cerr << e << (e.empty() || e.back() != '\n' ? "\n" : "");
    return std::nullopt;
  }
  spdlog::debug("loaded {} rules from {} files", loaded.rule_set->rules.size(), files.size());
  return std::move(loaded.rule_set);
}

namespace {

// Loads the active rules and prepares the evaluation input with its command executor, then
// returns `run(rules, input)`, an exit status; the rules and the input live until it
// returns. kExitInput (the errors printed) when the rules or the input cannot be loaded, or
// `run` meets a Skaffold config that cannot be read.
template <typename Run>
int with_rules_and_input(const EvalOptions& opts, const RuleOptions& rule_opts, Run run) {
  const std::string cache = cache_dir();
  auto rules = load_active_rules(rule_opts, opts.no_cache ? nullptr : &cache);
  if (!rules) return kExitInput;
  auto prepared = prepare(opts, cache);
  if (!prepared) return kExitInput;
  Executors executors(opts, prepared->input.kubeconfig_files, cache);
  prepared->input.executor = executors.active;
  try {
    return run(*rules, prepared->input);
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    return kExitInput;
  }
}

}  // namespace

int run_eval(const EvalOptions& opts, const RuleOptions& rule_opts, bool json) {
  return with_rules_and_input(opts, rule_opts, [&](const RuleSet& rules, const EvaluationInput& input) {
    Explanation ex;
    const Decision d = evaluate(rules, input, opts.explain ? &ex : nullptr);
    const Explanation* shown = opts.explain ? &ex : nullptr;
    std::cout << (json ? dump(decision_json(d, shown)) : render_text(d, shown));
    return kExitOk;
  });
}

int run_check(const std::vector<std::string>& paths, const RuleOptions& rule_opts) {
  if (paths.empty()) return load_active_rules(rule_opts) ? kExitOk : kExitInput;
  // Checking given files loads the shipped rules first (so an override of a shipped rule
  // checks), unless the given paths are the shipped rules themselves.
  std::vector<std::string> errors;
  std::vector<RuleFileRef> files;
  const auto shipped = find_shipped_rules(rule_opts.shipped_fallback);
  // Checking runs nothing, so the files are not subject to the ownership checks.
  const auto given = collect_paths(paths, RuleOrigin::Shipped, errors);
  if (shipped && !rule_opts.no_default_rules) {
    for (auto& f : collect_paths({*shipped}, RuleOrigin::Shipped, errors)) {
      // A shipped file that is also given (`lcrules check rules/kind.rules`) loads once.
      const bool also_given = std::any_of(given.begin(), given.end(), [&](const RuleFileRef& g) {
        return canonical_or_self(g.path) == canonical_or_self(f.path);
      });
      if (!also_given) files.push_back(std::move(f));
    }
  }
  files.insert(files.end(), given.begin(), given.end());
  auto loaded = load_rule_set(files);
  for (const auto& e : loaded.errors) errors.push_back(e);
  for (const auto& e : errors) std::cerr << e << (e.empty() || e.back() != '\n' ? "\n" : "");
  return errors.empty() ? kExitOk : kExitInput;
}

int run_rules(const RuleOptions& rule_opts, bool json) {
  auto rules = load_active_rules(rule_opts);
  if (!rules) return kExitInput;
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  std::vector<std::array<std::string, 5>> rows;  // priority, stage, name, where, status
  for (const auto& r : rules->rules) {
    std::string status = "active";
    if (r.disabled_by) {
      status = "disabled at " + location_text(*r.disabled_by);
    } else if (!r.changed_by.empty()) {
      status = "overridden at ";
      for (std::size_t i = 0; i < r.changed_by.size(); ++i)
        status += (i ? ", " : "") + location_text(r.changed_by[i]);
    }
    const char* stage = r.stage == ast::Stage::Policy ? "policy" : "identify";
    nlohmann::ordered_json changed = nlohmann::ordered_json::array();
    for (const auto& c : r.changed_by) changed.push_back(location_text(c));
    arr.push_back({{"name", r.name},
                   {"priority", r.priority},
                   {"stage", stage},
                   {"file", r.loc.file},
                   {"line", r.loc.line},
                   {"status", r.disabled_by          ? "disabled"
                              : r.changed_by.empty() ? "active"
                                                     : "overridden"},
                   {"changed_by", changed},
                   {"description", r.description}});
    rows.push_back({std::to_string(r.priority), stage, r.name, location_text(r.loc), status});
  }
  std::array<std::size_t, 5> width{8, 5, 4, 4, 0};
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < 4; ++c) width[c] = std::max(width[c], row[c].size());
  }
  auto pad = [](std::string s, std::size_t w) {
    if (s.size() < w) s.resize(w, ' ');
    return s;
  };
  std::string text = pad("PRIORITY", width[0]) + "  " + pad("STAGE", width[1]) + "  " +
                     pad("RULE", width[2]) + "  " + pad("DEFINED", width[3]) + "  STATUS\n";
  for (const auto& row : rows) {
    text += std::string(width[0] - row[0].size(), ' ') + row[0] + "  " + pad(row[1], width[1]) + "  " +
            pad(row[2], width[2]) + "  " + pad(row[3], width[3]) + "  " + row[4] + "\n";
  }
  std::cout << (json ? dump(arr) : text);
  return kExitOk;
}

int run_facts(const EvalOptions& opts, const RuleOptions& rule_opts, bool json, bool run_commands) {
  std::vector<FactValue> facts;
  const int status =
      with_rules_and_input(opts, rule_opts, [&](const RuleSet& rules, const EvaluationInput& input) {
        facts = list_facts(rules, input, run_commands);
        return kExitOk;
      });
  if (status != kExitOk) return status;
  if (json) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& f : facts) {
      nlohmann::ordered_json row = {{"fact", f.name},
                                    {"value", f.value ? nlohmann::ordered_json(*f.value) : nullptr}};
      if (!f.detail.empty()) row["detail"] = f.detail;
      arr.push_back(std::move(row));
    }
    std::cout << dump(arr);
    return kExitOk;
  }
  for (const auto& f : facts) {
    std::string line = f.name;
    if (line.size() < 32) line.resize(32, ' ');
    line += " " + (f.value ? "'" + *f.value + "'" : std::string("(not set)"));
    if (!f.detail.empty()) line += "  [" + f.detail + "]";
    std::cout << line << "\n";
  }
  return kExitOk;
}

}  // namespace lcrules
