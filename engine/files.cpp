#include "engine/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace lcrules::files {

bool read_whole(const std::string& path, std::string& out, int& err) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    err = errno;
    return false;
  }
  out.clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

std::string yaml_error_message(const std::string& file, const YAML::Mark& mark, const std::string& message) {
  if (mark.is_null()) return file + ": error: " + message;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) +
         ": error: " + message;
}

}  // namespace lcrules::files
