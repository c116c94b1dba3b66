#include "engine/core/checker.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string_view>

namespace lcrules {

const char* field_name(Field f) {
  switch (f) {
    case Field::Cluster:
      return "cluster";
    case Field::Local:
      return "local";
    case Field::ClusterName:
      return "cluster_name";
    case Field::LoadImages:
      return "load_images";
    case Field::PushImages:
      return "push_images";
    case Field::LoadCommand:
      return "load_command";
    case Field::Registry:
      return "registry";
  }
  return "?";
}

std::optional<Field> parse_field(std::string_view name) {
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    const auto f = static_cast<Field>(i);
    if (name == field_name(f)) return f;
  }
  return std::nullopt;
}

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

std::optional<FactRef> resolve_fact(std::string_view name) {
  using K = FactRef::Kind;
  static const std::map<std::string, K, std::less<>> exact = {
      {"context.name", K::ContextName},
      {"context.cluster", K::ContextCluster},
      {"context.user", K::ContextUser},
      {"context.namespace", K::ContextNamespace},
      {"context.file", K::ContextFile},
      {"cluster.name", K::ClusterName},
      {"cluster.server", K::ClusterServer},
      {"cluster.server.scheme", K::ClusterScheme},
      {"cluster.server.host", K::ClusterHost},
      {"cluster.server.port", K::ClusterPort},
      {"cluster.certificate-authority", K::ClusterCertificateAuthority},
      {"user.name", K::UserName},
      {"user.exec.command", K::UserExecCommand},
      {"skaffold.build.local.push", K::SkaffoldBuildLocalPush},
      {"option.probe-cluster", K::OptionProbeCluster},
      {"kubeconfig.files", K::KubeconfigFiles},
  };
  FactRef ref;
  ref.spelling = std::string(name);
  if (auto it = exact.find(name); it != exact.end()) {
    ref.kind = it->second;
    return ref;
  }
  auto with_key = [&](std::string_view prefix, K kind) -> bool {
    if (!starts_with(name, prefix) || name.size() == prefix.size()) return false;
    ref.kind = kind;
    ref.key = std::string(name.substr(prefix.size()));
    return true;
  };
  if (with_key("env.", K::Env)) {
    return ref.key.find('.') == std::string::npos ? std::optional(ref) : std::nullopt;
  }
  if (with_key("context.extension.", K::ContextExtension) ||
      with_key("cluster.extension.", K::ClusterExtension)) {
    return ref.key.find('.') != std::string::npos ? std::optional(ref) : std::nullopt;
  }
  if (with_key("skaffold.", K::Skaffold)) {
    if (ref.key == "local-cluster" || ref.key == "kind-disable-load" || ref.key == "k3d-disable-load")
      return ref;
    return std::nullopt;
  }
  if (with_key("decision.", K::Decision)) {
    return parse_field(ref.key) ? std::optional(ref) : std::nullopt;
  }
  return std::nullopt;
}

namespace {

struct MacroDef {
  const ast::Macro* macro = nullptr;
  std::optional<ConditionNode> compiled;  // set once compiled
  bool compiling = false;
  bool failed = false;
};

struct ListDef {
  const ast::List* list = nullptr;
};

struct RuleDraft {
  // The parsed rule, copied only when an override changes it (most rules are never
  // overridden, and copying every syntax tree was a large part of checking).
  const ast::Rule* original = nullptr;
  std::unique_ptr<ast::Rule> changed;
  // Set when the checker owns the files: the rule's syntax tree, released once compiled.
  ast::Rule* releasable = nullptr;
  const ast::Rule& rule() const { return changed ? *changed : *original; }
  ast::Rule& rule_to_change() {
    if (!changed) changed = std::make_unique<ast::Rule>(*original);
    return *changed;
  }
  std::size_t file_index = 0;
  std::size_t position = 0;
  std::vector<ast::Location> changed_by;
  std::optional<ast::Location> disabled_by;
};

// Rule drafts by name: an open-addressing table of indexes into the drafts (which are
// stored in definition order), sized once for every rule the files define. No allocation
// per rule, unlike a node-based map.
class DraftIndex {
 public:
  explicit DraftIndex(std::size_t rules) {
    std::size_t size = 16;
    while (size < rules * 2) size *= 2;
    slots_.assign(size, kEmpty);
  }
  // The index stored for `name`, or kEmpty; `slot` is where it is or would go.
  std::uint32_t find(std::string_view name, const std::vector<RuleDraft>& drafts, std::size_t& slot) const {
    const std::size_t mask = slots_.size() - 1;
    for (slot = std::hash<std::string_view>{}(name)&mask;; slot = (slot + 1) & mask) {
      const std::uint32_t i = slots_[slot];
      if (i == kEmpty || drafts[i].original->name == name) return i;
    }
  }
  void insert(std::size_t slot, std::uint32_t index) { slots_[slot] = index; }
  static constexpr std::uint32_t kEmpty = UINT32_MAX;

