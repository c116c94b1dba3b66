#include "engine/cache/cache_store.hpp"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <time.h>

#include <cstdio>
#include <cstring>
#include <utility>

namespace lcrules::cache_store {

namespace {

// Closes its descriptor on every path out.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

// Whether a folder may be created in `parent`: it is the caller's, or sticky (/tmp). Root
// running with a user's HOME must not leave a root-owned ~/.cache in that user's home.
bool may_create_in(const std::string& parent) {
  struct stat st;
  if (::stat(parent.c_str(), &st) != 0) return false;
  return st.st_uid == ::geteuid() || (st.st_mode & S_ISVTX) != 0;
}

bool make_dirs(const std::string& dir) {
  if (dir.empty()) return false;
  std::size_t pos = 0;
  std::string parent = dir.front() == '/' ? "/" : ".";
  for (;;) {
    pos = dir.find('/', pos + 1);
    std::string part = dir.substr(0, pos);
    if (!part.empty()) {
      struct stat st;
      if (::lstat(part.c_str(), &st) != 0) {
        if (errno != ENOENT || !may_create_in(parent)) return false;
        if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) return false;
      }
      parent = part;
    }
    if (pos == std::string::npos) break;
  }
  return true;
}

// Removes this user's temporary entries (NAME.tmp.XXXXXX, left by a run killed while it
// wrote an entry) older than a minute: a run still writing one is never that slow.
void remove_stale_temporaries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const std::int64_t minute_ago = static_cast<std::int64_t>(now.tv_sec - 60) * 1'000'000'000 + now.tv_nsec;
  while (const struct dirent* e = ::readdir(d)) {
    const char* tmp = std::strstr(e->d_name, ".tmp.");
    if (tmp == nullptr || std::strlen(tmp) != std::strlen(".tmp.XXXXXX")) continue;
    struct stat st;
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) continue;
    if (mtime_ns(st) > minute_ago) continue;
    ::unlinkat(::dirfd(d), e->d_name, 0);
  }
  ::closedir(d);
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

std::string hash_name(std::string_view key) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

bool usable_dir(const std::string& dir) {
  struct stat st;
  // Every run asks (once per cache); creating the folder's parents is for the first.
  if (::lstat(dir.c_str(), &st) != 0 && (!make_dirs(dir) || ::lstat(dir.c_str(), &st) != 0)) return false;
  if (!S_ISDIR(st.st_mode)) return false;
  if (st.st_uid != ::geteuid()) return false;
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) return false;
  remove_stale_temporaries(dir);
  return true;
}

std::optional<std::string> read_entry(const std::string& path, std::size_t max_size) {
  FdCloser fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
  if (fd.fd < 0) return std::nullopt;
  struct stat st;
  if (::fstat(fd.fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) return std::nullopt;
  if (static_cast<std::uint64_t>(st.st_size) > max_size) return std::nullopt;
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  for (;;) {
    // One byte more than the size says, to notice a file that grew since fstat.
    if (got == data.size()) data.resize(got + 1);
    ssize_t n = ::read(fd.fd, data.data() + got, data.size() - got);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
      if (got > max_size) return std::nullopt;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    data.resize(got);
    return data;
  }
}

bool write_entry(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp.XXXXXX";
  int raw = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (raw < 0) return false;
  bool ok = ::fchmod(raw, 0600) == 0 && write_all(raw, data);
  if (::close(raw) != 0) ok = false;
  if (ok && ::rename(tmp.c_str(), path.c_str()) == 0) return true;
  ::unlink(tmp.c_str());
  return false;
}

EntryLock::EntryLock(std::string lock_path) : path_(std::move(lock_path)) { open_file(); }

EntryLock::~EntryLock() {
  // Removed while still locked: whoever locks this file next sees it is no longer at the
  // path (try_lock) and locks the one there instead.
  if (locked_) ::unlink(path_.c_str());
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

void EntryLock::open_file() {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ < 0) return;
  struct stat st;
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool EntryLock::try_lock() {
  if (locked_) return true;
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (fd_ < 0) open_file();
    if (fd_ < 0) return false;
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EINTR) continue;
      return false;
    }
    struct stat held, at_path;
    if (::fstat(fd_, &held) == 0 && ::lstat(path_.c_str(), &at_path) == 0 && held.st_dev == at_path.st_dev &&
        held.st_ino == at_path.st_ino) {
      locked_ = true;
      return true;
    }
    ::close(fd_);  // the previous holder removed this file: lock the one at the path now
    fd_ = -1;
  }
  return false;
}

namespace {
std::int64_t nanoseconds(const struct timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}
}  // namespace

#if defined(__APPLE__)
std::int64_t mtime_ns(const struct stat& st) { return nanoseconds(st.st_mtimespec); }
std::int64_t ctime_ns(const struct stat& st) { return nanoseconds(st.st_ctimespec); }
#else
std::int64_t mtime_ns(const struct stat& st) { return nanoseconds(st.st_mtim); }
std::int64_t ctime_ns(const struct stat& st) { return nanoseconds(st.st_ctim); }
#endif

}  // namespace lcrules::cache_store
