// The parser: grammar sanity, syntax tree shapes, exact error messages, hostile input.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <tao/pegtl/contrib/analyze.hpp>

#include "grammar/grammar.hpp"
#include "grammar/parser.hpp"

namespace {

using namespace lcrules;

ast::File parse_ok(const std::string& text) {
  ParseResult r = parse_rules(text, "test.rules");
  if (r.error) FAIL(format(*r.error));
  REQUIRE(r.file);
  return *r.file;
}

std::string parse_error(const std::string& text) {
  ParseResult r = parse_rules(text, "test.rules");
  REQUIRE_FALSE(r.file);
  REQUIRE(r.error);
  return headline(*r.error);
}

const ast::Rule& only_rule(const ast::File& f) {
  REQUIRE(f.items.size() == 1);
  REQUIRE(std::holds_alternative<ast::Rule>(f.items[0]));
  return std::get<ast::Rule>(f.items[0]);
}

ast::Condition when_of(const std::string& condition) {
  ast::File f = parse_ok("rule r { when " + condition + " }");
  const ast::Rule& r = only_rule(f);
  REQUIRE(r.when);
  return *r.when;
}

const std::string& literal_part(const ast::Template& t, std::size_t i) {
  REQUIRE(i < t.parts.size());
  REQUIRE(std::holds_alternative<std::string>(t.parts[i]));
  return std::get<std::string>(t.parts[i]);
}

const ast::Reference& reference_part(const ast::Template& t, std::size_t i) {
  REQUIRE(i < t.parts.size());
  REQUIRE(std::holds_alternative<ast::Reference>(t.parts[i]));
  return std::get<ast::Reference>(t.parts[i]);
}

ast::Template note_of(const std::string& string_literal) {
  ast::File f = parse_ok("rule r { note " + string_literal + " }");
  const ast::Rule& r = only_rule(f);
  REQUIRE(r.notes.size() == 1);
  return r.notes[0].text;
}

}  // namespace

TEST_CASE("the grammar has no left recursion or empty loops", "[grammar]") {
  CHECK(tao::pegtl::analyze<grammar::file>(-1) == 0);
}

