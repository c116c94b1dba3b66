// The fuzz targets' bodies, shared by the libFuzzer programs (tests/fuzz/fuzz_*.cpp) and by
// the unit test that replays every committed crash input (tests/unit/fuzz_regressions_test.cpp).
//
// Each function takes one input and must return normally for every input: the readers'
// own errors (a Diagnostic, KubeconfigError, ConfigError, a parse error string) are
// expected; any other exception, a crash, or a sanitizer report is a finding. Invariants
// that must hold are checked with `require()`, which throws std::logic_error.
#pragma once

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cache/kubeconfig_cache.hpp"
#include "engine/cache/ruleset_cache.hpp"
#include "engine/core/checker.hpp"
#include "engine/core/evaluator.hpp"
#include "engine/core/output.hpp"
#include "engine/facts/command.hpp"
#include "engine/facts/docpath.hpp"
#include "engine/facts/kubeconfig.hpp"
#include "engine/facts/skaffold_config.hpp"
#include "engine/serve/limits.hpp"
#include "engine/serve/request.hpp"
#include "engine/serve/service.hpp"
#include "grammar/formatter.hpp"
#include "grammar/parser.hpp"

namespace lcrules::fuzz {

inline void require(bool ok, const char* what) {
  if (!ok) throw std::logic_error(std::string("fuzz invariant violated: ") + what);
}

// The readers take file names: the input goes into an anonymous in-memory file that is
// read back through /proc/self/fd/N (no disk, one per process, rewritten per input).
class MemFile {
 public:
  MemFile() : fd_(::memfd_create("lcrules-fuzz", MFD_CLOEXEC)) {
    if (fd_ < 0) throw std::runtime_error("memfd_create failed");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;

  const std::string& write(std::string_view data) {
    if (::ftruncate(fd_, 0) != 0) throw std::runtime_error("ftruncate failed");
    std::size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(done));
      if (n <= 0) throw std::runtime_error("pwrite failed");
      done += static_cast<std::size_t>(n);
    }
    return path_;
  }

 private:
  int fd_;
  std::string path_;
};

inline MemFile& mem_file(int which) {
  static MemFile files[2];
  return files[which];
}

// Commands in fuzzed rules never run: this answers every argv with fixed output that
// exercises the json/yaml/output tests (a minikube-like profile list, as JSON and YAML).
class CannedExecutor final : public CommandExecutor {
 public:
  CommandResult run(const CommandRequest& request) override {
    CommandResult r;
    r.status = CommandResult::Status::Exited;
    r.resolved_path = "/fuzz/bin/" + (request.argv.empty() ? std::string() : request.argv[0]);
    const std::size_t h = request.argv.size() + (request.argv.empty() ? 0 : request.argv.back().size());
    switch (h % 4) {
      case 0:
        r.exit_code = 0;
        r.out =
            R"({"valid":[{"Name":"minikube","Config":{"Nodes":[{"IP":"192.168.49.2","Port":8443}]}}],"invalid":[]})";
        break;
      case 1:
        r.exit_code = 0;
        r.out = "valid:\n- Name: minikube\n  Config:\n    Nodes:\n    - IP: 127.0.0.1\n      Port: 6443\n";
        break;
      case 2:
        r.exit_code = 1;
        r.err = "boom";
        break;
      default:
        r.status = CommandResult::Status::TimedOut;
        r.reason = "timed out after 5s";
        break;
    }
    return r;
  }
};

inline bool same_decision(const Decision& a, const Decision& b) {
  return a.context == b.context && a.cluster == b.cluster && a.local == b.local &&
         a.cluster_name == b.cluster_name && a.kubeconfig_cluster == b.kubeconfig_cluster &&
         a.load_images == b.load_images && a.push_images == b.push_images &&
         a.load_command == b.load_command && a.registry == b.registry && a.notes == b.notes;
}

