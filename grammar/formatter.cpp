// format_rules_text(): structure from the grammar, tokens from a small lexer, and a printer
// that lays the tokens out again (docs/language.md, "Layout").
#include "grammar/formatter.hpp"
#include "grammar/utf8.hpp"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "grammar/ast_dump.hpp"
#include "grammar/grammar.hpp"
#include "grammar/parser.hpp"

namespace lcrules {
namespace {

namespace pegtl = TAO_PEGTL_NAMESPACE;
namespace g = grammar;

// ---------------------------------------------------------------------------------------
// Structure: byte ranges of items, of the entries inside their braces, and of conditions.

struct Range {
  std::size_t begin;
  std::size_t end;
};

struct Structure {
  std::vector<Range> items;
  std::vector<Range> entries;
  std::vector<Range> conditions;
  std::vector<std::size_t> open;  // start offsets of the recorded rules being matched
};

// What the printer needs to know of the grammar: a top-level item (`item`, `header`), an
// entry inside an item's braces, a condition. Entries are found by the grammar's naming
// convention: a rule named `*_property` or `*_entry` (a property nested in another, as
// `when_property` in `replace_entry`, is part of the outer one). So a new item or property
// that follows the convention is laid out without being named here.
constexpr bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
template <typename Rule>
inline constexpr bool kIsEntry = ends_with(pegtl::demangle<Rule>(), "_property") ||
                                 ends_with(pegtl::demangle<Rule>(), "_entry");
template <typename Rule>
inline constexpr int kRecorded = std::is_same_v<Rule, g::item> || std::is_same_v<Rule, g::header> ? 1
                                 : kIsEntry<Rule>                                                 ? 2
                                 : std::is_same_v<Rule, g::condition>                             ? 3
                                                                                                  : 0;
static_assert(kIsEntry<g::rule_property> && kIsEntry<g::override_entry> && !kIsEntry<g::condition>);

template <typename Rule>
struct structure_control : g::control<Rule> {
  template <typename ParseInput>
  static void start(const ParseInput& in, g::parse_state& /*unused*/, Structure& s) {
    if constexpr (kRecorded<Rule> != 0) s.open.push_back(static_cast<std::size_t>(in.current() - in.begin()));
  }
  template <typename ParseInput>
  static void success(const ParseInput& in, g::parse_state& /*unused*/, Structure& s) {
    if constexpr (kRecorded<Rule> != 0) {
      const Range r{s.open.back(), static_cast<std::size_t>(in.current() - in.begin())};
      s.open.pop_back();
      (kRecorded<Rule> == 1 ? s.items : kRecorded<Rule> == 2 ? s.entries : s.conditions).push_back(r);
    }
  }
  template <typename ParseInput>
  static void failure(const ParseInput& /*unused*/, g::parse_state& /*unused*/, Structure& s) {
    if constexpr (kRecorded<Rule> != 0) s.open.pop_back();
  }
};

// ---------------------------------------------------------------------------------------
// Tokens.

enum class Kind : std::uint8_t { Word, String, Regex, Punct, Comment };

struct Token {
  Kind kind;
  std::size_t begin;
  std::size_t end;
  int newlines_before;  // newlines between the previous token (or comment) and this one
  int item = -1;        // index of the item holding it, -1 at top level
  int entry = -1;       // index of the entry holding it
  int condition = -1;   // index of the outermost condition holding it
};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

// The text parsed, so every token is well formed.
std::vector<Token> lex(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  int newlines = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (c == '\n') ++newlines;
      ++i;
      continue;
    }
    const std::size_t start = i;
    Kind kind = Kind::Punct;
    if (c == '#') {
      kind = Kind::Comment;
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '"') {
      kind = Kind::String;
      ++i;
      while (i < s.size() && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
      i = std::min(i + 1, s.size());
    } else if (c == '/') {
      kind = Kind::Regex;
      ++i;
      while (i < s.size() && s[i] != '/' && s[i] != '\n') i += s[i] == '\\' ? 2 : 1;
      i = std::min(i + 1, s.size());
      if (i < s.size() && s[i] == 'i') ++i;
    } else if (is_name_char(c) || c == '+') {
      kind = Kind::Word;
      ++i;
      while (i < s.size() && is_name_char(s[i])) ++i;
    } else if ((c == '=' || c == '!') && i + 1 < s.size() && s[i + 1] == '=') {
      i += 2;
    } else {
      ++i;
    }
    out.push_back(Token{kind, start, i, newlines});
    newlines = 0;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Strings: decoded, then written again with the canonical escapes.

struct Piece {
  bool reference = false;
  std::string text;        // literal bytes, or the reference's name
  std::string modifier;    // "", ":-", "#", "%"
  std::vector<Piece> arg;  // the modifier's argument
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}


void add_literal(std::vector<Piece>& pieces, std::string_view bytes) {
  if (pieces.empty() || pieces.back().reference) pieces.push_back(Piece{});
  pieces.back().text.append(bytes);
}

// Decodes a string body from `i` up to '"' (or '}' inside a reference's argument).
std::vector<Piece> decode(std::string_view s, std::size_t& i, bool in_arg) {
  std::vector<Piece> pieces;
  while (i < s.size() && s[i] != '"' && !(in_arg && s[i] == '}')) {
    const char c = s[i];
    if (c == '\\' && i + 1 < s.size()) {
      const char e = s[i + 1];
      std::string v;
      i += 2;
      switch (e) {
        case 'n':
          v = "\n";
          break;
        case 't':
          v = "\t";
          break;
        case 'r':
          v = "\r";
          break;
        case '0':
          v = std::string(1, '\0');
          break;
        case 'x':
          v = std::string(1, static_cast<char>(hex_value(s[i]) * 16 + hex_value(s[i + 1])));
          i += 2;
          break;
        case 'u': {
          char32_t cp = 0;
          ++i;  // '{'
          while (i < s.size() && s[i] != '}') cp = cp * 16 + static_cast<char32_t>(hex_value(s[i++]));
          ++i;  // '}'
          grammar::append_code_point(v, cp);
          break;
        }
        default:
          v = std::string(1, e);  // \" \\ \$
      }
      add_literal(pieces, v);
    } else if (c == '$' && i + 1 < s.size() && s[i + 1] == '$') {
      add_literal(pieces, "$");
      i += 2;
    } else if (c == '$' && i + 1 < s.size() && s[i + 1] == '{') {
      Piece ref;
      ref.reference = true;
      i += 2;
      while (i < s.size() && s[i] != '}' && s[i] != ':' && s[i] != '#' && s[i] != '%') ref.text += s[i++];
      if (i < s.size() && s[i] != '}') {
        ref.modifier = s[i] == ':' ? ":-" : std::string(1, s[i]);
        i += ref.modifier.size();
        ref.arg = decode(s, i, true);
      }
      ++i;  // '}'
      pieces.push_back(std::move(ref));
    } else {
      add_literal(pieces, s.substr(i, 1));
      ++i;
    }
  }
  return pieces;
}

// Code points written as \u{...}: invisible or direction-changing ones.
bool escape_code_point(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || cp == 0xad || (cp >= 0x200b && cp <= 0x200f) ||
         (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;
}

void encode(const std::vector<Piece>& pieces, bool in_arg, std::string& out) {
  static const char* digits = "0123456789abcdef";
  auto hex_byte = [&](unsigned char b) {
    out += "\\x";
    out += digits[b >> 4];
    out += digits[b & 15];
  };
  for (std::size_t p = 0; p < pieces.size(); ++p) {
    const Piece& piece = pieces[p];
    if (piece.reference) {
      out += "${" + piece.text + piece.modifier;
      if (!piece.modifier.empty()) encode(piece.arg, true, out);
      out += '}';
      continue;
    }
    const std::string& t = piece.text;
    const bool reference_follows = p + 1 < pieces.size();  // literals and references alternate
    for (std::size_t i = 0; i < t.size();) {
      const auto c = static_cast<unsigned char>(t[i]);
      if (c < 0x80) {
        switch (c) {
          case '"':
            out += "\\\"";
            break;
          case '\\':
            out += "\\\\";
            break;
          case '\n':
            out += "\\n";
            break;
          case '\t':
            out += "\\t";
            break;
          case '\r':
            out += "\\r";
            break;
          case '\0':
            out += "\\0";
            break;
          case '$': {
            const bool brace_or_dollar =
                i + 1 < t.size() ? (t[i + 1] == '{' || t[i + 1] == '$') : reference_follows;
            out += brace_or_dollar ? "\\$" : "$";
            break;
          }
          case '}':
            if (in_arg) {
              hex_byte(c);
            } else {
              out += '}';
            }
            break;
          default:
            if (c < 0x20 || c == 0x7f) {
              hex_byte(c);
            } else {
              out += static_cast<char>(c);
            }
        }
        ++i;
        continue;
      }
      const std::size_t len = g::detail::utf8_length(std::string_view(t).substr(i, 4));
      if (len == 0) {
        hex_byte(c);
        ++i;
        continue;
      }
      char32_t cp = len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
      for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(t[i + k]) & 0x3f);
      if (escape_code_point(cp)) {
        out += "\\u{";
        std::string h;
        for (char32_t v = cp; v != 0; v >>= 4) h.insert(h.begin(), digits[v & 15]);
        out += h + "}";
      } else {
        out.append(t, i, len);
      }
      i += len;
    }
  }
}

std::string canonical_string(std::string_view raw) {
  std::size_t i = 1;
  const std::vector<Piece> pieces = decode(raw, i, false);
  std::string out = "\"";
  encode(pieces, false, out);
  out += '"';
  return out;
}

// Display width: code points.
std::size_t width(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80 ? 1 : 0;
  return n;
}

// ---------------------------------------------------------------------------------------
// The printer.

class Printer {
 public:
  Printer(std::string_view src, std::vector<Token> tokens, const Structure& st)
      : src_(src), toks_(std::move(tokens)), st_(st) {
    texts_.reserve(toks_.size());
    for (const auto& t : toks_) {
      const std::string_view raw = src_.substr(t.begin, t.end - t.begin);
      if (t.kind == Kind::String) {
        texts_.push_back(canonical_string(raw));
      } else if (t.kind == Kind::Comment) {
        std::size_t n = raw.size();
        while (n > 0 && (raw[n - 1] == ' ' || raw[n - 1] == '\t' || raw[n - 1] == '\r')) --n;
        texts_.emplace_back(raw.substr(0, n));
      } else {
        texts_.emplace_back(raw);
      }
    }
  }

  std::string print() {
    // Top level: items and the comments between them.
    bool any = false;
    bool prev_item = false;
    std::size_t k = 0;
    while (k < toks_.size()) {
      const Token& t = toks_[k];
      if (t.item < 0) {  // a comment
        if (any && t.newlines_before == 0) {
          put(" ");
          put(texts_[k]);
        } else {
          if (any) newline();
          if (any && (prev_item || t.newlines_before >= 2)) newline();
          put(texts_[k]);
          any = true;
          prev_item = false;
        }
        ++k;
        continue;
      }
      if (any) newline();
      if (any && (prev_item || t.newlines_before >= 2)) newline();
      std::size_t end = k;
      while (end < toks_.size() && toks_[end].item == t.item) ++end;
      print_item(k, end);
      any = true;
      prev_item = true;
      k = end;
    }
    if (any) newline();
    return std::move(out_);
  }

 private:
  std::string_view src_;
  std::vector<Token> toks_;
  std::vector<std::string> texts_;
  const Structure& st_;
  std::string out_;
  std::size_t col_ = 0;
  bool line_empty_ = true;

  // Inline state, per span.
  std::size_t indent_ = 0;  // the entry's indentation
  bool force_break_ = false;
  int prev_ = -1;                   // the last token printed (not a comment)
  std::vector<std::size_t> bases_;  // condition: column of each paren level's operands
  std::size_t anchor_ = 0;          // indentation of the current line (for wrapped lists)
  bool anchor_next_ = false;        // the line starts with and/or: anchor at the next token

  // --- output -----------------------------------------------------------------------------

  void newline() {
    while (!out_.empty() && out_.back() == ' ') out_.pop_back();
    out_ += '\n';
    col_ = 0;
    line_empty_ = true;
  }
  void indent_to(std::size_t c) {
    out_.append(c, ' ');
    col_ = c;
  }
  void put(std::string_view s) {
    out_ += s;
    col_ += width(s);
    line_empty_ = false;
  }

  std::string_view text(std::size_t k) const { return texts_[k]; }
  bool is(std::size_t k, std::string_view s) const { return toks_[k].kind != Kind::String && text(k) == s; }
  bool is_operator(std::size_t k) const {
    return toks_[k].kind == Kind::Word && (text(k) == "and" || text(k) == "or");
  }
  bool in_condition(std::size_t k) const { return toks_[k].condition >= 0; }
  bool condition_first(std::size_t k) const {
    return in_condition(k) &&
           st_.conditions[static_cast<std::size_t>(toks_[k].condition)].begin == toks_[k].begin;
  }

  // --- items ------------------------------------------------------------------------------

  void print_item(std::size_t a, std::size_t b) {
    // An item with braces: its head, then one entry per line, then '}'.
    std::size_t open = b;
    if (is(b - 1, "}")) {
      for (std::size_t k = a; k < b; ++k) {
        if (toks_[k].kind == Kind::Punct && is(k, "{")) {
          open = k;
          break;
        }
      }
    }
    if (open == b) {
      print_span(a, b, 0);
      return;
    }
    print_span(a, open + 1, 0);
    const std::size_t close = b - 1;
    bool first = true;
    std::size_t k = open + 1;
    while (k < close) {
      const Token& t = toks_[k];
      if (t.kind == Kind::Comment && t.entry < 0) {
        if (t.newlines_before == 0) {
          put(" ");
          put(text(k));
        } else {
          newline();
          if (!first && t.newlines_before >= 2) newline();
          indent_to(2);
          put(text(k));
        }
        first = false;
        ++k;
        continue;
      }
      newline();
      if (!first && t.newlines_before >= 2) newline();
      std::size_t end = k + 1;
      if (t.entry >= 0) {
        while (end < close && toks_[end].entry == t.entry) ++end;
      } else {
        // Not a known entry: one entry per line as written.
        while (end < close && toks_[end].entry < 0 && toks_[end].newlines_before == 0 &&
               toks_[end].kind != Kind::Comment)
          ++end;
      }
      indent_to(2);
      print_span(k, end, 2);
      first = false;
      k = end;
    }
    if (open + 1 == close) {
      // rule NAME {}
      put("}");
      return;
    }
    newline();
    put("}");
  }

  // --- spans: one entry, or an item without braces ------------------------------------------

  std::size_t break_column(std::size_t k) const {
    if (in_condition(k) && !bases_.empty() && !condition_first(k)) {
      const std::size_t base = bases_.back();
      if (is_operator(k)) {
        const std::size_t len = text(k).size() + 1;
        return bases_.size() == 1 && base >= len + indent_ + 1 ? base - len : base;
      }
      if (is(k, ")")) return base - 1;
      return base;
    }
    if (condition_first(k)) return indent_ + 6;
    return indent_ + 4;
  }

  bool space_before(std::size_t k) const {
    if (line_empty_ || prev_ < 0) return false;
    const auto p = static_cast<std::size_t>(prev_);
    if (toks_[p].kind == Kind::Punct && (is(p, "(") || is(p, "["))) return false;
    if (toks_[k].kind == Kind::Punct && (is(k, ")") || is(k, "]") || is(k, ",") || is(k, ";"))) return false;
    if (toks_[k].kind == Kind::Punct && is(k, "(") && !in_condition(k) && toks_[p].kind == Kind::Word)
      return false;
    return true;
  }

  void start_line(std::size_t k, std::size_t column) {
    if (!line_empty_) newline();
    indent_to(column);
    anchor_ = column;
    anchor_next_ = in_condition(k) && is_operator(k);
  }

  void print_span(std::size_t a, std::size_t b, std::size_t indent) {
    indent_ = indent;
    force_break_ = false;
    prev_ = -1;
    bases_.clear();
    anchor_ = indent;
    anchor_next_ = false;
    std::size_t k = a;
    while (k < b) {
      const Token& t = toks_[k];
      if (t.kind == Kind::Comment) {
        if (t.newlines_before == 0 && !line_empty_) {
          put(" ");
          put(text(k));
        } else {
          std::size_t next = k + 1;
          while (next < b && toks_[next].kind == Kind::Comment) ++next;
          const std::size_t column = next < b ? break_column(next) : indent_;
          if (!line_empty_) newline();
          indent_to(column);
          put(text(k));
        }
        force_break_ = true;
        ++k;
        continue;
      }
      const bool brk = force_break_ || (in_condition(k) && t.newlines_before > 0 && prev_ >= 0);
      if (brk) {
        start_line(k, break_column(k));
      } else if (space_before(k)) {
        put(" ");
      }
      force_break_ = false;
      if (anchor_next_ && !is_operator(k)) {
        anchor_ = col_;
        anchor_next_ = false;
      }
      // Continuation lines of a condition hang from its first line: at most 8 columns in,
      // so that a long head (`macro a_long_name = ...`) does not push them to the right.
      if (condition_first(k)) bases_.assign(1, brk ? col_ : std::min(col_, indent_ + 8));
      if (t.kind == Kind::Punct && is(k, "[")) {
        k = print_list(k, b);
        continue;
      }
      put(text(k));
      if (in_condition(k) && t.kind == Kind::Punct) {
        if (is(k, "(")) bases_.push_back(col_);
        if (is(k, ")") && bases_.size() > 1) bases_.pop_back();
      }
      prev_ = static_cast<int>(k);
      ++k;
    }
  }

  // --- lists ----------------------------------------------------------------------------------

  struct Element {
    std::size_t token;
    std::vector<std::size_t> before;  // own-line comments before it
    int after = -1;                   // a comment at the end of its line
  };

  // Prints the list opening at `open`; returns the token after its ']'.
  std::size_t print_list(std::size_t open, std::size_t b) {
    std::size_t close = open + 1;
    while (close < b && !(toks_[close].kind == Kind::Punct && is(close, "]"))) ++close;
    std::vector<Element> elems;
    std::vector<std::size_t> pending;  // own-line comments not yet given to an element
    int after_open = -1;
    bool comments = false;
    int owner = -2;  // whose line a comment at the end of the line belongs to: -2 '[', -1 none
    for (std::size_t k = open + 1; k < close; ++k) {
      const Token& t = toks_[k];
      if (t.kind == Kind::Comment) {
        comments = true;
        if (t.newlines_before == 0 && owner == -2) {
          after_open = static_cast<int>(k);
        } else if (t.newlines_before == 0 && owner >= 0 && elems[static_cast<std::size_t>(owner)].after < 0) {
          elems[static_cast<std::size_t>(owner)].after = static_cast<int>(k);
        } else {
          pending.push_back(k);
        }
        owner = -1;
        continue;
      }
      if (t.kind == Kind::Punct && is(k, ",")) {
        owner = elems.empty() ? -1 : static_cast<int>(elems.size() - 1);
        continue;
      }
      elems.push_back(Element{k, std::move(pending), -1});
      pending.clear();
      owner = static_cast<int>(elems.size() - 1);
    }
    const std::size_t base = in_condition(open) && !bases_.empty() ? bases_.back() : anchor_;
    std::size_t flat = 2;
    for (std::size_t i = 0; i < elems.size(); ++i) flat += width(text(elems[i].token)) + (i > 0 ? 2 : 0);
    const bool wrap = comments || (!elems.empty() && col_ + flat > kFormatWidth);
    if (!wrap) {
      put("[");
      for (std::size_t i = 0; i < elems.size(); ++i) {
        if (i > 0) put(", ");
        put(text(elems[i].token));
      }
      put("]");
    } else {
      put("[");
      if (after_open >= 0) {
        put(" ");
        put(text(static_cast<std::size_t>(after_open)));
      }
      for (const auto& e : elems) {
        for (std::size_t c : e.before) {
          newline();
          indent_to(base + 4);
          put(text(c));
        }
        newline();
        indent_to(base + 4);
        put(text(e.token));
        put(",");
        if (e.after >= 0) {
          put(" ");
          put(text(static_cast<std::size_t>(e.after)));
        }
      }
      for (std::size_t c : pending) {
        newline();
        indent_to(base + 4);
        put(text(c));
      }
      newline();
      indent_to(base);
      anchor_ = base;
      put("]");
    }
    prev_ = static_cast<int>(close);
    return close + 1;
  }
};

// Gives each token the item, entry and condition it lies in (the ranges of each kind are
// sorted and do not overlap).
void place(std::vector<Token>& toks, const Structure& st) {
  auto assign = [&](const std::vector<Range>& ranges, int Token::*field) {
    std::size_t r = 0;
    for (auto& t : toks) {
      while (r < ranges.size() && ranges[r].end <= t.begin) ++r;
      if (r < ranges.size() && ranges[r].begin <= t.begin && t.end <= ranges[r].end)
        t.*field = static_cast<int>(r);
    }
  };
  assign(st.items, &Token::item);
  assign(st.entries, &Token::entry);
  assign(st.conditions, &Token::condition);
}

// Sorts `ranges` by start and keeps the outermost ones.
void outermost(std::vector<Range>& ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const Range& x, const Range& y) {
    return x.begin != y.begin ? x.begin < y.begin : x.end > y.end;
  });
  std::vector<Range> outer;
  for (const auto& r : ranges) {
    if (outer.empty() || r.begin >= outer.back().end) outer.push_back(r);
  }
  ranges = std::move(outer);
}

}  // namespace

