// `lcrules test` (engine/testing/suite_runner.cpp): test-file validation, stubbed facts and commands,
// comparison, coverage and output, through run_rule_tests with files in a temp folder.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "lcrules/testing.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using lcrules::RuleSetOptions;
using lcrules::TestOptions;
using lcrules::testing::read_file;
using lcrules::testing::TempDir;

namespace {

struct Run {
  int rc = -1;
  std::string out, err;
};

// Runs run_rule_tests with `opts`, its report and errors captured.
Run run_with(TestOptions opts, const std::string& shipped_fallback = "") {
  RuleSetOptions rule_opts;
  rule_opts.shipped_fallback = shipped_fallback;
  std::ostringstream out, err;
  Run r;
  r.rc = static_cast<int>(lcrules::run_rule_tests(opts, rule_opts, out, err));
  r.out = out.str();
  r.err = err.str();
  return r;
}

// Runs run_rule_tests, its report and errors captured.
Run run(const std::vector<std::string>& paths, bool coverage = false, const std::string& filter = "",
        bool json = false, const std::string& shipped_fallback = "") {
  TestOptions opts;
  opts.paths = paths;
  opts.coverage = coverage;
  opts.run_filter = filter;
  opts.json = json;
  return run_with(opts, shipped_fallback);
}

std::string last_line(const std::string& text) {
  std::string t = text;
  if (!t.empty() && t.back() == '\n') t.pop_back();
  const auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

const char* kRules = R"(
rule kind {
  priority 500
  when context.name starts-with "kind-"
  set cluster = "kind"
  set local = true
  set cluster_name = "${context.name#kind-}"
  set load_command = ["kind", "load", "docker-image", "--name", "${context.name#kind-}", "{IMAGE}"]
}

rule minikube {
  priority 400
  when context.name in ["work", "m"] and run ["minikube", "profile", "list", "-o", "json"] json ".valid[].Name" == "${context.name}"
  set cluster = "minikube"
  set local = true
}

rule exit-three {
  priority 300
  when context.name == "exit" and run ["probe"] exits 3
  set cluster = "exit-three"
}

rule home-set {
  priority 200
  when env.HOME is set
  set registry = "home:${env.HOME}"
}

rule socket {
  priority 150
  when exists "/run/x/docker.sock"
  set push_images = true
}

rule note-only {
  priority 120
  when context.name == "noted"
  note "a note"
}

rule lost-local {
  priority 110
  when context.name starts-with "kind-"
  set local = false
}

rule from-file {
  priority 105
  when context.file == "/home/u/.kube/config" and cluster.certificate-authority == "/home/u/.kube/ca.crt"
  set cluster_name = "from-file"
}

rule skaffold-false {
  priority 900
  when skaffold.local-cluster == "false" and skaffold.build.local.push == "true" and option.probe-cluster == "true"
  set load_images = false
  set push_images = true
}
)";

const std::string kKnownTestKeys =
    "name, context, kubeconfig, kubeconfig-path, env, files, skaffold, skaffold-yaml-push, probe-cluster, "
    "commands, unstubbed, expect, decided-by";

// A folder with the rules above and one test file holding `tests` (YAML list items).
struct Fixture {
  TempDir dir;
  std::string test_file;
  explicit Fixture(const std::string& tests, const std::string& header = "shipped: false\n") {
    dir.write("a.rules", kRules);
    test_file = dir.write("a.rules-test.yaml", header + "tests:\n" + tests);
  }
  Run go(bool coverage = false, const std::string& filter = "", bool json = false) const {
    return run({test_file}, coverage, filter, json);
  }
  Run go_with(TestOptions opts) const {
    opts.paths = {test_file};
    return run_with(opts);
  }
};

}  // namespace

TEST_CASE("passing tests print PASS lines and the summary", "[rule-test]") {
  Fixture f(R"(
  - name: kind by name
    context: kind-dev
    expect:
      cluster: kind
      local: true
      cluster_name: dev
      load_command: [[kind, load, docker-image, --name, dev, "{IMAGE}"]]
      registry: null
    decided-by: {cluster: kind, local: kind, registry: null}
  - name: flat load_command
    context: kind-x
    expect: {load_command: [kind, load, docker-image, --name, x, "{IMAGE}"]}
)");
  const Run r = f.go();
  CHECK(r.err.empty());
  CHECK(r.rc == 0);
  CHECK(r.out == "PASS kind by name (" + f.test_file + ")\nPASS flat load_command (" + f.test_file +
                     ")\n2 passed, 0 failed\n");
}

