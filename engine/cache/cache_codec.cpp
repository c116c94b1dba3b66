#include "engine/cache/cache_codec.hpp"

#include <sys/stat.h>
#include <time.h>

#include "engine/cache/cache_store.hpp"

namespace lcrules::cache_codec {

std::optional<std::string> file_identity(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return std::to_string(st.st_size) + " " + std::to_string(cache_store::mtime_ns(st)) + " " +
         std::to_string(cache_store::ctime_ns(st)) + " " + std::to_string(st.st_ino) + " " +
         std::to_string(st.st_dev);
}

bool recently_modified(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return true;
  struct timespec now {};
  if (::clock_gettime(CLOCK_REALTIME, &now) != 0) return true;
  const std::int64_t now_ns = static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
  return now_ns - cache_store::mtime_ns(st) < kRacyWindowNs;
}

std::string binary_identity() {
  // The running binary cannot change under a process: /proc/self/exe keeps naming the file
  // it was started from, even once replaced. Asked once per process.
  static const std::string identity = file_identity("/proc/self/exe").value_or("?");
  return identity;
}

}  // namespace lcrules::cache_codec