// The contexts a checked rule set is evaluated against.
inline std::vector<KubeContext> fuzz_contexts() {
  std::vector<KubeContext> out;
  KubeContext kind;
  kind.name = "kind-dev";
  kind.in_kubeconfig = true;
  kind.cluster_ref = "kind-dev";
  kind.user = "kind-dev";
  kind.file = "/home/u/.kube/config";
  kind.cluster_found = true;
  kind.server = "https://127.0.0.1:40123";
  kind.context_extensions["provider.name"] = "kind";
  out.push_back(kind);
  KubeContext mk;
  mk.name = "minikube";
  mk.in_kubeconfig = true;
  mk.cluster_ref = "minikube";
  mk.user = "minikube";
  mk.cluster_found = true;
  mk.server = "https://192.168.49.2:8443";
  mk.certificate_authority = "/home/u/.minikube/ca.crt";
  mk.user_exec_command = "gke-gcloud-auth-plugin";
  mk.cluster_extensions["cluster_info.provider"] = "minikube.sigs.k8s.io";
  out.push_back(mk);
  KubeContext other;
  other.name = "anything-else";
  out.push_back(other);
  return out;
}

// Splits an input into several rule files at lines "---8<---": later files can override
// and disable rules of earlier ones.
inline std::vector<std::string> split_files(std::string_view data) {
  static constexpr std::string_view kSeparator = "\n---8<---\n";
  std::vector<std::string> out;
  while (out.size() < 7) {
    const auto cut = data.find(kSeparator);
    if (cut == std::string_view::npos) break;
    out.emplace_back(data.substr(0, cut));
    data.remove_prefix(cut + kSeparator.size());
  }
  out.emplace_back(data);
  return out;
}

// What a compiled rule is, apart from where it is written.
inline std::string rule_summary(const CompiledRule& r) {
  std::string out = r.name + " " + std::to_string(r.priority) + " " +
                    std::to_string(static_cast<int>(r.stage)) + " " + r.description + " " +
                    (r.timeout_seconds ? std::to_string(*r.timeout_seconds) : "-") + " " +
                    std::to_string(r.field_mask) + " " + std::to_string(r.sets.size()) + " " +
                    std::to_string(r.notes.size()) + " " + (r.when ? "when" : "always") + " " +
                    std::to_string(r.changed_by.size()) + (r.disabled_by ? " disabled" : "");
  for (const auto& n : r.notes) out += " note:" + n.spelling;
  return out;
}

// Rules: parse every part, check the parsed ones together, and evaluate a set that
// checks against a few contexts, with and without an explanation (the same decision
// either way), rendering the explanation as text and JSON. Every part that parses is
// also formatted (`lcrules fmt`): formatting succeeds, is idempotent, and a set that
// checks formats to one that checks to the same rules and decides the same.
inline void rules_one_input(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<ast::File> files;
  std::vector<ast::File> formatted_files;
  std::size_t index = 0;
  for (auto& text : split_files(input)) {
    const std::string name = "fuzz" + std::to_string(index++) + ".rules";
    ParseResult parsed = parse_rules(text, name);
    require(parsed.file.has_value() != parsed.error.has_value(), "parse gives a file or an error");
    if (parsed.error) {
      (void)format(*parsed.error);
      continue;
    }
    files.push_back(std::move(*parsed.file));
    FormatResult once = format_rules_text(text, name);
    require(once.text.has_value(), "a file that parses formats (to the same syntax tree)");
    FormatResult twice = format_rules_text(*once.text, name);
    require(twice.text.has_value() && *twice.text == *once.text, "formatting is idempotent");
    ParseResult reparsed = parse_rules(*once.text, name);
    require(reparsed.file.has_value(), "a formatted file parses");
    formatted_files.push_back(std::move(*reparsed.file));
  }
  CheckResult checked = check_rule_files(files);
  {
    // The loader's form frees each syntax tree once its rule is compiled: same errors, same rules.
    CheckResult consumed = check_rule_files(std::vector<ast::File>(files));
    require(consumed.errors.size() == checked.errors.size(), "consuming check: error count");
    for (std::size_t i = 0; i < checked.errors.size(); ++i)
      require(format(consumed.errors[i]) == format(checked.errors[i]), "consuming check: errors");
    require(consumed.rule_set.rules.size() == checked.rule_set.rules.size() &&
                consumed.rule_set.active.size() == checked.rule_set.active.size(),
            "consuming check: rules");
    for (std::size_t i = 0; i < checked.rule_set.rules.size(); ++i)
      require(consumed.rule_set.rules[i].name == checked.rule_set.rules[i].name, "consuming check: order");
  }
  for (const auto& e : checked.errors) (void)format(e);
  if (!checked.errors.empty()) return;
  for (const auto* rule : checked.rule_set.active)
    require(rule != nullptr && !rule->disabled_by, "active rules");
  CheckResult formatted = check_rule_files(std::move(formatted_files));
  require(formatted.errors.empty(), "formatted files check");
  require(formatted.rule_set.rules.size() == checked.rule_set.rules.size() &&
              formatted.rule_set.active.size() == checked.rule_set.active.size(),
          "formatted files: the same rules");
  for (std::size_t i = 0; i < checked.rule_set.rules.size(); ++i)
    require(rule_summary(formatted.rule_set.rules[i]) == rule_summary(checked.rule_set.rules[i]),
            "formatted files: the same rules");

  CannedExecutor executor;
  for (const KubeContext& context : fuzz_contexts()) {
    EvaluationInput in;
    in.context = context;
    in.kubeconfig_files = {"/home/u/.kube/config"};
    in.getenv = [](const std::string& name) -> std::optional<std::string> {
      if (name == "HOME") return std::string("/home/u");
      if (name == "MINIKUBE_HOME") return std::string("/home/u/.minikube");
      if (name == "EMPTY") return std::string();
      return std::nullopt;
    };
    in.file_exists = [](const std::string& path) { return path.size() % 2 == 0; };
    in.skaffold_config = [] {
      return std::map<std::string, std::string>{{"local-cluster", "true"}, {"kind-disable-load", "false"}};
    };
    in.skaffold_build_local_push = "false";
    in.probe_cluster = true;
    in.executor = &executor;
    const Decision plain = evaluate(checked.rule_set, in);
    require(same_decision(plain, evaluate(formatted.rule_set, in)), "formatted files decide the same");
    Explanation ex;
    const Decision explained = evaluate(checked.rule_set, in, &ex);
    require(same_decision(plain, explained), "the explanation does not change the decision");
    (void)render_text(explained, &ex);
    (void)decision_json(explained, &ex)
        .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    (void)list_facts(checked.rule_set, in, true);
  }
}

