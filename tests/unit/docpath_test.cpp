// Document paths, bounded JSON/YAML parsing, selection and scalar rendering.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/facts/docpath.hpp"

using namespace lcrules::docpath;
using json = nlohmann::json;

namespace {

Path must_parse(std::string_view text) {
  std::string error;
  auto path = parse_path(text, &error);
  INFO("path " << text << ": " << error);
  REQUIRE(path.has_value());
  return *path;
}

std::string path_error(std::string_view text) {
  std::string error;
  auto path = parse_path(text, &error);
  INFO("path " << text);
  CHECK_FALSE(path.has_value());
  return error;
}

json must_json(std::string_view text) {
  std::string error;
  auto doc = parse_json(text, &error);
  INFO(error);
  REQUIRE(doc.has_value());
  return *doc;
}

json must_yaml(std::string_view text) {
  std::string error;
  auto doc = parse_yaml(text, &error);
  INFO(error);
  REQUIRE(doc.has_value());
  return *doc;
}

std::string json_error(std::string_view text) {
  std::string error;
  CHECK_FALSE(parse_json(text, &error).has_value());
  return error;
}

std::string yaml_error(std::string_view text) {
  std::string error;
  CHECK_FALSE(parse_yaml(text, &error).has_value());
  return error;
}

std::vector<std::string> texts(const json& doc, std::string_view path) {
  std::vector<std::string> out;
  for (const json* v : select(doc, must_parse(path))) out.push_back(scalar_text(*v).value_or("<none>"));
  return out;
}

std::string nested(std::size_t depth, const char* open, const char* close) {
  std::string s;
  for (std::size_t i = 0; i < depth; ++i) s += open;
  for (std::size_t i = 0; i < depth; ++i) s += close;
  return s;
}

}  // namespace

TEST_CASE("paths parse", "[docpath]") {
  CHECK(must_parse(".").empty());

  Path p = must_parse(".valid[].Config.Nodes[]");
  REQUIRE(p.size() == 5);
  CHECK(p[0].kind == PathStep::Kind::Member);
  CHECK(p[0].key == "valid");
  CHECK(p[1].kind == PathStep::Kind::Every);
  CHECK(p[2].key == "Config");
  CHECK(p[3].key == "Nodes");
  CHECK(p[4].kind == PathStep::Kind::Every);

  Path index = must_parse("[0]");
  REQUIRE(index.size() == 1);
  CHECK(index[0].kind == PathStep::Kind::Index);
  CHECK(index[0].index == 0);

  Path quoted = must_parse(R"(.["key.with.dots"].x[12])");
  REQUIRE(quoted.size() == 3);
  CHECK(quoted[0].kind == PathStep::Kind::Member);
  CHECK(quoted[0].key == "key.with.dots");
  CHECK(quoted[1].key == "x");
  CHECK(quoted[2].index == 12);

  Path bare = must_parse(R"(["a b"][][3])");
  REQUIRE(bare.size() == 3);
  CHECK(bare[0].key == "a b");
  CHECK(bare[1].kind == PathStep::Kind::Every);

  Path escaped = must_parse(R"(.["say \"hi\"\\"])");
  REQUIRE(escaped.size() == 1);
  CHECK(escaped[0].key == "say \"hi\"\\");

  CHECK(must_parse(".kube-system.some_name2")[0].key == "kube-system");
  CHECK(must_parse(".[]")[0].kind == PathStep::Kind::Every);
}

