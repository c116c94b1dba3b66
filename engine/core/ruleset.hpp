// The checked, compiled rule set: what the loader builds from parsed files and the
// evaluator runs. Facts, macros, lists, regexes and captures are resolved here, at load
// time, so evaluation does no name lookups and compiles nothing.
#pragma once

#include <boost/regex.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/facts/docpath.hpp"
#include "grammar/ast.hpp"

namespace lcrules {

enum class Field : std::uint8_t {
  Cluster,
  Local,
  ClusterName,
  LoadImages,
  PushImages,
  LoadCommand,
  Registry
};
inline constexpr std::size_t kFieldCount = 7;
inline constexpr std::uint32_t kAllFields = (1u << kFieldCount) - 1;
inline constexpr std::uint32_t field_bit(Field f) { return 1u << static_cast<unsigned>(f); }
const char* field_name(Field f);
std::optional<Field> parse_field(std::string_view name);

// A fact, identified at load time.
struct FactRef {
  enum class Kind : std::uint8_t {
    ContextName,
    ContextCluster,
    ContextUser,
    ContextNamespace,
    ContextFile,
    ContextExtension,
    ClusterName,
    ClusterServer,
    ClusterScheme,
    ClusterHost,
    ClusterPort,
    ClusterCertificateAuthority,
    ClusterExtension,
    UserName,
    UserExecCommand,
    Env,
    Skaffold,
    SkaffoldBuildLocalPush,
    OptionProbeCluster,
    KubeconfigFiles,
    Decision,
    Match,
    Item
  };
  Kind kind = Kind::ContextName;
  std::string key;  // Env: variable; *Extension: "NAME.KEY"; Skaffold: key; Decision: field; Match: group;
                    // Item: dotted keys
  std::string spelling;  // as written, for explanations
};

struct CompiledTemplate;
struct CompiledReference {
  FactRef fact;
  ast::Reference::Modifier modifier = ast::Reference::Modifier::None;
  std::shared_ptr<const CompiledTemplate> argument;
};
// A string with references. A template that references nothing (most of them) keeps its
// text in `spelling` alone, with no parts: no vector to allocate, no second copy.
struct CompiledTemplate {
  std::vector<std::variant<std::string, CompiledReference>> parts;  // empty: the text is `spelling`
  std::string spelling;  // source-like text for explanations: "${env.HOME}/.minikube"
  bool is_literal() const { return parts.empty() || (parts.size() == 1 && parts[0].index() == 0); }
};

// A regular expression compiled on first use. The checker compiles every pattern once to
// report a bad one as a load error, then keeps only the pattern, as a rule set decoded
// from the cache (engine/cache/ruleset_cache.hpp) does: most evaluations use few of a set's
// regexes. Copies share the compiled form; first use from several threads compiles once.
class RegexHandle {
 public:
  RegexHandle() = default;
  static RegexHandle deferred(std::string pattern, boost::regex::flag_type flags);

  // Compiles a deferred pattern on first use; boost::regex_error if it does not compile.
  const boost::regex& operator*() const;
  explicit operator bool() const { return state_ != nullptr; }
  boost::regex::flag_type flags() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

struct CompiledRegex {
  RegexHandle regex;
  std::string pattern;  // as written
  std::vector<std::string> group_names;
};

// The list of an `in` test.
struct CompiledList {
  std::vector<CompiledTemplate> items;
  std::string spelling;  // "docker_desktop_names" or "[...]"
};

// A string test. Regex and list tests are the rare ones, so their members are behind
// pointers, which keeps the condition nodes that hold a test small.
struct CompiledStringTest {
  ast::Op op = ast::Op::Equal;
  CompiledTemplate text;                       // Equal .. EndsWith, Contains (string), Inside
  std::unique_ptr<const CompiledRegex> regex;  // Matches, Contains (regex)
  std::unique_ptr<const CompiledList> list;    // In (always set)
};

struct CompiledCommand {
  std::vector<CompiledTemplate> argv;
  std::optional<double> timeout_seconds;
  std::optional<double> cache_seconds;
  std::vector<std::string> cache_env;
  ast::CommandTest::Kind test = ast::CommandTest::Kind::Succeeds;
  int exit_status = 0;
  std::string doc_path_spelling;
  docpath::Path doc_path;
  std::optional<CompiledTemplate> projection;
  std::optional<CompiledStringTest> string_test;
};

struct ConditionNode {
  enum class Kind : std::uint8_t { And, Or, Not, Macro, Fact, Value, IsSet, Exists, Command, Read };
  Kind kind = Kind::And;
  bool negated = false;  // IsSet: `is not set`
  ast::Location loc;
  std::vector<ConditionNode> children;  // And/Or: operands; Not/Macro: one
  FactRef fact;                         // Fact, IsSet
  CompiledStringTest test;              // Fact, Value
  // Value: the string tested; Exists, Read: the path (all: always set).
  std::unique_ptr<const CompiledTemplate> subject;
  std::shared_ptr<const CompiledCommand> command;  // Command; Read: its test (no argv)
  std::unique_ptr<const std::string> macro_name;   // Macro
};

using CompiledValue =
    std::variant<bool, ast::Null, CompiledTemplate, std::vector<std::vector<CompiledTemplate>>>;

struct CompiledSet {
  Field field = Field::Cluster;
  CompiledValue value;
  ast::Location loc;
};

struct CompiledRule {
  std::string name;
  ast::Location loc;  // where it was defined
  int priority = 100;
  ast::Stage stage = ast::Stage::Identify;
  std::string description;
  std::optional<double> timeout_seconds;
  std::unique_ptr<const ConditionNode> when;  // none: always
  std::vector<CompiledSet> sets;
  std::vector<CompiledTemplate> notes;
  std::uint32_t field_mask = 0;
  // Policy rules: the decision fields the rule reads (decision.F anywhere in it).
  std::uint32_t reads_mask = 0;
  // The rule's place among the rules of its stage in priority order (0 first): the rule
  // of better (lower) rank wins a field. Policy rules are evaluated in dependency order,
  // which can differ from it.
  std::uint32_t rank = 0;
  // Fields the rule leaves to lower rules on purpose (`leave`).
  std::uint32_t leave_mask = 0;
  std::size_t file_index = 0;             // load order of the defining file
  std::size_t position = 0;               // order inside that file
  std::vector<ast::Location> changed_by;  // overrides applied, in order
  std::optional<ast::Location> disabled_by;
};

struct RuleSet {
  RuleSet() = default;
  RuleSet(RuleSet&&) = default;
  RuleSet& operator=(RuleSet&&) = default;
  RuleSet(const RuleSet&) = delete;  // `active` points into `rules`
  RuleSet& operator=(const RuleSet&) = delete;
  ~RuleSet();

  std::vector<std::string> files;           // in load order
  std::vector<CompiledRule> rules;          // every rule, including disabled ones, in evaluation order
  std::vector<const CompiledRule*> active;  // enabled rules in evaluation order
  // Indexes into `rules` in the order their contents were allocated, when that is not
  // `rules`' own order (the checker compiles in definition order). The destructor frees
  // the rules in this order: freeing a large set in evaluation order jumps around the heap.
  std::vector<std::uint32_t> allocation_order;
};

}  // namespace lcrules
