// The grammar of .rules files (docs/language.md), one struct per rule, PEGTL 3.2.
//
// Commit points use must<> on a rule that has a hand-written message (error_message<>
// below); control<> refuses at compile time to raise for a rule without one, so no C++
// type name can ever reach a user. A few rules check what they matched (numbers that
// overflow, escapes, reserved words, nesting depth) and raise their own messages.
#pragma once

#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <tao/pegtl.hpp>
#include <tao/pegtl/contrib/analyze_traits.hpp>

#include "grammar/parser.hpp"
#include "grammar/utf8.hpp"

namespace lcrules::grammar {

using namespace TAO_PEGTL_NAMESPACE;  // NOLINT(google-build-using-namespace)

inline constexpr std::size_t kMaxTemplateNesting = 16;

// Messages raised by the byte-level checks; parse_rules() treats them specially.
inline constexpr const char* kNulMessage = "unexpected NUL byte";
inline constexpr const char* kUtf8Message = "invalid UTF-8";

// ---------------------------------------------------------------------------------------
// Messages and control.

template <typename Rule>
inline constexpr const char* error_message = nullptr;

template <typename Rule>
struct control : normal<Rule> {
  template <typename ParseInput, typename... States>
  [[noreturn]] static void raise(const ParseInput& in, States&&... /*unused*/) {
    static_assert(error_message<Rule> != nullptr, "a rule used at a commit point needs an error_message");
    throw parse_error(error_message<Rule>, in);
  }
};

// Per-parse state shared by the custom rules below.
struct parse_state {
  std::size_t condition_depth = 0;
  std::size_t template_depth = 0;
};

namespace detail {

inline parse_state* pick_state(parse_state& s) { return &s; }
template <typename T>
parse_state* pick_state(T& /*unused*/) {
  return nullptr;
}

template <typename... States>
parse_state& get_state(States&... st) {
  static_assert((std::is_same_v<std::decay_t<States>, parse_state> || ...),
                "parse with a grammar::parse_state");
  parse_state* p = nullptr;
  ((p = p != nullptr ? p : pick_state(st)), ...);
  return *p;
}

using grammar::utf8_length;  // grammar/utf8.hpp

// Position `delta` bytes after the iterator `it` (which must not cross a newline).
template <typename ParseInput>
position position_after(const ParseInput& in, const internal::iterator& it, std::size_t delta) {
  internal::iterator moved = it;
  moved.data += delta;
  moved.byte += delta;
  moved.column += delta;
  return position(moved, in.source());
}

// A byte that cannot start anything at this point of a string-like token: the message
// for it, or nullptr for an ordinary character.
inline const char* byte_problem(std::string_view rest, const char* unterminated, const char* utf8) {
  if (rest.empty() || rest[0] == '\n' || rest[0] == '\r') return unterminated;
  if (rest[0] == '\0') return kNulMessage;
  if (utf8_length(rest) == 0) return utf8;
  return nullptr;
}

template <typename ParseInput>
std::string_view rest_of(const ParseInput& in) {
  return std::string_view(in.current(), in.size(0));
}

}  // namespace detail

// ---------------------------------------------------------------------------------------
// Custom rules (each declares rule_t/subs_t; analyze traits are at the end of this file).

#define LCRULES_CUSTOM_RULE_MATCH                                                          \
  template <apply_mode A, rewind_mode M, template <typename...> class Action,              \
            template <typename...> class Control, typename ParseInput, typename... States> \
  [[nodiscard]] static bool match(ParseInput& in, States&&... st)

// Matches Rule, then lets Check inspect the matched text; Check::check returns nullopt or
// {byte offset inside the text, message}, raised as a parse error there.
template <typename Rule, typename Check>
struct checked {
  using rule_t = checked;
  using subs_t = type_list<Rule>;

  LCRULES_CUSTOM_RULE_MATCH {
    const internal::iterator start = in.iterator();
    if (!TAO_PEGTL_NAMESPACE::match<Rule, A, M, Action, Control>(in, st...)) return false;
    const std::string_view text(start.data, static_cast<std::size_t>(in.current() - start.data));
    if (auto problem = Check::check(text)) {
      throw parse_error(problem->second, detail::position_after(in, start, problem->first));
    }
    return true;
  }
};

// Open, then Rest one level deeper: bounds the nesting of conditions ('(' and 'not') and
// of `${...}` inside `${NAME:-...}` defaults. Too deep raises at the start of Open.
template <std::size_t parse_state::*Depth, std::size_t Max, const char* Message, typename Open, typename Rest>
struct nested {
  using rule_t = nested;
  using subs_t = type_list<Open, Rest>;

  LCRULES_CUSTOM_RULE_MATCH {
    parse_state& s = detail::get_state(st...);
    const internal::iterator start = in.iterator();
    if (!TAO_PEGTL_NAMESPACE::match<Open, A, M, Action, Control>(in, st...)) return false;
    if (s.*Depth >= Max) throw parse_error(Message, position(start, in.source()));
    ++(s.*Depth);
    struct guard {
      std::size_t& d;
      ~guard() { --d; }
    } g{s.*Depth};
    return TAO_PEGTL_NAMESPACE::match<Rest, A, M, Action, Control>(in, st...);
  }
};

inline constexpr char kConditionDepthMessage[] = "conditions nest deeper than 64 levels";
inline constexpr char kTemplateDepthMessage[] = "interpolations nest deeper than 16 levels";
static_assert(kMaxNesting == 64 && kMaxTemplateNesting == 16, "update the depth messages");

template <typename Open, typename Rest>
using nest_condition = nested<&parse_state::condition_depth, kMaxNesting, kConditionDepthMessage, Open, Rest>;
template <typename Open, typename Rest>
using nest_template =
    nested<&parse_state::template_depth, kMaxTemplateNesting, kTemplateDepthMessage, Open, Rest>;

// Reserved words: they cannot name a rule, macro, list or decision.
inline constexpr std::array<std::string_view, 38> kReservedWords = {
    "and",      "or",    "not",      "is",       "set",      "in",     "exists",      "run",
    "true",     "false", "null",     "matches",  "contains", "inside", "starts-with", "ends-with",
    "succeeds", "exits", "output",   "json",     "yaml",     "as",     "timeout",     "cache",
    "env",      "rule",  "override", "disable",  "macro",    "list",   "lcrules",     "replace",
    "append",   "unset", "read",     "decision", "decide",   "leave"};

namespace detail {
inline bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}
inline std::string_view word_at(std::string_view rest) {
  std::size_t n = 0;
  while (n < rest.size() && is_name_char(rest[n])) ++n;
  return rest.substr(0, n);
}
inline bool is_reserved(std::string_view word) {
  for (auto r : kReservedWords) {
    if (r == word) return true;
  }
  return false;
}
}  // namespace detail