TEST_CASE("a failing field shows expected and got, the rule that decided it, and near misses",
          "[rule-test]") {
  Fixture f(R"(
  - name: wrong cluster
    context: kind-dev
    expect: {cluster: minikube, local: false, cluster_name: null, notes: [x]}
    decided-by: {cluster: minikube, registry: home-set}
  - name: ok
    context: kind-dev
    expect: {cluster: kind}
)");
  const std::string rules = f.dir.str() + "/a.rules";
  const std::string failure =
      "FAIL wrong cluster (" + f.test_file +
      ")\n"
      "  cluster: expected \"minikube\", got \"kind\" (decided by rule kind (" +
      rules + ":2))\n" + "  local: expected false, got true (decided by rule kind (" + rules + ":2))\n" +
      "  cluster_name: expected null, got \"dev\" (decided by rule kind (" + rules + ":2))\n" +
      "  notes: expected [\"x\"], got [] (no rule added a note)\n" +
      "  cluster: expected to be decided by rule minikube, was decided by rule kind (" + rules + ":2)\n" +
      "  registry: expected to be decided by rule home-set, was decided by no rule (the default)\n" +
      "  not matched: rule home-set (" + rules + ":24), which sets registry: failed: env.HOME is not set\n";
  SECTION("in a few lines") {
    const Run r = f.go();
    INFO(r.out << r.err);
    CHECK(r.rc == 1);
    CHECK(r.out ==
          failure + "PASS ok (" + f.test_file +
              ")\n(--explain shows the whole explanation of each failed test)\n1 passed, 1 failed\n");
  }
  SECTION("the whole explanation with --explain") {
    TestOptions opts;
    opts.explain = true;
    const Run r = f.go_with(opts);
    CHECK(r.rc == 1);
    CHECK(r.out.rfind(failure + "    kind-dev: kind, local, cluster dev", 0) == 0);
    CHECK(r.out.find("    Why:\n") != std::string::npos);
    CHECK(r.out.find("--explain shows") == std::string::npos);
    CHECK(last_line(r.out) == "1 passed, 1 failed");
  }
  SECTION("-q: only the failures and the summary") {
    TestOptions opts;
    opts.quiet = true;
    const Run r = f.go_with(opts);
    CHECK(r.rc == 1);
    CHECK(r.out ==
          failure + "(--explain shows the whole explanation of each failed test)\n1 passed, 1 failed\n");
  }
}

TEST_CASE("near misses: the rules decided-by names first, three at most", "[rule-test]") {
  TempDir d;
  d.write("r.rules", R"(rule a { when context.name == "a" set cluster = "a" }
rule b { when context.name == "b" set cluster = "b" }
rule c { when context.name == "c" set cluster = "c" }
rule wanted { when context.name == "w" set cluster = "w" }
)");
  const auto file = d.write(
      "r.rules-test.yaml", "shipped: false\ntests: [{name: t, context: x, decided-by: {cluster: wanted}}]\n");
  const Run r = run({file});
  CHECK(r.rc == 1);
  const std::string rules = d.str() + "/r.rules";
  CHECK(r.out ==
        "FAIL t (" + file +
            ")\n  cluster: expected to be decided by rule wanted, was decided by no rule (the default)\n" +
            "  not matched: rule wanted (" + rules +
            ":4), which sets cluster: failed: context.name is 'x', not 'w'\n" + "  not matched: rule a (" +
            rules + ":1), which sets cluster: failed: context.name is 'x', not 'a'\n" +
            "  not matched: rule b (" + rules +
            ":2), which sets cluster: failed: context.name is 'x', not 'b'\n" +
            "(--explain shows the whole explanation of each failed test)\n0 passed, 1 failed\n");
}

TEST_CASE("notes-include looks for substrings", "[rule-test]") {
  Fixture f(R"(
  - name: has note
    context: noted
    expect: {notes: [a note], notes-include: [note]}
  - name: lacks note
    context: noted
    expect: {notes-include: [missing]}
)");
  const Run r = f.go();
  CHECK(r.rc == 1);
  CHECK(r.out.find("PASS has note") != std::string::npos);
  CHECK(
      r.out.find(
          "  notes: expected a note containing \"missing\", got [\"a note\"] (notes from rules note-only (" +
          f.dir.str() + "/a.rules:36))\n") != std::string::npos);
}

TEST_CASE("a command without a stub fails that test, naming the argv; the others go on", "[rule-test]") {
  Fixture f(R"(
  - name: unstubbed
    context: work
    expect: {cluster: unknown}
  - name: stubbed
    context: work
    commands:
      - argv: [minikube, profile, list, -o, json]
        stdout: '{"valid": [{"Name": "work"}]}'
    expect: {cluster: minikube}
)");
  const Run r = f.go();
  CHECK(r.rc == 1);
  CHECK(r.out.find(
            "FAIL unstubbed (" + f.test_file +
            ")\n  no stub for command `minikube profile list -o json`\n"
            "  a stub to paste under the test's `commands:` (set its output), or `unstubbed: not-installed` "
            "in the test file:\n"
            "    - {argv: [minikube, profile, list, -o, json], stdout: \"\", exit: 0}\n") !=
        std::string::npos);
  CHECK(r.out.find("PASS stubbed (") != std::string::npos);
  CHECK(last_line(r.out) == "1 passed, 1 failed");
}

TEST_CASE("stubs: exit codes, time-outs and missing binaries", "[rule-test]") {
  Fixture f(R"(
  - name: exit 3
    context: exit
    commands: [{argv: [probe], exit: 3, stderr: boom}]
    expect: {cluster: exit-three}
  - name: exit 0 is not exit 3
    context: exit
    commands: [{argv: [probe]}]
    expect: {cluster: unknown}
  - name: timeout
    context: exit
    commands: [{argv: [probe], timeout: true}]
    expect: {cluster: unknown}
  - name: not found
    context: work
    commands: [{argv: [minikube, profile, list, -o, json], not-found: true}]
    expect: {cluster: unknown}
  - name: non-zero exit makes json false
    context: work
    commands: [{argv: [minikube, profile, list, -o, json], stdout: '{"valid": [{"Name": "work"}]}', exit: 1}]
    expect: {cluster: unknown}
)");
  const Run r = f.go();
  CHECK(r.err.empty());
  CHECK(r.out == "PASS exit 3 (" + f.test_file + ")\nPASS exit 0 is not exit 3 (" + f.test_file +
                     ")\nPASS timeout (" + f.test_file + ")\nPASS not found (" + f.test_file +
                     ")\nPASS non-zero exit makes json false (" + f.test_file + ")\n5 passed, 0 failed\n");
  CHECK(r.rc == 0);
}

