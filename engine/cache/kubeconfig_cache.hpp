// The kubeconfig read across runs. yaml-cpp takes about 0.2 ms for the smallest
// kubeconfig and grows with its size (embedded certificates), more than the rest of an
// `eval` decided by name (docs/performance.md); kubeconfigs change far less often than
// tools ask which cluster is behind them. So `eval` and `facts` keep what they read of the
// kubeconfig files (names, servers, certificate paths, extensions, exec commands: never
// credentials) in an entry under the cache folder, used while every file is unchanged.
//
// The key: the entry format, the lcrules binary, whether the files must exist, the
// working folder when a path is relative (certificate paths resolve against it), and for
// each file its path and size, modification and change times, inode and device, or that
// it is missing. A kubeconfig with errors is never stored.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/facts/kubeconfig.hpp"

namespace lcrules::kubeconfig_cache {

std::string key_of(const std::vector<std::string>& files, bool must_exist);

std::string encode(const Kubeconfig& kc, std::string_view key);
// nullopt with `why` set when the bytes are not an entry for `key` (any key when null).
std::optional<Kubeconfig> decode(std::string_view bytes, const std::string_view* key, std::string* why);

// Kubeconfig::load(files, must_exist), through the entry under `dir` for these files.
// Throws KubeconfigError as load() does; failing to read or write the cache only costs a
// load.
// `key`: key_of(files, must_exist) when the caller has already worked it out.
Kubeconfig load(const std::vector<std::string>& files, bool must_exist, const std::string& dir,
                const std::string* key = nullptr);

}  // namespace lcrules::kubeconfig_cache
