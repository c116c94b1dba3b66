// YAML merge keys (`<<: *base`, `<<: [*a, *b]`) and repeated keys, as the Go YAML readers of
// the tools lcrules imitates resolve them, shared by the kubeconfig and Skaffold readers.
// yaml-cpp keeps a mapping's entries as written (every repeated key, the merge key as an
// ordinary key); a Merger gives the entries a Go program decodes.
#pragma once

#include <yaml-cpp/yaml.h>

#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace lcrules::yaml_merge {

enum class Style {
  // go-yaml v2 decoding into a map (kubectl, through sigs.k8s.io/yaml): entries apply in
  // document order, a later one replacing an earlier one with the same key: a repeated key
  // gives its last value, and a merge key replaces the keys written before it (not those
  // after). In a merge list, earlier mappings win over later ones. Every merge key applies.
  kGoYamlV2,
  // go-yaml v3 decoding into a struct (Skaffold): a mapping's own keys win over merged ones,
  // earlier mappings of a merge list win over later ones, the last merge key counts.
  // Repeated keys are refused before (yaml.v3 does); here the first one is kept.
  kGoYamlV3,
};

// A merge key that cannot be followed: not a mapping, a cycle, or nesting too deep.
struct MergeError {
  YAML::Mark mark;
  std::string message;
};

using Entries = std::vector<std::pair<std::string, YAML::Node>>;

// `key` is a merge key: the plain scalar `<<` (or tagged !!merge).
bool is_merge_key(const YAML::Node& key);

class Merger {
 public:
  explicit Merger(Style style) : style_(style) {}

  // The scalar-keyed entries of mapping `map` once its merge keys and repeated keys are
  // resolved (first-appearance order). Results are kept per node (an alias is its anchor's
  // node). Throws MergeError.
  const Entries& entries(const YAML::Node& map) { return entries(map, 0); }

  // The value of `key` in `entries`, or an undefined node.
  static YAML::Node find(const Entries& entries, const std::string& key);

  // find(entries(map), key).
  YAML::Node get(const YAML::Node& map, const std::string& key) { return find(entries(map), key); }

 private:
  const Entries& entries(const YAML::Node& map, int depth);

  static constexpr int kMaxMergeDepth = 200;

  Style style_;
  std::map<int, std::deque<std::pair<YAML::Node, Entries>>> done_;  // by position, then identity
  std::vector<YAML::Node> open_;  // mappings whose merge keys are being followed
};

}  // namespace lcrules::yaml_merge
