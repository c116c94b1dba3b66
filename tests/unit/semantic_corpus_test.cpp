// Data-driven checker corpus: tests/corpus/semantic/valid/*.rules must load;
// tests/corpus/semantic/invalid/NAME.rules must fail with the first error's line and its
// note lines in NAME.error.
#include <catch2/catch.hpp>
#include <filesystem>

#include "engine/core/checker.hpp"
#include "grammar/parser.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using lcrules::testing::read_file;

namespace {

// The first error line of parsing and checking one file on its own.
std::string first_error(const fs::path& file) {
  const std::string rel = fs::relative(file, LCRULES_SOURCE_DIR).string();
  auto parsed = lcrules::parse_rules(read_file(file), rel);
  if (parsed.error) return lcrules::headlines(*parsed.error);
  std::vector<lcrules::ast::File> files;
  files.push_back(std::move(*parsed.file));
  auto kept = lcrules::check_rule_files(files);
  // The loader's form, which frees each syntax tree as it goes, must report the same.
  auto consumed = lcrules::check_rule_files(std::move(files));
  std::vector<std::string> kept_errors, consumed_errors;
  for (const auto& e : kept.errors) kept_errors.push_back(lcrules::format(e));
  for (const auto& e : consumed.errors) consumed_errors.push_back(lcrules::format(e));
  CHECK(kept_errors == consumed_errors);
  CHECK(kept.rule_set.rules.size() == consumed.rule_set.rules.size());
  return kept.errors.empty() ? std::string() : lcrules::headlines(kept.errors.front());
}

std::vector<fs::path> cases(const char* folder) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(LCRULES_TESTS_DIR) / "corpus" / "semantic" / folder)) {
    if (e.path().extension() == ".rules") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("semantic corpus: valid files load", "[checker]") {
  const auto files = cases("valid");
  REQUIRE(!files.empty());
  for (const auto& f : files) {
    INFO(f.string());
    CHECK(first_error(f) == "");
  }
}

TEST_CASE("semantic corpus: invalid files fail with the expected first error", "[checker]") {
  const auto files = cases("invalid");
  REQUIRE(files.size() >= 20);
  for (const auto& f : files) {
    fs::path expected_file = f;
    expected_file.replace_extension(".error");
    INFO(f.string());
    REQUIRE(fs::exists(expected_file));
    std::string expected = read_file(expected_file);
    while (!expected.empty() && (expected.back() == '\n' || expected.back() == '\r')) expected.pop_back();
    CHECK(first_error(f) == expected);
  }
}
