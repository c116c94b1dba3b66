// parse_rules(): runs the grammar (grammar.hpp) into a PEGTL parse tree and converts the
// tree into the syntax tree of ast.hpp.
#include "grammar/parser.hpp"
#include "grammar/utf8.hpp"

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "grammar/grammar.hpp"
#include "grammar/syntax_hints.hpp"

namespace lcrules {
namespace {

namespace pegtl = TAO_PEGTL_NAMESPACE;
namespace g = grammar;

// The rules that become nodes of the tree; or_condition and and_condition are folded into
// their operand when they have only one.
// clang-format off
using stored = pegtl::type_list<
    g::version_number, g::rule_item, g::override_item, g::disable_item, g::macro_item, g::list_item,
    g::rule_name, g::override_name, g::disable_name, g::macro_name, g::list_name,
    g::priority_value, g::stage_value, g::description_value, g::timeout_property, g::when_property,
    g::set_property, g::set_field, g::true_value, g::false_value, g::null_value, g::pipeline, g::argv,
    g::note_property, g::decide_property, g::decide_name, g::leave_field, g::decision_item, g::decision_name,
    g::param_name, g::replace_entry, g::append_entry, g::unset_entry, g::unset_field,
    g::or_op, g::and_op, g::not_condition, g::fact_predicate, g::value_predicate, g::fact_name, g::is_set, g::is_not_set,
    g::op_eq, g::op_ne, g::op_starts_with, g::op_ends_with, g::op_contains, g::op_matches,
    g::op_inside, g::op_in,
    g::string_lit, g::regex_lit, g::regex_text, g::regex_flag, g::list_literal, g::list_ref,
    g::exists_predicate, g::run_predicate, g::read_predicate, g::run_timeout, g::run_cache, g::run_env, g::env_var,
    g::duration, g::test_succeeds, g::test_exits, g::exit_status, g::test_output, g::test_json,
    g::test_yaml, g::projection, g::macro_call,
    g::string_text, g::arg_text, g::escape, g::dollar_dollar, g::lone_dollar, g::reference, g::ref_name,
    g::mod_default, g::mod_prefix, g::mod_suffix, g::template_arg>;
using folded = pegtl::type_list<g::or_condition, g::and_condition>;
// clang-format on

template <typename Rule, typename List>
struct contains;
template <typename Rule, typename... Rules>
struct contains<Rule, pegtl::type_list<Rules...>> : std::bool_constant<(std::is_same_v<Rule, Rules> || ...)> {
};

template <typename Rule>
inline constexpr bool is_stored = contains<Rule, stored>::value;
template <typename Rule>
inline constexpr bool is_folded = contains<Rule, folded>::value;
template <typename Rule>
inline constexpr bool is_node = is_stored<Rule> || is_folded<Rule>;

// Whether a rule can contain a node within `Level` levels (deeper rules are assumed to).
template <unsigned Level, typename Subs>
inline constexpr bool has_nodes = true;
template <typename... Rules>
inline constexpr bool has_nodes<0, pegtl::type_list<Rules...>> = (sizeof...(Rules) != 0);
template <unsigned Level, typename... Rules>
inline constexpr bool has_nodes<Level, pegtl::type_list<Rules...>> =
    ((is_node<Rules> || has_nodes<Level - 1, typename Rules::subs_t>) || ...);

// A rule's identity: its index in `stored` or `folded` (which are short lists).
template <typename Rule, typename List>
struct index_of;
template <typename Rule, typename... Rules>
struct index_of<Rule, pegtl::type_list<Rules...>> {
  static constexpr std::size_t value = [] {
    std::size_t i = 0;
    (void)((std::is_same_v<Rule, Rules> ? false : (++i, true)) && ...);  // stops at Rule
    return i;
  }();
};
template <typename Rule>
inline constexpr std::uint8_t type_id = static_cast<std::uint8_t>(
    is_stored<Rule> ? index_of<Rule, stored>::value : stored::size + index_of<Rule, folded>::value);
static_assert(stored::size + folded::size < 256, "type ids are bytes");

// The parse tree, flat and in pre-order: a node's descendants follow it, up to `next`.
// Nothing is allocated per node; a failed rule drops what it added by truncating. 32 bytes
// a node (lines and columns fit 32 bits: parse_rules() refuses texts of 4 GiB and more).
struct FlatNode {
  const char* begin;
  const char* end;  // nullptr: no content (a folded operator chain)
  std::uint32_t line;
  std::uint32_t column;
  std::uint32_t next;  // one past the last descendant
  std::uint8_t type;
  bool folded;  // a single-operand or/and chain: stands for the node after it
};

// The '{' of an item (braces of items do not nest): where it is, and the item it opens.
template <typename Rule>
inline constexpr bool is_item_brace =
    std::is_same_v<Rule, g::rule_open> || std::is_same_v<Rule, g::override_open> ||
    std::is_same_v<Rule, g::decision_open>;

struct BraceMark {
  std::size_t byte = 0;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string item;  // "rule 'kind'"; empty when unknown
};

// `nodes` and `marks` are used as stacks: their first `size` / `depth` elements are live,
// and they grow by doubling; pushing and truncating stay inline and never free. The nodes
// are not initialised when allocated (only the pages actually used get touched).
struct Tree {
  std::unique_ptr<FlatNode[]> nodes;
  std::uint32_t capacity = 0;
  std::uint32_t size = 0;
  std::vector<std::uint32_t> marks;  // open rules: the value of `size` when each started
  std::uint32_t depth = 0;
  std::optional<BraceMark>* open_brace = nullptr;  // set to the last item '{' (for errors)

