// CachingExecutor: hits run no process; keys cover argv, binary, environment, extra key.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "engine/facts/command.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using lcrules::CachingExecutor;
using lcrules::CommandExecutor;
using lcrules::CommandRequest;
using lcrules::CommandResult;
using lcrules::ProcessExecutor;
using Status = lcrules::CommandResult::Status;
using lcrules::testing::read_file;
using lcrules::testing::TempDir;
using namespace std::chrono_literals;

namespace {

std::size_t line_count(const fs::path& path) {
  std::string text = read_file(path);
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

std::vector<fs::path> entries(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::exists(dir)) return files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  return files;
}

// A command that logs every run, so the test can count the processes that ran.
struct Fixture {
  TempDir tmp;
  fs::path log = tmp.path() / "runs.log";
  fs::path cache = tmp.path() / "cache" / "nested";
  std::string tool;
  ProcessExecutor processes;
  Fixture() {
    tool = (tmp.path() / "tool").string();
    std::ofstream(tool) << "#!/bin/sh\necho run >> '" << log.string()
                        << "'\necho \"value=$LCRULES_CACHE_TEST_VAR\"\necho note >&2\nexit 3\n";
    fs::permissions(tool, fs::perms::owner_all);
  }
  CommandRequest request(std::optional<std::chrono::seconds> ttl = 600s) const {
    CommandRequest r;
    r.argv = {tool, "--flag", "with space"};
    r.timeout = 1000ms;
    r.cache_ttl = ttl;
    r.cache_env = {"LCRULES_CACHE_TEST_VAR"};
    return r;
  }
  std::size_t runs() const { return fs::exists(log) ? line_count(log) : 0; }
};

// Returns a canned result without running anything, counting calls.
struct StubExecutor final : CommandExecutor {
  CommandResult canned;
  int calls = 0;
  CommandResult run(const CommandRequest&) override {
    ++calls;
    return canned;
  }
};

}  // namespace