 private:
  std::vector<std::uint32_t> slots_;
};

std::string where(const ast::Location& loc) {
  return loc.file.str() + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.column);
}

// Scans `(?<name>`, `(?P<name>` and `(?'name'` group names out of a Perl pattern.
std::vector<std::string> named_groups(const std::string& pattern) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i + 3 < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      ++i;
      continue;
    }
    if (pattern[i] != '(' || pattern[i + 1] != '?') continue;
    std::size_t j = i + 2;
    if (pattern[j] == 'P') ++j;
    if (j >= pattern.size()) break;
    const char open = pattern[j];
    if (open != '<' && open != '\'') continue;
    const char close = open == '<' ? '>' : '\'';
    const std::size_t end = pattern.find(close, j + 1);
    if (end == std::string::npos) continue;
    const std::string name = pattern.substr(j + 1, end - j - 1);
    if (name.empty() || name[0] == '=' || name[0] == '!') continue;  // lookbehind
    names.push_back(name);
  }
  return names;
}

std::string op_spelling(ast::Op op) {
  switch (op) {
    case ast::Op::Equal:
      return "==";
    case ast::Op::NotEqual:
      return "!=";
    case ast::Op::StartsWith:
      return "starts-with";
    case ast::Op::EndsWith:
      return "ends-with";
    case ast::Op::Contains:
      return "contains";
    case ast::Op::Matches:
      return "matches";
    case ast::Op::Inside:
      return "inside";
    case ast::Op::In:
      return "in";
  }
  return "?";
}

class Checker {
 public:
  explicit Checker(const std::vector<ast::File>& files) : files_(files) {}
  // Owning the files, the checker frees each rule's syntax tree as soon as the rule is
  // compiled, so the compiled rules reuse that memory while it is still in the processor's
  // caches instead of taking fresh pages: what loading costs per rule then depends much
  // less on how many rules there are.
  explicit Checker(std::vector<ast::File>& owned) : files_(owned), owned_(&owned) {}