// Succeeds (consuming nothing) unless a reserved word follows; Raise: raise instead of failing.
template <bool Raise>
struct name_guard {
  using rule_t = name_guard;
  using subs_t = empty_list;

  LCRULES_CUSTOM_RULE_MATCH {
    (void)sizeof...(st);
    const std::string_view word = detail::word_at(detail::rest_of(in));
    if (!detail::is_reserved(word)) return true;
    if constexpr (Raise) {
      throw parse_error("'" + std::string(word) + "' is a reserved word and cannot be a name", in);
    }
    return false;
  }
};

// End of a comment: a newline or the end of the file. Raises for NUL and invalid UTF-8.
struct comment_end {
  using rule_t = comment_end;
  using subs_t = empty_list;

  LCRULES_CUSTOM_RULE_MATCH {
    (void)sizeof...(st);
    const std::string_view rest = detail::rest_of(in);
    if (rest.empty() || rest[0] == '\n') return true;
    if (rest[0] == '\0') throw parse_error(kNulMessage, in);
    throw parse_error("invalid UTF-8 in comment", in);
  }
};

// A closing character of a string-like token. When it is missing, raises the precise
// reason if the next byte explains it (end of line, NUL, invalid UTF-8), else fails so
// that the must<> around it raises its own message.
template <char C, bool InRegex = false>
struct closing {
  using rule_t = closing;
  using subs_t = empty_list;

  LCRULES_CUSTOM_RULE_MATCH {
    (void)sizeof...(st);
    std::string_view rest = detail::rest_of(in);
    if (!rest.empty() && rest[0] == C) {
      in.bump(1);
      return true;
    }
    std::size_t skip = 0;
    if constexpr (InRegex) {
      if (!rest.empty() && rest[0] == '\\') skip = 1;  // a backslash before a bad byte
    }
    const char* msg = detail::byte_problem(
        rest.substr(skip), InRegex ? "unterminated regular expression" : "unterminated string",
        InRegex ? "invalid UTF-8 in regular expression" : "invalid UTF-8 in string");
    if (msg != nullptr) throw parse_error(msg, detail::position_after(in, in.iterator(), skip));
    return false;
  }
};

namespace detail {

// Bytes at the start of `rest` that are valid UTF-8 code points other than the ASCII bytes
// `Excluded`: what star<utf8::not_one<Excluded...>> consumes (same strict decoding).
template <char... Excluded>
std::size_t utf8_run(std::string_view rest) {
  std::size_t n = 0;
  while (n < rest.size()) {
    const char c = rest[n];
    if (static_cast<unsigned char>(c) < 0x80) {
      if (((c == Excluded) || ...)) break;
      ++n;
    } else {
      const std::size_t len = utf8_length(rest.substr(n, 4));
      if (len == 0) break;
      n += len;
    }
  }
  return n;
}

}  // namespace detail

// plus<utf8::not_one<Excluded...>> (Min 1) or star<...> (Min 0) for ASCII `Excluded`
// including '\n', scanned in one loop instead of a PEGTL match per character.
template <std::size_t Min, char... Excluded>
struct utf8_text {
  static_assert(((Excluded == '\n') || ...), "the text must stay on one line");
  using rule_t = utf8_text;
  using subs_t = empty_list;

  LCRULES_CUSTOM_RULE_MATCH {
    (void)sizeof...(st);
    const std::size_t n = detail::utf8_run<Excluded...>(detail::rest_of(in));
    if (n < Min) return false;
    in.bump_in_this_line(n);
    return true;
  }
};

// The text of a regular expression: star<sor<seq<one<'\\'>, utf8::not_one<'\n', '\r', '\0'>>,
// utf8::not_one<'/', '\\', '\n', '\r', '\0'>>>, in one loop.
struct regex_chars {
  using rule_t = regex_chars;
  using subs_t = empty_list;

  LCRULES_CUSTOM_RULE_MATCH {
    (void)sizeof...(st);
    const std::string_view rest = detail::rest_of(in);
    std::size_t n = 0;
    while (n < rest.size()) {
      const bool escaped = rest[n] == '\\';
      const std::size_t at = escaped ? n + 1 : n;  // the code point to take
      if (at == rest.size()) break;
      const char c = rest[at];
      std::size_t len = 1;
      if (static_cast<unsigned char>(c) < 0x80) {
        if (c == '\n' || c == '\r' || c == '\0' || (!escaped && c == '/')) break;
      } else {
        len = detail::utf8_length(rest.substr(at, 4));
        if (len == 0) break;
      }
      n = at + len;
    }
    in.bump_in_this_line(n);
    return true;
  }
};

// After a backslash that starts no known escape: raises with the offending sequence.
struct unknown_escape {
  using rule_t = unknown_escape;
  using subs_t = empty_list;

  LCRULES_CUSTOM_RULE_MATCH {
    (void)sizeof...(st);
    const std::string_view rest = detail::rest_of(in);
    if (const char* msg = detail::byte_problem(rest, "unterminated string", "invalid UTF-8 in string")) {
      throw parse_error(msg, in);
    }
    const std::size_t len = detail::utf8_length(rest);
    const auto c = static_cast<unsigned char>(rest[0]);
    // Point at the backslash.
    internal::iterator it = in.iterator();
    --it.data;
    --it.byte;
    --it.column;
    if (c < 0x20 || c == 0x7f)
      throw parse_error("unknown escape sequence in string", position(it, in.source()));
    throw parse_error("unknown escape sequence '\\" + std::string(rest.substr(0, len)) + "' in string",
                      position(it, in.source()));
  }
};

