// Hostile YAML within the size caps: files of many (or deeply nested) empty lists would make
// yaml-cpp take seconds and gigabytes. Nodes and flow indicators are counted before a tree
// is built, and skaffold files are capped at 1 MiB.
#include <catch2/catch.hpp>

#include <string>

#include "engine/facts/files.hpp"
#include "engine/facts/kubeconfig.hpp"
#include "engine/facts/skaffold_config.hpp"
#include "support.hpp"

using lcrules::ConfigError;
using lcrules::Kubeconfig;
using lcrules::KubeconfigError;
using lcrules::testing::TempDir;
namespace files = lcrules::files;

namespace {

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

const std::string kKubeconfigHead = "apiVersion: v1\nkind: Config\ncurrent-context: a\n";

}  // namespace

TEST_CASE("check_yaml_bounds counts flow indicators and nodes", "[yaml_bounds]") {
  CHECK_FALSE(files::check_yaml_bounds("a: [1, 2, {b: c}]\n", 8));
  const auto flow = files::check_yaml_bounds("a: [1, 2, {b: c}]\n", 3);
  REQUIRE(flow);
  CHECK(flow->message == "more than 3 flow indicators ([, { and ,): the file is too large to read");
  CHECK(flow->mark.line == 0);
  CHECK(flow->mark.column == 10);
  const auto nodes = files::check_yaml_bounds("a:\n- 1\n- 2\n- 3\n", 3);
  REQUIRE(nodes);
  CHECK(nodes->message == "more than 3 nodes: the file is too large to read");
  CHECK(nodes->mark.line == 1);
  // Only the first document is counted (YAML::Load reads no other).
  CHECK_FALSE(files::check_yaml_bounds("a: 1\n---\n" + repeat("- x\n", 100), 3));
}

TEST_CASE("a kubeconfig of too many nodes is refused before its tree is built", "[yaml_bounds][kubeconfig]") {
  // Many empty lists in flow style: every '[' and ',' counts.
  CHECK_THROWS_WITH(
      Kubeconfig::from_text("config", kKubeconfigHead + "padding: [" + repeat("[],", 60000) + "]\n"),
      "config:4:150010: error: more than 100000 flow indicators ([, { and ,): the file is too large "
      "to read");
  // Nested empty lists, flow and block.
  CHECK_THROWS_WITH(Kubeconfig::from_text("config", kKubeconfigHead + "padding: " + std::string(200000, '[')),
                    Catch::Contains("more than 100000 flow indicators"));
  CHECK_THROWS_AS(
      Kubeconfig::from_text("config", kKubeconfigHead + "padding: " + repeat("- ", 200000) + "x\n"),
      KubeconfigError);
  // A block list of scalars: every node counts.
  CHECK_THROWS_WITH(Kubeconfig::from_text("config", kKubeconfigHead + "padding:\n" + repeat("- a\n", 100000)),
                    "config:99996:3: error: more than 100000 nodes: the file is too large to read");
  // Just within: read.
  CHECK(Kubeconfig::from_text("config", kKubeconfigHead + "padding:\n" + repeat("- a\n", 99990))
            .current_context() == "a");
}

TEST_CASE("a kubeconfig over 4 MiB is refused", "[yaml_bounds][kubeconfig]") {
  TempDir tmp;
  const std::string big =
      tmp.write("config", kKubeconfigHead + "# " + std::string(4 * 1024 * 1024, 'x') + "\n");
  CHECK_THROWS_WITH(Kubeconfig::load({big}), big + ": error: cannot read: larger than 4 MiB");
}

TEST_CASE("skaffold files over 1 MiB or of too many nodes are refused", "[yaml_bounds][skaffold]") {
  TempDir tmp;
  const std::string big = tmp.write(
      "big/skaffold.yaml", "build:\n  local:\n    push: true\n# " + std::string(1024 * 1024, 'x') + "\n");
  CHECK_THROWS_WITH(lcrules::read_skaffold_yaml_push(big), big + ": error: cannot read: larger than 1 MiB");
  const std::string nodes = tmp.write(
      "nodes/skaffold.yaml", "build:\n  local:\n    push: true\npadding:\n" + repeat("- a\n", 100000));
  CHECK_THROWS_WITH(lcrules::read_skaffold_yaml_push(nodes),
                    nodes + ":99996:3: error: more than 100000 nodes: the file is too large to read");
  const std::string nested = tmp.write("nested/skaffold.yaml", "padding: " + std::string(200000, '['));
  CHECK_THROWS_WITH(lcrules::read_skaffold_yaml_push(nested),
                    Catch::Contains("more than 100000 flow indicators"));
  const std::string global =
      tmp.write("config", "global: {local-cluster: true}\npadding: [" + repeat("[],", 60000) + "]\n");
  CHECK_THROWS_AS(lcrules::SkaffoldGlobalConfig::load(global), ConfigError);
  const std::string ok = tmp.write("ok/skaffold.yaml", "build:\n  local:\n    push: true\n");
  CHECK(lcrules::read_skaffold_yaml_push(ok) == "true");
}
