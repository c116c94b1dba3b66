#include "engine/core/predicates.hpp"

#include <cstddef>

namespace lcrules {
namespace {

using Kind = ConditionNode::Kind;

const std::string kNoSubject;  // not explaining: no subject is named

}  // namespace

// eval() without an explanation: the same tests in the same order, in a small frame;
// predicates that render or run something go through eval().
bool ConditionEvaluator::holds(const ConditionNode& n) {
  // Tested in order of frequency: conditional branches predict better here than a jump
  // table.
  const Kind kind = n.kind;
  if (kind == Kind::Fact) {
    const std::string* v = facts_.fact(n.fact);
    if (!v) return false;
    bool held = false;
    if (StringTestEvaluator::quick(n.test, *v, held)) return held;
    return tests_.test(n.test, *v, n.fact.spelling, n.loc, CheckRecorder());
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
      const std::size_t mark = facts_.capture_mark();
      if (holds(c)) return true;
      facts_.drop_captures_after(mark);  // only the branch that matched binds captures
    }
    return false;
  }
  if (kind == Kind::Not) {
    const std::size_t mark = facts_.capture_mark();
    const bool held = !holds(n.children.front());
    facts_.drop_captures_after(mark);  // a regex under `not` binds nothing
    return held;
  }
  if (kind == Kind::IsSet) return (facts_.fact(n.fact) != nullptr) != n.negated;
  return eval(n, CheckRecorder());  // Value, Exists, Command, Read
}

bool ConditionEvaluator::eval(const ConditionNode& n, CheckRecorder checks) {
  switch (n.kind) {
    case Kind::And:
      for (const auto& c : n.children) {
        if (!eval(c, checks)) return false;
      }
      return true;
    case Kind::Or:
      for (const auto& c : n.children) {
        const std::size_t mark = facts_.capture_mark();
        if (eval(c, checks)) return true;
        facts_.drop_captures_after(mark);  // only the branch that matched binds captures
      }
      return false;
    case Kind::Not: {
      const std::size_t mark = facts_.capture_mark();
      NestedChecks inner(checks);
      const bool held = !eval(n.children.front(), inner.recorder());
      facts_.drop_captures_after(mark);  // a regex under `not` binds nothing
      checks.negation(inner, held, n.loc);
      return held;
    }
    case Kind::Macro:
      return eval(n.children.front(), checks);
    case Kind::Fact: {
      const std::string* v = facts_.fact(n.fact);
      if (!v) {
        checks.not_set(n.fact.spelling, n.loc);
        return false;
      }
      return tests_.test(n.test, *v, n.fact.spelling, n.loc, checks);
    }
    case Kind::Value: {
      std::string value, missing;
      if (!facts_.render(*n.subject, value, &missing)) {
        checks.not_set(missing, n.loc);
        return false;
      }
      if (!checks.on()) return tests_.test(n.test, value, kNoSubject, n.loc, checks);
      return tests_.test(n.test, value, CheckRecorder::template_subject(*n.subject), n.loc, checks);
    }
    case Kind::IsSet: {
      const std::string* v = facts_.fact(n.fact);
      const bool held = (v != nullptr) != n.negated;
      checks.is_set(n.fact.spelling, v, held, n.loc);
      return held;
    }
    case Kind::Exists: {
      std::string path, missing;
      if (!facts_.render(*n.subject, path, &missing)) {
        checks.exists_not_set(missing, n.loc);
        return false;
      }
      const EvaluationInput& in = facts_.input();
      const bool held = in.file_exists && in.file_exists(path);
      checks.file_exists(path, held, n.loc);
      return held;
    }
    case Kind::Command:
      return commands_.holds(n, checks);
    case Kind::Read:
      return commands_.holds_read(n, checks);
  }
  return false;
}

}  // namespace lcrules