// Resolves every context a kubeconfig names, its current context and one it does not name.
inline void resolve_all(const Kubeconfig& kc) {
  std::vector<std::string> names = kc.context_names();
  if (kc.current_context()) names.push_back(*kc.current_context());
  names.push_back("not-in-the-kubeconfig");
  for (const auto& name : names) {
    const KubeContext c = kc.resolve(name);
    require(c.name == name, "resolve keeps the name");
    require(!c.cluster_found || c.cluster_ref, "a found cluster was named");
    if (c.server) (void)parse_server_url(*c.server);
  }
}

// Kubeconfig: read the input as one kubeconfig file, resolve every context it names (and
// one it does not), and take their server URLs apart.
inline void kubeconfig_one_input(const std::uint8_t* data, std::size_t size) {
  const std::string& path = mem_file(0).write(std::string_view(reinterpret_cast<const char*>(data), size));
  Kubeconfig kc;
  try {
    kc = Kubeconfig::load({path}, true);
  } catch (const KubeconfigError& e) {
    require(std::string_view(e.what()).find(": error: ") != std::string_view::npos, "errors say error:");
    return;
  }
  resolve_all(kc);
}

// Skaffold: the input as ~/.skaffold/config (resolved for a few contexts and for its own
// patterns) and as a skaffold.yaml.
inline void skaffold_one_input(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string& path = mem_file(0).write(text);
  try {
    const SkaffoldGlobalConfig cfg = SkaffoldGlobalConfig::load(path);
    for (const char* context : {"", "kind-dev", "minikube", "docker-desktop", "prod"}) {
      for (const auto& [key, value] : cfg.resolve(context)) {
        require(value == "true" || value == "false", "values are true or false");
        (void)key;
      }
    }
  } catch (const ConfigError& e) {
    require(std::string_view(e.what()).find(": error: ") != std::string_view::npos, "errors say error:");
  }
  try {
    const auto push = read_skaffold_yaml_push(path);
    require(!push || *push == "true" || *push == "false", "push is true or false");
  } catch (const ConfigError& e) {
    require(std::string_view(e.what()).find(": error: ") != std::string_view::npos, "errors say error:");
  }
  // The first line as a kubeContexts pattern against the rest (bounded: patterns are short).
  const auto nl = text.find('\n');
  if (nl != std::string_view::npos && nl <= 256) {
    (void)SkaffoldGlobalConfig::pattern_matches(std::string(text.substr(0, nl)),
                                                std::string(text.substr(nl + 1, 256)));
  }
}

