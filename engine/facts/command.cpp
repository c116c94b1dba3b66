// Running external commands: fork and execve with argv only, pipes read with poll(), the
// child in its own process group which is always SIGKILLed before run() returns.
#include "engine/facts/command.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/cache/cache_store.hpp"

extern char** environ;

namespace lcrules {

namespace {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------
// Interruption of the one-shot subcommands (install_interrupt_handlers). The only global
// mutable state of this file, and only because a signal handler can reach nothing else:
// the signal received (0: none), and the process group of the command running now (0:
// none) so that the handler can kill it at once. Both are written by the one thread that
// runs commands and by the handler that interrupts that thread.
volatile std::sig_atomic_t g_interrupt_signal = 0;
std::atomic<pid_t> g_running_group{0};
static_assert(std::atomic<pid_t>::is_always_lock_free, "used from a signal handler");

extern "C" void on_interrupt_signal(int sig) {
  const int saved_errno = errno;
  if (g_interrupt_signal == 0) g_interrupt_signal = sig;
  const pid_t group = g_running_group.load();
  if (group > 0) ::kill(-group, SIGKILL);
  errno = saved_errno;
}

constexpr std::size_t kMaxStderr = 64 * 1024;
// How long output pipes may stay open after the direct child has exited (a background
// grandchild holding them) before the process group is killed.
constexpr std::chrono::milliseconds kExitGrace{100};
// How often the child is checked for exit while its pipes are still open.
constexpr std::chrono::milliseconds kExitCheckInterval{10};

// ---------------------------------------------------------------------------------------
// Small POSIX helpers.

// A file descriptor closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);  // no retry on EINTR: the descriptor is gone either way
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

[[maybe_unused]] bool set_cloexec(int fd) {
  int flags = ::fcntl(fd, F_GETFD);
  return flags >= 0 && ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0;
}

bool set_nonblock(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

// A close-on-exec pipe whose ends are both above stderr, so the child's dup2 onto
// 0/1/2 never hits one of them (when this process runs with a standard stream closed).
bool make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
#else
  if (::pipe(fds) != 0) return false;
  if (!set_cloexec(fds[0]) || !set_cloexec(fds[1])) {
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
#endif
  Fd ends[2] = {Fd(fds[0]), Fd(fds[1])};
  for (auto& end : ends) {
    if (end.get() <= STDERR_FILENO) {
      int moved = ::fcntl(end.get(), F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
      if (moved < 0) return false;
      end.reset(moved);
    }
  }
  read_end = std::move(ends[0]);
  write_end = std::move(ends[1]);
  return true;
}

std::string default_path() {
#ifdef _CS_PATH
  std::size_t n = ::confstr(_CS_PATH, nullptr, 0);
  if (n > 0) {
    std::string buf(n, '\0');
    ::confstr(_CS_PATH, buf.data(), n);
    buf.resize(n - 1);
    return buf;
  }
#endif
  return "/usr/bin:/bin";
}

// The PATH a request's argv[0] is looked up on: the request's own PATH when it sets
// one (that is what the command sees), else this process's.
std::string request_path(const CommandRequest& request) {
  if (auto it = request.extra_env.find("PATH"); it != request.extra_env.end()) return it->second;
  if (const char* path = ::getenv("PATH")) return path;
  return default_path();
}

// Outcome of looking a command name up.
struct Lookup {
  enum class Kind { Found, NotFound, NotExecutable } kind = Kind::NotFound;
  std::string path;    // Found: the binary; NotExecutable: the file that is not runnable
  std::string detail;  // NotExecutable: why
};

bool is_executable_file(const std::string& path, bool* exists_but_not_runnable, std::string* why) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return false;
  if (!S_ISREG(st.st_mode)) {
    *exists_but_not_runnable = true;
    *why = S_ISDIR(st.st_mode) ? "is a directory" : "is not a regular file";
    return false;
  }
  if (::access(path.c_str(), X_OK) != 0) {
    *exists_but_not_runnable = true;
    *why = "permission denied";
    return false;
  }
  return true;
}

Lookup look_up(const std::string& name, const std::string& path_env) {
  Lookup result;
  if (name.empty()) return result;
  bool not_runnable = false;
  std::string why;
  if (name.find('/') != std::string::npos) {
    if (is_executable_file(name, &not_runnable, &why)) {
      result.kind = Lookup::Kind::Found;
      result.path = name;
    } else if (not_runnable) {
      result.kind = Lookup::Kind::NotExecutable;
      result.path = name;
      result.detail = why;
    }
    return result;
  }
  std::size_t start = 0;
  while (start <= path_env.size()) {
    std::size_t end = path_env.find(':', start);
    if (end == std::string::npos) end = path_env.size();
    std::string dir = path_env.substr(start, end - start);
    start = end + 1;
    // Empty and relative entries would make the result depend on the working directory
    // (a planted ./minikube); they are skipped.
    if (dir.empty() || dir.front() != '/') continue;
    std::string candidate = dir.back() == '/' ? dir + name : dir + "/" + name;
    bool here_not_runnable = false;
    std::string here_why;
    if (is_executable_file(candidate, &here_not_runnable, &here_why)) {
      result.kind = Lookup::Kind::Found;
      result.path = std::move(candidate);
      return result;
    }
    if (here_not_runnable && !not_runnable) {
      not_runnable = true;
      result.path = candidate;
      why = here_why;
    }
  }
  if (not_runnable) {
    result.kind = Lookup::Kind::NotExecutable;
    result.detail = why;
  } else {
    result.path.clear();
  }
  return result;
}

std::string format_duration(std::chrono::milliseconds d) {
  long long ms = d.count();
  if (ms < 0) ms = 0;
  if (ms < 1000) return std::to_string(ms) + "ms";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3gs", static_cast<double>(ms) / 1000.0);
  return buf;
}

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

// The child's environment: ours, with request.extra_env replacing or adding variables.
std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::size_t eq = entry.find('=');
    std::string name(entry.substr(0, eq));
    if (extra.count(name) != 0) continue;
    env.emplace_back(entry);
  }
  for (const auto& [name, value] : extra) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Writes all of `data` from a child between fork and exec (async-signal-safe).
[[noreturn]] void write_errno_and_exit(int fd, int err) {
  const char* p = reinterpret_cast<const char*>(&err);
  std::size_t left = sizeof err;
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  ::_exit(127);
}

// The child between fork and execve: only async-signal-safe calls (the parent may have
// other threads). Own process group; on Linux, SIGKILL when the thread that started it
// dies (lcrules killed by SIGKILL); signal dispositions and mask reset; stdin /dev/null,
// stdout and stderr the pipes. An exec failure's errno goes to `report_fd`.
[[noreturn]] void exec_child(const char* path, char* const argv[], char* const envp[], int out_fd, int err_fd,
                             int report_fd, pid_t parent) {
  (void)parent;
  ::setpgid(0, 0);
#if defined(__linux__)
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) write_errno_and_exit(report_fd, errno);
  // lcrules may have died between fork and prctl: then nobody would ever kill this child.
  if (::getppid() != parent) ::_exit(127);
#endif
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  // Default dispositions for the signals a caller might ignore or handle (an ignored
  // SIGPIPE would survive exec).
  for (int sig : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2, SIGTSTP,
                  SIGTTIN, SIGTTOU, SIGXFSZ}) {
    ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int in = ::open("/dev/null", O_RDONLY);
  if (in < 0) write_errno_and_exit(report_fd, errno);
  if (in != STDIN_FILENO) {
    if (::dup2(in, STDIN_FILENO) < 0) write_errno_and_exit(report_fd, errno);
    ::close(in);
  }
  // The pipes are close-on-exec and above stderr (make_pipe); their dup2 copies are not.
  if (::dup2(out_fd, STDOUT_FILENO) < 0 || ::dup2(err_fd, STDERR_FILENO) < 0)
    write_errno_and_exit(report_fd, errno);
  ::execve(path, argv, envp);
  write_errno_and_exit(report_fd, errno);
}

// Reaps `pid`, retrying on EINTR. Returns false when the child cannot be waited for.
bool reap(pid_t pid, int* status) {
  for (;;) {
    pid_t r = ::waitpid(pid, status, 0);
    if (r == pid) return true;
    if (r < 0 && errno == EINTR) continue;
    return false;
  }
}

// True when `pid` has terminated; it stays a zombie (WNOWAIT), so its pid and process
// group id cannot be reused until it is reaped.
bool has_exited(pid_t pid) {
  for (;;) {
    siginfo_t info;
    std::memset(&info, 0, sizeof info);
    int r = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (r == 0) return info.si_pid == pid;
    if (errno == EINTR) continue;
    return true;  // ECHILD: nothing left to wait for
  }
}

int poll_timeout_ms(Clock::duration d) {
  if (d <= Clock::duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(d).count();
  return static_cast<int>(std::min<long long>(ms, 1000 * 60 * 60));
}

}  // namespace

// ---------------------------------------------------------------------------------------

std::string resolve_executable(const std::string& name, const std::string& path_env) {
  Lookup found = look_up(name, path_env);
  return found.kind == Lookup::Kind::Found ? found.path : std::string();
}

ProcessExecutor::ProcessExecutor(std::optional<std::chrono::steady_clock::time_point> deadline)
    : deadline_(deadline) {}

CommandResult ProcessExecutor::run(const CommandRequest& request) {
  using Status = CommandResult::Status;
  const auto start = Clock::now();
  CommandResult result;
  auto finish = [&](Status status, std::string reason) {
    result.status = status;
    result.reason = std::move(reason);
    result.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    return result;
  };

  if (request.argv.empty() || request.argv.front().empty())
    return finish(Status::SpawnFailed, "empty command");
  if (int sig = interrupted_by_signal()) {
    return finish(Status::NotRun, request.argv.front() + ": not started, lcrules was interrupted (signal " +
                                      std::to_string(sig) + ")");
  }
  const std::string& name = request.argv.front();
  for (const auto& arg : request.argv) {
    if (has_nul(arg)) return finish(Status::SpawnFailed, name + ": an argument contains a NUL byte");
  }
  for (const auto& [var, value] : request.extra_env) {
    if (var.empty() || var.find('=') != std::string::npos || has_nul(var) || has_nul(value)) {
      return finish(Status::SpawnFailed, name + ": invalid environment variable name or value");
    }
  }

  // The time this command may take: its own timeout, capped by the evaluation deadline.
  std::chrono::milliseconds timeout = std::max(request.timeout, std::chrono::milliseconds(0));
  bool deadline_bound = false;
  if (deadline_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline_ - start);
    if (left <= std::chrono::milliseconds(0)) {
      return finish(Status::TimedOut, name + ": not started, the evaluation deadline has passed");
    }
    if (left < timeout) {
      timeout = left;
      deadline_bound = true;
    }
  }
  const auto time_limit = start + timeout;

