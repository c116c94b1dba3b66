#include "engine/core/evaluator.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <list>
#include <memory>

#include "engine/core/checker.hpp"
#include "engine/facts/docpath.hpp"
#include "engine/facts/paths.hpp"

namespace lcrules {
namespace {

using Checks = std::vector<Explanation::Check>;
using Kind = ConditionNode::Kind;

constexpr std::size_t kQuoteLimit = 120;

// 'value' for explanations: control bytes escaped, long values cut.
std::string quote(std::string_view s) {
  std::string out = "'";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == kQuoteLimit) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

std::string head(const std::string& s) { return s.size() <= 200 ? s : s.substr(0, 200) + "..."; }

// Rules compare facts against short operands ("kind-", "@kind", "minikube"): a byte loop
// beats a call into libc's memcmp for those.
[[gnu::always_inline]] inline bool same_bytes(const char* a, const char* b, std::size_t n) {
  if (n > 32) return std::memcmp(a, b, n) == 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}
inline bool equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && same_bytes(a.data(), b.data(), a.size());
}
inline bool starts_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && same_bytes(s.data(), p.data(), p.size());
}
inline bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && same_bytes(s.data() + (s.size() - p.size()), p.data(), p.size());
}

const std::string kEmpty;

// The text of a template that interpolates nothing, without rendering (copying) it.
inline const std::string* literal_text(const CompiledTemplate& t) {
  if (t.parts.empty()) return &t.spelling;
  if (t.parts.size() == 1) return std::get_if<std::string>(&t.parts[0]);
  return nullptr;
}

}  // namespace