  explicit Tree(std::size_t expected) { reserve(expected); }

  void reserve(std::size_t n) {
    if (n > UINT32_MAX) throw std::bad_alloc();
    std::unique_ptr<FlatNode[]> grown(new FlatNode[n]);
    if (size != 0) std::memcpy(grown.get(), nodes.get(), size * sizeof(FlatNode));
    nodes = std::move(grown);
    capacity = static_cast<std::uint32_t>(n);
  }
  FlatNode& push_node() {
    if (size == capacity) [[unlikely]]
      grow_nodes();
    return nodes[size++];
  }
  void push_mark() {
    if (depth == marks.size()) [[unlikely]]
      grow_marks();
    marks[depth++] = size;
  }
  [[gnu::noinline]] void grow_nodes() { reserve(std::size_t{capacity} * 2 + 64); }
  [[gnu::noinline]] void grow_marks() { marks.resize(marks.size() * 2 + 64); }
  std::uint32_t pop_mark() { return marks[--depth]; }
};

// Control: records nodes for the rules above and rewinds the tree when a rule that may
// hold nodes fails (as pegtl::parse_tree does, without a heap node per rule).
template <typename Rule>
struct tree_control : g::control<Rule> {
  static constexpr bool enable = is_node<Rule> || is_item_brace<Rule> || has_nodes<8, typename Rule::subs_t>;

  template <typename ParseInput>
  static void start(const ParseInput& in, g::parse_state& /*unused*/, Tree& t) {
    if constexpr (is_item_brace<Rule>) mark_brace(in, t);
    t.push_mark();
    if constexpr (is_node<Rule>) {
      const auto& it = in.iterator();
      FlatNode& n = t.push_node();
      n.type = type_id<Rule>;
      n.begin = it.data;
      n.end = nullptr;
      n.line = static_cast<std::uint32_t>(it.line);
      n.column = static_cast<std::uint32_t>(it.column);
      n.folded = false;
    }
  }

  template <typename ParseInput>
  static void success(const ParseInput& in, g::parse_state& /*unused*/, Tree& t) {
    const std::uint32_t k = t.pop_mark();
    if constexpr (is_node<Rule>) {
      FlatNode& n = t.nodes[k];
      n.next = t.size;
      if constexpr (is_folded<Rule>) {
        // One child: the node stands for it; several: the chain keeps no content.
        n.folded = k + 1 < n.next && t.nodes[k + 1].next == n.next;
      } else {
        n.end = in.current();
      }
    }
  }

  template <typename ParseInput>
  static void failure(const ParseInput& /*unused*/, g::parse_state& /*unused*/, Tree& t) {
    t.size = t.pop_mark();
  }

 private:
  // At an item's '{': the item is the name node just before it.
  template <typename ParseInput>
  static void mark_brace(const ParseInput& in, Tree& t) {
    if (t.open_brace == nullptr) return;
    const auto& it = in.iterator();
    BraceMark& b = t.open_brace->emplace();
    b.byte = it.byte;
    b.line = static_cast<std::uint32_t>(it.line);
    b.column = static_cast<std::uint32_t>(it.column);
    if (t.size == 0) return;
    // A decision's name is followed by its parameters.
    std::uint32_t last = t.size - 1;
    while (last > 0 && t.nodes[last].type == type_id<g::param_name>) --last;
    const FlatNode& name = t.nodes[last];
    const char* kind = name.type == type_id<g::rule_name>       ? "rule"
                       : name.type == type_id<g::override_name> ? "override"
                       : name.type == type_id<g::decision_name> ? "decision"
                                                                : nullptr;
    if (kind != nullptr && name.end != nullptr) {
      b.item = std::string(kind) + " '" + std::string(name.begin, name.end) + "'";
    }
  }
};

class NodePtr;

// The children of a node.
struct Children {
  struct iterator {
    const Tree* t;
    std::uint32_t i;
    NodePtr operator*() const;
    iterator& operator++() {
      i = t->nodes[i].next;
      return *this;
    }
    bool operator!=(const iterator& o) const { return i != o.i; }
  };

