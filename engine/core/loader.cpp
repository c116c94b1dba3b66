#include "engine/core/loader.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "engine/core/checker.hpp"
#include "engine/facts/files.hpp"
#include "grammar/parser.hpp"

namespace lcrules {
namespace {

namespace fs = std::filesystem;

Error rule_file_error(const std::string& path, std::string message) {
  return Error::at(ErrorKind::RuleFiles, path, 0, 0, std::move(message));
}

Error diagnostic_error(const Diagnostic& d) {
  Error e = Error::at(ErrorKind::RuleFiles, d.loc.file, d.loc.line, d.loc.column, d.message);
  e.text = format(d);
  e.suggestion = d.suggestion;
  return e;
}

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

bool owned_by_caller_or_root(const struct stat& st) { return st.st_uid == ::getuid() || st.st_uid == 0; }

std::string owner_text(const struct stat& st) {
  return "owned by uid " + std::to_string(st.st_uid) + ", neither you (uid " + std::to_string(::getuid()) +
         ") nor root";
}

// The target itself (the rule file, or the rule folder being listed). Rules can run
// commands, so (as ssh does for its keys) a file or folder that someone else could change
// is refused. World-writable folders with the sticky bit (/tmp) are fine: others cannot
// replace a file in them.
bool check_target(const std::string& name, const std::string& real, bool folder, const struct stat& st,
                  std::vector<Error>& errors, bool* refused) {
  const char* what = folder ? "folder" : "file";
  if (!folder && !S_ISREG(st.st_mode)) {
    errors.push_back(rule_file_error(name, "cannot read: not a regular file"));
    return false;
  }
  // Both problems at once, so that one run says everything to fix.
  bool ok = true;
  const bool sticky_dir = folder && (st.st_mode & S_ISVTX);
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky_dir) {
    errors.push_back(rule_file_error(name, std::string("refusing to load rules from a ") + what +
                                               " that group or others can write (mode " +
                                               mode_text(st.st_mode) +
                                               "): rules can run commands. Fix it with: chmod go-w " + real));
    ok = false;
  }
  if (!owned_by_caller_or_root(st)) {
    errors.push_back(rule_file_error(
        name, std::string("refusing to load rules from a ") + what + " " + owner_text(st) +
                  ": rules can run commands. Fix it with: chown " + std::to_string(::getuid()) + " " + real));
    ok = false;
  }
  if (!ok && refused) *refused = true;
  return ok;
}

// A folder on the way to the target: whoever can write it can put another file or folder
// in the target's place.
bool check_parent(const std::string& folder, const std::string& target, const struct stat& st,
                  std::vector<Error>& errors, bool* refused) {
  if (refused) *refused = true;  // until the checks pass
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
    errors.push_back(rule_file_error(
        folder,
        "refusing to load rules from " + target + ": this folder on its way can be written by group or " +
            "others (mode " + mode_text(st.st_mode) +
            ") and is not sticky, so they could put other rules in its place: rules can run commands. "
            "Fix it with: chmod go-w " +
            folder));
    return false;
  }
  if (!owned_by_caller_or_root(st)) {
    errors.push_back(rule_file_error(
        folder, "refusing to load rules from " + target + ": this folder on its way is " + owner_text(st) +
                    ", who could put other rules in its place: rules can run commands"));
    return false;
  }
  if (refused) *refused = false;
  return true;
}

std::vector<std::string> components(const std::string& absolute) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < absolute.size()) {
    std::size_t j = absolute.find('/', i);
    if (j == std::string::npos) j = absolute.size();
    if (j > i) out.push_back(absolute.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

void add_path(const std::string& path, RuleOrigin origin, bool must_exist, bool check,
              std::vector<RuleFileRef>& out, std::vector<Error>& errors) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) {
    // Missing is fine for the system and user folders; unreadable (EACCES...) never is.
    if (ec && ec != std::errc::no_such_file_or_directory) {
      errors.push_back(rule_file_error(path, "cannot read: " + ec.message()));
    } else if (must_exist) {
      errors.push_back(rule_file_error(path, "no such file or folder"));
    }
    return;
  }
  if (!fs::is_directory(status)) {
    bool refused = false;
    if (check) {
      const int fd = open_trusted(path, false, errors, &refused);
      if (fd < 0 && !refused) return;
      if (fd >= 0) ::close(fd);
    }
    out.push_back({path, origin, check, refused});
    return;
  }
  std::vector<std::string> files;
  bool folder_refused = false;
  int fd = check ? open_trusted(path, true, errors, &folder_refused) : -1;
  if (check && fd < 0 && !folder_refused) return;
  if (fd >= 0) {
    // List the folder that was checked, through its descriptor.
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      errors.push_back(rule_file_error(path, std::string("cannot list folder: ") + std::strerror(errno)));
      ::close(fd);
      return;
    }
    errno = 0;
    while (const dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      struct stat st {};
      if (fs::path(name).extension() == ".rules" && ::fstatat(::dirfd(dir), name.c_str(), &st, 0) == 0 &&
          S_ISREG(st.st_mode)) {
        files.push_back((fs::path(path) / name).string());
      }
      errno = 0;
    }
    const int list_errno = errno;
    ::closedir(dir);
    if (list_errno != 0) {
      errors.push_back(
          rule_file_error(path, std::string("cannot list folder: ") + std::strerror(list_errno)));
      return;
    }
  } else {
    // Not checked, or refused (its files are then read only to report their own mistakes).
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".rules" && it->is_regular_file(ec)) files.push_back(it->path().string());
    }
    if (ec) {
      errors.push_back(rule_file_error(path, "cannot list folder: " + ec.message()));
      return;
    }
  }
  std::sort(files.begin(), files.end());
  for (auto& f : files) {
    bool refused = folder_refused;
    if (check && !folder_refused) {
      const int file_fd = open_trusted(f, false, errors, &refused);
      if (file_fd < 0 && !refused) continue;
      if (file_fd >= 0) ::close(file_fd);
    }
    out.push_back({std::move(f), origin, check, refused});
  }
}

}  // namespace