TEST_CASE("path errors say what and where", "[docpath]") {
  CHECK(path_error(".a.") == "expected a member name after '.' at offset 3");
  CHECK(path_error("") == "empty path (use '.' for the whole document) at offset 0");
  CHECK(path_error("a.b") == "a path starts with '.' or '[', found 'a' at offset 0");
  CHECK(path_error("..a") == "expected a member name after '.' at offset 1");
  CHECK_THAT(path_error(".a[1"), Catch::Contains("expected ']'") && Catch::Contains("offset 4"));
  CHECK_THAT(path_error(".a[-1]"), Catch::Contains("offset 3"));
  CHECK_THAT(path_error(".a[x]"), Catch::Contains("found 'x' at offset 3"));
  CHECK(path_error(R"(.["open)") == "unterminated quoted name at offset 2");
  CHECK_THAT(path_error(R"(.["k"x)"), Catch::Contains("expected ']' after the quoted name at offset 5"));
  CHECK_THAT(path_error(".a b"), Catch::Contains("found ' ' at offset 2"));
  CHECK_THAT(path_error(".a.$x"), Catch::Contains("quote unusual names"));
  CHECK_THAT(path_error(".a[99999999999999999999999]"), Catch::Contains("too large"));
  std::string ignored;
  CHECK_FALSE(parse_path(".a.", nullptr).has_value());  // a null error pointer is fine
  (void)ignored;
}

TEST_CASE("select walks members, indexes and every element", "[docpath]") {
  json doc = must_json(R"({
    "valid": [
      {"Name": "minikube", "Config": {"Nodes": [{"IP": "192.168.49.2", "Port": 8443}, {"IP": "192.168.49.3", "Port": 8443}]}},
      {"Name": "other", "Config": {"Nodes": []}},
      {"Name": "broken"},
      "not an object"
    ],
    "key.with.dots": true,
    "map": {"a": 1, "b": 2}
  })");
  CHECK(texts(doc, ".valid[].Name") == std::vector<std::string>{"minikube", "other", "broken"});
  CHECK(texts(doc, ".valid[].Config.Nodes[].IP") == std::vector<std::string>{"192.168.49.2", "192.168.49.3"});
  CHECK(texts(doc, ".valid[0].Config.Nodes[1].Port") == std::vector<std::string>{"8443"});
  CHECK(texts(doc, R"(.["key.with.dots"])") == std::vector<std::string>{"true"});
  CHECK(texts(doc, ".map[]") == std::vector<std::string>{"1", "2"});
  CHECK(select(doc, must_parse(".valid[9]")).empty());
  CHECK(select(doc, must_parse(".missing.deeper")).empty());
  CHECK(select(doc, must_parse(".valid.Name")).empty());  // wrong type selects nothing
  CHECK(select(doc, must_parse(".map[0]")).empty());
  auto whole = select(doc, must_parse("."));
  REQUIRE(whole.size() == 1);
  CHECK(whole[0] == &doc);
}

TEST_CASE("scalar_text renders scalars as JSON writes them", "[docpath]") {
  CHECK(scalar_text(json("text")) == "text");
  CHECK(scalar_text(json(8443)) == "8443");
  CHECK(scalar_text(json(-5)) == "-5");
  CHECK(scalar_text(json(18446744073709551615ULL)) == "18446744073709551615");
  CHECK(scalar_text(json(1.5)) == "1.5");
  CHECK(scalar_text(json(true)) == "true");
  CHECK(scalar_text(json(false)) == "false");
  CHECK_FALSE(scalar_text(json(nullptr)).has_value());
  CHECK_FALSE(scalar_text(json::object()).has_value());
  CHECK_FALSE(scalar_text(json::array()).has_value());
  CHECK(scalar_text(must_json("[8443, 2.50, 1e3]")[0]) == "8443");
}

TEST_CASE("lookup follows dotted keys", "[docpath]") {
  json node = must_json(R"({"IP": "10.0.0.1", "Config": {"Name": "m", "Ports": [1, 2]}})");
  CHECK(lookup(node, "") == &node);
  REQUIRE(lookup(node, "IP") != nullptr);
  CHECK(*lookup(node, "IP") == "10.0.0.1");
  REQUIRE(lookup(node, "Config.Name") != nullptr);
  CHECK(*lookup(node, "Config.Name") == "m");
  CHECK(lookup(node, "Config.Missing") == nullptr);
  CHECK(lookup(node, "IP.deeper") == nullptr);
  REQUIRE(lookup(node, "Config.Ports.1") != nullptr);
  CHECK(*lookup(node, "Config.Ports.1") == 2);
  CHECK(lookup(node, "Config.Ports.7") == nullptr);
}

TEST_CASE("JSON errors carry line and column", "[docpath]") {
  std::string e = json_error("{\"a\": tru,\n}");
  CHECK_THAT(e, Catch::StartsWith("line 1, column "));
  CHECK(e.find("json.exception") == std::string::npos);
  CHECK_THAT(json_error("{\"a\": 1,\n \"b\" 2}"), Catch::StartsWith("line 2, column "));
  CHECK_THAT(json_error(""), Catch::StartsWith("line 1, column 1: "));
  CHECK_THAT(json_error("[1] trailing"), Catch::StartsWith("line 1, column "));
}

TEST_CASE("JSON nesting and size are bounded", "[docpath]") {
  must_json(nested(kMaxDepth, "[", "]"));
  CHECK_THAT(json_error(nested(kMaxDepth + 1, "[", "]")), Catch::Contains("nesting deeper than 64"));
  CHECK_THAT(json_error(nested(100000, "{\"a\":", "}")), Catch::Contains("nesting deeper than 64"));

  std::string many = "[";
  for (std::size_t i = 0; i < kMaxNodes; ++i) many += "0,";
  many += "0]";
  CHECK_THAT(json_error(many), Catch::Contains("too many nodes"));
}

