// In-process benchmarks (Google Benchmark): loading generated rule sets, evaluating the
// shipped rules for the reference's contexts, and reading a large kubeconfig.
// Figures and how to reproduce them: docs/performance.md.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "lcrules/engine.hpp"
#include "engine/core/checker.hpp"
#include "engine/core/evaluator.hpp"
#include "engine/facts/kubeconfig.hpp"
#include "engine/cache/kubeconfig_cache.hpp"
#include "engine/core/loader.hpp"
#include "engine/cache/ruleset_cache.hpp"
#include "grammar/parser.hpp"

#ifndef LCRULES_SOURCE_DIR
#error "LCRULES_SOURCE_DIR must name the source tree"
#endif

namespace {

using namespace lcrules;
namespace fs = std::filesystem;

// --- generated rule sets ----------------------------------------------------------------

// One rule of about 250 bytes: three predicates (one a regex), two interpolated fields.
std::string generated_rule(std::size_t i) {
  char id[16];
  std::snprintf(id, sizeof id, "%06zu", i);
  std::string r;
  r += "rule g";
  r += id;
  r += " {\n  priority ";
  r += std::to_string(i % 1000);
  r += "\n  when context.name starts-with \"p";
  r += id;
  r += "-\" and cluster.server.port == \"6443\"\n   and cluster.name matches /c";
  r += id;
  r += "-(?<n>.+)/\n  set cluster = \"p";
  r += id;
  r += "\"\n  set cluster_name = \"${cluster.name#c";
  r += id;
  r += "-}\"\n  set registry = \"${match.n}:5000\"\n}\n";
  return r;
}

std::string generated_rules(std::size_t n) {
  std::string text = "lcrules 1\n";
  for (std::size_t i = 0; i < n; ++i) text += generated_rule(i);
  return text;
}

ast::File parse_or_die(std::string text, const std::string& path) {
  auto parsed = parse_rules(std::move(text), path);
  if (!parsed.file) throw std::runtime_error("generated rules do not parse: " + format(*parsed.error));
  return std::move(*parsed.file);
}

// Parse and check: what loading costs once the file is in memory (the loader's consuming check).
void load_once(const std::string& text) {
  std::vector<ast::File> files;
  files.push_back(parse_or_die(text, "gen.rules"));
  auto checked = check_rule_files(std::move(files));
  if (!checked.errors.empty()) throw std::runtime_error(format(checked.errors.front()));
  benchmark::DoNotOptimize(checked.rule_set.active.data());
}

// The time of one iteration divided by the `n` rules it handles.
void count_time_per_rule(benchmark::State& state, std::size_t n) {
  state.counters["time_per_rule"] = benchmark::Counter(
      static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_LoadRules(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::string text = generated_rules(n);
  for (auto _ : state) load_once(text);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.counters["rules"] = static_cast<double>(n);
  state.counters["bytes_per_rule"] = static_cast<double>(text.size()) / static_cast<double>(n);
  count_time_per_rule(state, n);
}
BENCHMARK(BM_LoadRules)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

// The same load as a process does it, once: before each iteration (untimed) the freed heap
// goes back to the kernel and the processor's caches are filled with other data, so the
// load takes fresh pages and finds nothing cached, as `lcrules check` or an `eval` that
// misses the rule-set cache does. BM_LoadRules instead reuses the previous iteration's
// memory, which for 1k rules (about 5 MB) is still in the 32 MB last-level cache.
void BM_LoadRulesCold(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::string text = generated_rules(n);
  std::vector<char> other(std::size_t{128} << 20);
  for (auto _ : state) {
    state.PauseTiming();
#if defined(__GLIBC__)
    ::malloc_trim(0);
#endif
    for (std::size_t i = 0; i < other.size(); i += 64) other[i] = static_cast<char>(other[i] + 1);
    benchmark::ClobberMemory();
    state.ResumeTiming();
    load_once(text);
  }
  state.counters["rules"] = static_cast<double>(n);
  count_time_per_rule(state, n);
}
BENCHMARK(BM_LoadRulesCold)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

void BM_ParseRules(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::string text = generated_rules(n);
  for (auto _ : state) benchmark::DoNotOptimize(parse_or_die(text, "gen.rules").items.data());
  count_time_per_rule(state, n);
}
BENCHMARK(BM_ParseRules)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

void BM_CheckRules(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<ast::File> files;
  files.push_back(parse_or_die(generated_rules(n), "gen.rules"));
  for (auto _ : state) {
    auto checked = check_rule_files(files);
    benchmark::DoNotOptimize(checked.rule_set.active.data());
  }
  count_time_per_rule(state, n);
}
BENCHMARK(BM_CheckRules)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

// --- the shipped rules ------------------------------------------------------------------

const RuleSet& shipped_rules() {
  static const RuleSet rules = [] {
    std::vector<lcrules::Error> errors;
    RuleSources sources;
    sources.shipped_dir = std::string(LCRULES_SOURCE_DIR) + "/rules";
    sources.no_user_rules = true;
    auto files = collect_rule_files(sources, errors);
    auto loaded = load_rule_set(files);
    if (!errors.empty() || !loaded.rule_set) throw std::runtime_error("cannot load the shipped rules");
    return std::move(*loaded.rule_set);
  }();
  return rules;
}

// Reading the shipped rules from disk, parsing and checking them: what every `lcrules
// eval` does before it evaluates.
void BM_LoadShippedRules(benchmark::State& state) {
  RuleSources sources;
  sources.shipped_dir = std::string(LCRULES_SOURCE_DIR) + "/rules";
  sources.no_user_rules = true;
  std::size_t rules = 0;
  for (auto _ : state) {
    std::vector<lcrules::Error> errors;
    auto files = collect_rule_files(sources, errors);
    auto loaded = load_rule_set(files);
    rules = loaded.rule_set ? loaded.rule_set->rules.size() : 0;
    benchmark::DoNotOptimize(rules);
  }
  state.counters["rules"] = static_cast<double>(rules);
}
BENCHMARK(BM_LoadShippedRules)->Unit(benchmark::kMicrosecond);

// What `eval` does instead when the shipped rules are unchanged since the last run: find
// the files, check the cache entry's key and decode the rule set from it (the entry is
// read from memory here; reading it from the page cache adds one `read`).
void BM_LoadShippedRulesCached(benchmark::State& state) {
  RuleSources sources;
  sources.shipped_dir = std::string(LCRULES_SOURCE_DIR) + "/rules";
  sources.no_user_rules = true;
  std::vector<lcrules::Error> errors;
  const auto files = collect_rule_files(sources, errors);
  const auto loaded = load_rule_set(files);
  const auto key = ruleset_cache::key_of(files);
  if (!loaded.rule_set || !key) throw std::runtime_error("the shipped rules do not load");
  const std::string entry = ruleset_cache::encode(*loaded.rule_set, *key);
  std::size_t rules = 0;
  for (auto _ : state) {
    std::vector<lcrules::Error> errs;
    auto found = collect_rule_files(sources, errs);
    auto decoded = ruleset_cache::decode(entry, *ruleset_cache::key_of(found), nullptr);
    rules = decoded ? decoded->rules.size() : 0;
    benchmark::DoNotOptimize(rules);
  }
  state.counters["rules"] = static_cast<double>(rules);
  state.counters["entry_bytes"] = static_cast<double>(entry.size());
}
BENCHMARK(BM_LoadShippedRulesCached)->Unit(benchmark::kMicrosecond);

// Commands answered as in the Skaffold reference's tests: minikube installed, one profile
// `minikube` with its node at 192.168.49.2:8443; kubectl is not consulted (no --probe-cluster).
class StubExecutor final : public CommandExecutor {
 public:
  CommandResult run(const CommandRequest& request) override {
    ++runs;
    CommandResult r;
    r.status = CommandResult::Status::Exited;
    r.exit_code = 0;
    if (request.argv.size() >= 2 && request.argv[0] == "minikube" && request.argv[1] == "version") {
      r.out = R"({"commit":"5883c09216182566a63dff4c326a6fc9ed2982ff","minikubeVersion":"v1.33.1"})";
    } else if (request.argv.size() >= 3 && request.argv[0] == "minikube" && request.argv[1] == "profile") {
      r.out =
          R"({"invalid":[],"valid":[{"Name":"minikube","Config":{"Nodes":[{"IP":"192.168.49.2","Port":8443}]}}]})";
    } else {
      r.status = CommandResult::Status::NotFound;
      r.reason = "not found on PATH";
    }
    return r;
  }
  std::size_t runs = 0;
};

struct Case {
  const char* label;
  const char* context;
  const char* cluster;  // the cluster entry; null: the context is not in the kubeconfig
  const char* server;
  const char* ca;
};

// The reference's contexts: decided by their names, and ones that fall through to the
// cluster entry, minikube's profile list and the remote rule.
const std::vector<Case>& name_decided() {
  static const std::vector<Case> cases = {
      {"kind-other", "kind-other", "kind-other", "https://127.0.0.1:34567", nullptr},
      {"kind@kind", "kind@kind", "kind@kind", "https://127.0.0.1:34567", nullptr},
      {"k3d-k3s-default", "k3d-k3s-default", "k3d-k3s-default", "https://0.0.0.0:6550", nullptr},
      {"docker-desktop", "docker-desktop", "docker-desktop", "https://kubernetes.docker.internal:6443",
       nullptr},
      {"docker-for-desktop", "docker-for-desktop", "docker-for-desktop-cluster",
       "https://kubernetes.docker.internal:6443", nullptr},
      {"minikube", "minikube", "minikube", "https://192.168.49.2:8443", "/home/u/.minikube/ca.crt"},
  };
  return cases;
}
const std::vector<Case>& fall_through() {
  static const std::vector<Case> cases = {
      {"anything-else", "anything-else", "anything-else", "https://34.120.1.2", nullptr},
      {"anything-else(not-in-kubeconfig)", "anything-else", nullptr, nullptr, nullptr},
      {"some-cluster", "some-cluster", "some-cluster", "https://10.0.0.1:6443", nullptr},
      {"minikube-renamed(profile-node)", "dev", "dev", "https://192.168.49.2:8443", nullptr},
  };
  return cases;
}

KubeContext make_context(const Case& c) {
  KubeContext k;
  k.name = c.context;
  if (!c.cluster) return k;
  k.in_kubeconfig = true;
  k.cluster_ref = c.cluster;
  k.user = c.cluster;
  k.file = "/home/u/.kube/config";
  k.cluster_found = true;
  if (c.server) k.server = c.server;
  if (c.ca) k.certificate_authority = c.ca;
  return k;
}

EvaluationInput make_input(const Case& c, CommandExecutor* executor) {
  EvaluationInput in;
  in.context = make_context(c);
  in.kubeconfig_files = {"/home/u/.kube/config"};
  in.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") return std::string("/home/u");
    return std::nullopt;
  };
  in.file_exists = [](const std::string&) { return false; };
  in.skaffold_config = [] { return std::map<std::string, std::string>{}; };
  in.executor = executor;
  return in;
}

void run_cases(benchmark::State& state, const std::vector<Case>& cases, bool explain) {
  const RuleSet& rules = shipped_rules();
  StubExecutor executor;
  std::vector<EvaluationInput> inputs;
  for (const auto& c : cases) inputs.push_back(make_input(c, &executor));
  std::size_t i = 0;
  for (auto _ : state) {
    if (explain) {
      Explanation ex;
      benchmark::DoNotOptimize(evaluate(rules, inputs[i], &ex).cluster.data());
    } else {
      benchmark::DoNotOptimize(evaluate(rules, inputs[i]).cluster.data());
    }
    if (++i == inputs.size()) i = 0;
  }
  state.counters["decisions_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["commands_per_decision"] =
      static_cast<double>(executor.runs) / static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
}

void BM_EvaluateNameDecided(benchmark::State& state) { run_cases(state, name_decided(), false); }
BENCHMARK(BM_EvaluateNameDecided);
void BM_EvaluateFallThrough(benchmark::State& state) { run_cases(state, fall_through(), false); }
BENCHMARK(BM_EvaluateFallThrough);
void BM_EvaluateAllExplained(benchmark::State& state) {
  std::vector<Case> all = name_decided();
  all.insert(all.end(), fall_through().begin(), fall_through().end());
  run_cases(state, all, true);
}
BENCHMARK(BM_EvaluateAllExplained);

// Every case on its own.
void register_each_case() {
  auto add = [](const std::vector<Case>& cases, const char* group) {
    for (const auto& c : cases) {
      const Case one = c;
      benchmark::RegisterBenchmark((std::string("BM_Evaluate/") + group + "/" + c.label).c_str(),
                                   [one](benchmark::State& state) { run_cases(state, {one}, false); });
    }
  };
  add(name_decided(), "name");
  add(fall_through(), "fall-through");
}

// --- a large kubeconfig -----------------------------------------------------------------

std::string kubeconfig_text(std::size_t n) {
  std::string clusters = "clusters:\n", contexts = "contexts:\n", users = "users:\n";
  for (std::size_t i = 0; i < n; ++i) {
    const std::string id = std::to_string(i);
    clusters += "- name: cluster-" + id + "\n  cluster:\n    server: https://10.0." +
                std::to_string(i / 250) + "." + std::to_string(i % 250) +
                ":6443\n    certificate-authority-data: AAAA\n";
    contexts += "- name: context-" + id + "\n  context:\n    cluster: cluster-" + id + "\n    user: user-" +
                id + "\n    namespace: default\n";
    users += "- name: user-" + id + "\n  user:\n    token: t" + id + "\n";
  }
  return "apiVersion: v1\nkind: Config\ncurrent-context: context-" + std::to_string(n / 2) + "\n" + clusters +
         contexts + users;
}

void BM_LoadKubeconfig(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::string path =
      (fs::temp_directory_path() / ("lcrules-bench-kubeconfig-" + std::to_string(::getpid()))).string();
  { std::ofstream(path, std::ios::binary) << kubeconfig_text(n); }
  for (auto _ : state) {
    const Kubeconfig kc = Kubeconfig::load({path}, true);
    benchmark::DoNotOptimize(kc.resolve(*kc.current_context()).server);
  }
  state.counters["bytes"] = static_cast<double>(fs::file_size(path));
  fs::remove(path);
}
BENCHMARK(BM_LoadKubeconfig)->Arg(1000)->Unit(benchmark::kMillisecond);

// The kubeconfig of N contexts read with yaml-cpp (Arg 1: the 1 KB demo kubeconfig, else
// N generated contexts), and what `eval` does instead while the files are unchanged: the
// cache key (one stat per file) and decoding the entry (read from memory here).
std::string kubeconfig_file(std::size_t n) {
  if (n == 1) return std::string(LCRULES_SOURCE_DIR) + "/docs/demo/kubeconfig";
  const std::string path =
      (fs::temp_directory_path() / ("lcrules-bench-kubeconfig-" + std::to_string(::getpid()))).string();
  std::ofstream(path, std::ios::binary) << kubeconfig_text(n);
  return path;
}

void BM_ReadKubeconfig(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::string path = kubeconfig_file(n);
  for (auto _ : state) {
    const Kubeconfig kc = Kubeconfig::load({path}, false);
    benchmark::DoNotOptimize(kc.current_context());
  }
  state.counters["bytes"] = static_cast<double>(fs::file_size(path));
  if (n != 1) fs::remove(path);
}
BENCHMARK(BM_ReadKubeconfig)->Arg(1)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_ReadKubeconfigCached(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::string path = kubeconfig_file(n);
  const std::string entry =
      kubeconfig_cache::encode(Kubeconfig::load({path}, false), kubeconfig_cache::key_of({path}, false));
  for (auto _ : state) {
    const std::string key = kubeconfig_cache::key_of({path}, false);
    const std::string_view k(key);
    auto kc = kubeconfig_cache::decode(entry, &k, nullptr);
    if (!kc) throw std::runtime_error("the kubeconfig entry does not decode");
    benchmark::DoNotOptimize(kc->current_context());
  }
  state.counters["entry_bytes"] = static_cast<double>(entry.size());
  if (n != 1) fs::remove(path);
}
BENCHMARK(BM_ReadKubeconfigCached)->Arg(1)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  configure_allocator();  // as lcrules does
  register_each_case();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
