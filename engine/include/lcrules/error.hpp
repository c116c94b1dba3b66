// lcrules' public API: an error as a value. Every error the engine reports carries where it
// happened (when a file is involved) and the exact text the command line prints for it.
#pragma once

#include <string>

namespace lcrules {

enum class ErrorKind {
  RuleFiles,       // a rule file or folder: unreadable, refused, malformed or inconsistent
  Kubeconfig,      // a kubeconfig that exists but cannot be read or parsed
  SkaffoldConfig,  // ~/.skaffold/config or a project's skaffold.yaml
  NoContext,       // no context given and no current-context in the kubeconfig
  Usage,           // a request the engine cannot carry out as given (bad option value)
};

struct Error {
  ErrorKind kind = ErrorKind::RuleFiles;
  std::string file;     // empty when the error is not about one file
  unsigned line = 0;    // 1-based; 0 when unknown
  unsigned column = 0;  // 1-based; 0 when unknown
  std::string message;  // "unknown property 'priorty'", without location or "error:"
  // As the command line prints it: "FILE:LINE:COL: error: MESSAGE" (or "FILE: error: ...",
  // or "lcrules: error: ..."), followed for rule files by the source line and a caret.
  std::string text;
  // The name a "did you mean" in `message` proposes for the token at LINE:COL; empty: none.
  std::string suggestion;

  // A located error: `text` is "FILE[:LINE:COL]: error: MESSAGE".
  static Error at(ErrorKind kind, std::string file, unsigned line, unsigned column, std::string message);
  // An error about no file: `text` is "lcrules: error: MESSAGE".
  static Error general(ErrorKind kind, std::string message);
};

// Kind names as the service reports them: "rule_files", "kubeconfig", "skaffold_config",
// "no_context", "usage".
const char* error_kind_name(ErrorKind kind);

}  // namespace lcrules