TEST_CASE("YAML converts to JSON values", "[docpath]") {
  json doc = must_yaml(R"(
valid:
  - Name: minikube
    Config:
      Nodes:
        - IP: 192.168.49.2
          Port: 8443
          ControlPlane: true
quoted: "8443"
zero_padded: 0123
version: 1.20
nothing: ~
empty:
big: 18446744073709551615
negative: -12
yes_stays_text: yes
flow: {a: [1, "two", null]}
8080: port key
)");
  CHECK(texts(doc, ".valid[].Config.Nodes[].Port") == std::vector<std::string>{"8443"});
  CHECK(doc["valid"][0]["Config"]["Nodes"][0]["Port"].is_number_integer());
  CHECK(doc["valid"][0]["Config"]["Nodes"][0]["ControlPlane"] == true);
  CHECK(doc["quoted"] == "8443");
  CHECK(doc["zero_padded"] == "0123");
  CHECK(doc["version"] == "1.20");  // kept as written
  CHECK(doc["nothing"].is_null());
  CHECK(doc["empty"].is_null());
  CHECK(doc["big"].is_number_unsigned());
  CHECK(doc["negative"] == -12);
  CHECK(doc["yes_stays_text"] == "yes");
  CHECK(doc["flow"]["a"] == json::array({1, "two", nullptr}));
  CHECK(doc["8080"] == "port key");

  CHECK(must_yaml("").is_null());
  CHECK(must_yaml("just text") == "just text");
  json anchors = must_yaml("base: &b {x: 1}\ncopy: *b\n");
  CHECK(anchors["copy"] == anchors["base"]);
}

TEST_CASE("YAML errors carry line and column", "[docpath]") {
  CHECK_THAT(yaml_error("a: [1, 2\nb: 3\n"), Catch::StartsWith("line "));
  CHECK_THAT(yaml_error("a: b\n  c: d\n"), Catch::StartsWith("line 2, column "));
  CHECK_THAT(yaml_error("a: *undefined\n"), Catch::StartsWith("line 1, column "));
  CHECK_THAT(yaml_error("a: 'x' y\n"), Catch::StartsWith("line 1, column "));
  CHECK_THAT(yaml_error("\"a\\qb\""), Catch::Contains("unknown escape"));
  CHECK(yaml_error("- a\nb: c\n") == "line 2, column 1: more than one YAML document");
  CHECK(yaml_error("a: 1\n---\nb: 2\n") == "line 2, column 1: more than one YAML document");
}

TEST_CASE("YAML nesting is bounded", "[docpath]") {
  must_yaml(nested(kMaxDepth, "[", "]"));
  CHECK_THAT(yaml_error(nested(kMaxDepth + 1, "[", "]")), Catch::Contains("nesting deeper than 64"));
  // Far beyond yaml-cpp's own recursion guard: still a clean error, no crash.
  CHECK_THAT(yaml_error(std::string(100000, '[')), Catch::Contains("nesting deeper than 64"));
  std::string block;
  for (std::size_t i = 0; i < 100; ++i) block += std::string(i * 2, ' ') + "k:\n";
  CHECK_THAT(yaml_error(block), Catch::Contains("nesting deeper than 64"));
  // An alias that would nest too deep where it is used.
  std::string deep_anchor =
      "a: &x " + nested(60, "[", "]") + "\nb: " + nested(10, "[", "") + "*x" + std::string(10, ']') + "\n";
  CHECK_THAT(yaml_error(deep_anchor), Catch::Contains("nesting deeper than 64"));
}

TEST_CASE("YAML alias expansion is bounded: a billion laughs fails fast", "[docpath]") {
  std::string doc = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  const char* names = "abcdefghij";
  for (int i = 1; i < 10; ++i) {
    doc += std::string(1, names[i]) + ": &" + names[i] + " [";
    for (int j = 0; j < 9; ++j) doc += std::string(j ? "," : "") + "*" + names[i - 1];
    doc += "]\n";
  }
  std::string e = yaml_error(doc);
  CHECK_THAT(e, Catch::Contains("too many nodes"));
  CHECK_THAT(e, Catch::StartsWith("line "));

  // The same shape within the bound expands fully.
  std::string small = "a: &a [1, [2, 3]]\nb: &b [*a, *a, *a]\nc: &c {x: *b, y: *b}\nd: [*c, *c]\n";
  json doc_small = must_yaml(small);
  json a = json::array({1, json::array({2, 3})});
  json b = json::array({a, a, a});
  json c = {{"x", b}, {"y", b}};
  CHECK(doc_small["d"] == json::array({c, c}));
  CHECK(doc_small["c"] == c);
}