  const Tree* t;
  std::uint32_t first;
  std::uint32_t last;

  iterator begin() const { return {t, first}; }
  iterator end() const { return {t, last}; }
  std::size_t size() const {
    std::size_t n = 0;
    for (std::uint32_t i = first; i != last; i = t->nodes[i].next) ++n;
    return n;
  }
  NodePtr at(std::size_t k) const;
  NodePtr back() const;
};

// A node of the tree, with the interface of pegtl::parse_tree::node that the converter uses.
class Node {
 public:
  Node(const Tree* t, std::uint32_t i) : n_(&t->nodes[resolve(t, i)]), children{t, index(t) + 1, n_->next} {}

  template <typename Rule>
  bool is_type() const {
    return n_->type == type_id<Rule>;
  }
  std::size_t line() const { return n_->line; }
  std::size_t column() const { return n_->column; }
  std::size_t byte(const char* text) const { return static_cast<std::size_t>(n_->begin - text); }
  std::string_view string_view() const {
    return std::string_view(n_->begin, static_cast<std::size_t>(n_->end - n_->begin));
  }
  std::string string() const { return std::string(string_view()); }

 private:
  static std::uint32_t resolve(const Tree* t, std::uint32_t i) {
    while (t->nodes[i].folded) ++i;
    return i;
  }
  std::uint32_t index(const Tree* t) const { return static_cast<std::uint32_t>(n_ - t->nodes.get()); }

  const FlatNode* n_;

 public:
  Children children;
};

class NodePtr {
 public:
  NodePtr(const Tree* t, std::uint32_t i) : n_(t, i) {}
  Node operator*() const { return n_; }  // by value: NodePtrs are often temporaries
  const Node* operator->() const { return &n_; }

 private:
  Node n_;
};

NodePtr Children::iterator::operator*() const { return NodePtr(t, i); }

NodePtr Children::at(std::size_t k) const {
  std::uint32_t i = first;
  for (; i != last && k > 0; i = t->nodes[i].next) --k;
  if (i == last) throw std::out_of_range("parse tree: no such child");
  return NodePtr(t, i);
}

NodePtr Children::back() const {
  if (first == last) throw std::out_of_range("parse tree: no child");
  std::uint32_t i = first;
  while (t->nodes[i].next != last) i = t->nodes[i].next;
  return NodePtr(t, i);
}

// An error found while converting the tree (after the grammar accepted the text).
struct conversion_error {
  ast::Location loc;
  std::string message;
};

// Builds the syntax tree in place: each item, condition, string test and template is
// filled where it ends up (vectors reserved to their final size) rather than built in a
// temporary and moved, and strings are assigned straight from the text.
class Converter {
 public:
  Converter(ast::SourceName path, const char* text) : path_(std::move(path)), text_(text) {}

  // parse_rules refuses texts of 4 GiB or more, so positions fit 32 bits.
  ast::Location loc(const Node& n) const {
    return ast::Location{path_, static_cast<std::uint32_t>(n.line()), static_cast<std::uint32_t>(n.column()),
                         static_cast<std::uint32_t>(n.byte(text_))};
  }

  ast::File file(const Tree& tree) {
    ast::File f;
    f.path = path_;
    const Children top{&tree, 0, tree.size};
    std::size_t items = 0;
    for (const auto& c : top) {
      if (!c->is_type<g::version_number>()) ++items;
    }
    f.items.reserve(items);
    for (const auto& c : top) {
      if (c->is_type<g::version_number>()) {
        f.version = to_int(*c);
        f.version_loc = loc(*c);
      } else if (c->is_type<g::rule_item>()) {
        rule(*c, f.items.emplace_back(std::in_place_type<ast::Rule>));
      } else if (c->is_type<g::override_item>()) {
        override_item(*c, f.items.emplace_back(std::in_place_type<ast::Override>));
      } else if (c->is_type<g::disable_item>()) {
        const Node& name = *c->children.at(0);
        f.items.emplace_back(ast::Disable{name.string(), loc(name)});
      } else if (c->is_type<g::macro_item>()) {
        const Node& name = *c->children.at(0);
        auto& m = std::get<ast::Macro>(f.items.emplace_back(std::in_place_type<ast::Macro>));
        m.name = name.string_view();
        m.loc = loc(name);
        condition(*c->children.at(1), m.condition);
      } else if (c->is_type<g::decision_item>()) {
        decision(*c, f.items.emplace_back(std::in_place_type<ast::Decision>));
      } else if (c->is_type<g::list_item>()) {
        const Node& name = *c->children.at(0);
        auto& l = std::get<ast::List>(f.items.emplace_back(std::in_place_type<ast::List>));
        l.name = name.string_view();
        l.loc = loc(name);
        argv(*c->children.at(1), l.items);
      }
    }
    return f;
  }