  CheckResult run() {
    std::size_t rule_items = 0;
    for (const auto& f : files_) {
      for (const auto& item : f.items) rule_items += std::holds_alternative<ast::Rule>(item) ? 1 : 0;
    }
    drafts_.reserve(rule_items);
    draft_index_.emplace(rule_items);
    result_.rule_set.files.reserve(files_.size());
    for (std::size_t i = 0; i < files_.size(); ++i) {
      result_.rule_set.files.push_back(files_[i].path);
      merge_file(i);
    }
    for (auto& [name, def] : macros_) compile_macro(def);
    // Rules are compiled in definition order: the syntax trees are read in the order they
    // were built, errors come out in that order, and each tree is released as soon as its
    // rule is compiled (when the checker owns the files). The compiled rules are then moved
    // into evaluation order; moving a CompiledRule copies its fields, not what they own.
    const std::size_t n = drafts_.size();
    struct Key {
      ast::Stage stage;
      int priority;
      std::size_t file_index;
      std::size_t position;
    };
    std::vector<Key> keys(n);
    std::vector<CompiledRule> compiled_rules(n);
    std::vector<bool> compiled_ok(n, false);
    for (std::size_t i = 0; i < n; ++i) {
      const RuleDraft& d = drafts_[i];
      const ast::Rule& r = d.rule();
      keys[i] =
          Key{r.stage.value_or(ast::Stage::Identify), r.priority.value_or(100), d.file_index, d.position};
      compiled_ok[i] = compile_rule(drafts_[i], compiled_rules[i]);
      release_syntax(drafts_[i]);
    }
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&keys](std::size_t ia, std::size_t ib) {
      const Key& a = keys[ia];
      const Key& b = keys[ib];
      if (a.stage != b.stage) return a.stage < b.stage;
      if (a.priority != b.priority) return a.priority > b.priority;
      if (a.file_index != b.file_index) return a.file_index > b.file_index;
      return a.position < b.position;
    });
    // Rules with errors are left out. `rules` is reserved, so `active` can point into it.
    auto& rules = result_.rule_set.rules;
    rules.reserve(n);
    result_.rule_set.active.reserve(n);
    std::vector<std::uint32_t> slot_of(n, UINT32_MAX);
    for (const std::size_t i : order) {
      if (!compiled_ok[i]) continue;
      slot_of[i] = static_cast<std::uint32_t>(rules.size());
      rules.push_back(std::move(compiled_rules[i]));
      if (!drafts_[i].disabled_by) result_.rule_set.active.push_back(&rules.back());
    }
    auto& allocation_order = result_.rule_set.allocation_order;
    allocation_order.reserve(rules.size());
    for (const std::uint32_t slot : slot_of) {
      if (slot != UINT32_MAX) allocation_order.push_back(slot);
    }
    return std::move(result_);
  }

 private:
  void error(const ast::Location& loc, std::string message) {
    std::string_view text;
    for (const auto& f : files_) {
      if (f.path == loc.file && f.text) text = *f.text;
    }
    result_.errors.push_back(make_diagnostic(text, loc, std::move(message)));
  }

  void merge_file(std::size_t file_index) {
    const ast::File& file = files_[file_index];
    if (file.version && *file.version > 1) {
      error(file.version_loc, "this file needs language version " + std::to_string(*file.version) +
                                  ", this lcrules reads version 1");
      return;
    }
    std::size_t position = 0;
    for (std::size_t k = 0; k < file.items.size(); ++k) {
      const ast::Item& item = file.items[k];
      if (const auto* rule = std::get_if<ast::Rule>(&item)) {
        std::size_t slot = 0;
        if (const auto i = draft_index_->find(rule->name, drafts_, slot); i != DraftIndex::kEmpty) {
          error(rule->loc, "rule '" + rule->name + "' is already defined at " + where(drafts_[i].rule().loc) +
                               "; to change it from here, write 'override " + rule->name + " { ... }'");
          continue;
        }
        draft_index_->insert(slot, static_cast<std::uint32_t>(drafts_.size()));
        RuleDraft& draft = drafts_.emplace_back();
        draft.original = rule;
        if (owned_ != nullptr) draft.releasable = std::get_if<ast::Rule>(&(*owned_)[file_index].items[k]);
        draft.file_index = file_index;
        draft.position = position++;
      } else if (const auto* ov = std::get_if<ast::Override>(&item)) {
        RuleDraft* draft = find_draft(ov->name);
        if (draft == nullptr) {
          error(ov->loc, "override names no rule defined earlier: '" + ov->name + "'");
          continue;
        }
        apply_override(*draft, *ov);
      } else if (const auto* dis = std::get_if<ast::Disable>(&item)) {
        RuleDraft* draft = find_draft(dis->name);
        if (draft == nullptr) {
          error(dis->loc, "disable names no rule defined earlier: '" + dis->name + "'");
          continue;
        }
        draft->disabled_by = dis->loc;
        draft->changed_by.push_back(dis->loc);
      } else if (const auto* macro = std::get_if<ast::Macro>(&item)) {
        if (auto it = macros_.find(macro->name); it != macros_.end()) {
          error(macro->loc,
                "macro '" + macro->name + "' is already defined at " + where(it->second.macro->loc));
          continue;
        }
        if (lists_.count(macro->name)) {
          error(macro->loc, "'" + macro->name + "' is already defined as a list at " +
                                where(lists_.at(macro->name).list->loc));
          continue;
        }
        macros_[macro->name].macro = macro;
      } else if (const auto* list = std::get_if<ast::List>(&item)) {
        if (auto it = lists_.find(list->name); it != lists_.end()) {
          error(list->loc, "list '" + list->name + "' is already defined at " + where(it->second.list->loc));
          continue;
        }
        if (macros_.count(list->name)) {
          error(list->loc, "'" + list->name + "' is already defined as a macro at " +
                               where(macros_.at(list->name).macro->loc));
          continue;
        }
        lists_[list->name].list = list;
      }
    }
  }

  RuleDraft* find_draft(std::string_view name) {
    std::size_t slot = 0;
    const auto i = draft_index_->find(name, drafts_, slot);
    return i == DraftIndex::kEmpty ? nullptr : &drafts_[i];
  }

  void apply_override(RuleDraft& draft, const ast::Override& ov) {
    ast::Rule& r = draft.rule_to_change();
    if (ov.priority) {
      r.priority = ov.priority;
      r.priority_loc = ov.priority_loc;
    }
    if (ov.stage) r.stage = ov.stage;
    if (ov.description) r.description = ov.description;
    if (ov.timeout_seconds) r.timeout_seconds = ov.timeout_seconds;
    if (ov.replace_when) r.when = ov.replace_when;
    for (const auto& extra : ov.append_when) {
      if (!r.when) {
        r.when = extra;
        continue;
      }
      ast::Condition both{ast::Conjunction{{*r.when, extra}}, extra.loc};
      r.when = std::move(both);
    }
    for (const auto& unset : ov.unsets) {
      auto it =
          std::find_if(r.sets.begin(), r.sets.end(), [&](const auto& s) { return s.field == unset.field; });
      if (it == r.sets.end()) {
        error(unset.loc, "rule '" + r.name + "' does not set '" + unset.field + "', so it cannot be unset");
        continue;
      }
      r.sets.erase(it);
    }
    for (const auto& set : ov.sets) {
      auto it =
          std::find_if(r.sets.begin(), r.sets.end(), [&](const auto& s) { return s.field == set.field; });
      if (it != r.sets.end()) {
        *it = set;
      } else {
        r.sets.push_back(set);
      }
    }
    for (const auto& note : ov.notes) r.notes.push_back(note);
    draft.changed_by.push_back(ov.loc);
  }

  // --- compilation -------------------------------------------------------------------

  struct Scope {
    const std::string* rule_name = nullptr;  // null inside a macro definition
    bool policy = false;
    bool allow_item = false;
    std::vector<std::string>* bound_captures = nullptr;  // captures the condition binds
    // `${match.NAME}` uses: NAME and where, both in the syntax tree (which outlives the checker).
    std::vector<std::pair<std::string_view, const ast::Location*>>* capture_uses = nullptr;
  };

  // Compiles `t` into `out` (empty), in place; on failure (false) the caller discards `out`.
  bool compile_template(const ast::Template& t, const Scope& scope, CompiledTemplate& out) {
    if (t.is_literal()) {  // the text alone (see CompiledTemplate)
      if (!t.parts.empty()) out.spelling = std::get<std::string>(t.parts[0]);
      return true;
    }
    out.parts.reserve(t.parts.size());
    bool ok = true;
    for (const auto& part : t.parts) {
      if (const auto* lit = std::get_if<std::string>(&part)) {
        out.parts.emplace_back(*lit);
        out.spelling += *lit;
        continue;
      }
      const auto& ref = std::get<ast::Reference>(part);
      CompiledReference cref;
      cref.modifier = ref.modifier;
      if (ref.name == "item" || starts_with(ref.name, "item.")) {
        if (!scope.allow_item) {
          error(ref.loc,
                "'${" + ref.name + "}' can only be used in the 'as' template of a json or yaml test");
          ok = false;
          continue;
        }
        cref.fact.kind = FactRef::Kind::Item;
        cref.fact.key = ref.name == "item" ? "" : ref.name.substr(5);
        cref.fact.spelling = ref.name;
      } else if (starts_with(ref.name, "match.")) {
        cref.fact.kind = FactRef::Kind::Match;
        cref.fact.key = ref.name.substr(6);
        cref.fact.spelling = ref.name;
        if (scope.capture_uses) {
          scope.capture_uses->emplace_back(std::string_view(ref.name).substr(6), &ref.loc);
        } else {
          error(ref.loc,
                "'${" + ref.name + "}' refers to a regex capture, but there is no rule condition here");
          ok = false;
          continue;
        }
      } else if (auto fact = resolve_readable_fact(ref.name, ref.loc, scope)) {
        cref.fact = std::move(*fact);
      } else {
        ok = false;
        continue;
      }
      if (ref.argument) {
        auto arg = std::make_shared<CompiledTemplate>();
        if (!compile_template(*ref.argument, scope, *arg)) {
          ok = false;
          continue;
        }
        cref.argument = std::move(arg);
      }
      out.spelling += "${";
      out.spelling += ref.name;
      switch (ref.modifier) {
        case ast::Reference::Modifier::Default:
          out.spelling += ":-";
          out.spelling += cref.argument->spelling;
          break;
        case ast::Reference::Modifier::StripPrefix:
          out.spelling += '#';
          out.spelling += cref.argument->spelling;
          break;
        case ast::Reference::Modifier::StripSuffix:
          out.spelling += '%';
          out.spelling += cref.argument->spelling;
          break;
        case ast::Reference::Modifier::None:
          break;
      }
      out.spelling += '}';
      out.parts.emplace_back(std::move(cref));
    }
    return ok;
  }

  // A fact a predicate reads: known, and readable in this rule's stage. Reports the error
  // at `loc` and returns nullopt otherwise.
  std::optional<FactRef> resolve_readable_fact(const std::string& name, const ast::Location& loc,
                                               const Scope& scope) {
    auto fact = resolve_fact(name);
    if (!fact) {
      error(loc, "unknown fact '" + name + "' (see the fact table in docs/language.md)");
      return std::nullopt;
    }
    if (!check_decision_use(*fact, loc, scope)) return std::nullopt;
    return fact;
  }

  bool check_decision_use(const FactRef& fact, const ast::Location& loc, const Scope& scope) {
    if (fact.kind != FactRef::Kind::Decision || scope.policy || !scope.rule_name) return true;
    error(loc, "rule '" + *scope.rule_name + "' reads " + fact.spelling +
                   " in stage identify, which decides it: only rules in stage policy can read decisions");
    return false;
  }

  // compile_regex and compile_string_test fill `out` in place (moving the results out of
  // optionals showed in the profile); on failure (false) the caller discards `out`.
  bool compile_regex(const ast::RegexLiteral& re, const Scope& scope, bool under_not, CompiledRegex& out) {
    out.pattern = re.pattern;
    try {
      boost::regex::flag_type flags = boost::regex::perl;
      if (re.ignore_case) flags |= boost::regex::icase;
      // Compiled here to report a bad pattern at load time, then dropped: the rule set keeps
      // the pattern and compiles it again on first use. Most evaluations use few of a
      // set's regexes, and a compiled one takes about 1.5 KB (150 MB for 100k rules).
      { const boost::regex check(re.pattern, flags); }
      out.regex = RegexHandle::deferred(re.pattern, flags);
    } catch (const boost::regex_error& e) {
      // Boost appends the whole pattern with a marker; the position says the same, shorter.
      std::string what = e.what();
      if (auto cut = what.find("  The error occurred"); cut != std::string::npos) what.resize(cut);
      error(re.loc,
            "invalid regular expression: " + what + " (at offset " + std::to_string(e.position()) + ")");
      return false;
    }
    out.group_names = named_groups(re.pattern);
    if (!under_not && scope.bound_captures) {
      for (const auto& n : out.group_names) {
        auto& bound = *scope.bound_captures;
        if (std::find(bound.begin(), bound.end(), n) == bound.end()) bound.push_back(n);
      }
    }
    return true;
  }

  bool compile_string_test(const ast::StringTest& t, const Scope& scope, bool under_not,
                           CompiledStringTest& out) {
    out.op = t.op;
    if (const auto* re = std::get_if<ast::RegexLiteral>(&t.operand)) {
      if (t.op != ast::Op::Matches && t.op != ast::Op::Contains) {
        error(re->loc, "'" + op_spelling(t.op) + "' takes a string, not a regular expression");
        return false;
      }
      auto regex = std::make_unique<CompiledRegex>();
      if (!compile_regex(*re, scope, under_not, *regex)) return false;
      out.regex = std::move(regex);
      return true;
    }
    if (t.op == ast::Op::Matches) {
      error(operand_loc(t.operand), "'matches' needs a regular expression /.../");
      return false;
    }
    if (const auto* ref = std::get_if<ast::ListRef>(&t.operand)) {
      if (t.op != ast::Op::In) {
        error(ref->loc, "'" + op_spelling(t.op) + "' takes a string, not a list");
        return false;
      }
      auto it = lists_.find(ref->name);
      if (it == lists_.end()) {
        error(ref->loc, "unknown list '" + ref->name + "'");
        return false;
      }
      auto list = std::make_unique<CompiledList>();
      list->spelling = ref->name;
      list->items.reserve(it->second.list->items.size());
      for (const auto& item : it->second.list->items) {
        if (!compile_template(item, scope, list->items.emplace_back())) return false;
      }
      out.list = std::move(list);
      return true;
    }
    if (const auto* lit = std::get_if<ast::ListLiteral>(&t.operand)) {
      if (t.op != ast::Op::In) {
        error(lit->loc, "'" + op_spelling(t.op) + "' takes a string, not a list");
        return false;
      }
      auto list = std::make_unique<CompiledList>();
      list->spelling = "[";
      list->items.reserve(lit->items.size());
      for (const auto& item : lit->items) {
        CompiledTemplate& c = list->items.emplace_back();
        if (!compile_template(item, scope, c)) return false;
        list->spelling += list->items.size() == 1 ? "\"" : ", \"";
        list->spelling += c.spelling;
        list->spelling += '"';
      }
      list->spelling += "]";
      out.list = std::move(list);
      return true;
    }
    const auto& text = std::get<ast::Template>(t.operand);
    if (t.op == ast::Op::In) {
      error(text.loc, "'in' needs a list name or a list [\"a\", \"b\"]");
      return false;
    }
    return compile_template(text, scope, out.text);
  }

  static ast::Location operand_loc(const ast::Operand& operand) {
    return std::visit([](const auto& o) { return o.loc; }, operand);
  }

  // Compiles `c` into `node`, in place: ConditionNode is large, and building each node in
  // an optional and moving it into its parent cost as much as filling it. On failure
  // (false) `node` is left partly filled; callers then discard the whole condition.
  bool compile_condition(const ast::Condition& c, const Scope& scope, bool under_not, std::size_t depth,
                         ConditionNode& node) {
    node.loc = c.loc;
    if (depth > 256) {
      error(c.loc, "conditions nest too deeply (through macros)");
      return false;
    }
    // Macros are expanded at each use, so macros that call each other twice over grow
    // exponentially: bound the size of one condition and stop at once when it is reached.
    if (budget_exceeded_) return false;
    if (++nodes_compiled_ > kMaxConditionNodes) {
      budget_exceeded_ = true;
      error(budget_root_, "this condition expands to more than " + std::to_string(kMaxConditionNodes) +
                              " predicates through its macros");
      return false;
    }
    bool ok = true;
    auto children = [&](const std::vector<ast::Condition>& operands, bool negate) {
      node.children.reserve(operands.size());
      for (const auto& child : operands) {
        node.children.emplace_back();
        if (!compile_condition(child, scope, under_not || negate, depth + 1, node.children.back())) {
          node.children.pop_back();
          ok = false;
        }
      }
    };
    std::visit(
        [&](const auto& n) {
          using T = std::decay_t<decltype(n)>;
          if constexpr (std::is_same_v<T, ast::Conjunction>) {
            node.kind = ConditionNode::Kind::And;
            children(n.operands, false);
          } else if constexpr (std::is_same_v<T, ast::Disjunction>) {
            node.kind = ConditionNode::Kind::Or;
            children(n.operands, false);
          } else if constexpr (std::is_same_v<T, ast::Negation>) {
            node.kind = ConditionNode::Kind::Not;
            children(n.operand, true);
          } else if constexpr (std::is_same_v<T, ast::FactPredicate>) {
            if (n.subject) {
              node.kind = ConditionNode::Kind::Value;
              auto compiled = std::make_unique<CompiledTemplate>();
              const bool subject = compile_template(*n.subject, scope, *compiled);
              node.subject = std::move(compiled);
              const bool test = compile_string_test(n.test, scope, under_not, node.test);
              if (!subject || !test) ok = false;
              return;
            }
            node.kind = ConditionNode::Kind::Fact;
            auto fact = resolve_readable_fact(n.fact, n.fact_loc, scope);
            if (!fact) {
              ok = false;
              return;
            }
            node.fact = std::move(*fact);
            if (!compile_string_test(n.test, scope, under_not, node.test)) {
              ok = false;
              return;
            }
          } else if constexpr (std::is_same_v<T, ast::IsSetPredicate>) {
            node.kind = ConditionNode::Kind::IsSet;
            auto fact = resolve_readable_fact(n.fact, c.loc, scope);
            if (!fact) {
              ok = false;
              return;
            }
            node.fact = std::move(*fact);
            node.negated = n.negated;
          } else if constexpr (std::is_same_v<T, ast::ExistsPredicate>) {
            node.kind = ConditionNode::Kind::Exists;
            auto path = std::make_unique<CompiledTemplate>();
            const bool compiled = compile_template(n.path, scope, *path);
            node.subject = std::move(path);
            if (!compiled) {
              ok = false;
              return;
            }
          } else if constexpr (std::is_same_v<T, ast::Box<ast::CommandPredicate>>) {
            node.kind = ConditionNode::Kind::Command;
            auto cmd = compile_command(*n, scope, under_not);
            if (!cmd) {
              ok = false;
              return;
            }
            node.command = std::make_shared<const CompiledCommand>(std::move(*cmd));
          } else if constexpr (std::is_same_v<T, ast::MacroCall>) {
            node.kind = ConditionNode::Kind::Macro;
            node.macro_name = std::make_unique<const std::string>(n.name);
            auto it = macros_.find(n.name);
            if (it == macros_.end()) {
              if (lists_.count(n.name)) {
                error(c.loc, "'" + n.name + "' is a list, not a condition: write 'FACT in " + n.name + "'");
              } else {
                error(c.loc, "undefined macro '" + n.name + "'");
              }
              ok = false;
              return;
            }
            // Macros are compiled in the caller's scope so captures and decision reads
            // are checked for the rule that uses them.
            MacroDef& def = it->second;
            if (def.compiling) {
              error(c.loc, "macro '" + n.name + "' is recursive");
              def.failed = true;
              ok = false;
              return;
            }
            if (def.failed) {
              ok = false;
              return;
            }
            def.compiling = true;
            node.children.emplace_back();
            const bool body =
                compile_condition(def.macro->condition, scope, under_not, depth + 1, node.children.back());
            def.compiling = false;
            if (!body) {
              node.children.pop_back();
              ok = false;
              return;
            }
          }
        },
        c.node);
    return ok;
  }

  std::optional<CompiledCommand> compile_command(const ast::CommandPredicate& p, const Scope& scope,
                                                 bool under_not) {
    CompiledCommand out;
    bool ok = true;
    if (p.argv.empty()) {
      error(p.argv_loc, "a command needs at least the program name");
      return std::nullopt;
    }
    out.argv.reserve(p.argv.size());
    for (const auto& arg : p.argv) {
      if (!compile_template(arg, scope, out.argv.emplace_back())) {
        out.argv.pop_back();
        ok = false;
      }
    }
    if (p.timeout_seconds && *p.timeout_seconds <= 0) {
      error(p.argv_loc, "a command timeout must be more than 0 seconds");
      ok = false;
    }
    if (p.cache_seconds && *p.cache_seconds <= 0) {
      error(p.argv_loc, "a cache time must be more than 0 seconds");
      ok = false;
    }
    out.timeout_seconds = p.timeout_seconds;
    out.cache_seconds = p.cache_seconds;
    out.cache_env = p.cache_env;
    out.test = p.test.kind;
    out.exit_status = p.test.exit_status;
    if (p.test.kind == ast::CommandTest::Kind::Json || p.test.kind == ast::CommandTest::Kind::Yaml) {
      std::string why;
      auto path = docpath::parse_path(p.test.doc_path, &why);
      if (!path) {
        error(p.test.doc_path_loc, "invalid document path '" + p.test.doc_path + "': " + why);
        ok = false;
      } else {
        out.doc_path = std::move(*path);
      }
      out.doc_path_spelling = p.test.doc_path;
      if (p.test.projection) {
        Scope item_scope = scope;
        item_scope.allow_item = true;
        if (!compile_template(*p.test.projection, item_scope, out.projection.emplace())) {
          out.projection.reset();
          ok = false;
        }
      }
    }
    if (p.test.test) {
      if (!compile_string_test(*p.test.test, scope, under_not, out.string_test.emplace())) ok = false;
    }
    if (!ok) return std::nullopt;
    return out;
  }

  void compile_macro(MacroDef& def) {
    // Checks the macro on its own, so an error in an unused macro is still reported. Uses
    // of decision facts and captures are checked again in each rule that calls it.
    if (def.failed) return;
    std::vector<std::string> bound;
    std::vector<std::pair<std::string_view, const ast::Location*>> uses;
    Scope scope{nullptr, true, false, &bound, &uses};
    reset_budget(def.macro->condition.loc);
    def.compiling = true;
    ConditionNode compiled;
    const bool ok = compile_condition(def.macro->condition, scope, false, 0, compiled);
    def.compiling = false;
    if (!ok) def.failed = true;
  }

  // Compiles the value of `set` into `out`, in place; on failure (false) the caller discards `out`.
  bool compile_value(const ast::FieldSet& set, Field field, const Scope& scope, CompiledValue& out) {
    const bool boolean = field == Field::Local || field == Field::LoadImages || field == Field::PushImages;
    if (boolean) {
      if (const auto* b = std::get_if<bool>(&set.value)) {
        out = *b;
        return true;
      }
      error(set.loc, "field '" + set.field + "' takes true or false");
      return false;
    }
    if (field == Field::LoadCommand) {
      if (std::holds_alternative<ast::Null>(set.value)) {
        out = ast::Null{};
        return true;
      }
      const auto* pipeline = std::get_if<ast::Pipeline>(&set.value);
      if (!pipeline) {
        error(set.loc,
              "field 'load_command' takes an argv list [\"prog\", \"arg\", ...], a pipeline [...] | [...], "
              "or null");
        return false;
      }
      auto& commands = out.emplace<std::vector<std::vector<CompiledTemplate>>>();
      commands.reserve(pipeline->size());
      for (const auto& argv : *pipeline) {
        if (argv.empty()) {
          error(set.loc, "each command of 'load_command' needs at least the program name");
          return false;
        }
        auto& command = commands.emplace_back();
        command.reserve(argv.size());
        for (const auto& arg : argv) {
          if (!compile_template(arg, scope, command.emplace_back())) return false;
        }
      }
      return true;
    }
    if (std::holds_alternative<ast::Null>(set.value)) {
      if (field == Field::Cluster) {
        error(set.loc, "field 'cluster' takes a string (a product id such as \"kind\")");
        return false;
      }
      out = ast::Null{};
      return true;
    }
    const auto* text = std::get_if<ast::Template>(&set.value);
    if (!text) {
      error(set.loc,
            "field '" + set.field + "' takes a string" + (field == Field::Cluster ? "" : " or null"));
      return false;
    }
    return compile_template(*text, scope, out.emplace<CompiledTemplate>());
  }

  // Compiles `draft` into `out` (a default-constructed rule); false if it has errors.
  bool compile_rule(const RuleDraft& draft, CompiledRule& out) {
    const ast::Rule& r = draft.rule();
    out.name = r.name;
    out.loc = r.loc;
    out.priority = r.priority.value_or(100);
    if (out.priority < 0 || out.priority > 1000) {
      error(r.priority_loc, "priority " + std::to_string(out.priority) + " is out of range 0..1000");
    }
    out.stage = r.stage.value_or(ast::Stage::Identify);
    out.description = r.description.value_or("");
    out.timeout_seconds = r.timeout_seconds;
    if (r.timeout_seconds && *r.timeout_seconds <= 0) {
      error(r.loc, "rule '" + r.name + "': a timeout must be more than 0 seconds");
    }
    out.file_index = draft.file_index;
    out.position = draft.position;
    out.changed_by = draft.changed_by;
    out.disabled_by = draft.disabled_by;

    std::vector<std::string>& bound = bound_;
    std::vector<std::pair<std::string_view, const ast::Location*>>& uses = uses_;
    bound.clear();
    uses.clear();
    Scope scope{&out.name, out.stage == ast::Stage::Policy, false, &bound, &uses};
    reset_budget(r.when ? r.when->loc : r.loc);
    bool ok = true;
    if (r.when) {
      auto when = std::make_unique<ConditionNode>();
      if (!compile_condition(*r.when, scope, false, 0, *when)) ok = false;
      out.when = std::move(when);
    }
    std::uint32_t seen_fields = 0;
    out.sets.reserve(r.sets.size());
    for (const auto& set : r.sets) {
      auto field = parse_field(set.field);
      if (!field) {
        error(
            set.loc,
            "unknown field '" + set.field +
                "' (fields: cluster, local, cluster_name, load_images, push_images, load_command, registry)");
        ok = false;
        continue;
      }
      if (seen_fields & field_bit(*field)) {
        error(set.loc, "rule '" + r.name + "' sets '" + set.field + "' twice");
        ok = false;
        continue;
      }
      seen_fields |= field_bit(*field);
      CompiledSet& compiled = out.sets.emplace_back();
      compiled.field = *field;
      if (!compile_value(set, *field, scope, compiled.value)) {
        out.sets.pop_back();
        ok = false;
        continue;
      }
      compiled.loc = set.loc;
      out.field_mask |= field_bit(*field);
    }
    out.notes.reserve(r.notes.size());
    for (const auto& note : r.notes) {
      if (!compile_template(note.text, scope, out.notes.emplace_back())) {
        out.notes.pop_back();
        ok = false;
      }
    }
    for (const auto& [name_view, loc] : uses) {
      if (std::find(bound.begin(), bound.end(), name_view) == bound.end()) {
        const std::string name(name_view);
        error(*loc, "capture '" + name + "' does not exist: no regex of rule '" + r.name +
                        "' outside 'not' has a group (?<" + name + ">...)");
        ok = false;
      }
    }
    return ok;
  }

  // After a rule is compiled nothing reads its syntax tree again (every override and
  // duplicate was merged before compiling; errors copy their locations).
  static void release_syntax(RuleDraft& draft) {
    draft.changed.reset();
    if (draft.releasable != nullptr) {
      { const ast::Rule released = std::move(*draft.releasable); }  // frees long strings too
      *draft.releasable = ast::Rule{};                              // nothing moved-from is left in the file
    }
  }

  static constexpr std::size_t kMaxConditionNodes = 10000;
  void reset_budget(const ast::Location& root) {
    nodes_compiled_ = 0;
    budget_exceeded_ = false;
    budget_root_ = root;
  }

  const std::vector<ast::File>& files_;
  std::vector<ast::File>* owned_ = nullptr;  // the same files, when the checker may release them
  CheckResult result_;
  std::size_t nodes_compiled_ = 0;
  bool budget_exceeded_ = false;
  ast::Location budget_root_;
  // In definition order, found by name through draft_index_ (looked up once per rule,
  // override and disable).
  std::vector<RuleDraft> drafts_;
  std::optional<DraftIndex> draft_index_;
  // Captures bound and `${match.*}` uses of the rule being compiled (kept to reuse their
  // storage from rule to rule).
  std::vector<std::string> bound_;
  std::vector<std::pair<std::string_view, const ast::Location*>> uses_;
  std::map<std::string, MacroDef> macros_;
  std::map<std::string, ListDef> lists_;
};

}  // namespace

CheckResult check_rule_files(const std::vector<ast::File>& files) { return Checker(files).run(); }

CheckResult check_rule_files(std::vector<ast::File>&& files) {
  std::vector<ast::File> owned = std::move(files);
  return Checker(owned).run();
}

}  // namespace lcrules
