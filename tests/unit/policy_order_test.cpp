// Stage policy in dependency order: every rule that sets a decision field runs before the
// rules that read it, a cycle is a load error, and the rule first in priority order still
// wins a field. Then the property for the shipped rules: over every combination of
// products, Skaffold settings, cluster probes and DOCKER_HOST, the fields of a decision agree.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/checker.hpp"
#include "engine/core/evaluator.hpp"
#include "engine/core/loader.hpp"
#include "grammar/parser.hpp"

namespace {

struct Checked {
  lcrules::CheckResult result;
  std::vector<std::string> errors;  // headlines
};

Checked check_text(const std::string& text) {
  auto parsed = lcrules::parse_rules(text, "p.rules");
  REQUIRE(!parsed.error);
  std::vector<lcrules::ast::File> files;
  files.push_back(std::move(*parsed.file));
  Checked out{lcrules::check_rule_files(std::move(files)), {}};
  for (const auto& e : out.result.errors) out.errors.push_back(lcrules::headline(e));
  return out;
}

std::vector<std::string> policy_order(const lcrules::RuleSet& rules) {
  std::vector<std::string> names;
  for (const auto* r : rules.active) {
    if (r->stage == lcrules::ast::Stage::Policy) names.push_back(r->name);
  }
  return names;
}

lcrules::EvaluationInput input_for(const std::string& context) {
  lcrules::EvaluationInput in;
  in.context.name = context;
  return in;
}

// An identify rule deciding everything, for the policy rules below to work on.
const std::string kBase = R"(
rule base {
  set cluster = "kind"
  set local = true
  set cluster_name = "dev"
  set load_images = true
  set push_images = false
  set load_command = ["kind", "load", "docker-image", "{IMAGE}"]
  set registry = null
}
)";

}  // namespace

TEST_CASE("a policy rule runs after every other policy rule that sets a field it reads", "[policy]") {
  const auto c = check_text(kBase + R"(
rule reader {
  stage policy
  priority 900
  when decision.push_images == "true"
  note "pushing to ${decision.registry}"
}
rule other { stage policy priority 500 note "first: nothing to wait for" }
rule to-registry {
  stage policy
  priority 100
  set load_images = false
  set push_images = true
  set registry = "localhost:5001"
}
)");
  REQUIRE(c.errors.empty());
  CHECK(policy_order(c.result.rule_set) == std::vector<std::string>{"other", "to-registry", "reader"});
  // The evaluation order is also the order the rule set lists (`lcrules rules`).
  std::vector<std::string> listed;
  for (const auto& r : c.result.rule_set.rules) {
    if (r.stage == lcrules::ast::Stage::Policy) listed.push_back(r.name);
  }
  CHECK(listed == policy_order(c.result.rule_set));
  const auto d = lcrules::evaluate(c.result.rule_set, input_for("x"));
  CHECK(d.notes == std::vector<std::string>{"first: nothing to wait for", "pushing to localhost:5001"});
}

