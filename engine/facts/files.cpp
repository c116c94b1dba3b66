#include "engine/facts/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace lcrules::files {

bool read_whole(const std::string& path, std::string& out, int& err) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below anyway).
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    err = errno;
    return false;
  }
  const bool ok = read_whole_fd(fd, out, err);
  ::close(fd);
  return ok;
}

bool read_whole_fd(int fd, std::string& out, int& err) {
  struct stat st {};
  // Regular files and devices (KUBECONFIG=/dev/null is common; /dev/zero stops at the size
  // cap); never a FIFO or socket, which could block or never end.
  if (::fstat(fd, &st) != 0) {
    err = errno;
    return false;
  }
  if (!(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
    err = S_ISDIR(st.st_mode) ? EISDIR : kNotRegularFile;
    return false;
  }
  if (S_ISREG(st.st_mode) && static_cast<std::uintmax_t>(st.st_size) > kMaxInputFileSize) {
    err = kTooLarge;
    return false;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  out.clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      return false;
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > kMaxInputFileSize) {  // grew while read
      err = kTooLarge;
      return false;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

std::string read_error_text(int err) {
  if (err == kNotRegularFile) return "not a regular file";
  if (err == kTooLarge) return "larger than " + std::to_string(kMaxInputFileSize / (1024 * 1024)) + " MiB";
  return std::strerror(err);
}

std::string yaml_error_message(const std::string& file, const YAML::Mark& mark, const std::string& message) {
  if (mark.is_null()) return file + ": error: " + message;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) +
         ": error: " + message;
}

Error yaml_error(ErrorKind kind, const std::string& file, const YAML::Mark& mark,
                 const std::string& message) {
  if (mark.is_null()) return Error::at(kind, file, 0, 0, message);
  return Error::at(kind, file, static_cast<unsigned>(mark.line + 1), static_cast<unsigned>(mark.column + 1),
                   message);
}

}  // namespace lcrules::files