 private:
  ast::SourceName path_;  // one shared name for every location in the file
  const char* text_;      // the start of the parsed text (byte offsets count from it)

  static int to_int(const Node& n) {
    std::string_view text = n.string_view();
    if (!text.empty() && text[0] == '+') text.remove_prefix(1);
    int value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);  // range checked by the grammar
    return value;
  }

  static double to_seconds(const Node& n) {
    const std::string text = n.string();
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    const std::string_view unit(end);
    if (unit == "ms") return value / 1000.0;
    if (unit == "m") return value * 60.0;
    if (unit == "h") return value * 3600.0;
    return value;  // "s" or a bare number
  }

  // `where` names the item: "rule 'NAME'", "override 'NAME'", "this command".
  [[noreturn]] void duplicate(const Node& n, const std::string& what, const std::string& where) const {
    throw conversion_error{loc(n), what + " is given twice in " + where};
  }
  // The item's `where`, built only for an error.
  static std::string item_where(const char* kind, const Node& item) {
    return std::string(kind) + " '" + item.children.at(0)->string() + "'";
  }

  // --- rules and overrides -------------------------------------------------------------

  void rule(const Node& n, ast::Item& item) {
    ast::Rule& r = std::get<ast::Rule>(item);
    std::size_t sets = 0;
    std::size_t notes = 0;
    for (const auto& c : n.children) {
      if (c->is_type<g::set_property>()) ++sets;
      if (c->is_type<g::note_property>()) ++notes;
    }
    r.sets.reserve(sets);
    r.notes.reserve(notes);
    for (const auto& c : n.children) {
      if (c->is_type<g::rule_name>()) {
        r.name = c->string_view();
        r.loc = loc(*c);
      } else if (c->is_type<g::priority_value>()) {
        if (r.priority) duplicate(*c, "'priority'", item_where("rule", n));
        r.priority = to_int(*c);
        r.priority_loc = loc(*c);
      } else if (c->is_type<g::stage_value>()) {
        if (r.stage) duplicate(*c, "'stage'", item_where("rule", n));
        r.stage = stage(*c);
      } else if (c->is_type<g::description_value>()) {
        if (r.description) duplicate(*c, "'description'", item_where("rule", n));
        r.description = template_of(*c->children.at(0)).literal();
      } else if (c->is_type<g::timeout_property>()) {
        if (r.timeout_seconds) duplicate(*c, "'timeout'", item_where("rule", n));
        r.timeout_seconds = to_seconds(*c->children.at(0));
      } else if (c->is_type<g::when_property>()) {
        if (r.when) duplicate(*c, "'when'", item_where("rule", n));
        condition(*c->children.at(0), r.when.emplace());
      } else if (c->is_type<g::set_property>()) {
        const Node& field = *c->children.at(0);
        for (const auto& other : r.sets) {
          if (other.field == field.string_view()) {
            duplicate(field, "'set " + other.field + "'", item_where("rule", n));
          }
        }
        field_set(*c, r.sets.emplace_back());
      } else if (c->is_type<g::note_property>()) {
        ast::Note& note = r.notes.emplace_back();
        template_of(*c->children.at(0), note.text);
        note.loc = loc(*c);
      } else if (c->is_type<g::decide_property>()) {
        const Node& name = *c->children.at(0);
        if (r.decide) duplicate(name, "'decide'", item_where("rule", n));
        ast::Decide& d = r.decide.emplace();
        d.name = name.string_view();
        d.loc = loc(name);
        for (std::size_t i = 1; i < c->children.size(); ++i)
          template_of(*c->children.at(i), d.args.emplace_back());
      } else if (c->is_type<g::leave_field>()) {
        for (const auto& other : r.leaves) {
          if (other.field == c->string_view())
            duplicate(*c, "'leave " + other.field + "'", item_where("rule", n));
        }
        r.leaves.push_back(ast::FieldSet{c->string(), ast::Null{}, loc(*c)});
      }
    }
  }

