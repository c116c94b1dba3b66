#include "engine/core/string_tests.hpp"

#include <stdexcept>

namespace lcrules {

bool StringTestEvaluator::test(const CompiledStringTest& t, const std::string& value,
                               const std::string& subject, const ast::Location& loc, CheckRecorder checks) {
  using ast::Op;
  if (!checks.on()) {
    bool held = false;
    if (quick(t, value, held)) return held;
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
          facts_.add_capture(name, g.matched ? g.str() : std::string());
        }
      }
    } catch (const std::runtime_error& e) {
      checks.regex_gave_up(subject, t.regex->pattern, e.what(), loc);
      return false;
    }
    checks.regex_test(subject, value, t.op, t.regex->pattern, held, loc);
    return held;
  }
  if (t.op == Op::In) {
    for (const auto& item : t.list->items) {
      if (const std::string* lit = literal_text(item)) {
        if (bytes::equal(*lit, value)) {
          held = true;
          break;
        }
        continue;
      }
      if (!facts_.render(item, operand, &missing)) continue;
      if (operand == value) {
        held = true;
        break;
      }
    }
    checks.in_list(subject, value, t.list->spelling, held, loc);
    return held;
  }
  const std::string* literal = literal_text(t.text);  // most operands: no copy
  if (!literal && !facts_.render(t.text, operand, &missing)) {
    checks.cannot_compare(subject, missing, loc);
    return false;
  }
  const std::string& rhs = literal ? *literal : operand;
  switch (t.op) {
    case Op::Equal:
      held = bytes::equal(value, rhs);
      break;
    case Op::NotEqual:
      held = !bytes::equal(value, rhs);
      break;
    case Op::StartsWith:
      held = bytes::starts_with(value, rhs);
      break;
    case Op::EndsWith:
      held = bytes::ends_with(value, rhs);
      break;
    case Op::Contains:
      held = value.find(rhs) != std::string::npos;
      break;
    case Op::Inside:
      held = paths::inside(value, rhs);
      break;
    case Op::Matches:
    case Op::In:
      break;
  }
  checks.comparison(t.op, subject, value, rhs, held, loc);
  return held;
}

}  // namespace lcrules
