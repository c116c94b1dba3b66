// Boost.Regex gives up on a match after a number of states that grows with the text:
// max(S*S*N, min(N*N, BOOST_REGEX_MAX_STATE_COUNT)) for a pattern of S states and a text of
// N characters, 100,000,000 by default (seconds of backtracking). This file matches through
// its own iterator type (TextIterator below, internal linkage), so the matcher instantiated
// here is this file's alone and the lower budget defined here applies to it and to nothing
// else. It must come before the first Boost header.
#define BOOST_REGEX_MAX_STATE_COUNT 10000000
#include "engine/core/string_tests.hpp"

#include <cstddef>
#include <iterator>
#include <stdexcept>

namespace lcrules {
namespace {

// A plain random-access iterator over the text a regex sees (see the top of this file).
class TextIterator {
 public:
  using iterator_category = std::random_access_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  TextIterator() = default;
  explicit TextIterator(const char* p) : p_(p) {}
  reference operator*() const { return *p_; }
  pointer operator->() const { return p_; }
  reference operator[](difference_type n) const { return p_[n]; }
  TextIterator& operator++() {
    ++p_;
    return *this;
  }
  TextIterator operator++(int) { return TextIterator(p_++); }
  TextIterator& operator--() {
    --p_;
    return *this;
  }
  TextIterator operator--(int) { return TextIterator(p_--); }
  TextIterator& operator+=(difference_type n) {
    p_ += n;
    return *this;
  }
  TextIterator& operator-=(difference_type n) {
    p_ -= n;
    return *this;
  }
  friend TextIterator operator+(TextIterator it, difference_type n) { return it += n; }
  friend TextIterator operator+(difference_type n, TextIterator it) { return it += n; }
  friend TextIterator operator-(TextIterator it, difference_type n) { return it -= n; }
  friend difference_type operator-(TextIterator a, TextIterator b) { return a.p_ - b.p_; }
  friend bool operator==(TextIterator a, TextIterator b) { return a.p_ == b.p_; }
  friend bool operator!=(TextIterator a, TextIterator b) { return a.p_ != b.p_; }
  friend bool operator<(TextIterator a, TextIterator b) { return a.p_ < b.p_; }
  friend bool operator>(TextIterator a, TextIterator b) { return a.p_ > b.p_; }
  friend bool operator<=(TextIterator a, TextIterator b) { return a.p_ <= b.p_; }
  friend bool operator>=(TextIterator a, TextIterator b) { return a.p_ >= b.p_; }

 private:
  const char* p_ = nullptr;
};

}  // namespace

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
    if (value.size() > kMaxRegexText) {
      checks.regex_gave_up(subject, t.regex->pattern, "the text is longer than 64 KiB", loc);
      return false;
    }
    try {
      const TextIterator first(value.data()), last(value.data() + value.size());
      boost::match_results<TextIterator> m;
      held = t.op == Op::Matches ? boost::regex_match(first, last, m, *t.regex->regex)
                                 : boost::regex_search(first, last, m, *t.regex->regex);
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