  void decision(const Node& n, ast::Item& item) {
    ast::Decision& d = std::get<ast::Decision>(item);
    for (const auto& c : n.children) {
      if (c->is_type<g::decision_name>()) {
        d.name = c->string_view();
        d.loc = loc(*c);
      } else if (c->is_type<g::param_name>()) {
        for (const auto& other : d.params) {
          if (other == c->string_view())
            duplicate(*c, "parameter '" + other + "'", item_where("decision", n));
        }
        d.params.push_back(c->string());
        d.param_locs.push_back(loc(*c));
      } else if (c->is_type<g::set_property>()) {
        const Node& field = *c->children.at(0);
        for (const auto& other : d.sets) {
          if (other.field == field.string_view()) {
            duplicate(field, "'set " + other.field + "'", item_where("decision", n));
          }
        }
        field_set(*c, d.sets.emplace_back());
      } else if (c->is_type<g::note_property>()) {
        ast::Note& note = d.notes.emplace_back();
        template_of(*c->children.at(0), note.text);
        note.loc = loc(*c);
      }
    }
  }

  void override_item(const Node& n, ast::Item& item) {
    ast::Override& o = std::get<ast::Override>(item);
    for (const auto& c : n.children) {
      if (c->is_type<g::override_name>()) {
        o.name = c->string_view();
        o.loc = loc(*c);
      } else if (c->is_type<g::replace_entry>()) {
        const Node& p = *c->children.at(0);
        if (p.is_type<g::priority_value>()) {
          if (o.priority) duplicate(p, "'replace priority'", item_where("override", n));
          o.priority = to_int(p);
          o.priority_loc = loc(p);
        } else if (p.is_type<g::stage_value>()) {
          if (o.stage) duplicate(p, "'replace stage'", item_where("override", n));
          o.stage = stage(p);
        } else if (p.is_type<g::description_value>()) {
          if (o.description) duplicate(p, "'replace description'", item_where("override", n));
          o.description = template_of(*p.children.at(0)).literal();
        } else if (p.is_type<g::timeout_property>()) {
          if (o.timeout_seconds) duplicate(p, "'replace timeout'", item_where("override", n));
          o.timeout_seconds = to_seconds(*p.children.at(0));
        } else if (p.is_type<g::when_property>()) {
          if (o.replace_when) duplicate(p, "'replace when'", item_where("override", n));
          condition(*p.children.at(0), o.replace_when.emplace());
        } else if (p.is_type<g::set_property>()) {
          const Node& field = *p.children.at(0);
          check_field_once(o, field.string_view(), field, n);
          field_set(p, o.sets.emplace_back());
        }
      } else if (c->is_type<g::append_entry>()) {
        const Node& p = *c->children.at(0);
        if (p.is_type<g::when_property>()) {
          condition(*p.children.at(0), o.append_when.emplace_back());
        } else if (p.is_type<g::note_property>()) {
          ast::Note& note = o.notes.emplace_back();
          template_of(*p.children.at(0), note.text);
          note.loc = loc(*c);
        }
      } else if (c->is_type<g::unset_entry>()) {
        const Node& f = *c->children.at(0);
        check_field_once(o, f.string_view(), f, n);
        o.unsets.push_back(ast::FieldSet{f.string(), ast::Null{}, loc(f)});
      }
    }
  }

  void check_field_once(const ast::Override& o, std::string_view field, const Node& at,
                        const Node& item) const {
    for (const auto& s : o.sets) {
      if (s.field == field) duplicate(at, "field '" + s.field + "'", item_where("override", item));
    }
    for (const auto& s : o.unsets) {
      if (s.field == field) duplicate(at, "field '" + s.field + "'", item_where("override", item));
    }
  }

  static ast::Stage stage(const Node& n) {
    return n.string_view() == "policy" ? ast::Stage::Policy : ast::Stage::Identify;
  }

  void field_set(const Node& n, ast::FieldSet& s) {
    const Node& field = *n.children.at(0);
    const Node& v = *n.children.at(1);
    s.field = field.string_view();
    s.loc = loc(field);
    if (v.is_type<g::true_value>()) {
      s.value = true;
    } else if (v.is_type<g::false_value>()) {
      s.value = false;
    } else if (v.is_type<g::null_value>()) {
      s.value = ast::Null{};
    } else if (v.is_type<g::string_lit>()) {
      template_of(v, s.value.emplace<ast::Template>());
    } else {
      auto& p = s.value.emplace<ast::Pipeline>();
      p.reserve(v.children.size());
      for (const auto& a : v.children) argv(*a, p.emplace_back());
    }
  }

  // --- conditions ----------------------------------------------------------------------

