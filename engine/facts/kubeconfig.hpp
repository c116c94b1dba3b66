// Reads kubeconfig files the way kubectl does and resolves one context into the facts
// rules can use. Knows nothing about products.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/cache/cache_codec.hpp"
#include "lcrules/error.hpp"

namespace lcrules {

// A kubeconfig that exists but cannot be read or parsed. what() is the full message:
// "FILE:LINE:COL: error: MESSAGE" when a position is known, else "FILE: error: MESSAGE".
class KubeconfigError : public std::runtime_error {
 public:
  explicit KubeconfigError(Error e) : std::runtime_error(e.text), error_(std::move(e)) {}
  const Error& error() const { return error_; }

 private:
  Error error_;
};

// The resolved view of one context. Fields are absent when the kubeconfig does not say.
struct KubeContext {
  std::string name;
  bool in_kubeconfig = false;
  std::optional<std::string> cluster_ref;  // context entry's `cluster`
  std::optional<std::string> user;         // context entry's `user`
  std::optional<std::string> namespace_;
  std::optional<std::string> file;                        // file that defined the context
  std::map<std::string, std::string> context_extensions;  // "NAME.KEY" -> scalar

  bool cluster_found = false;  // the cluster entry named by cluster_ref exists
  std::optional<std::string> server;
  std::optional<std::string> certificate_authority;       // absolute path
  std::map<std::string, std::string> cluster_extensions;  // "NAME.KEY" -> scalar

  std::optional<std::string> user_exec_command;
};

// Parts of a server URL as Go's net/url.Parse reads it (Skaffold compares the parsed URL's
// Host, "host:port", with a minikube node's "IP:Port"). `scheme` is lower-cased; `host`
// keeps an IPv6 literal's brackets and is unescaped; `port` is what follows the host's
// last ':' (no default port is filled in; an empty port is absent). A URL Go refuses
// (`192.168.49.2:8443`: a colon in the first path segment; `https://[::1`; `https://h:x`;
// control characters; bad %-escapes) has no part at all. A URL without "//" after its
// scheme has no host: `localhost:8443` is scheme "localhost" with opaque data "8443".
struct ServerUrl {
  std::optional<std::string> scheme, host, port;
};
ServerUrl parse_server_url(const std::string& url);

class Kubeconfig {
 public:
  // Which files to read: `explicit_file` if non-empty; else every entry of `kubeconfig_env`
  // (colon-separated, empty entries ignored) when it is non-empty; else `home`/.kube/config.
  static std::vector<std::string> locate(const std::string& explicit_file,
                                         const std::optional<std::string>& kubeconfig_env,
                                         const std::string& home);

  // Reads the files in order. Missing files are skipped (an explicit --kubeconfig that is
  // missing is an error, as with kubectl: pass `must_exist`). Throws KubeconfigError.
  static Kubeconfig load(const std::vector<std::string>& files, bool must_exist = false);

  // A kubeconfig given as text; `name` stands for its file in positions and facts.
  static Kubeconfig from_text(const std::string& name, const std::string& text);

  // Files that existed and were read.
  const std::vector<std::string>& files_read() const { return files_read_; }
  // First file's `current-context` that is non-empty.
  const std::optional<std::string>& current_context() const { return current_context_; }

  // Resolves a context by name; a name that is not in the kubeconfig gives a KubeContext
  // with only `name` set (in_kubeconfig false).
  KubeContext resolve(const std::string& context_name) const;

  std::vector<std::string> context_names() const;  // in first-definition order

  // What was read, for the kubeconfig cache (engine/cache/kubeconfig_cache.hpp). decode() throws
  // cache_codec::CodecError on malformed bytes.
  void encode(cache_codec::ByteWriter& out) const;
  static Kubeconfig decode(cache_codec::ByteReader& in);

 private:
  // Parses one file's text and merges it in (kubectl's first-definition rule).
  void add_file(const std::string& file, const std::string& text);

  struct ContextEntry {
    std::optional<std::string> cluster, user, namespace_;
    std::string file;
    std::map<std::string, std::string> extensions;
  };
  struct ClusterEntry {
    std::optional<std::string> server, certificate_authority;
    std::map<std::string, std::string> extensions;
  };
  struct UserEntry {
    std::optional<std::string> exec_command;
  };
  std::vector<std::string> files_read_;
  std::optional<std::string> current_context_;
  std::vector<std::string> context_order_;
  std::map<std::string, ContextEntry> contexts_;
  std::map<std::string, ClusterEntry> clusters_;
  std::map<std::string, UserEntry> users_;
};

}  // namespace lcrules
