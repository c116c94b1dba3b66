// The public API (lcrules/engine.hpp) over the engine's core, facts and caches: where the
// environment's folders are, which executors an evaluation runs commands through, and
// every lower layer's error turned into an Error value.
#include "lcrules/engine.hpp"

#include <pwd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>

#include "engine/cache/cache_codec.hpp"
#include "engine/cache/kubeconfig_cache.hpp"
#include "engine/cache/ruleset_cache.hpp"
#include "engine/core/checker.hpp"
#include "engine/core/evaluator.hpp"
#include "engine/core/loader.hpp"
#include "engine/core/output.hpp"
#include "engine/facts/shared_executor.hpp"
#include "engine/facts/skaffold_config.hpp"
#include "grammar/suggest.hpp"

namespace lcrules {

// --- Environment ------------------------------------------------------------------------

std::optional<std::string> Environment::get(const std::string& name) const {
  if (getenv) return getenv(name);
  const char* v = std::getenv(name.c_str());
  return v ? std::optional<std::string>(v) : std::nullopt;
}

std::string Environment::home() const {
  if (auto h = get("HOME"); h && !h->empty()) return *h;
  if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return "/";
}

namespace {

// An XDG base folder: the variable when it holds an absolute path, else `fallback`. The XDG
// Base Directory specification says relative paths are invalid and to be ignored: they
// would name a folder under wherever the tool was started.
std::string xdg_dir(const Environment& env, const char* variable, const std::string& fallback) {
  auto value = env.get(variable);
  return value && !value->empty() && (*value)[0] == '/' ? *value : fallback;
}

}  // namespace

std::string Environment::cache_dir() const {
  return xdg_dir(*this, "XDG_CACHE_HOME", home() + "/.cache") + "/lcrules";
}

// --- LoadedRules ------------------------------------------------------------------------

struct LoadedRules::Impl {
  RuleSet rules;
  std::vector<std::string> warnings;
  std::vector<std::string> rule_warnings;
};

const std::vector<std::string>& LoadedRules::files() const { return impl_->rules.files; }
const std::vector<std::string>& LoadedRules::warnings() const { return impl_->warnings; }
const std::vector<std::string>& LoadedRules::rule_warnings() const { return impl_->rule_warnings; }

std::vector<RuleInfo> LoadedRules::rules() const {
  std::vector<RuleInfo> out;
  out.reserve(impl_->rules.rules.size());
  for (const auto& r : impl_->rules.rules) {
    RuleInfo info;
    info.name = r.name;
    info.priority = r.priority;
    info.stage = r.stage == ast::Stage::Policy ? "policy" : "identify";
    info.file = r.loc.file;
    info.line = r.loc.line;
    info.status = r.disabled_by ? "disabled" : r.changed_by.empty() ? "active" : "overridden";
    for (const auto& c : r.changed_by) info.changed_by.push_back(location_text(c));
    if (r.disabled_by) info.disabled_by = location_text(*r.disabled_by);
    info.description = r.description;
    out.push_back(std::move(info));
  }
  return out;
}

// --- Evaluation -------------------------------------------------------------------------

struct Evaluation::Data {
  Decision decision;
  std::optional<Explanation> explanation;
  std::shared_ptr<const LoadedRules::Impl> rules;  // the explanation points into its rules
  std::vector<std::string> warnings;
};

const Decision& Evaluation::decision() const { return data_->decision; }
bool Evaluation::explained() const { return data_->explanation.has_value(); }
const std::vector<std::string>& Evaluation::warnings() const { return data_->warnings; }

nlohmann::ordered_json Evaluation::json() const {
  return with_api_version(
      decision_json(data_->decision, data_->explanation ? &*data_->explanation : nullptr));
}

std::string Evaluation::text(TextStyle style) const {
  return render_text(data_->decision, data_->explanation ? &*data_->explanation : nullptr, style);
}

// --- Engine -----------------------------------------------------------------------------

// The last value read from some files, kept while the files are unchanged: a long-lived
// Engine (the service) then reads and decodes nothing on most evaluations, where one
// process per evaluation reads through the caches on disk.
template <typename T>
class FileMemo {
 public:
  std::shared_ptr<const T> get(const std::string& key) const {
    std::lock_guard lock(mutex_);
    return key == key_ ? value_ : nullptr;
  }
  void put(std::string key, std::shared_ptr<const T> value) {
    std::lock_guard lock(mutex_);
    key_ = std::move(key);
    value_ = std::move(value);
  }