// --- `every` and `go(TYPE)` ----------------------------------------------------------------

namespace {

json must_decode(std::string_view text, std::string_view type) {
  std::string error;
  auto doc = go_decode(text, type, &error);
  INFO("decode " << text << " as " << type << ": " << error);
  REQUIRE(doc.has_value());
  return *doc;
}

std::string decode_error(std::string_view text, std::string_view type) {
  std::string error;
  INFO("decode " << text << " as " << type);
  CHECK_FALSE(go_decode(text, type, &error).has_value());
  return error;
}

constexpr std::string_view kProfiles =
    "{valid: []{Config: {Name: string, Driver: string, Nodes: []{IP: string, Port: int32}}},"
    " invalid: []{Config: {Name: string, Driver: string, Nodes: []{IP: string, Port: int32}}}}";

}  // namespace

TEST_CASE("path prefixes: every and go(TYPE)", "[docpath]") {
  Path every = must_parse("every .minikubeVersion");
  REQUIRE(every.size() == 2);
  CHECK(every[0].kind == PathStep::Kind::All);
  CHECK(every[1].key == "minikubeVersion");
  CHECK(selects_every(every));
  CHECK(go_type(every) == nullptr);

  Path go = must_parse("go(map[string]string).minikubeVersion");
  REQUIRE(go.size() == 2);
  CHECK(go[0].kind == PathStep::Kind::GoDecode);
  REQUIRE(go_type(go) != nullptr);
  CHECK(*go_type(go) == "map[string]string");
  CHECK_FALSE(selects_every(go));

  Path both = must_parse("every go( {a: []{b: int32}} )");
  REQUIRE(both.size() == 2);
  CHECK(selects_every(both));
  CHECK(*go_type(both) == " {a: []{b: int32}} ");
  CHECK(must_parse("go(string).").size() == 1);
  CHECK_FALSE(selects_every(must_parse(".every")));

  // Plain select() passes over the prefixes.
  json doc = must_json(R"({"a": 1})");
  CHECK(texts(doc, "every .a") == std::vector<std::string>{"1"});

  CHECK(path_error("every") == "expected a path after 'every' at offset 5");
  CHECK(path_error("every   ") == "expected a path after 'every' at offset 8");
  CHECK(path_error("go(string") == "expected ')' after the Go type at offset 9");
  CHECK(path_error("go(strin).a") == "invalid Go type: unknown type 'strin' at offset 3");
  CHECK(path_error("go({a int}).a") == "invalid Go type: expected ':' after the field name at offset 6");
  CHECK(path_error("go({a: int, a: string})") == "invalid Go type: field 'a' declared twice at offset 12");
  CHECK(path_error("go([]).a") == "invalid Go type: expected a type at offset 5");
  CHECK(path_error("go(int int)") == "invalid Go type: unexpected 'i' after the type at offset 7");
  CHECK(path_error("go(int)x") == "a path starts with '.' or '[', found 'x' at offset 7");
  CHECK(path_error("go map[string]string") == "a path starts with '.' or '[', found 'g' at offset 0");
  std::string error;
  CHECK(check_go_type(kProfiles, &error));
  CHECK_FALSE(check_go_type("map[int]string", &error));
}

