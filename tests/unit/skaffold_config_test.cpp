// Skaffold's global config (~/.skaffold/config) and skaffold.yaml's build.local.push.

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/facts/skaffold_config.hpp"
#include "support.hpp"

namespace {

using lcrules::ConfigError;
using lcrules::read_skaffold_yaml_push;
using lcrules::SkaffoldGlobalConfig;
using lcrules::testing::random_bytes;
using lcrules::testing::random_yaml_punctuation;
using lcrules::testing::TempDir;
namespace fs = std::filesystem;
using Values = std::map<std::string, std::string>;

SkaffoldGlobalConfig config(const TempDir& tmp, const std::string& text) {
  return SkaffoldGlobalConfig::load(tmp.write("config", text));
}

std::string load_error(const TempDir& tmp, const std::string& text) {
  try {
    config(tmp, text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string push_error(const std::string& path) {
  try {
    read_skaffold_yaml_push(path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

// --- patterns ------------------------------------------------------------------------------------

TEST_CASE("pattern_matches: Skaffold's RegexEqual", "[skaffold-config]") {
  auto m = &SkaffoldGlobalConfig::pattern_matches;
  // Exact equality first: `^s^` is no regex that matches itself, but equality does.
  CHECK(m("^s^", "^s^"));
  CHECK(m("this_is_a_context", "this_is_a_context"));
  // Unanchored search.
  CHECK(m("kind", "my-kind-x"));
  CHECK(m(".*-i.*-am.*-test.*", "wohoo-i-am-test-or"));
  CHECK_FALSE(m(".*-i.*-am.*-test.*", "test-am-i"));
  CHECK(m("^kind-", "kind-x"));
  CHECK_FALSE(m("^kind-", "my-kind-x"));
  CHECK_FALSE(m("kind$", "kind-x"));
  CHECK_FALSE(m("other", "kind-x"));
  // Go's syntax (RE2), which shares Perl's classes and flags.
  CHECK(m("\\d{3}", "ctx-123"));
  CHECK(m("(?i)KIND", "kind-x"));
  // Negation.
  CHECK_FALSE(m("!kind", "my-kind-x"));
  CHECK(m("!kind", "minikube"));
  CHECK_FALSE(m("!minikube", "minikube"));
  CHECK(m("!^kind-", "my-kind-x"));
  // `!` strips first, then equality or search: "!x" on the context "!x" searches "x" in "!x".
  CHECK_FALSE(m("!x", "!x"));
  CHECK_FALSE(m("!!x", "!x"));  // "!x" equals the context: negated
  CHECK(m("!!x", "x"));         // "!x" neither equals nor is found in "x"
  // A pattern that does not compile matches nothing (unless equal); negated, everything.
  CHECK_FALSE(m("kind-(", "kind-x"));
  CHECK_FALSE(m("[", "x"));
  CHECK(m("[", "["));  // equality comes before compiling
  CHECK(m("!kind-(", "kind-x"));
  CHECK(m("![", "anything"));
  CHECK(m("!(?<bad", "anything"));
  // Empty matches every context; "!" alone matches none.
  CHECK(m("", "anything"));
  CHECK(m("", ""));
  CHECK_FALSE(m("!", "anything"));
}

TEST_CASE("pattern_matches: patterns are Go regular expressions (RE2)", "[skaffold-config]") {
  auto m = &SkaffoldGlobalConfig::pattern_matches;
  // Look-ahead and back-references do not compile in Go: the pattern matches nothing, and
  // negated, everything.
  CHECK_FALSE(m("^(?!prod)", "dev-1"));
  CHECK_FALSE(m("^(?!prod)", "prod-1"));
  CHECK(m("!^(?!prod)", "prod-1"));
  CHECK(m("!^(?!prod)", "dev-1"));
  CHECK_FALSE(m("kind(?=-x)", "kind-x"));
  CHECK_FALSE(m("(?<=my-)kind", "my-kind"));
  CHECK_FALSE(m("(a)\\1", "aa"));
  CHECK(m("!(a)\\1", "aa"));
  CHECK_FALSE(m("(?<n>kind)", "kind-x"));  // Go 1.22's spelling; Skaffold v1.39 predates it
  // UTF-8: `.` and classes count characters, not bytes.
  CHECK(m("^ctx-.$", "ctx-\u00e9"));  // é is two bytes, one character
  CHECK(m("^ctx-[^a]$", "ctx-\u00e9"));
  CHECK_FALSE(m("^ctx-..$", "ctx-\u00e9"));
  CHECK(m("^.{3}$", "\u65e5\u672c\u8a9e"));  // three characters, nine bytes
  CHECK_FALSE(m("^.{9}$", "\u65e5\u672c\u8a9e"));
  // Single-line: `.` does not match a newline, `^` and `$` anchor the whole string.
  CHECK_FALSE(m("a.b", "a\nb"));
  CHECK(m("(?s)a.b", "a\nb"));
  CHECK_FALSE(m("^b", "a\nb"));
  CHECK_FALSE(m("a$", "a\nb"));
  CHECK(m("(?m)^b", "a\nb"));
  CHECK(m("^kind-x$", "kind-x"));
  // Go's named groups and Unicode classes.
  CHECK(m("^(?P<tool>kind|k3d)-", "k3d-dev"));
  CHECK_FALSE(m("^(?P<tool>kind|k3d)-", "minikube"));
  CHECK(m("^\\p{Greek}+$", "\u03b1\u03b2\u03b3"));
  CHECK_FALSE(m("^\\p{Greek}+$", "abc"));
  CHECK(m("!\\p{Greek}", "abc"));
  // Linear time: a pattern that backtracks catastrophically elsewhere returns at once.
  const std::string long_name = std::string(100000, 'a') + "!";
  CHECK_FALSE(m("^(a+)+$", long_name));
  CHECK(m("!^(a+)+$", long_name));
  CHECK(m("(a+)+!$", long_name));
  CHECK_FALSE(m("^(a|aa)+$", long_name));
  CHECK(m("^(a|aa)+$", std::string(100000, 'a')));
}

// --- loading and resolving ----------------------------------------------------------------------------

TEST_CASE("Config merge: Skaffold's cases for this_is_a_context", "[skaffold-config]") {
  TempDir tmp;
  const std::string ctx = "this_is_a_context";
  SECTION("an entry with only some fields set takes the rest from global") {
    const auto cfg = config(tmp, R"(global:
  local-cluster: true
  kind-disable-load: true
  k3d-disable-load: false
kubeContexts:
- kube-context: this_is_a_context
  kind-disable-load: false
)");
    CHECK(cfg.resolve(ctx) ==
          Values{{"local-cluster", "true"}, {"kind-disable-load", "false"}, {"k3d-disable-load", "false"}});
  }
  SECTION("the entry's own values win over global") {
    const auto cfg =
        config(tmp, R"(global: {local-cluster: false, kind-disable-load: false, k3d-disable-load: false}
kubeContexts:
- {kube-context: this_is_a_context, local-cluster: true, kind-disable-load: true, k3d-disable-load: true}
)");
    CHECK(cfg.resolve(ctx) ==
          Values{{"local-cluster", "true"}, {"kind-disable-load", "true"}, {"k3d-disable-load", "true"}});
  }
  SECTION("no matching entry: all from global") {
    const auto cfg = config(tmp, R"(global: {local-cluster: true}
kubeContexts:
- {kube-context: another_context, local-cluster: false, kind-disable-load: true}
)");
    CHECK(cfg.resolve(ctx) == Values{{"local-cluster", "true"}});
  }
  SECTION("a regex kube-context") {
    const auto cfg = config(tmp, R"(global: {local-cluster: false}
kubeContexts:
- {kube-context: ".*-i.*-am.*-test.*", local-cluster: true}
)");
    CHECK(cfg.resolve("wohoo-i-am-test-or") == Values{{"local-cluster", "true"}});
    CHECK(cfg.resolve("test-am-i") == Values{{"local-cluster", "false"}});
  }
  SECTION("exact equality before the regex") {
    const auto cfg = config(tmp, "kubeContexts:\n- {kube-context: ^s^, local-cluster: true}\n");
    CHECK(cfg.resolve("^s^") == Values{{"local-cluster", "true"}});
    CHECK(cfg.resolve("s") == Values{});
  }
  SECTION("no global and no entry") { CHECK(config(tmp, "kubeContexts: []\n").resolve(ctx) == Values{}); }
}

TEST_CASE("resolve: the last matching entry wins, fields it leaves unset come from global",
          "[skaffold-config]") {
  TempDir tmp;
  const auto cfg = config(tmp, R"(global:
  local-cluster: false
  k3d-disable-load: true
kubeContexts:
- kube-context: kind
  local-cluster: true
  kind-disable-load: true
- kube-context: kind-special
  kind-disable-load: false
- kube-context: "!kind"
  local-cluster: true
)");
  // Only the first entry matches.
  CHECK(cfg.resolve("kind-x") ==
        Values{{"local-cluster", "true"}, {"kind-disable-load", "true"}, {"k3d-disable-load", "true"}});
  // The first two match; the second is last: local-cluster comes from global, not the first entry.
  CHECK(cfg.resolve("kind-special") ==
        Values{{"local-cluster", "false"}, {"kind-disable-load", "false"}, {"k3d-disable-load", "true"}});
  // Only the negated one matches.
  CHECK(cfg.resolve("minikube") == Values{{"local-cluster", "true"}, {"k3d-disable-load", "true"}});
  // An empty context: global only.
  CHECK(cfg.resolve("") == Values{{"local-cluster", "false"}, {"k3d-disable-load", "true"}});
}

TEST_CASE("resolve: an entry with an empty or missing kube-context matches every context",
          "[skaffold-config]") {
  TempDir tmp;
  CHECK(config(tmp, "kubeContexts:\n- local-cluster: true\n").resolve("anything") ==
        Values{{"local-cluster", "true"}});
  CHECK(config(tmp, "kubeContexts:\n- {kube-context: \"\", local-cluster: true}\n").resolve("x") ==
        Values{{"local-cluster", "true"}});
  CHECK(config(tmp, "kubeContexts:\n- {kube-context: ~, local-cluster: true}\n").resolve("x") ==
        Values{{"local-cluster", "true"}});
  // ... but not the empty context, which reads global only.
  CHECK(config(tmp, "global: {kind-disable-load: no}\nkubeContexts:\n- local-cluster: true\n").resolve("") ==
        Values{{"kind-disable-load", "false"}});
  // A bad pattern matches nothing; negated, everything.
  CHECK(
      config(tmp, "kubeContexts:\n- {kube-context: \"kind-(\", local-cluster: true}\n").resolve("kind-(x") ==
      Values{});
  CHECK(
      config(tmp, "kubeContexts:\n- {kube-context: \"!kind-(\", local-cluster: true}\n").resolve("kind-x") ==
      Values{{"local-cluster", "true"}});
}

TEST_CASE("booleans are read as yaml.v3 reads them into Go's bool", "[skaffold-config]") {
  TempDir tmp;
  const std::string f = tmp / "config";
  auto global = [&](const std::string& word) {
    return config(tmp, "global:\n  local-cluster: " + word + "\n");
  };
  auto in_entry = [&](const std::string& word) {
    return config(tmp, "kubeContexts:\n- kube-context: c\n  kind-disable-load: " + word + "\n");
  };
  // YAML 1.2's true/false in three spellings, plain only.
  for (const std::string word : {"true", "True", "TRUE"}) {
    INFO(word);
    CHECK(global(word).resolve("") == Values{{"local-cluster", "true"}});
  }
  for (const std::string word : {"false", "False", "FALSE"}) {
    INFO(word);
    CHECK(in_entry(word).resolve("c") == Values{{"kind-disable-load", "false"}});
  }
  // YAML 1.1's words in three spellings, plain, double- or single-quoted.
  for (const std::string word : {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON"}) {
    for (const std::string& written : {word, "\"" + word + "\"", "'" + word + "'"}) {
      INFO(written);
      CHECK(global(written).resolve("") == Values{{"local-cluster", "true"}});
    }
  }
  for (const std::string word : {"n", "N", "no", "No", "NO", "off", "Off", "OFF"}) {
    for (const std::string& written : {word, "\"" + word + "\"", "'" + word + "'"}) {
      INFO(written);
      CHECK(in_entry(written).resolve("c") == Values{{"kind-disable-load", "false"}});
    }
  }
  // Quoted true/false are strings: an error, with a hint.
  for (const std::string word : {"true", "True", "TRUE", "false", "False", "FALSE"}) {
    for (const std::string& written : {"\"" + word + "\"", "'" + word + "'"}) {
      INFO(written);
      CHECK(load_error(tmp, "global:\n  local-cluster: " + written + "\n") ==
            f + ":2:18: error: local-cluster must be a boolean, not the quoted string \"" + word +
                "\" (write " + word + " without quotes)");
    }
  }
  // Any other spelling, plain or quoted, is an error.
  for (const std::string word : {"tRuE", "fAlSe", "yEs", "nO", "oN", "oFf", "yES", "tRUE", "1", "0", "t", "f",
                                 "enabled", "\"1\"", "'tRuE'", "\"\""}) {
    INFO(word);
    std::string shown = word;
    if (shown.size() >= 2 && (shown.front() == '"' || shown.front() == '\''))
      shown = shown.substr(1, shown.size() - 2);
    CHECK(load_error(tmp, "kubeContexts:\n- kube-context: c\n  kind-disable-load: " + word + "\n") ==
          f + ":3:22: error: kind-disable-load must be a boolean (true/false, yes/no, on/off, y/n), not \"" +
              shown + "\"");
  }
  // `!!bool` is a plain boolean; `!!str` is a string.
  CHECK(global("!!bool true").resolve("") == Values{{"local-cluster", "true"}});
  CHECK(
      load_error(tmp, "global:\n  local-cluster: !!str true\n") ==
      f + ":2:18: error: local-cluster must be a boolean, not the quoted string \"true\" (write true without "
          "quotes)");
  // Null or empty leaves the field unset.
  for (const std::string word : {"", "~", "null", "Null", "NULL"}) {
    INFO(word);
    CHECK(config(tmp, "global:\n  local-cluster: " + word + "\n  k3d-disable-load: on\n").resolve("") ==
          Values{{"k3d-disable-load", "true"}});
  }
  // skaffold.yaml's build.local.push keeps its own reading (YAML 1.1 words, any case).
  CHECK(read_skaffold_yaml_push(tmp.write("skaffold.yaml", "build: {local: {push: tRuE}}\n")) == "true");
}

TEST_CASE("a key given twice in any mapping is an error", "[skaffold-config]") {
  TempDir tmp;
  const std::string f = tmp / "config";
  CHECK(load_error(tmp, "global:\n  local-cluster: true\n  local-cluster: true\n") ==
        f + ":3:3: error: duplicate key \"local-cluster\" (first at line 2)");
  CHECK(load_error(tmp, "global: {}\nkubeContexts: []\nglobal: {}\n") ==
        f + ":3:1: error: duplicate key \"global\" (first at line 1)");
  CHECK(load_error(tmp, "kubeContexts:\n- kube-context: a\n  kube-context: b\n") ==
        f + ":3:3: error: duplicate key \"kube-context\" (first at line 2)");
  CHECK(load_error(tmp, "kubeContexts:\n- {kube-context: a, local-cluster: y, \"local-cluster\": n}\n") ==
        f + ":2:39: error: duplicate key \"local-cluster\" (first at line 2)");
  // Anywhere: also under fields lcrules does not read, and in an anchored mapping.
  CHECK(load_error(tmp, "global:\n  survey: {last-prompted: a, last-prompted: b}\n") ==
        f + ":2:30: error: duplicate key \"last-prompted\" (first at line 2)");
  CHECK(load_error(tmp, "defaults: &d {local-cluster: y, local-cluster: n}\nglobal: *d\n") ==
        f + ":1:33: error: duplicate key \"local-cluster\" (first at line 1)");
  // The same key in different mappings is fine.
  CHECK(config(tmp,
               "global: {local-cluster: y}\nkubeContexts:\n- {kube-context: a, local-cluster: n}\n"
               "- {kube-context: b, local-cluster: y}\n")
            .resolve("a") == Values{{"local-cluster", "false"}});
}

TEST_CASE("merge keys are honoured as yaml.v3 does", "[skaffold-config]") {
  TempDir tmp;
  const std::string f = tmp / "config";
  SECTION("<<: *anchor brings a mapping's keys; explicit keys win wherever they are") {
    const auto cfg = config(tmp, R"(defaults: &local {local-cluster: true, kind-disable-load: true}
global:
  k3d-disable-load: yes
  <<: *local
kubeContexts:
- kube-context: prod
  kind-disable-load: false
  <<: *local
- <<: *local
  kube-context: dev
  local-cluster: off
)");
    CHECK(cfg.resolve("") ==
          Values{{"local-cluster", "true"}, {"kind-disable-load", "true"}, {"k3d-disable-load", "true"}});
    CHECK(cfg.resolve("prod") ==
          Values{{"local-cluster", "true"}, {"kind-disable-load", "false"}, {"k3d-disable-load", "true"}});
    CHECK(cfg.resolve("dev") ==
          Values{{"local-cluster", "false"}, {"kind-disable-load", "true"}, {"k3d-disable-load", "true"}});
  }
  SECTION("<<: [*a, *b]: earlier mappings win, explicit keys win over all") {
    const auto cfg = config(tmp, R"(a: &a {local-cluster: true}
b: &b {local-cluster: false, kind-disable-load: true, k3d-disable-load: true}
kubeContexts:
- {kube-context: c, <<: [*a, *b], k3d-disable-load: false}
- {kube-context: d, <<: [*b, *a]}
)");
    CHECK(cfg.resolve("c") ==
          Values{{"local-cluster", "true"}, {"kind-disable-load", "true"}, {"k3d-disable-load", "false"}});
    CHECK(cfg.resolve("d") ==
          Values{{"local-cluster", "false"}, {"kind-disable-load", "true"}, {"k3d-disable-load", "true"}});
  }
  SECTION("an inline mapping, nested merges, and the top level") {
    const auto cfg = config(tmp, R"(base: &base {local-cluster: false}
more: &more {<<: *base, kind-disable-load: on}
<<: {global: {k3d-disable-load: y}}
kubeContexts:
- {<<: *more, kube-context: kind-.*}
- {kube-context: kind-pattern-from-merge, <<: {kube-context: ignored, local-cluster: y}}
)");
    CHECK(cfg.resolve("kind-x") ==
          Values{{"local-cluster", "false"}, {"kind-disable-load", "true"}, {"k3d-disable-load", "true"}});
    CHECK(cfg.resolve("kind-pattern-from-merge") ==
          Values{{"local-cluster", "true"}, {"k3d-disable-load", "true"}});
  }
  SECTION("a merged key does not count as a duplicate; a quoted \"<<\" is an ordinary key") {
    CHECK(config(tmp, "d: &d {local-cluster: y}\nglobal: {local-cluster: n, <<: *d}\n").resolve("") ==
          Values{{"local-cluster", "false"}});
    CHECK(config(tmp, "d: &d {local-cluster: y}\nglobal: {\"<<\": *d}\n").resolve("") == Values{});
  }
  SECTION("merged values are checked like the others") {
    CHECK(load_error(tmp, "d: &d {local-cluster: \"true\"}\nglobal: {<<: *d}\n") ==
          f + ":1:23: error: local-cluster must be a boolean, not the quoted string \"true\" (write true "
              "without "
              "quotes)");
  }
  SECTION("a merge key needs a mapping or a list of mappings") {
    CHECK(load_error(tmp, "global: {<<: 3}\n") ==
          f + ":1:14: error: a merge key (<<) needs a mapping or a list of mappings");
    CHECK(load_error(tmp, "global: {<<: [{local-cluster: y}, x]}\n") ==
          f + ":1:35: error: a merge key (<<) needs a mapping or a list of mappings");
    CHECK(load_error(tmp, "global: {<<: ~}\n") ==
          f + ":1:14: error: a merge key (<<) needs a mapping or a list of mappings");
  }
  SECTION("a mapping that merges itself is an error, not a loop") {
    CHECK(load_error(tmp, "global: &g {<<: *g}\n") ==
          f + ":1:9: error: a merge key (<<) brings in the mapping it is in");
  }
  SECTION("many merges of merges stay fast") {
    std::string text = "m0: &m0 {local-cluster: y}\n";
    for (int i = 1; i <= 60; ++i) {
      const std::string p = std::to_string(i - 1);
      text += "m" + std::to_string(i) + ": &m" + std::to_string(i) + " {<<: [*m" + p + ", *m" + p + "]}\n";
    }
    text += "global: {<<: *m60}\n";
    CHECK(config(tmp, text).resolve("") == Values{{"local-cluster", "true"}});
  }
}

TEST_CASE("other fields are ignored", "[skaffold-config]") {
  TempDir tmp;
  const auto cfg = config(tmp, R"(global:
  default-repo: gcr.io/x
  multi-level-repo: [whatever]
  survey: {last-prompted: "2024-01-01"}
  local-cluster: y
kubeContexts:
- kube-context: c
  default-repo: {a: b}
  insecure-registries: [a, b]
unknown-top-level: 42
)");
  CHECK(cfg.resolve("c") == Values{{"local-cluster", "true"}});
}

TEST_CASE("missing, empty and unreadable global configs", "[skaffold-config]") {
  TempDir tmp;
  CHECK(SkaffoldGlobalConfig::load(tmp / "missing").resolve("x") == Values{});
  CHECK(config(tmp, "").resolve("x") == Values{});
  CHECK(config(tmp, "# only a comment\n").resolve("x") == Values{});
  CHECK(config(tmp, "global: ~\nkubeContexts: ~\n").resolve("x") == Values{});
  fs::create_directories(tmp / "dir");
  try {
    SkaffoldGlobalConfig::load(tmp / "dir");
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) == tmp / "dir" + ": error: cannot read: Is a directory");
  }
}

TEST_CASE("global config errors are exact, with positions", "[skaffold-config]") {
  TempDir tmp;
  const std::string f = tmp / "config";
  CHECK(load_error(tmp, "global:\n  local-cluster: maybe\n") ==
        f + ":2:18: error: local-cluster must be a boolean (true/false, yes/no, on/off, y/n), not \"maybe\"");
  CHECK(load_error(tmp, "kubeContexts:\n- kube-context: c\n  kind-disable-load: 1\n") ==
        f + ":3:22: error: kind-disable-load must be a boolean (true/false, yes/no, on/off, y/n), not \"1\"");
  CHECK(load_error(tmp, "global: {k3d-disable-load: [true]}\n") ==
        f + ":1:28: error: k3d-disable-load must be a boolean (true/false, yes/no, on/off, y/n)");
  CHECK(load_error(tmp, "global: {local-cluster: \"\"}\n") ==
        f + ":1:25: error: local-cluster must be a boolean (true/false, yes/no, on/off, y/n), not \"\"");
  CHECK(load_error(tmp, "global: [a]\n") == f + ":1:9: error: global must be a mapping");
  CHECK(load_error(tmp, "kubeContexts: {a: b}\n") == f + ":1:15: error: kubeContexts must be a list");
  CHECK(load_error(tmp, "kubeContexts:\n- just-a-name\n") ==
        f + ":2:3: error: kubeContexts entry must be a mapping");
  CHECK(load_error(tmp, "kubeContexts:\n- kube-context: [a]\n") ==
        f + ":2:17: error: kube-context must be a string");
  CHECK(load_error(tmp, "- a\n") == f + ":1:1: error: the Skaffold global config must be a mapping");
  CHECK(load_error(tmp, "global: {local-cluster: true\n") ==
        f + ":2:1: error: invalid YAML: end of map flow not found");
  CHECK(load_error(tmp, std::string(10000, '[')) ==
        f + ":1:1: error: the YAML nests too deeply (more than 499 levels)");
}

TEST_CASE("malformed global configs never crash", "[skaffold-config]") {
  TempDir tmp;
  auto survives = [&](const std::string& text) {
    try {
      config(tmp, text).resolve("kind-x");
    } catch (const ConfigError&) {
    }
  };
  std::mt19937 rng(777);
  for (const std::string& junk : random_bytes(rng, 300, 2000)) CHECK_NOTHROW(survives(junk));
  for (const std::string& junk : random_yaml_punctuation(rng, 500, 200)) CHECK_NOTHROW(survives(junk));
  const std::string tmpl =
      "global: @0\n  local-cluster: @1\nkubeContexts: @2\n- kube-context: @3\n  kind-disable-load: @4\n";
  for (const std::string& rep :
       std::vector<std::string>{"[]", "{}", "[a]", "{a: b}", "12", "~", "&x a", "*x", "!!binary aGk=", "!t x",
                                "\"\\xff\"", "? a", std::string(10000, '[') + std::string(10000, ']')}) {
    for (int slot = 0; slot <= 4; ++slot) {
      std::string text = tmpl;
      for (int other = 4; other >= 0; --other) {
        const std::string mark = "@" + std::to_string(other);
        const std::string value = other == slot                ? rep
                                  : (other == 0 || other == 2) ? ""
                                  : other == 3                 ? "c"
                                                               : "yes";
        text.replace(text.find(mark), mark.size(), value);
      }
      CHECK_NOTHROW(survives(text));
    }
  }
  CHECK_NOTHROW(survives("kubeContexts: &a [*a]\n"));
}

// --- skaffold.yaml -----------------------------------------------------------------------------------

TEST_CASE("read_skaffold_yaml_push reads build.local.push of the first document", "[skaffold-config]") {
  TempDir tmp;
  auto push = [&](const std::string& text) {
    return read_skaffold_yaml_push(tmp.write("skaffold.yaml", text));
  };
  const std::optional<std::string> yes = "true", no = "false";
  CHECK(push("apiVersion: skaffold/v4beta6\nkind: Config\nbuild:\n  local:\n    push: false\n") == no);
  CHECK(push("build:\n  local:\n    push: true\n") == yes);
  CHECK(push("build: {local: {push: No}}\n") == no);
  CHECK(push("build: {local: {push: ON}}\n") == yes);
  CHECK(push("build: {local: {useBuildkit: true}}\n") == std::nullopt);
  CHECK(push("build: {local: {push: ~}}\n") == std::nullopt);
  CHECK(push("build: {local: {}}\n") == std::nullopt);
  CHECK(push("build:\n  artifacts: []\n") == std::nullopt);
  CHECK(push("deploy: {}\n") == std::nullopt);
  CHECK(push("") == std::nullopt);
  // Only the first document counts.
  CHECK(push("build: {local: {push: false}}\n---\nbuild: {local: {push: true}}\n") == no);
  CHECK(push("apiVersion: v1\n---\nbuild: {local: {push: true}}\n") == std::nullopt);
}

TEST_CASE("read_skaffold_yaml_push errors name the file", "[skaffold-config]") {
  TempDir tmp;
  const std::string f = tmp / "skaffold.yaml";
  CHECK(push_error(tmp / "missing.yaml") ==
        tmp / "missing.yaml" + ": error: cannot read: No such file or directory");
  CHECK(push_error(tmp.write("skaffold.yaml", "build: {local: {push: false}\n")) ==
        f + ":2:1: error: invalid YAML: end of map flow not found");
  CHECK(push_error(tmp.write("skaffold.yaml", "build:\n  local:\n    push: sometimes\n")) ==
        f + ":3:11: error: push must be a boolean (true/false, yes/no, on/off, y/n), not \"sometimes\"");
  CHECK(push_error(tmp.write("skaffold.yaml", "build: [a]\n")) == f + ":1:8: error: build must be a mapping");
  CHECK(push_error(tmp.write("skaffold.yaml", "build: {local: 3}\n")) ==
        f + ":1:16: error: build.local must be a mapping");
  CHECK(push_error(tmp.write("skaffold.yaml", "just text\n")) ==
        f + ":1:1: error: a skaffold.yaml must be a mapping");
  CHECK(push_error(tmp.write("skaffold.yaml", std::string(10000, '{'))) ==
        f + ":1:1: error: the YAML nests too deeply (more than 499 levels)");
}