// ---------------------------------------------------------------------------------------
// Checks for checked<>.

namespace detail {

inline std::optional<std::pair<std::size_t, std::string>> int_problem(std::string_view text) {
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  int value = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size()) {
    return std::pair<std::size_t, std::string>{0, "number out of range"};
  }
  return std::nullopt;
}

}  // namespace detail

struct int_check {
  static std::optional<std::pair<std::size_t, std::string>> check(std::string_view text) {
    return detail::int_problem(text);
  }
};

struct version_check {
  static std::optional<std::pair<std::size_t, std::string>> check(std::string_view text) {
    if (auto p = detail::int_problem(text)) return p;
    int v = 0;
    std::from_chars(text.data(), text.data() + text.size(), v);
    if (v < 1) return std::pair<std::size_t, std::string>{0, "language versions start at 1"};
    if (v > kLanguageVersion) {
      return std::pair<std::size_t, std::string>{0, "this file needs language version " + std::to_string(v) +
                                                        ", this lcrules reads version " +
                                                        std::to_string(kLanguageVersion)};
    }
    return std::nullopt;
  }
};

// Durations are at most about 30 years.
inline constexpr double kMaxDurationSeconds = 1e9;

struct duration_check {
  static std::optional<std::pair<std::size_t, std::string>> check(std::string_view text) {
    std::size_t n = 0;
    while (n < text.size() && ((text[n] >= '0' && text[n] <= '9') || text[n] == '.')) ++n;
    if (n > 32) return std::pair<std::size_t, std::string>{0, "duration out of range"};
    const double v = std::strtod(std::string(text.substr(0, n)).c_str(), nullptr);
    if (!std::isfinite(v) || v > kMaxDurationSeconds) {
      return std::pair<std::size_t, std::string>{0, "duration out of range"};
    }
    return std::nullopt;
  }
};

// `\u{H...}`: a Unicode scalar value.
struct escape_check {
  static std::optional<std::pair<std::size_t, std::string>> check(std::string_view text) {
    if (text.size() < 2 || text[1] != 'u') return std::nullopt;
    const std::string_view hex = text.substr(3, text.size() - 4);
    unsigned long cp = 0;
    std::from_chars(hex.data(), hex.data() + hex.size(), cp, 16);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return std::pair<std::size_t, std::string>{0,
                                                 "'" + std::string(text) + "' is not a Unicode code point"};
    }
    return std::nullopt;
  }
};

// Strings whose value is needed at load time: no `${...}`.
template <typename What>
struct no_interpolation_check {
  static std::optional<std::pair<std::size_t, std::string>> check(std::string_view text) {
    for (std::size_t i = 0; i + 1 < text.size(); ++i) {
      if (text[i] == '\\' || (text[i] == '$' && text[i + 1] == '$')) {
        ++i;
        continue;
      }
      if (text[i] == '$' && text[i + 1] == '{') {
        return std::pair<std::size_t, std::string>{i, std::string(What::name) + " cannot use ${...}"};
      }
    }
    return std::nullopt;
  }
};

// ---------------------------------------------------------------------------------------
// Lexical rules.

struct name_char : ranges<'a', 'z', 'A', 'Z', '0', '9', '_', '_', '-', '-', '.', '.'> {};
struct word_end : not_at<name_char> {};

template <typename Str>
struct kw : seq<Str, word_end> {};

// clang-format off
struct kw_lcrules : kw<TAO_PEGTL_STRING("lcrules")> {};
struct kw_rule : kw<TAO_PEGTL_STRING("rule")> {};
struct kw_override : kw<TAO_PEGTL_STRING("override")> {};
struct kw_disable : kw<TAO_PEGTL_STRING("disable")> {};
struct kw_macro : kw<TAO_PEGTL_STRING("macro")> {};
struct kw_list : kw<TAO_PEGTL_STRING("list")> {};
struct kw_priority : kw<TAO_PEGTL_STRING("priority")> {};
struct kw_stage : kw<TAO_PEGTL_STRING("stage")> {};
struct kw_description : kw<TAO_PEGTL_STRING("description")> {};
struct kw_timeout : kw<TAO_PEGTL_STRING("timeout")> {};
struct kw_when : kw<TAO_PEGTL_STRING("when")> {};
struct kw_set : kw<TAO_PEGTL_STRING("set")> {};
struct kw_note : kw<TAO_PEGTL_STRING("note")> {};
struct kw_notes : kw<TAO_PEGTL_STRING("notes")> {};
struct kw_replace : kw<TAO_PEGTL_STRING("replace")> {};
struct kw_append : kw<TAO_PEGTL_STRING("append")> {};
struct kw_unset : kw<TAO_PEGTL_STRING("unset")> {};
struct kw_decision : kw<TAO_PEGTL_STRING("decision")> {};
struct kw_decide : kw<TAO_PEGTL_STRING("decide")> {};
struct kw_leave : kw<TAO_PEGTL_STRING("leave")> {};
struct kw_identify : kw<TAO_PEGTL_STRING("identify")> {};
struct kw_policy : kw<TAO_PEGTL_STRING("policy")> {};
struct kw_true : kw<TAO_PEGTL_STRING("true")> {};
struct kw_false : kw<TAO_PEGTL_STRING("false")> {};
struct kw_null : kw<TAO_PEGTL_STRING("null")> {};
struct kw_and : kw<TAO_PEGTL_STRING("and")> {};
struct kw_or : kw<TAO_PEGTL_STRING("or")> {};
struct kw_not : kw<TAO_PEGTL_STRING("not")> {};
struct kw_is : kw<TAO_PEGTL_STRING("is")> {};
struct kw_in : kw<TAO_PEGTL_STRING("in")> {};
struct kw_exists : kw<TAO_PEGTL_STRING("exists")> {};
struct kw_run : kw<TAO_PEGTL_STRING("run")> {};
struct kw_read : kw<TAO_PEGTL_STRING("read")> {};
struct kw_cache : kw<TAO_PEGTL_STRING("cache")> {};
struct kw_env : kw<TAO_PEGTL_STRING("env")> {};
struct kw_succeeds : kw<TAO_PEGTL_STRING("succeeds")> {};
struct kw_exits : kw<TAO_PEGTL_STRING("exits")> {};
struct kw_output : kw<TAO_PEGTL_STRING("output")> {};
struct kw_json : kw<TAO_PEGTL_STRING("json")> {};
struct kw_yaml : kw<TAO_PEGTL_STRING("yaml")> {};
struct kw_as : kw<TAO_PEGTL_STRING("as")> {};
struct kw_starts_with : kw<TAO_PEGTL_STRING("starts-with")> {};
struct kw_ends_with : kw<TAO_PEGTL_STRING("ends-with")> {};
struct kw_contains : kw<TAO_PEGTL_STRING("contains")> {};
struct kw_matches : kw<TAO_PEGTL_STRING("matches")> {};
struct kw_inside : kw<TAO_PEGTL_STRING("inside")> {};
// clang-format on

