// Structured command output: bounded JSON and YAML parsing into nlohmann::json, paths.
#include "engine/facts/docpath.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <sstream>

namespace lcrules::docpath {

namespace {

using json = nlohmann::json;

constexpr const char* kQuoteHint = " (quote unusual names: .[\"name\"])";

std::string at_offset(std::string what, std::size_t offset) {
  return what + " at offset " + std::to_string(offset);
}

bool is_name_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c >= 0x80;
}

std::string describe_char(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", u);
  return buf;
}

// Parses the inside of `[...]` starting just after '['. Returns the offset after ']'.
std::optional<std::size_t> parse_bracket(std::string_view text, std::size_t i, PathStep& step,
                                         std::string* error) {
  auto fail = [&](std::string msg, std::size_t at) -> std::optional<std::size_t> {
    if (error) *error = at_offset(std::move(msg), at);
    return std::nullopt;
  };
  if (i >= text.size()) return fail("expected ']', a number or a quoted name after '['", i);
  char c = text[i];
  if (c == ']') {
    step.kind = PathStep::Kind::Every;
    return i + 1;
  }
  if (c >= '0' && c <= '9') {
    std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    std::size_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data() + start, text.data() + i, value);
    if (ec != std::errc() || ptr != text.data() + i) return fail("array index too large", start);
    if (i >= text.size() || text[i] != ']') return fail("expected ']' after the array index", i);
    step.kind = PathStep::Kind::Index;
    step.index = value;
    return i + 1;
  }
  if (c == '"') {
    std::size_t open = i;
    std::string key;
    ++i;
    for (;;) {
      if (i >= text.size()) return fail("unterminated quoted name", open);
      char d = text[i];
      if (d == '"') break;
      if (d == '\\') {
        if (i + 1 >= text.size()) return fail("unterminated escape in quoted name", i);
        char e = text[i + 1];
        switch (e) {
          case '"':
          case '\\':
          case '/':
            key += e;
            break;
          case 'n':
            key += '\n';
            break;
          case 't':
            key += '\t';
            break;
          case 'r':
            key += '\r';
            break;
          default:
            return fail("unknown escape '\\" + std::string(1, e) + "' in quoted name", i);
        }
        i += 2;
        continue;
      }
      key += d;
      ++i;
    }
    ++i;  // closing quote
    if (i >= text.size() || text[i] != ']') return fail("expected ']' after the quoted name", i);
    step.kind = PathStep::Kind::Member;
    step.key = std::move(key);
    return i + 1;
  }
  if (c == '-') return fail("negative array indexes are not supported", i);
  return fail("expected ']', a number or a quoted name after '[', found " + describe_char(c), i);
}

}  // namespace

std::optional<Path> parse_path(std::string_view text, std::string* error) {
  auto fail = [&](std::string msg, std::size_t at, const char* hint = "") -> std::optional<Path> {
    if (error) *error = at_offset(std::move(msg), at) + hint;
    return std::nullopt;
  };
  Path path;
  std::size_t i = 0;
  // Prefixes: `every `, then `go(TYPE)`.
  if (text.substr(0, 6) == "every " || text == "every") {
    path.push_back(PathStep{PathStep::Kind::All, {}, 0});
    i = 5;
    while (i < text.size() && text[i] == ' ') ++i;
    if (i == text.size()) return fail("expected a path after 'every'", i);
  }
  bool decoded = false;
  if (text.substr(i, 3) == "go(") {
    const std::size_t open = i + 3;
    const std::size_t close = text.find(')', open);
    if (close == std::string_view::npos) return fail("expected ')' after the Go type", text.size());
    std::string why;
    if (!check_go_type(text.substr(open, close - open), &why)) {
      // why ends with "at offset N" relative to the type: make it relative to the path.
      const auto at = why.rfind(" at offset ");
      std::size_t offset = 0;
      if (at != std::string::npos) {
        offset = std::stoul(why.substr(at + 11));
        why.erase(at);
      }
      return fail("invalid Go type: " + why, open + offset);
    }
    path.push_back(PathStep{PathStep::Kind::GoDecode, std::string(text.substr(open, close - open)), 0});
    i = close + 1;
    decoded = true;
  }
  if (i == text.size()) {
    if (decoded) return path;
    return fail("empty path (use '.' for the whole document)", i);
  }
  if (text.substr(i) == ".") return path;
  if (text[i] != '.' && text[i] != '[') {
    return fail("a path starts with '.' or '[', found " + describe_char(text[i]), i);
  }
  while (i < text.size()) {
    char c = text[i];
    if (c == '.') {
      ++i;
      if (i < text.size() && text[i] == '[') continue;  // `.[...]`, as in jq
      std::size_t start = i;
      while (i < text.size() && is_name_char(static_cast<unsigned char>(text[i]))) ++i;
      if (i == start) {
        if (i < text.size() && text[i] != '.') {
          return fail("expected a member name after '.', found " + describe_char(text[i]), i, kQuoteHint);
        }
        return fail("expected a member name after '.'", i);
      }
      PathStep step;
      step.kind = PathStep::Kind::Member;
      step.key = std::string(text.substr(start, i - start));
      path.push_back(std::move(step));
    } else if (c == '[') {
      PathStep step;
      auto next = parse_bracket(text, i + 1, step, error);
      if (!next) return std::nullopt;
      i = *next;
      path.push_back(std::move(step));
    } else {
      return fail("expected '.' or '[', found " + describe_char(c), i, kQuoteHint);
    }
  }
  return path;
}