TEST_CASE("the documented example parses into the expected items", "[grammar]") {
  const std::string text = R"RULES(lcrules 1                      # optional header

list docker_desktop_names = ["docker-desktop", "docker-for-desktop"]

macro kind_context = context.name starts-with "kind-" or context.name ends-with "@kind"

rule kind {
  priority 500
  description "kind names its contexts kind-NAME (kind >= 0.6.0) or NAME@kind (older)"
  when kind_context
  set cluster = "kind"
  set local = true
  set cluster_name = "${cluster.name#kind-}"
  set load_images = true
  set push_images = false
  set load_command = ["kind", "load", "docker-image", "--name", "${cluster.name#kind-}", "{IMAGE}"]
  note "Images loaded into kind are in no registry."
}
)RULES";
  ParseResult res = parse_rules(text, "kind.rules");
  REQUIRE(res.file);
  const ast::File& f = *res.file;
  CHECK(f.path == "kind.rules");
  REQUIRE(f.text);
  CHECK(*f.text == text);
  REQUIRE(f.version == 1);
  CHECK(f.version_loc.line == 1);
  CHECK(f.version_loc.column == 9);
  CHECK(f.version_loc.offset == 8);
  REQUIRE(f.items.size() == 3);

  const auto& list = std::get<ast::List>(f.items[0]);
  CHECK(list.name == "docker_desktop_names");
  CHECK(list.loc.line == 3);
  CHECK(list.loc.column == 6);
  REQUIRE(list.items.size() == 2);
  CHECK(list.items[1].literal() == "docker-for-desktop");

  const auto& macro = std::get<ast::Macro>(f.items[1]);
  CHECK(macro.name == "kind_context");
  const auto& dis = std::get<ast::Disjunction>(macro.condition.node);
  REQUIRE(dis.operands.size() == 2);
  CHECK(macro.condition.loc.column == 55);  // the 'or'
  const auto& p0 = std::get<ast::FactPredicate>(dis.operands[0].node);
  CHECK(p0.fact == "context.name");
  CHECK(p0.fact_loc.line == 5);
  CHECK(p0.fact_loc.column == 22);
  CHECK(p0.test.op == ast::Op::StartsWith);
  CHECK(std::get<ast::Template>(p0.test.operand).literal() == "kind-");
  CHECK(std::get<ast::FactPredicate>(dis.operands[1].node).test.op == ast::Op::EndsWith);

  const auto& rule = std::get<ast::Rule>(f.items[2]);
  CHECK(rule.name == "kind");
  CHECK(rule.loc.line == 7);
  CHECK(rule.loc.column == 6);
  CHECK(rule.priority == 500);
  CHECK(rule.priority_loc.line == 8);
  CHECK(rule.priority_loc.column == 12);
  CHECK_FALSE(rule.stage);
  CHECK(rule.description == "kind names its contexts kind-NAME (kind >= 0.6.0) or NAME@kind (older)");
  REQUIRE(rule.when);
  CHECK(std::get<ast::MacroCall>(rule.when->node).name == "kind_context");
  REQUIRE(rule.sets.size() == 6);
  CHECK(rule.sets[0].field == "cluster");
  CHECK(rule.sets[0].loc.line == 11);
  CHECK(rule.sets[0].loc.column == 7);
  CHECK(std::get<bool>(rule.sets[1].value) == true);
  CHECK(std::get<bool>(rule.sets[4].value) == false);
  const auto& name = std::get<ast::Template>(rule.sets[2].value);
  const auto& ref = reference_part(name, 0);
  CHECK(ref.name == "cluster.name");
  CHECK(ref.modifier == ast::Reference::Modifier::StripPrefix);
  REQUIRE(ref.argument);
  CHECK(ref.argument->literal() == "kind-");
  CHECK(ref.loc.line == 13);
  CHECK(ref.loc.column == 23);  // the '$'
  const auto& load = std::get<ast::Pipeline>(rule.sets[5].value);
  REQUIRE(load.size() == 1);
  REQUIRE(load[0].size() == 6);
  CHECK(load[0][5].literal() == "{IMAGE}");
  REQUIRE(rule.notes.size() == 1);
  CHECK(rule.notes[0].text.literal() == "Images loaded into kind are in no registry.");
}

TEST_CASE("condition precedence: not > and > or", "[grammar]") {
  ast::Condition c = when_of("a or not b and c or (d or e) and f");
  const auto& dis = std::get<ast::Disjunction>(c.node);
  REQUIRE(dis.operands.size() == 3);
  CHECK(std::get<ast::MacroCall>(dis.operands[0].node).name == "a");
  const auto& and1 = std::get<ast::Conjunction>(dis.operands[1].node);
  REQUIRE(and1.operands.size() == 2);
  const auto& neg = std::get<ast::Negation>(and1.operands[0].node);
  REQUIRE(neg.operand.size() == 1);
  CHECK(std::get<ast::MacroCall>(neg.operand[0].node).name == "b");
  CHECK(std::get<ast::MacroCall>(and1.operands[1].node).name == "c");
  const auto& and2 = std::get<ast::Conjunction>(dis.operands[2].node);
  REQUIRE(and2.operands.size() == 2);
  CHECK(std::get<ast::Disjunction>(and2.operands[0].node).operands.size() == 2);

  // Locations: the first operator of a chain, the 'not', the first token of a predicate.
  CHECK(c.loc.column == 17);
  CHECK(dis.operands[1].loc.column == 26);
  CHECK(and1.operands[0].loc.column == 20);
}

