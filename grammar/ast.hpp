// Syntax tree of a .rules file: what the parser produces and the checker consumes.
// Plain data with value semantics; nothing here knows about facts or products.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace lcrules::ast {

// The name of a rule file as locations carry it: shared, not copied. A rule holds a dozen
// locations, and the paths of real rule files are longer than a std::string keeps inline.
class SourceName {
 public:
  SourceName() = default;
  SourceName(std::string name)  // NOLINT: implicit, a path is a source name
      : name_(std::make_shared<const std::string>(std::move(name))) {}
  SourceName(const char* name) : SourceName(std::string(name)) {}  // NOLINT: as above

  const std::string& str() const { return name_ ? *name_ : empty_name(); }
  operator const std::string&() const { return str(); }  // NOLINT: reads as the path it is
  bool empty() const { return str().empty(); }

  friend bool operator==(const SourceName& a, const SourceName& b) {
    return a.name_ == b.name_ || a.str() == b.str();
  }
  // Exact overloads for the string types, so that no comparison builds a SourceName.
  friend bool operator==(const SourceName& a, std::string_view b) { return a.str() == b; }
  friend bool operator==(const SourceName& a, const std::string& b) { return a.str() == b; }
  friend bool operator==(const SourceName& a, const char* b) { return a.str() == b; }
  friend bool operator<(const SourceName& a, const SourceName& b) { return a.str() < b.str(); }

 private:
  static const std::string& empty_name() {
    static const std::string empty;
    return empty;
  }
  std::shared_ptr<const std::string> name_;
};

// Lines, columns and offsets fit 32 bits: the parser refuses files of 4 GiB or more.
struct Location {
  SourceName file;           // path as given by the loader
  std::uint32_t line = 0;    // 1-based
  std::uint32_t column = 0;  // 1-based, in bytes
  std::uint32_t offset = 0;  // byte offset in the file, for source excerpts
};

struct Template;

// One `${...}` inside a string.
struct Reference {
  enum class Modifier { None, Default, StripPrefix, StripSuffix };
  std::string name;  // "context.name", "env.HOME", "match.n", "item.IP", "item"
  Modifier modifier = Modifier::None;
  std::shared_ptr<const Template> argument;  // for Default / StripPrefix / StripSuffix
  Location loc;
};

// A string literal split into literal text and references. Escapes are already decoded.
struct Template {
  std::vector<std::variant<std::string, Reference>> parts;
  Location loc;

  bool is_literal() const {
    return parts.empty() || (parts.size() == 1 && std::holds_alternative<std::string>(parts[0]));
  }
  std::string literal() const { return parts.empty() ? std::string() : std::get<std::string>(parts[0]); }
};

struct RegexLiteral {
  std::string pattern;  // as written between the slashes, with `\/` turned into `/`
  bool ignore_case = false;
  Location loc;
};

struct ListRef {
  std::string name;
  Location loc;
};

struct ListLiteral {
  std::vector<Template> items;
  Location loc;
};

using Operand = std::variant<Template, RegexLiteral, ListRef, ListLiteral>;

enum class Op { Equal, NotEqual, StartsWith, EndsWith, Contains, Matches, Inside, In };

// The string test shared by fact predicates and command-output tests.
struct StringTest {
  Op op = Op::Equal;
  Operand operand;
};

struct FactPredicate {
  std::string fact;  // empty when `subject` is given
  Location fact_loc;
  StringTest test;
  std::optional<Template> subject;  // `"${match.x}" in LIST`: a string tested instead of a fact
};

struct IsSetPredicate {
  std::string fact;
  bool negated = false;  // `is not set`
};

struct ExistsPredicate {
  Template path;
};

struct CommandTest {
  enum class Kind { Succeeds, Exits, Output, Json, Yaml };
  Kind kind = Kind::Succeeds;
  int exit_status = 0;   // Exits
  std::string doc_path;  // Json / Yaml, as written (".valid[].Name")
  Location doc_path_loc;
  std::optional<Template> projection;  // `as "..."`
  std::optional<StringTest> test;      // Output / Json / Yaml
};