// ---------------------------------------------------------------------------------------
// JSON.

namespace {

struct LimitExceeded {
  std::string message;
};

std::string too_many_nodes() { return "too many nodes (more than " + std::to_string(kMaxNodes) + ")"; }
std::string too_deep() { return "nesting deeper than " + std::to_string(kMaxDepth) + " levels"; }

// "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error while
// parsing value - invalid literal; last read: 'tru,'" -> "line 1, column 5: invalid
// literal; last read: 'tru,'".
std::string readable_json_error(const std::string& what) {
  std::string text = what;
  if (text.rfind("[json.exception.", 0) == 0) {
    std::size_t close = text.find("] ");
    if (close != std::string::npos) text.erase(0, close + 2);
  }
  for (const char* prefix : {"parse error at ", "parse error: "}) {
    if (text.rfind(prefix, 0) == 0) {
      text.erase(0, std::char_traits<char>::length(prefix));
      break;
    }
  }
  for (const char* noise :
       {"syntax error while parsing value - ", "syntax error while parsing object key - ",
        "syntax error while parsing object separator - ", "syntax error while parsing object - ",
        "syntax error while parsing array - ", "syntax error while parsing ", "syntax error - "}) {
    std::size_t at = text.find(noise);
    if (at != std::string::npos) {
      text.erase(at, std::char_traits<char>::length(noise));
      break;
    }
  }
  return text;
}

// Bounded parsing into J (json, or ordered_json where the order of keys matters).
template <typename J>
std::optional<J> parse_bounded_json(std::string_view text, std::string* error) {
  std::size_t nodes = 0;
  auto callback = [&nodes](int depth, typename J::parse_event_t event, J&) -> bool {
    switch (event) {
      case J::parse_event_t::object_start:
      case J::parse_event_t::array_start:
        if (static_cast<std::size_t>(depth) + 1 > kMaxDepth) throw LimitExceeded{too_deep()};
        [[fallthrough]];
      case J::parse_event_t::value:
        if (++nodes > kMaxNodes) throw LimitExceeded{too_many_nodes()};
        break;
      default:
        break;
    }
    return true;
  };
  try {
    return J::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true);
  } catch (const LimitExceeded& e) {
    if (error) *error = e.message;
  } catch (const typename J::exception& e) {
    if (error) *error = readable_json_error(e.what());
  } catch (const std::bad_alloc&) {
    if (error) *error = "out of memory";
  }
  return std::nullopt;
}

}  // namespace

std::optional<nlohmann::json> parse_json(std::string_view text, std::string* error) {
  return parse_bounded_json<json>(text, error);
}

// ---------------------------------------------------------------------------------------
// Go's encoding/json decoding into a declared type.

namespace {

struct GoField;

struct GoType {
  enum class Kind { String, Bool, Int, Uint, Float, Any, Slice, Map, Struct };
  Kind kind = Kind::Any;
  int bits = 64;
  std::string spelling;                                // for messages: "int32", "[]...", "struct"
  std::vector<GoType> elem;                            // Slice, Map: one element type
  std::vector<GoField> fields;                         // Struct, in order
};

// A struct field: a name and its type (a struct, not std::pair, so that GoType may hold a
// vector of them before it is complete).
struct GoField {
  std::string first;
  GoType second;
};

struct GoTypeError {
  std::string message;
  std::size_t offset;
};

class GoTypeParser {
 public:
  explicit GoTypeParser(std::string_view text) : text_(text) {}

