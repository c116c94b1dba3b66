#include "grammar/syntax_hints.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "grammar/grammar.hpp"
#include "grammar/keywords.hpp"
#include "grammar/suggest.hpp"

namespace lcrules {
namespace {

namespace g = grammar;

template <std::size_t N>
std::vector<std::string_view> words(const std::array<std::string_view, N>& a) {
  return {a.begin(), a.end()};
}

// A commit point whose failure at an unknown word can suggest a keyword: what the word is
// called in the message, and the words the grammar accepts there.
struct Expectation {
  const char* grammar_message;
  const char* what;   // "unknown WHAT 'word'"
  const char* after;  // "... 'word' AFTER (did you mean ...)": "" or " after 'replace'"
  std::vector<std::string_view> candidates;
  bool closes_item = false;  // the '}' of an item: a missing one is an unclosed '{'
};

const std::vector<Expectation>& expectations() {
  static const std::vector<Expectation> table = {
      {g::error_message<g::file_end>, "keyword", "", words(g::keywords_of<g::item>)},
      {g::error_message<g::rule_close>, "property", "", words(g::keywords_of<g::rule_property>), true},
      {g::error_message<g::override_close>, "word", " in an override",
       words(g::keywords_of<g::override_entry>), true},
      {g::error_message<g::decision_close>, "word", " in a decision",
       words(g::keywords_of<g::decision_entry>), true},
      {g::error_message<g::replace_what>, "property", " after 'replace'",
       words(g::keywords_of<g::replace_what>)},
      {g::error_message<g::append_what>, "property", " after 'append'",
       words(g::keywords_of<g::append_what>)},
      {g::error_message<g::set_field>, "field", "", words(g::keywords_of<g::field_keyword>)},
      {g::error_message<g::unset_field>, "field", "", words(g::keywords_of<g::field_keyword>)},
      {g::error_message<g::stage_value>, "stage", "", words(g::keywords_of<g::stage_value>)},
      {g::error_message<g::run_test>, "test", " of a command", words(g::keywords_of<g::run_test>)},
      {g::error_message<g::output_test>, "operator", "", words(g::keywords_of<g::string_test>)},
      {g::error_message<g::json_test>, "operator", "", words(g::keywords_of<g::string_test>)},
      {g::error_message<g::yaml_test>, "operator", "", words(g::keywords_of<g::string_test>)},
      {g::error_message<g::value_test>, "operator", "", words(g::keywords_of<g::string_test>)},
  };
  return table;
}

const Expectation* expectation_for(const std::string& message) {
  for (const auto& e : expectations()) {
    if (message == e.grammar_message) return &e;
  }
  return nullptr;
}

// `'text'` at the start of `rest`: the message telling to use double quotes.
std::string single_quote_message(std::string_view rest) {
  const std::size_t end = rest.find_first_of("'\n\r", 1);
  if (end == std::string_view::npos || rest[end] != '\'')
    return "strings are written in double quotes, not '...'";
  std::string quoted = "\"";
  for (const char c : rest.substr(1, end - 1)) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return "strings are written in double quotes: " + quoted + "\"";
}

}  // namespace

Diagnostic syntax_diagnostic(std::string_view text, const ast::Location& at, const std::string& message,
                             const std::optional<OpenBrace>& open) {
  const std::string_view rest = at.offset <= text.size() ? text.substr(at.offset) : std::string_view();
  if (!rest.empty() && rest[0] == '\'') return make_diagnostic(text, at, single_quote_message(rest));
  const Expectation* e = expectation_for(message);
  if (e == nullptr) return make_diagnostic(text, at, message);
  const std::string_view word = g::detail::word_at(rest);
  if (e->closes_item && open) {
    // The file ends, or the next item starts, where this item's '}' was expected.
    const auto items = g::keywords_of<g::item>;
    const bool next_item = !word.empty() && std::find(items.begin(), items.end(), word) != items.end();
    if (rest.empty() || next_item) {
      Diagnostic d = make_diagnostic(
          text, open->loc,
          open->item.empty() ? "this '{' is not closed" : "the '{' of " + open->item + " is not closed");
      if (rest.empty()) {
        // No excerpt: the file's end is no line to show.
        d.notes.push_back(Diagnostic{at, "expected '}' before the end of the file", {}, 0, {}, {}});
      } else {
        d.notes.push_back(make_diagnostic(text, at, "expected '}' before '" + std::string(word) + "'"));
      }
      return d;
    }
  }
  if (word.empty()) return make_diagnostic(text, at, message);
  const auto suggestion = closest_name(word, e->candidates);
  if (!suggestion) return make_diagnostic(text, at, message);
  Diagnostic d = make_diagnostic(text, at,
                                 "unknown " + std::string(e->what) + " '" + std::string(word) + "'" +
                                     e->after + did_you_mean(suggestion));
  d.suggestion = *suggestion;
  return d;
}

}  // namespace lcrules
