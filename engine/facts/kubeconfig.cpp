#include "engine/facts/kubeconfig.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <string_view>

#include "engine/facts/files.hpp"
#include "engine/facts/paths.hpp"
#include "engine/facts/yaml_merge.hpp"

namespace lcrules {

namespace {

// --- error helpers ----------------------------------------------------------------------

// The most YAML nodes a kubeconfig may have (a context, its cluster and its user take some
// 25): bounds the time and memory yaml-cpp takes (docs/performance.md, "Hostile input").
constexpr std::size_t kMaxKubeconfigNodes = 100'000;
// The largest kubeconfig read: yaml-cpp takes about 0.1 µs per byte of scalar text, so this
// bounds the time of a file of long scalars the node cap does not catch.
constexpr std::size_t kMaxKubeconfigSize = 4 * 1024 * 1024;

[[noreturn]] void fail_at(const std::string& file, const YAML::Mark& mark, const std::string& message) {
  throw KubeconfigError(files::yaml_error(ErrorKind::Kubeconfig, file, mark, message));
}

// How a plain (unquoted, untagged) YAML scalar resolves under YAML 1.1, as kubectl's YAML
// reader (go-yaml v2) sees it. kubectl refuses a boolean or a number where it wants a string.
enum class PlainKind { kString, kNull, kBool, kNumber };

bool is_one_of(std::string_view s, std::initializer_list<std::string_view> words) {
  for (auto w : words)
    if (s == w) return true;
  return false;
}

bool all_of_digits(std::string_view s, std::string_view allowed) {
  if (s.empty()) return false;
  bool any = false;
  for (char c : s) {
    if (c == '_') continue;
    if (allowed.find(c) == std::string_view::npos) return false;
    any = true;
  }
  return any;
}

PlainKind classify_plain(std::string_view s) {
  if (is_one_of(s, {"", "~", "null", "Null", "NULL"})) return PlainKind::kNull;
  if (is_one_of(s, {"y",    "Y",    "yes",   "Yes",   "YES",   "n",  "N",  "no", "No",  "NO",  "true",
                    "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF"}))
    return PlainKind::kBool;
  if (is_one_of(s, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
                    ".NaN", ".NAN"}))
    return PlainKind::kNumber;
  std::string_view t = s;
  if (!t.empty() && (t.front() == '+' || t.front() == '-')) t.remove_prefix(1);
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
    return all_of_digits(t.substr(2), "0123456789abcdefABCDEF") ? PlainKind::kNumber : PlainKind::kString;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'b' || t[1] == 'B'))
    return all_of_digits(t.substr(2), "01") ? PlainKind::kNumber : PlainKind::kString;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'o' || t[1] == 'O'))
    return all_of_digits(t.substr(2), "01234567") ? PlainKind::kNumber : PlainKind::kString;
  // Decimal integers and floats: digits [. digits] [e[+-]digits], or .digits.
  std::size_t i = 0;
  bool mantissa = false;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || (i > 0 && t[i] == '_'))) {
    mantissa = true;
    ++i;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '_')) {
      mantissa = true;
      ++i;
    }
  }
  if (!mantissa) return PlainKind::kString;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    std::size_t digits = 0;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) {
      ++digits;
      ++i;
    }
    if (digits == 0) return PlainKind::kString;
  }
  return i == t.size() ? PlainKind::kNumber : PlainKind::kString;
}

bool is_plain(const YAML::Node& n) { return n.Tag() == "?"; }

// Reads the documents of one kubeconfig file with positions for errors. Mappings are read
// as kubectl reads them (go-yaml v2): a repeated key gives its last value, merge keys
// (`<<: *base`) apply in document order (yaml_merge::Style::kGoYamlV2).
class FileReader {
 public:
  explicit FileReader(std::string file) : file_(std::move(file)) {}

  // The value of `key` in mapping `map`, undefined when absent.
  YAML::Node get(const YAML::Node& map, const char* key) const { return find(entries(map), key); }

  const yaml_merge::Entries& entries(const YAML::Node& map) const {
    try {
      return merger_.entries(map);
    } catch (const yaml_merge::MergeError& e) {
      fail_at(file_, e.mark, e.message);
    }
  }

  static YAML::Node find(const yaml_merge::Entries& entries, const char* key) {
    return yaml_merge::Merger::find(entries, key);
  }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const {
    fail_at(file_, at.Mark(), message);
  }

