// Helpers shared by the unit tests.
#pragma once

#include <stdlib.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace lcrules::testing {

// A temporary folder for one test, created under the system's temporary folder as
// PREFIX-XXXXXX and removed with everything in it afterwards (kept when LCRULES_KEEP_TMP is
// set, to look at after a failure). Its path is canonical, so it compares equal to paths
// that lcrules resolves.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "lcrules") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = std::filesystem::canonical(tmpl);
    str_ = path_.string();
  }
  ~TempDir() {
    std::error_code ec;
    // A test may have taken the owner's permissions away; removal needs them back.
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add,
                                 ec);
    if (!std::getenv("LCRULES_KEEP_TMP")) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const std::string& str() const { return str_; }

  // The absolute path of `rel` in the folder.
  std::string operator/(const std::string& rel) const { return str_ + "/" + rel; }

  // Writes `text` to `rel` (creating its folders) and returns the absolute path.
  std::string write(const std::string& rel, const std::string& text) const {
    const std::filesystem::path p = path_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

  // Writes a /bin/sh script `name` running `body`, with permissions `mode`; returns its path.
  std::string script(const std::string& name, const std::string& body,
                     std::filesystem::perms mode = std::filesystem::perms::owner_all) const {
    const std::filesystem::path p = path_ / name;
    std::ofstream(p) << "#!/bin/sh\n" << body;
    std::filesystem::permissions(p, mode);
    return p.string();
  }

 private:
  std::filesystem::path path_;
  std::string str_;
};

// The whole content of a file; empty when it cannot be read.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Random inputs for "never crashes" tests, drawn from `rng`: `count` strings of any bytes,
// each shorter than `max_size`.
inline std::vector<std::string> random_bytes(std::mt19937& rng, int count, unsigned max_size) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    std::string junk(static_cast<std::size_t>(rng() % max_size), '\0');
    for (char& c : junk) c = static_cast<char>(rng() & 0xFF);
    out.push_back(std::move(junk));
  }
  return out;
}

// As random_bytes, but made of YAML punctuation, whitespace and a few letters and digits.
inline std::vector<std::string> random_yaml_punctuation(std::mt19937& rng, int count, unsigned max_size) {
  const std::string alphabet = "[]{}:,-?!&*|>'\"#%@` \n\tabc01";
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    std::string junk(static_cast<std::size_t>(rng() % max_size), ' ');
    for (char& c : junk) c = alphabet[rng() % alphabet.size()];
    out.push_back(std::move(junk));
  }
  return out;
}

}  // namespace lcrules::testing