TEST_CASE("the explanation shows how a stub answered", "[rule-test]") {
  Fixture f(R"(
  - name: timeout shown
    context: exit
    commands: [{argv: [probe], timeout: true}]
    expect: {cluster: exit-three}
)");
  TestOptions opts;
  opts.explain = true;
  const Run r = f.go_with(opts);
  CHECK(r.rc == 1);
  CHECK(r.out.find("`probe`: timed out after 5s") != std::string::npos);
}

TEST_CASE("the environment, files, skaffold and options come only from the test", "[rule-test]") {
  REQUIRE(::getenv("PATH") != nullptr);  // the real environment is not empty, yet rules see none of it
  Fixture f(R"(
  - name: no env leaks in
    context: x
    expect: {registry: null, push_images: false}
  - name: env from the test
    context: x
    env: {HOME: /home/t}
    expect: {registry: "home:/home/t"}
  - name: files are compared after clean-up
    context: x
    files: ["/run//x/./y/../docker.sock"]
    expect: {push_images: true}
  - name: a listed folder does not make the files below it exist
    context: x
    files: [/run/x]
    expect: {push_images: false}
  - name: skaffold, skaffold.yaml push and probe-cluster
    context: x
    skaffold: {local-cluster: false}
    skaffold-yaml-push: true
    probe-cluster: true
    expect: {load_images: false, push_images: true}
    decided-by: {push_images: skaffold-false}
  - name: probe-cluster defaults to false
    context: x
    skaffold: {local-cluster: false}
    skaffold-yaml-push: true
    expect: {push_images: false}
)");
  const Run r = f.go();
  INFO(r.out << r.err);
  CHECK(r.rc == 0);
  CHECK(last_line(r.out) == "6 passed, 0 failed");
}

TEST_CASE("kubeconfig content is read like a real kubeconfig, presented as HOME/.kube/config",
          "[rule-test]") {
  Fixture f(R"(
  - name: context file and relative CA
    context: c
    env: {HOME: /home/u}
    kubeconfig:
      contexts: [{name: c, context: {cluster: c1}}]
      clusters: [{name: c1, cluster: {server: "https://h:1", certificate-authority: ca.crt}}]
    expect: {cluster_name: from-file, kubeconfig_cluster: c1}
  - name: context missing from the kubeconfig
    context: kind-zz
    kubeconfig: {contexts: []}
    expect: {cluster: kind, kubeconfig_cluster: null}
  - name: kubeconfig as text
    context: c
    env: {HOME: /home/u}
    kubeconfig: |
      contexts: [{name: c, context: {cluster: c1}}]
      clusters: [{name: c1, cluster: {certificate-authority: /home/u/.kube/ca.crt}}]
    expect: {cluster_name: from-file}
)");
  const Run r = f.go();
  INFO(r.out << r.err);
  CHECK(r.rc == 0);
  CHECK(last_line(r.out) == "3 passed, 0 failed");
}

TEST_CASE("a bad kubeconfig is an error at the test's kubeconfig", "[rule-test]") {
  Fixture f(R"(
  - name: bad
    context: c
    kubeconfig:
      contexts: {name: c}
    expect: {cluster: unknown}
)");
  const Run r = f.go();
  CHECK(r.rc == 2);
  CHECK(r.out.empty());
  CHECK(r.err.rfind(f.test_file + ":7:7: error: kubeconfig of test 'bad': ", 0) == 0);
  CHECK(r.err.find("lcrules-test-") == std::string::npos);  // the temp file never shows
}

