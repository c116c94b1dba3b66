// Data-driven syntax tests: tests/corpus/syntax/valid/*.rules must parse;
// tests/corpus/syntax/invalid/NAME.rules must fail with the error line and the note lines
// in NAME.error (the first line of each; excerpts and carets are not repeated there).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "grammar/parser.hpp"
#include "support.hpp"

namespace {

namespace fs = std::filesystem;
using lcrules::parse_rules;
using lcrules::ParseResult;
using lcrules::testing::read_file;

const fs::path kCorpus = fs::path(LCRULES_SOURCE_DIR) / "tests" / "corpus" / "syntax";

std::vector<fs::path> rules_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".rules") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string without_final_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

TEST_CASE("syntax corpus: valid files parse", "[grammar][corpus]") {
  const auto files = rules_files(kCorpus / "valid");
  CHECK(files.size() >= 8);
  for (const auto& file : files) {
    const std::string rel = "tests/corpus/syntax/valid/" + file.filename().string();
    CAPTURE(rel);
    ParseResult r = parse_rules(read_file(file), rel);
    CHECK(r.file.has_value());
    if (r.error) FAIL_CHECK(lcrules::format(*r.error));
  }
}

TEST_CASE("syntax corpus: invalid files fail with the expected first error", "[grammar][corpus]") {
  const auto files = rules_files(kCorpus / "invalid");
  CHECK(files.size() >= 25);
  for (const auto& file : files) {
    const std::string rel = "tests/corpus/syntax/invalid/" + file.filename().string();
    CAPTURE(rel);
    fs::path expected_file = file;
    expected_file.replace_extension(".error");
    REQUIRE(fs::exists(expected_file));
    const std::string expected = without_final_newlines(read_file(expected_file));
    ParseResult r = parse_rules(read_file(file), rel);
    CHECK_FALSE(r.file.has_value());
    REQUIRE(r.error.has_value());
    CHECK(lcrules::headlines(*r.error) == expected);
  }
}