TEST_CASE("a cache hit runs no process", "[cache]") {
  Fixture f;
  ::unsetenv("LCRULES_CACHE_TEST_VAR");
  CachingExecutor cached(f.processes, f.cache.string(), [] { return std::string("kubeconfig-mtimes"); });
  CommandResult first = cached.run(f.request());
  REQUIRE(first.status == Status::Exited);
  CHECK(first.exit_code == 3);
  CHECK_FALSE(first.from_cache);

  CommandResult second = cached.run(f.request());
  CHECK(f.runs() == 1);
  REQUIRE(second.status == Status::Exited);
  CHECK(second.from_cache);
  CHECK(second.exit_code == 3);
  CHECK(second.out == first.out);
  CHECK(second.err == "note\n");
  CHECK(second.resolved_path == f.tool);
  CHECK(second.cache_age <= 1s);

  // The directory was created with its parents, private to the user; one entry in it.
  struct stat st;
  REQUIRE(::stat(f.cache.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  auto files = entries(f.cache);
  REQUIRE(files.size() == 1);
  std::string name = files[0].filename().string();
  CHECK(name.size() == 16 + 5);
  CHECK(name.substr(16) == ".json");
}

TEST_CASE("requests without a ttl are not cached", "[cache]") {
  Fixture f;
  CachingExecutor cached(f.processes, f.cache.string(), [] { return std::string(""); });
  cached.run(f.request(std::nullopt));
  CommandResult second = cached.run(f.request(std::nullopt));
  CHECK(f.runs() == 2);
  CHECK_FALSE(second.from_cache);
}

TEST_CASE("the kubeconfig key is worked out once, and only when a cacheable command runs", "[cache]") {
  Fixture f;
  int asked = 0;
  CachingExecutor cached(f.processes, f.cache.string(), [&asked] {
    ++asked;
    return std::string("kubeconfig-identities");
  });
  cached.run(f.request(std::nullopt));
  CHECK(asked == 0);
  cached.run(f.request());
  CHECK(cached.run(f.request()).from_cache);
  CHECK(asked == 1);
}

TEST_CASE("an expired entry is not used", "[cache]") {
  Fixture f;
  CachingExecutor cached(f.processes, f.cache.string(), [] { return std::string(""); });
  cached.run(f.request(60s));
  auto files = entries(f.cache);
  REQUIRE(files.size() == 1);
  auto entry = nlohmann::json::parse(read_file(files[0]));
  entry["created_unix"] = entry["created_unix"].get<std::int64_t>() - 61;
  std::ofstream(files[0]) << entry.dump();

  CommandResult r = cached.run(f.request(60s));
  CHECK(f.runs() == 2);
  CHECK_FALSE(r.from_cache);
  CHECK(cached.run(f.request(60s)).from_cache);  // rewritten by the second run
  CHECK(f.runs() == 2);
}

TEST_CASE("a declared environment variable's value is part of the key", "[cache]") {
  Fixture f;
  CachingExecutor cached(f.processes, f.cache.string(), [] { return std::string(""); });
  ::setenv("LCRULES_CACHE_TEST_VAR", "one", 1);
  CHECK(cached.run(f.request()).out == "value=one\n");
  ::setenv("LCRULES_CACHE_TEST_VAR", "two", 1);
  CommandResult two = cached.run(f.request());
  CHECK(two.out == "value=two\n");
  CHECK_FALSE(two.from_cache);
  CHECK(f.runs() == 2);
  ::unsetenv("LCRULES_CACHE_TEST_VAR");  // unset differs from empty and from "one"
  CHECK_FALSE(cached.run(f.request()).from_cache);
  ::setenv("LCRULES_CACHE_TEST_VAR", "one", 1);
  CommandResult again = cached.run(f.request());
  CHECK(again.from_cache);
  CHECK(again.out == "value=one\n");
  CHECK(f.runs() == 3);
  ::unsetenv("LCRULES_CACHE_TEST_VAR");
}

TEST_CASE("the argv and the extra key are part of the key", "[cache]") {
  Fixture f;
  CachingExecutor a(f.processes, f.cache.string(), [] { return std::string("mtimes-a"); });
  CachingExecutor b(f.processes, f.cache.string(), [] { return std::string("mtimes-b"); });
  a.run(f.request());
  CHECK_FALSE(b.run(f.request()).from_cache);
  auto other = f.request();
  other.argv.back() = "with  space";
  CHECK_FALSE(a.run(other).from_cache);
  CHECK(f.runs() == 3);
  CHECK(a.run(f.request()).from_cache);
  CHECK(b.run(f.request()).from_cache);
}

TEST_CASE("a change of the binary's mtime misses", "[cache]") {
  Fixture f;
  CachingExecutor cached(f.processes, f.cache.string(), [] { return std::string(""); });
  cached.run(f.request());
  struct timespec times[2];
  times[0].tv_sec = 1'600'000'000;
  times[0].tv_nsec = 0;
  times[1] = times[0];
  REQUIRE(::utimensat(AT_FDCWD, f.tool.c_str(), times, 0) == 0);
  CHECK_FALSE(cached.run(f.request()).from_cache);
  times[1].tv_nsec = 1;  // a nanosecond is a change
  REQUIRE(::utimensat(AT_FDCWD, f.tool.c_str(), times, 0) == 0);
  CHECK_FALSE(cached.run(f.request()).from_cache);
  CHECK(f.runs() == 3);
  CHECK(cached.run(f.request()).from_cache);
}

TEST_CASE("a corrupt, truncated or foreign entry is ignored and overwritten", "[cache]") {
  Fixture f;
  CachingExecutor cached(f.processes, f.cache.string(), [] { return std::string(""); });
  cached.run(f.request());
  auto files = entries(f.cache);
  REQUIRE(files.size() == 1);
  std::string good = read_file(files[0]);

  SECTION("garbage") { std::ofstream(files[0]) << "\x01\x02 not json"; }
  SECTION("truncated") { std::ofstream(files[0]) << good.substr(0, good.size() / 2); }
  SECTION("empty") { std::ofstream(files[0]) << ""; }
  SECTION("wrong types") {
    auto entry = nlohmann::json::parse(good);
    entry["exit_code"] = "3";
    std::ofstream(files[0]) << entry.dump();
  }
  SECTION("another key under the same name (a hash collision)") {
    auto entry = nlohmann::json::parse(good);
    entry["key"] = "something else";
    std::ofstream(files[0]) << entry.dump();
  }
  SECTION("not a timed-out result") {
    auto entry = nlohmann::json::parse(good);
    entry["status"] = "timed_out";
    std::ofstream(files[0]) << entry.dump();
  }

  CommandResult r = cached.run(f.request());
  CHECK_FALSE(r.from_cache);
  CHECK(r.exit_code == 3);
  CHECK(f.runs() == 2);
  CHECK(cached.run(f.request()).from_cache);
  CHECK(f.runs() == 2);
}

TEST_CASE("only exited results are cached", "[cache]") {
  Fixture f;
  StubExecutor stub;
  stub.canned.status = Status::TimedOut;
  stub.canned.reason = "timed out after 1s";
  CachingExecutor cached(stub, f.cache.string(), [] { return std::string(""); });
  cached.run(f.request());
  CommandResult r = cached.run(f.request());
  CHECK(stub.calls == 2);
  CHECK(r.status == Status::TimedOut);
  CHECK(entries(f.cache).empty());

  // A command that is not found is not cached either (nothing to key it on).
  auto missing = f.request();
  missing.argv = {"lcrules-no-such-command-3f9a"};
  CachingExecutor real(f.processes, f.cache.string(), [] { return std::string(""); });
  CHECK(real.run(missing).status == Status::NotFound);
  CHECK(entries(f.cache).empty());
}

TEST_CASE("a cache directory others can write to is not used", "[cache]") {
  Fixture f;
  fs::create_directories(f.cache);
  fs::permissions(f.cache, fs::perms::all);
  CachingExecutor cached(f.processes, f.cache.string(), [] { return std::string(""); });
  cached.run(f.request());
  CHECK_FALSE(cached.run(f.request()).from_cache);
  CHECK(f.runs() == 2);
  CHECK(entries(f.cache).empty());
}

TEST_CASE("entries are written atomically: readers never see a partial file", "[cache]") {
  Fixture f;
  StubExecutor stub;
  stub.canned.status = Status::Exited;
  stub.canned.exit_code = 0;
  stub.canned.out = std::string(256 * 1024, 'x');
  CachingExecutor cached(stub, f.cache.string(), [] { return std::string(""); });
  auto request = f.request(0s);  // every run misses and rewrites the same entry

  cached.run(request);
  auto files = entries(f.cache);
  REQUIRE(files.size() == 1);
  const fs::path entry = files[0];

  std::atomic<bool> done{false};
  std::atomic<int> partial{0}, complete{0};
  std::thread reader([&] {
    while (!done) {
      std::string text = read_file(entry);
      // The name always exists (rename replaces it), so an empty read is a partial file too.
      auto parsed = nlohmann::json::parse(text, nullptr, false);
      if (parsed.is_discarded() || parsed.value("out", std::string()).size() != 256 * 1024) {
        ++partial;
      } else {
        ++complete;
      }
    }
  });
  for (int i = 0; i < 20; ++i) cached.run(request);
  done = true;
  reader.join();
  CHECK(partial == 0);
  CHECK(complete > 0);
  CHECK(stub.calls == 21);
  // Only the entry remains: no temporary files left behind.
  CHECK(entries(f.cache) == std::vector<fs::path>{entry});
}