  void condition(const Node& n, ast::Condition& c) {
    if (n.is_type<g::or_condition>() || n.is_type<g::and_condition>()) {
      // Located at the first operator; the operands are the children between operators.
      bool located = false;
      std::size_t count = 0;
      for (const auto& child : n.children) {
        if (child->is_type<g::or_op>() || child->is_type<g::and_op>()) {
          if (!located) c.loc = loc(*child);
          located = true;
        } else {
          ++count;
        }
      }
      if (!located) c.loc = loc(n);
      std::vector<ast::Condition>& operands = n.is_type<g::or_condition>()
                                                  ? c.node.emplace<ast::Disjunction>().operands
                                                  : c.node.emplace<ast::Conjunction>().operands;
      operands.reserve(count);
      for (const auto& child : n.children) {
        if (!child->is_type<g::or_op>() && !child->is_type<g::and_op>())
          condition(*child, operands.emplace_back());
      }
      return;
    }
    c.loc = loc(n);
    if (n.is_type<g::not_condition>()) {
      auto& neg = c.node.emplace<ast::Negation>();
      neg.operand.reserve(1);
      condition(*n.children.back(), neg.operand.emplace_back());
    } else if (n.is_type<g::fact_predicate>()) {
      const Node& fact = *n.children.at(0);
      const Node& op = *n.children.at(1);
      if (op.is_type<g::is_set>() || op.is_type<g::is_not_set>()) {
        auto& p = c.node.emplace<ast::IsSetPredicate>();
        p.fact = fact.string_view();
        p.negated = op.is_type<g::is_not_set>();
      } else {
        auto& p = c.node.emplace<ast::FactPredicate>();
        p.fact = fact.string_view();
        p.fact_loc = loc(fact);
        string_test(op, *n.children.at(2), p.test);
      }
    } else if (n.is_type<g::value_predicate>()) {
      const Node& subject = *n.children.at(0);
      auto& p = c.node.emplace<ast::FactPredicate>();
      p.fact_loc = loc(subject);
      string_test(*n.children.at(1), *n.children.at(2), p.test);
      template_of(subject, p.subject.emplace());
    } else if (n.is_type<g::exists_predicate>()) {
      template_of(*n.children.at(0), c.node.emplace<ast::ExistsPredicate>().path);
    } else if (n.is_type<g::run_predicate>()) {
      command(n, *c.node.emplace<ast::Box<ast::CommandPredicate>>());
    } else if (n.is_type<g::read_predicate>()) {
      auto& p = *c.node.emplace<ast::Box<ast::CommandPredicate>>();
      const Node& pattern = *n.children.at(0);
      template_of(pattern, p.read_pattern.emplace());
      p.argv_loc = loc(pattern);
      command(n, p);
    } else if (n.is_type<g::macro_call>()) {
      c.node.emplace<ast::MacroCall>().name = n.string_view();
    }
  }

  void string_test(const Node& op, const Node& operand, ast::StringTest& t) {
    if (op.is_type<g::op_eq>()) {
      t.op = ast::Op::Equal;
    } else if (op.is_type<g::op_ne>()) {
      t.op = ast::Op::NotEqual;
    } else if (op.is_type<g::op_starts_with>()) {
      t.op = ast::Op::StartsWith;
    } else if (op.is_type<g::op_ends_with>()) {
      t.op = ast::Op::EndsWith;
    } else if (op.is_type<g::op_contains>()) {
      t.op = ast::Op::Contains;
    } else if (op.is_type<g::op_matches>()) {
      t.op = ast::Op::Matches;
    } else if (op.is_type<g::op_inside>()) {
      t.op = ast::Op::Inside;
    } else {
      t.op = ast::Op::In;
    }
    if (operand.is_type<g::string_lit>()) {
      template_of(operand, t.operand.emplace<ast::Template>());
    } else if (operand.is_type<g::regex_lit>()) {
      regex(operand, t.operand.emplace<ast::RegexLiteral>());
    } else if (operand.is_type<g::list_literal>()) {
      auto& l = t.operand.emplace<ast::ListLiteral>();
      l.loc = loc(operand);
      argv(operand, l.items);
    } else {
      auto& r = t.operand.emplace<ast::ListRef>();
      r.name = operand.string_view();
      r.loc = loc(operand);
    }
  }

