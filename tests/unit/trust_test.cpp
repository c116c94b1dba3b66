// Who may write the rules that run: the shipped folder is checked like the others, the
// checks are made on the descriptor that is then read, every real folder on the way to a
// rule file counts (also behind a symbolic link), and what is read is what was checked.
// The tests run as root in CI: a fixture chowned to uid 12345 plays another user.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/core/loader.hpp"
#include "engine/facts/files.hpp"
#include "lcrules/engine.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace lcrules;
using lcrules::testing::TempDir;

namespace {

constexpr uid_t kOtherUid = 12345;

const char* const kRule =
    "rule planted {\n  priority 900\n  when context.name == \"lab\"\n  set local = true\n}\n";

bool is_root() { return ::geteuid() == 0; }

void chown_other(const std::string& path) { REQUIRE(::lchown(path.c_str(), kOtherUid, kOtherUid) == 0); }

void chmod_to(const std::string& path, mode_t mode) { REQUIRE(::chmod(path.c_str(), mode) == 0); }

std::string all_text(const std::vector<Error>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.text + "\n";
  return out;
}

// The files collect_rule_files finds with only `user` as the user folder.
std::vector<RuleFileRef> collect_user(const std::string& user, std::vector<Error>& errors) {
  RuleSources sources;
  sources.no_default_rules = true;
  sources.system_dir = "/nonexistent/lcrules-system";
  sources.user_dir = user;
  return collect_rule_files(sources, errors);
}

std::vector<RuleFileRef> collect_shipped(const std::string& shipped, std::vector<Error>& errors) {
  RuleSources sources;
  sources.shipped_dir = shipped;
  sources.no_user_rules = true;
  return collect_rule_files(sources, errors);
}

// What collect_rule_files returns after a refusal: only files marked `refused` (read just to
// report their own mistakes), from which no rule set is ever built.
bool nothing_trusted(const std::vector<RuleFileRef>& files) {
  if (files.empty()) return true;
  const bool all_refused =
      std::all_of(files.begin(), files.end(), [](const RuleFileRef& f) { return f.refused; });
  return all_refused && !load_rule_set(files).rule_set;
}

}  // namespace

TEST_CASE("the shipped folder is checked like the others", "[trust]") {
  TempDir dir("lcrules-trust");
  const std::string shipped = dir / "share/lcrules";
  dir.write("share/lcrules/10-real.rules", kRule);
  chmod_to(shipped, 0755);
  chmod_to(shipped + "/10-real.rules", 0644);

  SECTION("a private folder loads") {
    std::vector<Error> errors;
    auto files = collect_shipped(shipped, errors);
    CHECK(errors.empty());
    REQUIRE(files.size() == 1);
    CHECK(files[0].checked);
    CHECK(load_rule_set(files).errors.empty());
  }
  SECTION("a folder owned by another user is refused") {
    if (!is_root()) return;  // chown needs root
    chown_other(shipped);
    std::vector<Error> errors;
    CHECK(nothing_trusted(collect_shipped(shipped, errors)));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].text ==
          shipped + ": error: refusing to load rules from a folder owned by uid 12345, neither you (uid " +
              std::to_string(::getuid()) + ") nor root: rules can run commands. Fix it with: chown " +
              std::to_string(::getuid()) + " " + shipped);
  }
  SECTION("an empty folder owned by another user is refused, not taken as no rules") {
    if (!is_root()) return;  // chown needs root
    fs::remove(shipped + "/10-real.rules");
    chown_other(shipped);
    std::vector<Error> errors;
    collect_shipped(shipped, errors);
    CHECK(errors.size() == 1);
  }
  SECTION("a world-writable rule file in it is refused") {
    chmod_to(shipped + "/10-real.rules", 0666);
    std::vector<Error> errors;
    CHECK(nothing_trusted(collect_shipped(shipped, errors)));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].text.find("that group or others can write (mode 0666)") != std::string::npos);
  }
  SECTION("a folder on the way writable by others is refused") {
    chmod_to(dir / "share", 0777);
    std::vector<Error> errors;
    collect_shipped(shipped, errors);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].text.rfind(dir / "share: error: refusing to load rules from " + shipped, 0) == 0);
  }
  SECTION("a world-writable sticky folder on the way is fine when root's or yours, not another user's") {
    chmod_to(dir / "share", 01777);
    std::vector<Error> errors;
    CHECK(collect_shipped(shipped, errors).size() == 1);
    CHECK(errors.empty());
    if (!is_root()) return;  // chown needs root
    chown_other(dir / "share");
    collect_shipped(shipped, errors);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].text.find("this folder on its way is owned by uid 12345") != std::string::npos);
  }
  SECTION("Engine::load refuses a planted shipped folder with the message") {
    if (!is_root()) return;  // chown needs root
    chown_other(shipped);
    Environment env;
    env.getenv = [&dir](const std::string& name) -> std::optional<std::string> {
      if (name == "HOME") return dir.str();
      return std::nullopt;
    };
    Engine engine(env);
    RuleSetOptions options;
    options.shipped_fallback = shipped;
    options.no_user_rules = true;
    options.use_cache = false;
    auto loaded = engine.load(options);
    REQUIRE(!loaded);
    REQUIRE(loaded.errors().size() == 1);
    CHECK(loaded.errors()[0].kind == ErrorKind::RuleFiles);
  }
  SECTION("check and test read given files without ownership checks") {
    if (!is_root()) return;  // chown needs root
    chown_other(shipped);
    std::vector<Error> errors;
    auto files = collect_paths({shipped}, RuleOrigin::Shipped, errors);
    CHECK(errors.empty());
    REQUIRE(files.size() == 1);
    CHECK(!files[0].checked);
  }
}

