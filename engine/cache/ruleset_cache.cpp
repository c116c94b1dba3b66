#include "engine/cache/ruleset_cache.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <cstdint>
#include <cstring>
#include <unordered_map>

#include "engine/cache/cache_codec.hpp"
#include "engine/cache/cache_store.hpp"

namespace lcrules::ruleset_cache {

namespace {

// Bump when the encoding changes. The binary's size and modification time are in the key
// too, so a rebuilt lcrules never reads an entry of an older build; this number keeps
// entries apart when they are equal by chance.
constexpr std::uint64_t kFormat = 7;
constexpr std::string_view kMagic{"lcrules-ruleset\n", 16};

// Condition nodes and interpolations nest; a rule set nested deeper than this is not cached
// (none is in practice: conditions nest at most 64 levels per file), and an entry that
// claims more is corrupt. Bounds the decoder's recursion.
constexpr std::size_t kMaxDepth = 4096;

// The fewest bytes a condition node and a rule take in an entry: a count larger than the
// bytes left allow is corrupt.
constexpr std::size_t kMinNodeBytes = 6;
constexpr std::size_t kMinRuleBytes = 16;

// The encoder and decoder below must name every member of these types. When one changes,
// its size changes with it (on the compilers the project builds with): update both and
// kFormat, then the sizes here.
static_assert(sizeof(void*) != 8 || sizeof(ast::Location) == 32,
              "ast::Location changed: update ruleset_cache");
static_assert(sizeof(void*) != 8 || sizeof(FactRef) == 72, "FactRef changed: update ruleset_cache");
static_assert(sizeof(void*) != 8 || sizeof(CompiledReference) == 96,
              "CompiledReference changed: update ruleset_cache");
static_assert(sizeof(void*) != 8 || sizeof(CompiledTemplate) == 56,
              "CompiledTemplate changed: update ruleset_cache");
static_assert(sizeof(void*) != 8 || sizeof(CompiledRegex) == 72,
              "CompiledRegex changed: update ruleset_cache");
static_assert(sizeof(void*) != 8 || sizeof(CompiledStringTest) == 80,
              "CompiledStringTest changed: update ruleset_cache");
static_assert(sizeof(void*) != 8 || sizeof(CompiledList) == 56, "CompiledList changed: update ruleset_cache");
static_assert(sizeof(void*) != 8 || sizeof(CompiledCommand) == 296,
              "CompiledCommand changed: update ruleset_cache");
static_assert(sizeof(void*) != 8 || sizeof(ConditionNode) == 248,
              "ConditionNode changed: update ruleset_cache");
static_assert(sizeof(void*) != 8 || sizeof(CompiledSet) == 104, "CompiledSet changed: update ruleset_cache");
static_assert(sizeof(void*) != 8 || sizeof(CompiledRule) == 272,
              "CompiledRule changed: update ruleset_cache");
static_assert(sizeof(void*) != 8 || sizeof(docpath::PathStep) == 48,
              "docpath::PathStep changed: update ruleset_cache");

// ---------------------------------------------------------------------------------------
// Encoding: engine/cache/cache_codec.hpp's integers, doubles and strings; file names of locations
// once each, and for condition nodes a mask of the members that are present, then only those.

// The members of a ConditionNode present in an entry (the others are empty or false).
enum NodeMember : std::uint8_t {
  kChildren = 1,
  kMacroName = 2,
  kFact = 4,
  kNegated = 8,
  kTest = 16,
  kSubject = 32,
  kCommand = 64,
  kAllMembers = 127
};

bool is_empty(const CompiledTemplate& t) { return t.parts.empty() && t.spelling.empty(); }

std::uint8_t node_mask(const ConditionNode& n) {
  const FactRef& f = n.fact;
  const CompiledStringTest& t = n.test;
  std::uint8_t m = 0;
  if (!n.children.empty()) m |= kChildren;
  if (n.macro_name) m |= kMacroName;
  if (f.kind != FactRef::Kind{} || !f.key.empty() || !f.spelling.empty()) m |= kFact;
  if (n.negated) m |= kNegated;
  if (t.op != ast::Op{} || !is_empty(t.text) || t.regex || t.list) m |= kTest;
  if (n.subject) m |= kSubject;
  if (n.command) m |= kCommand;
  return m;
}

class Writer : public cache_codec::ByteWriter {
 public:
  void u32(std::uint32_t v) { u64(v); }
  void count(std::size_t n) { u64(n); }
  template <typename E>
  void enumerator(E e) {
    u8(static_cast<std::uint8_t>(e));
  }
  void opt_f64(const std::optional<double>& v) {
    boolean(v.has_value());
    if (v) f64(*v);
  }