TEST_CASE("validation errors: exact messages with 1-based positions, exit 2", "[rule-test]") {
  struct Case {
    std::string tests;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"  - name: t\n    contxt: kind-a\n    expect: {cluster: kind}\n",
       ":4:5: error: unknown key 'contxt' in test 't'; did you mean 'context'? (known keys: " +
           kKnownTestKeys + ")"},
      {"  - name: t\n    context: kind-a\n    expect: {clustr: kind}\n",
       ":5:14: error: unknown key 'clustr' in expect of test 't'; did you mean 'cluster'? (known keys: "
       "cluster, local, cluster_name, "
       "kubeconfig_cluster, load_images, push_images, load_command, registry, notes, notes-include)"},
      {"  - name: t\n    expect: {cluster: kind}\n", ":3:5: error: missing key 'context' in test 't'"},
      {"  - context: x\n    expect: {cluster: kind}\n", ":3:5: error: missing key 'name' in test"},
      {"  - name: t\n    context: x\n",
       ":3:5: error: test 't' checks nothing: give 'expect' with at least one "
       "field, or 'decided-by'"},
      {"  - name: t\n    context: x\n    expect: {local: maybe}\n",
       ":5:21: error: expect.local must be true or false"},
      {"  - name: t\n    context: x\n    expect: {cluster: null}\n",
       ":5:23: error: expect.cluster must be a string"},
      {"  - name: t\n    context: x\n    context: y\n    expect: {cluster: kind}\n",
       ":5:5: error: duplicate key 'context' in test 't' (first at line 4)"},
      {"  - name: t\n    context: x\n    expect: {cluster: kind}\n  - name: t\n    context: y\n    expect: "
       "{cluster: kind}\n",
       ":6:5: error: duplicate test name 't' (first at line 3)"},
      {"  - name: t\n    context: x\n    decided-by: {clusterr: kind}\n",
       ":5:18: error: unknown key 'clusterr' in decided-by of test 't'; did you mean 'cluster'? (known keys: "
       "cluster, local, "
       "cluster_name, "
       "load_images, push_images, load_command, registry)"},
      {"  - name: t\n    context: x\n    commands: [{argv: [a], stdout: x, tiemout: true}]\n    expect: "
       "{cluster: "
       "x}\n",
       ":5:39: error: unknown key 'tiemout' in a command stub of test 't'; did you mean 'timeout'? (known "
       "keys: argv, stdout, stderr, "
       "exit, "
       "timeout, not-found)"},
      {"  - name: t\n    context: x\n    commands: [{stdout: x}]\n    expect: {cluster: x}\n",
       ":5:16: error: missing key 'argv' in a command stub of test 't'"},
      {"  - name: t\n    context: x\n    commands: [{argv: [a], timeout: true, exit: 1}]\n    expect: "
       "{cluster: "
       "x}\n",
       ":5:16: error: a command stub that times out has no stdout, stderr or exit"},
      {"  - name: t\n    context: x\n    commands: [{argv: [a]}, {argv: [a], exit: 2}]\n    expect: "
       "{cluster: "
       "x}\n",
       ":5:29: error: a stub for `a` is already given at line 5"},
      {"  - name: t\n    context: x\n    commands: [{argv: [a], exit: 300}]\n    expect: {cluster: x}\n",
       ":5:34: error: exit must be a number from 0 to 255"},
      {"  - name: t\n    context: x\n    env: {HOME: }\n    expect: {cluster: x}\n",
       ":5:17: error: env HOME must be a string (write \"\" for a variable that is set and empty)"},
      {"  - name: t\n    context: x\n    skaffold: {local-clustr: false}\n    expect: {cluster: x}\n",
       ":5:16: error: unknown key 'local-clustr' in skaffold of test 't'; did you mean 'local-cluster'? "
       "(known keys: local-cluster, "
       "kind-disable-load, k3d-disable-load)"},
      {"  - name: t\n    context: x\n    expect: {load_command: [[a], b]}\n",
       ":5:34: error: expect.load_command: each command of a pipeline must be a list of strings"},
      // Types are strict: a quoted or YAML 1.1 boolean is a string, a boolean is not a string.
      {"  - name: t\n    context: x\n    expect: {local: \"yes\"}\n",
       ":5:21: error: expect.local must be true or false, not the string \"yes\" (write it without quotes)"},
      {"  - name: t\n    context: x\n    expect: {local: yes}\n",
       ":5:21: error: expect.local must be true or false"},
      {"  - name: t\n    context: x\n    probe-cluster: \"true\"\n    expect: {local: true}\n",
       ":5:20: error: probe-cluster must be true or false, not the string \"true\" (write it without "
       "quotes)"},
      {"  - name: t\n    context: x\n    expect: {cluster: true}\n",
       ":5:23: error: expect.cluster must be a string, not a boolean (write \"true\" for the string)"},
      {"  - name: t\n    context: x\n    expect: {registry: false}\n",
       ":5:24: error: expect.registry must be a string or null, not a boolean (write \"false\" for the "
       "string)"},
      {"  - name: t\n    context: x\n    commands: [{argv: [a], exit: \"3\"}]\n    expect: {cluster: x}\n",
       ":5:34: error: exit must be a number from 0 to 255"},
      {"  - name: t\n    context: x\n    unstubbed: not-instaled\n    expect: {cluster: x}\n",
       ":5:16: error: unstubbed must be 'fail' or 'not-installed', not 'not-instaled'; did you mean "
       "'not-installed'?"},
      {"  - name: t\n    context: x\n    decided_by: {cluster: kind}\n",
       ":5:5: error: unknown key 'decided_by' in test 't'; did you mean 'decided-by'? (known keys: " +
           kKnownTestKeys + ")"},
      {"  - name: t\n    context: x\n    bogus: 1\n    expect: {cluster: x}\n",
       ":5:5: error: unknown key 'bogus' in test 't' (known keys: " + kKnownTestKeys + ")"},
  };
  for (const auto& c : cases) {
    Fixture f(c.tests);
    const Run r = f.go();
    INFO(c.tests);
    CHECK(r.rc == 2);
    CHECK(r.out.empty());
    CHECK(r.err == f.test_file + c.message + "\n");
  }
}