// Document paths: the first line is a path, the rest a command's output, parsed as JSON
// and as YAML; every selected value is rendered as text and looked up by a dotted key.
inline void docpath_one_input(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string_view path_text = text;
  std::string_view doc_text;
  if (const auto nl = text.find('\n'); nl != std::string_view::npos) {
    path_text = text.substr(0, nl);
    doc_text = text.substr(nl + 1);
  }
  std::string error;
  const auto path = docpath::parse_path(path_text, &error);
  require(path.has_value() || !error.empty(), "a path error says why");
  for (int yaml = 0; yaml < 2; ++yaml) {
    error.clear();
    const auto doc = yaml ? docpath::parse_yaml(doc_text, &error) : docpath::parse_json(doc_text, &error);
    require(doc.has_value() || !error.empty(), "a parse error says why");
    if (!doc || !path) continue;
    for (const nlohmann::json* value : docpath::select(*doc, *path)) {
      require(value != nullptr, "select gives values");
      (void)docpath::scalar_text(*value);
      for (const char* key : {"", "IP", "Config.Name", "a.b.c"}) {
        if (const auto* v = docpath::lookup(*value, key)) (void)docpath::scalar_text(*v);
      }
    }
  }
}

// The rule-set cache's decoder: the input is an entry's body, wrapped in a header with the
// right key and checksum so that it reaches the decoder. Any bytes decode or are refused
// with a reason. What decodes encodes to a body that decodes to a rule set encoding to the
// same bytes (the input itself may spell a number with more varint bytes than needed, or
// mark an empty member present, so it need not be that body).
inline void ruleset_cache_one_input(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  std::string why;
  const auto decoded = ruleset_cache::decode(ruleset_cache::make_entry("fuzz", body), "fuzz", &why);
  require(decoded.has_value() || !why.empty(), "a refused entry says why");
  if (!decoded) return;
  require(decoded->active.size() <= decoded->rules.size(), "active rules are rules");
  const std::string canonical = ruleset_cache::encode_body(*decoded);
  const auto again = ruleset_cache::decode(ruleset_cache::make_entry("fuzz", canonical), "fuzz", &why);
  require(again.has_value(), "a decoded rule set's encoding decodes");
  require(ruleset_cache::encode_body(*again) == canonical, "encoding a decoded rule set is lossless");
}

// Kubeconfig::encode's bytes: the body of a kubeconfig cache entry.
inline std::string kubeconfig_body(const Kubeconfig& kc) {
  cache_codec::ByteWriter out;
  kc.encode(out);
  return out.take();
}

// What holds for a decoded kubeconfig: it names each of its contexts once, every one of
// them defined; they resolve; and its cache entry decodes to a kubeconfig encoding to the
// same bytes, with the same files and contexts.
inline void check_decoded_kubeconfig(const Kubeconfig& kc) {
  const std::vector<std::string> names = kc.context_names();
  std::set<std::string> seen;
  for (const auto& name : names) {
    require(kc.resolve(name).in_kubeconfig, "a listed context is defined");
    require(seen.insert(name).second, "a context is listed once");
  }
  resolve_all(kc);
  const std::string canonical = kubeconfig_body(kc);
  const std::string entry = kubeconfig_cache::encode(kc, "fuzz");
  const std::string_view key("fuzz");
  std::string why;
  const auto again = kubeconfig_cache::decode(entry, &key, &why);
  require(again.has_value(), "a decoded kubeconfig's entry decodes");
  require(kubeconfig_body(*again) == canonical, "encoding a decoded kubeconfig is lossless");
  require(kubeconfig_cache::encode(*again, "fuzz") == entry, "a decoded kubeconfig's entry is stable");
  require(again->files_read() == kc.files_read() && again->current_context() == kc.current_context() &&
              again->context_names() == names,
          "a decoded kubeconfig's entry keeps its files and contexts");
}

// The kubeconfig cache's decoder: the input is an entry's body, read as
// kubeconfig_cache::decode reads what follows the header (the header's magic and format
// are private to the cache, and its checksum keeps other bytes from the decoder). Any bytes
// decode or are refused with a reason; what decodes passes check_decoded_kubeconfig (as
// with the rule-set cache, the input itself need not be the canonical body). The input as
// a whole entry, for any key, goes through kubeconfig_cache::decode too.
inline void kubeconfig_cache_one_input(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string why;
  try {
    cache_codec::ByteReader in(bytes);
    const Kubeconfig kc = Kubeconfig::decode(in);
    if (!in.at_end()) throw cache_codec::CodecError{"bytes after the kubeconfig"};
    check_decoded_kubeconfig(kc);
  } catch (const cache_codec::CodecError& e) {
    why = e.what;
    require(!why.empty(), "a refused body says why");
  }
  why.clear();
  const auto whole = kubeconfig_cache::decode(bytes, nullptr, &why);
  require(whole.has_value() || !why.empty(), "a refused entry says why");
  if (whole) check_decoded_kubeconfig(*whole);
}

