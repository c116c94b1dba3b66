#include "engine/facts/skaffold_config.hpp"

#include <re2/re2.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <set>

#include "engine/facts/files.hpp"
#include "engine/facts/yaml_merge.hpp"

namespace lcrules {

namespace {

constexpr const char* kFields[] = {"local-cluster", "kind-disable-load", "k3d-disable-load"};

// Both files are small (only a few fields of the first document are read): larger ones are
// refused, and the YAML nodes of the first document are bounded, which bounds the time and
// memory yaml-cpp takes (docs/performance.md, "Hostile input").
constexpr std::size_t kMaxFileSize = 1024 * 1024;
constexpr std::size_t kMaxNodes = 100'000;

[[noreturn]] void fail_at(const std::string& file, const YAML::Mark& mark, const std::string& message) {
  throw ConfigError(files::yaml_error(ErrorKind::SkaffoldConfig, file, mark, message));
}

YAML::Node parse(const std::string& file, const std::string& text) {
  try {
    if (const auto over = files::check_yaml_bounds(text, kMaxNodes))
      fail_at(file, over->mark, over->message);
    return YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    fail_at(file, e.mark,
            "the YAML nests too deeply (more than " + std::to_string(e.depth() - 1) + " levels)");
  } catch (const YAML::Exception& e) {
    fail_at(file, e.mark, "invalid YAML: " + e.msg);
  }
}

bool is_plain_null(const YAML::Node& n) {
  if (n.IsNull()) return true;
  if (!n.IsScalar() || n.Tag() != "?") return false;
  const std::string& s = n.Scalar();
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

// skaffold.yaml's booleans: YAML 1.1 words, any case, normalised to "true"/"false".
std::optional<std::string> yaml11_bool(const std::string& s) {
  std::string lower;
  for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "true" || lower == "yes" || lower == "y" || lower == "on") return "true";
  if (lower == "false" || lower == "no" || lower == "n" || lower == "off") return "false";
  return std::nullopt;
}

std::string not_a_boolean(const char* key) {
  return std::string(key) + " must be a boolean (true/false, yes/no, on/off, y/n)";
}

// A boolean field of skaffold.yaml's `map`: nullopt when absent or null; an error for
// anything else that is not a boolean word.
std::optional<std::string> bool_field(const std::string& file, const YAML::Node& map, const char* key) {
  const YAML::Node v = map[key];
  if (!v.IsDefined() || is_plain_null(v)) return std::nullopt;
  if (v.IsScalar()) {
    if (auto b = yaml11_bool(v.Scalar())) return b;
    fail_at(file, v.Mark(), not_a_boolean(key) + ", not \"" + v.Scalar() + "\"");
  }
  fail_at(file, v.Mark(), not_a_boolean(key));
}

// ~/.skaffold/config as Skaffold reads it, with Go's yaml.v3 into its config structs.
class GlobalConfigReader {
 public:
  using Entries = yaml_merge::Entries;

  explicit GlobalConfigReader(const std::string& file) : file_(file) {}

  // yaml.v3 refuses a key given twice in a mapping: checked in every mapping of the document
  // (yaml-cpp keeps both entries). Aliased nodes are checked once.
  void check_duplicate_keys(const YAML::Node& node) {
    if (!node.IsMap() && !node.IsSequence()) return;
    if (seen(node)) return;
    if (node.IsSequence()) {
      for (const YAML::Node& item : node) check_duplicate_keys(item);
      return;
    }
    std::map<std::string, YAML::Mark> keys;
    for (const auto& kv : node) {
      const YAML::Node& key = kv.first;
      if (key.IsScalar() && !yaml_merge::is_merge_key(key)) {  // yaml.v3: the last merge key counts
        const auto [it, inserted] = keys.emplace(key.Scalar(), key.Mark());
        if (!inserted) {
          fail_at(file_, key.Mark(),
                  "duplicate key \"" + key.Scalar() + "\" (first at line " +
                      std::to_string(it->second.line + 1) + ")");
        }
      }
      check_duplicate_keys(key);
      check_duplicate_keys(kv.second);
    }
  }