 private:
  mutable std::mutex mutex_;
  std::string key_;
  std::shared_ptr<const T> value_;
};

struct Engine::Shared {
  CommandSharing sharing;
  FileMemo<Kubeconfig> kubeconfig;          // keyed as the kubeconfig cache is
  FileMemo<SkaffoldGlobalConfig> skaffold;  // keyed by the file's identity
};

Engine::Engine(Environment env) : env_(std::move(env)), shared_(std::make_unique<Shared>()) {}
Engine::~Engine() = default;

const Environment& Engine::environment() const { return env_; }

EngineStats Engine::stats() const { return shared_->sharing.stats(); }

namespace {

RuleSources sources_of(const Environment& env_, const RuleSetOptions& options) {
  RuleSources sources;
  sources.shipped_dir = find_shipped_rules(options.shipped_fallback);
  auto sys = env_.get("LCRULES_SYSTEM_DIR");
  sources.system_dir = sys && !sys->empty() ? *sys : "/etc/lcrules";
  sources.user_dir = xdg_dir(env_, "XDG_CONFIG_HOME", env_.home() + "/.config") + "/lcrules";
  sources.extra = options.extra;
  sources.no_default_rules = options.no_default_rules;
  sources.no_user_rules = options.no_user_rules;
  return sources;
}

}  // namespace

std::vector<RulePath> Engine::rule_paths(const RuleSetOptions& options) const {
  const RuleSources sources = sources_of(env_, options);
  std::vector<RulePath> out;
  if (!sources.no_default_rules && sources.shipped_dir) out.push_back({*sources.shipped_dir, true});
  if (!sources.no_user_rules) {
    out.push_back({sources.system_dir, true});
    out.push_back({sources.user_dir, true});
  }
  for (const auto& p : sources.extra) {
    std::error_code ec;
    out.push_back({p, std::filesystem::is_directory(p, ec)});
  }
  return out;
}

Result<LoadedRules> Engine::load(const RuleSetOptions& options) const {
  const RuleSources sources = sources_of(env_, options);
  std::vector<Error> errors;
  auto files = collect_rule_files(sources, errors);
  // With a refused or missing file, the others are still read and checked: every problem
  // is reported in one run (and nothing is cached).
  LoadResult loaded = errors.empty() && options.use_cache
                          ? ruleset_cache::load_with_cache(files, env_.cache_dir())
                          : load_rule_set(files);
  for (auto& e : loaded.errors) errors.push_back(std::move(e));
  if (!errors.empty()) return errors;
  spdlog::debug("loaded {} rules from {} files", loaded.rule_set->rules.size(), files.size());
  auto impl = std::make_shared<LoadedRules::Impl>();
  impl->rules = std::move(*loaded.rule_set);
  impl->rule_warnings = rule_set_warnings(impl->rules);
  if (!sources.shipped_dir && !options.no_default_rules) impl->warnings.push_back("no shipped rules found");
  return LoadedRules(std::move(impl));
}

Result<LoadedRules> Engine::check(const std::vector<std::string>& paths, const RuleSetOptions& options,
                                  bool alone) const {
  namespace fs = std::filesystem;
  auto canonical_or_self = [](const std::string& p) {
    std::error_code ec;
    auto c = fs::weakly_canonical(p, ec);
    return ec ? p : c.string();
  };
  std::vector<Error> errors;
  std::vector<RuleFileRef> files;
  if (!alone) files = collect_rule_files(sources_of(env_, options), errors);  // as `load` finds them
  // The given files after them; one that is in the active set already loads once, in its place.
  for (auto& g : collect_paths(paths, RuleOrigin::Shipped, errors)) {
    const bool active = std::any_of(files.begin(), files.end(), [&](const RuleFileRef& f) {
      return canonical_or_self(f.path) == canonical_or_self(g.path);
    });
    if (!active) files.push_back(std::move(g));
  }
  auto loaded = load_rule_set(files);
  for (auto& e : loaded.errors) errors.push_back(std::move(e));
  if (!errors.empty()) return errors;
  auto impl = std::make_shared<LoadedRules::Impl>();
  impl->rules = std::move(*loaded.rule_set);
  impl->rule_warnings = rule_set_warnings(impl->rules);
  const RuleSources sources = sources_of(env_, options);
  if (!alone && !sources.shipped_dir && !options.no_default_rules)
    impl->warnings.push_back("no shipped rules found");
  return LoadedRules(std::move(impl));
}

namespace {

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

// The kubeconfig files' identities (size, times, inode): cached command results depend on
// them (`minikube start` rewrites the kubeconfig).
std::string kubeconfig_cache_key(const std::vector<std::string>& files) {
  std::string key;
  for (const auto& f : files) key += f + "@" + cache_codec::file_identity(f).value_or("") + ";";
  return key;
}

// One request's kubeconfig, context and facts, ready to evaluate.
struct Prepared {
  std::shared_ptr<const Kubeconfig> kubeconfig;
  std::vector<std::string> kubeconfig_files;  // where the kubeconfig was looked for
  EvaluationInput input;
};

// Which kubeconfig files were read, or looked for when none was: "read A, B".
std::string kubeconfig_files_text(const Prepared& p) {
  const auto& read = p.kubeconfig->files_read();
  const auto& files = read.empty() ? p.kubeconfig_files : read;
  std::string where;
  for (const auto& f : files) where += (where.empty() ? "" : ", ") + f;
  return read.empty() ? "none found; looked for " + where : "read " + where;
}

// A context the kubeconfig does not define still gets an answer, from its name and what
// commands report (as Skaffold does), but the caller is told: the warning, and the note.
void tell_missing_context(const Prepared& p, Evaluation::Data& data) {
  const std::string& name = p.input.context.name;
  std::string where = kubeconfig_files_text(p);
  if (auto near = closest_name(name, p.kubeconfig->context_names()))
    where += "; did you mean \"" + *near + "\"?";
  // For a terminal: control bytes in the name or the paths are escaped (the note is escaped
  // by the output it is printed in).
  data.warnings.push_back(printable("context \"" + name + "\" is not in the kubeconfig (" + where + ")"));
  data.decision.notes.push_back("Context \"" + name + "\" is not in the kubeconfig (" + where +
                                "): the answer comes from its name, without facts about its cluster.");
}

// The kubeconfig files, from the memo while they are unchanged.
std::shared_ptr<const Kubeconfig> read_kubeconfig(const Environment& env, const EvalRequest& req,
                                                  const std::vector<std::string>& files,
                                                  FileMemo<Kubeconfig>& memo) {
  const bool must_exist = !req.kubeconfig.empty();
  if (req.no_cache) return std::make_shared<const Kubeconfig>(Kubeconfig::load(files, must_exist));
  std::string key = kubeconfig_cache::key_of(files, must_exist);
  if (auto known = memo.get(key)) return known;
  auto read =
      std::make_shared<const Kubeconfig>(kubeconfig_cache::load(files, must_exist, env.cache_dir(), &key));
  // As for the cache on disk: a file modified just now may be rewritten within the same
  // timestamp tick without changing its identity, so it is not remembered yet.
  const bool recent = std::any_of(files.begin(), files.end(), [](const std::string& f) {
    return !f.empty() && cache_codec::file_identity(f) && cache_codec::recently_modified(f);
  });
  if (!recent) memo.put(std::move(key), read);
  return read;
}

Result<Prepared> prepare(const Environment& env, const EvalRequest& req,
                         FileMemo<Kubeconfig>& kubeconfig_memo,
                         FileMemo<SkaffoldGlobalConfig>& skaffold_memo) {
  const std::string home = env.home();
  Prepared p;
  std::vector<std::string> files;
  try {
    if (req.kubeconfig_text) {
      p.kubeconfig = std::make_shared<const Kubeconfig>(
          Kubeconfig::from_text("(kubeconfig text)", *req.kubeconfig_text));
    } else {
      files = Kubeconfig::locate(req.kubeconfig,
                                 req.kubeconfig_env ? req.kubeconfig_env : env.get("KUBECONFIG"), home);
      p.kubeconfig = read_kubeconfig(env, req, files, kubeconfig_memo);
    }
  } catch (const KubeconfigError& e) {
    return e.error();
  }
  std::string context = req.context;
  if (context.empty()) {
    if (!p.kubeconfig->current_context()) {
      std::string where;
      for (const auto& f : files) where += (where.empty() ? "" : ", ") + f;
      return Error::general(
          ErrorKind::NoContext,
          "no context: give --context NAME, or set current-context in the kubeconfig (" +
              (p.kubeconfig->files_read().empty() ? "none found; looked for " + where : "read " + where) +
              ")");
    }
    context = *p.kubeconfig->current_context();
  }
  p.kubeconfig_files = files;
  spdlog::debug("classifying context '{}' ({} kubeconfig file(s) read)", context,
                p.kubeconfig->files_read().size());
  EvaluationInput& in = p.input;
  in.context = p.kubeconfig->resolve(context);
  in.kubeconfig_files = p.kubeconfig->files_read();
  in.getenv = [&env](const std::string& name) { return env.get(name); };
  in.file_exists = [](const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
  };
  in.list_folder = file_reads::list_folder;
  in.read_file = file_reads::read_file;
  in.skaffold_config = [home, context, &skaffold_memo]() {
    const std::string path = home + "/.skaffold/config";
    spdlog::debug("reading Skaffold's global config {}", path);
    std::string identity = path + "@" + cache_codec::file_identity(path).value_or("absent");
    auto config = skaffold_memo.get(identity);
    if (!config) {
      config = std::make_shared<const SkaffoldGlobalConfig>(SkaffoldGlobalConfig::load(path));
      // A missing file is remembered as missing; one modified just now is not remembered yet.
      const bool exists = cache_codec::file_identity(path).has_value();
      if (!exists || !cache_codec::recently_modified(path)) skaffold_memo.put(std::move(identity), config);
    }
    return config->resolve(context);
  };
  if (!req.skaffold_yaml.empty()) {
    try {
      in.skaffold_build_local_push = read_skaffold_yaml_push(req.skaffold_yaml);
    } catch (const ConfigError& e) {
      return e.error();
    }
  }
  in.probe_cluster = req.probe_cluster;
  in.command_timeout = to_ms(req.command_timeout);
  return p;
}

// The executors one evaluation runs commands through: real processes (bounded by the
// request's deadline) behind the result cache, all shared with concurrent evaluations of
// the same Engine; or none (--no-exec).
struct Executors {
  Executors(const EvalRequest& req, const std::vector<std::string>& kubeconfig_files,
            const std::string& cache_dir, CommandSharing& sharing)
      : deadline(req.deadline ? std::optional(std::chrono::steady_clock::now() + to_ms(*req.deadline))
                              : std::nullopt),
        process(deadline),
        cache(
            process, cache_dir, [&kubeconfig_files] { return kubeconfig_cache_key(kubeconfig_files); },
            deadline),
        shared(req.no_cache ? static_cast<CommandExecutor&>(process) : cache, sharing) {
    active = req.no_exec ? static_cast<CommandExecutor*>(&no_exec) : &shared;
  }
  std::optional<std::chrono::steady_clock::time_point> deadline;  // also bounds waiting for the cache
  ProcessExecutor process;
  CachingExecutor cache;
  SharedExecutor shared;
  NoExecExecutor no_exec;
  CommandExecutor* active = nullptr;
};

Error request_error(const std::string& message) { return Error::general(ErrorKind::Usage, message); }

std::optional<Error> check_request(const EvalRequest& req) {
  // Bounded like durations in rule files, so milliseconds always fit in a clock.
  if (!(req.command_timeout >= 0.001 && req.command_timeout <= 1e9))
    return request_error("command timeout must be between 0.001 and 1e9 seconds");
  if (req.deadline && !(*req.deadline >= 0.001 && *req.deadline <= 1e9))
    return request_error("deadline must be between 0.001 and 1e9 seconds");
  // Commands get the kubeconfig as KUBECONFIG, which kubectl splits at ':': `a:b` would make
  // them read `a` and `b` (relative to the working folder), not the file lcrules read.
  if (req.kubeconfig.find(':') != std::string::npos)
    return request_error("--kubeconfig: '" + req.kubeconfig +
                         "' contains ':', which cannot be passed on to commands as KUBECONFIG (kubectl "
                         "splits it into several files there); use a path without ':', e.g. a link to it");
  return std::nullopt;
}

}  // namespace

Result<Evaluation> Engine::evaluate(const LoadedRules& rules, const EvalRequest& request) const {
  if (auto bad = check_request(request)) return *bad;
  auto prepared = prepare(env_, request, shared_->kubeconfig, shared_->skaffold);
  if (!prepared) return prepared.errors();
  Executors executors(request, prepared->input.kubeconfig_files, env_.cache_dir(), shared_->sharing);
  prepared->input.executor = executors.active;
  auto data = std::make_shared<Evaluation::Data>();
  data->rules = rules.impl_;
  try {
    if (request.explain) {
      data->explanation.emplace();
      data->decision = lcrules::evaluate(rules.impl_->rules, prepared->input, &*data->explanation);
    } else {
      data->decision = lcrules::evaluate(rules.impl_->rules, prepared->input, nullptr);
    }
  } catch (const ConfigError& e) {
    return e.error();
  }
  if (!prepared->input.context.in_kubeconfig) tell_missing_context(prepared.value(), *data);
  return Evaluation(std::move(data));
}

Result<std::vector<Fact>> Engine::facts(const LoadedRules& rules, const EvalRequest& request,
                                        bool run_commands) const {
  if (auto bad = check_request(request)) return *bad;
  auto prepared = prepare(env_, request, shared_->kubeconfig, shared_->skaffold);
  if (!prepared) return prepared.errors();
  Executors executors(request, prepared->input.kubeconfig_files, env_.cache_dir(), shared_->sharing);
  prepared->input.executor = executors.active;
  std::vector<Fact> out;
  try {
    for (auto& f : list_facts(rules.impl_->rules, prepared->input, run_commands))
      out.push_back({std::move(f.name), std::move(f.value), std::move(f.detail)});
  } catch (const ConfigError& e) {
    return e.error();
  }
  return out;
}

Result<std::vector<std::string>> Engine::context_names(const EvalRequest& request) const {
  if (auto bad = check_request(request)) return *bad;
  try {
    if (request.kubeconfig_text)
      return Kubeconfig::from_text("(kubeconfig text)", *request.kubeconfig_text).context_names();
    const auto files = Kubeconfig::locate(
        request.kubeconfig, request.kubeconfig_env ? request.kubeconfig_env : env_.get("KUBECONFIG"), env_.home());
    return read_kubeconfig(env_, request, files, shared_->kubeconfig)->context_names();
  } catch (const KubeconfigError& e) {
    return e.error();
  }
}

// --- Rendering of rules and facts ---------------------------------------------------------

nlohmann::ordered_json with_api_version(nlohmann::ordered_json j) {
  if (!j.is_object() || j.contains("apiVersion")) return j;
  nlohmann::ordered_json out = {{"apiVersion", kApiVersion}};
  for (auto& [key, value] : j.items()) out[key] = std::move(value);
  return out;
}

std::string dump_json(const nlohmann::ordered_json& j) {
  return with_api_version(j).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

nlohmann::ordered_json rules_json(const std::vector<RuleInfo>& rules) {
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (const auto& r : rules) {
    arr.push_back({{"name", r.name},
                   {"priority", r.priority},
                   {"stage", r.stage},
                   {"file", r.file},
                   {"line", r.line},
                   {"status", r.status},
                   {"changed_by", r.changed_by},
                   {"description", r.description}});
  }
  return arr;
}

std::string rules_text(const std::vector<RuleInfo>& rules) {
  std::vector<std::array<std::string, 5>> rows;  // priority, stage, name, where, status
  for (const auto& r : rules) {
    std::string status = "active";
    if (r.disabled_by) {
      status = "disabled at " + *r.disabled_by;
    } else if (!r.changed_by.empty()) {
      status = "overridden at ";
      for (std::size_t i = 0; i < r.changed_by.size(); ++i) status += (i ? ", " : "") + r.changed_by[i];
    }
    rows.push_back(
        {std::to_string(r.priority), r.stage, r.name, r.file + ":" + std::to_string(r.line), status});
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
  return text;
}

nlohmann::ordered_json facts_json(const std::vector<Fact>& facts) {
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (const auto& f : facts) {
    nlohmann::ordered_json row = {{"fact", f.name},
                                  {"value", f.value ? nlohmann::ordered_json(*f.value) : nullptr}};
    if (!f.detail.empty()) row["detail"] = f.detail;
    arr.push_back(std::move(row));
  }
  return arr;
}

std::string facts_text(const std::vector<Fact>& facts) {
  std::string text;
  for (const auto& f : facts) {
    std::string line = f.name;
    if (line.size() < 32) line.resize(32, ' ');
    line += " " + (f.value ? "'" + *f.value + "'" : std::string("(not set)"));
    if (!f.detail.empty()) line += "  [" + f.detail + "]";
    text += line + "\n";
  }
  return text;
}

void configure_allocator() {
#if defined(__GLIBC__)
  ::mallopt(M_MXFAST, 0);
#endif
}

}  // namespace lcrules
