#include "engine/core/check_compile_text.hpp"

#include <algorithm>
#include <memory>
#include <variant>

namespace lcrules::check {

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

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

ast::Location operand_loc(const ast::Operand& operand) {
  return std::visit([](const auto& o) { return o.loc; }, operand);
}

bool check_decision_use(CheckState& state, const FactRef& fact, const ast::Location& loc,
                        const Scope& scope) {
  if (fact.kind != FactRef::Kind::Decision || scope.policy || !scope.rule_name) return true;
  state.error(loc, "rule '" + *scope.rule_name + "' reads " + fact.spelling +
                       " in stage identify, which decides it: only rules in stage policy can read decisions");
  return false;
}

// Like compile_string_test: fills `out` in place; on failure (false) the caller discards it.
bool compile_regex(CheckState& state, const ast::RegexLiteral& re, const Scope& scope, bool under_not,
                   CompiledRegex& out) {
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
    state.error(re.loc,
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

}  // namespace

bool compile_template(CheckState& state, const ast::Template& t, const Scope& scope, CompiledTemplate& out) {
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
        state.error(ref.loc,
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
        state.error(ref.loc,
                    "'${" + ref.name + "}' refers to a regex capture, but there is no rule condition here");
        ok = false;
        continue;
      }
    } else if (auto fact = resolve_readable_fact(state, ref.name, ref.loc, scope)) {
      cref.fact = std::move(*fact);
    } else {
      ok = false;
      continue;
    }
    if (ref.argument) {
      auto arg = std::make_shared<CompiledTemplate>();
      if (!compile_template(state, *ref.argument, scope, *arg)) {
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

std::optional<FactRef> resolve_readable_fact(CheckState& state, const std::string& name,
                                             const ast::Location& loc, const Scope& scope) {
  auto fact = resolve_fact(name);
  if (!fact) {
    if (auto suggestion = fact_suggestion(name)) {
      state.error(loc, "unknown fact '" + name + "'", suggestion);
    } else {
      state.error(loc, "unknown fact '" + name + "' (see the fact table in docs/language.md)");
    }
    return std::nullopt;
  }
  if (!check_decision_use(state, *fact, loc, scope)) return std::nullopt;
  return fact;
}

bool compile_string_test(CheckState& state, const ast::StringTest& t, const Scope& scope, bool under_not,
                         CompiledStringTest& out) {
  out.op = t.op;
  if (const auto* re = std::get_if<ast::RegexLiteral>(&t.operand)) {
    if (t.op != ast::Op::Matches && t.op != ast::Op::Contains) {
      state.error(re->loc, "'" + op_spelling(t.op) + "' takes a string, not a regular expression");
      return false;
    }
    auto regex = std::make_unique<CompiledRegex>();
    if (!compile_regex(state, *re, scope, under_not, *regex)) return false;
    out.regex = std::move(regex);
    return true;
  }
  if (t.op == ast::Op::Matches) {
    state.error(operand_loc(t.operand), "'matches' needs a regular expression /.../");
    return false;
  }
  if (const auto* ref = std::get_if<ast::ListRef>(&t.operand)) {
    if (t.op != ast::Op::In) {
      state.error(ref->loc, "'" + op_spelling(t.op) + "' takes a string, not a list");
      return false;
    }
    auto it = state.lists.find(ref->name);
    if (it == state.lists.end()) {
      state.error(ref->loc, "unknown list '" + ref->name + "'", state.closest_list(ref->name));
      return false;
    }
    auto list = std::make_unique<CompiledList>();
    list->spelling = ref->name;
    list->items.reserve(it->second.list->items.size());
    for (const auto& item : it->second.list->items) {
      if (!compile_template(state, item, scope, list->items.emplace_back())) return false;
    }
    out.list = std::move(list);
    return true;
  }
  if (const auto* lit = std::get_if<ast::ListLiteral>(&t.operand)) {
    if (t.op != ast::Op::In) {
      state.error(lit->loc, "'" + op_spelling(t.op) + "' takes a string, not a list");
      return false;
    }
    auto list = std::make_unique<CompiledList>();
    list->spelling = "[";
    list->items.reserve(lit->items.size());
    for (const auto& item : lit->items) {
      CompiledTemplate& c = list->items.emplace_back();
      if (!compile_template(state, item, scope, c)) return false;
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
    state.error(text.loc, "'in' needs a list name or a list [\"a\", \"b\"]");
    return false;
  }
  return compile_template(state, text, scope, out.text);
}

}  // namespace lcrules::check