TEST_CASE("predicates", "[grammar]") {
  SECTION("string tests and operands") {
    ast::Condition c = when_of(
        R"(cluster.server.port != "8443" and context.name matches /^kind-(?<n>[a-z]+)\/x\d$/i and )"
        R"(user.name in admins and context.cluster in ["a", "b",] and cluster.certificate-authority inside "/x" )"
        R"(and context.name contains /k/ and env.HOME == "${env.X}")");
    const auto& all = std::get<ast::Conjunction>(c.node).operands;
    REQUIRE(all.size() == 7);
    const auto& ne = std::get<ast::FactPredicate>(all[0].node);
    CHECK(ne.fact == "cluster.server.port");
    CHECK(ne.test.op == ast::Op::NotEqual);
    const auto& m = std::get<ast::FactPredicate>(all[1].node);
    CHECK(m.test.op == ast::Op::Matches);
    const auto& re = std::get<ast::RegexLiteral>(m.test.operand);
    CHECK(re.pattern == R"(^kind-(?<n>[a-z]+)/x\d$)");
    CHECK(re.ignore_case);
    const auto& in_name = std::get<ast::FactPredicate>(all[2].node);
    CHECK(in_name.test.op == ast::Op::In);
    CHECK(std::get<ast::ListRef>(in_name.test.operand).name == "admins");
    const auto& in_list = std::get<ast::ListLiteral>(std::get<ast::FactPredicate>(all[3].node).test.operand);
    REQUIRE(in_list.items.size() == 2);
    CHECK(in_list.items[1].literal() == "b");
    const auto& inside = std::get<ast::FactPredicate>(all[4].node);
    CHECK(inside.fact == "cluster.certificate-authority");
    CHECK(inside.test.op == ast::Op::Inside);
    CHECK_FALSE(
        std::get<ast::RegexLiteral>(std::get<ast::FactPredicate>(all[5].node).test.operand).ignore_case);
    CHECK(std::get<ast::FactPredicate>(all[6].node).fact == "env.HOME");
  }
  SECTION("is set, is not set, exists") {
    ast::Condition c = when_of(R"(a.b is set and c is not set and exists "${env.HOME}/.kube")");
    const auto& all = std::get<ast::Conjunction>(c.node).operands;
    REQUIRE(all.size() == 3);
    CHECK(std::get<ast::IsSetPredicate>(all[0].node).fact == "a.b");
    CHECK_FALSE(std::get<ast::IsSetPredicate>(all[0].node).negated);
    CHECK(std::get<ast::IsSetPredicate>(all[1].node).negated);
    const auto& path = std::get<ast::ExistsPredicate>(all[2].node).path;
    CHECK(reference_part(path, 0).name == "env.HOME");
    CHECK(literal_part(path, 1) == "/.kube");
    CHECK(all[2].loc.column == 47);
  }
  SECTION("commands") {
    ast::Condition c =
        when_of(R"(run ["minikube", "profile", "list"] timeout 500ms cache 10m env ["MINIKUBE_HOME", "HOME"])"
                "\n  json \".valid[].Config.Nodes[]\" as \"${item.IP}:${item.Port}\" == \"x\"");
    const auto& cmd = *std::get<ast::Box<ast::CommandPredicate>>(c.node);
    REQUIRE(cmd.argv.size() == 3);
    CHECK(cmd.argv[2].literal() == "list");
    CHECK(cmd.argv_loc.column == 19);
    CHECK(cmd.timeout_seconds == Approx(0.5));
    CHECK(cmd.cache_seconds == Approx(600));
    CHECK(cmd.cache_env == std::vector<std::string>{"MINIKUBE_HOME", "HOME"});
    CHECK(cmd.test.kind == ast::CommandTest::Kind::Json);
    CHECK(cmd.test.doc_path == ".valid[].Config.Nodes[]");
    CHECK(cmd.test.doc_path_loc.line == 2);
    CHECK(cmd.test.doc_path_loc.column == 8);
    REQUIRE(cmd.test.projection);
    CHECK(reference_part(*cmd.test.projection, 0).name == "item.IP");
    CHECK(literal_part(*cmd.test.projection, 1) == ":");
    REQUIRE(cmd.test.test);
    CHECK(cmd.test.test->op == ast::Op::Equal);

    CHECK((*std::get<ast::Box<ast::CommandPredicate>>(when_of(R"(run ["true"] succeeds)").node)).test.kind ==
          ast::CommandTest::Kind::Succeeds);
    const auto exits = (*std::get<ast::Box<ast::CommandPredicate>>(when_of(R"(run ["false"] exits 3)").node));
    CHECK(exits.test.kind == ast::CommandTest::Kind::Exits);
    CHECK(exits.test.exit_status == 3);
    const auto out = (*std::get<ast::Box<ast::CommandPredicate>>(
        when_of(R"(run ["x"] timeout 2 output contains "y")").node));
    CHECK(out.test.kind == ast::CommandTest::Kind::Output);
    CHECK(out.timeout_seconds == Approx(2));
    const auto yaml =
        (*std::get<ast::Box<ast::CommandPredicate>>(when_of(R"(run ["x"] yaml ".a" matches /b/)").node));
    CHECK(yaml.test.kind == ast::CommandTest::Kind::Yaml);
    CHECK_FALSE(yaml.test.projection);
  }
}

