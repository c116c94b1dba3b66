#include "engine/core/fact_lookup.hpp"

#include "engine/core/byte_compare.hpp"
#include "engine/facts/docpath.hpp"

namespace lcrules {
namespace {

const std::string* opt(const std::optional<std::string>& v) { return v ? &*v : nullptr; }

// parse_field() for the decision facts, without comparing against every field name.
std::optional<Field> decision_field(const std::string& key) {
  using bytes::equal;
  switch (key.size()) {
    case 5:
      return equal(key, "local") ? std::optional(Field::Local) : std::nullopt;
    case 7:
      return equal(key, "cluster") ? std::optional(Field::Cluster) : std::nullopt;
    case 8:
      return equal(key, "registry") ? std::optional(Field::Registry) : std::nullopt;
    case 11:
      if (equal(key, "load_images")) return Field::LoadImages;
      return equal(key, "push_images") ? std::optional(Field::PushImages) : std::nullopt;
    case 12:
      if (equal(key, "cluster_name")) return Field::ClusterName;
      return equal(key, "load_command") ? std::optional(Field::LoadCommand) : std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace

const std::string FactLookup::kTrue = "true";
const std::string FactLookup::kFalse = "false";
const std::string FactLookup::kEmpty;

const std::string* FactLookup::fact(const FactRef& f) {
  const KubeContext& c = in_.context;
  using K = FactRef::Kind;
  switch (f.kind) {
    case K::ContextName:
      return &c.name;
    case K::ContextCluster:
      return opt(c.cluster_ref);
    case K::ContextUser:
      return opt(c.user);
    case K::ContextNamespace:
      return opt(c.namespace_);
    case K::ContextFile:
      return opt(c.file);
    case K::ContextExtension: {
      auto it = c.context_extensions.find(f.key);
      return it == c.context_extensions.end() ? nullptr : &it->second;
    }
    case K::ClusterName:  // Skaffold falls back to the context name
      return c.cluster_ref ? &*c.cluster_ref : &c.name;
    case K::ClusterServer:
      return opt(c.server);
    case K::ClusterScheme:
      return opt(server_url().scheme);
    case K::ClusterHost:
      return opt(server_url().host);
    case K::ClusterPort:
      return opt(server_url().port);
    case K::ClusterCertificateAuthority:
      return opt(c.certificate_authority);
    case K::ClusterExtension: {
      auto it = c.cluster_extensions.find(f.key);
      return it == c.cluster_extensions.end() ? nullptr : &it->second;
    }
    case K::UserName:
      return opt(c.user);
    case K::UserExecCommand:
      return opt(c.user_exec_command);
    case K::Env: {
      // A handful of variables per evaluation: a flat list, looked up once each.
      for (const auto& [name, value] : env_) {
        if (name == f.key) return opt(value);
      }
      env_.emplace_back(f.key, in_.getenv ? in_.getenv(f.key) : std::nullopt);
      return opt(env_.back().second);
    }
    case K::Skaffold: {
      if (!skaffold_)
        skaffold_ = in_.skaffold_config ? in_.skaffold_config() : std::map<std::string, std::string>{};
      auto it = skaffold_->find(f.key);
      return it == skaffold_->end() ? nullptr : &it->second;
    }
    case K::SkaffoldBuildLocalPush:
      return opt(in_.skaffold_build_local_push);
    case K::OptionProbeCluster:
      return in_.probe_cluster ? &kTrue : &kFalse;
    case K::KubeconfigFiles: {
      if (!kubeconfig_files_) kubeconfig_files_ = kubeconfig_path();
      return &*kubeconfig_files_;
    }
    case K::Decision: {
      const auto field = decision_field(f.key);
      if (!field) return nullptr;
      if (*field == Field::LoadCommand) settle_load_command();
      return opt(decision_[static_cast<std::size_t>(*field)]);
    }
    case K::Match:
    case K::Item:
      return nullptr;  // handled by render()
  }
  return nullptr;
}

const ServerUrl& FactLookup::server_url() {
  if (!server_url_) server_url_ = in_.context.server ? parse_server_url(*in_.context.server) : ServerUrl{};
  return *server_url_;
}

std::string FactLookup::kubeconfig_path() const {
  std::string out;
  for (const auto& f : in_.kubeconfig_files) {
    if (!out.empty()) out += ':';
    out += f;
  }
  return out;
}

bool FactLookup::render(const CompiledTemplate& t, std::string& out, std::string* missing) {
  if (t.parts.empty()) {
    out = t.spelling;
    return true;
  }
  out.clear();
  for (const auto& part : t.parts) {
    if (const auto* lit = std::get_if<std::string>(&part)) {
      out += *lit;
      continue;
    }
    if (!append_reference(std::get<CompiledReference>(part), out, missing)) return false;
  }
  return true;
}

bool FactLookup::append_reference(const CompiledReference& ref, std::string& out, std::string* missing) {
  std::optional<std::string> owned;
  const std::string* value = nullptr;
  if (ref.fact.kind == FactRef::Kind::Match) {
    value = &kEmpty;  // a capture of a group that did not take part is empty
    for (const auto& [name, text] : captures_) {
      if (name == ref.fact.key) {
        value = &text;  // captures_ does not change while a template renders
        break;
      }
    }
  } else if (ref.fact.kind == FactRef::Kind::Item) {
    if (item_) {
      if (const auto* v = docpath::lookup(*item_, ref.fact.key)) owned = docpath::scalar_text(*v);
    }
    value = opt(owned);
  } else {
    value = fact(ref.fact);
  }
  using M = ast::Reference::Modifier;
  if (ref.modifier == M::Default && (!value || value->empty())) {
    std::string fallback;
    if (!render(*ref.argument, fallback, missing)) return false;
    out += fallback;
    return true;
  }
  if (!value) {
    if (missing) *missing = ref.fact.spelling;
    return false;
  }
  if (ref.modifier == M::StripPrefix || ref.modifier == M::StripSuffix) {
    std::string rendered;
    const std::string* affix = literal_text(*ref.argument);  // usually: no copy
    if (!affix) {
      if (!render(*ref.argument, rendered, missing)) return false;
      affix = &rendered;
    }
    std::string_view v = *value;
    if (ref.modifier == M::StripPrefix && bytes::starts_with(v, *affix)) v.remove_prefix(affix->size());
    if (ref.modifier == M::StripSuffix && bytes::ends_with(v, *affix)) v.remove_suffix(affix->size());
    out += v;
    return true;
  }
  out += *value;
  return true;
}

bool FactLookup::render(const CompiledTemplate& t, std::string& out, std::string* missing,
                        std::vector<std::size_t>& own_stars) {
  own_stars.clear();
  auto stars = [&](const std::string& text, std::size_t base) {
    for (std::size_t at = text.find('*'); at != std::string::npos; at = text.find('*', at + 1))
      own_stars.push_back(base + at);
  };
  if (t.parts.empty()) {
    out = t.spelling;
    stars(out, 0);
    return true;
  }
  out.clear();
  for (const auto& part : t.parts) {
    if (const auto* lit = std::get_if<std::string>(&part)) {
      stars(*lit, out.size());
      out += *lit;
      continue;
    }
    if (!append_reference(std::get<CompiledReference>(part), out, missing)) return false;
  }
  return true;
}

void FactLookup::snapshot_decision(const Decision& d) {
  identify_ = &d;
  decision_[static_cast<std::size_t>(Field::Cluster)] = d.cluster;
  decision_[static_cast<std::size_t>(Field::Local)] = d.local ? kTrue : kFalse;
  decision_[static_cast<std::size_t>(Field::ClusterName)] = d.cluster_name;
  decision_[static_cast<std::size_t>(Field::LoadImages)] = d.load_images ? kTrue : kFalse;
  decision_[static_cast<std::size_t>(Field::PushImages)] = d.push_images ? kTrue : kFalse;
  decision_[static_cast<std::size_t>(Field::Registry)] = d.registry;
  // Rendering the load command is only needed when a rule reads decision.load_command:
  // done on first use, or before a policy rule replaces it.
  load_command_pending_ = d.load_command.has_value();
}

void FactLookup::settle_load_command() {
  if (!load_command_pending_) return;
  load_command_pending_ = false;
  std::string text;
  for (const auto& argv : *identify_->load_command) text += (text.empty() ? "" : " | ") + describe_argv(argv);
  decision_[static_cast<std::size_t>(Field::LoadCommand)] = std::move(text);
}

}  // namespace lcrules