// --- lcrules serve: request decoding and the service -----------------------------------

// The service the request fuzzer talks to, set up once per process: an Engine whose
// environment lives in a temporary folder (HOME, XDG_CACHE_HOME, XDG_CONFIG_HOME,
// LCRULES_SYSTEM_DIR, KUBECONFIG: nothing is read from or written to the real ones), and a
// small rule set written there (no shipped rules, no rule-set cache). The rules run no
// commands. The folder is removed at exit.
struct ServeFixture {
  std::string dir;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<serve::Service> service;
  dev_t dev_null = 0;
};

inline constexpr std::string_view kServeFuzzRules = R"(lcrules 1

macro kind_context = context.name starts-with "kind-" or context.name ends-with "@kind"
list loopback_hosts = ["127.0.0.1", "localhost", "::1"]

rule skaffold.local-cluster-false {
  priority 950
  description "local-cluster: false in Skaffold's global config"
  when skaffold.local-cluster == "false"
  set local = false
  set load_images = false
  set push_images = true
}

rule skaffold.project-push {
  priority 940
  description "build.local.push: true in the project's skaffold.yaml"
  when skaffold.build.local.push == "true"
  set push_images = true
  set load_images = false
}

rule kind {
  priority 700
  description "kind names its contexts kind-NAME"
  when kind_context
  set cluster = "kind"
  set local = true
  set cluster_name = "${cluster.name#kind-}"
  set load_images = true
  set push_images = false
  set load_command = ["kind", "load", "docker-image", "--name", "${cluster.name#kind-}", "{IMAGE}"]
  set registry = null
}

rule minikube {
  priority 600
  description "minikube's certificate authority and extension"
  when cluster.extension.cluster_info.provider == "minikube.sigs.k8s.io"
    or cluster.certificate-authority inside "${env.MINIKUBE_HOME:-${env.HOME}/.minikube}"
  set cluster = "minikube"
  set local = true
  set cluster_name = "${context.name}"
  set load_images = true
  set push_images = false
  set load_command = ["minikube", "-p", "${context.name}", "image", "load", "{IMAGE}"]
  set registry = null
}

rule loopback {
  priority 100
  description "a server on a loopback address"
  when cluster.server.host in loopback_hosts and not exists "${env.HOME}/.no-loopback"
    and cluster.server.port matches /[0-9]+/
  set local = true
  note "server ${cluster.server} on ${cluster.server.host}, port ${cluster.server.port}"
}

rule remote {
  priority 10
  description "anything else"
  when context.name is set
  set local = false
  set push_images = true
}

rule note.loaded-images {
  stage policy
  priority 100
  description "images loaded into a cluster are in no registry"
  when decision.load_images == "true"
  note "Images loaded into ${decision.cluster_name:-${context.name}} are in no registry."
}
)";

inline constexpr std::string_view kServeFuzzKubeconfig = R"(apiVersion: v1
kind: Config
current-context: kind-dev
clusters:
- name: kind-dev
  cluster:
    server: https://127.0.0.1:40123
- name: minikube
  cluster:
    server: https://192.168.49.2:8443
    certificate-authority: ../.minikube/ca.crt
    extensions:
    - name: cluster_info
      extension:
        provider: minikube.sigs.k8s.io
- name: prod
  cluster:
    server: https://k8s.example.com
contexts:
- name: kind-dev
  context: {cluster: kind-dev, user: kind-dev}
- name: minikube
  context: {cluster: minikube, user: minikube, namespace: default}
- name: prod
  context: {cluster: prod, user: prod}
users:
- name: kind-dev
  user: {}
- name: minikube
  user: {}
- name: prod
  user:
    exec: {command: gke-gcloud-auth-plugin, apiVersion: client.authentication.k8s.io/v1beta1}
)";