// Whitespace and comments: star<sor<one<' ', '\t', '\r', '\n'>, comment>> with
// comment = seq<one<'#'>, star<utf8::not_one<'\n', '\0'>>, comment_end>, in one loop (it is
// tried between almost every two tokens). Comment text must be UTF-8 (comment_end raises
// otherwise).
struct sp {
  using rule_t = sp;
  using subs_t = empty_list;

  LCRULES_CUSTOM_RULE_MATCH {
    for (;;) {
      const std::string_view rest = detail::rest_of(in);
      std::size_t n = 0;
      while (n < rest.size() && (rest[n] == ' ' || rest[n] == '\t' || rest[n] == '\r' || rest[n] == '\n'))
        ++n;
      if (n != 0) in.bump(n);  // counts lines
      if (n == rest.size() || rest[n] != '#') return true;
      in.bump_in_this_line(1 + detail::utf8_run<'\n', '\0'>(rest.substr(n + 1)));
      if (!comment_end::match<A, M, Action, Control>(in, st...)) return true;  // it raises instead
    }
  }
};

// Names of rules, macros and lists: a letter or '_', then letters, digits, '_', '-', '.'.
struct name_token : seq<ranges<'a', 'z', 'A', 'Z', '_', '_'>, star<name_char>> {};
// A name being defined or referring to a rule: reserved words raise.
struct defined_name : seq<name_guard<true>, name_token> {};

// Fact names: dotted segments of [A-Za-z0-9_-], the first starting with a letter.
struct fact_char : ranges<'a', 'z', 'A', 'Z', '0', '9', '_', '_', '-', '-'> {};
struct fact_name
    : seq<ranges<'a', 'z', 'A', 'Z'>, star<fact_char>, star<one<'.'>, plus<fact_char>>, word_end> {};

// Numbers.
struct signed_integer : seq<opt<one<'+', '-'>>, plus<digit>, word_end> {};
struct unsigned_integer : seq<plus<digit>, word_end> {};
struct duration_unit : sor<TAO_PEGTL_STRING("ms"), one<'s', 'm', 'h'>> {};
struct duration
    : checked<seq<plus<digit>, opt<one<'.'>, plus<digit>>, opt<duration_unit>, word_end>, duration_check> {};

// ---------------------------------------------------------------------------------------
// Strings: "..." with escapes and ${...} references.

struct template_arg;

struct escape_simple : one<'"', '\\', 'n', 't', 'r', '0', '$'> {};
struct hex_byte : seq<xdigit, xdigit> {};
struct escape_hex : seq<one<'x'>, must<hex_byte>> {};
struct unicode_code : seq<one<'{'>, rep_min_max<1, 6, xdigit>, one<'}'>> {};
struct escape_unicode : seq<one<'u'>, must<unicode_code>> {};
struct escape
    : checked<seq<one<'\\'>, sor<escape_simple, escape_hex, escape_unicode, unknown_escape>>, escape_check> {
};
struct dollar_dollar : TAO_PEGTL_STRING("$$") {};

struct ref_name : seq<fact_name> {};
struct mod_default : TAO_PEGTL_STRING(":-") {};
struct mod_prefix : one<'#'> {};
struct mod_suffix : one<'%'> {};
struct ref_modifier : seq<sor<mod_default, mod_prefix, mod_suffix>, template_arg> {};
struct ref_close : closing<'}'> {};
struct arg_close : closing<'}'> {};
struct reference_body : seq<must<ref_name>, sor<seq<ref_modifier, must<arg_close>>, must<ref_close>>> {};
struct reference : nest_template<TAO_PEGTL_STRING("${"), reference_body> {};
// A '$' that starts no reference stands for itself ("$(cmd)", "cost: 5$").
struct lone_dollar : seq<one<'$'>, not_at<one<'{'>>> {};

struct string_text : utf8_text<1, '"', '\\', '$', '\n', '\r', '\0'> {};
struct arg_text : utf8_text<1, '"', '\\', '$', '}', '\n', '\r', '\0'> {};

struct template_arg : star<sor<arg_text, escape, dollar_dollar, reference, lone_dollar>> {};
struct string_close : closing<'"'> {};
struct string_lit : seq<one<'"'>, star<sor<string_text, escape, dollar_dollar, reference, lone_dollar>>,
                        must<string_close>> {};

// Regular expressions: /.../ or /.../i; backslash pairs are kept (\/ becomes /).
struct regex_text : regex_chars {};
struct regex_close : closing<'/', true> {};
struct regex_flag : one<'i'> {};
struct regex_end : word_end {};
struct regex_lit : seq<one<'/'>, regex_text, must<regex_close>, opt<regex_flag>, must<regex_end>> {};

// Bracketed lists: [ ITEM, ITEM, ... ] with an optional trailing comma.
template <typename Item>
struct list_close : one<']'> {};
template <typename Item>
struct list_close_after_comma : one<']'> {};
template <typename Item>
struct list_end : sor<list_close<Item>, seq<one<','>, sp, must<list_close_after_comma<Item>>>> {};
template <typename Item>
struct list_body : sor<list_close<Item>, seq<Item, sp, star<one<','>, sp, Item, sp>, must<list_end<Item>>>> {
};
template <typename Item>
struct bracketed : seq<one<'['>, sp, must<list_body<Item>>> {};