TEST_CASE("file-level errors", "[rule-test]") {
  SECTION("invalid YAML") {
    TempDir d;
    const auto file = d.write("x.rules-test.yaml", "tests: [\n");
    const Run r = run({file});
    CHECK(r.rc == 2);
    CHECK(r.err.rfind(file + ":2:1: error: invalid YAML: ", 0) == 0);
  }
  SECTION("not a mapping") {
    TempDir d;
    const auto file = d.write("x.rules-test.yaml", "- a\n");
    const Run r = run({file});
    CHECK(r.rc == 2);
    CHECK(r.err == file + ":1:1: error: a test file must be a mapping with a 'tests' list\n");
  }
  SECTION("unknown top-level key") {
    TempDir d;
    const auto file = d.write("x.rules-test.yaml", "shiped: false\ntests: []\n");
    const Run r = run({file});
    CHECK(r.rc == 2);
    CHECK(r.err == file +
                       ":1:1: error: unknown key 'shiped'; did you mean 'shipped'? (known keys: rules, "
                       "shipped, commands, "
                       "unstubbed, tests)\n");
  }
  SECTION("missing tests") {
    TempDir d;
    const auto file = d.write("x.rules-test.yaml", "shipped: false\n");
    const Run r = run({file});
    CHECK(r.rc == 2);
    CHECK(r.err == file + ":1:1: error: missing key 'tests' (a list of tests)\n");
  }
  SECTION("a rules entry that does not exist") {
    TempDir d;
    const auto file = d.write("x.rules-test.yaml", "shipped: false\nrules: [nope.rules]\ntests: []\n");
    const Run r = run({file});
    CHECK(r.rc == 2);
    CHECK(r.err == file + ":2:9: error: rules: no such file or folder: " + d.str() + "/nope.rules\n");
  }
  SECTION("a rule file that does not load") {
    TempDir d;
    d.write("bad.rules", "rule x { set nonsense = 1 }\n");
    const auto file = d.write("x.rules-test.yaml",
                              "shipped: false\ntests: [{name: t, context: c, expect: {local: true}}]\n");
    const Run r = run({file});
    CHECK(r.rc == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find(d.str() + "/bad.rules:1:") != std::string::npos);
  }
  SECTION("errors in several tests are all reported") {
    Fixture f("  - name: a\n    context: x\n  - name: b\n    context: y\n    expect: {bad: 1}\n");
    const Run r = f.go();
    CHECK(r.rc == 2);
    CHECK(r.err.find(f.test_file + ":3:5: error: test 'a' checks nothing") != std::string::npos);
    CHECK(r.err.find(f.test_file + ":7:14: error: unknown key 'bad'") != std::string::npos);
  }
}

TEST_CASE("finding test files", "[rule-test]") {
  SECTION("a folder gives its test files in lexical order, not its rule files") {
    TempDir d;
    d.write("r.rules", "rule r { set cluster = \"r\" }\n");
    d.write("b.rules-test.yaml", "shipped: false\ntests: [{name: b, context: c, expect: {cluster: r}}]\n");
    d.write("a.rules-test.yaml", "shipped: false\ntests: [{name: a, context: c, expect: {cluster: r}}]\n");
    d.write("sub/c.rules-test.yaml",
            "shipped: false\ntests: [{name: c, context: c, expect: {cluster: r}}]\n");
    const Run r = run({d.str()});
    CHECK(r.rc == 0);
    CHECK(r.out == "PASS a (" + d.str() + "/a.rules-test.yaml)\nPASS b (" + d.str() +
                       "/b.rules-test.yaml)\n2 passed, 0 failed\n");
  }
  SECTION("no test file") {
    TempDir d;
    const Run r = run({d.str()});
    CHECK(r.rc == 2);
    CHECK(r.err == "lcrules: error: no test files (*.rules-test.yaml) in " + d.str() + "\n");
  }
  SECTION("a path that is not a test file") {
    TempDir d;
    const auto file = d.write("r.rules", "");
    const Run r = run({file});
    CHECK(r.rc == 2);
    CHECK(r.err == file + ": error: not a test file (test files end in .rules-test.yaml)\n");
  }
  SECTION("a missing path") {
    TempDir d;
    const Run r = run({d.str() + "/none"});
    CHECK(r.rc == 2);
    CHECK(r.err == d.str() + "/none: error: no such file or folder\n");
  }
  SECTION("no path: the shipped folder") {
    TempDir d;
    d.write("r.rules", "rule r { set cluster = \"r\" }\n");
    // In the shipped folder itself, `shipped: true` does not load its rules twice.
    d.write("a.rules-test.yaml", "tests: [{name: a, context: c, expect: {cluster: r}}]\n");
    const Run r = run({}, false, "", false, d.str());
    INFO(r.err);
    CHECK(r.rc == 0);
    CHECK(last_line(r.out) == "1 passed, 0 failed");
  }
}

TEST_CASE("rules: and shipped: choose the rule set", "[rule-test]") {
  TempDir shipped;
  shipped.write("base.rules", "rule base { priority 50 set cluster = \"base\" }\n");
  TempDir d;
  d.write("mine/kind.rules", "rule mine { when context.name == \"m\" set cluster = \"mine\" }\n");
  d.write("other.rules", "rule other { set cluster = \"other\" }\n");  // not named by rules:
  d.write("t.rules-test.yaml", R"(rules: [mine/kind.rules]
tests:
  - {name: mine, context: m, expect: {cluster: mine}}
  - {name: shipped base, context: x, expect: {cluster: base}}
)");
  d.write("u.rules-test.yaml", R"(rules: mine
shipped: false
tests:
  - {name: no shipped rules, context: x, expect: {cluster: unknown}}
)");
  const Run r = run({d.str()}, false, "", false, shipped.str());
  INFO(r.out << r.err);
  CHECK(r.rc == 0);
  CHECK(last_line(r.out) == "3 passed, 0 failed");
}