  void location(const ast::Location& loc) {
    auto [it, added] = files_.try_emplace(loc.file.str(), files_.size());
    u64(it->second);
    if (added) str(loc.file.str());
    u64(loc.line);
    u64(loc.column);
    u64(loc.offset);
  }

  void fact(const FactRef& f) {
    enumerator(f.kind);
    str(f.key);
    str(f.spelling);
  }

  void templ(const CompiledTemplate& t, std::size_t depth) {
    deeper(depth);
    count(t.parts.size());
    for (const auto& part : t.parts) {
      if (const auto* text = std::get_if<std::string>(&part)) {
        u8(0);
        str(*text);
      } else {
        const auto& ref = std::get<CompiledReference>(part);
        u8(1);
        fact(ref.fact);
        enumerator(ref.modifier);
        boolean(ref.argument != nullptr);
        if (ref.argument) templ(*ref.argument, depth + 1);
      }
    }
    str(t.spelling);
  }

  void templates(const std::vector<CompiledTemplate>& ts, std::size_t depth) {
    count(ts.size());
    for (const auto& t : ts) templ(t, depth);
  }

  void regex(const CompiledRegex& re) {
    boolean(static_cast<bool>(re.regex));
    if (re.regex) u32(static_cast<std::uint32_t>(re.regex.flags()));
    str(re.pattern);
    count(re.group_names.size());
    for (const auto& g : re.group_names) str(g);
  }

  void string_test(const CompiledStringTest& t, std::size_t depth) {
    enumerator(t.op);
    templ(t.text, depth);
    boolean(t.regex != nullptr);
    if (t.regex) regex(*t.regex);
    // The list of an `in` test (always set), and only there.
    if (t.op == ast::Op::In) {
      if (t.list) {
        templates(t.list->items, depth);
        str(t.list->spelling);
      } else {
        count(0);
        str("");
      }
    }
  }

  void command(const CompiledCommand& c, std::size_t depth) {
    templates(c.argv, depth);
    opt_f64(c.timeout_seconds);
    opt_f64(c.cache_seconds);
    count(c.cache_env.size());
    for (const auto& v : c.cache_env) str(v);
    enumerator(c.test);
    i64(c.exit_status);
    str(c.doc_path_spelling);
    count(c.doc_path.size());
    for (const auto& step : c.doc_path) {
      enumerator(step.kind);
      str(step.key);
      u64(step.index);
    }
    boolean(c.projection.has_value());
    if (c.projection) templ(*c.projection, depth);
    boolean(c.string_test.has_value());
    if (c.string_test) string_test(*c.string_test, depth);
  }

  void node(const ConditionNode& n, std::size_t depth) {
    deeper(depth);
    enumerator(n.kind);
    location(n.loc);
    const std::uint8_t mask = node_mask(n);
    u8(mask);
    if (mask & kChildren) {
      count(n.children.size());
      for (const auto& c : n.children) node(c, depth + 1);
    }
    if (mask & kMacroName) str(*n.macro_name);
    if (mask & kFact) fact(n.fact);
    if (mask & kTest) string_test(n.test, depth);
    if (mask & kSubject) templ(*n.subject, depth);
    if (mask & kCommand) command(*n.command, depth);
  }

  void value(const CompiledValue& v) {
    u8(static_cast<std::uint8_t>(v.index()));
    if (const auto* b = std::get_if<bool>(&v)) {
      boolean(*b);
    } else if (const auto* t = std::get_if<CompiledTemplate>(&v)) {
      templ(*t, 0);
    } else if (const auto* pipeline = std::get_if<std::vector<std::vector<CompiledTemplate>>>(&v)) {
      count(pipeline->size());
      for (const auto& argv : *pipeline) templates(argv, 0);
    }
  }