FormatResult format_rules_text(std::string_view text, const std::string& path) {
  FormatResult result;
  ParseResult parsed = parse_rules(std::string(text), path);
  if (parsed.error) {
    result.error = std::move(parsed.error);
    return result;
  }
  try {
    Structure st;
    pegtl::memory_input<pegtl::tracking_mode::eager, pegtl::eol::lf_crlf> in(text.data(), text.size(), path);
    g::parse_state state;
    pegtl::parse<g::file, pegtl::nothing, structure_control>(in, state, st);
    outermost(st.items);
    outermost(st.entries);
    outermost(st.conditions);  // a parenthesised condition is part of the one around it
    std::vector<Token> toks = lex(text);
    place(toks, st);
    Printer printer(text, std::move(toks), st);
    std::string formatted = printer.print();
    // The formatted text must define exactly the rules of the original: checked here, so
    // that a bug of the printer can never rewrite a file into other rules.
    ParseResult again = parse_rules(formatted, path);
    if (!again.file || ast::dump(*again.file) != ast::dump(*parsed.file)) {
      result.error = Diagnostic{ast::Location{path, 0, 0, 0},
                                "internal error: the formatted text would not define the same rules "
                                "(the file is left as it is; please report this)",
                                {},
                                0,
                                {},
                                {}};
      return result;
    }
    result.text = std::move(formatted);
  } catch (const std::bad_alloc&) {
    result.error = Diagnostic{ast::Location{path, 0, 0, 0}, "out of memory while formatting", {}, 0, {}, {}};
  } catch (const std::exception& e) {
    result.error =
        Diagnostic{ast::Location{path, 0, 0, 0}, std::string("cannot format: ") + e.what(), {}, 0, {}, {}};
  }
  return result;
}

}  // namespace lcrules