TEST_CASE("the --run filter selects tests by a regex search over names", "[rule-test]") {
  Fixture f(R"(
  - {name: kind one, context: kind-a, expect: {cluster: kind}}
  - {name: Kind two, context: kind-b, expect: {cluster: wrong}}
  - {name: other, context: x, expect: {cluster: unknown}}
)");
  SECTION("a match") {
    const Run r = f.go(false, "^kind|oth");
    CHECK(r.rc == 0);
    CHECK(r.out ==
          "PASS kind one (" + f.test_file + ")\nPASS other (" + f.test_file + ")\n2 passed, 0 failed\n");
  }
  SECTION("no match: exit 2") {
    const Run r = f.go(false, "nothing");
    CHECK(r.rc == 2);
    CHECK(r.out.empty());
    CHECK(r.err == "lcrules: error: no test name matches --run 'nothing'\n");
  }
  SECTION("a bad regex: exit 2") {
    const Run r = f.go(false, "(");
    CHECK(r.rc == 2);
    CHECK(r.err.rfind("lcrules: error: --run: invalid regular expression '(': ", 0) == 0);
  }
}

TEST_CASE("an empty tests list runs no test: exit 2", "[rule-test]") {
  Fixture f("  []\n");
  const Run r = f.go();
  CHECK(r.rc == 2);
  CHECK(r.err == "lcrules: error: the test files hold no tests\n");
}

TEST_CASE("coverage: rules no test saw match and decide a field", "[rule-test]") {
  Fixture f(R"(
  - name: kind
    context: kind-a
    expect: {cluster: kind}
  - name: note
    context: noted
    expect: {notes: [a note]}
  - name: minikube evaluated but not matched
    context: m
    commands: [{argv: [minikube, profile, list, -o, json], stdout: '{"valid": []}'}]
    expect: {cluster: unknown}
)");
  const std::string rules = f.dir.str() + "/a.rules";
  const Run r = f.go(true);
  CHECK(r.rc == 1);
  // kind (decided), note-only (note) are covered; lost-local matched but lost its only field.
  CHECK(r.out == "PASS kind (" + f.test_file + ")\nPASS note (" + f.test_file +
                     ")\nPASS minikube evaluated but not matched (" + f.test_file + ")\n" +
                     "uncovered: minikube (" + rules + ":11)\n" + "uncovered: exit-three (" + rules +
                     ":18)\n" + "uncovered: home-set (" + rules + ":24)\n" + "uncovered: socket (" + rules +
                     ":30)\n" + "uncovered: lost-local (" + rules + ":42)\n" + "uncovered: from-file (" +
                     rules + ":48)\n" + "uncovered: skaffold-false (" + rules + ":54)\n" +
                     "3 passed, 0 failed\n");
  SECTION("without --coverage the same tests exit 0") {
    const Run plain = f.go(false);
    CHECK(plain.rc == 0);
    CHECK(plain.out.find("uncovered") == std::string::npos);
  }
}

TEST_CASE("coverage: every rule covered exits 0", "[rule-test]") {
  TempDir d;
  d.write("r.rules", "rule a { when context.name == \"a\" set cluster = \"a\" }\nrule n { note \"n\" }\n");
  d.write("r.rules-test.yaml", "shipped: false\ntests: [{name: a, context: a, expect: {cluster: a}}]\n");
  const Run r = run({d.str()}, true);
  CHECK(r.rc == 0);
  CHECK(r.out.find("uncovered") == std::string::npos);
}

TEST_CASE("JSON output (-o json)", "[rule-test]") {
  Fixture f(R"(
  - {name: good, context: kind-a, expect: {cluster: kind}}
  - {name: bad, context: kind-a, expect: {cluster: x}}
)");
  const Run r = f.go(true, "", true);
  CHECK(r.rc == 1);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["passed"] == 1);
  CHECK(j["failed"] == 1);
  REQUIRE(j["tests"].size() == 2);
  CHECK(j["tests"][0]["name"] == "good");
  CHECK(j["tests"][0]["file"] == f.test_file);
  CHECK(j["tests"][0]["passed"] == true);
  CHECK(j["tests"][0]["failures"].empty());
  CHECK(j["tests"][1]["passed"] == false);
  CHECK(j["tests"][1]["failures"] ==
        nlohmann::json::array({"cluster: expected \"x\", got \"kind\" (decided by rule kind (" + f.dir.str() +
                               "/a.rules:2))"}));
  CHECK(j["tests"][1]["decision"]["cluster"] == "kind");
  CHECK(j["tests"][1]["decision"].contains("explain"));
  REQUIRE(j["uncovered"].is_array());
  CHECK(j["uncovered"][0]["name"] == "minikube");
  CHECK(j["uncovered"][0]["file"] == f.dir.str() + "/a.rules");
  CHECK(j["uncovered"][0]["line"] == 11);
}

TEST_CASE("the example rule tests in tests/rule-tests", "[rule-test]") {
  // Paths in the output are as given, so run from the source tree like the CLI tests do.
  const fs::path old = fs::current_path();
  fs::current_path(LCRULES_SOURCE_DIR);
  const Run passing = run({"tests/rule-tests"}, true);
  const Run failing = run({"tests/rule-tests/failing"});
  fs::current_path(old);
  INFO(passing.out << passing.err);
  CHECK(passing.rc == 0);
  CHECK(last_line(passing.out) == "9 passed, 0 failed");
  const std::string expected =
      read_file(std::string(LCRULES_SOURCE_DIR) + "/tests/rule-tests/failing/expected-output.txt");
  CHECK(failing.rc == 1);
  CHECK(failing.out == expected);
}

TEST_CASE("read on test files: some and every, folders, missing and unparsable files", "[rule-test]") {
  // tests/rule-tests/read: a test's `files` with contents are what `read` reads.
  const fs::path old = fs::current_path();
  fs::current_path(LCRULES_SOURCE_DIR);
  const Run r = run({"tests/rule-tests/read"});
  fs::current_path(old);
  INFO(r.out << r.err);
  CHECK(r.rc == 0);
  CHECK(last_line(r.out) == "14 passed, 0 failed");
}

