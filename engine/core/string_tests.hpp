// The string tests of predicates (==, !=, starts-with, ends-with, contains, matches, inside,
// in) applied to a value: a fact, a rendered template or a command's output. Kept apart
// because fact predicates and command predicates share them; the quick path for plain
// operands is inline here, as it decides almost every predicate of an evaluation.
#pragma once

#include <string>

#include "engine/core/byte_compare.hpp"
#include "engine/core/explanation_recorder.hpp"
#include "engine/core/fact_lookup.hpp"
#include "engine/core/ruleset.hpp"
#include "engine/facts/paths.hpp"

namespace lcrules {

// The longest text a regex is matched against (a command's output, a fact, a rendered
// string). Longer text makes the predicate false with that reason, never a partial match:
// it bounds the work Boost.Regex may do before its complexity limit gives up.
inline constexpr std::size_t kMaxRegexText = 64 * 1024;

class StringTestEvaluator {
 public:
  explicit StringTestEvaluator(FactLookup& facts) : facts_(facts) {}

  // Decides a test that needs no rendering and no regex (a plain operand, or a list of
  // plain items: almost every predicate), without explaining it. False: test() must decide.
  static bool quick(const CompiledStringTest& t, const std::string& value, bool& held);

  // Applies a test to `value`: renders the operand, binds a regex's named groups as
  // captures; `subject` names the value in the check recorded.
  bool test(const CompiledStringTest& t, const std::string& value, const std::string& subject,
            const ast::Location& loc, CheckRecorder checks);

 private:
  FactLookup& facts_;
};

inline bool StringTestEvaluator::quick(const CompiledStringTest& t, const std::string& value, bool& held) {
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
        if (bytes::equal(*lit, value)) {
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
      held = bytes::equal(value, *rhs);
      break;
    case Op::NotEqual:
      held = !bytes::equal(value, *rhs);
      break;
    case Op::StartsWith:
      held = bytes::starts_with(value, *rhs);
      break;
    case Op::EndsWith:
      held = bytes::ends_with(value, *rhs);
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

}  // namespace lcrules