// `run [ARGV] ... TEST`, or `read "PATTERN" TEST` (a json or yaml test of files).
struct CommandPredicate {
  std::optional<Template> read_pattern;  // set: a `read` predicate (argv is empty)
  std::vector<Template> argv;
  Location argv_loc;  // the argv, or the read pattern
  std::optional<double> timeout_seconds;
  std::optional<double> cache_seconds;
  std::vector<std::string> cache_env;
  CommandTest test;
};

// A value kept on the heap with value semantics (a copy copies the value). For a large,
// rare alternative of a variant, which would otherwise set the size of every alternative.
template <typename T>
class Box {
 public:
  Box() : value_(std::make_unique<T>()) {}
  Box(const Box& other) : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  Box(Box&&) noexcept = default;
  Box& operator=(const Box& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    return *this;
  }
  Box& operator=(Box&&) noexcept = default;
  ~Box() = default;

  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return value_.get(); }
  const T* operator->() const { return value_.get(); }

 private:
  std::unique_ptr<T> value_;
};

struct MacroCall {
  std::string name;
};

struct Condition;

struct Conjunction {
  std::vector<Condition> operands;  // two or more
};
struct Disjunction {
  std::vector<Condition> operands;  // two or more
};
struct Negation {
  std::vector<Condition> operand;  // exactly one (vector only to allow the recursive type)
};

struct Condition {
  // Commands are boxed: a CommandPredicate is larger than the other predicates together.
  std::variant<Conjunction, Disjunction, Negation, FactPredicate, IsSetPredicate, ExistsPredicate,
               Box<CommandPredicate>, MacroCall>
      node;
  Location loc;
};

struct Null {};
using Pipeline = std::vector<std::vector<Template>>;  // one or more argv
using Value = std::variant<bool, Null, Template, Pipeline>;

struct FieldSet {
  std::string field;
  Value value;
  Location loc;
};

struct Note {
  Template text;
  Location loc;
};

enum class Stage { Identify, Policy };

// `decide NAME("ARG", ...)` in a rule.
struct Decide {
  std::string name;
  Location loc;  // of the name
  std::vector<Template> args;
};

struct Rule {
  std::string name;
  Location loc;
  std::optional<int> priority;
  Location priority_loc;
  std::optional<Stage> stage;
  std::optional<std::string> description;
  std::optional<double> timeout_seconds;
  std::optional<Condition> when;
  std::vector<FieldSet> sets;
  std::vector<Note> notes;
  std::optional<Decide> decide;
  std::vector<FieldSet> leaves;  // `leave FIELD, ...`: field and place (value unused)
};

struct Override {
  std::string name;  // the rule it changes
  Location loc;
  std::optional<int> priority;
  Location priority_loc;
  std::optional<Stage> stage;
  std::optional<std::string> description;
  std::optional<double> timeout_seconds;
  std::optional<Condition> replace_when;
  std::vector<Condition> append_when;
  std::vector<FieldSet> sets;    // replace or add
  std::vector<FieldSet> unsets;  // value ignored
  std::vector<Note> notes;       // appended
};

struct Disable {
  std::string name;
  Location loc;
};

struct Macro {
  std::string name;
  Location loc;
  Condition condition;
};

struct List {
  std::string name;
  Location loc;
  std::vector<Template> items;
};

// `decision NAME(PARAM, ...) { set ... note ... }`: fields and notes written once, used by
// rules through `decide NAME(...)`.
struct Decision {
  std::string name;
  Location loc;
  std::vector<std::string> params;
  std::vector<Location> param_locs;
  std::vector<FieldSet> sets;
  std::vector<Note> notes;
};

using Item = std::variant<Rule, Override, Disable, Macro, List, Decision>;

struct File {
  std::string path;
  std::shared_ptr<const std::string> text;  // kept for source excerpts in later diagnostics
  std::optional<int> version;
  Location version_loc;
  std::vector<Item> items;
};

}  // namespace lcrules::ast