TEST_CASE("templates: escapes, references, nested defaults", "[grammar]") {
  CHECK(note_of(R"("a\"b\\c\nd\te\rf\$g$$h\x41\u{e9}\u{1F600}")").literal() ==
        "a\"b\\c\nd\te\rf$g$hA\xc3\xa9\xf0\x9f\x98\x80");
  CHECK(note_of(R"("\0")").literal() == std::string(1, '\0'));
  CHECK(note_of(R"("")").is_literal());
  CHECK(note_of(R"("eval $(minikube docker-env) costs 5$")").literal() ==
        "eval $(minikube docker-env) costs 5$");

  ast::Template t = note_of(R"("x${env.A:-pre${match.n%-suf}post}y${item}")");
  REQUIRE(t.parts.size() == 4);
  CHECK(literal_part(t, 0) == "x");
  const auto& a = reference_part(t, 1);
  CHECK(a.name == "env.A");
  CHECK(a.modifier == ast::Reference::Modifier::Default);
  CHECK(a.loc.column == 17);
  REQUIRE(a.argument);
  REQUIRE(a.argument->parts.size() == 3);
  CHECK(literal_part(*a.argument, 0) == "pre");
  const auto& inner = reference_part(*a.argument, 1);
  CHECK(inner.name == "match.n");
  CHECK(inner.modifier == ast::Reference::Modifier::StripSuffix);
  REQUIRE(inner.argument);
  CHECK(inner.argument->literal() == "-suf");
  CHECK(inner.loc.column == 29);
  CHECK(literal_part(*a.argument, 2) == "post");
  CHECK(literal_part(t, 2) == "y");
  CHECK(reference_part(t, 3).name == "item");
  CHECK(reference_part(t, 3).modifier == ast::Reference::Modifier::None);
  CHECK_FALSE(reference_part(t, 3).argument);

  ast::Template empty_default = note_of(R"("${a:-}")");
  REQUIRE(reference_part(empty_default, 0).argument);
  CHECK(reference_part(empty_default, 0).argument->parts.empty());
}

TEST_CASE("values, durations and properties", "[grammar]") {
  ast::File f = parse_ok(R"(
rule r {
  priority -5
  stage policy
  timeout 1.5h
  set registry = null
  set load_command = ["docker", "save", "{IMAGE}"] | ["microk8s", "ctr", "image", "import", "-"]
})");
  const ast::Rule& r = only_rule(f);
  CHECK(r.priority == -5);
  CHECK(r.stage == ast::Stage::Policy);
  CHECK(r.timeout_seconds == Approx(5400));
  REQUIRE(r.sets.size() == 2);
  CHECK(std::holds_alternative<ast::Null>(r.sets[0].value));
  const auto& p = std::get<ast::Pipeline>(r.sets[1].value);
  REQUIRE(p.size() == 2);
  CHECK(p[0].size() == 3);
  CHECK(p[1].size() == 5);
  CHECK(p[1][4].literal() == "-");
  CHECK_FALSE(r.when);

  for (auto [text, seconds] : std::vector<std::pair<std::string, double>>{
           {"500ms", 0.5}, {"5s", 5}, {"10m", 600}, {"1h", 3600}, {"7", 7}, {"0.25", 0.25}}) {
    CAPTURE(text);
    CHECK(only_rule(parse_ok("rule r { timeout " + text + " }")).timeout_seconds == Approx(seconds));
  }
}