struct env_var
    : seq<ranges<'a', 'z', 'A', 'Z', '_', '_'>, star<ranges<'a', 'z', 'A', 'Z', '0', '9', '_', '_'>>> {};
struct env_name : seq<one<'"'>, env_var, one<'"'>> {};

struct argv : bracketed<string_lit> {};
struct list_literal : bracketed<string_lit> {};
struct env_list : bracketed<env_name> {};

// ---------------------------------------------------------------------------------------
// Conditions.

struct condition;
struct unary;

struct op_eq : TAO_PEGTL_STRING("==") {};
struct op_ne : TAO_PEGTL_STRING("!=") {};
struct op_starts_with : kw_starts_with {};
struct op_ends_with : kw_ends_with {};
struct op_contains : kw_contains {};
struct op_matches : kw_matches {};
struct op_inside : kw_inside {};
struct op_in : kw_in {};

struct list_ref : seq<name_guard<false>, name_token> {};
struct operand : sor<string_lit, regex_lit, list_literal, list_ref> {};
template <typename Op>
struct operand_after : seq<operand> {};
struct regex_operand : seq<regex_lit> {};
struct list_operand : seq<sor<list_literal, list_ref>> {};

struct test_eq : seq<op_eq, sp, must<operand_after<op_eq>>> {};
struct test_ne : seq<op_ne, sp, must<operand_after<op_ne>>> {};
struct test_starts_with : seq<op_starts_with, sp, must<operand_after<op_starts_with>>> {};
struct test_ends_with : seq<op_ends_with, sp, must<operand_after<op_ends_with>>> {};
struct test_contains : seq<op_contains, sp, must<operand_after<op_contains>>> {};
struct test_matches : seq<op_matches, sp, must<regex_operand>> {};
struct test_inside : seq<op_inside, sp, must<operand_after<op_inside>>> {};
struct test_in : seq<op_in, sp, must<list_operand>> {};
struct string_test : sor<test_eq, test_ne, test_starts_with, test_ends_with, test_contains, test_matches,
                         test_inside, test_in> {};

struct is_set : kw_set {};
struct is_not_set : seq<kw_set> {};
struct is_what : sor<is_set, seq<kw_not, sp, must<is_not_set>>> {};
struct is_test : seq<kw_is, sp, must<is_what>> {};

// `FACT = "x"`: nothing valid has a single '=' after a name inside a condition.
struct single_equals : seq<one<'='>, not_at<one<'='>>> {};
struct single_equals_error : seq<at<single_equals>, raise<single_equals_error>> {};
struct fact_predicate : seq<fact_name, sp, sor<is_test, string_test, single_equals_error>> {};

// `"${match.parent}" in local_products`: a string (usually interpolated) tested like a fact.
struct value_test : sor<string_test, single_equals_error> {};
struct value_predicate : seq<string_lit, sp, must<value_test>> {};

struct exists_path : seq<string_lit> {};
struct exists_predicate : seq<kw_exists, sp, must<exists_path>> {};

// Commands.
struct run_argv : seq<argv> {};
struct timeout_duration : seq<duration> {};
struct cache_duration : seq<duration> {};
struct env_names : seq<env_list> {};
struct run_timeout : seq<kw_timeout, sp, must<timeout_duration>> {};
struct run_cache : seq<kw_cache, sp, must<cache_duration>> {};
struct run_env : seq<kw_env, sp, must<env_names>> {};
struct run_option : sor<run_timeout, run_cache, run_env> {};

struct json_path_name {
  static constexpr const char* name = "a json path";
};
struct yaml_path_name {
  static constexpr const char* name = "a yaml path";
};

struct exit_status : checked<unsigned_integer, int_check> {};
struct test_succeeds : kw_succeeds {};
struct test_exits : seq<kw_exits, sp, must<exit_status>> {};
struct output_test : seq<string_test> {};
struct test_output : seq<kw_output, sp, must<output_test>> {};
struct projection_template : seq<string_lit> {};
struct projection : seq<kw_as, sp, must<projection_template>> {};
struct json_path : checked<string_lit, no_interpolation_check<json_path_name>> {};
struct json_test : seq<string_test> {};
struct test_json : seq<kw_json, sp, must<json_path>, opt<sp, projection>, sp, must<json_test>> {};
struct yaml_path : checked<string_lit, no_interpolation_check<yaml_path_name>> {};
struct yaml_test : seq<string_test> {};
struct test_yaml : seq<kw_yaml, sp, must<yaml_path>, opt<sp, projection>, sp, must<yaml_test>> {};
struct run_test : sor<test_succeeds, test_exits, test_output, test_json, test_yaml> {};

struct run_predicate : seq<kw_run, sp, must<run_argv>, star<sp, run_option>, sp, must<run_test>> {};

// Files: `read "PATTERN" json|yaml ...`.
struct read_pattern : seq<string_lit> {};
struct read_test : sor<test_json, test_yaml> {};
struct read_predicate : seq<kw_read, sp, must<read_pattern>, sp, must<read_test>> {};

struct macro_call : seq<name_guard<false>, name_token> {};

struct or_op : kw_or {};
struct and_op : kw_and {};
struct not_op : kw_not {};

struct after_not : seq<unary> {};
struct not_condition : nest_condition<not_op, seq<sp, must<after_not>>> {};
struct after_paren : seq<condition> {};
struct paren_close : one<')'> {};
struct paren_condition : nest_condition<one<'('>, seq<sp, must<after_paren>, sp, must<paren_close>>> {};

struct unary : sor<not_condition, paren_condition, exists_predicate, run_predicate, read_predicate,
                   value_predicate, fact_predicate, macro_call> {};
struct after_and : seq<unary> {};
struct and_condition : seq<unary, star<sp, and_op, sp, must<after_and>>> {};
struct after_or : seq<and_condition> {};
struct or_condition : seq<and_condition, star<sp, or_op, sp, must<after_or>>> {};
struct condition : seq<or_condition> {};

