// Structured command output: parse JSON or YAML (bounded), select values with a path
// such as `.valid[].Config.Nodes[]`, and render selected values as text.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lcrules::docpath {

struct PathStep {
  enum class Kind { Member, Index, Every };
  Kind kind = Kind::Member;
  std::string key;        // Member
  std::size_t index = 0;  // Index
};
using Path = std::vector<PathStep>;

// Parses ".a.b[].c", `.["key.with.dots"]`, `[0]`, "." (the document). On error returns
// nullopt and sets `error` (e.g. "expected a member name after '.' at offset 3").
std::optional<Path> parse_path(std::string_view text, std::string* error);

inline constexpr std::size_t kMaxDepth = 64;
inline constexpr std::size_t kMaxNodes = 1'000'000;

// Parse output. On failure nullopt and `error` says what is wrong ("line 3, column 5: ...").
// Both bound nesting depth and node count (YAML aliases expanded count every time).
std::optional<nlohmann::json> parse_json(std::string_view text, std::string* error);
std::optional<nlohmann::json> parse_yaml(std::string_view text, std::string* error);

// Every value the path selects (missing members or wrong types select nothing).
std::vector<const nlohmann::json*> select(const nlohmann::json& doc, const Path& path);

// Scalars as text: strings as is, numbers as written by JSON (8443), booleans true/false;
// null, objects and arrays give nullopt.
std::optional<std::string> scalar_text(const nlohmann::json& value);

// Value at a dotted key path below `value` ("IP", "Config.Name"); empty key = value itself.
const nlohmann::json* lookup(const nlohmann::json& value, std::string_view dotted_keys);

}  // namespace lcrules::docpath