  void command(const Node& n, ast::CommandPredicate& p) {
    for (const auto& c : n.children) {
      if (c->is_type<g::argv>()) {
        argv(*c, p.argv);
        p.argv_loc = loc(*c);
      } else if (c->is_type<g::run_timeout>()) {
        if (p.timeout_seconds) duplicate(*c, "'timeout'", "this command");
        p.timeout_seconds = to_seconds(*c->children.at(0));
      } else if (c->is_type<g::run_cache>()) {
        if (p.cache_seconds) duplicate(*c, "'cache'", "this command");
        p.cache_seconds = to_seconds(*c->children.at(0));
      } else if (c->is_type<g::run_env>()) {
        for (const auto& e : c->children) p.cache_env.emplace_back(e->string_view());
      } else if (c->is_type<g::test_succeeds>()) {
        p.test.kind = ast::CommandTest::Kind::Succeeds;
      } else if (c->is_type<g::test_exits>()) {
        p.test.kind = ast::CommandTest::Kind::Exits;
        p.test.exit_status = to_int(*c->children.at(0));
      } else if (c->is_type<g::test_output>()) {
        p.test.kind = ast::CommandTest::Kind::Output;
        string_test(*c->children.at(0), *c->children.at(1), p.test.test.emplace());
      } else if (c->is_type<g::test_json>() || c->is_type<g::test_yaml>()) {
        p.test.kind =
            c->is_type<g::test_json>() ? ast::CommandTest::Kind::Json : ast::CommandTest::Kind::Yaml;
        const Node& path = *c->children.at(0);
        p.test.doc_path = template_of(path).literal();
        p.test.doc_path_loc = loc(path);
        std::size_t i = 1;
        if (c->children.at(i)->is_type<g::projection>()) {
          template_of(*c->children.at(i)->children.at(0), p.test.projection.emplace());
          ++i;
        }
        string_test(*c->children.at(i), *c->children.at(i + 1), p.test.test.emplace());
      }
    }
  }

  // --- values --------------------------------------------------------------------------

  // The strings of an argv or list literal, into `out` (empty).
  void argv(const Node& n, std::vector<ast::Template>& out) {
    out.reserve(n.children.size());
    for (const auto& c : n.children) template_of(*c, out.emplace_back());
  }

  void regex(const Node& n, ast::RegexLiteral& r) {
    r.loc = loc(n);
    for (const auto& c : n.children) {
      if (c->is_type<g::regex_flag>()) {
        r.ignore_case = true;
      } else if (c->is_type<g::regex_text>()) {
        const std::string_view raw = c->string_view();
        r.pattern.reserve(r.pattern.size() + raw.size());
        for (std::size_t i = 0; i < raw.size(); ++i) {
          if (raw[i] == '\\' && i + 1 < raw.size()) {
            if (raw[i + 1] != '/') r.pattern += '\\';
            r.pattern += raw[++i];
          } else {
            r.pattern += raw[i];
          }
        }
      }
    }
  }

  static void append_text(ast::Template& t, std::string_view text) {
    if (text.empty()) return;
    if (t.parts.empty() || !std::holds_alternative<std::string>(t.parts.back())) {
      t.parts.emplace_back(std::in_place_type<std::string>, text);
    } else {
      std::get<std::string>(t.parts.back()).append(text);
    }
  }

  static std::string decode_escape(std::string_view e) {
    // e is "\\c", "\\xHH" or "\\u{H...}" (validated by the grammar).
    switch (e.at(1)) {
      case 'n':
        return "\n";
      case 't':
        return "\t";
      case 'r':
        return "\r";
      case '0':
        return std::string(1, '\0');
      case 'x': {
        unsigned value = 0;
        std::from_chars(e.data() + 2, e.data() + 4, value, 16);
        return std::string(1, static_cast<char>(value));
      }
      case 'u': {
        unsigned long value = 0;
        std::from_chars(e.data() + 3, e.data() + e.size() - 1, value, 16);
        std::string out;
        grammar::append_code_point(out, static_cast<char32_t>(value));
        return out;
      }
      default:
        return std::string(1, e[1]);  // \" \\ \$
    }
  }

  static bool is_text(const Node& c) {
    return c.is_type<g::string_text>() || c.is_type<g::arg_text>() || c.is_type<g::escape>() ||
           c.is_type<g::dollar_dollar>() || c.is_type<g::lone_dollar>();
  }

  ast::Template template_of(const Node& n) {
    ast::Template t;
    template_of(n, t);
    return t;
  }

  // A string_lit or template_arg node, into `t` (empty).
  void template_of(const Node& n, ast::Template& t) {
    t.loc = loc(n);
    // Parts: each reference, and each run of text between them.
    std::size_t parts = 0;
    bool in_text = false;
    for (const auto& c : n.children) {
      if (c->is_type<g::reference>()) {
        ++parts;
        in_text = false;
      } else if (!in_text && is_text(*c)) {
        ++parts;
        in_text = true;
      }
    }
    t.parts.reserve(parts);
    for (const auto& c : n.children) {
      if (c->is_type<g::string_text>() || c->is_type<g::arg_text>()) {
        append_text(t, c->string_view());
      } else if (c->is_type<g::escape>()) {
        append_text(t, decode_escape(c->string_view()));
      } else if (c->is_type<g::dollar_dollar>() || c->is_type<g::lone_dollar>()) {
        append_text(t, "$");
      } else if (c->is_type<g::reference>()) {
        reference(*c, std::get<ast::Reference>(t.parts.emplace_back(std::in_place_type<ast::Reference>)));
      }
    }
  }