std::vector<RuleFileRef> collect_rule_files(const RuleSources& sources, std::vector<Error>& errors) {
  std::vector<RuleFileRef> out;
  if (!sources.no_default_rules && sources.shipped_dir) {
    add_path(*sources.shipped_dir, RuleOrigin::Shipped, true, true, out, errors);
  }
  if (!sources.no_user_rules) {
    add_path(sources.system_dir, RuleOrigin::System, false, true, out, errors);
    add_path(sources.user_dir, RuleOrigin::User, false, true, out, errors);
  }
  for (const auto& extra : sources.extra) add_path(extra, RuleOrigin::CommandLine, true, true, out, errors);
  return out;
}

std::vector<RuleFileRef> collect_paths(const std::vector<std::string>& paths, RuleOrigin origin,
                                       std::vector<Error>& errors) {
  std::vector<RuleFileRef> out;
  for (const auto& p : paths) add_path(p, origin, true, origin != RuleOrigin::Shipped, out, errors);
  return out;
}

int open_trusted(const std::string& path, bool folder, std::vector<Error>& errors, bool* refused) {
  if (refused) *refused = false;
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) {
    errors.push_back(rule_file_error(path, std::string("cannot read: ") + std::strerror(errno)));
    return -1;
  }
  const std::string real = resolved;
  std::free(resolved);
  const std::string target = real == path ? path : path + " (" + real + ")";
  const std::vector<std::string> parts = components(real);
  // O_PATH for the folders on the way: they need only be searchable. Never a link: a
  // component that became one since realpath() fails with ELOOP or ENOTDIR.
  const int walk_flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  const int final_flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (folder ? O_DIRECTORY : 0);
  int fd = ::open("/", parts.empty() ? final_flags : walk_flags);
  std::string at = "/";
  struct stat st {};
  for (std::size_t i = 0; fd >= 0 && i < parts.size(); ++i) {
    if (::fstat(fd, &st) != 0) {
      errors.push_back(rule_file_error(at, std::string("cannot read: ") + std::strerror(errno)));
      ::close(fd);
      return -1;
    }
    if (!check_parent(at, target, st, errors, refused)) {
      ::close(fd);
      return -1;
    }
    const int next = ::openat(fd, parts[i].c_str(), i + 1 == parts.size() ? final_flags : walk_flags);
    const int open_errno = errno;
    ::close(fd);
    if (next < 0) {
      const bool changed = open_errno == ELOOP || open_errno == ENOTDIR || open_errno == ENOENT;
      errors.push_back(
          rule_file_error(path, changed ? "cannot read: it changed while being checked (" + real + ")"
                                        : std::string("cannot read: ") + std::strerror(open_errno)));
      return -1;
    }
    fd = next;
    at = (at == "/" ? "" : at) + "/" + parts[i];
  }
  if (fd < 0) {
    errors.push_back(rule_file_error(path, std::string("cannot read: ") + std::strerror(errno)));
    return -1;
  }
  if (::fstat(fd, &st) != 0) {
    errors.push_back(rule_file_error(path, std::string("cannot read: ") + std::strerror(errno)));
    ::close(fd);
    return -1;
  }
  if (!check_target(path, real, folder, st, errors, refused)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

LoadResult load_rule_set(const std::vector<RuleFileRef>& files) {
  LoadResult result;
  std::vector<ast::File> parsed;
  bool any_refused = false;
  for (const auto& ref : files) {
    std::string text;
    int err = 0;
    bool ok = false;
    if (ref.refused) {
      // Its refusal is already reported; read it (nothing runs) for its own mistakes.
      any_refused = true;
      ok = files::read_whole(ref.path, text, err);
    } else if (ref.checked) {
      // The checks and the read are on one descriptor: what was checked is what is read.
      const int fd = open_trusted(ref.path, false, result.errors);
      if (fd < 0) continue;
      ok = files::read_whole_fd(fd, text, err);
      ::close(fd);
    } else {
      ok = files::read_whole(ref.path, text, err);
    }
    if (!ok) {
      result.errors.push_back(rule_file_error(ref.path, "cannot read: " + files::read_error_text(err)));
      continue;
    }
    auto parse = parse_rules(std::move(text), ref.path);
    if (parse.error) {
      result.errors.push_back(diagnostic_error(*parse.error));
      continue;
    }
    parsed.push_back(std::move(*parse.file));
  }
  auto checked = check_rule_files(std::move(parsed));
  for (const auto& d : checked.errors) result.errors.push_back(diagnostic_error(d));
  if (result.errors.empty() && !any_refused) result.rule_set = std::move(checked.rule_set);
  return result;
}

std::optional<std::string> find_shipped_rules(const std::string& fallback) {
  std::error_code ec;
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    buf[n] = '\0';
    const fs::path installed = fs::path(buf).parent_path().parent_path() / "share" / "lcrules";
    if (fs::is_directory(installed, ec)) return installed.string();
  }
  if (!fallback.empty() && fs::is_directory(fallback, ec)) return fallback;
  return std::nullopt;
}

}  // namespace lcrules
