// Lexical path helpers shared by facts and predicates.
#pragma once

#include <string>
#include <string_view>

namespace lcrules::paths {

// Lexical clean-up like Go's filepath.Clean: collapses `//`, removes `.`, resolves `..`
// against earlier components, drops a trailing `/`. Empty gives ".".
std::string clean(std::string_view path);

// True when `path` is `base` or lies below it, component by component after clean():
// "/a/.minikube" holds "/a/.minikube/ca.crt" and itself, not "/a/.minikube-old/x".
bool inside(std::string_view path, std::string_view base);

// Joins `relative` to the folder of `file` unless it is absolute.
std::string resolve_relative_to_file(const std::string& relative, const std::string& file);

}  // namespace lcrules::paths
