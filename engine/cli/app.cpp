#include "engine/cli/app.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <iterator>

#include <CLI/Version.hpp>

#include "engine/cli/diff.hpp"
#include "engine/facts/command.hpp"
#include "lcrules/format.hpp"

namespace lcrules::cli {
namespace {

// After SIGTERM, SIGINT or SIGHUP the answer is incomplete (commands were killed): nothing
// is written, and main() exits with 128 + the signal.
bool interrupted() { return interrupted_by_signal() != 0; }

Styles g_styles;

void print_errors(const std::vector<Error>& errors) {
  for (const auto& e : errors)
    std::cerr << paint_diagnostic(e.text, g_styles.err)
              << (e.text.empty() || e.text.back() != '\n' ? "\n" : "");
}

// Loads the active rules (through the rule-set cache when `use_cache`); errors printed.
std::optional<LoadedRules> load(const Engine& engine, const RuleSetOptions& options) {
  auto loaded = engine.load(options);
  if (!loaded) {
    print_errors(loaded.errors());
    return std::nullopt;
  }
  for (const auto& w : loaded->warnings()) spdlog::warn("{}", w);
  for (const auto& w : loaded->rule_warnings()) std::cerr << paint_diagnostic(w, g_styles.err) << "\n";
  return std::move(loaded.value());
}

}  // namespace

// The answer went to std::cout: flushed here, so that a failed write (a full disk, a closed
// standard output, a pipe whose reader is gone) is an error, not an exit 0 with nothing printed.
int answer_written(int status) {
  if (std::cout.good()) {  // else errno is still the failed write's
    errno = 0;
    std::cout.flush();
    if (std::cout.good()) return status;
  }
  const int err = errno;
  std::cerr << paint_diagnostic("lcrules: error: cannot write the answer: ", g_styles.err)
            << (err != 0 ? std::strerror(err) : "the output stream failed") << "\n";
  return kExitInput;
}

namespace {

// --- lcrules fmt --------------------------------------------------------------------------

constexpr std::size_t kMaxRuleFileSize = 64 * 1024 * 1024;  // as the loader reads rule files
constexpr const char* kStdinName = "<stdin>";

void file_error(const std::string& file, const std::string& message) {
  std::cerr << file << ": error: " << message << "\n";
}

// The whole of a regular file (or a device); false with the error printed.
bool read_file(const std::string& path, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    file_error(path, std::string("cannot read: ") + std::strerror(errno));
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
    file_error(path, S_ISDIR(st.st_mode) ? "cannot read: Is a directory" : "cannot read: not a regular file");
    ::close(fd);
    return false;
  }
  out.clear();
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      file_error(path, std::string("cannot read: ") + std::strerror(errno));
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > kMaxRuleFileSize) {
      file_error(path, "cannot read: larger than 64 MiB");
      ::close(fd);
      return false;
    }
  }
  ::close(fd);
  return true;
}

// Replaces the file at `path` with `text` as one step: a temporary file in the same folder
// (mode and, where allowed, owner of the original), written and synced, then renamed over
// it. A link is followed: the file it points at is replaced. False with the error printed;
// the original is then unchanged.
bool replace_file(const std::string& path, const std::string& text) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) {
    file_error(path, std::string("cannot write: ") + std::strerror(errno));
    return false;
  }
  const std::string real = resolved;
  std::free(resolved);
  struct stat st {};
  if (::stat(real.c_str(), &st) != 0) {
    file_error(path, std::string("cannot write: ") + std::strerror(errno));
    return false;
  }
  const std::filesystem::path target(real);
  std::string tmp = (target.parent_path() / ("." + target.filename().string() + ".fmt-XXXXXX")).string();
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) {
    file_error(path, std::string("cannot write: ") + std::strerror(errno) + " (creating a file in " +
                         target.parent_path().string() + "); the file is unchanged");
    return false;
  }
  auto fail = [&](const char* what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    file_error(path,
               std::string("cannot write: ") + std::strerror(err) + " (" + what + "); the file is unchanged");
    return false;
  };
  if (::fchmod(fd, st.st_mode & 07777) != 0) return fail("setting its mode");
  if (st.st_uid != ::geteuid() || st.st_gid != ::getegid()) (void)::fchown(fd, st.st_uid, st.st_gid);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("writing");
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("syncing");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    file_error(path, std::string("cannot write: ") + std::strerror(err) + "; the file is unchanged");
    return false;
  }
  if (::rename(tmp.c_str(), real.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    file_error(path,
               std::string("cannot write: ") + std::strerror(err) + " (renaming); the file is unchanged");
    return false;
  }
  return true;
}

// The files to format: each file given, and the *.rules files of each folder, sorted.
std::vector<std::string> fmt_targets(const std::vector<std::string>& paths, bool& ok) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (p == "-" || !fs::is_directory(p, ec)) {
      out.push_back(p);
      continue;
    }
    std::vector<std::string> files;
    for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code ec2;
      if (it->path().extension() == ".rules" && it->is_regular_file(ec2))
        files.push_back(it->path().string());
    }
    if (ec) {
      file_error(p, "cannot list folder: " + ec.message());
      ok = false;
      continue;
    }
    std::sort(files.begin(), files.end());
    out.insert(out.end(), files.begin(), files.end());
  }
  return out;
}

