#include "engine/core/evaluator.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "engine/core/checker.hpp"
#include "engine/core/command_predicates.hpp"
#include "engine/core/explanation_recorder.hpp"
#include "engine/core/fact_lookup.hpp"
#include "engine/core/predicates.hpp"
#include "engine/core/string_tests.hpp"

namespace lcrules {

std::string describe_argv(const Argv& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    const bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`;&|<>(){}*?") == std::string::npos;
    out += plain ? a : quote_value(a);
  }
  return out;
}

namespace {

// One evaluation: applies the active rules in order (identify, then policy) and assembles
// the decision from the fields they set and the notes they add. Facts, conditions,
// commands and the explanation are the units it drives.
class DecisionAssembly {
 public:
  DecisionAssembly(const RuleSet& rules, const EvaluationInput& input, Explanation* explanation)
      : rules_(rules),
        recorder_(explanation),
        facts_(input),
        tests_(facts_),
        commands_(facts_, tests_, recorder_),
        conditions_(facts_, tests_, commands_) {}

  Decision run() {
    const EvaluationInput& in = facts_.input();
    Decision d;
    d.context = in.context.name;
    if (in.context.in_kubeconfig) d.kubeconfig_cluster = in.context.cluster_ref;
    if (!in.context.in_kubeconfig) recorder_.context_not_in_kubeconfig(in.context.name);
    // The checker orders the active rules by stage first: identify, then policy. Finding
    // the first policy rule by bisection spares reading the stage of every identify rule
    // skipped below (each CompiledRule is several cache lines).
    const auto identify_end =
        std::partition_point(rules_.active.begin(), rules_.active.end(),
                             [](const CompiledRule* r) { return r->stage == ast::Stage::Identify; });
    // Identify rules run in priority order, so a field decided already was decided by a
    // better rule.
    Owners identify;
    auto it = rules_.active.begin();
    for (; it != identify_end && identify.decided != kAllFields; ++it) apply_rule(**it, d, identify, false);
    // Once every field is decided only rules that set no field (notes) can still matter.
    for (; it != identify_end; ++it) {
      const CompiledRule& rule = **it;
      if (rule.field_mask != 0) {
        recorder_.rule_not_reached();
        continue;
      }
      apply_rule(rule, d, identify, false);
    }
    recorder_.identify_decision(d, identify.by);
    if (it != rules_.active.end()) {
      // Stage policy may replace any field. Its rules run in dependency order (every rule
      // that sets a field before the rules that read it), and each reads the decision as
      // the rules before it left it; the rule first in priority order still wins a field.
      facts_.snapshot_decision(d);
      Owners policy;
      setters_ = &identify.by;
      for (; it != rules_.active.end(); ++it) {
        if (apply_rule(**it, d, policy, true)) facts_.snapshot_decision(d);
      }
      recorder_.policy_decision(d, policy.by);
    }
    return d;
  }

 private:
  // Who decided each field in one stage: the rule's rank (its place in priority order).
  struct Owners {
    std::uint32_t decided = 0;
    std::array<std::uint32_t, kFieldCount> rank{};
    RulePerField by{};
    // The decided fields whose rule ranks before `r`.
    std::uint32_t before(std::uint32_t r) const {
      std::uint32_t mask = 0;
      for (std::size_t f = 0; f < kFieldCount; ++f) {
        if ((decided & (1u << f)) && rank[f] < r) mask |= 1u << f;
      }
      return mask;
    }
  };

  // Applies one rule; true when it set a field. `by_rank`: fields are taken only from
  // rules of worse rank (stage policy, whose evaluation order is not priority order).
  bool apply_rule(const CompiledRule& rule, Decision& d, Owners& owners, bool by_rank) {
    RuleTraceRecorder trace = recorder_.begin_rule(rule);
    const std::uint32_t taken = by_rank ? owners.before(rule.rank) : owners.decided;
    if (rule.field_mask != 0 && (rule.field_mask & ~taken) == 0) {
      trace.skipped(rule);
      return false;
    }
    if (trace.on() && rule.reads_mask != 0) record_reads(rule, d, owners, trace);
    facts_.clear_captures();
    commands_.set_rule(rule);
    const bool matched = !rule.when || (trace.on() ? conditions_.eval(*rule.when, trace.condition_checks())
                                                   : conditions_.holds(*rule.when));
    trace.outcome(matched);
    if (!matched) return false;
    bool changed = false;
    for (const auto& set : rule.sets) {
      const std::uint32_t bit = field_bit(set.field);
      if (taken & bit) {
        trace.lost(set.field);
        continue;
      }
      std::string missing;
      if (!assign(d, set, &missing)) {
        trace.value_not_set(set.field, missing);
        continue;
      }
      const auto f = static_cast<std::size_t>(set.field);
      if (by_rank && (owners.decided & bit)) trace.replaced(set.field, owners.by[f]);
      owners.decided |= bit;
      owners.rank[f] = rule.rank;
      owners.by[f] = &rule;
      changed = true;
      trace.decided(set.field);
    }
    for (const auto& note : rule.notes) {
      std::string text, missing;
      if (facts_.render(note, text, &missing)) {
        trace.note(text);
        d.notes.push_back(std::move(text));  // no second copy when explain is off
      } else {
        trace.note_not_set(missing);
      }
    }
    return changed;
  }

  // Explaining: the decision fields a policy rule reads, their values and who set them.
  void record_reads(const CompiledRule& rule, const Decision& d, const Owners& policy,
                    RuleTraceRecorder& trace) {
    for (std::size_t f = 0; f < kFieldCount; ++f) {
      if (!(rule.reads_mask & (1u << f))) continue;
      const CompiledRule* by = policy.by[f] ? policy.by[f] : (setters_ ? (*setters_)[f] : nullptr);
      trace.read(static_cast<Field>(f), d, by);
    }
  }

  bool assign(Decision& d, const CompiledSet& set, std::string* missing) {
    const CompiledValue& v = set.value;
    switch (set.field) {
      case Field::Local:
        d.local = std::get<bool>(v);
        return true;
      case Field::LoadImages:
        d.load_images = std::get<bool>(v);
        return true;
      case Field::PushImages:
        d.push_images = std::get<bool>(v);
        return true;
      case Field::Cluster:
        return facts_.render(std::get<CompiledTemplate>(v), d.cluster, missing);
      case Field::ClusterName:
      case Field::Registry: {
        auto& target = set.field == Field::ClusterName ? d.cluster_name : d.registry;
        if (std::holds_alternative<ast::Null>(v)) {
          target.reset();
          return true;
        }
        std::string text;
        if (!facts_.render(std::get<CompiledTemplate>(v), text, missing)) return false;
        target = std::move(text);
        return true;
      }
      case Field::LoadCommand: {
        facts_.settle_load_command();
        if (std::holds_alternative<ast::Null>(v)) {
          d.load_command.reset();
          return true;
        }
        const auto& commands = std::get<std::vector<std::vector<CompiledTemplate>>>(v);
        std::vector<Argv> pipeline;
        pipeline.reserve(commands.size());
        for (const auto& argv : commands) {
          Argv& out = pipeline.emplace_back();
          out.reserve(argv.size());
          for (const auto& arg : argv) {
            if (!facts_.render(arg, out.emplace_back(), missing)) return false;
          }
        }
        d.load_command = std::move(pipeline);
        return true;
      }
    }
    return false;
  }

  const RuleSet& rules_;
  ExplanationRecorder recorder_;
  FactLookup facts_;
  StringTestEvaluator tests_;
  CommandPredicates commands_;
  ConditionEvaluator conditions_;
  const RulePerField* setters_ = nullptr;  // stage policy: who decided each field in stage identify
};

using Kind = ConditionNode::Kind;

}  // namespace

Decision evaluate(const RuleSet& rules, const EvaluationInput& input, Explanation* explanation) {
  return DecisionAssembly(rules, input, explanation).run();
}

namespace {

void collect_template_refs(const CompiledTemplate& t, std::vector<const FactRef*>& facts);

void collect_refs(const ConditionNode& n, std::vector<const FactRef*>& facts,
                  std::vector<std::pair<const CompiledCommand*, const CompiledRule*>>& commands,
                  const CompiledRule* rule) {
  if (n.kind == Kind::Fact || n.kind == Kind::IsSet) facts.push_back(&n.fact);
  if (n.kind == Kind::Value || n.kind == Kind::Read) collect_template_refs(*n.subject, facts);
  if (n.kind == Kind::Command) commands.emplace_back(n.command.get(), rule);
  for (const auto& c : n.children) collect_refs(c, facts, commands, rule);
}

void collect_template_refs(const CompiledTemplate& t, std::vector<const FactRef*>& facts) {
  for (const auto& part : t.parts) {
    if (const auto* ref = std::get_if<CompiledReference>(&part)) {
      facts.push_back(&ref->fact);
      if (ref->argument) collect_template_refs(*ref->argument, facts);
    }
  }
}

}  // namespace

std::vector<FactValue> list_facts(const RuleSet& rules, const EvaluationInput& input, bool run_commands) {
  Explanation ex;  // the commands run record into it; it is not shown
  FactLookup lookup(input);
  StringTestEvaluator tests(lookup);
  CommandPredicates runner(lookup, tests, ExplanationRecorder(run_commands ? &ex : nullptr));
  std::vector<FactValue> out;
  auto add = [&](const std::string& name) {
    auto ref = resolve_fact(name);
    const std::string* v = ref ? lookup.fact(*ref) : nullptr;
    out.push_back({name, v ? std::optional(*v) : std::nullopt, {}});
  };
  for (const char* name :
       {"context.name", "context.cluster", "context.user", "context.namespace", "context.file"})
    add(name);
  for (const auto& [key, value] : input.context.context_extensions)
    out.push_back({"context.extension." + key, value, {}});
  for (const char* name : {"cluster.name", "cluster.server", "cluster.server.scheme", "cluster.server.host",
                           "cluster.server.port", "cluster.certificate-authority"}) {
    add(name);
  }
  for (const auto& [key, value] : input.context.cluster_extensions)
    out.push_back({"cluster.extension." + key, value, {}});
  for (const char* name : {"user.name", "user.exec.command", "kubeconfig.files", "option.probe-cluster",
                           "skaffold.local-cluster", "skaffold.kind-disable-load",
                           "skaffold.k3d-disable-load", "skaffold.build.local.push"}) {
    add(name);
  }
  std::vector<const FactRef*> facts;
  std::vector<std::pair<const CompiledCommand*, const CompiledRule*>> commands;
  for (const CompiledRule* active : rules.active) {  // a disabled rule's commands never run
    const CompiledRule& rule = *active;
    if (rule.when) collect_refs(*rule.when, facts, commands, &rule);
    for (const auto& set : rule.sets) {
      if (const auto* t = std::get_if<CompiledTemplate>(&set.value)) collect_template_refs(*t, facts);
    }
    for (const auto& note : rule.notes) collect_template_refs(note, facts);
  }
  std::vector<std::string> env_names;
  for (const auto* f : facts) {
    if (f->kind == FactRef::Kind::Env &&
        std::find(env_names.begin(), env_names.end(), f->key) == env_names.end()) {
      env_names.push_back(f->key);
    }
  }
  std::sort(env_names.begin(), env_names.end());
  for (const auto& name : env_names) add("env." + name);
  std::vector<std::string> seen;
  for (const auto& [cmd, rule] : commands) {
    runner.set_rule(*rule);
    std::string shown;
    Argv argv;
    bool complete = true;
    for (const auto& arg : cmd->argv) {
      std::string text;
      if (!lookup.render(arg, text, nullptr)) {
        complete = false;
        text = arg.spelling;
      }
      argv.push_back(text);
    }
    shown = describe_argv(argv);
    if (std::find(seen.begin(), seen.end(), shown) != seen.end()) continue;
    seen.push_back(shown);
    FactValue row{"command", shown, "used by rule " + rule->name};
    if (run_commands && complete) {
      auto& ran = runner.run(*cmd, argv);
      row.detail = command_status(ran.result) + "; output: " + output_head(ran.result.out) +
                   "; used by rule " + rule->name;
    } else if (!complete) {
      row.detail = "cannot run here: a fact it needs is not set; used by rule " + rule->name;
    }
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace lcrules
