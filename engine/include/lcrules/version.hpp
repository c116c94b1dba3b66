// lcrules' public API: what this lcrules is and what it was built from (`lcrules version`).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace lcrules {

struct BuildInfo {
  std::string version;       // lcrules' own version, "0.1.0"
  int language_version = 0;  // the rule language version it reads (`lcrules N` in a file)
  std::string commit;        // the git commit it was built from; "unknown" outside a git checkout
  // The libraries it was built with, {"PEGTL", "3.2.7"}, ...: PEGTL, Boost, yaml-cpp always;
  // RE2, spdlog, fmt and nlohmann-json when their versions were known at build time.
  std::vector<std::pair<std::string, std::string>> libraries;
};

BuildInfo build_info();

// `lcrules version -o json`: {"apiVersion", "version", "language_version", "commit",
// "libraries": {NAME: VERSION, ...}}.
nlohmann::ordered_json build_info_json(const BuildInfo& info);
// `lcrules version` and `lcrules --version`: "lcrules 0.1.0 (commit ...)", the language
// version, the libraries.
std::string build_info_text(const BuildInfo& info);

}  // namespace lcrules
