// Skaffold's global config (~/.skaffold/config) and a project's skaffold.yaml, read with
// Skaffold's own matching rules. Values are kept as "true"/"false" strings.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "lcrules/error.hpp"

namespace lcrules {

// Unparseable file: what() is "FILE:LINE:COL: error: MESSAGE" or "FILE: error: MESSAGE".
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(Error e) : std::runtime_error(e.text), error_(std::move(e)) {}
  const Error& error() const { return error_; }

 private:
  Error error_;
};

class SkaffoldGlobalConfig {
 public:
  // Missing file: an empty config. Read as Skaffold reads it, with Go's yaml.v3: throws
  // ConfigError for an unparseable file, a key given twice in a mapping, or a value of the
  // wrong type (booleans: true/True/TRUE, false/False/FALSE, and the YAML 1.1 words
  // y/Y/yes/Yes/YES/on/On/ON, n/N/no/No/NO/off/Off/OFF, these also quoted).
  // Merge keys (`<<: *a`, `<<: [*a, *b]`) are honoured; explicit keys win.
  static SkaffoldGlobalConfig load(const std::string& path);

  // The effective values for a context: the last `kubeContexts` entry whose pattern matches
  // supplies the fields it sets, the rest come from `global`. Empty context: `global` only.
  // Keys: "local-cluster", "kind-disable-load", "k3d-disable-load".
  std::map<std::string, std::string> resolve(const std::string& context) const;

  // Skaffold's pattern rule: exact equality; else unanchored search with a Go regular
  // expression (RE2: no look-ahead or back-references, UTF-8, single-line); leading `!`
  // negates; a pattern that fails to compile matches nothing; empty matches everything.
  static bool pattern_matches(const std::string& pattern, const std::string& context);

 private:
  struct Entry {
    std::string pattern;
    std::map<std::string, std::string> values;
  };
  std::map<std::string, std::string> global_;
  std::vector<Entry> entries_;
};

// `build.local.push` of the first document of a skaffold.yaml ("true"/"false"), or absent.
// Throws ConfigError when the file is missing or unparseable.
std::optional<std::string> read_skaffold_yaml_push(const std::string& path);

}  // namespace lcrules