  // A string field: absent/null gives nullopt; a non-string value is an error (kubectl's too).
  std::optional<std::string> string_field(const YAML::Node& map, const char* key) const {
    const YAML::Node v = get(map, key);
    if (!v.IsDefined() || v.IsNull()) return std::nullopt;
    if (!v.IsScalar()) fail(v, std::string(key) + " must be a string");
    const std::string& s = v.Scalar();
    if (is_plain(v)) {
      switch (classify_plain(s)) {
        case PlainKind::kNull:
          return std::nullopt;
        case PlainKind::kBool:
          fail(v, std::string(key) + " must be a string, not a boolean (quote it: \"" + s + "\")");
        case PlainKind::kNumber:
          fail(v, std::string(key) + " must be a string, not a number (quote it: \"" + s + "\")");
        case PlainKind::kString:
          break;
      }
    }
    return s;
  }

  // A mapping field: absent/null gives an undefined-free empty node (IsDefined false).
  YAML::Node map_field(const YAML::Node& map, const char* key) const {
    const YAML::Node v = get(map, key);
    if (!v.IsDefined() || v.IsNull()) return YAML::Node();
    if (!v.IsMap()) fail(v, std::string(key) + " must be a mapping");
    return v;
  }

  YAML::Node list_field(const YAML::Node& map, const char* key) const {
    const YAML::Node v = get(map, key);
    if (!v.IsDefined() || v.IsNull()) return YAML::Node();
    if (!v.IsSequence()) fail(v, std::string(key) + " must be a list");
    return v;
  }

  // `extensions: [{name: N, extension: {KEY: SCALAR}}]` flattened to "N.KEY" -> SCALAR.
  std::map<std::string, std::string> extensions(const YAML::Node& map) const {
    std::map<std::string, std::string> out;
    const YAML::Node list = list_field(map, "extensions");
    if (!list.IsDefined()) return out;
    for (const YAML::Node& entry : list) {
      if (entry.IsNull()) continue;
      if (!entry.IsMap()) fail(entry, "extension entry must be a mapping");
      const auto name = string_field(entry, "name");
      if (!name || name->empty()) continue;
      const YAML::Node ext = get(entry, "extension");
      if (!ext.IsDefined() || !ext.IsMap()) continue;  // any JSON value is allowed there
      for (const auto& [k, v] : entries(ext)) {
        if (!v.IsScalar()) continue;
        if (is_plain(v) && classify_plain(v.Scalar()) == PlainKind::kNull) continue;
        out.emplace(*name + "." + k, v.Scalar());
      }
    }
    return out;
  }

  // Iterates a named list (`contexts`, `clusters`, `users`) and calls `f(name, body, entry)`.
  // With `nameless_ok` an entry without a name (or named "") is the entry named "", as
  // kubectl reads it; otherwise it is an error.
  template <typename F>
  void named_entries(const YAML::Node& root, const char* list_key, const char* what, const char* body_key,
                     bool nameless_ok, F&& f) const {
    const YAML::Node list = list_field(root, list_key);
    if (!list.IsDefined()) return;
    std::map<std::string, YAML::Mark> seen;
    for (const YAML::Node& entry : list) {
      if (!entry.IsMap()) fail(entry, std::string(what) + " entry must be a mapping");
      const std::string name = string_field(entry, "name").value_or("");
      if (name.empty() && !nameless_ok) fail(entry, std::string(what) + " entry without a name");
      const auto [it, inserted] = seen.emplace(name, entry.Mark());
      if (!inserted) {
        fail(entry, std::string("duplicate ") + what + " name \"" + name + "\" (first defined on line " +
                        std::to_string(it->second.line + 1) + ")");
      }
      const YAML::Node body = map_field(entry, body_key);
      f(name, body);
    }
  }

 private:
  std::string file_;
  mutable yaml_merge::Merger merger_{yaml_merge::Style::kGoYamlV2};
};

std::string absolute_path(const std::string& path) {
  if (!path.empty() && path.front() == '/') return paths::clean(path);
  std::error_code ec;
  const auto cwd = std::filesystem::current_path(ec);
  if (ec) return paths::clean(path);
  return paths::clean(cwd.string() + "/" + path);
}

}  // namespace

// --- server URLs --------------------------------------------------------------------------
// Go's net/url.Parse, for what a kubeconfig's `server` holds. Skaffold compares the parsed
// URL's Host ("host:port", brackets kept) with a minikube node's "IP:Port".