  GoType parse() {
    GoType t = type(0);
    space();
    if (i_ != text_.size())
      throw GoTypeError{"unexpected " + describe_char(text_[i_]) + " after the type", i_};
    return t;
  }

 private:
  void space() {
    while (i_ < text_.size() && (text_[i_] == ' ' || text_[i_] == '\t' || text_[i_] == '\n')) ++i_;
  }
  bool eat(std::string_view s) {
    space();
    if (text_.substr(i_, s.size()) != s) return false;
    i_ += s.size();
    return true;
  }
  std::string name() {
    space();
    const std::size_t start = i_;
    while (i_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[i_])) || text_[i_] == '_' || text_[i_] == '-') &&
           static_cast<unsigned char>(text_[i_]) < 0x80)
      ++i_;
    return std::string(text_.substr(start, i_ - start));
  }

  GoType type(std::size_t depth) {
    if (depth > kMaxDepth) throw GoTypeError{"the type nests too deeply", i_};
    space();
    GoType t;
    const std::size_t at = i_;
    if (eat("[]")) {
      t.kind = GoType::Kind::Slice;
      t.elem.push_back(type(depth + 1));
      t.spelling = "[]" + t.elem[0].spelling;
      return t;
    }
    if (eat("map[string]")) {
      t.kind = GoType::Kind::Map;
      t.elem.push_back(type(depth + 1));
      t.spelling = "map[string]" + t.elem[0].spelling;
      return t;
    }
    if (eat("{")) {
      t.kind = GoType::Kind::Struct;
      t.spelling = "struct";
      while (!eat("}")) {
        space();
        const std::size_t field_at = i_;
        std::string field = name();
        if (field.empty()) {
          if (i_ >= text_.size()) throw GoTypeError{"expected a field name or '}'", i_};
          throw GoTypeError{"expected a field name or '}', found " + describe_char(text_[i_]), i_};
        }
        for (const auto& f : t.fields)
          if (f.first == field) throw GoTypeError{"field '" + field + "' declared twice", field_at};
        if (!eat(":")) throw GoTypeError{"expected ':' after the field name", i_};
        t.fields.push_back(GoField{std::move(field), type(depth + 1)});
        if (eat(",")) continue;
        if (!eat("}")) throw GoTypeError{"expected ',' or '}' after a field", i_};
        break;
      }
      return t;
    }
    const std::string word = name();
    static const std::pair<const char*, std::pair<GoType::Kind, int>> kScalars[] = {
        {"string", {GoType::Kind::String, 0}},  {"bool", {GoType::Kind::Bool, 0}},
        {"int", {GoType::Kind::Int, 64}},       {"int8", {GoType::Kind::Int, 8}},
        {"int16", {GoType::Kind::Int, 16}},     {"int32", {GoType::Kind::Int, 32}},
        {"int64", {GoType::Kind::Int, 64}},     {"uint", {GoType::Kind::Uint, 64}},
        {"uint8", {GoType::Kind::Uint, 8}},     {"uint16", {GoType::Kind::Uint, 16}},
        {"uint32", {GoType::Kind::Uint, 32}},   {"uint64", {GoType::Kind::Uint, 64}},
        {"float32", {GoType::Kind::Float, 32}}, {"float64", {GoType::Kind::Float, 64}},
        {"any", {GoType::Kind::Any, 0}}};
    for (const auto& [spelling, kind_bits] : kScalars) {
      if (word == spelling) {
        t.kind = kind_bits.first;
        t.bits = kind_bits.second;
        t.spelling = spelling;
        return t;
      }
    }
    if (word.empty()) {
      if (at >= text_.size()) throw GoTypeError{"expected a type", at};
      throw GoTypeError{"expected a type, found " + describe_char(text_[at]), at};
    }
    throw GoTypeError{"unknown type '" + word + "'", at};
  }

  std::string_view text_;
  std::size_t i_ = 0;
};

using ordered = nlohmann::ordered_json;