  void rule(const CompiledRule& r) {
    str(r.name);
    location(r.loc);
    i64(r.priority);
    enumerator(r.stage);
    str(r.description);
    opt_f64(r.timeout_seconds);
    boolean(r.when != nullptr);
    if (r.when) node(*r.when, 0);
    count(r.sets.size());
    for (const auto& s : r.sets) {
      enumerator(s.field);
      value(s.value);
      location(s.loc);
    }
    templates(r.notes, 0);
    u32(r.field_mask);
    u32(r.reads_mask);
    u32(r.rank);
    u32(r.leave_mask);
    u64(r.file_index);
    u64(r.position);
    count(r.changed_by.size());
    for (const auto& loc : r.changed_by) location(loc);
    boolean(r.disabled_by.has_value());
    if (r.disabled_by) location(*r.disabled_by);
  }

  bool too_deep() const { return too_deep_; }

 private:
  void deeper(std::size_t depth) {
    if (depth >= kMaxDepth) too_deep_ = true;
  }

  std::unordered_map<std::string, std::uint64_t> files_;
  bool too_deep_ = false;
};

// Decoding checks the checksum first, then every length against the bytes left, every enumerator against its
// range and the nesting against kMaxDepth: any bytes give a rule set or a reason, never a crash or an
// allocation larger than the entry.
using Malformed = cache_codec::CodecError;

class Reader : public cache_codec::ByteReader {
 public:
  using ByteReader::ByteReader;

  std::uint32_t u32() {
    const std::uint64_t v = u64();
    if (v > UINT32_MAX) throw Malformed{"an integer is out of range"};
    return static_cast<std::uint32_t>(v);
  }
  template <typename E>
  E enumerator(E last) {
    const std::uint8_t v = u8();
    if (v > static_cast<std::uint8_t>(last)) throw Malformed{"an enumerator is out of range"};
    return static_cast<E>(v);
  }
  std::optional<double> opt_f64() {
    if (!boolean()) return std::nullopt;
    return f64();
  }
  static std::uint32_t to_u32(std::uint64_t v) {
    if (v > UINT32_MAX) throw Malformed{"a location is out of range"};
    return static_cast<std::uint32_t>(v);
  }
  int to_int(std::int64_t v) {
    if (v < INT32_MIN || v > INT32_MAX) throw Malformed{"an integer is out of range"};
    return static_cast<int>(v);
  }

  ast::Location location() {
    ast::Location loc;
    const std::uint64_t index = u64();
    if (index == files_.size()) {
      files_.push_back(str());
    } else if (index > files_.size()) {
      throw Malformed{"a location names an unknown file"};
    }
    loc.file = files_[static_cast<std::size_t>(index)];  // shared by every location in the file
    loc.line = to_u32(u64());
    loc.column = to_u32(u64());
    loc.offset = to_u32(u64());
    return loc;
  }

  void fact(FactRef& f) {
    f.kind = enumerator(FactRef::Kind::Item);
    f.key = str();
    f.spelling = str();
  }

  void templ(CompiledTemplate& t, std::size_t depth) {
    deeper(depth);
    const std::size_t n = count(2);
    t.parts.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (boolean()) {
        CompiledReference ref;
        fact(ref.fact);
        ref.modifier = enumerator(ast::Reference::Modifier::StripSuffix);
        if (boolean()) {
          auto arg = std::make_shared<CompiledTemplate>();
          templ(*arg, depth + 1);
          ref.argument = std::move(arg);
        }
        t.parts.emplace_back(std::move(ref));
      } else {
        t.parts.emplace_back(str());
      }
    }
    t.spelling = str();
  }

  void templates(std::vector<CompiledTemplate>& ts, std::size_t depth) {
    ts.resize(count(2));
    for (auto& t : ts) templ(t, depth);
  }

  void regex(CompiledRegex& re) {
    const bool compiled = boolean();
    const auto flags = compiled ? static_cast<boost::regex::flag_type>(u32()) : boost::regex::flag_type{};
    re.pattern = str();
    // The pattern compiled when the entry was written: compiling it again waits for its
    // first use (most evaluations decide by name before reaching any regex).
    if (compiled) re.regex = RegexHandle::deferred(re.pattern, flags);
    re.group_names.resize(count(1));
    for (auto& g : re.group_names) g = str();
  }