  Lookup found = look_up(name, request_path(request));
  if (found.kind == Lookup::Kind::NotFound) {
    return finish(Status::NotFound, name.find('/') != std::string::npos ? name + ": no such file"
                                                                        : name + ": not found on PATH");
  }
  if (found.kind == Lookup::Kind::NotExecutable) {
    result.resolved_path = found.path;
    return finish(Status::NotExecutable, found.path + ": cannot execute: " + found.detail);
  }
  result.resolved_path = found.path;

  std::vector<std::string> argv_storage(request.argv);
  std::vector<char*> argv = c_strings(argv_storage);
  std::vector<std::string> env_storage = child_environment(request.extra_env);
  std::vector<char*> envp = c_strings(env_storage);

  Fd out_r, out_w, err_r, err_w;
  if (!make_pipe(out_r, out_w) || !make_pipe(err_r, err_w)) {
    return finish(Status::SpawnFailed, name + ": cannot create pipes: " + std::strerror(errno));
  }

  // The child reports a failed exec (its errno) on this pipe; it closes on exec.
  Fd report_r, report_w;
  if (!make_pipe(report_r, report_w)) {
    return finish(Status::SpawnFailed, name + ": cannot create pipes: " + std::strerror(errno));
  }
  // No signal may run this process's handlers in the child before it resets them.
  sigset_t all, previous;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    exec_child(found.path.c_str(), argv.data(), envp.data(), out_w.get(), err_w.get(), report_w.get(), parent);
  }
  const int fork_errno = errno;
  if (pid > 0) {
    ::setpgid(pid, pid);  // also here, so that the group exists before it may be killed
    g_running_group.store(pid);
  }
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (pid < 0) return finish(Status::SpawnFailed, name + ": cannot start: " + std::strerror(fork_errno));
  report_w.reset();
  {
    int child_errno = 0;
    ssize_t n;
    do {
      n = ::read(report_r.get(), &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    report_r.reset();
    if (n == static_cast<ssize_t>(sizeof child_errno)) {
      g_running_group.store(0);
      ::kill(-pid, SIGKILL);
      int ignored = 0;
      reap(pid, &ignored);
      if (child_errno == EACCES || child_errno == ENOEXEC || child_errno == EPERM) {
        return finish(Status::NotExecutable, found.path + ": cannot execute: " + std::strerror(child_errno));
      }
      return finish(Status::SpawnFailed, found.path + ": cannot execute: " + std::strerror(child_errno));
    }
  }
  out_w.reset();
  err_w.reset();
  set_nonblock(out_r.get());
  set_nonblock(err_r.get());

  bool timed_out = false, too_large = false, exited = false, interrupted = false;
  std::optional<Clock::time_point> exit_seen;
  std::string& out = result.out;
  std::string& err = result.err;
  char buf[64 * 1024];

  // Reads what is available on `fd`; returns false at end of file or on error.
  auto drain = [&](Fd& fd, bool is_stdout) {
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n > 0) {
        if (is_stdout) {
          if (out.size() + static_cast<std::size_t>(n) > kMaxCommandOutput) {
            too_large = true;
            return true;
          }
          out.append(buf, static_cast<std::size_t>(n));
        } else if (err.size() < kMaxStderr) {
          err.append(buf, std::min(static_cast<std::size_t>(n), kMaxStderr - err.size()));
        }
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      return false;  // EOF or a read error
    }
  };

  auto backoff = std::chrono::milliseconds(1);
  while (!too_large) {
    if (g_interrupt_signal != 0) {  // the handler killed the group already (or was too early to)
      interrupted = true;
      break;
    }
    if (!exited && has_exited(pid)) {
      exited = true;
      exit_seen = Clock::now();
    }
    const bool pipes_open = out_r.valid() || err_r.valid();
    if (exited && !pipes_open) break;
    const auto now = Clock::now();
    if (now >= time_limit) {
      timed_out = true;
      break;
    }
    // A background process still holds the pipes after the child exited: stop waiting.
    if (exited && now >= *exit_seen + kExitGrace) break;

    Clock::duration wait = time_limit - now;
    if (exited) wait = std::min<Clock::duration>(wait, *exit_seen + kExitGrace - now);
    if (!exited) {
      // Without a SIGCHLD handler the child's exit is noticed by polling: often while
      // its pipes are open (a grandchild may keep them), backing off once they closed.
      wait = std::min<Clock::duration>(wait, pipes_open ? kExitCheckInterval : backoff);
      if (!pipes_open) backoff = std::min(backoff * 2, std::chrono::milliseconds(20));
    }

    pollfd fds[2];
    nfds_t nfds = 0;
    if (out_r.valid()) fds[nfds++] = pollfd{out_r.get(), POLLIN, 0};
    if (err_r.valid()) fds[nfds++] = pollfd{err_r.get(), POLLIN, 0};
    int ready = ::poll(nfds ? fds : nullptr, nfds, poll_timeout_ms(wait));
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;  // cannot happen with valid descriptors; the group is killed below
    }
    for (nfds_t i = 0; i < nfds; ++i) {
      if (fds[i].revents == 0) continue;
      bool is_stdout = out_r.valid() && fds[i].fd == out_r.get();
      Fd& fd = is_stdout ? out_r : err_r;
      if (!drain(fd, is_stdout)) fd.reset();
      if (too_large) break;
    }
  }

  // Nothing of the command may outlive run(): kill the whole group while the direct
  // child is still unreaped (its pid, hence the group id, cannot have been reused).
  ::kill(-pid, SIGKILL);
  g_running_group.store(0);
  int wstatus = 0;
  bool reaped = reap(pid, &wstatus);
  // Whatever is still buffered in the pipes (the writers are dead or about to die).
  if (!too_large && !timed_out && !interrupted) {
    if (out_r.valid()) drain(out_r, true);
    if (err_r.valid()) drain(err_r, false);
  }
  out_r.reset();
  err_r.reset();

  if (interrupted) {
    out.clear();
    return finish(Status::NotRun, name + ": killed, lcrules was interrupted (signal " +
                                      std::to_string(static_cast<int>(g_interrupt_signal)) + ")");
  }
  if (too_large) {
    out.clear();
    return finish(Status::OutputTooLarge, name + ": output larger than " +
                                              std::to_string(kMaxCommandOutput / (1024 * 1024)) + " MiB");
  }
  if (timed_out) {
    // The time left before a deadline varies from run to run: name the limit, not a number.
    return finish(Status::TimedOut, deadline_bound
                                        ? std::string("timed out at the evaluation deadline (--deadline)")
                                        : "timed out after " + format_duration(timeout));
  }
  if (!reaped) return finish(Status::SpawnFailed, name + ": lost track of the process (SIGCHLD ignored?)");
  if (WIFEXITED(wstatus)) {
    result.exit_code = WEXITSTATUS(wstatus);
    return finish(Status::Exited, "");
  }
  if (WIFSIGNALED(wstatus)) {
    result.signal = WTERMSIG(wstatus);
    const char* sig_name = ::strsignal(result.signal);
    return finish(Status::Signaled, name + ": killed by signal " + std::to_string(result.signal) +
                                        (sig_name ? std::string(" (") + sig_name + ")" : std::string()));
  }
  return finish(Status::SpawnFailed, name + ": unexpected wait status");
}