// Go's case folding of struct keys for ASCII field names: ASCII letters fold to lower
// case, and so do the two non-ASCII letters whose folds reach ASCII (KELVIN SIGN to 'k',
// LATIN SMALL LETTER LONG S to 's').
std::string fold(std::string_view key) {
  std::string out;
  for (std::size_t i = 0; i < key.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    if (c == 0xE2 && key.substr(i, 3) == "\xE2\x84\xAA") {
      out += 'k';
      i += 2;
    } else if (c == 0xC5 && key.substr(i, 2) == "\xC5\xBF") {
      out += 's';
      i += 1;
    } else {
      out += static_cast<char>(c < 0x80 ? std::tolower(c) : c);
    }
  }
  return out;
}

json zero_value(const GoType& t) {
  switch (t.kind) {
    case GoType::Kind::String:
      return "";
    case GoType::Kind::Bool:
      return false;
    case GoType::Kind::Int:
    case GoType::Kind::Uint:
    case GoType::Kind::Float:
      return 0;
    case GoType::Kind::Any:
      return nullptr;
    case GoType::Kind::Slice:
      return json::array();
    case GoType::Kind::Map:
      return json::object();
    case GoType::Kind::Struct: {
      json out = json::object();
      for (const auto& [name, type] : t.fields) out[name] = zero_value(type);
      return out;
    }
  }
  return nullptr;
}

const char* json_kind(const ordered& v) {
  switch (v.type()) {
    case ordered::value_t::string:
      return "a string";
    case ordered::value_t::boolean:
      return "a boolean";
    case ordered::value_t::object:
      return "an object";
    case ordered::value_t::array:
      return "an array";
    default:
      return "a number";
  }
}

struct DecodeError {
  std::string message;
};

class GoDecoder {
 public:
  void decode(const ordered& v, const GoType& t, json& target) {
    if (v.is_null()) {  // null sets slices, maps and interfaces to nil, and leaves the rest
      if (t.kind == GoType::Kind::Slice || t.kind == GoType::Kind::Map || t.kind == GoType::Kind::Any)
        target = zero_value(t);
      return;
    }
    switch (t.kind) {
      case GoType::Kind::String:
        if (!v.is_string()) wrong(v, t);
        target = v.get<std::string>();
        return;
      case GoType::Kind::Bool:
        if (!v.is_boolean()) wrong(v, t);
        target = v.get<bool>();
        return;
      case GoType::Kind::Int: {
        // Go parses the number's text as an integer: 8443.0 and 1e3 are not ints.
        if (v.is_number_float()) not_integer(v, t);
        if (!v.is_number_integer()) wrong(v, t);
        const std::int64_t max =
            t.bits == 64 ? std::numeric_limits<std::int64_t>::max() : (std::int64_t{1} << (t.bits - 1)) - 1;
        const std::int64_t min = -max - 1;
        const bool fits = v.is_number_unsigned()
                              ? v.get<std::uint64_t>() <= static_cast<std::uint64_t>(max)
                              : v.get<std::int64_t>() >= min && v.get<std::int64_t>() <= max;
        if (!fits) out_of_range(v, t);
        target = v.is_number_unsigned() ? json(v.get<std::uint64_t>()) : json(v.get<std::int64_t>());
        return;
      }
      case GoType::Kind::Uint: {
        if (v.is_number_float()) not_integer(v, t);
        if (!v.is_number_integer()) wrong(v, t);
        if (!v.is_number_unsigned() ||
            (t.bits < 64 && v.get<std::uint64_t>() > (std::uint64_t{1} << t.bits) - 1))
          out_of_range(v, t);
        target = v.get<std::uint64_t>();
        return;
      }
      case GoType::Kind::Float:
        if (!v.is_number()) wrong(v, t);
        if (t.bits == 32 &&
            std::abs(v.get<double>()) > static_cast<double>(std::numeric_limits<float>::max()))
          out_of_range(v, t);
        target = json::parse(v.dump());
        return;
      case GoType::Kind::Any:
        target = json::parse(v.dump());
        return;
      case GoType::Kind::Slice: {
        if (!v.is_array()) wrong(v, t);
        json out = json::array();
        std::size_t index = 0;
        for (const ordered& element : v) {
          json item = zero_value(t.elem[0]);
          where_.push_back("[" + std::to_string(index++) + "]");
          decode(element, t.elem[0], item);
          where_.pop_back();
          out.push_back(std::move(item));
        }
        target = std::move(out);
        return;
      }
      case GoType::Kind::Map: {
        if (!v.is_object()) wrong(v, t);
        if (!target.is_object()) target = json::object();
        for (const auto& [key, value] : v.items()) {
          json item = zero_value(t.elem[0]);
          where_.push_back(member(key));
          decode(value, t.elem[0], item);
          where_.pop_back();
          target[key] = std::move(item);
        }
        return;
      }
      case GoType::Kind::Struct: {
        if (!v.is_object()) wrong(v, t);
        if (!target.is_object()) target = zero_value(t);
        for (const auto& [key, value] : v.items()) {
          const GoField* field = nullptr;
          for (const auto& f : t.fields)
            if (f.first == key) field = &f;
          if (!field) {
            const std::string folded = fold(key);
            for (const auto& f : t.fields)
              if (fold(f.first) == folded) field = &f;
          }
          if (!field) continue;  // unknown keys are skipped
          where_.push_back(member(field->first));
          decode(value, field->second, target[field->first]);
          where_.pop_back();
        }
        return;
      }
    }
  }

