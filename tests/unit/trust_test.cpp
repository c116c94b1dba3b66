// Who may write the rules that run: the shipped folder is checked like the others, and so
// is every folder on the way to a rule file.
// The tests run as root in CI: a fixture chowned to uid 12345 plays another user.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/core/loader.hpp"
#include "lcrules/engine.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace lcrules;
using lcrules::testing::TempDir;

namespace {

constexpr uid_t kOtherUid = 12345;

const char* const kRule = "rule planted {\n  priority 900\n  when context.name == \"lab\"\n  set local = true\n}\n";

bool is_root() { return ::geteuid() == 0; }

void chown_other(const std::string& path) { REQUIRE(::lchown(path.c_str(), kOtherUid, kOtherUid) == 0); }

void chmod_to(const std::string& path, mode_t mode) { REQUIRE(::chmod(path.c_str(), mode) == 0); }

std::vector<RuleFileRef> collect_shipped(const std::string& shipped, std::vector<Error>& errors) {
  RuleSources sources;
  sources.shipped_dir = shipped;
  sources.no_user_rules = true;
  return collect_rule_files(sources, errors);
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
    CHECK(load_rule_set(files).errors.empty());
  }
  SECTION("a folder owned by another user is refused") {
    if (!is_root()) return;  // chown needs root
    chown_other(shipped);
    std::vector<Error> errors;
    CHECK(collect_shipped(shipped, errors).empty());
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].text == shipped + ": error: refusing to load rules from a folder owned by uid 12345, neither you (uid " +
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
    CHECK(collect_shipped(shipped, errors).empty());
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
  }
}