TEST_CASE("a files entry is a path or a {path, content} mapping", "[rule-test]") {
  TempDir dir;
  dir.write("a.rules", "rule a {\n  when context.name == \"x\"\n  set local = true\n}\n");
  const std::string file = dir.write("a.rules-test.yaml", R"(shipped: false
tests:
  - name: t
    context: x
    files:
      - {path: /a}
    expect: {local: true}
)");
  Run r = run({file});
  CHECK(r.rc == 2);
  CHECK(r.err == file + ":6:9: error: a file of test 't' needs a content (write a folder as a plain path)\n");
  dir.write("a.rules-test.yaml", R"(shipped: false
tests:
  - name: t
    context: x
    files:
      - {path: /a, content: x, mode: 1}
    expect: {local: true}
)");
  r = run({file});
  CHECK(r.rc == 2);
  CHECK(r.err ==
        file + ":6:32: error: unknown key 'mode' in a file of test 't' (known keys: path, content)\n");
}

TEST_CASE("the expected and explained outputs of tests/rule-tests/failing", "[rule-test]") {
  const fs::path old = fs::current_path();
  fs::current_path(LCRULES_SOURCE_DIR);
  TestOptions opts;
  opts.paths = {"tests/rule-tests/failing"};
  opts.explain = true;
  const Run explained = run_with(opts);
  fs::current_path(old);
  CHECK(explained.rc == 1);
  CHECK(explained.out ==
        read_file(std::string(LCRULES_SOURCE_DIR) + "/tests/rule-tests/failing/expected-explain.txt"));
}

TEST_CASE("unstubbed: not-installed answers commands without a stub as not found", "[rule-test]") {
  SECTION("for the whole file") {
    Fixture f(R"(
  - name: minikube not installed
    context: work
    expect: {cluster: unknown}
  - name: a stub still answers
    context: work
    commands: [{argv: [minikube, profile, list, -o, json], stdout: '{"valid": [{"Name": "work"}]}'}]
    expect: {cluster: minikube}
)",
              "shipped: false\nunstubbed: not-installed\n");
    const Run r = f.go();
    INFO(r.out << r.err);
    CHECK(r.rc == 0);
    CHECK(last_line(r.out) == "2 passed, 0 failed");
  }
  SECTION("the explanation says how the command was answered") {
    Fixture f("  - {name: t, context: work, expect: {cluster: minikube}}\n",
              "shipped: false\nunstubbed: not-installed\n");
    TestOptions opts;
    opts.explain = true;
    const Run r = f.go_with(opts);
    CHECK(r.rc == 1);
    CHECK(r.out.find("`minikube profile list -o json`: minikube: not found on PATH (no stub; unstubbed: "
                     "not-installed)") != std::string::npos);
    CHECK(r.out.find("no stub for command") == std::string::npos);
  }
  SECTION("a test's own unstubbed wins over the file's") {
    Fixture f(R"(
  - name: fails for want of a stub
    context: work
    unstubbed: fail
    expect: {cluster: unknown}
  - name: not installed
    context: work
    expect: {cluster: unknown}
)",
              "shipped: false\nunstubbed: not-installed\n");
    const Run r = f.go();
    CHECK(r.rc == 1);
    CHECK(r.out.find("FAIL fails for want of a stub (" + f.test_file + ")\n  no stub for command") !=
          std::string::npos);
    CHECK(r.out.find("PASS not installed (") != std::string::npos);
  }
}

TEST_CASE("decided-by must name a rule of the rule set that sets the field", "[rule-test]") {
  TempDir d;
  d.write("a.rules", kRules);
  d.write("b.rules", "disable socket\n");
  const auto file = d.write("a.rules-test.yaml", R"(shipped: false
tests:
  - name: typo
    context: kind-a
    decided-by: {cluster: knd}
  - name: disabled
    context: x
    decided-by: {push_images: socket}
  - name: never sets it
    context: kind-a
    decided-by: {registry: kind, cluster: null}
  - name: no rule at all
    context: kind-a
    decided-by: {cluster: zzzzzz}
)");
  const Run r = run({file});
  CHECK(r.rc == 2);
  CHECK(r.out.empty());
  CHECK(r.err ==
        file +
            ":5:27: error: decided-by.cluster of test 'typo': no rule 'knd' in the rule set; did you mean "
            "'kind'?\n" +
            file + ":8:31: error: decided-by.push_images of test 'disabled': rule 'socket' is disabled (at " +
            d.str() + "/b.rules:1), so it decides nothing\n" + file +
            ":11:28: error: decided-by.registry of test 'never sets it': rule 'kind' (" + d.str() +
            "/a.rules:2) never sets registry\n" + file +
            ":14:27: error: decided-by.cluster of test 'no rule at all': no rule 'zzzzzz' in the rule set\n");
}

