#include "engine/facts/yaml_merge.hpp"

#include <unordered_map>

namespace lcrules::yaml_merge {

namespace {

constexpr const char* kMergeNeedsMaps = "a merge key (<<) needs a mapping or a list of mappings";

// Entries with a key index: set() replaces or appends, add_missing() only appends.
class Builder {
 public:
  void set(const std::string& key, const YAML::Node& value) {
    const auto [it, added] = index_.emplace(key, out_.size());
    if (added) {
      out_.emplace_back(key, value);
    } else {
      out_[it->second].second.reset(value);  // `=` would write into the node it refers to
    }
  }
  void add_missing(const std::string& key, const YAML::Node& value) {
    if (index_.emplace(key, out_.size()).second) out_.emplace_back(key, value);
  }
  Entries take() { return std::move(out_); }

 private:
  Entries out_;
  std::unordered_map<std::string, std::size_t> index_;
};

}  // namespace

bool is_merge_key(const YAML::Node& key) {
  return key.IsScalar() && key.Scalar() == "<<" &&
         (key.Tag() == "?" || key.Tag() == "tag:yaml.org,2002:merge");
}

YAML::Node Merger::find(const Entries& entries, const std::string& key) {
  for (const auto& [k, v] : entries) {
    if (k == key) return v;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

const Entries& Merger::entries(const YAML::Node& map, int depth) {
  for (const auto& [node, done] : done_[map.Mark().pos]) {
    if (node.is(map)) return done;
  }
  for (const YAML::Node& open : open_) {
    if (open.is(map)) throw MergeError{map.Mark(), "a merge key (<<) brings in the mapping it is in"};
  }
  if (depth > kMaxMergeDepth)
    throw MergeError{map.Mark(), "merge keys (<<) nest too deeply (more than " +
                                     std::to_string(kMaxMergeDepth) + " levels)"};
  Builder out;
  std::vector<YAML::Node> merges;  // the merge keys' values, in document order
  open_.push_back(map);
  // The mappings a merge key's value names, in the order they apply.
  const auto merged_maps = [&](const YAML::Node& merge) {
    std::vector<YAML::Node> maps;
    if (merge.IsMap()) {
      maps.push_back(merge);
    } else if (merge.IsSequence()) {
      for (const YAML::Node& item : merge) {
        if (!item.IsMap()) throw MergeError{item.Mark(), kMergeNeedsMaps};
        maps.push_back(item);
      }
    } else {
      throw MergeError{merge.Mark(), kMergeNeedsMaps};
    }
    return maps;
  };
  if (style_ == Style::kGoYamlV2) {
    for (const auto& kv : map) {
      if (is_merge_key(kv.first)) {
        // Later list items first, so that earlier ones replace them.
        const auto maps = merged_maps(kv.second);
        for (auto it = maps.rbegin(); it != maps.rend(); ++it) {
          for (const auto& [key, value] : entries(*it, depth + 1)) out.set(key, value);
        }
      } else if (kv.first.IsScalar()) {
        out.set(kv.first.Scalar(), kv.second);
      }
    }
  } else {
    YAML::Node merge(YAML::NodeType::Undefined);
    for (const auto& kv : map) {
      if (is_merge_key(kv.first)) {
        merge = kv.second;  // the last merge key counts
      } else if (kv.first.IsScalar()) {
        out.add_missing(kv.first.Scalar(), kv.second);
      }
    }
    if (merge.IsDefined()) {
      for (const YAML::Node& m : merged_maps(merge)) {
        for (const auto& [key, value] : entries(m, depth + 1)) out.add_missing(key, value);
      }
    }
  }
  open_.pop_back();
  // Looked up again: the recursion above may have added to the table.
  auto& bucket = done_[map.Mark().pos];
  bucket.emplace_back(map, out.take());
  return bucket.back().second;
}

}  // namespace lcrules::yaml_merge