 private:
  static std::string member(const std::string& key) {
    for (char c : key)
      if (!is_name_char(static_cast<unsigned char>(c))) return "[" + json(key).dump() + "]";
    return "." + key;
  }
  std::string where() const {
    std::string out;
    for (const auto& w : where_) out += w;
    return out.empty() ? "." : out;
  }
  [[noreturn]] void wrong(const ordered& v, const GoType& t) const {
    throw DecodeError{where() + ": " + json_kind(v) + " where " +
                      (t.kind == GoType::Kind::Struct ? std::string("an object") : t.spelling) +
                      " is wanted"};
  }
  [[noreturn]] void not_integer(const ordered& v, const GoType& t) const {
    throw DecodeError{where() + ": the number " + v.dump() + " is not an integer (" + t.spelling +
                      " is wanted)"};
  }
  [[noreturn]] void out_of_range(const ordered& v, const GoType& t) const {
    throw DecodeError{where() + ": the number " + v.dump() + " does not fit in " + t.spelling};
  }

  std::vector<std::string> where_;
};

}  // namespace

bool check_go_type(std::string_view type, std::string* error) {
  try {
    GoTypeParser(type).parse();
    return true;
  } catch (const GoTypeError& e) {
    if (error) *error = at_offset(e.message, e.offset);
  }
  return false;
}

bool selects_every(const Path& path) { return !path.empty() && path.front().kind == PathStep::Kind::All; }

const std::string* go_type(const Path& path) {
  for (const PathStep& step : path) {
    if (step.kind == PathStep::Kind::GoDecode) return &step.key;
    if (step.kind != PathStep::Kind::All) break;
  }
  return nullptr;
}