// ---------------------------------------------------------------------------------------
// Rule properties and values.

struct description_name {
  static constexpr const char* name = "a description";
};

struct priority_value : checked<signed_integer, int_check> {};
struct priority_property : seq<kw_priority, sp, must<priority_value>> {};
struct stage_value : sor<kw_identify, kw_policy> {};
struct stage_property : seq<kw_stage, sp, must<stage_value>> {};
struct description_value : checked<string_lit, no_interpolation_check<description_name>> {};
struct description_property : seq<kw_description, sp, must<description_value>> {};
struct timeout_value : seq<duration> {};
struct timeout_property : seq<kw_timeout, sp, must<timeout_value>> {};
struct when_value : seq<condition> {};
struct when_property : seq<kw_when, sp, must<when_value>> {};

// clang-format off
struct field_keyword : sor<kw<TAO_PEGTL_STRING("cluster_name")>, kw<TAO_PEGTL_STRING("cluster")>,
                           kw<TAO_PEGTL_STRING("local")>, kw<TAO_PEGTL_STRING("load_images")>,
                           kw<TAO_PEGTL_STRING("push_images")>, kw<TAO_PEGTL_STRING("load_command")>,
                           kw<TAO_PEGTL_STRING("registry")>> {};
// clang-format on
struct notes_not_settable : seq<at<kw_notes>, raise<notes_not_settable>> {};
struct field_name : sor<field_keyword, notes_not_settable> {};
struct set_field : seq<field_name> {};
struct set_equals : one<'='> {};
struct true_value : kw_true {};
struct false_value : kw_false {};
struct null_value : kw_null {};
struct pipe_argv : seq<argv> {};
struct pipeline : seq<argv, star<sp, one<'|'>, sp, must<pipe_argv>>> {};
struct set_value : sor<true_value, false_value, null_value, string_lit, pipeline> {};
struct set_property : seq<kw_set, sp, must<set_field>, sp, must<set_equals>, sp, must<set_value>> {};
struct note_value : seq<string_lit> {};
struct note_property : seq<kw_note, sp, must<note_value>> {};

// decide NAME("ARG", ...): the `set` lines and notes of a decision block, parameters
// replaced by the arguments (engine/core/check_decisions.hpp).
struct decide_name : seq<defined_name> {};
struct decide_arg : seq<string_lit> {};
struct decide_args_close : one<')'> {};
struct decide_args_body
    : sor<one<')'>, seq<string_lit, sp, star<one<','>, sp, must<decide_arg>, sp>, must<decide_args_close>>> {
};
struct decide_args : seq<one<'('>, sp, must<decide_args_body>> {};
struct decide_property : seq<kw_decide, sp, must<decide_name>, sp, must<decide_args>> {};
// leave FIELD, FIELD: fields the rule leaves to lower rules on purpose.
struct leave_field : seq<field_name> {};
struct leave_property : seq<kw_leave, sp, must<leave_field>, star<sp, one<','>, sp, must<leave_field>>> {};

struct rule_property : sor<priority_property, stage_property, description_property, timeout_property,
                           when_property, set_property, decide_property, leave_property, note_property> {};

// ---------------------------------------------------------------------------------------
// Items.

struct rule_name : seq<defined_name> {};
struct rule_open : one<'{'> {};
struct rule_close : one<'}'> {};
struct rule_item
    : seq<kw_rule, sp, must<rule_name>, sp, must<rule_open>, sp, star<rule_property, sp>, must<rule_close>> {
};

struct replace_what : sor<priority_property, stage_property, description_property, timeout_property,
                          when_property, set_property> {};
struct replace_entry : seq<kw_replace, sp, must<replace_what>> {};
struct append_what : sor<when_property, note_property> {};
struct append_entry : seq<kw_append, sp, must<append_what>> {};
struct unset_field : seq<field_name> {};
struct unset_entry : seq<kw_unset, sp, must<unset_field>> {};
struct override_entry : sor<replace_entry, append_entry, unset_entry> {};
struct override_name : seq<defined_name> {};
struct override_open : one<'{'> {};
struct override_close : one<'}'> {};
struct override_item : seq<kw_override, sp, must<override_name>, sp, must<override_open>, sp,
                           star<override_entry, sp>, must<override_close>> {};

struct disable_name : seq<defined_name> {};
struct disable_item : seq<kw_disable, sp, must<disable_name>> {};

struct macro_name : seq<defined_name> {};
struct macro_equals : one<'='> {};
struct macro_condition : seq<condition> {};
struct macro_item : seq<kw_macro, sp, must<macro_name>, sp, must<macro_equals>, sp, must<macro_condition>> {};

struct list_name : seq<defined_name> {};
struct list_equals : one<'='> {};
struct list_value : seq<list_literal> {};
struct list_item : seq<kw_list, sp, must<list_name>, sp, must<list_equals>, sp, must<list_value>> {};

// decision NAME(PARAM, ...) { set ... note ... }
struct decision_name : seq<defined_name> {};
struct param_name : seq<ranges<'a', 'z', 'A', 'Z'>, star<fact_char>, word_end> {};
struct param_after_comma : seq<param_name> {};
struct params_close : one<')'> {};
struct params_body
    : sor<one<')'>,
          seq<param_name, sp, star<one<','>, sp, must<param_after_comma>, sp>, must<params_close>>> {};
struct decision_params : seq<one<'('>, sp, must<params_body>> {};
struct decision_open : one<'{'> {};
struct decision_close : one<'}'> {};
struct decision_entry : sor<set_property, note_property> {};
struct decision_item : seq<kw_decision, sp, must<decision_name>, sp, must<decision_params>, sp,
                           must<decision_open>, sp, star<decision_entry, sp>, must<decision_close>> {};

struct version_number : checked<unsigned_integer, version_check> {};
struct header : seq<kw_lcrules, sp, must<version_number>> {};
struct misplaced_header : seq<at<kw_lcrules>, raise<misplaced_header>> {};

struct item
    : sor<rule_item, override_item, disable_item, macro_item, list_item, decision_item, misplaced_header> {};