TEST_CASE("overrides and disables", "[grammar]") {
  ast::File f = parse_ok(R"(override kind {
  replace priority 600
  replace stage identify
  replace description "d"
  replace when a
  append when b
  append when c
  replace set push_images = true
  unset load_command
  append note "n"
  replace timeout 3s
}
disable minikube.profile-list
)");
  REQUIRE(f.items.size() == 2);
  const auto& o = std::get<ast::Override>(f.items[0]);
  CHECK(o.name == "kind");
  CHECK(o.loc.column == 10);
  CHECK(o.priority == 600);
  CHECK(o.priority_loc.line == 2);
  CHECK(o.stage == ast::Stage::Identify);
  CHECK(o.description == "d");
  REQUIRE(o.replace_when);
  CHECK(o.append_when.size() == 2);
  REQUIRE(o.sets.size() == 1);
  CHECK(o.sets[0].field == "push_images");
  REQUIRE(o.unsets.size() == 1);
  CHECK(o.unsets[0].field == "load_command");
  CHECK(o.unsets[0].loc.line == 9);
  CHECK(o.unsets[0].loc.column == 9);
  REQUIRE(o.notes.size() == 1);
  CHECK(o.timeout_seconds == Approx(3));
  const auto& d = std::get<ast::Disable>(f.items[1]);
  CHECK(d.name == "minikube.profile-list");
  CHECK(d.loc.line == 13);
  CHECK(d.loc.column == 9);
}

TEST_CASE("an empty file and a file of comments parse", "[grammar]") {
  CHECK(parse_ok("").items.empty());
  CHECK(parse_ok("# nothing here\n\n   # ünïcödé\r\n").items.empty());
  CHECK_FALSE(parse_ok("rule a {}").version);
}

TEST_CASE("syntax errors have exact messages and positions", "[grammar]") {
  CHECK(parse_error("rule x { when a and }") == "test.rules:1:21: error: expected a condition after 'and'");
  CHECK(parse_error("rule x\n  when a }") == "test.rules:2:3: error: expected '{' after the rule name");
  CHECK(parse_error("rule x { when }") == "test.rules:1:15: error: expected a condition after 'when'");
  CHECK(parse_error("bogus") ==
        "test.rules:1:1: error: expected 'rule', 'override', 'disable', 'macro', 'list' or 'decision'");
  CHECK(parse_error("rule x { note \"a\\q\" }") ==
        "test.rules:1:17: error: unknown escape sequence '\\q' in string");
  CHECK(parse_error("rule x { note \"abc\n}") == "test.rules:1:19: error: unterminated string");
  CHECK(
      parse_error("rule x { set colour = 1 }") ==
      "test.rules:1:14: error: expected a field name after 'set' (cluster, local, cluster_name, load_images, "
      "push_images, load_command, registry)");
  CHECK(parse_error("rule x { when a matches \"x\" }") ==
        "test.rules:1:25: error: 'matches' needs a regular expression /.../");
  CHECK(parse_error("rule x { priority 2147483648 }") == "test.rules:1:19: error: number out of range");
  CHECK(parse_error("lcrules 2\nrule x {}") ==
        "test.rules:1:9: error: this file needs language version 2, this lcrules reads version 1");
  CHECK(parse_error("rule or {}") == "test.rules:1:6: error: 'or' is a reserved word and cannot be a name");
  CHECK(parse_error("rule x { priority 1 priority 2 }") ==
        "test.rules:1:30: error: 'priority' is given twice in rule 'x'");
  CHECK(parse_error("rule x { note \"\xff\" }") == "test.rules:1:16: error: invalid UTF-8 in string");
}