namespace {

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}
bool is_alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 && static_cast<unsigned char>(c) < 0x80;
}

// Go's unescape(): every '%' starts a two-digit hex escape. In a host, an escape may only
// stand for a non-ASCII byte (or be "%25", in an IPv6 zone) and the ASCII characters that
// would need escaping are refused.
std::optional<std::string> go_unescape(std::string_view s, bool host) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return std::nullopt;
      if (host && hex_value(s[i + 1]) < 8 && s.substr(i, 3) != "%25") return std::nullopt;
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
      continue;
    }
    if (host && static_cast<unsigned char>(c) < 0x80 && !is_alnum(c) &&
        std::string_view("-_.~!$&'()*+,;=:[]<>\"").find(c) == std::string_view::npos)
      return std::nullopt;
    out += c;
  }
  return out;
}

// ":digits" or empty.
bool valid_optional_port(std::string_view p) {
  if (p.empty()) return true;
  if (p.front() != ':') return false;
  for (char c : p.substr(1))
    if (c < '0' || c > '9') return false;
  return true;
}

bool valid_userinfo(std::string_view s) {
  for (char c : s) {
    if (is_alnum(c)) continue;
    if (std::string_view("-._:~!$&'()*+,;=%@").find(c) == std::string_view::npos) return false;
  }
  return true;
}

// Go's parseHost(): the Host, brackets and port kept, unescaped.
std::optional<std::string> go_parse_host(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const auto close = host.rfind(']');
    if (close == std::string_view::npos) return std::nullopt;  // missing ']' in host
    if (!valid_optional_port(host.substr(close + 1))) return std::nullopt;
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    if (!valid_optional_port(host.substr(colon))) return std::nullopt;
  }
  return go_unescape(host, true);
}

}  // namespace

ServerUrl parse_server_url(const std::string& url) {
  ServerUrl out;
  // Control characters are refused outright.
  for (char c : url)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return out;
  std::string_view rest = url;
  // The fragment is cut first; its escapes must be valid.
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) {
    if (!go_unescape(rest.substr(hash + 1), false)) return out;
    rest = rest.substr(0, hash);
  }
  // getScheme: letters, then letters, digits, '+', '-' or '.', then ':'. A leading ':' is an
  // error; anything else means there is no scheme.
  std::string scheme;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const char c = rest[i];
    if (std::isalpha(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 0x80) continue;
    if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
      if (i == 0) break;
      continue;
    }
    if (c == ':') {
      if (i == 0) return out;  // missing protocol scheme
      scheme = std::string(rest.substr(0, i));
      for (char& ch : scheme) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      rest.remove_prefix(i + 1);
    }
    break;
  }
  // The query is not checked.
  if (const auto q = rest.find('?'); q != std::string_view::npos) rest = rest.substr(0, q);
  if (rest.empty() || rest.front() != '/') {
    if (!scheme.empty()) {  // "localhost:8443" is scheme "localhost" with opaque "8443"
      out.scheme = scheme;
      return out;
    }
    // "192.168.49.2:8443": a first path segment with a colon is an error.
    if (rest.substr(0, rest.find('/')).find(':') != std::string_view::npos) return out;
  }
  std::optional<std::string> host;
  if (rest.substr(0, 2) == "//" && (!scheme.empty() || rest.substr(0, 3) != "///")) {
    rest.remove_prefix(2);
    const auto slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
      const std::string_view userinfo = authority.substr(0, at);
      if (!valid_userinfo(userinfo) || !go_unescape(userinfo, false)) return out;
      authority.remove_prefix(at + 1);
    }
    host = go_parse_host(authority);
    if (!host) return out;
  }
  if (!go_unescape(rest, false)) return out;  // the path's escapes
  if (!scheme.empty()) out.scheme = scheme;
  if (!host || host->empty()) return out;
  // Split Go's Host into the host and the port after its last ':' (after ']' for IPv6).
  std::string_view h = *host;
  std::string_view port;
  if (h.front() == '[') {
    const auto close = h.rfind(']');
    if (close + 1 < h.size()) port = h.substr(close + 2);
    h = h.substr(0, close + 1);
  } else if (const auto colon = h.rfind(':'); colon != std::string_view::npos) {
    port = h.substr(colon + 1);
    h = h.substr(0, colon);
  }
  if (!h.empty()) out.host = std::string(h);
  if (!port.empty()) out.port = std::string(port);
  return out;
}

