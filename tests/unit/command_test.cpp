// ProcessExecutor, resolve_executable and NoExecExecutor against small shell scripts;
// CachingExecutor's cached time-outs and its lock against concurrent runs.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/facts/command.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using lcrules::CommandRequest;
using lcrules::CommandResult;
using lcrules::ProcessExecutor;
using Status = lcrules::CommandResult::Status;
using lcrules::testing::read_file;
using lcrules::testing::TempDir;
using namespace std::chrono_literals;

namespace {

// True while `pid` is a live process (a zombie waiting for its reaper counts as dead).
// The state comes from /proc/PID/stat (tests may use /proc; lcrules itself does not):
// `ps` is not on a minimal Debian, and a missing `ps` must not make a live process look dead.
bool process_alive(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(stat_file, stat)) return ::kill(pid, 0) == 0;  // gone meanwhile, or no /proc
  const auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
  return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] != 'Z';
}

// SIGKILL is asynchronous: allow the kernel a moment to finish the job.
bool dies_soon(pid_t pid) {
  for (int i = 0; i < 100; ++i) {
    if (!process_alive(pid)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

pid_t read_pid(const std::string& path) {
  for (int i = 0; i < 100; ++i) {
    std::string text = read_file(path);
    if (!text.empty() && text.back() == '\n') return static_cast<pid_t>(std::stol(text));
    std::this_thread::sleep_for(10ms);
  }
  FAIL("no pid written to " << path);
  return -1;
}

CommandResult run(std::vector<std::string> argv, std::chrono::milliseconds timeout = 1000ms,
                  std::map<std::string, std::string> env = {}) {
  CommandRequest request;
  request.argv = std::move(argv);
  request.timeout = timeout;
  request.extra_env = std::move(env);
  ProcessExecutor executor;
  return executor.run(request);
}

// Sets a variable for the scope, restoring the previous value (or its absence) after.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> old;
  ScopedEnv(std::string n, const char* value) : name(std::move(n)) {
    if (const char* v = ::getenv(name.c_str())) old = v;
    ::setenv(name.c_str(), value, 1);
  }
  ~ScopedEnv() {
    if (old) {
      ::setenv(name.c_str(), old->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }
};

// Descriptors open in this process, with their close-on-exec flag.
std::map<int, bool> open_fds() {
  std::map<int, bool> fds;
  for (int fd = 0; fd < 256; ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) fds[fd] = (flags & FD_CLOEXEC) != 0;
  }
  return fds;
}

}  // namespace

TEST_CASE("arguments reach the command unchanged, one argv element each", "[command]") {
  TempDir dir;
  std::string echo = dir.script("args", "for a in \"$@\"; do printf '<%s>\\n' \"$a\"; done\n");
  std::vector<std::string> args = {
      echo, "two words", "it's \"quoted\"", "a;b",      "$(touch pwned)", "`id`", "*",
      "",   "x|y",       "$HOME",           "new\nline"};
  CommandResult r = run(args);
  REQUIRE(r.status == Status::Exited);
  CHECK(r.exit_code == 0);
  std::string expected;
  for (std::size_t i = 1; i < args.size(); ++i) expected += "<" + args[i] + ">\n";
  CHECK(r.out == expected);
  CHECK(!fs::exists("pwned"));
  CHECK(r.resolved_path == echo);
  CHECK(r.duration > 0us);
  CHECK(r.reason.empty());
  CHECK_FALSE(r.from_cache);
}

TEST_CASE("stdin is /dev/null", "[command]") {
  TempDir dir;
  std::string s = dir.script("stdin", "if [ /dev/stdin -ef /dev/null ]; then echo null; fi\ncat\necho end\n");
  CommandResult r = run({s});
  REQUIRE(r.status == Status::Exited);
  CHECK(r.out == "null\nend\n");
}

TEST_CASE("exit codes, stdout and stderr", "[command]") {
  TempDir dir;
  std::string s = dir.script("codes", "echo out; echo oops >&2; exit \"$1\"\n");
  CommandResult ok = run({s, "0"});
  REQUIRE(ok.status == Status::Exited);
  CHECK(ok.succeeded());
  CHECK(ok.out == "out\n");
  CHECK(ok.err == "oops\n");

  CommandResult three = run({s, "3"});
  REQUIRE(three.status == Status::Exited);
  CHECK(three.exit_code == 3);
  CHECK_FALSE(three.succeeded());
  CHECK(three.err == "oops\n");
}

TEST_CASE("stderr is capped but the command still completes", "[command]") {
  TempDir dir;
  // 200 KiB on stderr, then a line on stdout: the pipe must keep being drained.
  std::string s = dir.script("noisy", "head -c 204800 /dev/zero | tr '\\0' e >&2; echo done\n");
  CommandResult r = run({s});
  REQUIRE(r.status == Status::Exited);
  CHECK(r.out == "done\n");
  CHECK(r.err.size() == 64 * 1024);
  CHECK(r.err.find_first_not_of('e') == std::string::npos);
}

TEST_CASE("a signal ends the command", "[command]") {
  TempDir dir;
  std::string s = dir.script("selfkill", "kill -TERM $$\nsleep 1\n");
  CommandResult r = run({s});
  REQUIRE(r.status == Status::Signaled);
  CHECK(r.signal == SIGTERM);
}

TEST_CASE("a command missing from PATH is not found", "[command]") {
  CommandResult r = run({"lcrules-no-such-command-3f9a"});
  CHECK(r.status == Status::NotFound);
  CHECK(r.reason == "lcrules-no-such-command-3f9a: not found on PATH");

  TempDir dir;
  CommandResult slash = run({dir / "missing"});
  CHECK(slash.status == Status::NotFound);
}

TEST_CASE("a file without execute permission is not executable", "[command]") {
  TempDir dir;
  std::string s = dir.script("plain", "echo hi\n", fs::perms::owner_read | fs::perms::owner_write);
  CommandResult direct = run({s});
  CHECK(direct.status == Status::NotExecutable);
  CHECK_THAT(direct.reason, Catch::Contains("plain"));

  CommandResult via_path = run({"plain"}, 1000ms, {{"PATH", dir.str()}});
  CHECK(via_path.status == Status::NotExecutable);

  fs::create_directory(dir.path() / "adir");
  CommandResult directory = run({dir / "adir"});
  CHECK(directory.status == Status::NotExecutable);
}

TEST_CASE("commands are looked up on PATH; the environment is passed with extra_env on top", "[command]") {
  TempDir dir;
  dir.script("envtool", "printf '%s|%s|%s\\n' \"$LCRULES_TEST_INHERITED\" \"$KUBECONFIG\" \"$PATH\"\n");
  ScopedEnv inherited("LCRULES_TEST_INHERITED", "from-parent");
  ScopedEnv kubeconfig("KUBECONFIG", "/parent/config");
  std::string path = "/nonexistent-dir:" + dir.str() + ":/usr/bin:/bin";
  CommandResult r = run({"envtool"}, 1000ms, {{"PATH", path}, {"KUBECONFIG", "/a/config:/b/config"}});
  REQUIRE(r.status == Status::Exited);
  CHECK(r.out == "from-parent|/a/config:/b/config|" + path + "\n");
  CHECK(r.resolved_path == dir / "envtool");
}

TEST_CASE("resolve_executable", "[command]") {
  TempDir dir;
  fs::create_directories(dir.path() / "a" / "tool");  // a directory named like the tool
  fs::create_directories(dir.path() / "b");
  fs::create_directories(dir.path() / "c");
  std::ofstream(dir.path() / "b" / "tool") << "not executable\n";
  fs::permissions(dir.path() / "b" / "tool", fs::perms::owner_read | fs::perms::owner_write);
  std::ofstream(dir.path() / "c" / "tool") << "#!/bin/sh\n";
  fs::permissions(dir.path() / "c" / "tool", fs::perms::owner_all);
  std::string a = dir / "a", b = dir / "b", c = dir / "c";

  CHECK(lcrules::resolve_executable("tool", a + ":" + b + ":" + c) == c + "/tool");
  CHECK(lcrules::resolve_executable("tool", a + ":" + b) == "");
  CHECK(lcrules::resolve_executable("tool", "") == "");
  CHECK(lcrules::resolve_executable("tool", "::" + c + "/") == c + "/tool");
  CHECK(lcrules::resolve_executable("", c) == "");
  CHECK(lcrules::resolve_executable(c + "/tool", "") == c + "/tool");  // a name with '/' as is
  // Relative PATH entries are not searched (the result would depend on the working directory).
  CHECK(lcrules::resolve_executable("tool", ".") == "");
}

TEST_CASE("a timeout kills the whole process group", "[command]") {
  TempDir dir;
  std::string pidfile = dir / "pid";
  std::string s = dir.script("hang", "sleep 100 &\necho $! > \"$1\"\necho started\nsleep 100\n");
  CommandResult r = run({s, pidfile}, 500ms);
  CHECK(r.status == Status::TimedOut);
  CHECK(r.reason == "timed out after 500ms");
  CHECK(r.out == "started\n");
  pid_t grandchild = read_pid(pidfile);
  CHECK(dies_soon(grandchild));
}

TEST_CASE("a command that closes its output and keeps running still times out", "[command]") {
  TempDir dir;
  std::string s = dir.script("quiet", "exec >/dev/null 2>&1\nexec sleep 100\n");
  CommandResult r = run({s}, 200ms);
  CHECK(r.status == Status::TimedOut);
}

TEST_CASE("an exited command whose background child holds the pipes returns", "[command]") {
  TempDir dir;
  std::string pidfile = dir / "pid";
  std::string s = dir.script("daemonish", "sleep 100 &\necho $! > \"$1\"\necho hello\nexit 4\n");
  CommandResult r = run({s, pidfile}, 1000ms);
  REQUIRE(r.status == Status::Exited);
  CHECK(r.exit_code == 4);
  CHECK(r.out == "hello\n");
  pid_t grandchild = read_pid(pidfile);
  CHECK(dies_soon(grandchild));
}

TEST_CASE("output over the cap is refused and the producer killed", "[command]") {
  TempDir dir;
  std::string s = dir.script("flood", "exec yes 0123456789abcdef0123456789abcdef\n");
  CommandResult r = run({s}, 1000ms);
  CHECK(r.status == Status::OutputTooLarge);
  CHECK(r.out.empty());
  CHECK_THAT(r.reason, Catch::Contains("output larger than 4 MiB"));
}

TEST_CASE("output exactly at the cap is accepted", "[command]") {
  TempDir dir;
  std::string s =
      dir.script("exact", "head -c " + std::to_string(lcrules::kMaxCommandOutput) + " /dev/zero\n");
  CommandResult r = run({s}, 1000ms);
  REQUIRE(r.status == Status::Exited);
  CHECK(r.out.size() == lcrules::kMaxCommandOutput);
}

TEST_CASE("the evaluation deadline caps a command's timeout", "[command]") {
  TempDir dir;
  std::string s = dir.script("slow", "exec sleep 100\n");
  CommandRequest request;
  request.argv = {s};
  request.timeout = 5000ms;
  ProcessExecutor executor(std::chrono::steady_clock::now() + 200ms);
  CommandResult r = executor.run(request);
  CHECK(r.status == Status::TimedOut);
  CHECK_THAT(r.reason, Catch::Contains("evaluation deadline"));

  ProcessExecutor past(std::chrono::steady_clock::now() - 1ms);
  CommandResult none = past.run(request);
  CHECK(none.status == Status::TimedOut);
}

TEST_CASE("no descriptors leak into the command or out of run()", "[command]") {
  TempDir dir;
  std::string s = dir.script("fds",
                             "for fd in 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19; do\n"
                             "  if (: <&$fd) 2>/dev/null || (: >&$fd) 2>/dev/null; then echo $fd; fi\n"
                             "done\n");
  auto before = open_fds();
  CommandResult r = run({s});
  auto after = open_fds();
  CHECK(before == after);
  REQUIRE(r.status == Status::Exited);
  // Whatever the command sees above stderr must be an inheritable descriptor of ours.
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    int fd = std::stoi(line);
    INFO("descriptor " << fd << " leaked into the command");
    CHECK((before.count(fd) == 1 && !before[fd]));
  }
}

TEST_CASE("an empty argv fails to spawn", "[command]") {
  CommandResult r = run({});
  CHECK(r.status == Status::SpawnFailed);
}

TEST_CASE("NoExecExecutor runs nothing", "[command]") {
  lcrules::NoExecExecutor executor;
  CommandRequest request;
  request.argv = {"/bin/true"};
  CommandResult r = executor.run(request);
  CHECK(r.status == Status::NotRun);
  CHECK(r.reason == "commands are disabled (--no-exec)");
}

namespace {

// Returns a canned result after a delay, counting runs (from several threads).
struct SlowStub final : lcrules::CommandExecutor {
  CommandResult canned;
  std::chrono::milliseconds delay{0};
  std::atomic<int> calls{0};
  CommandResult run(const CommandRequest&) override {
    ++calls;
    std::this_thread::sleep_for(delay);
    return canned;
  }
};

CommandRequest cacheable(const std::string& tool, std::chrono::milliseconds timeout = 1000ms) {
  CommandRequest r;
  r.argv = {tool};
  r.timeout = timeout;
  r.cache_ttl = 600s;
  return r;
}

}  // namespace

TEST_CASE("a time-out is cached for a while, shown as such, for requests that would not wait longer",
          "[command][cache]") {
  TempDir dir;
  const std::string tool = dir.script("tool", "exit 0\n");
  const std::string cache = (dir.path() / "cache").string();
  SlowStub stub;
  stub.canned.status = Status::TimedOut;
  stub.canned.reason = "timed out after 1s";
  stub.canned.resolved_path = tool;
  lcrules::CachingExecutor cached(stub, cache, [] { return std::string(); });

  CHECK_FALSE(cached.run(cacheable(tool)).from_cache);
  CommandResult again = cached.run(cacheable(tool));
  CHECK(stub.calls == 1);
  CHECK(again.status == Status::TimedOut);
  CHECK(again.from_cache);
  CHECK(again.reason == "timed out after 1s (a cached time-out)");
  // Within the second of slack: still the cached time-out.
  CHECK(cached.run(cacheable(tool, 1800ms)).from_cache);
  CHECK(stub.calls == 1);
  // A request that would let the command run much longer runs it again.
  CHECK_FALSE(cached.run(cacheable(tool, 5000ms)).from_cache);
  CHECK(stub.calls == 2);
  // A deadline that leaves the command less time than that uses it, whatever the timeout.
  lcrules::CachingExecutor bounded(stub, cache, [] { return std::string(); },
                                   std::chrono::steady_clock::now() + 500ms);
  CHECK(bounded.run(cacheable(tool, 5000ms)).from_cache);
  CHECK(stub.calls == 2);
}

TEST_CASE("concurrent misses of one cache entry run the command once", "[command][cache]") {
  TempDir dir;
  const std::string tool = dir.script("tool", "exit 0\n");
  const std::string cache = (dir.path() / "cache").string();
  SlowStub stub;
  stub.canned.status = Status::Exited;
  stub.canned.exit_code = 0;
  stub.canned.out = "ok\n";
  stub.canned.resolved_path = tool;
  stub.delay = 400ms;
  // One executor per thread, as one per process: only the lock file is shared.
  constexpr int kRuns = 4;
  std::vector<CommandResult> results(kRuns);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRuns; ++i) {
    threads.emplace_back([&, i] {
      lcrules::CachingExecutor cached(stub, cache, [] { return std::string(); });
      results[static_cast<std::size_t>(i)] = cached.run(cacheable(tool));
    });
  }
  for (auto& t : threads) t.join();
  CHECK(stub.calls == 1);
  int from_cache = 0;
  for (const auto& r : results) {
    CHECK(r.status == Status::Exited);
    CHECK(r.out == "ok\n");
    from_cache += r.from_cache ? 1 : 0;
  }
  CHECK(from_cache == kRuns - 1);
}

TEST_CASE("a wait for another's run of the command ends at the deadline", "[command][cache]") {
  TempDir dir;
  const std::string tool = dir.script("tool", "exit 0\n");
  const std::string cache = (dir.path() / "cache").string();
  SlowStub stub;
  stub.canned.status = Status::Exited;
  stub.canned.exit_code = 0;
  stub.canned.resolved_path = tool;
  stub.delay = 1500ms;
  std::thread holder([&] {
    lcrules::CachingExecutor cached(stub, cache, [] { return std::string(); });
    cached.run(cacheable(tool, 5000ms));
  });
  while (stub.calls == 0) std::this_thread::sleep_for(5ms);
  lcrules::CachingExecutor waiting(stub, cache, [] { return std::string(); },
                                   std::chrono::steady_clock::now() + 200ms);
  const auto start = std::chrono::steady_clock::now();
  CommandResult r = waiting.run(cacheable(tool, 5000ms));
  const auto waited = std::chrono::steady_clock::now() - start;
  holder.join();
  CHECK(r.status == Status::TimedOut);
  CHECK(r.reason == "timed out waiting for another lcrules running the same command");
  CHECK(waited < 1200ms);
  CHECK(stub.calls == 1);
}