// ---------------------------------------------------------------------------------------
// Cache.

namespace {

constexpr int kCacheFormat = 1;
constexpr std::size_t kMaxCacheEntry = 8 * kMaxCommandOutput;

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace

CachingExecutor::CachingExecutor(CommandExecutor& inner, std::string dir,
                                 std::function<std::string()> extra_key,
                                 std::optional<std::chrono::steady_clock::time_point> deadline)
    : inner_(inner), dir_(std::move(dir)), extra_key_(std::move(extra_key)), deadline_(deadline) {}

CommandResult CachingExecutor::run(const CommandRequest& request) {
  if (!request.cache_ttl || request.argv.empty()) return inner_.run(request);
  Lookup found = look_up(request.argv.front(), request_path(request));
  struct stat st;
  if (found.kind != Lookup::Kind::Found || ::stat(found.path.c_str(), &st) != 0) return inner_.run(request);
  if (!cache_store::usable_dir(dir_)) return inner_.run(request);

  // Everything the result depends on, in an unambiguous encoding.
  nlohmann::json key_json = nlohmann::json::object();
  key_json["format"] = kCacheFormat;
  key_json["argv"] = request.argv;
  key_json["binary"] = found.path;
  key_json["mtime_ns"] = cache_store::mtime_ns(st);
  key_json["size"] = static_cast<std::int64_t>(st.st_size);
  nlohmann::json env = nlohmann::json::array();
  for (const auto& var : std::set<std::string>(request.cache_env.begin(), request.cache_env.end())) {
    nlohmann::json value = nullptr;
    if (auto it = request.extra_env.find(var); it != request.extra_env.end()) {
      value = it->second;
    } else if (const char* v = ::getenv(var.c_str())) {
      value = v;
    }
    env.push_back(nlohmann::json::array({var, value}));
  }
  key_json["env"] = std::move(env);
  key_json["extra_env"] = request.extra_env;  // what the child sees (KUBECONFIG)
  if (!extra_key_value_) extra_key_value_ = extra_key_ ? extra_key_() : std::string();
  key_json["extra"] = *extra_key_value_;
  std::string key;
  try {
    key = key_json.dump();
  } catch (const nlohmann::json::exception&) {
    return inner_.run(request);  // not valid UTF-8: not cached
  }
  const std::string path = dir_ + "/" + cache_store::hash_name(key) + ".json";
  const std::int64_t ttl = request.cache_ttl->count();
  const std::int64_t timeout_ttl = std::min<std::int64_t>(ttl, kCachedTimeoutTtl.count());

  // How long this request lets the command run: its timeout, capped by the deadline.
  auto allowed_now = [&] {
    auto allowed = std::max(request.timeout, std::chrono::milliseconds(0));
    if (deadline_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline_ - Clock::now());
      allowed = std::max(std::min(allowed, left), std::chrono::milliseconds(0));
    }
    return allowed;
  };