std::optional<nlohmann::json> go_decode(std::string_view text, std::string_view type, std::string* error) {
  GoType t;
  try {
    t = GoTypeParser(type).parse();
  } catch (const GoTypeError& e) {
    if (error) *error = "invalid Go type: " + at_offset(e.message, e.offset);
    return std::nullopt;
  }
  auto doc = parse_bounded_json<ordered>(text, error);
  if (!doc) return std::nullopt;
  try {
    json out = zero_value(t);
    GoDecoder().decode(*doc, t, out);
    return out;
  } catch (const DecodeError& e) {
    if (error) *error = e.message;
  } catch (const std::bad_alloc&) {
    if (error) *error = "out of memory";
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// YAML: yaml-cpp's event parser feeds a builder that counts every node (an alias counts
// every node of what it refers to) and checks depth before anything is built.

namespace {

std::string mark_prefix(const YAML::Mark& mark) {
  if (mark.is_null()) return "";
  return "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1) + ": ";
}

struct YamlLimit {
  YAML::Mark mark;
  std::string message;
};

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Canonical decimal integers (`8443`, `-1`) become numbers; `0123`, `+1`, `1_000` and
// floats stay strings, so their text is kept exactly as written.
std::optional<json> as_integer(const std::string& s) {
  std::string_view digits = s;
  bool negative = false;
  if (!digits.empty() && digits.front() == '-') {
    negative = true;
    digits.remove_prefix(1);
  }
  if (!all_digits(digits) || (digits.size() > 1 && digits.front() == '0')) return std::nullopt;
  if (negative) {
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
    return json(v);
  }
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  if (v <= static_cast<std::uint64_t>(INT64_MAX)) return json(static_cast<std::int64_t>(v));
  return json(v);
}

std::optional<json> as_bool(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") return json(true);
  if (s == "false" || s == "False" || s == "FALSE") return json(false);
  return std::nullopt;
}

bool tag_is(const std::string& tag, const char* core) {
  return tag == std::string("tag:yaml.org,2002:") + core || tag == std::string("!!") + core;
}

// Builds the document from parser events. Aliases to collections are not copied while
// parsing: they leave a placeholder (a JSON binary value, which YAML never produces) and
// only count the nodes they stand for. Once the whole document is known to be within
// the bounds, expand() replaces the placeholders, so a billion laughs fails after
// building just its small unexpanded form.
class JsonBuilder final : public YAML::EventHandler {
 public:
  bool has_root() const { return has_root_; }

  json take_root() {
    expand(root_);
    return std::move(root_);
  }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    count(mark, 1);
    complete(mark, json(nullptr), Size{}, anchor, "null");
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) throw YamlLimit{mark, "alias refers to a node that contains it"};
    const Anchored& a = it->second;
    if (stack_.size() + a.size.height > kMaxDepth) throw YamlLimit{mark, too_deep()};
    count(mark, a.size.nodes);
    if (a.value.is_primitive()) {
      complete(mark, a.value, a.size, 0, a.scalar_text);
    } else {
      json placeholder = json::binary({}, static_cast<std::uint64_t>(anchor));
      complete(mark, std::move(placeholder), Size{a.size.nodes, 1, a.size.height}, 0, "");
    }
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    count(mark, 1);
    json v;
    if (tag == "?") {  // plain scalar: resolve like YAML 1.2's core schema, conservatively
      if (auto b = as_bool(value)) {
        v = std::move(*b);
      } else if (auto i = as_integer(value)) {
        v = std::move(*i);
      } else {
        v = value;
      }
    } else if (tag_is(tag, "int")) {
      auto i = as_integer(value);
      v = i ? std::move(*i) : json(value);
    } else if (tag_is(tag, "bool")) {
      auto b = as_bool(value);
      v = b ? std::move(*b) : json(value);
    } else if (tag_is(tag, "null")) {
      v = nullptr;
    } else {
      v = value;  // quoted ("!"), !!str, !!float and anything else: text as written
    }
    complete(mark, std::move(v), Size{}, anchor, value);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, json::array(), anchor);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, json::object(), anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Size {
    std::size_t nodes = 1;   // once aliases are expanded
    std::size_t stored = 1;  // as built, aliases being placeholders
    std::size_t height = 0;  // nesting levels below the node
  };
  struct Frame {
    json value;
    YAML::anchor_t anchor = 0;
    std::size_t first_node = 0;    // nodes_ before this collection
    std::size_t first_stored = 0;  // stored_ before this collection
    std::size_t height = 1;
    bool have_key = false;
    std::string key;
    YAML::Mark mark;
  };
  struct Anchored {
    json value;  // may contain placeholders
    Size size;
    std::string scalar_text;
  };

  void count(const YAML::Mark& mark, std::size_t n) {
    if (n > kMaxNodes - nodes_) throw YamlLimit{mark, too_many_nodes()};
    nodes_ += n;
  }

  void open(const YAML::Mark& mark, json value, YAML::anchor_t anchor) {
    if (stack_.size() + 1 > kMaxDepth) throw YamlLimit{mark, too_deep()};
    Frame frame;
    frame.first_node = nodes_;
    frame.first_stored = stored_;
    count(mark, 1);
    frame.value = std::move(value);
    frame.anchor = anchor;
    frame.mark = mark;
    stack_.push_back(std::move(frame));
  }

  void close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    if (frame.have_key) frame.value[frame.key] = nullptr;  // cannot happen with yaml-cpp
    // complete() adds the whole collection (its children and itself) back to stored_.
    Size size{nodes_ - frame.first_node, stored_ - frame.first_stored + 1, frame.height};
    stored_ = frame.first_stored;
    complete(frame.mark, std::move(frame.value), size, frame.anchor, "");
  }

  void complete(const YAML::Mark& mark, json value, Size size, YAML::anchor_t anchor,
                const std::string& scalar_text) {
    stored_ += size.stored;
    if (anchor != 0) {
      // Anchored values are kept as (unexpanded) copies: bounded like the document.
      if (size.stored > kMaxNodes - anchored_stored_) throw YamlLimit{mark, too_many_nodes()};
      anchored_stored_ += size.stored;
      anchors_[anchor] = Anchored{value, size, scalar_text};
    }
    if (stack_.empty()) {
      root_ = std::move(value);
      has_root_ = true;
      return;
    }
    Frame& parent = stack_.back();
    parent.height = std::max(parent.height, size.height + 1);
    if (parent.value.is_array()) {
      parent.value.push_back(std::move(value));
    } else if (!parent.have_key) {
      parent.key = key_text(value, scalar_text);
      parent.have_key = true;
    } else {
      parent.value[parent.key] = std::move(value);
      parent.have_key = false;
    }
  }

  std::string key_text(json key, const std::string& scalar_text) const {
    if (key.is_string()) return key.get<std::string>();
    if (key.is_primitive()) return scalar_text;
    expand(key);
    return key.dump(-1, ' ', false, json::error_handler_t::replace);  // complex keys
  }

  // Replaces placeholders with copies of what they refer to. The node count and depth
  // of the result were checked while parsing.
  void expand(json& value) const {
    if (value.is_binary()) {
      const Anchored& a = anchors_.at(static_cast<YAML::anchor_t>(value.get_binary().subtype()));
      value = a.value;
      expand(value);
    } else if (value.is_structured()) {
      for (auto& child : value) expand(child);
    }
  }

  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  std::size_t nodes_ = 0;   // expanded
  std::size_t stored_ = 0;  // as built
  std::size_t anchored_stored_ = 0;
  json root_;
  bool has_root_ = false;
};

