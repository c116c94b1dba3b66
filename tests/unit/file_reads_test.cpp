// engine/facts/file_reads: what `read "PATH" ...` may list and read on a real file system.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/facts/file_reads.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace lcrules::file_reads;
using lcrules::testing::TempDir;

TEST_CASE("read_file reads regular files up to 1 MiB and refuses the rest", "[file_reads]") {
  TempDir dir;
  std::string out, why;
  const std::string good = dir.write("good.json", R"({"a": 1})");
  CHECK(read_file(good, out, why));
  CHECK(out == R"({"a": 1})");

  // A link to a regular file is followed.
  fs::create_symlink(good, dir / "link.json");
  CHECK(read_file(dir / "link.json", out, why));
  CHECK(out == R"({"a": 1})");

  CHECK_FALSE(read_file(dir / "missing.json", out, why));
  CHECK(why == "does not exist");
  CHECK_FALSE(read_file(dir / "good.json/x", out, why));
  CHECK(why == "does not exist");
  CHECK_FALSE(read_file(dir.str(), out, why));
  CHECK(why == "is a folder");

  // A FIFO: opening it must not wait for a writer.
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  CHECK_FALSE(read_file(dir / "fifo", out, why));
  CHECK(why == "is not a regular file");
  // A device, also through a link.
  CHECK_FALSE(read_file("/dev/zero", out, why));
  CHECK(why == "is not a regular file");
  fs::create_symlink("/dev/zero", dir / "zero");
  CHECK_FALSE(read_file(dir / "zero", out, why));
  CHECK(why == "is not a regular file");

  dir.write("max", std::string(kMaxReadFileSize, ' '));
  CHECK(read_file(dir / "max", out, why));
  CHECK(out.size() == kMaxReadFileSize);
  dir.write("over", std::string(kMaxReadFileSize + 1, ' '));
  CHECK_FALSE(read_file(dir / "over", out, why));
  CHECK(why == "is larger than 1 MiB");

  fs::create_symlink("loop", dir / "loop");
  CHECK_FALSE(read_file(dir / "loop", out, why));
  CHECK(why == "Too many levels of symbolic links");
}

TEST_CASE("list_folder lists entries by name; a link to a folder is not a folder", "[file_reads]") {
  TempDir dir;
  dir.write("profiles/b/config.json", "{}");
  dir.write("profiles/a/config.json", "{}");
  dir.write("profiles/.hidden/config.json", "{}");
  dir.write("profiles/file.txt", "x");
  fs::create_directory_symlink(dir / "profiles/a", dir / "profiles/c-link");
  std::vector<FolderEntry> entries;
  std::string why;
  REQUIRE(list_folder(dir / "profiles", entries, why) == ListResult::Listed);
  std::vector<std::pair<std::string, bool>> got;
  for (const auto& e : entries) got.emplace_back(e.name, e.folder);
  CHECK(got == std::vector<std::pair<std::string, bool>>{
                   {".hidden", true}, {"a", true}, {"b", true}, {"c-link", false}, {"file.txt", false}});

  // The folder itself may be reached through a link.
  fs::create_directory_symlink(dir / "profiles", dir / "profiles-link");
  CHECK(list_folder(dir / "profiles-link", entries, why) == ListResult::Listed);
  CHECK(entries.size() == 5);

  CHECK(list_folder(dir / "missing", entries, why) == ListResult::Missing);
  CHECK(entries.empty());
  CHECK(list_folder(dir / "profiles/file.txt", entries, why) == ListResult::Missing);

  if (::geteuid() != 0) {  // root lists any folder
    fs::create_directory(dir / "locked");
    fs::permissions(dir / "locked", fs::perms::none);
    CHECK(list_folder(dir / "locked", entries, why) == ListResult::Failed);
    CHECK(why == "Permission denied");
    fs::permissions(dir / "locked", fs::perms::owner_all);
  }
}

TEST_CASE("list_folder gives up on a folder of more than 4096 entries", "[file_reads]") {
  TempDir dir;
  fs::create_directory(dir / "many");
  for (std::size_t i = 0; i < kMaxFolderEntries; ++i) std::ofstream(dir / ("many/" + std::to_string(i)));
  std::vector<FolderEntry> entries;
  std::string why;
  CHECK(list_folder(dir / "many", entries, why) == ListResult::Listed);
  CHECK(entries.size() == kMaxFolderEntries);
  std::ofstream(dir / "many/one-more");
  CHECK(list_folder(dir / "many", entries, why) == ListResult::Failed);
  CHECK(why == "it has more than 4096 entries");
  CHECK(entries.empty());
}
