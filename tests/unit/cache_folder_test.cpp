// The cache folder: temporary entries left by a run killed while it wrote are removed once
// stale; no cache folder is created in a folder the caller does not own (root running with
// a user's HOME must not leave a root-owned ~/.cache there).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "engine/cache/cache_store.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using lcrules::testing::TempDir;
namespace cache_store = lcrules::cache_store;

namespace {

void age(const std::string& path, long seconds) {
  struct timespec times[2];
  REQUIRE(::clock_gettime(CLOCK_REALTIME, &times[0]) == 0);
  times[0].tv_sec -= seconds;
  times[1] = times[0];
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

}  // namespace

TEST_CASE("stale temporary entries are removed when the cache folder is next used", "[cache_store]") {
  TempDir tmp;
  const std::string dir = tmp / "cache/lcrules";
  REQUIRE(cache_store::usable_dir(dir));
  const std::string stale = tmp.write("cache/lcrules/rules-0123456789abcdef.bin.tmp.AbC123", "half");
  const std::string fresh = tmp.write("cache/lcrules/rules-0123456789abcdef.bin.tmp.XyZ789", "writing");
  const std::string entry = tmp.write("cache/lcrules/rules-0123456789abcdef.bin", "entry");
  const std::string other = tmp.write("cache/lcrules/notes.tmp.txt", "not ours");
  for (const auto& f : {stale, entry, other}) age(f, 120);
  age(fresh, 30);
  CHECK(cache_store::usable_dir(dir));
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(fresh));  // a run may still be writing it
  CHECK(fs::exists(entry));
  CHECK(fs::exists(other));
}

TEST_CASE("no cache folder is created in a folder the caller does not own", "[cache_store]") {
  if (::geteuid() != 0) {
    WARN("not run: needs root (to own a folder by another user)");
    return;
  }
  TempDir tmp;
  const std::string home = tmp / "home";
  fs::create_directories(home);
  REQUIRE(::chown(home.c_str(), 4242, 4242) == 0);
  CHECK_FALSE(cache_store::usable_dir(home + "/.cache/lcrules"));
  CHECK_FALSE(fs::exists(home + "/.cache"));
  // A ~/.cache of the user's: nothing is created in it either.
  fs::create_directories(home + "/.cache");
  REQUIRE(::chown((home + "/.cache").c_str(), 4242, 4242) == 0);
  CHECK_FALSE(cache_store::usable_dir(home + "/.cache/lcrules"));
  CHECK_FALSE(fs::exists(home + "/.cache/lcrules"));
  // In the caller's own folders, and in a sticky one (/tmp), folders are created.
  CHECK(cache_store::usable_dir(tmp / "own/.cache/lcrules"));
  const std::string sticky = tmp / "sticky";
  fs::create_directories(sticky);
  REQUIRE(::chown(sticky.c_str(), 4242, 4242) == 0);
  REQUIRE(::chmod(sticky.c_str(), 01777) == 0);
  CHECK(cache_store::usable_dir(sticky + "/root-cache"));
}