TEST_CASE("policy rules keep priority order when nothing ties them", "[policy]") {
  const auto c = check_text(kBase + R"(
rule b { stage policy priority 100 when decision.cluster == "kind" note "b" }
rule a { stage policy priority 200 when decision.local == "true" note "a" }
rule c { stage policy priority 100 set registry = "r" }
)");
  REQUIRE(c.errors.empty());
  CHECK(policy_order(c.result.rule_set) == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("a rule reading and setting the same field reads it as the other setters left it", "[policy]") {
  const auto c = check_text(kBase + R"(
rule clear-load-command {
  stage policy
  priority 900
  when decision.load_images == "false" and decision.load_command is set
  set load_command = null
}
rule no-load {
  stage policy
  priority 100
  set load_images = false
}
)");
  REQUIRE(c.errors.empty());
  CHECK(policy_order(c.result.rule_set) == std::vector<std::string>{"no-load", "clear-load-command"});
  const auto d = lcrules::evaluate(c.result.rule_set, input_for("x"));
  CHECK_FALSE(d.load_images);
  CHECK_FALSE(d.load_command.has_value());
}

TEST_CASE("policy rules that read what each other set are a load error", "[policy]") {
  SECTION("two rules") {
    const auto c = check_text(kBase + R"(
rule a {
  stage policy
  when decision.load_images == "true"
  set registry = "r"
}
rule b {
  stage policy
  when decision.registry is set
  set load_images = false
}
)");
    REQUIRE(c.errors.size() == 1);
    CHECK(c.errors[0] ==
          "p.rules:17:6: error: policy rules \"b\" and \"a\" depend on each other: \"b\" reads "
          "decision.registry, which \"a\" sets, and \"a\" reads decision.load_images, which \"b\" sets");
  }
  SECTION("three rules, through notes and values") {
    const auto c = check_text(kBase + R"(
rule a { stage policy set local = false note "${decision.push_images}" }
rule b { stage policy set push_images = true set registry = "${decision.cluster_name}" }
rule c { stage policy set cluster_name = "${decision.local}" }
)");
    REQUIRE(c.errors.size() == 1);
    CHECK(c.errors[0] ==
          "p.rules:14:6: error: policy rules \"c\", \"a\" and \"b\" depend on each other: \"c\" reads "
          "decision.local, which \"a\" sets, \"a\" reads decision.push_images, which \"b\" sets, and \"b\" "
          "reads decision.cluster_name, which \"c\" sets");
  }
  SECTION("the shortest cycle through the rule defined last, not one through an unrelated rule") {
    // `loader` reads and sets load_images, as a shipped rule may: it lies on a longer cycle
    // with a and b, but a and b alone are the cycle to fix.
    const auto c = check_text(kBase + R"(
rule loader { stage policy priority 900 when decision.load_images == "false" set load_images = true }
rule a { stage policy when decision.load_images == "true" set registry = "r" }
rule b { stage policy when decision.registry is set set load_images = false }
)");
    REQUIRE(c.errors.size() == 1);
    CHECK(c.errors[0] ==
          "p.rules:14:6: error: policy rules \"b\" and \"a\" depend on each other: \"b\" reads "
          "decision.registry, which \"a\" sets, and \"a\" reads decision.load_images, which \"b\" sets");
  }
  SECTION("a disabled rule takes no part") {
    auto user = lcrules::parse_rules("disable b\n", "user.rules");
    auto shipped = lcrules::parse_rules(kBase + R"(
rule a { stage policy when decision.load_images == "true" set registry = "r" }
rule b { stage policy when decision.registry is set set load_images = false }
)",
                                        "p.rules");
    REQUIRE((!user.error && !shipped.error));
    std::vector<lcrules::ast::File> files;
    files.push_back(std::move(*shipped.file));
    files.push_back(std::move(*user.file));
    const auto result = lcrules::check_rule_files(std::move(files));
    CHECK(result.errors.empty());
  }
}

TEST_CASE("the policy rule first in priority order wins a field, whatever the evaluation order", "[policy]") {
  const std::string rules = kBase + R"(
rule high {
  stage policy
  priority 500
  when decision.push_images == "true" and env.HIGH == "yes"
  set registry = "high.example"
}
rule low {
  stage policy
  priority 100
  set load_images = false
  set push_images = true
  set registry = "low.example"
}
rule last {
  stage policy
  priority 50
  when decision.registry is set
  set load_images = true
  set cluster_name = "named by last"
  note "registry ${decision.registry}"
}
)";
  const auto c = check_text(rules);
  REQUIRE(c.errors.empty());
  CHECK(policy_order(c.result.rule_set) == std::vector<std::string>{"low", "high", "last"});
  SECTION("the better rule matches: its value replaces the one evaluated before it") {
    auto in = input_for("x");
    in.getenv = [](const std::string& name) -> std::optional<std::string> {
      if (name == "HIGH") return "yes";
      return std::nullopt;
    };
    lcrules::Explanation ex;
    const auto d = lcrules::evaluate(c.result.rule_set, in, &ex);
    CHECK(d.registry == std::optional<std::string>("high.example"));
    // `last` ranks after `low`, which decided load_images: it loses it.
    CHECK_FALSE(d.load_images);
    CHECK(d.notes == std::vector<std::string>{"registry high.example"});
    const auto& high =
        *std::find_if(ex.rules.begin(), ex.rules.end(), [](const auto& t) { return t.rule->name == "high"; });
    REQUIRE(high.reads.size() == 1);
    CHECK(high.reads[0].field == lcrules::Field::PushImages);
    CHECK(high.reads[0].value == "true");
    CHECK(high.reads[0].rule->name == "low");
    REQUIRE(high.replaced.size() == 1);
    CHECK(high.replaced[0].rule->name == "low");
    const auto& last =
        *std::find_if(ex.rules.begin(), ex.rules.end(), [](const auto& t) { return t.rule->name == "last"; });
    CHECK(last.lost == std::vector<lcrules::Field>{lcrules::Field::LoadImages});
    CHECK(ex.fields[static_cast<std::size_t>(lcrules::Field::Registry)].rule->name == "high");
  }
  SECTION("the better rule does not match: the value stays") {
    const auto d = lcrules::evaluate(c.result.rule_set, input_for("x"));
    CHECK(d.registry == std::optional<std::string>("low.example"));
    CHECK(d.notes == std::vector<std::string>{"registry low.example"});
  }
}

