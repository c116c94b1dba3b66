// "Skaffold wins where it speaks" as a property of the shipped rule set's priorities: no
// rule beyond Skaffold's own detection can change what Skaffold decides. The behaviour is
// tested case by case in rules/skaffold-reference.rules-test.yaml; this test keeps a new
// or re-prioritised rule from breaking it anywhere.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>

#include "engine/core/loader.hpp"
#include "engine/core/ruleset.hpp"

namespace {

using lcrules::CompiledRule;
using lcrules::Field;
using lcrules::field_bit;

// The rules that reproduce Skaffold v1.39's detection: its settings (skaffold.*), the
// context names it knows, and minikube after its binary check.
const std::set<std::string> kSkaffoldDetection = {"docker-desktop",
                                                  "docker-desktop.deprecated-name",
                                                  "minikube",
                                                  "minikube.certificate",
                                                  "minikube.profile-node",
                                                  "minikube.profile-name",
                                                  "kind",
                                                  "kind.old-cluster-name",
                                                  "k3d"};

bool is_skaffold_rule(const CompiledRule& r) {
  return r.name.rfind("skaffold.", 0) == 0 || kSkaffoldDetection.count(r.name) > 0;
}

// Policy rules that may change what Skaffold decided, and why.
const std::set<std::string> kProbePolicies = {
    // Registries the cluster advertises: only with --probe-cluster, which Skaffold never does.
    "local-registry-hosting",   "microk8s.registry-addon",  "registry.tilt-annotations",
    "registry.tilt-annotation", "registry.kind-annotation", "registry.loopback-is-local",
};

// Policy rules that load images into a product sharing its Docker daemon when DOCKER_HOST
// names another daemon: only for products Skaffold's detection does not know (it calls them
// remote), and never under Skaffold's local-cluster setting (their conditions say
// `skaffold.local-cluster is not set`; rules/docker-host.rules-test.yaml has the cases).
const std::set<std::string> kDockerHostPolicies = {
    "docker-host-elsewhere",
};

constexpr std::uint32_t kSkaffoldFields = field_bit(Field::Local) | field_bit(Field::LoadImages) |
                                          field_bit(Field::PushImages) | field_bit(Field::ClusterName);

lcrules::RuleSet shipped_rules() {
  std::vector<lcrules::Error> errors;
  const auto files =
      lcrules::collect_paths({LCRULES_SOURCE_DIR "/rules"}, lcrules::RuleOrigin::Shipped, errors);
  REQUIRE(errors.empty());
  auto loaded = lcrules::load_rule_set(files);
  REQUIRE(loaded.errors.empty());
  return std::move(*loaded.rule_set);
}

}  // namespace

TEST_CASE("every shipped rule of Skaffold's detection exists", "[rules][skaffold]") {
  const auto rules = shipped_rules();
  for (const auto& name : kSkaffoldDetection) {
    INFO(name);
    CHECK(std::any_of(rules.rules.begin(), rules.rules.end(),
                      [&](const CompiledRule& r) { return r.name == name; }));
  }
}

TEST_CASE("no identify rule beyond Skaffold's outranks a Skaffold rule on the fields Skaffold decides",
          "[rules][skaffold]") {
  const auto rules = shipped_rules();
  int lowest_skaffold = 1 << 30;
  std::string lowest_name;
  for (const auto* r : rules.active) {
    if (r->stage == lcrules::ast::Stage::Identify && is_skaffold_rule(*r) &&
        (r->field_mask & kSkaffoldFields) && r->priority < lowest_skaffold) {
      lowest_skaffold = r->priority;
      lowest_name = r->name;
    }
  }
  REQUIRE(lowest_skaffold < (1 << 30));
  for (const auto* r : rules.active) {
    if (r->stage != lcrules::ast::Stage::Identify || is_skaffold_rule(*r)) continue;
    if (!(r->field_mask & kSkaffoldFields)) continue;
    INFO(r->name << " (priority " << r->priority << ") sets a field Skaffold decides, above " << lowest_name
                 << " (priority " << lowest_skaffold << ")");
    CHECK(r->priority < lowest_skaffold);
  }
}

TEST_CASE("policy rules change what Skaffold decided only with --probe-cluster or a DOCKER_HOST elsewhere",
          "[rules][skaffold]") {
  const auto rules = shipped_rules();
  for (const auto* r : rules.active) {
    if (r->stage != lcrules::ast::Stage::Policy || is_skaffold_rule(*r)) continue;
    if (!(r->field_mask & kSkaffoldFields)) continue;
    INFO(r->name << " is a policy rule that sets local, load_images, push_images or cluster_name");
    CHECK(kProbePolicies.count(r->name) + kDockerHostPolicies.count(r->name) == 1);
  }
}
