// Decision blocks: `decide NAME(...)` compiles to exactly the `set` lines written out,
// overrides change the expanded fields, and identify rules that leave fields unsaid warn.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/core/checker.hpp"
#include "engine/core/evaluator.hpp"
#include "engine/core/output.hpp"
#include "grammar/parser.hpp"

namespace {

lcrules::CheckResult check_texts(const std::vector<std::string>& texts) {
  std::vector<lcrules::ast::File> files;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto parsed = lcrules::parse_rules(texts[i], "f" + std::to_string(i) + ".rules");
    REQUIRE(!parsed.error);
    files.push_back(std::move(*parsed.file));
  }
  return lcrules::check_rule_files(std::move(files));
}

std::string decide(const lcrules::RuleSet& rules, const std::string& context, const std::string& cluster) {
  lcrules::EvaluationInput in;
  in.context.name = context;
  in.context.in_kubeconfig = true;
  in.context.cluster_ref = cluster;
  in.context.cluster_found = true;
  lcrules::Explanation ex;
  const auto d = lcrules::evaluate(rules, in, &ex);
  std::string who;
  for (const auto& f : ex.fields) who += f.rule ? f.rule->name + " " : "- ";
  return lcrules::decision_json(d, nullptr).dump() + " by " + who;
}

const std::string kDecision = R"(
decision kind(name) {
  set cluster = "kind"
  set local = true
  set cluster_name = "${name}"
  set load_images = true
  set push_images = false
  set load_command = ["kind", "load", "docker-image", "--name", "${name}", "{IMAGE}"]
  set registry = null
  note "kind cluster ${name}"
}
)";

}  // namespace

TEST_CASE("a rule using a decision decides as the set lines written out", "[decision]") {
  const auto used = check_texts({kDecision + R"(
rule kind {
  when context.name starts-with "kind-"
  decide kind("${cluster.name#kind-}")
}
rule kind.literal {
  priority 50
  decide kind("lit-x")
  set registry = "r.example"
}
)"});
  const auto written = check_texts({R"(
rule kind {
  when context.name starts-with "kind-"
  set cluster = "kind"
  set local = true
  set cluster_name = "${cluster.name#kind-}"
  set load_images = true
  set push_images = false
  set load_command = ["kind", "load", "docker-image", "--name", "${cluster.name#kind-}", "{IMAGE}"]
  set registry = null
  note "kind cluster ${cluster.name#kind-}"
}
rule kind.literal {
  priority 50
  set cluster = "kind"
  set local = true
  set cluster_name = "lit-x"
  set load_images = true
  set push_images = false
  set load_command = ["kind", "load", "docker-image", "--name", "lit-x", "{IMAGE}"]
  set registry = "r.example"
  note "kind cluster lit-x"
}
)"});
  REQUIRE(used.errors.empty());
  REQUIRE(written.errors.size() == 0);
  for (const auto& [context, cluster] :
       std::vector<std::pair<std::string, std::string>>{{"kind-dev", "kind-dev"}, {"other", "other"}}) {
    INFO(context);
    CHECK(decide(used.rule_set, context, cluster) == decide(written.rule_set, context, cluster));
  }
  CHECK(decide(used.rule_set, "other", "other").find("\"registry\":\"r.example\"") != std::string::npos);
}

TEST_CASE("an override changes the fields a decision gave the rule", "[decision]") {
  const auto c = check_texts({kDecision + R"(
rule kind { decide kind("${context.name}") }
)",
                              R"(
override kind {
  unset load_command
  replace set load_images = false
}
)"});
  REQUIRE(c.errors.empty());
  const auto& rule = c.rule_set.rules.front();
  CHECK(rule.field_mask == (lcrules::kAllFields & ~lcrules::field_bit(lcrules::Field::LoadCommand)));
  const std::string d = decide(c.rule_set, "dev", "dev");
  CHECK(d.find("\"load_images\":false") != std::string::npos);
  CHECK(d.find("\"load_command\":null") != std::string::npos);
}

TEST_CASE("a field an override unsets falls through on purpose: no warning", "[decision]") {
  const auto c = check_texts({kDecision + R"(
rule kind { decide kind("${context.name}") }
rule other { decide kind("x") }
)",
                              R"(
override kind { unset load_command }
override other { unset registry }
)",
                              R"(
override other { replace set registry = "r.example" }
)"});
  REQUIRE(c.errors.empty());
  CHECK(lcrules::rule_set_warnings(c.rule_set).empty());
  const auto& kind = c.rule_set.rules.front();
  CHECK(kind.leave_mask == lcrules::field_bit(lcrules::Field::LoadCommand));
  const auto& other = c.rule_set.rules.back();
  CHECK(other.leave_mask == 0);
}

TEST_CASE("a decision defined in a later file serves the rules of every file", "[decision]") {
  const auto c = check_texts({"rule kind { decide kind(\"${context.name}\") }\n", kDecision});
  CHECK(c.errors.empty());
  CHECK(c.rule_set.rules.front().field_mask == lcrules::kAllFields);
}

TEST_CASE("leave drops a decision's field and keeps the warning quiet", "[decision]") {
  const auto c = check_texts({kDecision + R"(
rule kind {
  decide kind("${context.name}")
  leave registry
}
rule partial {
  set cluster = "p"
  set local = true
}
rule named {
  set cluster = "n"
  leave local, cluster_name, load_images, push_images, load_command, registry
}
)"});
  REQUIRE(c.errors.empty());
  const auto& kind = *std::find_if(c.rule_set.rules.begin(), c.rule_set.rules.end(),
                                   [](const auto& r) { return r.name == "kind"; });
  CHECK_FALSE(kind.field_mask & lcrules::field_bit(lcrules::Field::Registry));
  CHECK(
      lcrules::rule_set_warnings(c.rule_set) ==
      std::vector<std::string>{
          "f0.rules:17:6: warning: rule \"partial\" sets cluster but leaves cluster_name, load_images, "
          "push_images, load_command, registry to lower rules, which may belong to another product; set them "
          "or say `leave cluster_name, load_images, push_images, load_command, registry`"});
}

TEST_CASE("a modifier on a parameter applies to the fact or text given", "[decision]") {
  const auto used = check_texts({R"(
decision named(n) {
  set cluster = "x"
  set cluster_name = "${n#kind-}"
  set registry = "${n:-none}.example"
}
rule fact { when context.name == "kind-a" decide named("${cluster.name}") }
rule text { priority 50 decide named("kind-b") set registry = "${context.name%z}" }
)"});
  const auto written = check_texts({R"(
rule fact {
  when context.name == "kind-a"
  set cluster = "x"
  set cluster_name = "${cluster.name#kind-}"
  set registry = "${cluster.name:-none}.example"
}
rule text { priority 50 set cluster = "x" set cluster_name = "b" set registry = "${context.name%z}" }
)"});
  REQUIRE(used.errors.empty());
  REQUIRE(written.errors.empty());
  CHECK(decide(used.rule_set, "kind-a", "kind-a") == decide(written.rule_set, "kind-a", "kind-a"));
  CHECK(decide(used.rule_set, "cz", "c") == decide(written.rule_set, "cz", "c"));
}
