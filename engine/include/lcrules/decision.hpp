// lcrules' public API: the answer for one kube-context.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace lcrules {

using Argv = std::vector<std::string>;

// What `lcrules eval -o json` prints, field for field (docs/cli.md).
struct Decision {
  std::string context;
  std::string cluster = "unknown";
  bool local = false;
  std::optional<std::string> cluster_name;
  std::optional<std::string> kubeconfig_cluster;
  bool load_images = false;
  bool push_images = false;
  std::optional<std::vector<Argv>> load_command;  // a pipeline; "{IMAGE}" stands for the image
  std::optional<std::string> registry;
  std::vector<std::string> notes;
};

}  // namespace lcrules
