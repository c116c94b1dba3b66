// Tells `lcrules serve` when files it depends on change: the rule files and folders (the
// rule set is reloaded) and the kubeconfig files and Skaffold's config (watchers get a new
// decision). inotify on Linux, watching each path's folder, or its nearest existing
// ancestor so that a file or folder created later is seen; stat-polling every
// kPollInterval where inotify is not available. What changed is found by comparing
// snapshots (size, times, inode of each file; the *.rules files of each folder), so that
// an editor's write-and-rename and kubectl's rewrite in place look the same.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace lcrules::serve {

enum ChangeKind : unsigned { kRulesChanged = 1, kInputsChanged = 2 };

struct WatchTarget {
  std::string path;
  ChangeKind kind = kInputsChanged;
  bool folder_of_rules = false;  // a folder whose *.rules files are watched
};

class ChangeWatcher {
 public:
  // `on_change` is called on the watcher's thread with the kinds that changed.
  ChangeWatcher(std::vector<WatchTarget> targets, std::function<void(unsigned kinds)> on_change);
  ~ChangeWatcher();
  ChangeWatcher(const ChangeWatcher&) = delete;
  ChangeWatcher& operator=(const ChangeWatcher&) = delete;

  void start(bool use_inotify = true);
  void stop();
  bool uses_inotify() const { return inotify_fd_ >= 0; }

 private:
  using Snapshot = std::map<std::string, std::string>;  // path -> identity
  Snapshot snapshot() const;
  unsigned compare(const Snapshot& before, const Snapshot& after) const;
  void arm();  // (re)adds inotify watches for every target's folder
  void run();

  std::vector<WatchTarget> targets_;
  std::function<void(unsigned)> on_change_;
  int inotify_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace lcrules::serve