// Detects a second document after the first.
class SecondDocument final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    throw YamlLimit{mark, "more than one YAML document"};
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
  }
  void OnMapEnd() override {}
};

}  // namespace

std::optional<nlohmann::json> parse_yaml(std::string_view text, std::string* error) {
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    JsonBuilder builder;
    if (!parser.HandleNextDocument(builder)) return json(nullptr);  // an empty input
    SecondDocument second;
    parser.HandleNextDocument(second);
    return builder.take_root();
  } catch (const YamlLimit& e) {
    if (error) *error = mark_prefix(e.mark) + e.message;
  } catch (const YAML::Exception& e) {
    if (error) *error = mark_prefix(e.mark) + e.msg;
  } catch (const std::bad_alloc&) {
    if (error) *error = "out of memory";
  } catch (const std::exception& e) {
    if (error) *error = e.what();
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------

std::vector<const nlohmann::json*> select(const nlohmann::json& doc, const Path& path) {
  std::vector<const json*> current{&doc};
  std::vector<const json*> next;
  for (const PathStep& step : path) {
    next.clear();
    for (const json* v : current) {
      switch (step.kind) {
        case PathStep::Kind::Member:
          if (v->is_object()) {
            auto it = v->find(step.key);
            if (it != v->end()) next.push_back(&*it);
          }
          break;
        case PathStep::Kind::Index:
          if (v->is_array() && step.index < v->size()) next.push_back(&(*v)[step.index]);
          break;
        case PathStep::Kind::Every:
          if (v->is_array() || v->is_object()) {
            for (const auto& element : *v) next.push_back(&element);
          }
          break;
        case PathStep::Kind::All:
        case PathStep::Kind::GoDecode:
          next.push_back(v);
          break;
      }
    }
    current.swap(next);
    if (current.empty()) break;
  }
  return current;
}

std::optional<std::string> scalar_text(const nlohmann::json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return value.get_ref<const std::string&>();
    case json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
      return std::to_string(value.get<std::int64_t>());
    case json::value_t::number_unsigned:
      return std::to_string(value.get<std::uint64_t>());
    case json::value_t::number_float:
      return value.dump();
    default:
      return std::nullopt;
  }
}

const nlohmann::json* lookup(const nlohmann::json& value, std::string_view dotted_keys) {
  const json* current = &value;
  if (dotted_keys.empty()) return current;
  std::size_t start = 0;
  for (;;) {
    std::size_t dot = dotted_keys.find('.', start);
    std::string_view key =
        dotted_keys.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (current->is_object()) {
      auto it = current->find(key);
      if (it == current->end()) return nullptr;
      current = &*it;
    } else if (current->is_array() && all_digits(key)) {
      std::size_t index = 0;
      auto [ptr, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
      if (ec != std::errc() || index >= current->size()) return nullptr;
      current = &(*current)[index];
    } else {
      return nullptr;
    }
    if (dot == std::string_view::npos) return current;
    start = dot + 1;
  }
}

}  // namespace lcrules::docpath
