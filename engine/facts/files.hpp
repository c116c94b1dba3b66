// Small helpers for reading input files and reporting positioned errors in them, shared by
// the readers of kubeconfigs, Skaffold configs, rule files and rule tests. Each reader
// throws or collects its own error type; these only build the text.
#pragma once

#include <yaml-cpp/mark.h>

#include <cstddef>
#include <optional>
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
bool read_whole(const std::string& path, std::string& out, int& err,
                std::size_t max_size = kMaxInputFileSize);

// The same for a file already open as `fd` (which stays open): reads what was opened, so a
// caller that checked the descriptor (fstat) reads exactly the file it checked. `fd` may be
// non-blocking; the same types, cap and errors as read_whole.
bool read_whole_fd(int fd, std::string& out, int& err, std::size_t max_size = kMaxInputFileSize);

// The reason for `err` from read_whole (called with `max_size`), for "FILE: error: cannot read: REASON".
std::string read_error_text(int err, std::size_t max_size = kMaxInputFileSize);

// yaml-cpp builds a tree of about half a kilobyte per node, slowly, and scans a flow
// collection (`[...]`, `{...}`) whole before it reports its first node: a small file of
// nested or repeated empty lists costs seconds and gigabytes. check_yaml_bounds() bounds
// that work before a tree is built: it counts the flow indicators `[`, `{` and `,` of
// `text` (an upper bound on the tokens of its flow collections, quoted text included),
// then the nodes of its first document with yaml-cpp's event parser, which stops at the
// first node over `max_nodes`. nullopt when within; else where and why. Throws what
// YAML::Load would throw for a text it cannot parse (YAML::DeepRecursion too).
struct YamlBoundError {
  YAML::Mark mark;
  std::string message;
};
std::optional<YamlBoundError> check_yaml_bounds(const std::string& text, std::size_t max_nodes);

// "FILE:LINE:COL: error: MESSAGE" (1-based line and column) when `mark` is known, else
// "FILE: error: MESSAGE".
std::string yaml_error_message(const std::string& file, const YAML::Mark& mark, const std::string& message);

// The same as an Error value of `kind`.
Error yaml_error(ErrorKind kind, const std::string& file, const YAML::Mark& mark, const std::string& message);

}  // namespace lcrules::files