  void string_test(CompiledStringTest& t, std::size_t depth) {
    t.op = enumerator(ast::Op::In);
    templ(t.text, depth);
    if (boolean()) {
      auto re = std::make_unique<CompiledRegex>();
      regex(*re);
      t.regex = std::move(re);
    }
    if (t.op == ast::Op::In) {
      auto list = std::make_unique<CompiledList>();
      templates(list->items, depth);
      list->spelling = str();
      t.list = std::move(list);
    }
  }

  std::shared_ptr<const CompiledCommand> command(std::size_t depth) {
    auto c = std::make_shared<CompiledCommand>();
    templates(c->argv, depth);
    c->timeout_seconds = opt_f64();
    c->cache_seconds = opt_f64();
    c->cache_env.resize(count(1));
    for (auto& v : c->cache_env) v = str();
    c->test = enumerator(ast::CommandTest::Kind::Yaml);
    c->exit_status = to_int(i64());
    c->doc_path_spelling = str();
    c->doc_path.resize(count(3));
    for (auto& step : c->doc_path) {
      step.kind = enumerator(docpath::PathStep::Kind::Every);
      step.key = str();
      step.index = static_cast<std::size_t>(u64());
    }
    if (boolean()) templ(c->projection.emplace(), depth);
    if (boolean()) string_test(c->string_test.emplace(), depth);
    return c;
  }

  void node(ConditionNode& n, std::size_t depth) {
    deeper(depth);
    n.kind = enumerator(ConditionNode::Kind::Read);
    n.loc = location();
    const std::uint8_t mask = u8();
    if (mask & ~kAllMembers) throw Malformed{"a condition node has an unknown member"};
    if (mask & kChildren) {
      n.children.resize(count(kMinNodeBytes));
      for (auto& c : n.children) node(c, depth + 1);
    }
    if (mask & kMacroName) n.macro_name = std::make_unique<const std::string>(str());
    if (mask & kFact) fact(n.fact);
    n.negated = (mask & kNegated) != 0;
    if (mask & kTest) string_test(n.test, depth);
    if (mask & kSubject) {
      auto subject = std::make_unique<CompiledTemplate>();
      templ(*subject, depth);
      n.subject = std::move(subject);
    }
    if ((n.kind == ConditionNode::Kind::Value || n.kind == ConditionNode::Kind::Exists ||
         n.kind == ConditionNode::Kind::Read) &&
        !n.subject)
      throw Malformed{"a condition node lacks its subject"};
    if (mask & kCommand) n.command = command(depth);
    if ((n.kind == ConditionNode::Kind::Command || n.kind == ConditionNode::Kind::Read) && !n.command)
      throw Malformed{"a condition node lacks its command"};
  }

  CompiledValue value() {
    switch (u8()) {
      case 0:
        return boolean();
      case 1:
        return ast::Null{};
      case 2: {
        CompiledTemplate t;
        templ(t, 0);
        return t;
      }
      case 3: {
        std::vector<std::vector<CompiledTemplate>> pipeline(count(1));
        for (auto& argv : pipeline) templates(argv, 0);
        return pipeline;
      }
      default:
        throw Malformed{"a field value has an unknown kind"};
    }
  }

  void rule(CompiledRule& r) {
    r.name = str();
    r.loc = location();
    r.priority = to_int(i64());
    r.stage = enumerator(ast::Stage::Policy);
    r.description = str();
    r.timeout_seconds = opt_f64();
    if (boolean()) {
      auto when = std::make_unique<ConditionNode>();
      node(*when, 0);
      r.when = std::move(when);
    }
    r.sets.resize(count(6));
    for (auto& s : r.sets) {
      s.field = enumerator(Field::Registry);
      s.value = value();
      s.loc = location();
    }
    templates(r.notes, 0);
    r.field_mask = u32();
    r.reads_mask = u32();
    r.rank = u32();
    r.leave_mask = u32();
    r.file_index = static_cast<std::size_t>(u64());
    r.position = static_cast<std::size_t>(u64());
    r.changed_by.resize(count(4));
    for (auto& loc : r.changed_by) loc = location();
    if (boolean()) r.disabled_by = location();
  }