TEST_CASE("a policy rule whose fields better rules decided is skipped", "[policy]") {
  const auto c = check_text(kBase + R"(
rule first { stage policy priority 500 set registry = "a" }
rule second {
  stage policy
  priority 100
  when env.NEVER_READ == "x"
  set registry = "b"
}
)");
  REQUIRE(c.errors.empty());
  lcrules::Explanation ex;
  bool read_env = false;
  auto in = input_for("x");
  in.getenv = [&](const std::string&) -> std::optional<std::string> {
    read_env = true;
    return std::nullopt;
  };
  const auto d = lcrules::evaluate(c.result.rule_set, in, &ex);
  CHECK(d.registry == std::optional<std::string>("a"));
  CHECK_FALSE(read_env);
  CHECK(ex.rules.back().outcome == lcrules::Explanation::RuleTrace::Outcome::Skipped);
}

// --- The shipped rules: every combination gives a decision whose fields agree ---------

namespace {

// What the fake cluster advertises: nothing, a KEP-1755 ConfigMap on this machine's
// loopback or elsewhere, registry annotations on its first node, MicroK8s' registry add-on.
enum class Advertises { Nothing, ConfigMapLocal, ConfigMapRemote, Annotations, Microk8sAddon };

// Answers the commands the shipped rules run: no minikube, no node or version that names a
// product, and the registry the cluster advertises.
class FakeCluster final : public lcrules::CommandExecutor {
 public:
  explicit FakeCluster(Advertises advertises) : advertises_(advertises) {}
  lcrules::CommandResult run(const lcrules::CommandRequest& request) override {
    lcrules::CommandResult r;
    const auto& argv = request.argv;
    const auto asks = [&](const char* word) {
      return std::find(argv.begin(), argv.end(), word) != argv.end();
    };
    if (argv[0] != "kubectl") {
      r.status = lcrules::CommandResult::Status::NotFound;
      r.reason = "not found on PATH";
      return r;
    }
    r.status = lcrules::CommandResult::Status::Exited;
    r.exit_code = 0;
    if (asks("local-registry-hosting") && advertises_ == Advertises::ConfigMapLocal) {
      r.out = "host: \"localhost:5001\"\nhostFromContainerRuntime: \"kind-registry:5000\"\n";
    } else if (asks("local-registry-hosting") && advertises_ == Advertises::ConfigMapRemote) {
      r.out = "host: \"registry.example.com:5000\"\n";
    } else if (asks("nodes") && advertises_ == Advertises::Annotations) {
      r.out = R"({"kind": "List", "items": [{"kind": "Node", "metadata": {"name": "n1", "annotations": )"
              R"({"tilt.dev/registry": "localhost:5005", "tilt.dev/registry-from-cluster": "registry:5000",)"
              R"( "kind.x-k8s.io/registry": "localhost:5000"}}}]})";
    } else if (asks("service") && advertises_ == Advertises::Microk8sAddon) {
      r.out =
          R"({"kind": "Service", "spec": {"type": "NodePort", "ports": [{"port": 5000, "nodePort": 32000}]}})";
    } else {
      r.exit_code = 1;
      r.err = "Error from server (NotFound)";
    }
    return r;
  }

