// Running external commands for command predicates: argv only (never a shell), stdin
// /dev/null, a timeout that kills the whole process group, capped output. POSIX only.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lcrules {

struct CommandRequest {
  std::vector<std::string> argv;
  std::chrono::milliseconds timeout{5000};
  // Variables to set in the child's environment on top of the parent's (KUBECONFIG).
  std::map<std::string, std::string> extra_env;
  std::optional<std::chrono::seconds> cache_ttl;  // cacheable when set
  std::vector<std::string> cache_env;             // variables the cached result depends on
};

struct CommandResult {
  enum class Status {
    Exited,
    NotFound,
    NotExecutable,
    TimedOut,
    Signaled,
    OutputTooLarge,
    SpawnFailed,
    NotRun
  };
  Status status = Status::NotRun;
  int exit_code = -1;         // Exited
  int signal = 0;             // Signaled
  std::string out;            // stdout (empty when OutputTooLarge)
  std::string err;            // stderr, capped
  std::string resolved_path;  // the binary that ran
  std::chrono::microseconds duration{0};
  bool from_cache = false;
  std::chrono::seconds cache_age{0};
  std::string reason;  // human text for non-Exited statuses: "not found on PATH", "timed out after 5s", ...

  bool succeeded() const { return status == Status::Exited && exit_code == 0; }
};

inline constexpr std::size_t kMaxCommandOutput = 4 * 1024 * 1024;

// Where command results come from: real processes, a cache in front of them, or test stubs.
class CommandExecutor {
 public:
  virtual ~CommandExecutor() = default;
  virtual CommandResult run(const CommandRequest& request) = 0;
};

// Resolves argv[0] on `path_env` (PATH); empty when not found. A name with '/' is used as is.
std::string resolve_executable(const std::string& name, const std::string& path_env);

// Runs real processes. Environment: this process's environment plus request.extra_env.
class ProcessExecutor final : public CommandExecutor {
 public:
  // `deadline`: no command may run past it (the whole evaluation's --deadline).
  explicit ProcessExecutor(std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);
  CommandResult run(const CommandRequest& request) override;

 private:
  std::optional<std::chrono::steady_clock::time_point> deadline_;
};

// How long a command's time-out is remembered in the cache (at most its cache_ttl).
inline constexpr std::chrono::seconds kCachedTimeoutTtl{60};

// A cache of results across runs, in front of another executor. Only requests with a
// cache_ttl are cached. Entries live under `dir`, written atomically (temp file + rename),
// keyed by argv, the resolved binary's path and mtime, the declared environment variables
// and what `extra_key` returns (the kubeconfig files' identities). `extra_key` is called
// once, when the first cacheable command runs: most evaluations run none, and then pay
// nothing for it. A corrupt entry is ignored.
//
// A time-out is remembered too, for kCachedTimeoutTtl, and given to a request that would
// allow the command no more than about as long (1 s more) as the run that timed out. One
// process runs a missing entry's command at a time: it holds an flock on ENTRY.lock beside
// the entry while it runs; the others wait for it (until their own time runs out, bounded
// by `deadline`), then read its result.
class CachingExecutor final : public CommandExecutor {
 public:
  CachingExecutor(CommandExecutor& inner, std::string dir, std::function<std::string()> extra_key,
                  std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);
  CommandResult run(const CommandRequest& request) override;

 private:
  CommandExecutor& inner_;
  std::string dir_;
  std::function<std::string()> extra_key_;
  std::optional<std::string> extra_key_value_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
};

// The one-shot subcommands' signals: SIGTERM, SIGINT and SIGHUP are recorded, and kill the
// process group of the command running at that moment; no command starts after one (its
// result is NotRun). The caller then finishes without writing its answer and exits with
// 128 + the signal. A signal ignored when lcrules started (nohup) stays ignored. Not for a
// process that runs commands from several threads (lcrules serve has its own handling).
void install_interrupt_handlers();

// The signal those handlers recorded, or 0.
int interrupted_by_signal();

// Refuses every command (--no-exec).
class NoExecExecutor final : public CommandExecutor {
 public:
  CommandResult run(const CommandRequest& request) override;
};

}  // namespace lcrules