  auto read_cached = [&]() -> std::optional<CommandResult> {
    auto data = cache_store::read_entry(path, kMaxCacheEntry);
    if (!data) return std::nullopt;
    nlohmann::json entry = nlohmann::json::parse(*data, nullptr, /*allow_exceptions=*/false);
    auto is = [&](const char* field, nlohmann::json::value_t type) {
      auto it = entry.find(field);
      return it != entry.end() && it->type() == type;
    };
    using V = nlohmann::json::value_t;
    auto is_int = [&](const char* field) {
      auto it = entry.find(field);
      return it != entry.end() && it->is_number_integer();
    };
    if (!entry.is_object() || !is("key", V::string) || !is_int("created_unix") || !is("status", V::string) ||
        !is("resolved_path", V::string) || entry["key"].get_ref<const std::string&>() != key) {
      return std::nullopt;
    }
    const std::int64_t age = unix_now() - entry["created_unix"].get<std::int64_t>();
    if (age < 0) return std::nullopt;
    CommandResult hit;
    hit.resolved_path = entry["resolved_path"].get<std::string>();
    hit.from_cache = true;
    hit.cache_age = std::chrono::seconds(age);
    if (entry["status"] == "exited" && is_int("exit_code") && is("out", V::string) && is("err", V::string) &&
        age < ttl) {
      hit.status = CommandResult::Status::Exited;
      hit.exit_code = entry["exit_code"].get<int>();
      hit.out = std::move(entry["out"].get_ref<std::string&>());
      hit.err = std::move(entry["err"].get_ref<std::string&>());
      return hit;
    }
    // A time-out, for a request that would not wait much longer than the one that timed out.
    if (entry["status"] == "timed-out" && is_int("allowed_ms") && is("reason", V::string) &&
        age < timeout_ttl &&
        allowed_now().count() <= entry["allowed_ms"].get<std::int64_t>() + 1000) {
      hit.status = CommandResult::Status::TimedOut;
      hit.reason = entry["reason"].get<std::string>() + " (a cached time-out)";
      return hit;
    }
    return std::nullopt;
  };

