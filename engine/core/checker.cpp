#include "engine/core/checker.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <string_view>
#include <utility>

#include "engine/core/check_compile.hpp"
#include "engine/core/check_order.hpp"
#include "engine/core/check_register.hpp"
#include "engine/core/check_state.hpp"
#include "grammar/suggest.hpp"

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

namespace {

// The facts known by their whole name.
const std::map<std::string, FactRef::Kind, std::less<>>& exact_facts() {
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
  return exact;
}

constexpr std::string_view kSkaffoldKeys[] = {"local-cluster", "kind-disable-load", "k3d-disable-load"};
// Facts whose last parts are a key: "PREFIX" + key.
constexpr std::string_view kKeyedPrefixes[] = {"env.", "context.extension.", "cluster.extension."};

}  // namespace

std::optional<FactRef> resolve_fact(std::string_view name) {
  using K = FactRef::Kind;
  const auto& exact = exact_facts();
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
    for (const auto key : kSkaffoldKeys) {
      if (ref.key == key) return ref;
    }
    return std::nullopt;
  }
  if (with_key("decision.", K::Decision)) {
    return parse_field(ref.key) ? std::optional(ref) : std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::string> fact_suggestion(std::string_view name) {
  std::vector<std::string> names;
  for (const auto& [n, kind] : exact_facts()) names.push_back(n);
  for (const auto key : kSkaffoldKeys) names.push_back("skaffold." + std::string(key));
  for (std::size_t i = 0; i < kFieldCount; ++i)
    names.push_back("decision." + std::string(field_name(static_cast<Field>(i))));
  if (auto s = closest_name(name, names)) return s;
  // A typo in the fixed part of a keyed fact: the key is kept. Prefixes of as many parts
  // as the name's head compete for it.
  for (const auto prefix : kKeyedPrefixes) {
    const auto dots = static_cast<std::size_t>(std::count(prefix.begin(), prefix.end(), '.'));
    std::size_t cut = std::string_view::npos;
    for (std::size_t k = 0, from = 0; k < dots; ++k, from = cut + 1) {
      cut = name.find('.', from);
      if (cut == std::string_view::npos) break;
    }
    if (cut == std::string_view::npos) continue;
    const std::string_view head = name.substr(0, cut + 1);
    std::vector<std::string_view> same_length;
    for (const auto other : kKeyedPrefixes) {
      if (static_cast<std::size_t>(std::count(other.begin(), other.end(), '.')) == dots)
        same_length.push_back(other);
    }
    const auto fixed_head = closest_name(head, same_length);
    if (fixed_head != prefix) continue;
    const std::string fixed = *fixed_head + std::string(name.substr(cut + 1));
    if (resolve_fact(fixed)) return fixed;
  }
  // The same last parts under another root, when only one fact has them.
  const auto root_end = name.find('.');
  if (root_end == std::string_view::npos) return std::nullopt;
  const std::string_view root = name.substr(0, root_end);
  const std::string_view tail = name.substr(root_end + 1);
  std::vector<std::string_view> tails;
  for (const auto& n : names) {
    const std::string_view v(n);
    if (v.substr(0, v.find('.')) != root) tails.push_back(v.substr(v.find('.') + 1));
  }
  std::optional<std::string> best_tail = std::find(tails.begin(), tails.end(), tail) != tails.end()
                                             ? std::optional(std::string(tail))
                                             : closest_name(tail, tails);
  if (!best_tail) return std::nullopt;
  std::optional<std::string> found;
  for (const auto& n : names) {
    const std::string_view v(n);
    if (v.substr(0, v.find('.')) == root || v.substr(v.find('.') + 1) != *best_tail) continue;
    if (found) return std::nullopt;  // several roots have these parts: no guess
    found = n;
  }
  return found;
}

std::vector<std::string> rule_set_warnings(const RuleSet& rules) {
  std::vector<std::string> out;
  for (const CompiledRule* r : rules.active) {
    if (r->stage != ast::Stage::Identify || !(r->field_mask & field_bit(Field::Cluster))) continue;
    const std::uint32_t open = kAllFields & ~r->field_mask & ~r->leave_mask;
    if (open == 0) continue;
    std::string fields;
    for (std::size_t f = 0; f < kFieldCount; ++f) {
      if (open & (1u << f))
        fields += (fields.empty() ? "" : ", ") + std::string(field_name(static_cast<Field>(f)));
    }
    out.push_back(
        r->loc.file.str() + ":" + std::to_string(r->loc.line) + ":" + std::to_string(r->loc.column) +
        ": warning: rule \"" + r->name + "\" sets cluster but leaves " + fields +
        " to lower rules, which may belong to another product; set them or say `leave " + fields + "`");
  }
  return out;
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
