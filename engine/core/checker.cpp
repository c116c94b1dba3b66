#include "engine/core/checker.hpp"

#include <functional>
#include <map>
#include <string_view>
#include <utility>

#include "engine/core/check_compile.hpp"
#include "engine/core/check_order.hpp"
#include "engine/core/check_register.hpp"
#include "engine/core/check_state.hpp"

namespace lcrules {

const char* field_name(Field f) {
  switch (f) {
    case Field::Cluster:
      return "cluster";
    case Field::Local:
      return "local";
    case Field::ClusterName:
      return "cluster_name";
    case Field::LoadImages:
      return "load_images";
    case Field::PushImages:
      return "push_images";
    case Field::LoadCommand:
      return "load_command";
    case Field::Registry:
      return "registry";
  }
  return "?";
}

std::optional<Field> parse_field(std::string_view name) {
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    const auto f = static_cast<Field>(i);
    if (name == field_name(f)) return f;
  }
  return std::nullopt;
}

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

std::optional<FactRef> resolve_fact(std::string_view name) {
  using K = FactRef::Kind;
  static const std::map<std::string, K, std::less<>> exact = {
      {"context.name", K::ContextName},
      {"context.cluster", K::ContextCluster},
      {"context.user", K::ContextUser},
      {"context.namespace", K::ContextNamespace},
      {"context.file", K::ContextFile},
      {"cluster.name", K::ClusterName},
      {"cluster.server", K::ClusterServer},
      {"cluster.server.scheme", K::ClusterScheme},
      {"cluster.server.host", K::ClusterHost},
      {"cluster.server.port", K::ClusterPort},
      {"cluster.certificate-authority", K::ClusterCertificateAuthority},
      {"user.name", K::UserName},
      {"user.exec.command", K::UserExecCommand},
      {"skaffold.build.local.push", K::SkaffoldBuildLocalPush},
      {"option.probe-cluster", K::OptionProbeCluster},
      {"kubeconfig.files", K::KubeconfigFiles},
  };
  FactRef ref;
  ref.spelling = std::string(name);
  if (auto it = exact.find(name); it != exact.end()) {
    ref.kind = it->second;
    return ref;
  }
  auto with_key = [&](std::string_view prefix, K kind) -> bool {
    if (!starts_with(name, prefix) || name.size() == prefix.size()) return false;
    ref.kind = kind;
    ref.key = std::string(name.substr(prefix.size()));
    return true;
  };
  if (with_key("env.", K::Env)) {
    return ref.key.find('.') == std::string::npos ? std::optional(ref) : std::nullopt;
  }
  if (with_key("context.extension.", K::ContextExtension) ||
      with_key("cluster.extension.", K::ClusterExtension)) {
    return ref.key.find('.') != std::string::npos ? std::optional(ref) : std::nullopt;
  }
  if (with_key("skaffold.", K::Skaffold)) {
    if (ref.key == "local-cluster" || ref.key == "kind-disable-load" || ref.key == "k3d-disable-load")
      return ref;
    return std::nullopt;
  }
  if (with_key("decision.", K::Decision)) {
    return parse_field(ref.key) ? std::optional(ref) : std::nullopt;
  }
  return std::nullopt;
}

namespace {

// The checker's phases, in order; each header says what its phase does. Phase 2,
// overrides and disables (check_merge.hpp), runs inside phase 1's walk over the files.
CheckResult run(check::CheckState& state) {
  check::register_definitions(state);                            // phases 1 and 2
  check::compile_macros(state);                                  // phase 3
  check::CompiledDrafts compiled = check::compile_rules(state);  // phase 3
  check::order_rules(state, std::move(compiled));                // phase 4
  return std::move(state.result);
}

}  // namespace

CheckResult check_rule_files(const std::vector<ast::File>& files) {
  check::CheckState state(files);
  return run(state);
}

CheckResult check_rule_files(std::vector<ast::File>&& files) {
  std::vector<ast::File> owned = std::move(files);
  check::CheckState state(owned);
  return run(state);
}

}  // namespace lcrules
