// Replays every input the fuzzers found a problem with (tests/fuzz/regressions/TARGET/)
// and the seed corpora (tests/fuzz/corpus/TARGET/) through the same entry functions the
// fuzz programs use, so the normal test build keeps them fixed. See docs/hardening.md.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/entry_points.hpp"

namespace {

namespace fs = std::filesystem;

using EntryPoint = void (*)(const std::uint8_t*, std::size_t);

std::vector<fs::path> inputs_of(const std::string& kind, const std::string& target) {
  std::vector<fs::path> out;
  const fs::path dir = fs::path(LCRULES_TESTS_DIR) / "fuzz" / kind / target;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file() && it->path().filename().string()[0] != '.') out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void replay(const std::string& target, EntryPoint entry) {
  for (const char* kind : {"regressions", "corpus"}) {
    for (const auto& path : inputs_of(kind, target)) {
      INFO(path.string());
      const std::string data = read_file(path);
      CHECK_NOTHROW(entry(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
    }
  }
}

}  // namespace

TEST_CASE("fuzz regressions and seeds: rules parser, checker and evaluator", "[fuzz]") {
  REQUIRE_FALSE(inputs_of("corpus", "rules").empty());
  replay("rules", lcrules::fuzz::rules_one_input);
}

TEST_CASE("fuzz regressions and seeds: kubeconfig reader", "[fuzz]") {
  REQUIRE_FALSE(inputs_of("corpus", "kubeconfig").empty());
  replay("kubeconfig", lcrules::fuzz::kubeconfig_one_input);
}

TEST_CASE("fuzz regressions and seeds: Skaffold config reader", "[fuzz]") {
  REQUIRE_FALSE(inputs_of("corpus", "skaffold").empty());
  replay("skaffold", lcrules::fuzz::skaffold_one_input);
}

TEST_CASE("fuzz regressions and seeds: JSON/YAML output and document paths", "[fuzz]") {
  REQUIRE_FALSE(inputs_of("corpus", "docpath").empty());
  replay("docpath", lcrules::fuzz::docpath_one_input);
}

TEST_CASE("fuzz regressions and seeds: rule-set cache decoder", "[fuzz]") {
  REQUIRE_FALSE(inputs_of("corpus", "ruleset_cache").empty());
  replay("ruleset_cache", lcrules::fuzz::ruleset_cache_one_input);
}

TEST_CASE("fuzz regressions and seeds: kubeconfig cache decoder", "[fuzz]") {
  REQUIRE_FALSE(inputs_of("corpus", "kubeconfig_cache").empty());
  replay("kubeconfig_cache", lcrules::fuzz::kubeconfig_cache_one_input);
}

TEST_CASE("fuzz regressions and seeds: serve request decoding and the service", "[fuzz]") {
  REQUIRE_FALSE(inputs_of("corpus", "serve_request").empty());
  replay("serve_request", lcrules::fuzz::serve_request_one_input);
}