  // The entries of a mapping as yaml.v3 decodes it into a struct: its own scalar keys, then
  // those its merge key (`<<: *a`, `<<: [*a, *b]`) brings that are not set yet (explicit
  // keys win, and earlier mappings of a merge list win over later ones).
  Entries entries(const YAML::Node& map) {
    try {
      return merger_.entries(map);
    } catch (const yaml_merge::MergeError& e) {
      fail_at(file_, e.mark, e.message);
    }
  }

  static YAML::Node find(const Entries& entries, const std::string& key) {
    return yaml_merge::Merger::find(entries, key);
  }

  // A boolean as yaml.v3 decodes it into Go's bool: plain true/True/TRUE, false/False/FALSE,
  // and the YAML 1.1 words y/Y/yes/Yes/YES/on/On/ON, n/N/no/No/NO/off/Off/OFF, these also
  // quoted. nullopt when absent or null; an error for anything else.
  std::optional<std::string> boolean(const Entries& map, const char* key) const {
    const YAML::Node v = find(map, key);
    if (!v.IsDefined() || is_plain_null(v)) return std::nullopt;
    if (!v.IsScalar()) fail_at(file_, v.Mark(), not_a_boolean(key));
    static const std::set<std::string> yes = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON"};
    static const std::set<std::string> no = {"n", "N", "no", "No", "NO", "off", "Off", "OFF"};
    static const std::set<std::string> core_true = {"true", "True", "TRUE"};
    static const std::set<std::string> core_false = {"false", "False", "FALSE"};
    const std::string& s = v.Scalar();
    if (yes.count(s)) return "true";
    if (no.count(s)) return "false";
    const bool plain = v.Tag() == "?" || v.Tag() == "tag:yaml.org,2002:bool";
    if (plain && core_true.count(s)) return "true";
    if (plain && core_false.count(s)) return "false";
    if (core_true.count(s) || core_false.count(s)) {
      fail_at(file_, v.Mark(),
              std::string(key) + " must be a boolean, not the quoted string \"" + s + "\" (write " + s +
                  " without quotes)");
    }
    fail_at(file_, v.Mark(), not_a_boolean(key) + ", not \"" + s + "\"");
  }

  void read_fields(const Entries& map, std::map<std::string, std::string>& out) const {
    for (const char* key : kFields) {
      if (auto b = boolean(map, key)) out[key] = *b;
    }
  }

 private:
  // Whether `node` was met before (by identity: an alias is its anchor's node); marks it.
  bool seen(const YAML::Node& node) {
    auto& bucket = seen_[node.Mark().pos];
    for (const YAML::Node& other : bucket) {
      if (other.is(node)) return true;
    }
    bucket.push_back(node);
    return false;
  }