bool color_for(int fd, const std::string& when) {
  if (when == "always") return true;  // an explicit flag wins over NO_COLOR (no-color.org)
  if (when == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  return ::isatty(fd) == 1;
}

// The engine's build information and the command line's own library.
BuildInfo cli_build_info() {
  BuildInfo info = build_info();
  info.libraries.emplace_back("CLI11", CLI11_VERSION);
  return info;
}

}  // namespace

int run_fmt(const FmtOptions& options) {
  bool ok = true;
  bool changes = false;
  const std::vector<std::string> targets =
      fmt_targets(options.paths.empty() ? std::vector<std::string>{"-"} : options.paths, ok);
  for (const auto& target : targets) {
    const bool from_stdin = target == "-";
    const std::string name = from_stdin ? kStdinName : target;
    std::string text;
    if (from_stdin) {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
      if (std::cin.bad()) {
        file_error(name, std::string("cannot read: ") + std::strerror(errno));
        ok = false;
        continue;
      }
    } else if (!read_file(target, text)) {
      ok = false;
      continue;
    }
    auto formatted = format_rules(text, name);
    if (!formatted) {
      print_errors(formatted.errors());
      ok = false;
      continue;
    }
    const std::string& result = formatted.value();
    if (from_stdin && !options.check && !options.diff) {
      std::cout << result;
      continue;
    }
    if (result == text) continue;
    changes = true;
    if (options.diff) {
      std::cout << unified_diff(text, result, name + "\t(original)", name + "\t(formatted)");
    } else if (options.check) {
      std::cout << name << "\n";
    } else if (!replace_file(target, result)) {
      ok = false;
    }
  }
  const int status = answer_written(!ok ? kExitInput : options.check && changes ? kExitNo : kExitOk);
  return status;
}

int run_eval(const Engine& engine, const EvalRequest& request, RuleSetOptions rules, bool json) {
  rules.use_cache = !request.no_cache;
  auto loaded = load(engine, rules);
  if (!loaded) return kExitInput;
  auto result = engine.evaluate(*loaded, request);
  if (interrupted()) return kExitInternal;  // main() turns it into 128 + N
  if (!result) {
    print_errors(result.errors());
    return kExitInput;
  }
  for (const auto& w : result->warnings()) spdlog::warn("{}", w);
  std::cout << (json ? dump_json(result->json()) : result->text(g_styles.out));
  return answer_written(kExitOk);
}

int run_check(const Engine& engine, const std::vector<std::string>& paths, const RuleSetOptions& rules,
              bool alone, bool json) {
  RuleSetOptions options = rules;
  options.use_cache = false;  // checking always reads the files
  auto checked = paths.empty() ? engine.load(options) : engine.check(paths, options, alone);
  if (interrupted()) return kExitInternal;  // main() turns it into 128 + N
  std::vector<std::string> warnings;
  if (checked) {
    warnings = checked->warnings();
    warnings.insert(warnings.end(), checked->rule_warnings().begin(), checked->rule_warnings().end());
  }
  if (json) {
    // Editors read the diagnostics on stdout, errors or not.
    std::cout << dump_json(diagnostics_json(checked.errors(), warnings));
    return answer_written(checked ? kExitOk : kExitInput);
  }
  if (!checked) {
    print_errors(checked.errors());
    return kExitInput;
  }
  for (const auto& w : checked->warnings()) spdlog::warn("{}", w);
  for (const auto& w : checked->rule_warnings()) std::cerr << paint_diagnostic(w, g_styles.err) << "\n";
  return kExitOk;
}

int run_rules(const Engine& engine, const RuleSetOptions& rules, bool json) {
  RuleSetOptions options = rules;
  options.use_cache = false;
  auto loaded = load(engine, options);
  if (!loaded) return kExitInput;
  const auto list = loaded->rules();
  if (interrupted()) return kExitInternal;  // main() turns it into 128 + N
  std::cout << (json ? dump_json(rules_json(list)) : rules_text(list));
  return answer_written(kExitOk);
}

int run_facts(const Engine& engine, const EvalRequest& request, RuleSetOptions rules, bool json,
              bool run_commands) {
  rules.use_cache = !request.no_cache;
  auto loaded = load(engine, rules);
  if (!loaded) return kExitInput;
  auto facts = engine.facts(*loaded, request, run_commands);
  if (interrupted()) return kExitInternal;  // main() turns it into 128 + N
  if (!facts) {
    print_errors(facts.errors());
    return kExitInput;
  }
  std::cout << (json ? dump_json(facts_json(facts.value())) : facts_text(facts.value()));
  return answer_written(kExitOk);
}

int run_tests(const Engine& engine, TestOptions options, const RuleSetOptions& rules) {
  if (options.paths.empty()) {
    for (const auto& p : engine.rule_paths(rules)) {
      if (p.folder) options.search_folders.push_back(p.path);
    }
  }
  options.style = g_styles.out;
  options.error_style = g_styles.err;
  return answer_written(static_cast<int>(run_rule_tests(options, rules, std::cout, std::cerr)));
}

Styles decide_styles(const std::string& when) {
  Styles s;
  s.out.color = color_for(STDOUT_FILENO, when);
  s.err.color = color_for(STDERR_FILENO, when);
  return s;
}

void set_styles(const Styles& styles) { g_styles = styles; }
const Styles& styles() { return g_styles; }

std::string version_text() { return build_info_text(cli_build_info()); }

int run_version(bool json) {
  std::cout << (json ? dump_json(build_info_json(cli_build_info())) : version_text());
  return answer_written(kExitOk);
}

}  // namespace lcrules::cli