TEST_CASE("go_decode matches struct keys as Go does", "[docpath]") {
  const std::string_view node = "{IP: string, Port: int32}";
  // Exact, then case-insensitive; the result spells fields as the type does.
  CHECK(must_decode(R"({"ip": "a", "PORT": 1})", node) == json({{"IP", "a"}, {"Port", 1}}));
  CHECK(must_decode(R"({"iP": "a"})", node) == json({{"IP", "a"}, {"Port", 0}}));  // zero values
  // Go's folding also maps U+017F (long s) to s and U+212A (Kelvin) to k.
  CHECK(must_decode("{\"Node\xC5\xBF\": [1]}", "{Nodes: []int}") == json({{"Nodes", {1}}}));
  CHECK(must_decode("{\"\xE2\x84\xAA\": true}", "{k: bool}") == json({{"k", true}}));
  // The later of two spellings wins, in document order.
  CHECK(must_decode(R"({"IP": "a", "ip": "b"})", node)["IP"] == "b");
  CHECK(must_decode(R"({"ip": "b", "IP": "a"})", node)["IP"] == "a");
  // Unknown keys are skipped whatever they hold.
  CHECK(must_decode(R"({"IP": "a", "Status": {"x": [1, null]}, "Port": 2})", node) ==
        json({{"IP", "a"}, {"Port", 2}}));
  // null leaves a value as it is, and empties a list or map.
  CHECK(must_decode(R"({"IP": "a", "ip": null})", node)["IP"] == "a");
  CHECK(must_decode(R"({"a": [1], "A": null})", "{a: []int}") == json({{"a", json::array()}}));
  CHECK(must_decode("null", node) == json({{"IP", ""}, {"Port", 0}}));
  CHECK(must_decode(R"([null, {"IP": "x"}])", std::string("[]") + std::string(node)) ==
        json::array({json({{"IP", ""}, {"Port", 0}}), json({{"IP", "x"}, {"Port", 0}})}));
  // A struct given twice is decoded into the same value.
  CHECK(must_decode(R"({"c": {"a": 1}, "C": {"b": 2}})", "{c: {a: int, b: int}}") ==
        json({{"c", {{"a", 1}, {"b", 2}}}}));
  // Map keys are exact.
  CHECK(must_decode(R"({"minikubeVersion": "v1", "MinikubeVersion": "v2"})", "map[string]string") ==
        json({{"minikubeVersion", "v1"}, {"MinikubeVersion", "v2"}}));
  CHECK(must_decode(R"({"a": null})", "map[string]string") == json({{"a", ""}}));
  CHECK(must_decode(R"({"x": [1, "a", {"b": null}]})", "{x: any}") ==
        json::parse(R"({"x": [1, "a", {"b": null}]})"));
  CHECK(must_decode("-0", "int") == json(0));
  CHECK(must_decode("1.5e3", "float64") == json(1500.0));
}

TEST_CASE("go_decode: a wrong type anywhere fails the whole document", "[docpath]") {
  CHECK(decode_error(R"({"valid": [{"Config": {"Nodes": [{"IP": "a", "Port": "8443"}]}}]})", kProfiles) ==
        ".valid[0].Config.Nodes[0].Port: a string where int32 is wanted");
  CHECK(decode_error(R"({"valid": [], "invalid": [{"config": {"nodes": [{"ip": 5}]}}]})", kProfiles) ==
        ".invalid[0].Config.Nodes[0].IP: a number where string is wanted");
  CHECK(decode_error(R"({"valid": {}})", kProfiles) == ".valid: an object where []struct is wanted");
  CHECK(decode_error(R"([])", kProfiles) == ".: an array where an object is wanted");
  CHECK(decode_error(R"({"a": 1, "b": true})", "map[string]string") == ".a: a number where string is wanted");
  CHECK(decode_error(R"({"a b": 1})", "map[string]string") == R"(["a b"]: a number where string is wanted)");
  // Integers: the number's text must be an integer that fits.
  CHECK(decode_error("8443.0", "int32") == ".: the number 8443.0 is not an integer (int32 is wanted)");
  CHECK(decode_error("1e3", "uint") == ".: the number 1000.0 is not an integer (uint is wanted)");
  CHECK(decode_error("2147483648", "int32") == ".: the number 2147483648 does not fit in int32");
  CHECK(must_decode("2147483647", "int32") == json(2147483647));
  CHECK(must_decode("-2147483648", "int32") == json(-2147483648LL));
  CHECK(decode_error("-2147483649", "int32") == ".: the number -2147483649 does not fit in int32");
  CHECK(decode_error("9223372036854775808", "int64") ==
        ".: the number 9223372036854775808 does not fit in int64");
  CHECK(decode_error("-1", "uint") == ".: the number -1 does not fit in uint");
  CHECK(decode_error("256", "uint8") == ".: the number 256 does not fit in uint8");
  CHECK(must_decode("18446744073709551615", "uint64") == json(18446744073709551615ULL));
  CHECK(decode_error("1e39", "float32") == ".: the number 1e+39 does not fit in float32");
  CHECK(decode_error(R"("1")", "bool") == ".: a string where bool is wanted");
  // Not JSON at all.
  CHECK_THAT(decode_error(R"({"a": )", "any"), Catch::Contains("line 1, column 7"));
  CHECK_THAT(decode_error(nested(100, "[", "]"), "any"), Catch::Contains("nesting deeper than 64"));
  CHECK_THAT(decode_error("1", "nonsense"), Catch::StartsWith("invalid Go type: unknown type 'nonsense'"));
}
