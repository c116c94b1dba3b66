// Conditions: a rule's `when`, its and/or/not/macro structure and its predicates (fact
// tests, value tests, `is set`, `exists`; commands are handed to CommandPredicates). Kept
// apart from the decision assembly that uses the result: holds() is the hot path (no
// explanation, small frame, predicates in order of frequency), eval() the same tests in
// the same order, recording a check for each.
#pragma once

#include <string>

#include "engine/core/command_predicates.hpp"
#include "engine/core/explanation_recorder.hpp"
#include "engine/core/fact_lookup.hpp"
#include "engine/core/ruleset.hpp"
#include "engine/core/string_tests.hpp"

namespace lcrules {

class ConditionEvaluator {
 public:
  ConditionEvaluator(FactLookup& facts, StringTestEvaluator& tests, CommandPredicates& commands)
      : facts_(facts), tests_(tests), commands_(commands) {}

  // Whether the condition holds, without explaining it: the common case.
  bool holds(const ConditionNode& n);
  // Whether the condition holds; records a check for each predicate evaluated.
  bool eval(const ConditionNode& n, CheckRecorder checks);

 private:
  FactLookup& facts_;
  StringTestEvaluator& tests_;
  CommandPredicates& commands_;
};

}  // namespace lcrules