inline void write_text(const std::filesystem::path& path, std::string_view text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

inline ServeFixture& serve_fixture() {
  static ServeFixture* fixture = [] {
    auto* f = new ServeFixture;  // never destroyed: the service outlives every input
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/lcrules-fuzz-serve-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    f->dir = pattern;
    static const std::string dir = f->dir;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    });
    const std::filesystem::path d(f->dir);
    write_text(d / "home/.kube/config", kServeFuzzKubeconfig);
    write_text(
        d / "home/.skaffold/config",
        "global:\n  local-cluster: true\nkubeContexts:\n- kubeContext: prod\n  local-cluster: false\n");
    write_text(d / "home/.minikube/ca.crt", "not a certificate\n");
    write_text(d / "skaffold.yaml",
               "apiVersion: skaffold/v4beta6\nkind: Config\nbuild:\n  local:\n    push: true\n");
    write_text(d / "rules/fuzz.rules", kServeFuzzRules);
    std::filesystem::create_directories(d / "cache");
    std::filesystem::create_directories(d / "config");
    std::filesystem::create_directories(d / "system");
    struct stat st {};
    if (::stat("/dev/null", &st) == 0) f->dev_null = st.st_rdev;

    const std::map<std::string, std::string> vars = {
        {"HOME", f->dir + "/home"},
        {"XDG_CACHE_HOME", f->dir + "/cache"},
        {"XDG_CONFIG_HOME", f->dir + "/config"},
        {"LCRULES_SYSTEM_DIR", f->dir + "/system"},
        {"KUBECONFIG", f->dir + "/home/.kube/config"},
        {"MINIKUBE_HOME", f->dir + "/home/.minikube"},
        {"PATH", "/nonexistent"},
    };
    Environment env;
    env.getenv = [vars](const std::string& name) -> std::optional<std::string> {
      const auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
    f->engine = std::make_unique<Engine>(std::move(env));
    RuleSetOptions options;
    options.extra = {f->dir + "/rules/fuzz.rules"};
    options.no_default_rules = true;
    options.no_user_rules = true;
    options.use_cache = false;
    f->service = std::make_unique<serve::Service>(*f->engine, options);
    if (!f->service->rules().reload(*f->engine, options).empty() || !f->service->rules().current())
      throw std::runtime_error("the serve fuzzer's rule set does not load");
    return f;
  }();
  return *fixture;
}

// Whether a path named in a request body can be read without hanging the fuzzer or making it
// slow: missing files, folders, FIFOs and sockets (all refused without reading), /dev/null,
// and regular files up to 1 MiB outside /proc and /sys. Devices (a terminal, /dev/kmsg)
// and /proc files (/proc/kmsg) could block, /dev/zero is read up to the 64 MiB cap.
inline bool serve_path_is_safe(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return true;
  if (S_ISDIR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) return true;
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return st.st_rdev == serve_fixture().dev_null;
  if (!S_ISREG(st.st_mode) || st.st_size > 1024 * 1024) return false;
  char resolved[PATH_MAX];
  if (!::realpath(path.c_str(), resolved)) return false;
  const std::string_view r(resolved);
  return r.rfind("/proc/", 0) != 0 && r.rfind("/sys/", 0) != 0;
}

