#include "engine/facts/skaffold_config.hpp"

#include <re2/re2.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "engine/facts/files.hpp"

namespace lcrules {

namespace {

constexpr const char* kFields[] = {"local-cluster", "kind-disable-load", "k3d-disable-load"};

[[noreturn]] void fail_at(const std::string& file, const YAML::Mark& mark, const std::string& message) {
  throw ConfigError(files::yaml_error(ErrorKind::SkaffoldConfig, file, mark, message));
}

YAML::Node parse(const std::string& file, const std::string& text) {
  try {
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

// YAML 1.1 boolean words, any case, normalised to "true"/"false".
std::optional<std::string> yaml11_bool(const std::string& s) {
  std::string lower;
  for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "true" || lower == "yes" || lower == "y" || lower == "on") return "true";
  if (lower == "false" || lower == "no" || lower == "n" || lower == "off") return "false";
  return std::nullopt;
}

// A boolean field of `map`: nullopt when absent or null; an error for anything else that is
// not a boolean word.
std::optional<std::string> bool_field(const std::string& file, const YAML::Node& map, const char* key) {
  const YAML::Node v = map[key];
  if (!v.IsDefined() || is_plain_null(v)) return std::nullopt;
  if (v.IsScalar()) {
    if (auto b = yaml11_bool(v.Scalar())) return b;
    fail_at(file, v.Mark(),
            std::string(key) + " must be a boolean (true/false, yes/no, on/off, y/n), not \"" + v.Scalar() +
                "\"");
  }
  fail_at(file, v.Mark(), std::string(key) + " must be a boolean (true/false, yes/no, on/off, y/n)");
}

void read_fields(const std::string& file, const YAML::Node& map, std::map<std::string, std::string>& out) {
  for (const char* key : kFields) {
    if (auto b = bool_field(file, map, key)) out[key] = *b;
  }
}

}  // namespace

SkaffoldGlobalConfig SkaffoldGlobalConfig::load(const std::string& path) {
  SkaffoldGlobalConfig cfg;
  std::string text;
  int err = 0;
  if (!files::read_whole(path, text, err)) {
    if (err == ENOENT) return cfg;
    throw ConfigError(
        Error::at(ErrorKind::SkaffoldConfig, path, 0, 0, "cannot read: " + files::read_error_text(err)));
  }
  const YAML::Node root = parse(path, text);
  try {
    if (!root.IsDefined() || root.IsNull()) return cfg;
    if (!root.IsMap()) fail_at(path, root.Mark(), "the Skaffold global config must be a mapping");

    const YAML::Node global = root["global"];
    if (global.IsDefined() && !is_plain_null(global)) {
      if (!global.IsMap()) fail_at(path, global.Mark(), "global must be a mapping");
      read_fields(path, global, cfg.global_);
    }

    const YAML::Node contexts = root["kubeContexts"];
    if (contexts.IsDefined() && !is_plain_null(contexts)) {
      if (!contexts.IsSequence()) fail_at(path, contexts.Mark(), "kubeContexts must be a list");
      for (const YAML::Node& entry : contexts) {
        if (!entry.IsMap()) fail_at(path, entry.Mark(), "kubeContexts entry must be a mapping");
        Entry e;
        const YAML::Node pattern = entry["kube-context"];
        if (pattern.IsDefined() && !is_plain_null(pattern)) {
          if (!pattern.IsScalar()) fail_at(path, pattern.Mark(), "kube-context must be a string");
          e.pattern = pattern.Scalar();
        }
        read_fields(path, entry, e.values);
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
  if (!files::read_whole(path, text, err))
    throw ConfigError(
        Error::at(ErrorKind::SkaffoldConfig, path, 0, 0, "cannot read: " + files::read_error_text(err)));
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