struct file_end : eof {};

// The top rule.
struct file : seq<sp, opt<header, sp>, star<item, sp>, must<file_end>> {};

// ---------------------------------------------------------------------------------------
// Messages, in the user's words.

#define LCRULES_FIELDS "(cluster, local, cluster_name, load_images, push_images, load_command, registry)"
#define LCRULES_OPERAND "a string, a regular expression /.../, a list name or a list [...]"
#define LCRULES_OPERATORS "(==, !=, starts-with, ends-with, contains, matches, inside, in)"
#define LCRULES_DURATION "(500ms, 5s, 10m, 1h)"

// clang-format off
template <> inline constexpr const char* error_message<file_end> = "expected 'rule', 'override', 'disable', 'macro', 'list' or 'decision'";
template <> inline constexpr const char* error_message<misplaced_header> = "'lcrules N' must be the first item of the file";
template <> inline constexpr const char* error_message<version_number> = "expected a version number after 'lcrules'";

template <> inline constexpr const char* error_message<rule_name> = "expected a rule name after 'rule'";
template <> inline constexpr const char* error_message<rule_open> = "expected '{' after the rule name";
template <> inline constexpr const char* error_message<rule_close> = "expected 'priority', 'stage', 'description', 'timeout', 'when', 'set', 'decide', 'leave', 'note' or '}'";
template <> inline constexpr const char* error_message<decide_name> = "expected a decision name after 'decide'";
template <> inline constexpr const char* error_message<decide_args> = "expected '(' and the arguments after the decision name (decide NAME(\"...\", ...), or NAME() for none)";
template <> inline constexpr const char* error_message<decide_args_body> = "expected a string argument or ')' after '('";
template <> inline constexpr const char* error_message<decide_arg> = "expected a string argument after ','";
template <> inline constexpr const char* error_message<decide_args_close> = "expected ',' or ')' after an argument";
template <> inline constexpr const char* error_message<leave_field> = "expected a field name after 'leave' or ',' " LCRULES_FIELDS;
template <> inline constexpr const char* error_message<decision_name> = "expected a decision name after 'decision'";
template <> inline constexpr const char* error_message<decision_params> = "expected '(' and the parameter names after the decision name (decision NAME(PARAM, ...), or NAME() for none)";
template <> inline constexpr const char* error_message<params_body> = "expected a parameter name or ')' after '('";
template <> inline constexpr const char* error_message<param_after_comma> = "expected a parameter name after ','";
template <> inline constexpr const char* error_message<params_close> = "expected ',' or ')' after a parameter name";
template <> inline constexpr const char* error_message<decision_open> = "expected '{' after the parameters";
template <> inline constexpr const char* error_message<decision_close> = "expected 'set', 'note' or '}' in a decision";
template <> inline constexpr const char* error_message<override_name> = "expected a rule name after 'override'";
template <> inline constexpr const char* error_message<override_open> = "expected '{' after the rule name";
template <> inline constexpr const char* error_message<override_close> = "expected 'replace', 'append', 'unset' or '}'";
template <> inline constexpr const char* error_message<replace_what> = "expected 'priority', 'stage', 'description', 'timeout', 'when' or 'set' after 'replace'";
template <> inline constexpr const char* error_message<append_what> = "expected 'when' or 'note' after 'append'";
template <> inline constexpr const char* error_message<unset_field> = "expected a field name after 'unset' " LCRULES_FIELDS;
template <> inline constexpr const char* error_message<disable_name> = "expected a rule name after 'disable'";
template <> inline constexpr const char* error_message<macro_name> = "expected a macro name after 'macro'";
template <> inline constexpr const char* error_message<macro_equals> = "expected '=' after the macro name";
template <> inline constexpr const char* error_message<macro_condition> = "expected a condition after '='";
template <> inline constexpr const char* error_message<list_name> = "expected a list name after 'list'";
template <> inline constexpr const char* error_message<list_equals> = "expected '=' after the list name";
template <> inline constexpr const char* error_message<list_value> = "expected a list [\"...\"] after '='";

template <> inline constexpr const char* error_message<priority_value> = "expected a whole number after 'priority'";
template <> inline constexpr const char* error_message<stage_value> = "expected 'identify' or 'policy' after 'stage'";
template <> inline constexpr const char* error_message<description_value> = "expected a string after 'description'";
template <> inline constexpr const char* error_message<timeout_value> = "expected a duration after 'timeout' " LCRULES_DURATION;
template <> inline constexpr const char* error_message<when_value> = "expected a condition after 'when'";
template <> inline constexpr const char* error_message<set_field> = "expected a field name after 'set' " LCRULES_FIELDS;
template <> inline constexpr const char* error_message<notes_not_settable> = "'notes' cannot be set: use note \"...\"";
template <> inline constexpr const char* error_message<set_equals> = "expected '=' after the field name";
template <> inline constexpr const char* error_message<set_value> = "expected a value after '=' (true, false, null, a string or a command [...])";
template <> inline constexpr const char* error_message<pipe_argv> = "expected a command [\"...\"] after '|'";
template <> inline constexpr const char* error_message<note_value> = "expected a string after 'note'";

template <> inline constexpr const char* error_message<after_or> = "expected a condition after 'or'";
template <> inline constexpr const char* error_message<after_and> = "expected a condition after 'and'";
template <> inline constexpr const char* error_message<value_test> =
    "expected an operator after the string (==, !=, starts-with, ends-with, contains, matches, inside, in)";