// The paths a POST /v1/eval body would have the engine read (kubeconfig as a string or a
// list, whose parts are split at ':' as $KUBECONFIG is, and skaffold_yaml).
inline bool serve_body_is_safe(const serve::HttpRequest& request) {
  if (request.body.empty()) return true;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(request.body);
  } catch (const nlohmann::json::exception&) {
    return true;  // refused before anything is read
  }
  if (!j.is_object()) return true;
  std::vector<std::string> paths;
  for (const char* key : {"kubeconfig", "skaffold_yaml"}) {
    const auto it = j.find(key);
    if (it == j.end()) continue;
    if (it->is_string()) paths.push_back(it->get<std::string>());
    if (it->is_array())
      for (const auto& p : *it)
        if (p.is_string()) paths.push_back(p.get<std::string>());
  }
  for (const auto& joined : paths) {
    if (!serve_path_is_safe(joined)) return false;
    std::string_view rest(joined);
    for (;;) {
      const auto colon = rest.find(':');
      if (!serve_path_is_safe(std::string(rest.substr(0, colon)))) return false;
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  return true;
}

// What every answer of the service must be: one of the statuses the protocol uses (never
// 500), a JSON body (the metrics aside), an "error" object with a code and a message on
// every error, and an Allow header on a 405.
inline void check_serve_response(const serve::HttpResponse& r) {
  static const std::set<unsigned> statuses = {200, 400, 404, 405, 413, 422, 503};
  require(statuses.count(r.status) == 1, "the status is one the protocol uses (never 500)");
  require((r.status == 405) == !r.allow.empty(), "a 405, and only a 405, says what is allowed");
  if (r.content_type != "application/json") {
    require(r.status == 200 && r.content_type.rfind("text/plain;", 0) == 0, "only /metrics is text");
    require(!r.body.empty() && r.body.back() == '\n', "metrics end with a newline");
    return;
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(r.body);
  } catch (const nlohmann::json::exception&) {
    require(false, "the body is JSON");
  }
  if (r.status < 400) return;  // an object, or the array of /v1/rules and /v1/facts
  require(j.is_object(), "an error answer is a JSON object");
  const auto e = j.find("error");
  require(e != j.end() && e->is_object(), "an error answer has an \"error\" object");
  require(e->contains("code") && (*e)["code"].is_string() && !(*e)["code"].get<std::string>().empty(),
          "the error has a code");
  require(e->contains("message") && (*e)["message"].is_string(), "the error has a message");
}

// A watch event is sent as one "data:" line of JSON.
inline void check_watch_event(const serve::WatchEvent& event) {
  require(event.event == "decision" || event.event == "error", "a watch event is a decision or an error");
  require(event.data.find_first_of("\r\n") == std::string::npos, "a watch event's data is one line");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(event.data);
  } catch (const nlohmann::json::exception&) {
    require(false, "a watch event's data is JSON");
  }
  require(j.is_object(), "a watch event's data is an object");
  if (event.event == "error")
    require(j.contains("error") && j["error"].is_object(), "an error event has an error");
}

// `lcrules serve`'s request handling: the input as bytes on a connection. Beast's parser
// decodes them with the server's limits (requests may follow each other on a keep-alive
// connection, as the server reads them); each request that decodes becomes an HttpRequest
// exactly as the server makes it (serve::take_request) and goes to Service::handle, and a
// /v1/watch target also to Service::parse_watch (and watch_event when it is accepted).
// Every answer passes check_serve_response. A body naming a path that could block or is
// large (serve_body_is_safe) is decoded but not evaluated. The whole input also goes to
// parse_target: decoding never makes anything longer.
inline void serve_request_one_input(const std::uint8_t* data, std::size_t size) {
  namespace http = boost::beast::http;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  {
    std::string path;
    std::vector<std::pair<std::string, std::string>> query;
    const bool ok = serve::parse_target(std::string(input), path, query);
    require(path.size() <= input.size(), "a decoded path is never longer than the target");
    std::size_t total = path.size();
    for (const auto& [k, v] : query) total += k.size() + v.size();
    require(!ok || total <= input.size(), "decoded parts are never longer than the target");
  }

  serve::Service& service = *serve_fixture().service;
  std::string_view rest = input;
  for (int n = 0; n < 8 && !rest.empty(); ++n) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(serve::kMaxHeaderBytes);
    parser.body_limit(serve::kMaxBodyBytes);
    parser.eager(true);
    boost::beast::error_code ec;
    while (!parser.is_done()) {
      const std::size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
      rest.remove_prefix(used);
      if (ec == http::error::need_more) ec = {};
      if (ec) break;
      if (used == 0) {  // the input ends before the request does: the peer closed
        parser.put_eof(ec);
        break;
      }
    }
    if (ec || !parser.is_done()) return;  // the server answers 400, 413 or 431 itself and closes
    auto& req = parser.get();
    const bool keep_alive = req.keep_alive();
    const serve::HttpRequest request = serve::take_request(req);
    require(request.body.size() <= serve::kMaxBodyBytes, "the body limit holds");

    std::string path;
    std::vector<std::pair<std::string, std::string>> query;
    (void)serve::parse_target(request.target, path, query);
    const bool watch =
        request.target == "/v1/watch" || request.target.rfind("/v1/watch?", 0) == 0 || path == "/v1/watch";
    if (watch) {
      auto parsed = service.parse_watch(request);
      if (const auto* error = std::get_if<serve::HttpResponse>(&parsed)) {
        check_serve_response(*error);
        require(error->status != 200, "a refused watch is an error");
      } else {
        check_watch_event(service.watch_event(std::get<serve::WatchRequest>(parsed)));
      }
    }
    if (serve_body_is_safe(request)) check_serve_response(service.handle(request));
    if (!keep_alive) return;
  }
}

}  // namespace lcrules::fuzz