  void reference(const Node& n, ast::Reference& r) {
    r.loc = loc(n);
    for (const auto& c : n.children) {
      if (c->is_type<g::ref_name>()) {
        r.name = c->string_view();
      } else if (c->is_type<g::mod_default>()) {
        r.modifier = ast::Reference::Modifier::Default;
      } else if (c->is_type<g::mod_prefix>()) {
        r.modifier = ast::Reference::Modifier::StripPrefix;
      } else if (c->is_type<g::mod_suffix>()) {
        r.modifier = ast::Reference::Modifier::StripSuffix;
      } else if (c->is_type<g::template_arg>()) {
        auto argument = std::make_shared<ast::Template>();
        template_of(*c, *argument);
        r.argument = std::move(argument);
      }
    }
  }
};

// The first NUL byte or invalid UTF-8 sequence, or npos.
std::size_t first_bad_byte(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0) return i;
    if (c < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = g::detail::utf8_length(text.substr(i, 4));
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

ast::Location location_of(std::string_view text, std::size_t offset, const std::string& path) {
  ast::Location loc{path, 1, 1, static_cast<std::uint32_t>(offset)};
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++loc.line;
      line_start = i + 1;
    }
  }
  loc.column = static_cast<std::uint32_t>(offset - line_start + 1);
  return loc;
}

bool is_byte_message(std::string_view m) {
  return m == g::kNulMessage || m.substr(0, std::string_view(g::kUtf8Message).size()) == g::kUtf8Message;
}

}  // namespace

ParseResult parse_rules(std::string text, const std::string& path) {
  ParseResult result;
  try {
    // Line and column numbers and offsets fit 32 bits.
    if (text.size() >= UINT32_MAX) throw std::bad_alloc();
    auto shared = std::make_shared<const std::string>(std::move(text));
    const std::string& t = *shared;
    const std::size_t bad = first_bad_byte(t);
    auto byte_error = [&] {
      const char* message = t[bad] == '\0' ? g::kNulMessage : g::kUtf8Message;
      result.error = make_diagnostic(t, location_of(t, bad, path), message);
    };
    std::optional<BraceMark> open_brace;
    try {
      pegtl::memory_input<pegtl::tracking_mode::eager, pegtl::eol::lf_crlf> in(t.data(), t.size(), path);
      g::parse_state state;
      // The generated benchmark rules need a node for about every 7 bytes; unused capacity
      // costs nothing, as it is not initialised.
      Tree tree(t.size() / 4 + 64);
      tree.marks.resize(256);
      tree.open_brace = &open_brace;
      const bool ok = pegtl::parse<g::file, pegtl::nothing, tree_control>(in, state, tree);
      if (bad != std::string_view::npos) {
        byte_error();
        return result;
      }
      if (!ok) {
        result.error = make_diagnostic(t, location_of(t, 0, path), "cannot parse this file");
        return result;
      }
      Converter converter(path, t.data());
      ast::File file = converter.file(tree);
      file.text = shared;
      result.file = std::move(file);
    } catch (const pegtl::parse_error& e) {
      const auto& pos = e.positions().front();
      if (bad != std::string_view::npos &&
          (bad < pos.byte || (bad == pos.byte && !is_byte_message(e.message())))) {
        byte_error();
      } else {
        std::optional<OpenBrace> open;
        if (open_brace) {
          const BraceMark& b = *open_brace;
          open = OpenBrace{ast::Location{path, b.line, b.column, static_cast<std::uint32_t>(b.byte)}, b.item};
        }
        result.error = syntax_diagnostic(
            t,
            ast::Location{path, static_cast<std::uint32_t>(pos.line), static_cast<std::uint32_t>(pos.column),
                          static_cast<std::uint32_t>(pos.byte)},
            std::string(e.message()), open);
      }
    } catch (const conversion_error& e) {
      result.error = make_diagnostic(t, e.loc, e.message);
    }
  } catch (const std::bad_alloc&) {
    result.file.reset();
    result.error = Diagnostic{ast::Location{path, 0, 0, 0}, "out of memory while parsing", {}, 0, {}, {}};
  } catch (const std::exception& e) {
    result.file.reset();
    result.error =
        Diagnostic{ast::Location{path, 0, 0, 0}, std::string("cannot parse: ") + e.what(), {}, 0, {}, {}};
  }
  return result;
}

}  // namespace lcrules