  if (auto hit = read_cached()) return *hit;

  // One process runs the command; the others wait for its result, until their own time is
  // up (the command's timeout and a second, or the deadline).
  cache_store::EntryLock lock(path + ".lock");
  if (lock.opened() && !lock.try_lock()) {
    auto wait_until = Clock::now() + std::max(request.timeout, std::chrono::milliseconds(0)) +
                      std::chrono::seconds(1);
    if (deadline_) wait_until = std::min(wait_until, *deadline_);
    auto pause = std::chrono::milliseconds(5);
    bool locked = false;
    while (!locked) {
      if (int sig = interrupted_by_signal()) {
        CommandResult r;
        r.status = CommandResult::Status::NotRun;
        r.reason = request.argv.front() + ": not started, lcrules was interrupted (signal " + std::to_string(sig) + ")";
        return r;
      }
      const auto now = Clock::now();
      if (now >= wait_until) {
        CommandResult r;
        r.status = CommandResult::Status::TimedOut;
        r.resolved_path = found.path;
        r.reason = "timed out waiting for another lcrules running the same command";
        return r;
      }
      auto nap = std::min<Clock::duration>(pause, wait_until - now);
      timespec ts{0, static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(nap).count())};
      ::nanosleep(&ts, nullptr);
      pause = std::min(pause * 2, std::chrono::milliseconds(50));
      locked = lock.try_lock();
    }
  }
  // Whoever held the lock may have written the entry since it was first read.
  if (lock.opened()) {
    if (auto hit = read_cached()) return *hit;
  }

  const auto allowed = allowed_now();
  CommandResult result = inner_.run(request);
  // A result cut short by a signal is not an answer; a time-out of a command that never
  // started (no binary run: the deadline had passed) says nothing about the command.
  if (interrupted_by_signal()) return result;
  const bool timed_out = result.status == CommandResult::Status::TimedOut && !result.resolved_path.empty();
  if (result.status != CommandResult::Status::Exited && !(timed_out && timeout_ttl > 0)) return result;
  nlohmann::json entry = {{"key", key},
                          {"created_unix", unix_now()},
                          {"resolved_path", result.resolved_path}};
  if (timed_out) {
    entry["status"] = "timed-out";
    entry["allowed_ms"] = static_cast<std::int64_t>(allowed.count());
    entry["reason"] = result.reason;
  } else {
    entry["status"] = "exited";
    entry["exit_code"] = result.exit_code;
    entry["out"] = result.out;
    entry["err"] = result.err;
  }
  std::string text;
  try {
    text = entry.dump();
  } catch (const nlohmann::json::exception&) {
    return result;  // output that is not valid UTF-8 is not cached
  }
  cache_store::write_entry(path, text);  // best effort: a failed write only costs a re-run
  return result;
}

void install_interrupt_handlers() {
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
    struct sigaction old;
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;  // nohup, `cmd &`
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(sig, &sa, nullptr);
  }
}

int interrupted_by_signal() { return static_cast<int>(g_interrupt_signal); }

CommandResult NoExecExecutor::run(const CommandRequest& request) {
  (void)request;
  CommandResult result;
  result.status = CommandResult::Status::NotRun;
  result.reason = "commands are disabled (--no-exec)";
  return result;
}

}  // namespace lcrules
