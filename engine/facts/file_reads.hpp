// The file access of `read "PATTERN" json|yaml ...` predicates: listing the folders a
// pattern's `*` components walk, and reading the files it names. Bounded: a file over
// kMaxReadFileSize, a folder of more than kMaxFolderEntries entries and a pattern naming
// more than kMaxReadFiles files are refused; only regular files are read, opened without
// blocking (a FIFO cannot hold an evaluation) and checked on the descriptor read from.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace lcrules::file_reads {

inline constexpr std::size_t kMaxReadFileSize = 1024 * 1024;
inline constexpr std::size_t kMaxReadFiles = 256;
inline constexpr std::size_t kMaxFolderEntries = 4096;

struct FolderEntry {
  std::string name;
  bool folder = false;  // a folder itself, not a symbolic link to one
};

enum class ListResult { Listed, Missing, Failed };

// The entries of the folder `path` (symbolic links on the way to it are followed), without
// "." and "..", sorted by name. Missing: `path` does not exist or is not a folder.
// Failed: it cannot be listed (`why` says why, e.g. permission denied, too many entries).
ListResult list_folder(const std::string& path, std::vector<FolderEntry>& out, std::string& why);

// Reads the regular file at `path` (symbolic links followed) into `out`. false with `why`:
// "does not exist", "is a folder", "is not a regular file", "is larger than 1 MiB", or the
// system's reason.
bool read_file(const std::string& path, std::string& out, std::string& why);

// The reason read_file() gives for a file over kMaxReadFileSize.
std::string too_large_text();

}  // namespace lcrules::file_reads
