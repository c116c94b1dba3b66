// Small helpers for reading input files and reporting positioned errors in them, shared by
// the readers of kubeconfigs, Skaffold configs, rule files and rule tests. Each reader
// throws or collects its own error type; these only build the text.
#pragma once

#include <yaml-cpp/mark.h>

#include <string>

namespace lcrules::files {

// Reads the whole file at `path` into `out`. Returns false with `err` set to the errno
// value when it cannot be opened or read (`out` is then unspecified).
bool read_whole(const std::string& path, std::string& out, int& err);

// "FILE:LINE:COL: error: MESSAGE" (1-based line and column) when `mark` is known, else
// "FILE: error: MESSAGE".
std::string yaml_error_message(const std::string& file, const YAML::Mark& mark, const std::string& message);

}  // namespace lcrules::files