TEST_CASE("the real folders of a rule file count, also behind a link", "[trust]") {
  TempDir dir("lcrules-trust");
  const std::string user = dir / "config/lcrules";
  fs::create_directories(user);
  chmod_to(dir / "config", 0700);
  chmod_to(user, 0700);

  SECTION("a link to a file in a folder others can write is refused") {
    const std::string real = dir.write("world/50-team.rules", kRule);
    chmod_to(real, 0644);
    chmod_to(dir / "world", 0777);
    fs::create_symlink(real, user + "/50-team.rules");
    std::vector<Error> errors;
    CHECK(nothing_trusted(collect_user(user, errors)));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].text.rfind(dir / "world: error: refusing to load rules from " + user +
                                   "/50-team.rules (" + real +
                                   "): this folder on its way can be written by group or others (mode 0777)",
                               0) == 0);
  }
  SECTION("a rule folder reached through a link, inside a folder others can write, is refused") {
    fs::remove(user);
    const std::string real = dir.write("world/rules/50-team.rules", kRule);
    chmod_to(real, 0644);
    chmod_to(dir / "world/rules", 0755);
    chmod_to(dir / "world", 0777);
    fs::create_directory_symlink(dir / "world/rules", user);
    std::vector<Error> errors;
    CHECK(nothing_trusted(collect_user(user, errors)));
    REQUIRE(!errors.empty());
    CHECK(errors[0].text.rfind(dir / "world: error: ", 0) == 0);
  }
  SECTION("a link to a file owned by another user is refused") {
    if (!is_root()) return;  // chown needs root
    const std::string real = dir.write("elsewhere/50-team.rules", kRule);
    chmod_to(real, 0644);
    chmod_to(dir / "elsewhere", 0755);
    chown_other(real);
    fs::create_symlink(real, user + "/50-team.rules");
    std::vector<Error> errors;
    CHECK(nothing_trusted(collect_user(user, errors)));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].text.find("refusing to load rules from a file owned by uid 12345") != std::string::npos);
  }
  SECTION("a link to a private file in a private folder loads") {
    const std::string real = dir.write("dotfiles/50-team.rules", kRule);
    chmod_to(real, 0644);
    chmod_to(dir / "dotfiles", 0700);
    fs::create_symlink(real, user + "/50-team.rules");
    std::vector<Error> errors;
    auto files = collect_user(user, errors);
    CHECK(errors.empty());
    REQUIRE(files.size() == 1);
    auto loaded = load_rule_set(files);
    CHECK(loaded.errors.empty());
  }
  SECTION("a FIFO named like a rule file is refused without blocking") {
    REQUIRE(::mkfifo((user + "/50-fifo.rules").c_str(), 0600) == 0);
    std::vector<Error> errors;
    CHECK(open_trusted(user + "/50-fifo.rules", false, errors) == -1);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].text == user + "/50-fifo.rules: error: cannot read: not a regular file");
  }
}