TEST_CASE("hostile input gives an error, never a crash or a hang", "[grammar]") {
  SECTION("200,000 nested parentheses") {
    const std::string text =
        "rule x { when " + std::string(200000, '(') + "a" + std::string(200000, ')') + " }";
    CHECK(parse_error(text) == "test.rules:1:79: error: conditions nest deeper than 64 levels");
  }
  SECTION("200,000 nested 'not'") {
    std::string text = "rule x { when ";
    for (int i = 0; i < 200000; ++i) text += "not ";
    CHECK(parse_error(text + "a }") == "test.rules:1:271: error: conditions nest deeper than 64 levels");
  }
  SECTION("64 levels are fine") {
    const std::string text = "rule x { when " + std::string(64, '(') + "a" + std::string(64, ')') + " }";
    CHECK(parse_ok(text).items.size() == 1);
  }
  SECTION("deeply nested defaults") {
    std::string text = "rule x { note \"";
    for (int i = 0; i < 200000; ++i) text += "${a:-";
    CHECK(parse_error(text) == "test.rules:1:96: error: interpolations nest deeper than 16 levels");
  }
  SECTION("a 5 MB line") {
    CHECK(parse_error(std::string(5 << 20, 'x')) ==
          "test.rules:1:1: error: expected 'rule', 'override', 'disable', 'macro', 'list' or 'decision'");
    CHECK(parse_error("rule x { note \"" + std::string(5 << 20, 'y')) ==
          "test.rules:1:" + std::to_string(16 + (5 << 20)) + ": error: unterminated string");
    CHECK(parse_ok("# " + std::string(5 << 20, 'z')).items.empty());
    CHECK(parse_ok("list l = [" + std::string(5 << 18, ' ') + "\"a\"]").items.size() == 1);
  }
  SECTION("NUL bytes") {
    CHECK(parse_error(std::string("rule x {\0}", 10)) == "test.rules:1:9: error: unexpected NUL byte");
    CHECK(parse_error(std::string("# a\0", 4)) == "test.rules:1:4: error: unexpected NUL byte");
    CHECK(parse_error(std::string("rule x { note \"\0\" }", 19)) ==
          "test.rules:1:16: error: unexpected NUL byte");
    CHECK(parse_error(std::string(1000, '\0')) == "test.rules:1:1: error: unexpected NUL byte");
  }
  SECTION("invalid UTF-8") {
    CHECK(parse_error("# caf\xe9\nrule x {}") == "test.rules:1:6: error: invalid UTF-8 in comment");
    CHECK(parse_error("rule x {}\n\xc0\xaf") == "test.rules:2:1: error: invalid UTF-8");
    CHECK(parse_error("rule x { when a == /\xed\xa0\x80/ }") ==
          "test.rules:1:21: error: invalid UTF-8 in regular expression");
    // A syntax error before the bad byte is the first error.
    CHECK(parse_error("rule { \xff }") == "test.rules:1:6: error: expected a rule name after 'rule'");
  }
  SECTION("random binary") {
    std::mt19937 rng(12345);
    for (int round = 0; round < 200; ++round) {
      std::string text(static_cast<std::size_t>(rng() % 4096), '\0');
      for (auto& c : text) c = static_cast<char>(rng() & 0xff);
      if (round % 2 == 1) text = "rule x { when " + text;
      ParseResult r = parse_rules(text, "junk.rules");
      CHECK(r.error);
      CHECK_FALSE(r.file);
    }
  }
  SECTION("random mutations of a valid file never crash") {
    const std::string base = R"(lcrules 1
list l = ["a", "b"]
macro m = context.name starts-with "kind-" or not (env.X is set and user.name in l)
rule r { priority 5 when m and run ["a", "${env.HOME:-x}"] timeout 1s json ".a[]" as "${item.b}" matches /x\/y/i
  set load_command = ["a"] | ["b"] note "n\u{e9}" }
override r { replace when m append note "x" unset registry }
)";
    std::mt19937 rng(7);
    for (int round = 0; round < 2000; ++round) {
      std::string text = base;
      for (int k = 0; k < 3; ++k) {
        const std::size_t pos = rng() % text.size();
        switch (rng() % 3) {
          case 0:
            text.erase(pos, 1 + rng() % 4);
            break;
          case 1:
            text.insert(pos, 1, "\"${}()[]/\\#,|=-.a \n"[rng() % 20]);
            break;
          default:
            text[pos] = static_cast<char>(rng() & 0xff);
        }
      }
      ParseResult r = parse_rules(text, "m.rules");
      CHECK(r.file.has_value() != r.error.has_value());
    }
  }
}