  const std::string& file_;
  std::map<int, std::vector<YAML::Node>> seen_;                         // by position, then identity
  yaml_merge::Merger merger_{yaml_merge::Style::kGoYamlV3};
};

}  // namespace

SkaffoldGlobalConfig SkaffoldGlobalConfig::load(const std::string& path) {
  SkaffoldGlobalConfig cfg;
  std::string text;
  int err = 0;
  if (!files::read_whole(path, text, err, kMaxFileSize)) {
    if (err == ENOENT) return cfg;
    throw ConfigError(Error::at(ErrorKind::SkaffoldConfig, path, 0, 0,
                                "cannot read: " + files::read_error_text(err, kMaxFileSize)));
  }
  const YAML::Node root = parse(path, text);
  try {
    if (!root.IsDefined() || root.IsNull()) return cfg;
    if (!root.IsMap()) fail_at(path, root.Mark(), "the Skaffold global config must be a mapping");
    GlobalConfigReader reader(path);
    reader.check_duplicate_keys(root);
    const auto top = reader.entries(root);

    const YAML::Node global = GlobalConfigReader::find(top, "global");
    if (global.IsDefined() && !is_plain_null(global)) {
      if (!global.IsMap()) fail_at(path, global.Mark(), "global must be a mapping");
      reader.read_fields(reader.entries(global), cfg.global_);
    }

    const YAML::Node contexts = GlobalConfigReader::find(top, "kubeContexts");
    if (contexts.IsDefined() && !is_plain_null(contexts)) {
      if (!contexts.IsSequence()) fail_at(path, contexts.Mark(), "kubeContexts must be a list");
      for (const YAML::Node& item : contexts) {
        if (!item.IsMap()) fail_at(path, item.Mark(), "kubeContexts entry must be a mapping");
        const auto entry = reader.entries(item);
        Entry e;
        const YAML::Node pattern = GlobalConfigReader::find(entry, "kube-context");
        if (pattern.IsDefined() && !is_plain_null(pattern)) {
          if (!pattern.IsScalar()) fail_at(path, pattern.Mark(), "kube-context must be a string");
          e.pattern = pattern.Scalar();
        }
        reader.read_fields(entry, e.values);
        cfg.entries_.push_back(std::move(e));
      }
    }
  } catch (const ConfigError&) {
    throw;
  } catch (const YAML::Exception& e) {
    fail_at(path, e.mark, "unexpected YAML structure: " + e.msg);
  }
  return cfg;
}

std::map<std::string, std::string> SkaffoldGlobalConfig::resolve(const std::string& context) const {
  if (context.empty()) return global_;
  std::map<std::string, std::string> out;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (pattern_matches(it->pattern, context)) {
      out = it->values;
      break;
    }
  }
  for (const auto& [key, value] : global_) out.emplace(key, value);  // only fills unset fields
  return out;
}

namespace {

// Skaffold's regexMatch: equality, else an unanchored search with Go's regexp (RE2 syntax:
// UTF-8, `.` excludes newlines, `^`/`$` anchor the whole text, linear time); a pattern that
// does not compile (look-ahead, back-references, ...) matches nothing.
bool regex_match_or_equal(const std::string& pattern, const std::string& context) {
  if (pattern == context) return true;
  RE2::Options options;  // UTF-8, Perl-like classes and flags: Go's syntax.Perl
  options.set_log_errors(false);
  const RE2 re(pattern, options);
  return re.ok() && RE2::PartialMatch(context, re);
}

}  // namespace

bool SkaffoldGlobalConfig::pattern_matches(const std::string& pattern, const std::string& context) {
  // As Skaffold's RegexEqual: a leading '!' negates the whole test of the rest, equality
  // included (so "!x" does not match the context "!x" when "x" is found in it).
  if (!pattern.empty() && pattern.front() == '!') return !regex_match_or_equal(pattern.substr(1), context);
  return regex_match_or_equal(pattern, context);
}

std::optional<std::string> read_skaffold_yaml_push(const std::string& path) {
  std::string text;
  int err = 0;
  if (!files::read_whole(path, text, err, kMaxFileSize))
    throw ConfigError(Error::at(ErrorKind::SkaffoldConfig, path, 0, 0,
                                "cannot read: " + files::read_error_text(err, kMaxFileSize)));
  const YAML::Node root = parse(path, text);
  try {
    if (!root.IsDefined() || root.IsNull()) return std::nullopt;
    if (!root.IsMap()) fail_at(path, root.Mark(), "a skaffold.yaml must be a mapping");
    const YAML::Node build = root["build"];
    if (!build.IsDefined() || is_plain_null(build)) return std::nullopt;
    if (!build.IsMap()) fail_at(path, build.Mark(), "build must be a mapping");
    const YAML::Node local = build["local"];
    if (!local.IsDefined() || is_plain_null(local)) return std::nullopt;
    if (!local.IsMap()) fail_at(path, local.Mark(), "build.local must be a mapping");
    return bool_field(path, local, "push");
  } catch (const ConfigError&) {
    throw;
  } catch (const YAML::Exception& e) {
    fail_at(path, e.mark, "unexpected YAML structure: " + e.msg);
  }
}

}  // namespace lcrules