TEST_CASE("what is read is what was checked", "[trust]") {
  TempDir dir("lcrules-trust");
  const std::string user = dir / "lcrules";
  const std::string file = dir.write("lcrules/50-team.rules", "# checked\n");
  chmod_to(user, 0700);
  chmod_to(file, 0644);

  SECTION("read_whole_fd reads the opened file, not what is at its path now") {
    std::vector<Error> errors;
    const int fd = open_trusted(file, false, errors);
    REQUIRE(fd >= 0);
    const std::string swapped = dir.write("swapped.rules", "# swapped in\n");
    fs::rename(swapped, file);
    std::string text;
    int err = 0;
    CHECK(files::read_whole_fd(fd, text, err));
    CHECK(text == "# checked\n");
    ::close(fd);
  }
  SECTION("read_whole_fd refuses a FIFO and keeps the size cap") {
    REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
    const int fifo = ::open((dir / "fifo").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(fifo >= 0);
    std::string text;
    int err = 0;
    CHECK(!files::read_whole_fd(fifo, text, err));
    CHECK(err == files::kNotRegularFile);
    ::close(fifo);
    const int big = ::open((dir / "big").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(big >= 0);
    REQUIRE(::ftruncate(big, static_cast<off_t>(files::kMaxInputFileSize) + 1) == 0);
    CHECK(!files::read_whole_fd(big, text, err));
    CHECK(err == files::kTooLarge);
    ::close(big);
  }
  SECTION("a file made writable by others after it was listed is refused when read") {
    std::vector<Error> errors;
    auto files = collect_user(user, errors);
    REQUIRE(errors.empty());
    REQUIRE(files.size() == 1);
    chmod_to(file, 0666);
    auto loaded = load_rule_set(files);
    CHECK(!loaded.rule_set);
    REQUIRE(loaded.errors.size() == 1);
    CHECK(loaded.errors[0].text.find("(mode 0666)") != std::string::npos);
  }
  SECTION("a file replaced by a link after it was listed is checked where the link leads") {
    std::vector<Error> errors;
    auto files = collect_user(user, errors);
    REQUIRE(errors.empty());
    const std::string real = dir.write("world/50-team.rules", "# planted\n");
    chmod_to(real, 0644);
    chmod_to(dir / "world", 0777);
    fs::remove(file);
    fs::create_symlink(real, file);
    auto loaded = load_rule_set(files);
    CHECK(!loaded.rule_set);
    CHECK(all_text(loaded.errors).find(dir / "world: error: ") != std::string::npos);
  }
}

TEST_CASE("every problem of every rule file is reported in one run", "[trust]") {
  TempDir dir("lcrules-trust");
  const std::string user = dir / "config/lcrules";
  dir.write("config/lcrules/10-open.rules", "rule open {\n  set local = tru\n}\n");  // also a mistake
  dir.write("config/lcrules/20-bad.rules",
            "rule bad {\n  when context.nmae == \"x\"\n  set local = true\n}\n");
  dir.write("config/lcrules/30-open.rules", kRule);
  dir.write("config/lcrules/40-uses-open.rules", "override planted { replace priority 10 }\n");
  chmod_to(dir / "config", 0700);
  chmod_to(user, 0700);
  chmod_to(user + "/10-open.rules", 0664);
  chmod_to(user + "/20-bad.rules", 0644);
  chmod_to(user + "/30-open.rules", 0666);
  chmod_to(user + "/40-uses-open.rules", 0644);
  Environment env;
  env.getenv = [&dir](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") return dir.str();
    if (name == "XDG_CONFIG_HOME") return dir / "config";
    if (name == "LCRULES_SYSTEM_DIR") return dir / "no-system";
    return std::nullopt;
  };
  Engine engine(env);
  RuleSetOptions options;
  options.no_default_rules = true;
  options.use_cache = false;
  auto loaded = engine.load(options);
  REQUIRE(!loaded);
  // Both refusals, the refused file's own syntax error, and the other file's unknown fact; the
  // override of a rule in a refused file is not reported as naming no rule.
  std::vector<std::string> headlines;
  for (const auto& e : loaded.errors()) headlines.push_back(e.text.substr(0, e.text.find('\n')));
  REQUIRE(headlines.size() == 4);
  CHECK(headlines[0].rfind(user + "/10-open.rules: error: refusing to load rules from a file that group or "
                                  "others can write (mode 0664)",
                           0) == 0);
  CHECK(headlines[1].rfind(user + "/30-open.rules: error: refusing to load rules from a file that group or "
                                  "others can write (mode 0666)",
                           0) == 0);
  CHECK(headlines[2].rfind(user + "/10-open.rules:2:", 0) == 0);
  CHECK(headlines[3].rfind(user + "/20-bad.rules:2:8: error: unknown fact 'context.nmae'", 0) == 0);
}
