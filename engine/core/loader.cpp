#include "engine/core/loader.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
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
  return e;
}

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Rules can run commands, so (as ssh does for its keys) a file or folder that someone else
// could change is refused. World-writable folders with the sticky bit (/tmp) are fine:
// others cannot replace a file in them.
bool check_trusted(const std::string& path, bool is_dir, std::vector<Error>& errors) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    errors.push_back(rule_file_error(path, std::string("cannot read: ") + std::strerror(errno)));
    return false;
  }
  const bool sticky_dir = is_dir && (st.st_mode & S_ISVTX);
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky_dir) {
    errors.push_back(
        rule_file_error(path, std::string("refusing to load rules from a ") + (is_dir ? "folder" : "file") +
                                  " that group or others can write (mode " + mode_text(st.st_mode) +
                                  "): rules can run commands. Fix it with: chmod go-w " + path));
    return false;
  }
  if (st.st_uid != ::getuid() && st.st_uid != 0) {
    errors.push_back(rule_file_error(
        path, "refusing to load rules from a " + std::string(is_dir ? "folder" : "file") + " owned by uid " +
                  std::to_string(st.st_uid) + ", neither you (uid " + std::to_string(::getuid()) +
                  ") nor root: rules can run commands. Fix it with: chown " + std::to_string(::getuid()) +
                  " " + path));
    return false;
  }
  return true;
}

std::string parent_of(const std::string& path) {
  fs::path p = fs::path(path).parent_path();
  return p.empty() ? std::string(".") : p.string();
}

void add_path(const std::string& path, RuleOrigin origin, bool must_exist, std::vector<RuleFileRef>& out,
              std::vector<Error>& errors) {
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
  const bool check = origin != RuleOrigin::Shipped;
  if (fs::is_directory(status)) {
    if (check && !check_trusted(path, true, errors)) return;
    std::vector<std::string> files;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".rules" && it->is_regular_file(ec)) files.push_back(it->path().string());
    }
    if (ec) {
      errors.push_back(rule_file_error(path, "cannot list folder: " + ec.message()));
      return;
    }
    std::sort(files.begin(), files.end());
    for (auto& f : files) {
      if (check && !check_trusted(f, false, errors)) continue;
      out.push_back({std::move(f), origin});
    }
    return;
  }
  if (check) {
    if (!check_trusted(parent_of(path), true, errors)) return;
    if (!check_trusted(path, false, errors)) return;
  }
  out.push_back({path, origin});
}

}  // namespace

std::vector<RuleFileRef> collect_rule_files(const RuleSources& sources, std::vector<Error>& errors) {
  std::vector<RuleFileRef> out;
  if (!sources.no_default_rules && sources.shipped_dir) {
    add_path(*sources.shipped_dir, RuleOrigin::Shipped, true, out, errors);
  }
  if (!sources.no_user_rules) {
    add_path(sources.system_dir, RuleOrigin::System, false, out, errors);
    add_path(sources.user_dir, RuleOrigin::User, false, out, errors);
  }
  for (const auto& extra : sources.extra) add_path(extra, RuleOrigin::CommandLine, true, out, errors);
  return out;
}

std::vector<RuleFileRef> collect_paths(const std::vector<std::string>& paths, RuleOrigin origin,
                                       std::vector<Error>& errors) {
  std::vector<RuleFileRef> out;
  for (const auto& p : paths) add_path(p, origin, true, out, errors);
  return out;
}

LoadResult load_rule_set(const std::vector<RuleFileRef>& files) {
  LoadResult result;
  std::vector<ast::File> parsed;
  for (const auto& ref : files) {
    std::string text;
    int err = 0;
    if (!files::read_whole(ref.path, text, err)) {
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
  if (result.errors.empty()) result.rule_set = std::move(checked.rule_set);
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
