#include "engine/serve/watcher.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <filesystem>

#include "engine/serve/limits.hpp"

namespace lcrules::serve {
namespace {

std::string identity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "absent";
  return std::to_string(st.st_size) + "/" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec) + "/" + std::to_string(st.st_ctim.tv_sec) + "." +
         std::to_string(st.st_ctim.tv_nsec) + "/" + std::to_string(st.st_ino);
}

std::string parent_of(const std::string& path) {
  const auto p = std::filesystem::path(path).parent_path();
  return p.empty() ? std::string(".") : p.string();
}

// The path itself when it is an existing folder, else its nearest existing ancestor.
std::string nearest_existing_folder(std::string path, bool path_is_folder) {
  if (!path_is_folder) path = parent_of(path);
  for (int depth = 0; depth < 64; ++depth) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return path;
    const std::string up = parent_of(path);
    if (up == path) break;
    path = up;
  }
  return "/";
}

}  // namespace

ChangeWatcher::ChangeWatcher(std::vector<WatchTarget> targets, std::function<void(unsigned)> on_change)
    : targets_(std::move(targets)), on_change_(std::move(on_change)) {}

ChangeWatcher::~ChangeWatcher() { stop(); }

ChangeWatcher::Snapshot ChangeWatcher::snapshot() const {
  Snapshot s;
  for (const auto& t : targets_) {
    if (!t.folder_of_rules) {
      s[t.path] = identity(t.path);
      continue;
    }
    s[t.path] = identity(t.path).substr(0, 6) == "absent" ? "absent" : "folder";
    if (DIR* d = ::opendir(t.path.c_str())) {
      while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name.size() > 6 && name.compare(name.size() - 6, 6, ".rules") == 0) {
          const std::string p = t.path + "/" + name;
          s[p] = identity(p);
        }
      }
      ::closedir(d);
    }
  }
  return s;
}

unsigned ChangeWatcher::compare(const Snapshot& before, const Snapshot& after) const {
  if (before == after) return 0;
  unsigned kinds = 0;
  auto kind_of = [&](const std::string& path) {
    for (const auto& t : targets_) {
      if (path == t.path || (t.folder_of_rules && path.rfind(t.path + "/", 0) == 0)) return t.kind;
    }
    return kInputsChanged;
  };
  for (const auto& [path, id] : after) {
    auto it = before.find(path);
    if (it == before.end() || it->second != id) kinds |= kind_of(path);
  }
  for (const auto& [path, id] : before) {
    if (!after.count(path)) kinds |= kind_of(path);
  }
  return kinds;
}

void ChangeWatcher::arm() {
  constexpr std::uint32_t kMask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM |
                                  IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
  for (const auto& t : targets_) {
    const std::string folder = nearest_existing_folder(t.path, t.folder_of_rules);
    ::inotify_add_watch(inotify_fd_, folder.c_str(), kMask);  // the same folder twice: one watch
    // A file that is itself a symbolic link's target elsewhere: watch the file too.
    if (!t.folder_of_rules) ::inotify_add_watch(inotify_fd_, t.path.c_str(), kMask);
  }
}

void ChangeWatcher::start(bool use_inotify) {
  if (::pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) wake_pipe_[0] = wake_pipe_[1] = -1;
  if (use_inotify) inotify_fd_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (inotify_fd_ >= 0) arm();
  spdlog::debug("watching {} paths ({})", targets_.size(), inotify_fd_ >= 0 ? "inotify" : "polling");
  thread_ = std::thread([this] { run(); });
}

void ChangeWatcher::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  if (wake_pipe_[1] >= 0) {
    const char c = 0;
    (void)!::write(wake_pipe_[1], &c, 1);
  }
  thread_.join();
  for (int* fd : {&inotify_fd_, &wake_pipe_[0], &wake_pipe_[1]}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void ChangeWatcher::run() {
  Snapshot last = snapshot();
  // With inotify, a snapshot is also taken every second: a change inotify cannot see (a
  // file system without events, a folder watched before it was replaced) is still found.
  const int timeout_ms = inotify_fd_ >= 0 ? 1000 : static_cast<int>(kPollInterval.count());
  while (!stopping_) {
    pollfd fds[2] = {{wake_pipe_[0], POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
    const int n = ::poll(fds, inotify_fd_ >= 0 ? 2 : 1, timeout_ms);
    if (stopping_) break;
    if (n > 0 && (fds[1].revents & POLLIN)) {
      // Let a burst of events (an editor's save, kubectl's rewrite) settle, then drain it.
      ::usleep(10 * 1000);
      alignas(inotify_event) char buf[16 * 1024];
      while (::read(inotify_fd_, buf, sizeof buf) > 0) {
      }
      arm();
    }
    Snapshot now = snapshot();
    if (const unsigned kinds = compare(last, now)) {
      last = std::move(now);
      on_change_(kinds);
    }
  }
}

}  // namespace lcrules::serve