TEST_CASE("JUnit output (-o junit)", "[rule-test]") {
  Fixture f(R"(
  - {name: "good <&> \"quoted\"", context: kind-a, expect: {cluster: kind}}
  - {name: "bad \u0001 \xff", context: kind-a, expect: {cluster: "x<y"}}
)");
  TestOptions opts;
  opts.format = TestOptions::Format::Junit;
  opts.coverage = true;
  opts.run_filter = "good|bad";
  const Run r = f.go_with(opts);
  CHECK(r.rc == 1);
  const std::string rules = f.dir.str() + "/a.rules";
  const std::string file = f.test_file;
  std::string expected =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites name=\"lcrules test\" tests=\"10\" failures=\"9\">\n"
      "  <testsuite name=\"" +
      file +
      "\" tests=\"2\" failures=\"1\">\n"
      "    <testcase name=\"good &lt;&amp;&gt; &quot;quoted&quot;\" classname=\"" +
      file + "\" file=\"" + file +
      "\" line=\"4\"/>\n"
      "    <testcase name=\"bad \\x01 \u00ff\" classname=\"" +
      file + "\" file=\"" + file +
      "\" line=\"5\">\n"
      "      <failure message=\"cluster: expected &quot;x&lt;y&quot;, got &quot;kind&quot; (decided by rule "
      "kind (" +
      rules +
      ":2))\" type=\"failure\">cluster: expected &quot;x&lt;y&quot;, got &quot;kind&quot; (decided by rule "
      "kind (" +
      rules +
      ":2))\n</failure>\n"
      "    </testcase>\n"
      "  </testsuite>\n"
      "  <testsuite name=\"coverage\" tests=\"8\" failures=\"8\">\n";
  CHECK(r.out.substr(0, expected.size()) == expected);
  CHECK(
      r.out.find(
          "    <testcase name=\"minikube\" classname=\"coverage\" file=\"" + rules +
          "\" line=\"11\">\n      <failure message=\"uncovered: no test saw rule minikube match and decide a "
          "field\" type=\"uncovered\"/>\n    </testcase>\n") != std::string::npos);
  CHECK(r.out.size() > 16);
  CHECK(r.out.substr(r.out.size() - 14) == "</testsuites>\n");
}

TEST_CASE("xml escaping of invalid UTF-8 and control bytes", "[rule-test]") {
  TempDir d;
  d.write("r.rules", "rule r { set cluster = \"r\" }\n");
  // A test name with a raw invalid byte (0xff), an overlong form (0xc0 0x80) and U+FFFE.
  const auto file = d.write("r.rules-test.yaml",
                            std::string("shipped: false\ntests: [{name: \"a\xff b\xc0\x80 c\xef\xbf\xbe "
                                        "d\xc3\xa9\", context: c, expect: {cluster: r}}]\n"));
  TestOptions opts;
  opts.paths = {file};
  opts.format = TestOptions::Format::Junit;
  const Run r = run_with(opts);
  INFO(r.err);
  CHECK(r.rc == 0);
  CHECK(r.out.find("name=\"a\\xff b\\xc0\\x80 c\\xef\\xbf\\xbe d\xc3\xa9\"") != std::string::npos);
}

TEST_CASE("coverage reports on the rule files under test, not on the shipped rules a test loads",
          "[rule-test]") {
  TempDir shipped;
  shipped.write("base.rules",
                "rule base { priority 50 when context.name == \"b\" set cluster = \"base\" }\n"
                "rule other { priority 40 when context.name == \"o\" set cluster = \"other\" }\n");
  TempDir user;
  user.write("mine.rules",
             "rule mine { when context.name == \"m\" set cluster = \"mine\" }\n"
             "rule unused { when context.name == \"u\" set cluster = \"unused\" }\n"
             "override base { replace priority 60 }\n");
  user.write("mine.rules-test.yaml", "tests: [{name: m, context: m, expect: {cluster: mine}}]\n");
  TestOptions opts;
  opts.paths = {user.str()};
  opts.coverage = true;
  const Run r = run_with(opts, shipped.str());
  INFO(r.out << r.err);
  CHECK(r.rc == 1);
  // `other` is shipped and only loaded; `base` is changed by the user's override.
  // (Listed in file path order; the two temporary folders' names sort either way.)
  const std::string base = "uncovered: base (" + shipped.str() + "/base.rules:1)\n";
  const std::string unused = "uncovered: unused (" + user.str() + "/mine.rules:2)\n";
  const std::string head = "PASS m (" + user.str() + "/mine.rules-test.yaml)\n";
  CHECK((r.out == head + base + unused + "1 passed, 0 failed\n" ||
         r.out == head + unused + base + "1 passed, 0 failed\n"));
}

TEST_CASE("no path: the tests in the folders of the active rule set", "[rule-test]") {
  TempDir shipped;
  shipped.write("s.rules", "rule s { when context.name == \"s\" set cluster = \"s\" }\n");
  shipped.write("s.rules-test.yaml", "tests: [{name: shipped, context: s, expect: {cluster: s}}]\n");
  TempDir user;
  user.write("u.rules", "rule u { when context.name == \"u\" set cluster = \"u\" }\n");
  user.write("u.rules-test.yaml", "tests: [{name: user, context: u, expect: {cluster: u}}]\n");
  TestOptions opts;
  opts.search_folders = {shipped.str(), user.str() + "/missing-system-folder", user.str()};
  const Run r = run_with(opts, shipped.str());
  INFO(r.err);
  CHECK(r.rc == 0);
  CHECK(r.out == "PASS shipped (" + shipped.str() + "/s.rules-test.yaml)\nPASS user (" + user.str() +
                     "/u.rules-test.yaml)\n2 passed, 0 failed\n");
  SECTION("none of them holds a test file") {
    TestOptions none;
    none.search_folders = {user.str() + "/missing"};
    const Run n = run_with(none, shipped.str());
    CHECK(n.rc == 2);
    CHECK(n.err == "lcrules: error: no test files (*.rules-test.yaml) in " + user.str() + "/missing\n");
  }
}