 private:
  Advertises advertises_;
};

struct Product {
  std::string context;
  std::optional<std::string> cluster;
  std::optional<std::string> server;
  std::optional<std::string> user;
};

// One context per product the shipped rules name, and one they do not know.
const std::vector<Product> kProducts = {
    {"kind-dev", "kind-dev", "https://127.0.0.1:35001", "kind-dev"},
    {"dev@kind", "dev@kind", "https://127.0.0.1:35001", "dev@kind"},
    {"k3d-dev", "k3d-dev", "https://0.0.0.0:6443", "admin@k3d-dev"},
    {"minikube", "minikube", "https://192.168.49.2:8443", "minikube"},
    {"docker-desktop", "docker-desktop", "https://kubernetes.docker.internal:6443", "docker-desktop"},
    {"docker-for-desktop", "docker-for-desktop-cluster", "https://localhost:6443", "docker-desktop"},
    {"rancher-desktop", "rancher-desktop", "https://127.0.0.1:6443", "rancher-desktop"},
    {"orbstack", "orbstack", "https://127.0.0.1:26443", "orbstack"},
    {"microk8s", "microk8s-cluster", "https://127.0.0.1:16443", "admin"},
    {"colima", "colima", "https://127.0.0.1:6443", "colima"},
    {"colima-work", "colima-work", "https://127.0.0.1:6443", "colima-work"},
    {"kwok-dev", "kwok-dev", "https://127.0.0.1:32766", "kwok-dev"},
    {"admin@talos-default", "talos-default", "https://10.5.0.2:6443", "admin@talos-default"},
    {"crc-admin", "api-crc-testing:6443", "https://api.crc.testing:6443", "kubeadmin"},
    {"minishift", "192-168-99-100:8443", "https://192.168.99.100:8443", "developer"},
    {"dind", "dind", "http://127.0.0.1:8080", std::nullopt},
    {"default", "default", "https://127.0.0.1:6443", "default"},
    {"vcluster_app_team_kind-dev", "vcluster_app_team_kind-dev", "https://127.0.0.1:8443", "x"},
    {"vcluster-docker_app", "vcluster-docker_app", "https://127.0.0.1:8443", "x"},
    {"gke_proj_europe-west1_prod", "gke_proj_europe-west1_prod", "https://34.1.2.3", "gke_proj"},
    {"arn:aws:eks:eu-west-1:123:cluster/prod", "arn:aws:eks:eu-west-1:123:cluster/prod",
     "https://ABC.gr7.eu-west-1.eks.amazonaws.com", "arn:aws:eks"},
    {"aks-prod", "aks-prod", "https://aks-prod-dns.hcp.westeurope.azmk8s.io:443", "clusterUser_aks"},
    {"prod", "prod", "https://10.9.9.9:6443", "prod"},
};

lcrules::RuleSet shipped_rules() {
  std::vector<lcrules::Error> errors;
  const auto files =
      lcrules::collect_paths({LCRULES_SOURCE_DIR "/rules"}, lcrules::RuleOrigin::Shipped, errors);
  REQUIRE(errors.empty());
  auto loaded = lcrules::load_rule_set(files);
  REQUIRE(loaded.errors.empty());
  return std::move(*loaded.rule_set);
}

bool has_note(const lcrules::Decision& d, const std::string& part) {
  return std::any_of(d.notes.begin(), d.notes.end(),
                     [&](const std::string& n) { return n.find(part) != std::string::npos; });
}

}  // namespace

