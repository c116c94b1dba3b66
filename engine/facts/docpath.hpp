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
  // All and GoDecode come only first (All before GoDecode) and select nothing themselves:
  // All is the `every` prefix, GoDecode the `go(TYPE)` prefix (key: the TYPE as written).
  // Every (`[]`) stays the last enumerator: the rule-set cache bounds step kinds by it.
  enum class Kind { Member, Index, All, GoDecode, Every };
  Kind kind = Kind::Member;
  std::string key;        // Member; GoDecode: the Go type
  std::size_t index = 0;  // Index
};
using Path = std::vector<PathStep>;

// Parses ".a.b[].c", `.["key.with.dots"]`, `[0]`, "." (the document), optionally after
// `every ` and then `go(TYPE)` (TYPE as in go_decode; after it the steps may be empty, the
// decoded document). On error returns nullopt and sets `error` (e.g. "expected a member
// name after '.' at offset 3").
std::optional<Path> parse_path(std::string_view text, std::string* error);

// The path starts with `every`: a test must hold for every selected value (and holds
// when none is selected).
bool selects_every(const Path& path);
// The TYPE of the path's `go(TYPE)` prefix, or null.
const std::string* go_type(const Path& path);

// Checks a Go type written as (spaces free between tokens):
//   TYPE  := string | bool | int | int8 | int16 | int32 | int64 | uint | uint8 | uint16
//          | uint32 | uint64 | float32 | float64 | any
//          | "[]" TYPE | "map[string]" TYPE | "{" [FIELD {"," FIELD} [","]] "}"
//   FIELD := NAME ":" TYPE        NAME: ASCII letters, digits, '_' and '-'
// `{...}` is a struct whose fields' JSON keys are their NAMEs. On error false, and `error`
// says what is wrong at which offset into `type`.
bool check_go_type(std::string_view type, std::string* error);

// Decodes JSON text as Go's encoding/json.Unmarshal decodes it into a value of `type`:
// a struct's keys match its fields exactly, else case-insensitively (Go's folding: `name`,
// `NAME` and `Name` are one field), unknown keys are skipped, and a later key overwrites an
// earlier one; null leaves a value as it is (a slice or map becomes empty); a value of the
// wrong type anywhere (a string where an int32 is wanted, a number that is not an integer
// or does not fit) fails the whole decoding. The result spells every struct field as the
// type does and holds Go's zero value ("", 0, false, [], {}) for fields the text lacks.
// Bounded like parse_json. On failure nullopt and `error` says where and why
// (".valid[0].Config.Nodes[0].Port: a string where int32 is wanted").
std::optional<nlohmann::json> go_decode(std::string_view text, std::string_view type, std::string* error);

inline constexpr std::size_t kMaxDepth = 64;
inline constexpr std::size_t kMaxNodes = 1'000'000;

// Parse output. On failure nullopt and `error` says what is wrong ("line 3, column 5: ...").
// Both bound nesting depth and node count (YAML aliases expanded count every time).
std::optional<nlohmann::json> parse_json(std::string_view text, std::string* error);
std::optional<nlohmann::json> parse_yaml(std::string_view text, std::string* error);

// Every value the path selects (missing members or wrong types select nothing). The
// `every` and `go(TYPE)` prefixes select nothing themselves: decode with go_decode first.
std::vector<const nlohmann::json*> select(const nlohmann::json& doc, const Path& path);

// Scalars as text: strings as is, numbers as written by JSON (8443), booleans true/false;
// null, objects and arrays give nullopt.
std::optional<std::string> scalar_text(const nlohmann::json& value);

// Value at a dotted key path below `value` ("IP", "Config.Name"); empty key = value itself.
const nlohmann::json* lookup(const nlohmann::json& value, std::string_view dotted_keys);

}  // namespace lcrules::docpath
