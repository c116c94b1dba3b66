// lcrules version: the versions this build was made with, from the headers compiled here
// and from what CMake found (lcrules_build_config.hpp, lcrules_commit.hpp, both generated
// in the build folder).
#include "lcrules/version.hpp"

#include <fmt/core.h>
#include <spdlog/version.h>
#include <boost/version.hpp>
#include <tao/pegtl/version.hpp>

#include "grammar/parser.hpp"
#include "lcrules/engine.hpp"
#include "lcrules_build_config.hpp"
#include "lcrules_commit.hpp"

namespace lcrules {

BuildInfo build_info() {
  BuildInfo info;
  info.version = LCRULES_BUILD_VERSION;
  info.language_version = kLanguageVersion;
  info.commit = LCRULES_COMMIT;
  auto dotted = [](int major, int minor, int patch) {
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  };
  info.libraries.emplace_back("PEGTL", TAO_PEGTL_VERSION);
  info.libraries.emplace_back(
      "Boost", dotted(BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100));
  info.libraries.emplace_back("yaml-cpp", LCRULES_YAML_CPP_VERSION);
  if (*LCRULES_RE2_VERSION) info.libraries.emplace_back("RE2", LCRULES_RE2_VERSION);
  info.libraries.emplace_back("spdlog", dotted(SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH));
  info.libraries.emplace_back("fmt", dotted(FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100));
  info.libraries.emplace_back(
      "nlohmann-json",
      dotted(NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH));
  return info;
}

nlohmann::ordered_json build_info_json(const BuildInfo& info) {
  nlohmann::ordered_json libraries = nlohmann::ordered_json::object();
  for (const auto& [name, version] : info.libraries) libraries[name] = version;
  return with_api_version({{"version", info.version},
                           {"language_version", info.language_version},
                           {"commit", info.commit},
                           {"libraries", libraries}});
}

std::string build_info_text(const BuildInfo& info) {
  std::string libraries;
  for (const auto& [name, version] : info.libraries)
    libraries += (libraries.empty() ? "" : ", ") + name + " " + version;
  return "lcrules " + info.version + " (commit " + info.commit + ")\n" + "rule language version " +
         std::to_string(info.language_version) + "\n" + "built with " + libraries + "\n";
}

}  // namespace lcrules
