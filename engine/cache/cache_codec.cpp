#include "engine/cache/cache_codec.hpp"

#include <sys/stat.h>

#include "engine/cache/cache_store.hpp"

namespace lcrules::cache_codec {

std::optional<std::string> file_identity(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return std::to_string(st.st_size) + " " + std::to_string(cache_store::mtime_ns(st)) + " " +
         std::to_string(cache_store::ctime_ns(st)) + " " + std::to_string(st.st_ino) + " " +
         std::to_string(st.st_dev);
}

std::string binary_identity() {
  // The running binary cannot change under a process: /proc/self/exe keeps naming the file
  // it was started from, even once replaced. Asked once per process.
  static const std::string identity = file_identity("/proc/self/exe").value_or("?");
  return identity;
}

}  // namespace lcrules::cache_codec
