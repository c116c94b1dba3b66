#include "engine/core/check_compile_condition.hpp"

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace lcrules::check {

namespace {

constexpr std::size_t kMaxConditionNodes = 10000;

std::optional<CompiledCommand> compile_command(CheckState& state, const ast::CommandPredicate& p,
                                               const Scope& scope, bool under_not) {
  CompiledCommand out;
  bool ok = true;
  if (p.argv.empty() && !p.read_pattern) {
    state.error(p.argv_loc, "a command needs at least the program name");
    return std::nullopt;
  }
  out.argv.reserve(p.argv.size());
  for (const auto& arg : p.argv) {
    if (!compile_template(state, arg, scope, out.argv.emplace_back())) {
      out.argv.pop_back();
      ok = false;
    }
  }
  if (p.timeout_seconds && *p.timeout_seconds <= 0) {
    state.error(p.argv_loc, "a command timeout must be more than 0 seconds");
    ok = false;
  }
  if (p.cache_seconds && *p.cache_seconds <= 0) {
    state.error(p.argv_loc, "a cache time must be more than 0 seconds");
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
      state.error(p.test.doc_path_loc, "invalid document path '" + p.test.doc_path + "': " + why);
      ok = false;
    } else if (p.test.kind == ast::CommandTest::Kind::Yaml && docpath::go_type(*path)) {
      state.error(p.test.doc_path_loc, "invalid document path '" + p.test.doc_path +
                                           "': go(TYPE) decodes JSON output, use it with 'json'");
      ok = false;
    } else {
      out.doc_path = std::move(*path);
    }
    out.doc_path_spelling = p.test.doc_path;
    if (p.test.projection) {
      Scope item_scope = scope;
      item_scope.allow_item = true;
      if (!compile_template(state, *p.test.projection, item_scope, out.projection.emplace())) {
        out.projection.reset();
        ok = false;
      }
    }
  }
  if (p.test.test) {
    if (!compile_string_test(state, *p.test.test, scope, under_not, out.string_test.emplace())) ok = false;
  }
  if (!ok) return std::nullopt;
  return out;
}

// The path of `read`: absolute, and a `*` of its own text a whole path component (a `*`
// interpolated from a fact is an ordinary character, never a wildcard).
bool check_read_pattern(CheckState& state, const ast::Template& t) {
  bool ok = true;
  if (t.parts.empty() || (std::holds_alternative<std::string>(t.parts[0]) &&
                          std::get<std::string>(t.parts[0]).rfind('/', 0) != 0)) {
    state.error(t.loc, "the path of 'read' must be absolute: start it with '/' or '${...}'");
    ok = false;
  }
  for (std::size_t i = 0; i < t.parts.size(); ++i) {
    const auto* text = std::get_if<std::string>(&t.parts[i]);
    if (!text) continue;
    const bool last_part = i + 1 == t.parts.size();
    for (std::size_t at = text->find('*'); at != std::string::npos; at = text->find('*', at + 1)) {
      const bool starts = at > 0 && (*text)[at - 1] == '/';
      const bool ends = at + 1 < text->size() ? (*text)[at + 1] == '/' : last_part;
      if (!starts || !ends) {
        state.error(t.loc,
                    "a '*' in the path of 'read' must be a whole path component ('/*/' or a final '/*')");
        return false;
      }
    }
  }
  return ok;
}

}  // namespace

void reset_budget(CheckState& state, const ast::Location& root) {
  state.nodes_compiled = 0;
  state.budget_exceeded = false;
  state.budget_root = root;
}

