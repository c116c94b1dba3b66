// `lcrules fmt`'s formatter: the corpus tests/format/NAME.rules -> NAME.expected (a new case
// is a new pair of files), idempotence and unchanged rules on every valid rule file of the
// repository, and errors as the parser reports them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "grammar/ast_dump.hpp"
#include "grammar/formatter.hpp"
#include "grammar/parser.hpp"
#include "support.hpp"

namespace {

namespace fs = std::filesystem;
using lcrules::format_rules_text;
using lcrules::parse_rules;
using lcrules::testing::read_file;

const fs::path kSource = fs::path(LCRULES_SOURCE_DIR);

std::vector<fs::path> rules_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".rules") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string formatted(const std::string& text, const std::string& name) {
  auto r = format_rules_text(text, name);
  if (r.error) FAIL(lcrules::format(*r.error));
  return *r.text;
}

}  // namespace

TEST_CASE("format corpus: each NAME.rules formats to NAME.expected, which is formatted", "[format][corpus]") {
  const auto files = rules_files(kSource / "tests" / "format");
  CHECK(files.size() >= 12);
  for (const auto& file : files) {
    const std::string rel = "tests/format/" + file.filename().string();
    CAPTURE(rel);
    fs::path expected_file = file;
    expected_file.replace_extension(".expected");
    REQUIRE(fs::exists(expected_file));
    const std::string expected = read_file(expected_file);
    CHECK(formatted(read_file(file), rel) == expected);
    CHECK(formatted(expected, rel) == expected);
  }
}

TEST_CASE("format: every valid rule file formats idempotently to the same rules", "[format]") {
  std::vector<fs::path> files = rules_files(kSource / "rules");
  for (const char* dir :
       {"tests/corpus/syntax/valid", "tests/corpus/semantic/valid", "tests/fuzz/corpus/rules"}) {
    const auto more = rules_files(kSource / dir);
    files.insert(files.end(), more.begin(), more.end());
  }
  CHECK(files.size() >= 40);
  for (const auto& file : files) {
    CAPTURE(file.string());
    const std::string text = read_file(file);
    auto original = parse_rules(text, "x.rules");
    if (!original.file) continue;  // the fuzz corpus holds invalid files too
    const std::string once = formatted(text, "x.rules");
    CHECK(formatted(once, "x.rules") == once);
    auto again = parse_rules(once, "x.rules");
    REQUIRE(again.file);
    CHECK(lcrules::ast::dump(*again.file) == lcrules::ast::dump(*original.file));
  }
}

TEST_CASE("format: a file that does not parse gives the parser's error", "[format]") {
  const std::string text = "rule r {\n  priority\n}\n";
  auto r = format_rules_text(text, "bad.rules");
  REQUIRE(r.error);
  CHECK_FALSE(r.text);
  CHECK(lcrules::format(*r.error) == lcrules::format(*parse_rules(text, "bad.rules").error));
  CHECK(lcrules::format(*r.error) ==
        "bad.rules:3:1: error: expected a whole number after 'priority'\n  }\n  ^\n");
}

TEST_CASE("format: a list is wrapped when its line would pass 100 columns", "[format]") {
  // `list n = ["` is 11 columns, `", "b"]` 7: 82 more make exactly 100.
  const std::string fits = "list n = [\"" + std::string(82, 'a') + "\", \"b\"]\n";
  REQUIRE(fits.size() == 101);  // 100 columns and the newline
  CHECK(formatted(fits, "x.rules") == fits);
  const std::string over = "list n = [\"" + std::string(83, 'a') + "\", \"b\"]\n";
  CHECK(formatted(over, "x.rules") == "list n = [\n    \"" + std::string(83, 'a') + "\",\n    \"b\",\n]\n");
}
