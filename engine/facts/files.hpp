// Small helpers for reading input files and reporting positioned errors in them, shared by
// the readers of kubeconfigs, Skaffold configs, rule files and rule tests. Each reader
// throws or collects its own error type; these only build the text.
#pragma once

#include <yaml-cpp/mark.h>

#include <cstddef>
#include <string>

#include "lcrules/error.hpp"

namespace lcrules::files {

// Input files larger than this are refused: a device or a runaway file must not exhaust memory.
inline constexpr std::size_t kMaxInputFileSize = 64 * 1024 * 1024;
inline constexpr int kNotRegularFile = -1;  // `err` for a FIFO or socket
inline constexpr int kTooLarge = -2;        // `err` for a file over kMaxInputFileSize

// Reads the whole file (a regular file or a device such as /dev/null) at `path` into `out`. Returns false
// with `err` set to an errno value, kNotRegularFile or kTooLarge when it cannot be read (`out` is then
// unspecified). Never blocks on a FIFO.
bool read_whole(const std::string& path, std::string& out, int& err);

// The same for a file already open as `fd` (which stays open): reads what was opened, so a
// caller that checked the descriptor (fstat) reads exactly the file it checked. `fd` may be
// non-blocking; the same types, cap and errors as read_whole.
bool read_whole_fd(int fd, std::string& out, int& err);

// The reason for `err` from read_whole, for "FILE: error: cannot read: REASON".
std::string read_error_text(int err);

// "FILE:LINE:COL: error: MESSAGE" (1-based line and column) when `mark` is known, else
// "FILE: error: MESSAGE".
std::string yaml_error_message(const std::string& file, const YAML::Mark& mark, const std::string& message);

// The same as an Error value of `kind`.
Error yaml_error(ErrorKind kind, const std::string& file, const YAML::Mark& mark, const std::string& message);

}  // namespace lcrules::files