std::string describe_argv(const Argv& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    const bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`;&|<>(){}*?") == std::string::npos;
    out += plain ? a : quote(a);
  }
  return out;
}

namespace {

class Evaluation {
 public:
  Evaluation(const RuleSet& rules, const EvaluationInput& input, Explanation* ex)
      : rules_(rules), in_(input), ex_(ex) {}

  friend std::vector<FactValue> lcrules::list_facts(const RuleSet&, const EvaluationInput&, bool);

  Decision run() {
    Decision d;
    d.context = in_.context.name;
    if (in_.context.in_kubeconfig) d.kubeconfig_cluster = in_.context.cluster_ref;
    if (ex_ && !in_.context.in_kubeconfig) {
      ex_->problems.push_back({"context.name", "context " + quote(in_.context.name) +
                                                   " is not in the kubeconfig: kubeconfig facts are absent, "
                                                   "cluster.name is the context name"});
    }
    std::array<const CompiledRule*, kFieldCount> decided_by{};
    std::uint32_t decided = 0;
    // The checker orders the active rules by stage first: identify, then policy. Finding
    // the first policy rule by bisection spares reading the stage of every identify rule
    // skipped below (each CompiledRule is several cache lines).
    const auto identify_end =
        std::partition_point(rules_.active.begin(), rules_.active.end(),
                             [](const CompiledRule* r) { return r->stage == ast::Stage::Identify; });
    auto it = rules_.active.begin();
    for (; it != identify_end && decided != kAllFields; ++it) apply_rule(**it, d, decided, decided_by);
    // Once every field is decided only rules that set no field (notes) can still matter.
    for (; it != identify_end; ++it) {
      const CompiledRule& rule = **it;
      if (rule.field_mask != 0) {
        if (ex_) ++ex_->rules_not_reached;
        continue;
      }
      apply_rule(rule, d, decided, decided_by);
    }
    if (ex_) {
      for (std::size_t f = 0; f < kFieldCount; ++f) {
        ex_->fields.push_back(
            {static_cast<Field>(f), decided_by[f], value_text(d, static_cast<Field>(f)), nullptr, {}});
      }
    }
    if (it != rules_.active.end()) {
      // Stage policy reads the identify decision and may replace any field of it.
      snapshot_decision(d);
      std::array<const CompiledRule*, kFieldCount> policy_by{};
      std::uint32_t policy_decided = 0;
      for (; it != rules_.active.end(); ++it) {
        apply_rule(**it, d, policy_decided, policy_by);
      }
      if (ex_) {
        for (std::size_t f = 0; f < kFieldCount; ++f) {
          if (!policy_by[f]) continue;
          auto& ft = ex_->fields[f];
          ft.replaced_rule = ft.rule;
          ft.replaced_value = ft.value;
          ft.rule = policy_by[f];
          ft.value = value_text(d, static_cast<Field>(f));
        }
      }
    }
    return d;
  }

 private:
  struct CommandMemo {
    Argv argv;
    CommandResult result;
    bool json_parsed = false, yaml_parsed = false;
    std::optional<nlohmann::json> json, yaml;
    std::string json_error, yaml_error;
  };

  // --- rules ---------------------------------------------------------------------------

  void apply_rule(const CompiledRule& rule, Decision& d, std::uint32_t& decided,
                  std::array<const CompiledRule*, kFieldCount>& decided_by) {
    Explanation::RuleTrace* trace = nullptr;
    if (ex_) {
      ex_->rules.push_back({});
      trace = &ex_->rules.back();
      trace->rule = &rule;
    }
    if (rule.field_mask != 0 && (rule.field_mask & ~decided) == 0) {
      if (trace) {
        trace->outcome = Explanation::RuleTrace::Outcome::Skipped;
        for (const auto& s : rule.sets) trace->lost.push_back(s.field);
      }
      return;
    }
    captures_.clear();
    rule_ = &rule;
    Checks checks;
    const bool matched = !rule.when || (trace ? eval(*rule.when, &checks) : holds(*rule.when));
    if (trace) {
      trace->outcome =
          matched ? Explanation::RuleTrace::Outcome::Matched : Explanation::RuleTrace::Outcome::NotMatched;
      for (auto& c : checks) {
        if (c.held == matched) trace->checks.push_back(std::move(c));
      }
    }
    if (!matched) return;
    for (const auto& set : rule.sets) {
      const std::uint32_t bit = field_bit(set.field);
      if (decided & bit) {
        if (trace) trace->lost.push_back(set.field);
        continue;
      }
      std::string missing;
      if (!assign(d, set, &missing)) {
        if (trace)
          trace->unset_values.push_back(std::string(field_name(set.field)) + ": " + missing + " is not set");
        continue;
      }
      decided |= bit;
      decided_by[static_cast<std::size_t>(set.field)] = &rule;
      if (trace) trace->decided.push_back(set.field);
    }
    for (const auto& note : rule.notes) {
      std::string text, missing;
      if (render(note, text, &missing)) {
        if (trace) trace->notes.push_back(text);
        d.notes.push_back(std::move(text));  // no second copy when explain is off
      } else if (trace) {
        trace->unset_values.push_back("note: " + missing + " is not set");
      }
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
        return render(std::get<CompiledTemplate>(v), d.cluster, missing);
      case Field::ClusterName:
      case Field::Registry: {
        auto& target = set.field == Field::ClusterName ? d.cluster_name : d.registry;
        if (std::holds_alternative<ast::Null>(v)) {
          target.reset();
          return true;
        }
        std::string text;
        if (!render(std::get<CompiledTemplate>(v), text, missing)) return false;
        target = std::move(text);
        return true;
      }
      case Field::LoadCommand: {
        settle_load_command();
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
            if (!render(arg, out.emplace_back(), missing)) return false;
          }
        }
        d.load_command = std::move(pipeline);
        return true;
      }
    }
    return false;
  }

  // The field's value as JSON text, for explanations.
  static std::string value_text(const Decision& d, Field f) {
    auto str = [](const std::optional<std::string>& s) { return s ? nlohmann::json(*s) : nlohmann::json(); };
    nlohmann::json v;
    switch (f) {
      case Field::Cluster:
        v = d.cluster;
        break;
      case Field::Local:
        v = d.local;
        break;
      case Field::ClusterName:
        v = str(d.cluster_name);
        break;
      case Field::LoadImages:
        v = d.load_images;
        break;
      case Field::PushImages:
        v = d.push_images;
        break;
      case Field::Registry:
        v = str(d.registry);
        break;
      case Field::LoadCommand:
        if (d.load_command) v = *d.load_command;
        break;
    }
    return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  void snapshot_decision(const Decision& d) {
    identify_ = &d;
    decision_[static_cast<std::size_t>(Field::Cluster)] = d.cluster;
    decision_[static_cast<std::size_t>(Field::Local)] = d.local ? kTrue : kFalse;
    decision_[static_cast<std::size_t>(Field::ClusterName)] = d.cluster_name;
    decision_[static_cast<std::size_t>(Field::LoadImages)] = d.load_images ? kTrue : kFalse;
    decision_[static_cast<std::size_t>(Field::PushImages)] = d.push_images ? kTrue : kFalse;
    decision_[static_cast<std::size_t>(Field::Registry)] = d.registry;
    // Rendering the load command is only needed when a rule reads decision.load_command:
    // done on first use, or before a policy rule replaces it.
    load_command_pending_ = d.load_command.has_value();
  }

  void settle_load_command() {
    if (!load_command_pending_) return;
    load_command_pending_ = false;
    std::string text;
    for (const auto& argv : *identify_->load_command)
      text += (text.empty() ? "" : " | ") + describe_argv(argv);
    decision_[static_cast<std::size_t>(Field::LoadCommand)] = std::move(text);
  }

  // --- facts ---------------------------------------------------------------------------

  static const std::string* opt(const std::optional<std::string>& v) { return v ? &*v : nullptr; }

  const std::string* fact(const FactRef& f) {
    const KubeContext& c = in_.context;
    using K = FactRef::Kind;
    switch (f.kind) {
      case K::ContextName:
        return &c.name;
      case K::ContextCluster:
        return opt(c.cluster_ref);
      case K::ContextUser:
        return opt(c.user);
      case K::ContextNamespace:
        return opt(c.namespace_);
      case K::ContextFile:
        return opt(c.file);
      case K::ContextExtension: {
        auto it = c.context_extensions.find(f.key);
        return it == c.context_extensions.end() ? nullptr : &it->second;
      }
      case K::ClusterName:  // Skaffold falls back to the context name
        return c.cluster_ref ? &*c.cluster_ref : &c.name;
      case K::ClusterServer:
        return opt(c.server);
      case K::ClusterScheme:
        return opt(server_url().scheme);
      case K::ClusterHost:
        return opt(server_url().host);
      case K::ClusterPort:
        return opt(server_url().port);
      case K::ClusterCertificateAuthority:
        return opt(c.certificate_authority);
      case K::ClusterExtension: {
        auto it = c.cluster_extensions.find(f.key);
        return it == c.cluster_extensions.end() ? nullptr : &it->second;
      }
      case K::UserName:
        return opt(c.user);
      case K::UserExecCommand:
        return opt(c.user_exec_command);
      case K::Env: {
        // A handful of variables per evaluation: a flat list, looked up once each.
        for (const auto& [name, value] : env_) {
          if (*name == f.key) return opt(value);
        }
        env_.emplace_back(&f.key, in_.getenv ? in_.getenv(f.key) : std::nullopt);
        return opt(env_.back().second);
      }
      case K::Skaffold: {
        if (!skaffold_)
          skaffold_ = in_.skaffold_config ? in_.skaffold_config() : std::map<std::string, std::string>{};
        auto it = skaffold_->find(f.key);
        return it == skaffold_->end() ? nullptr : &it->second;
      }
      case K::SkaffoldBuildLocalPush:
        return opt(in_.skaffold_build_local_push);
      case K::OptionProbeCluster:
        return in_.probe_cluster ? &kTrue : &kFalse;
      case K::KubeconfigFiles: {
        if (!kubeconfig_files_) kubeconfig_files_ = join_files();
        return &*kubeconfig_files_;
      }
      case K::Decision: {
        const auto field = decision_field(f.key);
        if (!field) return nullptr;
        if (*field == Field::LoadCommand) settle_load_command();
        return opt(decision_[static_cast<std::size_t>(*field)]);
      }
      case K::Match:
      case K::Item:
        return nullptr;  // handled by render()
    }
    return nullptr;
  }

  // parse_field() for the decision facts, without comparing against every field name.
  static std::optional<Field> decision_field(const std::string& key) {
    switch (key.size()) {
      case 5:
        return equal(key, "local") ? std::optional(Field::Local) : std::nullopt;
      case 7:
        return equal(key, "cluster") ? std::optional(Field::Cluster) : std::nullopt;
      case 8:
        return equal(key, "registry") ? std::optional(Field::Registry) : std::nullopt;
      case 11:
        if (equal(key, "load_images")) return Field::LoadImages;
        return equal(key, "push_images") ? std::optional(Field::PushImages) : std::nullopt;
      case 12:
        if (equal(key, "cluster_name")) return Field::ClusterName;
        return equal(key, "load_command") ? std::optional(Field::LoadCommand) : std::nullopt;
      default:
        return std::nullopt;
    }
  }

  const ServerUrl& server_url() {
    if (!server_url_) server_url_ = in_.context.server ? parse_server_url(*in_.context.server) : ServerUrl{};
    return *server_url_;
  }

  std::string join_files() const {
    std::string out;
    for (const auto& f : in_.kubeconfig_files) {
      if (!out.empty()) out += ':';
      out += f;
    }
    return out;
  }

  // Renders a template. False when it reads an absent fact without a default; `missing`
  // then names the fact.
  bool render(const CompiledTemplate& t, std::string& out, std::string* missing) {
    if (t.parts.empty()) {
      out = t.spelling;
      return true;
    }
    out.clear();
    for (const auto& part : t.parts) {
      if (const auto* lit = std::get_if<std::string>(&part)) {
        out += *lit;
        continue;
      }
      const auto& ref = std::get<CompiledReference>(part);
      std::optional<std::string> owned;
      const std::string* value = nullptr;
      if (ref.fact.kind == FactRef::Kind::Match) {
        value = &kEmpty;  // a capture of a group that did not take part is empty
        for (const auto& [name, text] : captures_) {
          if (name == ref.fact.key) {
            value = &text;  // captures_ does not change while a template renders
            break;
          }
        }
      } else if (ref.fact.kind == FactRef::Kind::Item) {
        if (item_) {
          if (const auto* v = docpath::lookup(*item_, ref.fact.key)) owned = docpath::scalar_text(*v);
        }
        value = opt(owned);
      } else {
        value = fact(ref.fact);
      }
      using M = ast::Reference::Modifier;
      if (ref.modifier == M::Default && (!value || value->empty())) {
        std::string fallback;
        if (!render(*ref.argument, fallback, missing)) return false;
        out += fallback;
        continue;
      }
      if (!value) {
        if (missing) *missing = ref.fact.spelling;
        return false;
      }
      if (ref.modifier == M::StripPrefix || ref.modifier == M::StripSuffix) {
        std::string rendered;
        const std::string* affix = literal_text(*ref.argument);  // usually: no copy
        if (!affix) {
          if (!render(*ref.argument, rendered, missing)) return false;
          affix = &rendered;
        }
        std::string_view v = *value;
        if (ref.modifier == M::StripPrefix && starts_with(v, *affix)) v.remove_prefix(affix->size());
        if (ref.modifier == M::StripSuffix && ends_with(v, *affix)) v.remove_suffix(affix->size());
        out += v;
        continue;
      }
      out += *value;
    }
    return true;
  }

  // --- conditions ----------------------------------------------------------------------

  // eval() without an explanation, the common case: the same tests in the same order, in
  // a small frame; predicates that render or run something go through eval().
  bool holds(const ConditionNode& n) {
    // Tested in order of frequency: conditional branches predict better here than a
    // jump table.
    const Kind kind = n.kind;
    if (kind == Kind::Fact) {
      const std::string* v = fact(n.fact);
      if (!v) return false;
      bool held = false;
      if (quick_test(n.test, *v, held)) return held;
      return test_string(n.test, *v, n.fact.spelling, n.loc, nullptr);
    }
    if (kind == Kind::And) {
      for (const auto& c : n.children) {
        if (!holds(c)) return false;
      }
      return true;
    }
    if (kind == Kind::Macro) return holds(n.children.front());
    if (kind == Kind::Or) {
      for (const auto& c : n.children) {
        const std::size_t mark = captures_.size();
        if (holds(c)) return true;
        captures_.resize(mark);  // only the branch that matched binds captures
      }
      return false;
    }
    if (kind == Kind::Not) {
      const std::size_t mark = captures_.size();
      const bool held = !holds(n.children.front());
      captures_.resize(mark);  // a regex under `not` binds nothing
      return held;
    }
    if (kind == Kind::IsSet) return (fact(n.fact) != nullptr) != n.negated;
    return eval(n, nullptr);  // Value, Exists, Command
  }

  bool eval(const ConditionNode& n, Checks* checks) {
    switch (n.kind) {
      case Kind::And:
        for (const auto& c : n.children) {
          if (!eval(c, checks)) return false;
        }
        return true;
      case Kind::Or:
        for (const auto& c : n.children) {
          const std::size_t mark = captures_.size();
          if (eval(c, checks)) return true;
          captures_.resize(mark);  // only the branch that matched binds captures
        }
        return false;
      case Kind::Not: {
        const std::size_t mark = captures_.size();
        Checks inner;
        const bool held = !eval(n.children.front(), checks ? &inner : nullptr);
        captures_.resize(mark);  // a regex under `not` binds nothing
        if (checks) {
          std::string text = "not (";
          for (std::size_t i = 0; i < inner.size(); ++i) text += (i ? "; " : "") + inner[i].text;
          checks->push_back({text + ")", held, n.loc});
        }
        return held;
      }
      case Kind::Macro:
        return eval(n.children.front(), checks);
      case Kind::Fact:
        return eval_fact(n, checks);
      case Kind::Value: {
        std::string value, missing;
        if (!render(*n.subject, value, &missing)) {
          if (checks) checks->push_back({missing + " is not set", false, n.loc});
          return false;
        }
        if (!checks) return test_string(n.test, value, kEmpty, n.loc, nullptr);
        return test_string(n.test, value, "\"" + n.subject->spelling + "\"", n.loc, checks);
      }
      case Kind::IsSet: {
        const std::string* v = fact(n.fact);
        const bool held = (v != nullptr) != n.negated;
        if (checks) {
          checks->push_back(
              {n.fact.spelling + (v ? " is set (" + quote(*v) + ")" : std::string(" is not set")), held,
               n.loc});
        }
        return held;
      }
      case Kind::Exists: {
        std::string path, missing;
        if (!render(*n.subject, path, &missing)) {
          if (checks) checks->push_back({"exists: " + missing + " is not set", false, n.loc});
          return false;
        }
        const bool held = in_.file_exists && in_.file_exists(path);
        if (checks)
          checks->push_back({"file " + quote(path) + (held ? " exists" : " does not exist"), held, n.loc});
        return held;
      }
      case Kind::Command:
        return eval_command(n, checks);
    }
    return false;
  }

  bool eval_fact(const ConditionNode& n, Checks* checks) {
    const std::string* v = fact(n.fact);
    if (!v) {
      if (checks) checks->push_back({n.fact.spelling + " is not set", false, n.loc});
      return false;
    }
    return test_string(n.test, *v, n.fact.spelling, n.loc, checks);
  }

  // Decides a test that needs no rendering and no regex (a plain operand, or a list of
  // plain items: almost every predicate), without explaining it. False: test_string's
  // general path must decide.
  static bool quick_test(const CompiledStringTest& t, const std::string& value, bool& held) {
    using ast::Op;
    const std::string* rhs = nullptr;
    switch (t.op) {
      case Op::Equal:
      case Op::NotEqual:
      case Op::StartsWith:
      case Op::EndsWith:
      case Op::Inside:  // the checker gives a regex only to `matches` and `contains`
        rhs = literal_text(t.text);
        break;
      case Op::Contains:
        if (!t.regex) rhs = literal_text(t.text);
        break;
      case Op::Matches:
        return false;
      case Op::In:
        // Up to the first item that interpolates a fact; from there the general path
        // (which renders the items in order) decides.
        for (const auto& item : t.list->items) {
          const std::string* lit = literal_text(item);
          if (!lit) return false;
          if (equal(*lit, value)) {
            held = true;
            return true;
          }
        }
        held = false;
        return true;
    }
    if (!rhs) return false;
    switch (t.op) {
      case Op::Equal:
        held = equal(value, *rhs);
        break;
      case Op::NotEqual:
        held = !equal(value, *rhs);
        break;
      case Op::StartsWith:
        held = starts_with(value, *rhs);
        break;
      case Op::EndsWith:
        held = ends_with(value, *rhs);
        break;
      case Op::Contains:
        held = value.find(*rhs) != std::string::npos;
        break;
      case Op::Inside:
        held = paths::inside(value, *rhs);
        break;
      case Op::Matches:
      case Op::In:
        return false;
    }
    return true;
  }

  // Applies a string test to `value`; `subject` names it in the explanation.
  bool test_string(const CompiledStringTest& t, const std::string& value, const std::string& subject,
                   const ast::Location& loc, Checks* checks) {
    using ast::Op;
    if (!checks) {
      bool held = false;
      if (quick_test(t, value, held)) return held;
    }
    bool held = false;
    std::string operand;
    std::string missing;
    if (t.regex) {
      try {
        boost::smatch m;
        held = t.op == Op::Matches ? boost::regex_match(value, m, *t.regex->regex)
                                   : boost::regex_search(value, m, *t.regex->regex);
        if (held) {
          for (const auto& name : t.regex->group_names) {
            const auto& g = m[name];
            captures_.emplace_back(name, g.matched ? g.str() : std::string());
          }
        }
      } catch (const std::runtime_error& e) {
        if (checks) {
          checks->push_back(
              {subject + ": regex /" + t.regex->pattern + "/ gave up: " + e.what(), false, loc});
        }
        return false;
      }
      if (checks) {
        const char* verb = t.op == Op::Matches ? (held ? " matches /" : " does not match /")
                                               : (held ? " contains a match of /" : " has no match of /");
        checks->push_back({subject + " " + quote(value) + verb + t.regex->pattern + "/", held, loc});
      }
      return held;
    }
    if (t.op == Op::In) {
      for (const auto& item : t.list->items) {
        if (const std::string* lit = literal_text(item)) {
          if (equal(*lit, value)) {
            held = true;
            break;
          }
          continue;
        }
        if (!render(item, operand, &missing)) continue;
        if (operand == value) {
          held = true;
          break;
        }
      }
      if (checks) {
        checks->push_back(
            {subject + " " + quote(value) + (held ? " is in " : " is not in ") + t.list->spelling, held,
             loc});
      }
      return held;
    }
    const std::string* literal = literal_text(t.text);  // most operands: no copy
    if (!literal && !render(t.text, operand, &missing)) {
      if (checks) checks->push_back({subject + ": cannot compare, " + missing + " is not set", false, loc});
      return false;
    }
    const std::string& rhs = literal ? *literal : operand;
    const char* verb = "";
    switch (t.op) {
      case Op::Equal:
        held = equal(value, rhs);
        if (checks) {
          checks->push_back({held ? subject + " is " + quote(value)
                                  : subject + " is " + quote(value) + ", not " + quote(rhs),
                             held, loc});
        }
        return held;
      case Op::NotEqual:
        held = !equal(value, rhs);
        if (checks) {
          checks->push_back({held ? subject + " " + quote(value) + " is not " + quote(rhs)
                                  : subject + " is " + quote(value),
                             held, loc});
        }
        return held;
      case Op::StartsWith:
        held = starts_with(value, rhs);
        verb = held ? " starts with " : " does not start with ";
        break;
      case Op::EndsWith:
        held = ends_with(value, rhs);
        verb = held ? " ends with " : " does not end with ";
        break;
      case Op::Contains:
        held = value.find(rhs) != std::string::npos;
        verb = held ? " contains " : " does not contain ";
        break;
      case Op::Inside:
        held = paths::inside(value, rhs);
        verb = held ? " is inside " : " is not inside ";
        break;
      case Op::Matches:
      case Op::In:
        break;
    }
    if (checks) checks->push_back({subject + " " + quote(value) + verb + quote(rhs), held, loc});
    return held;
  }

  CommandMemo& run_command(const CompiledCommand& cmd, Argv argv) {
    for (auto& m : commands_) {
      if (m.argv == argv) return m;
    }
    CommandRequest req;
    req.argv = argv;
    double timeout = cmd.timeout_seconds      ? *cmd.timeout_seconds
                     : rule_->timeout_seconds ? *rule_->timeout_seconds
                                              : in_.command_timeout.count() / 1000.0;
    req.timeout = std::chrono::milliseconds(static_cast<long long>(timeout * 1000));
    if (!in_.kubeconfig_files.empty()) req.extra_env["KUBECONFIG"] = join_files();
    if (cmd.cache_seconds) req.cache_ttl = std::chrono::seconds(static_cast<long long>(*cmd.cache_seconds));
    req.cache_env = cmd.cache_env;
    CommandResult result;
    if (in_.executor) {
      result = in_.executor->run(req);
    } else {
      result.status = CommandResult::Status::NotRun;
      result.reason = "commands are disabled";
    }
    if (ex_) {
      Explanation::CommandTrace t;
      t.argv = argv;
      t.status = status_text(result);
      t.duration = result.duration;
      t.output_head = head(result.out);
      t.error_head = head(result.err);
      t.from_cache = result.from_cache;
      t.cache_age = result.cache_age;
      ex_->commands.push_back(std::move(t));
    }
    commands_.push_back({std::move(argv), std::move(result), false, false, {}, {}, {}, {}});
    return commands_.back();
  }

  static std::string status_text(const CommandResult& r) {
    if (r.status == CommandResult::Status::Exited) return "exit " + std::to_string(r.exit_code);
    if (!r.reason.empty()) return r.reason;
    if (r.status == CommandResult::Status::Signaled) return "killed by signal " + std::to_string(r.signal);
    return "did not run";
  }

  bool eval_command(const ConditionNode& n, Checks* checks) {
    const CompiledCommand& cmd = *n.command;
    Argv argv;
    for (const auto& arg : cmd.argv) {
      std::string text, missing;
      if (!render(arg, text, &missing)) {
        if (checks) checks->push_back({"command not run: " + missing + " is not set", false, n.loc});
        return false;
      }
      argv.push_back(std::move(text));
    }
    CommandMemo& memo = run_command(cmd, argv);
    const CommandResult& r = memo.result;
    const std::string shown = "`" + describe_argv(memo.argv) + "`";
    using CK = ast::CommandTest::Kind;
    if (cmd.test == CK::Exits) {
      const bool held = r.status == CommandResult::Status::Exited && r.exit_code == cmd.exit_status;
      if (checks)
        checks->push_back(
            {shown + " " + status_text(r) + (held ? "" : ", not exit " + std::to_string(cmd.exit_status)),
             held, n.loc});
      return held;
    }
    if (!r.succeeded()) {
      if (checks) checks->push_back({shown + " failed: " + status_text(r), false, n.loc});
      return false;
    }
    if (cmd.test == CK::Succeeds) {
      if (checks) checks->push_back({shown + " succeeded", true, n.loc});
      return true;
    }
    if (cmd.test == CK::Output)
      return test_string(*cmd.string_test, r.out, "output of " + shown, n.loc, checks);
    const bool json = cmd.test == CK::Json;
    const nlohmann::json* doc = parsed(memo, json);
    if (!doc) {
      if (checks) {
        checks->push_back({shown + " output is not " + std::string(json ? "JSON" : "YAML") + ": " +
                               (json ? memo.json_error : memo.yaml_error),
                           false, n.loc});
      }
      return false;
    }
    const std::string subject = shown + " " + (json ? "json " : "yaml ") + cmd.doc_path_spelling;
    std::size_t seen = 0;
    Checks value_checks;  // the check of the value that held, if one does
    for (const nlohmann::json* value : docpath::select(*doc, cmd.doc_path)) {
      std::optional<std::string> text;
      if (cmd.projection) {
        item_ = value;
        std::string rendered;
        if (render(*cmd.projection, rendered, nullptr)) text = std::move(rendered);
        item_ = nullptr;
      } else {
        text = docpath::scalar_text(*value);
      }
      if (!text) continue;
      ++seen;
      const std::size_t mark = captures_.size();
      if (test_string(*cmd.string_test, *text, subject, n.loc, checks ? &value_checks : nullptr)) {
        if (checks) checks->push_back(std::move(value_checks.back()));
        return true;
      }
      value_checks.clear();
      captures_.resize(mark);
    }
    if (checks) {
      checks->push_back({subject + ": none of " + std::to_string(seen) + " selected value" +
                             (seen == 1 ? "" : "s") + " satisfies " + describe_test(*cmd.string_test),
                         false, n.loc});
    }
    return false;
  }

  std::string describe_test(const CompiledStringTest& t) {
    using ast::Op;
    if (t.regex)
      return std::string(t.op == Op::Matches ? "matches /" : "contains /") + t.regex->pattern + "/";
    if (t.op == Op::In) return "in " + t.list->spelling;
    static const char* names[] = {"==",       "!=",      "starts-with", "ends-with",
                                  "contains", "matches", "inside",      "in"};
    return std::string(names[static_cast<int>(t.op)]) + " \"" + t.text.spelling + "\"";
  }

  const nlohmann::json* parsed(CommandMemo& m, bool json) {
    if (json) {
      if (!m.json_parsed) {
        m.json = docpath::parse_json(m.result.out, &m.json_error);
        m.json_parsed = true;
      }
      return m.json ? &*m.json : nullptr;
    }
    if (!m.yaml_parsed) {
      m.yaml = docpath::parse_yaml(m.result.out, &m.yaml_error);
      m.yaml_parsed = true;
    }
    return m.yaml ? &*m.yaml : nullptr;
  }

  static const std::string kTrue, kFalse;

  const RuleSet& rules_;
  const EvaluationInput& in_;
  Explanation* ex_;
  const CompiledRule* rule_ = nullptr;
  std::vector<std::pair<std::string, std::string>> captures_;
  const nlohmann::json* item_ = nullptr;
  // std::list, not std::deque: stable addresses, and nothing allocated while empty.
  std::list<std::pair<const std::string*, std::optional<std::string>>> env_;
  std::optional<std::map<std::string, std::string>> skaffold_;
  std::optional<ServerUrl> server_url_;
  std::optional<std::string> kubeconfig_files_;
  std::array<std::optional<std::string>, kFieldCount> decision_;
  const Decision* identify_ = nullptr;  // the decision whose identify result decision_ holds
  bool load_command_pending_ = false;
  std::list<CommandMemo> commands_;  // stable references while a predicate uses one
};

const std::string Evaluation::kTrue = "true";
const std::string Evaluation::kFalse = "false";

}  // namespace

Decision evaluate(const RuleSet& rules, const EvaluationInput& input, Explanation* explanation) {
  return Evaluation(rules, input, explanation).run();
}

namespace {

void collect_template_refs(const CompiledTemplate& t, std::vector<const FactRef*>& facts);

void collect_refs(const ConditionNode& n, std::vector<const FactRef*>& facts,
                  std::vector<std::pair<const CompiledCommand*, const CompiledRule*>>& commands,
                  const CompiledRule* rule) {
  if (n.kind == Kind::Fact || n.kind == Kind::IsSet) facts.push_back(&n.fact);
  if (n.kind == Kind::Value) collect_template_refs(*n.subject, facts);
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
  Explanation ex;
  Evaluation ev(rules, input, run_commands ? &ex : nullptr);
  std::vector<FactValue> out;
  auto add = [&](const std::string& name) {
    auto ref = resolve_fact(name);
    const std::string* v = ref ? ev.fact(*ref) : nullptr;
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
    ev.rule_ = rule;
    std::string shown;
    Argv argv;
    bool complete = true;
    for (const auto& arg : cmd->argv) {
      std::string text;
      if (!ev.render(arg, text, nullptr)) {
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
      auto& memo = ev.run_command(*cmd, argv);
      row.detail = Evaluation::status_text(memo.result) + "; output: " + head(memo.result.out) +
                   "; used by rule " + rule->name;
    } else if (!complete) {
      row.detail = "cannot run here: a fact it needs is not set; used by rule " + rule->name;
    }
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace lcrules
