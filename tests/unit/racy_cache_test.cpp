// Caches keyed on a file's stat identity (size, times, inode) on a file system with coarse
// timestamps: a file rewritten with the same size within one tick keeps its identity, so an
// entry stored for a file modified within the last tick could outlive the file's content.
// Such entries are not stored (git's racy-index rule). Coarse times are simulated by
// setting modification times explicitly.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/cache/cache_codec.hpp"
#include "engine/cache/kubeconfig_cache.hpp"
#include "engine/cache/ruleset_cache.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using lcrules::RuleFileRef;
using lcrules::RuleOrigin;
using lcrules::testing::TempDir;
namespace cache_codec = lcrules::cache_codec;
namespace kubeconfig_cache = lcrules::kubeconfig_cache;
namespace ruleset_cache = lcrules::ruleset_cache;

namespace {

// Sets the modification time of `path` to `seconds` after the current whole second
// (negative: before), with no fraction: what a file system with 1-second times records.
void set_mtime(const std::string& path, long seconds) {
  struct timespec times[2];
  REQUIRE(::clock_gettime(CLOCK_REALTIME, &times[0]) == 0);
  times[0].tv_sec += seconds;
  times[0].tv_nsec = 0;
  times[1] = times[0];
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

long entries_in(const std::string& dir) {
  if (!fs::exists(dir)) return 0;
  return std::distance(fs::directory_iterator(dir), fs::directory_iterator());
}

std::string kubeconfig_text(const std::string& current) {
  return "apiVersion: v1\nkind: Config\ncurrent-context: " + current +
         "\ncontexts:\n- name: aa\n  context: {cluster: c}\n- name: bb\n  context: {cluster: c}\n";
}

std::string rule_text(const std::string& cluster) {
  return "lcrules 1\nrule a {\n  when context.name matches /k.*/\n  set cluster = \"" + cluster + "\"\n}\n";
}

}  // namespace

TEST_CASE("a file modified within the last tick is recent; an older one is not", "[racy]") {
  TempDir dir;
  const std::string f = dir.write("f", "x");
  set_mtime(f, 0);
  CHECK(cache_codec::recently_modified(f));
  set_mtime(f, 5);  // in the future (clock skew): not trusted either
  CHECK(cache_codec::recently_modified(f));
  set_mtime(f, -3);
  CHECK_FALSE(cache_codec::recently_modified(f));
  CHECK(cache_codec::recently_modified(dir / "missing"));
}

TEST_CASE("a kubeconfig rewritten with the same size within one tick is not answered from the cache",
          "[racy][kubeconfig_cache]") {
  TempDir dir;
  const std::string cache = dir / "cache";
  const std::string config = dir.write("config", kubeconfig_text("aa"));
  const std::vector<std::string> files = {config};

  // Written in this second: read, not stored.
  set_mtime(config, 0);
  CHECK(kubeconfig_cache::load(files, false, cache).current_context() == "aa");
  CHECK(entries_in(cache) == 0);

  // kubectl rewrites it in place, same size, same second: the new content is seen.
  dir.write("config", kubeconfig_text("bb"));
  set_mtime(config, 0);
  CHECK(kubeconfig_cache::load(files, false, cache).current_context() == "bb");
  CHECK(entries_in(cache) == 0);

  // Once the file is older than a tick it is stored, and used.
  set_mtime(config, -3);
  CHECK(kubeconfig_cache::load(files, false, cache).current_context() == "bb");
  CHECK(entries_in(cache) == 1);
  CHECK(kubeconfig_cache::load(files, false, cache).current_context() == "bb");
}

TEST_CASE("a rule file rewritten with the same size within one tick is not answered from the cache",
          "[racy][ruleset_cache]") {
  TempDir dir;
  const std::string cache = dir / "cache";
  const std::string rules = dir.write("r/a.rules", rule_text("one"));
  const std::vector<RuleFileRef> files = {{rules, RuleOrigin::CommandLine}};
  const auto cluster = [&] {
    auto loaded = ruleset_cache::load_with_cache(files, cache);
    REQUIRE(loaded.rule_set);
    REQUIRE(loaded.rule_set->rules.front().sets.size() == 1);
    return std::get<lcrules::CompiledTemplate>(loaded.rule_set->rules.front().sets.front().value).spelling;
  };

  set_mtime(rules, 0);
  CHECK(cluster() == "one");
  CHECK(entries_in(cache) == 0);

  dir.write("r/a.rules", rule_text("two"));
  set_mtime(rules, 0);
  CHECK(cluster() == "two");
  CHECK(entries_in(cache) == 0);

  set_mtime(rules, -3);
  CHECK(cluster() == "two");
  CHECK(entries_in(cache) == 1);
  CHECK(cluster() == "two");
}