template <> inline constexpr const char* error_message<after_not> = "expected a condition after 'not'";
template <> inline constexpr const char* error_message<after_paren> = "expected a condition after '('";
template <> inline constexpr const char* error_message<paren_close> = "expected ')'";
template <> inline constexpr const char* error_message<single_equals_error> = "use '==' to compare, not '='";
template <> inline constexpr const char* error_message<is_what> = "expected 'set' or 'not set' after 'is'";
template <> inline constexpr const char* error_message<is_not_set> = "expected 'set' after 'is not'";
template <> inline constexpr const char* error_message<operand_after<op_eq>> = "expected " LCRULES_OPERAND " after '=='";
template <> inline constexpr const char* error_message<operand_after<op_ne>> = "expected " LCRULES_OPERAND " after '!='";
template <> inline constexpr const char* error_message<operand_after<op_starts_with>> = "expected " LCRULES_OPERAND " after 'starts-with'";
template <> inline constexpr const char* error_message<operand_after<op_ends_with>> = "expected " LCRULES_OPERAND " after 'ends-with'";
template <> inline constexpr const char* error_message<operand_after<op_contains>> = "expected " LCRULES_OPERAND " after 'contains'";
template <> inline constexpr const char* error_message<operand_after<op_inside>> = "expected " LCRULES_OPERAND " after 'inside'";
template <> inline constexpr const char* error_message<regex_operand> = "'matches' needs a regular expression /.../";
template <> inline constexpr const char* error_message<list_operand> = "'in' needs a list name or a list [...]";
template <> inline constexpr const char* error_message<exists_path> = "expected a path string after 'exists'";

template <> inline constexpr const char* error_message<run_argv> = "expected a command [\"...\"] after 'run'";
template <> inline constexpr const char* error_message<timeout_duration> = "expected a duration after 'timeout' " LCRULES_DURATION;
template <> inline constexpr const char* error_message<cache_duration> = "expected a duration after 'cache' " LCRULES_DURATION;
template <> inline constexpr const char* error_message<env_names> = "expected a list of environment variable names after 'env' ([\"NAME\", ...])";
template <> inline constexpr const char* error_message<run_test> = "expected 'succeeds', 'exits', 'output', 'json' or 'yaml' after the command";
template <> inline constexpr const char* error_message<read_pattern> = "expected a path string after 'read' (\"/folder/*/file.json\")";
template <> inline constexpr const char* error_message<read_test> = "expected 'json' or 'yaml' after the path of 'read'";
template <> inline constexpr const char* error_message<exit_status> = "expected an exit status (a number) after 'exits'";
template <> inline constexpr const char* error_message<output_test> = "expected an operator after 'output' " LCRULES_OPERATORS;
template <> inline constexpr const char* error_message<json_path> = "expected a path string after 'json' (\".key[]\")";
template <> inline constexpr const char* error_message<yaml_path> = "expected a path string after 'yaml' (\".key[]\")";
template <> inline constexpr const char* error_message<projection_template> = "expected a template string after 'as'";
template <> inline constexpr const char* error_message<json_test> = "expected an operator after the json path " LCRULES_OPERATORS;
template <> inline constexpr const char* error_message<yaml_test> = "expected an operator after the yaml path " LCRULES_OPERATORS;

template <> inline constexpr const char* error_message<list_body<string_lit>> = "expected a string or ']' after '['";
template <> inline constexpr const char* error_message<list_end<string_lit>> = "expected ',' or ']' after a list element";
template <> inline constexpr const char* error_message<list_close_after_comma<string_lit>> = "expected a string or ']' after ','";
template <> inline constexpr const char* error_message<list_body<env_name>> = "expected an environment variable name \"NAME\" or ']' after '['";
template <> inline constexpr const char* error_message<list_end<env_name>> = "expected ',' or ']' after a list element";
template <> inline constexpr const char* error_message<list_close_after_comma<env_name>> = "expected an environment variable name \"NAME\" or ']' after ','";

template <> inline constexpr const char* error_message<string_close> = "unterminated string";
template <> inline constexpr const char* error_message<hex_byte> = "expected two hex digits after '\\x'";
template <> inline constexpr const char* error_message<unicode_code> = "expected '{' and 1 to 6 hex digits '}' after '\\u'";
template <> inline constexpr const char* error_message<ref_name> = "expected a name after '${'";
template <> inline constexpr const char* error_message<ref_close> = "expected '}' after the name in '${...}' (or ':-', '#', '%')";
template <> inline constexpr const char* error_message<arg_close> = "expected '}' to close '${'";
template <> inline constexpr const char* error_message<regex_close> = "unterminated regular expression";
template <> inline constexpr const char* error_message<regex_end> = "unknown regular expression flag: only /.../i is allowed";
// clang-format on

#undef LCRULES_FIELDS
#undef LCRULES_OPERAND
#undef LCRULES_OPERATORS
#undef LCRULES_DURATION
#undef LCRULES_CUSTOM_RULE_MATCH

}  // namespace lcrules::grammar

// Analyze traits for the custom rules (contrib/analyze.hpp checks the grammar).
namespace TAO_PEGTL_NAMESPACE {

template <typename Name, typename Rule, typename Check>
struct analyze_traits<Name, lcrules::grammar::checked<Rule, Check>>
    : analyze_traits<Name, typename seq<Rule>::rule_t> {};
template <typename Name, std::size_t lcrules::grammar::parse_state::*Depth, std::size_t Max,
          const char* Message, typename Open, typename Rest>
struct analyze_traits<Name, lcrules::grammar::nested<Depth, Max, Message, Open, Rest>>
    : analyze_traits<Name, typename seq<Open, Rest>::rule_t> {};
template <typename Name, bool Raise>
struct analyze_traits<Name, lcrules::grammar::name_guard<Raise>> : analyze_opt_traits<> {};
template <typename Name>
struct analyze_traits<Name, lcrules::grammar::comment_end> : analyze_opt_traits<> {};
template <typename Name, char C, bool InRegex>
struct analyze_traits<Name, lcrules::grammar::closing<C, InRegex>> : analyze_any_traits<> {};
template <typename Name>
struct analyze_traits<Name, lcrules::grammar::unknown_escape> : analyze_any_traits<> {};
template <typename Name, std::size_t Min, char... Excluded>
struct analyze_traits<Name, lcrules::grammar::utf8_text<Min, Excluded...>>
    : std::conditional_t<Min == 0, analyze_opt_traits<>, analyze_any_traits<>> {};
template <typename Name>
struct analyze_traits<Name, lcrules::grammar::regex_chars> : analyze_opt_traits<> {};
template <typename Name>
struct analyze_traits<Name, lcrules::grammar::sp> : analyze_opt_traits<> {};

}  // namespace TAO_PEGTL_NAMESPACE
