// Files under lcrules' cache folder (${XDG_CACHE_HOME:-$HOME/.cache}/lcrules), shared by
// the command result cache and the compiled rule-set cache. An entry found there is
// trusted, so the folder and each entry must be ours and not writable by others; entries
// are written atomically so that a reader never sees half of one.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lcrules::cache_store {

// FNV-1a, 64 bits, as 16 hex digits: names entries after their key.
std::string hash_name(std::string_view key);

// Creates `dir` (mode 0700) if missing, each missing folder only in a folder owned by this
// user or sticky (/tmp): root running with a user's HOME creates no root-owned ~/.cache
// there. True if it is a folder owned by this user and not writable by group or others;
// then this user's temporary entries older than a minute (left by a run killed while it
// wrote, see write_entry) are removed.
bool usable_dir(const std::string& dir);

// The entry at `path` if it is a regular file owned by this user and at most `max_size`
// bytes (symbolic links are not followed).
std::optional<std::string> read_entry(const std::string& path, std::size_t max_size);

// Writes `data` to `path` atomically (a private temporary file in the same folder, renamed).
// False when it could not; nothing is left behind then.
bool write_entry(const std::string& path, std::string_view data);

// An exclusive flock on a lock file beside an entry (ENTRY.lock, created 0600). The holder
// removes the file before it releases the lock, and a process that locked a file no longer
// at the path tries again, so no lock file outlives its use (unless lcrules is killed while
// holding it; the kernel releases the lock then, and the file is used again).
class EntryLock {
 public:
  explicit EntryLock(std::string lock_path);
  ~EntryLock();
  EntryLock(const EntryLock&) = delete;
  EntryLock& operator=(const EntryLock&) = delete;
  // False when the lock file could not be opened, or is not this user's regular file.
  bool opened() const { return fd_ >= 0; }
  // Takes the lock if no other holds it; never blocks.
  bool try_lock();

 private:
  void open_file();
  std::string path_;
  int fd_ = -1;
  bool locked_ = false;
};

std::int64_t mtime_ns(const struct stat& st);
std::int64_t ctime_ns(const struct stat& st);

}  // namespace lcrules::cache_store