 private:
  static void deeper(std::size_t depth) {
    if (depth >= kMaxDepth) throw Malformed{"conditions nest too deeply"};
  }

  std::vector<ast::SourceName> files_;
};

}  // namespace

std::optional<std::string> key_of(const std::vector<RuleFileRef>& files) {
  std::string key =
      "format " + std::to_string(kFormat) + "\nlcrules " + cache_codec::binary_identity() + "\n";
  for (const auto& f : files) {
    const auto identity = cache_codec::file_identity(f.path);
    if (!identity) return std::nullopt;
    key += std::to_string(static_cast<int>(f.origin)) + " " + *identity + " " + f.path + "\n";
  }
  return key;
}

std::string entry_path(const std::string& dir, const std::vector<RuleFileRef>& files) {
  std::string names;
  for (const auto& f : files) names += std::to_string(static_cast<int>(f.origin)) + " " + f.path + "\n";
  return dir + "/rules-" + cache_store::hash_name(names) + ".bin";
}

std::string encode_body(const RuleSet& rules) {
  Writer body;
  body.count(rules.files.size());
  for (const auto& f : rules.files) body.str(f);
  body.count(rules.rules.size());
  for (const auto& r : rules.rules) body.rule(r);
  if (body.too_deep()) return {};
  return body.take();
}

std::string make_entry(std::string_view key, std::string_view body) {
  return cache_codec::frame(kMagic, kFormat, key, body);
}

std::string encode(const RuleSet& rules, std::string_view key) {
  const std::string body = encode_body(rules);
  return body.empty() ? std::string() : make_entry(key, body);
}

std::optional<RuleSet> decode(std::string_view bytes, std::string_view key, std::string* why) {
  try {
    const std::string_view body = cache_codec::unframe(bytes, kMagic, kFormat, &key);
    Reader in(body);
    RuleSet rs;
    rs.files.resize(in.count(1));
    for (auto& f : rs.files) f = in.str();
    rs.rules.resize(in.count(kMinRuleBytes));
    for (auto& r : rs.rules) in.rule(r);
    if (!in.at_end()) throw Malformed{"bytes after the rule set"};
    for (const auto& r : rs.rules) {
      if (!r.disabled_by) rs.active.push_back(&r);
    }
    return rs;
  } catch (const Malformed& m) {
    if (why) *why = m.what;
  } catch (const std::bad_alloc&) {
    if (why) *why = "out of memory";
  }
  return std::nullopt;
}

LoadResult load_with_cache(const std::vector<RuleFileRef>& files, const std::string& dir) {
  const auto key = key_of(files);
  if (!key || !cache_store::usable_dir(dir)) return load_rule_set(files);
  const std::string path = entry_path(dir, files);
  if (auto bytes = cache_store::read_entry(path, kMaxEntrySize)) {
    std::string why;
    if (auto rs = decode(*bytes, *key, &why)) {
      spdlog::debug("rule set from the cache: {}", path);
      LoadResult hit;
      hit.rule_set = std::move(rs);
      return hit;
    }
    spdlog::debug("rule-set cache entry {} not used: {}", path, why);
  }
  // Checked before reading: a file that is not recent now cannot be rewritten unseen later
  // (its next write gets a later time, hence another key).
  bool recent = false;
  for (const auto& f : files) recent = recent || cache_codec::recently_modified(f.path);
  LoadResult loaded = load_rule_set(files);
  if (recent) {
    spdlog::debug("rule set not cached: a rule file was modified within the last {} s",
                  cache_codec::kRacyWindowNs / 1'000'000'000);
  } else if (loaded.rule_set && loaded.errors.empty()) {
    const std::string entry = encode(*loaded.rule_set, *key);
    // Best effort: a failed write costs the next run a load.
    if (!entry.empty() && entry.size() <= kMaxEntrySize && cache_store::write_entry(path, entry)) {
      spdlog::debug("rule set cached in {}", path);
    }
  }
  return loaded;
}

}  // namespace lcrules::ruleset_cache