TEST_CASE("every combination of shipped rules gives a decision whose fields agree", "[policy][rules]") {
  const auto rules = shipped_rules();
  const std::vector<std::optional<std::string>> tri = {std::nullopt, "true", "false"};
  const std::vector<std::optional<std::string>> absent_or_true = {std::nullopt, "true"};
  const std::vector<std::optional<Advertises>> probes = {std::nullopt,  // no --probe-cluster
                                                         Advertises::Nothing,
                                                         Advertises::ConfigMapLocal,
                                                         Advertises::ConfigMapRemote,
                                                         Advertises::Annotations,
                                                         Advertises::Microk8sAddon};
  // DOCKER_HOST unset, or naming a daemon no product shares with its cluster.
  const std::vector<std::optional<std::string>> docker_hosts = {std::nullopt, "tcp://remote:2376"};
  int evaluated = 0, registries = 0, made_local = 0, docker_host_loads = 0;
  for (const auto& product : kProducts) {
    for (const auto& docker_host : docker_hosts) {
      for (const auto& local_cluster : tri) {
        for (const auto& kind_disable : absent_or_true) {
          for (const auto& k3d_disable : absent_or_true) {
            for (const auto& probe : probes) {
              for (const auto& push : tri) {
                lcrules::EvaluationInput in;
                in.context.name = product.context;
                in.context.in_kubeconfig = true;
                in.context.cluster_ref = product.cluster;
                in.context.cluster_found = true;
                in.context.server = product.server;
                in.context.user = product.user;
                in.context.file = "/home/u/.kube/config";
                in.kubeconfig_files = {"/home/u/.kube/config"};
                in.getenv = [docker_host](const std::string& name) -> std::optional<std::string> {
                  if (name == "HOME") return "/home/u";
                  if (name == "DOCKER_HOST") return docker_host;
                  return std::nullopt;
                };
                in.file_exists = [](const std::string&) { return false; };
                std::map<std::string, std::string> config;
                if (local_cluster) config["local-cluster"] = *local_cluster;
                if (kind_disable) config["kind-disable-load"] = *kind_disable;
                if (k3d_disable) config["k3d-disable-load"] = *k3d_disable;
                in.skaffold_config = [config] { return config; };
                in.skaffold_build_local_push = push;
                in.probe_cluster = probe.has_value();
                FakeCluster cluster(probe.value_or(Advertises::Nothing));
                in.executor = &cluster;
                const auto d = lcrules::evaluate(rules, in);
                ++evaluated;
                registries += d.registry.has_value();
                INFO(product.context << " local-cluster=" << local_cluster.value_or("-")
                                     << " kind-disable-load=" << kind_disable.value_or("-")
                                     << " k3d-disable-load=" << k3d_disable.value_or("-")
                                     << " probe=" << (probe ? static_cast<int>(*probe) : -1) << " push="
                                     << push.value_or("-") << " DOCKER_HOST=" << docker_host.value_or("-")
                                     << " -> cluster " << d.cluster);
                if (!d.load_images) CHECK_FALSE(d.load_command.has_value());
                if (!d.push_images) CHECK_FALSE(d.registry.has_value());
                if (has_note(d, "Images loaded into a local cluster")) CHECK(d.load_images);
                if (has_note(d, "minikube runs its own Docker daemon")) CHECK(d.cluster == "minikube");
                if (has_note(d, "taken as a local cluster")) {
                  ++made_local;
                  CHECK(d.local);
                  CHECK(d.cluster == "unknown");
                  CHECK(d.push_images);
                }
                if (has_note(d, "tilt.dev/registry-from-cluster")) CHECK(d.registry.has_value());
                if (has_note(d, "hostFromContainerRuntime"))
                  CHECK(d.registry == std::optional<std::string>("localhost:5001"));
                // A DOCKER_HOST elsewhere: the products sharing their daemon load into it with a
                // load command, or keep Skaffold's no load, no push; no other product speaks of it.
                if (has_note(d, "images built there are not in the cluster, so they are loaded")) {
                  ++docker_host_loads;
                  CHECK(docker_host.has_value());
                  CHECK((d.cluster == "orbstack" || d.cluster == "rancher-desktop" || d.cluster == "colima"));
                  CHECK(d.load_images);
                  CHECK(d.load_command.has_value());
                  CHECK_FALSE(d.push_images);
                  CHECK_FALSE(local_cluster.has_value());
                }
                if (has_note(d, "The decision stays Skaffold's")) {
                  CHECK(docker_host.has_value());
                  CHECK_FALSE(d.load_images);
                  CHECK_FALSE(d.push_images);
                }
                if (!docker_host) CHECK_FALSE(has_note(d, "DOCKER_HOST"));
              }
            }
          }
        }
      }
    }
  }
  CHECK(evaluated == static_cast<int>(kProducts.size()) * 216 * 2);
  CHECK(registries > 0);         // the advertising cases did reach the registry rules
  CHECK(made_local > 0);         // and an unknown cluster with a loopback registry became local
  CHECK(docker_host_loads > 0);  // and a DOCKER_HOST elsewhere made a shared-daemon product load
}