// --- Kubeconfig -----------------------------------------------------------------------------

std::vector<std::string> Kubeconfig::locate(const std::string& explicit_file,
                                            const std::optional<std::string>& kubeconfig_env,
                                            const std::string& home) {
  if (!explicit_file.empty()) return {explicit_file};
  if (kubeconfig_env && !kubeconfig_env->empty()) {
    // Like kubectl: split on ':', drop empty entries and duplicates (first one kept). A
    // KUBECONFIG made only of separators names no file at all; it does not fall back to HOME.
    std::vector<std::string> out;
    std::set<std::string> seen;
    std::size_t i = 0;
    const std::string& env = *kubeconfig_env;
    while (i <= env.size()) {
      std::size_t j = env.find(':', i);
      if (j == std::string::npos) j = env.size();
      std::string entry = env.substr(i, j - i);
      if (!entry.empty() && seen.insert(entry).second) out.push_back(std::move(entry));
      i = j + 1;
    }
    return out;
  }
  if (home.empty()) return {".kube/config"};
  return {paths::clean(home + "/.kube/config")};
}

Kubeconfig Kubeconfig::load(const std::vector<std::string>& files, bool must_exist) {
  Kubeconfig kc;
  for (const std::string& file : files) {
    if (file.empty()) continue;
    std::string text;
    int err = 0;
    if (!files::read_whole(file, text, err, kMaxKubeconfigSize)) {
      if (err == ENOENT && !must_exist) continue;
      throw KubeconfigError(Error::at(ErrorKind::Kubeconfig, file, 0, 0,
                                      "cannot read: " + files::read_error_text(err, kMaxKubeconfigSize)));
    }
    kc.add_file(file, text);
  }
  return kc;
}

void Kubeconfig::add_file(const std::string& file, const std::string& text) {
  Kubeconfig& kc = *this;
  kc.files_read_.push_back(file);

  YAML::Node root;
  try {
    if (const auto over = files::check_yaml_bounds(text, kMaxKubeconfigNodes))
      fail_at(file, over->mark, over->message);
    root = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    fail_at(file, e.mark,
            "the YAML nests too deeply (more than " + std::to_string(e.depth() - 1) +
                " levels); a kubeconfig is never nested like this");
  } catch (const YAML::Exception& e) {
    fail_at(file, e.mark, "invalid YAML: " + e.msg);
  }

  const FileReader r(file);
  const std::string abs_file = absolute_path(file);
  try {
    if (!root.IsDefined() || root.IsNull()) return;  // an empty file is fine
    if (!root.IsMap()) r.fail(root, "a kubeconfig must be a mapping");

    // kubectl refuses any other kind ("Pod", "config"); an absent or empty kind is a Config.
    if (const auto kind = r.string_field(root, "kind"); kind && !kind->empty() && *kind != "Config")
      r.fail(r.get(root, "kind"), "kind is \"" + *kind + "\", not Config: this is not a kubeconfig");

    const auto current = r.string_field(root, "current-context");
    if (!kc.current_context_ && current && !current->empty()) kc.current_context_ = current;

    r.named_entries(root, "contexts", "context", "context", false,
                    [&](const std::string& name, const YAML::Node& body) {
                      ContextEntry e;
                      e.file = file;
                      if (body.IsDefined()) {
                        e.cluster = r.string_field(body, "cluster");
                        e.user = r.string_field(body, "user");
                        e.namespace_ = r.string_field(body, "namespace");
                        e.extensions = r.extensions(body);
                      }
                      if (kc.contexts_.emplace(name, std::move(e)).second) kc.context_order_.push_back(name);
                    });
    r.named_entries(root, "clusters", "cluster", "cluster", true,
                    [&](const std::string& name, const YAML::Node& body) {
                      ClusterEntry e;
                      if (body.IsDefined()) {
                        e.server = r.string_field(body, "server");
                        const auto ca = r.string_field(body, "certificate-authority");
                        if (ca && !ca->empty())
                          e.certificate_authority = paths::resolve_relative_to_file(*ca, abs_file);
                        e.extensions = r.extensions(body);
                      }
                      kc.clusters_.emplace(name, std::move(e));
                    });
    r.named_entries(root, "users", "user", "user", false,
                    [&](const std::string& name, const YAML::Node& body) {
                      UserEntry e;
                      if (body.IsDefined()) {
                        const YAML::Node exec = r.map_field(body, "exec");
                        if (exec.IsDefined()) e.exec_command = r.string_field(exec, "command");
                      }
                      kc.users_.emplace(name, std::move(e));
                    });
  } catch (const KubeconfigError&) {
    throw;
  } catch (const YAML::Exception& e) {
    // Should not happen (every access is type-checked first), but never crash on input.
    fail_at(file, e.mark, "unexpected YAML structure: " + e.msg);
  }
}

