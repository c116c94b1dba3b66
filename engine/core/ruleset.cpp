#include "engine/core/ruleset.hpp"

#include <mutex>

namespace lcrules {

struct RegexHandle::State {
  std::once_flag once;
  std::string pattern;  // deferred only
  boost::regex::flag_type flags{};
  std::shared_ptr<const boost::regex> compiled;
};

RegexHandle RegexHandle::deferred(std::string pattern, boost::regex::flag_type flags) {
  RegexHandle h;
  h.state_ = std::make_shared<State>();
  h.state_->pattern = std::move(pattern);
  h.state_->flags = flags;
  return h;
}

const boost::regex& RegexHandle::operator*() const {
  State& s = *state_;
  std::call_once(s.once, [&s] { s.compiled = std::make_shared<const boost::regex>(s.pattern, s.flags); });
  return *s.compiled;
}

boost::regex::flag_type RegexHandle::flags() const { return state_->flags; }

RuleSet::~RuleSet() {
  if (allocation_order.size() != rules.size()) return;
  for (const std::uint32_t i : allocation_order) {
    const CompiledRule released = std::move(rules[i]);  // what it owns is freed here
  }
}

}  // namespace lcrules
