// The fuzz targets' bodies, shared by the libFuzzer programs (tests/fuzz/fuzz_*.cpp) and by
// the unit test that replays every committed crash input (tests/unit/fuzz_regressions_test.cpp).
//
// Each function takes one input and must return normally for every input: the readers'
// own errors (a Diagnostic, KubeconfigError, ConfigError, a parse error string) are
// expected; any other exception, a crash, or a sanitizer report is a finding. Invariants
// that must hold are checked with `require()`, which throws std::logic_error.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/checker.hpp"
#include "engine/facts/command.hpp"
#include "engine/facts/docpath.hpp"
#include "engine/core/evaluator.hpp"
#include "engine/facts/kubeconfig.hpp"
#include "engine/cache/kubeconfig_cache.hpp"
#include "engine/core/output.hpp"
#include "engine/cache/ruleset_cache.hpp"
#include "engine/facts/skaffold_config.hpp"
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

// Rules: parse every part, check the parsed ones together, and evaluate a set that
// checks against a few contexts, with and without an explanation (the same decision
// either way), rendering the explanation as text and JSON.
inline void rules_one_input(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<ast::File> files;
  std::size_t index = 0;
  for (auto& text : split_files(input)) {
    ParseResult parsed = parse_rules(std::move(text), "fuzz" + std::to_string(index++) + ".rules");
    require(parsed.file.has_value() != parsed.error.has_value(), "parse gives a file or an error");
    if (parsed.error) {
      (void)format(*parsed.error);
      continue;
    }
    files.push_back(std::move(*parsed.file));
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

}  // namespace lcrules::fuzz