bool compile_condition(CheckState& state, const ast::Condition& c, const Scope& scope, bool under_not,
                       std::size_t depth, ConditionNode& node) {
  node.loc = c.loc;
  if (depth > 256) {
    state.error(c.loc, "conditions nest too deeply (through macros)");
    return false;
  }
  // Macros are expanded at each use, so macros that call each other twice over grow
  // exponentially: bound the size of one condition and stop at once when it is reached.
  if (state.budget_exceeded) return false;
  if (++state.nodes_compiled > kMaxConditionNodes) {
    state.budget_exceeded = true;
    state.error(state.budget_root, "this condition expands to more than " +
                                       std::to_string(kMaxConditionNodes) + " predicates through its macros");
    return false;
  }
  bool ok = true;
  auto children = [&](const std::vector<ast::Condition>& operands, bool negate) {
    node.children.reserve(operands.size());
    for (const auto& child : operands) {
      node.children.emplace_back();
      if (!compile_condition(state, child, scope, under_not || negate, depth + 1, node.children.back())) {
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
            const bool subject = compile_template(state, *n.subject, scope, *compiled);
            node.subject = std::move(compiled);
            const bool test = compile_string_test(state, n.test, scope, under_not, node.test);
            if (!subject || !test) ok = false;
            return;
          }
          node.kind = ConditionNode::Kind::Fact;
          auto fact = resolve_readable_fact(state, n.fact, n.fact_loc, scope);
          if (!fact) {
            ok = false;
            return;
          }
          node.fact = std::move(*fact);
          if (!compile_string_test(state, n.test, scope, under_not, node.test)) {
            ok = false;
            return;
          }
        } else if constexpr (std::is_same_v<T, ast::IsSetPredicate>) {
          node.kind = ConditionNode::Kind::IsSet;
          auto fact = resolve_readable_fact(state, n.fact, c.loc, scope);
          if (!fact) {
            ok = false;
            return;
          }
          node.fact = std::move(*fact);
          node.negated = n.negated;
        } else if constexpr (std::is_same_v<T, ast::ExistsPredicate>) {
          node.kind = ConditionNode::Kind::Exists;
          auto path = std::make_unique<CompiledTemplate>();
          const bool compiled = compile_template(state, n.path, scope, *path);
          node.subject = std::move(path);
          if (!compiled) {
            ok = false;
            return;
          }
        } else if constexpr (std::is_same_v<T, ast::Box<ast::CommandPredicate>>) {
          node.kind = ConditionNode::Kind::Command;
          if (n->read_pattern) {
            node.kind = ConditionNode::Kind::Read;
            auto pattern = std::make_unique<CompiledTemplate>();
            const bool checked = check_read_pattern(state, *n->read_pattern);
            const bool compiled = compile_template(state, *n->read_pattern, scope, *pattern);
            node.subject = std::move(pattern);
            if (!checked || !compiled) ok = false;
          }
          auto cmd = compile_command(state, *n, scope, under_not);
          if (!cmd) {
            ok = false;
            return;
          }
          node.command = std::make_shared<const CompiledCommand>(std::move(*cmd));
        } else if constexpr (std::is_same_v<T, ast::MacroCall>) {
          node.kind = ConditionNode::Kind::Macro;
          node.macro_name = std::make_unique<const std::string>(n.name);
          auto it = state.macros.find(n.name);
          if (it == state.macros.end()) {
            if (state.lists.count(n.name)) {
              state.error(c.loc,
                          "'" + n.name + "' is a list, not a condition: write 'FACT in " + n.name + "'");
            } else {
              state.error(c.loc, "undefined macro '" + n.name + "'", state.closest_macro(n.name));
            }
            ok = false;
            return;
          }
          // Macros are compiled in the caller's scope so captures and decision reads
          // are checked for the rule that uses them.
          MacroDef& def = it->second;
          if (def.compiling) {
            state.error(c.loc, "macro '" + n.name + "' is recursive");
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
          const bool body = compile_condition(state, def.macro->condition, scope, under_not, depth + 1,
                                              node.children.back());
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

void compile_macro(CheckState& state, MacroDef& def) {
  // Uses of decision facts and captures are checked again in each rule that calls it.
  if (def.failed) return;
  std::vector<std::string> bound;
  std::vector<std::pair<std::string_view, const ast::Location*>> uses;
  Scope scope{nullptr, true, false, &bound, &uses};
  reset_budget(state, def.macro->condition.loc);
  def.compiling = true;
  ConditionNode compiled;
  const bool ok = compile_condition(state, def.macro->condition, scope, false, 0, compiled);
  def.compiling = false;
  if (!ok) def.failed = true;
}

}  // namespace lcrules::check
