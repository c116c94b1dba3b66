#include "engine/facts/file_reads.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/facts/files.hpp"

namespace lcrules::file_reads {

std::string too_large_text() {
  return "is larger than " + std::to_string(kMaxReadFileSize / (1024 * 1024)) + " MiB";
}

ListResult list_folder(const std::string& path, std::vector<FolderEntry>& out, std::string& why) {
  out.clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return ListResult::Missing;
    why = std::strerror(errno);
    return ListResult::Failed;
  }
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    why = std::strerror(errno);
    ::close(fd);
    return ListResult::Failed;
  }
  ListResult result = ListResult::Listed;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(dir);
    if (!e) {
      if (errno != 0) {
        why = std::strerror(errno);
        result = ListResult::Failed;
      }
      break;
    }
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (out.size() == kMaxFolderEntries) {
      why = "it has more than " + std::to_string(kMaxFolderEntries) + " entries";
      result = ListResult::Failed;
      break;
    }
    bool folder = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {  // some file systems do not fill d_type: ask, not following links
      struct stat st {};
      folder = ::fstatat(::dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    out.push_back({name, folder});
  }
  ::closedir(dir);
  if (result != ListResult::Listed) {
    out.clear();
    return result;
  }
  std::sort(out.begin(), out.end(),
            [](const FolderEntry& a, const FolderEntry& b) { return a.name < b.name; });
  return result;
}

bool read_file(const std::string& path, std::string& out, std::string& why) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    why = errno == ENOENT || errno == ENOTDIR ? std::string("does not exist") : std::strerror(errno);
    return false;
  }
  struct stat st {};
  bool ok = false;
  if (::fstat(fd, &st) != 0) {
    why = std::strerror(errno);
  } else if (S_ISDIR(st.st_mode)) {
    why = "is a folder";
  } else if (!S_ISREG(st.st_mode)) {
    why = "is not a regular file";  // a device, FIFO or socket: could block or never end
  } else {
    int err = 0;
    ok = files::read_whole_fd(fd, out, err, kMaxReadFileSize);
    if (!ok) why = err == files::kTooLarge ? too_large_text() : files::read_error_text(err, kMaxReadFileSize);
  }
  ::close(fd);
  return ok;
}

}  // namespace lcrules::file_reads
