// Structured command output: bounded JSON and YAML parsing into nlohmann::json, paths.
#include "engine/docpath.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <map>
#include <sstream>

namespace lcrules::docpath {

namespace {

using json = nlohmann::json;

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
  auto fail = [&](std::string msg, std::size_t at) -> std::optional<Path> {
    if (error) *error = at_offset(std::move(msg), at);
    return std::nullopt;
  };
  if (text.empty()) return fail("empty path (use '.' for the whole document)", 0);
  if (text == ".") return Path{};
  if (text[0] != '.' && text[0] != '[') {
    return fail("a path starts with '.' or '[', found " + describe_char(text[0]), 0);
  }
  Path path;
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '.') {
      ++i;
      if (i < text.size() && text[i] == '[') continue;  // `.[...]`, as in jq
      std::size_t start = i;
      while (i < text.size() && is_name_char(static_cast<unsigned char>(text[i]))) ++i;
      if (i == start) {
        if (i < text.size() && text[i] != '.') {
          return fail("expected a member name after '.', found " + describe_char(text[i]) +
                          " (quote unusual names: .[\"name\"])",
                      i);
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
      return fail("expected '.' or '[', found " + describe_char(c) + " (quote unusual names: .[\"name\"])",
                  i);
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

}  // namespace

std::optional<nlohmann::json> parse_json(std::string_view text, std::string* error) {
  std::size_t nodes = 0;
  auto callback = [&nodes](int depth, json::parse_event_t event, json&) -> bool {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (static_cast<std::size_t>(depth) + 1 > kMaxDepth) throw LimitExceeded{too_deep()};
        [[fallthrough]];
      case json::parse_event_t::value:
        if (++nodes > kMaxNodes) throw LimitExceeded{too_many_nodes()};
        break;
      default:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true);
  } catch (const LimitExceeded& e) {
    if (error) *error = e.message;
  } catch (const json::exception& e) {
    if (error) *error = readable_json_error(e.what());
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

class JsonBuilder final : public YAML::EventHandler {
 public:
  bool has_root() const { return has_root_; }
  json take_root() { return std::move(root_); }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    count(mark, 1);
    complete(mark, json(nullptr), 0, anchor, "null");
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) throw YamlLimit{mark, "alias refers to a node that contains it"};
    const Anchored& a = it->second;
    if (stack_.size() + a.height > kMaxDepth) throw YamlLimit{mark, too_deep()};
    count(mark, a.nodes);  // before the copy: an expansion never exceeds the bound
    complete(mark, a.value, a.height, 0, a.scalar_text);
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
    complete(mark, std::move(v), 0, anchor, value);
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
  struct Frame {
    json value;
    YAML::anchor_t anchor = 0;
    std::size_t first_node = 0;  // node count before this container
    std::size_t height = 1;
    bool have_key = false;
    std::string key;
    YAML::Mark mark;
  };
  struct Anchored {
    json value;
    std::size_t nodes = 1;
    std::size_t height = 0;
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
    complete(frame.mark, std::move(frame.value), frame.height, frame.anchor, "", nodes_ - frame.first_node);
  }

  void complete(const YAML::Mark& mark, json value, std::size_t height, YAML::anchor_t anchor,
                const std::string& scalar_text, std::size_t nodes = 1) {
    if (anchor != 0) {
      // Anchored values are kept as copies; their total size is bounded too.
      if (nodes > kMaxNodes - anchored_nodes_) throw YamlLimit{mark, too_many_nodes()};
      anchored_nodes_ += nodes;
      anchors_[anchor] = Anchored{value, nodes, height, scalar_text};
    }
    if (stack_.empty()) {
      root_ = std::move(value);
      has_root_ = true;
      return;
    }
    Frame& parent = stack_.back();
    parent.height = std::max(parent.height, height + 1);
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

  static std::string key_text(const json& key, const std::string& scalar_text) {
    if (key.is_string()) return key.get<std::string>();
    if (key.is_primitive()) return scalar_text;
    return key.dump(-1, ' ', false, json::error_handler_t::replace);  // complex keys
  }

  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  std::size_t nodes_ = 0;
  std::size_t anchored_nodes_ = 0;
  json root_;
  bool has_root_ = false;
};

}  // namespace

std::optional<nlohmann::json> parse_yaml(std::string_view text, std::string* error) {
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    JsonBuilder builder;
    parser.HandleNextDocument(builder);  // the first document; an empty input is null
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