Kubeconfig Kubeconfig::from_text(const std::string& name, const std::string& text) {
  Kubeconfig kc;
  kc.add_file(name, text);
  return kc;
}

KubeContext Kubeconfig::resolve(const std::string& context_name) const {
  KubeContext out;
  out.name = context_name;
  const auto it = contexts_.find(context_name);
  if (it == contexts_.end()) return out;
  const ContextEntry& c = it->second;
  out.in_kubeconfig = true;
  out.cluster_ref = c.cluster;
  out.user = c.user;
  out.namespace_ = c.namespace_;
  out.file = c.file;
  out.context_extensions = c.extensions;
  if (c.cluster) {
    if (const auto cl = clusters_.find(*c.cluster); cl != clusters_.end()) {
      out.cluster_found = true;
      out.server = cl->second.server;
      out.certificate_authority = cl->second.certificate_authority;
      out.cluster_extensions = cl->second.extensions;
    }
  }
  if (c.user) {
    if (const auto u = users_.find(*c.user); u != users_.end())
      out.user_exec_command = u->second.exec_command;
  }
  return out;
}

std::vector<std::string> Kubeconfig::context_names() const { return context_order_; }

}  // namespace lcrules

namespace lcrules {

void Kubeconfig::encode(cache_codec::ByteWriter& out) const {
  out.u64(files_read_.size());
  for (const auto& f : files_read_) out.str(f);
  out.opt_str(current_context_);
  out.u64(context_order_.size());
  for (const auto& name : context_order_) out.str(name);
  out.u64(contexts_.size());
  for (const auto& [name, e] : contexts_) {
    out.str(name);
    out.opt_str(e.cluster);
    out.opt_str(e.user);
    out.opt_str(e.namespace_);
    out.str(e.file);
    out.string_map(e.extensions);
  }
  out.u64(clusters_.size());
  for (const auto& [name, e] : clusters_) {
    out.str(name);
    out.opt_str(e.server);
    out.opt_str(e.certificate_authority);
    out.string_map(e.extensions);
  }
  out.u64(users_.size());
  for (const auto& [name, e] : users_) {
    out.str(name);
    out.opt_str(e.exec_command);
  }
}

Kubeconfig Kubeconfig::decode(cache_codec::ByteReader& in) {
  Kubeconfig kc;
  for (std::size_t n = in.count(1); n > 0; --n) kc.files_read_.push_back(in.str());
  kc.current_context_ = in.opt_str();
  for (std::size_t n = in.count(1); n > 0; --n) kc.context_order_.push_back(in.str());
  for (std::size_t n = in.count(7); n > 0; --n) {
    std::string name = in.str();
    ContextEntry e;
    e.cluster = in.opt_str();
    e.user = in.opt_str();
    e.namespace_ = in.opt_str();
    e.file = in.str();
    e.extensions = in.string_map();
    kc.contexts_.insert_or_assign(std::move(name), std::move(e));
  }
  for (std::size_t n = in.count(4); n > 0; --n) {
    std::string name = in.str();
    ClusterEntry e;
    e.server = in.opt_str();
    e.certificate_authority = in.opt_str();
    e.extensions = in.string_map();
    kc.clusters_.insert_or_assign(std::move(name), std::move(e));
  }
  for (std::size_t n = in.count(2); n > 0; --n) {
    std::string name = in.str();
    UserEntry e;
    e.exec_command = in.opt_str();
    kc.users_.insert_or_assign(std::move(name), std::move(e));
  }
  // Every context in the order list is defined, once (resolve() relies on it).
  if (kc.context_order_.size() != kc.contexts_.size())
    throw cache_codec::CodecError{"contexts do not match their order"};
  std::set<std::string_view> listed;
  for (const auto& name : kc.context_order_) {
    if (!kc.contexts_.count(name) || !listed.insert(name).second)
      throw cache_codec::CodecError{"contexts do not match their order"};
  }
  return kc;
}

}  // namespace lcrules
