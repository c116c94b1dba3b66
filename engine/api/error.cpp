#include "lcrules/error.hpp"

namespace lcrules {

Error Error::at(ErrorKind kind, std::string file, unsigned line, unsigned column, std::string message) {
  Error e;
  e.kind = kind;
  e.text = file;
  if (line > 0) e.text += ":" + std::to_string(line) + ":" + std::to_string(column);
  e.text += ": error: " + message;
  e.file = std::move(file);
  e.line = line;
  e.column = column;
  e.message = std::move(message);
  return e;
}

Error Error::general(ErrorKind kind, std::string message) {
  Error e;
  e.kind = kind;
  e.text = "lcrules: error: " + message;
  e.message = std::move(message);
  return e;
}

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::RuleFiles:
      return "rule_files";
    case ErrorKind::Kubeconfig:
      return "kubeconfig";
    case ErrorKind::SkaffoldConfig:
      return "skaffold_config";
    case ErrorKind::NoContext:
      return "no_context";
    case ErrorKind::Usage:
      return "usage";
  }
  return "unknown";
}

}  // namespace lcrules
