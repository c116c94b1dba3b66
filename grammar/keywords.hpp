// The words of the .rules language, read off the grammar itself: every literal string
// (TAO_PEGTL_STRING, so every kw<...>) that a rule reachable from `file` matches, found by
// PEGTL's rule_list_t. A keyword added to grammar.hpp is in this list without anything else
// to update; the editor syntax files (grammar/editors/) are checked against it by a test
// (tests/editors/, tools/grammar_words). Also the words that start each alternative of a
// rule (keywords_of), for "did you mean" (grammar/syntax_hints.cpp).
#pragma once

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tao/pegtl/visit.hpp>

#include "grammar/grammar.hpp"

namespace lcrules::grammar {

enum class WordKind {
  keyword,  // items, properties, operators: `rule`, `priority`, `and`, `starts-with`, `run`
  field,    // a decision field: `cluster`, `load_images`
  value,    // a literal value: `true`, `false`, `null`, `identify`, `policy`
  symbol,   // punctuation longer than one character: `==`, `${`, `:-`
  unit,     // a duration unit: `ms`
  refused,  // matched only to explain why it is refused: `notes`
};

inline const char* word_kind_name(WordKind k) {
  switch (k) {
    case WordKind::keyword:
      return "keyword";
    case WordKind::field:
      return "field";
    case WordKind::value:
      return "value";
    case WordKind::symbol:
      return "symbol";
    case WordKind::unit:
      return "unit";
    case WordKind::refused:
      return "refused";
  }
  return "?";
}

struct GrammarWord {
  std::string text;
  WordKind kind;
};

namespace detail {

// The text of a literal string rule, also of a rule derived from one
// (`struct op_eq : TAO_PEGTL_STRING("==") {}`): the pointer converts to its base.
template <char... Cs>
std::string literal_of(const internal::string<Cs...>* /*unused*/) {
  return std::string{Cs...};
}
inline std::string literal_of(const void* /*unused*/) { return {}; }

template <typename Rule>
struct word_collector {
  static void visit(std::vector<std::string>& out) {
    std::string text = literal_of(static_cast<const Rule*>(nullptr));
    if (!text.empty()) out.push_back(std::move(text));
  }
};

template <typename... Roots>
std::vector<std::string> strings_under() {
  std::vector<std::string> out;
  (TAO_PEGTL_NAMESPACE::visit<Roots, word_collector>(out), ...);
  return out;
}

inline bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace detail

// Every word of the grammar once, sorted by text.
inline std::vector<GrammarWord> grammar_words() {
  const auto all = detail::strings_under<file>();
  const auto fields = detail::strings_under<field_keyword>();
  const auto values = detail::strings_under<stage_value, true_value, false_value, null_value>();
  const auto units = detail::strings_under<duration_unit>();
  const auto refused = detail::strings_under<notes_not_settable>();
  std::vector<GrammarWord> words;
  for (const auto& s : all) {
    const bool word_like = std::all_of(s.begin(), s.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
             c == '-';
    });
    WordKind kind = WordKind::keyword;
    if (!word_like) {
      kind = WordKind::symbol;
    } else if (detail::contains(fields, s)) {
      kind = WordKind::field;
    } else if (detail::contains(values, s)) {
      kind = WordKind::value;
    } else if (detail::contains(units, s)) {
      kind = WordKind::unit;
    } else if (detail::contains(refused, s)) {
      kind = WordKind::refused;
    }
    if (std::none_of(words.begin(), words.end(), [&](const GrammarWord& w) { return w.text == s; })) {
      words.push_back({s, kind});
    }
  }
  std::sort(words.begin(), words.end(),
            [](const GrammarWord& a, const GrammarWord& b) { return a.text < b.text; });
  return words;
}

namespace detail {

template <typename List>
struct front;
template <typename First, typename... Rest>
struct front<type_list<First, Rest...>> {
  using type = First;
};

// The literal a rule starts with: the first sub-rule, followed down to a string (told
// apart by its rule_t, as rules derive from the PEGTL rules they are).
template <typename Rule, typename RuleT = typename Rule::rule_t>
struct first_word : first_word<typename front<typename Rule::subs_t>::type> {};
template <typename Rule, char... Cs>
struct first_word<Rule, internal::string<Cs...>> {
  static constexpr char chars[] = {Cs..., '\0'};
  static constexpr std::string_view value{chars, sizeof...(Cs)};
};

template <typename List>
struct first_words;
template <typename... Rules>
struct first_words<type_list<Rules...>> {
  static constexpr std::array<std::string_view, sizeof...(Rules)> value{first_word<Rules>::value...};
};

}  // namespace detail

// The first word of each alternative of `Sor` (a sor<...> of keyword-led rules), in the
// grammar's order: keywords_of<rule_property> is {"priority", "stage", ...}.
template <typename Sor>
inline constexpr auto keywords_of = detail::first_words<typename Sor::subs_t>::value;

}  // namespace lcrules::grammar
