// The compiled rule-set cache: a decoded rule set decides and explains exactly as the
// loaded one; an entry for other files, a damaged or a truncated one is refused; editing a
// rule file replaces the entry.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/core/evaluator.hpp"
#include "engine/core/loader.hpp"
#include "engine/core/output.hpp"
#include "engine/cache/ruleset_cache.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace lcrules;
using lcrules::testing::TempDir;

namespace {

std::vector<RuleFileRef> shipped_files() {
  RuleSources sources;
  sources.shipped_dir = std::string(LCRULES_TESTS_DIR) + "/../rules";
  sources.no_user_rules = true;
  std::vector<lcrules::Error> errors;
  auto files = collect_rule_files(sources, errors);
  REQUIRE(errors.empty());
  return files;
}

RuleSet load(const std::vector<RuleFileRef>& files) {
  auto loaded = load_rule_set(files);
  REQUIRE(loaded.errors.empty());
  REQUIRE(loaded.rule_set);
  return std::move(*loaded.rule_set);
}

// minikube installed with one profile `minikube` at 192.168.49.2:8443; nothing else runs.
class StubExecutor final : public CommandExecutor {
 public:
  CommandResult run(const CommandRequest& request) override {
    CommandResult r;
    r.status = CommandResult::Status::Exited;
    if (request.argv.size() >= 2 && request.argv[0] == "minikube" && request.argv[1] == "version") {
      r.out = R"({"minikubeVersion":"v1.33.1"})";
    } else if (request.argv.size() >= 2 && request.argv[0] == "minikube" && request.argv[1] == "profile") {
      r.out = R"({"valid":[{"Name":"minikube","Config":{"Nodes":[{"IP":"192.168.49.2","Port":8443}]}}]})";
    } else {
      r.status = CommandResult::Status::NotFound;
      r.reason = "not found on PATH";
    }
    return r;
  }
};

// Everything `eval --explain` prints for `context` (its cluster entry has the same name).
std::string explained(const RuleSet& rules, const std::string& context, const std::string& server) {
  StubExecutor executor;
  EvaluationInput in;
  in.context.name = context;
  in.context.in_kubeconfig = true;
  in.context.cluster_ref = context;
  in.context.user = context;
  in.context.file = "/home/u/.kube/config";
  in.context.cluster_found = true;
  in.context.server = server;
  in.kubeconfig_files = {"/home/u/.kube/config"};
  in.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") return std::string("/home/u");
    return std::nullopt;
  };
  in.file_exists = [](const std::string&) { return false; };
  in.skaffold_config = [] { return std::map<std::string, std::string>{}; };
  in.executor = &executor;
  Explanation ex;
  const Decision d = evaluate(rules, in, &ex);
  return render_text(d, &ex);
}

}  // namespace

namespace {
// Dates `path` 10 s back: caches store no entry for a file modified within the last tick
// (cache_codec::recently_modified).
void settle(const std::string& path) {
  struct timespec times[2];
  REQUIRE(::clock_gettime(CLOCK_REALTIME, &times[0]) == 0);
  times[0].tv_sec -= 10;
  times[1] = times[0];
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}
}  // namespace

TEST_CASE("a decoded rule set decides and explains exactly as the loaded one", "[ruleset_cache]") {
  const auto files = shipped_files();
  const RuleSet loaded = load(files);
  const std::string entry = ruleset_cache::encode(loaded, "key");
  std::string why;
  const auto decoded = ruleset_cache::decode(entry, "key", &why);
  INFO(why);
  REQUIRE(decoded);
  CHECK(decoded->files == loaded.files);
  REQUIRE(decoded->rules.size() == loaded.rules.size());
  CHECK(decoded->active.size() == loaded.active.size());
  // Encoding the decoded set gives the same bytes: nothing was lost on the way.
  CHECK(ruleset_cache::encode(*decoded, "key") == entry);

  // Contexts that reach name, regex, list, path, command and JSON-path predicates.
  const std::vector<std::pair<std::string, std::string>> contexts = {
      {"kind-dev", "https://127.0.0.1:40123"},
      {"k3d-k3s-default", "https://0.0.0.0:6550"},
      {"docker-desktop", "https://kubernetes.docker.internal:6443"},
      {"minikube", "https://192.168.49.2:8443"},
      {"dev", "https://192.168.49.2:8443"},
      {"colima-work", "https://127.0.0.1:6443"},
      {"vcluster_my-vcluster_team_kind-dev", "https://127.0.0.1:8443"},
      {"arn:aws:eks:eu-west-1:123456789012:cluster/prod", "https://ABC.gr7.eu-west-1.eks.amazonaws.com"},
      {"gke_project_europe-west1_prod", "https://34.120.1.2"},
      {"microk8s", "https://127.0.0.1:16443"},
      {"admin@talos-default", "https://10.5.0.2:6443"},
      {"anything-else", "https://34.120.1.2"},
  };
  for (const auto& [context, server] : contexts) {
    INFO(context);
    CHECK(explained(*decoded, context, server) == explained(loaded, context, server));
  }
}

TEST_CASE("an entry is refused unless it is whole and for the same rule files", "[ruleset_cache]") {
  const RuleSet loaded = load(shipped_files());
  const std::string entry = ruleset_cache::encode(loaded, "key A");
  std::string why;

  CHECK_FALSE(ruleset_cache::decode(entry, "key B", &why));
  CHECK(why == "the files changed");

  CHECK_FALSE(ruleset_cache::decode("", "key A", &why));
  CHECK(why == "the entry is truncated");
  CHECK_FALSE(ruleset_cache::decode(std::string(64, 'x'), "key A", &why));
  CHECK(why == "not an entry of this kind");

  std::string other_format = entry;
  other_format[16] = static_cast<char>(other_format[16] + 1);  // the format number follows the magic
  CHECK_FALSE(ruleset_cache::decode(other_format, "key A", &why));
  CHECK(why == "another entry format");

  std::string damaged = entry;
  damaged[entry.size() / 2] = static_cast<char>(damaged[entry.size() / 2] ^ 0x20);
  CHECK_FALSE(ruleset_cache::decode(damaged, "key A", &why));
  CHECK(why == "the checksum does not match");

  // Cut anywhere: refused, never a crash (ASan and UBSan builds run this too).
  for (std::size_t len = 0; len < entry.size(); len += (len < 256 ? 1 : 211)) {
    INFO(len);
    CHECK_FALSE(ruleset_cache::decode(std::string_view(entry).substr(0, len), "key A", nullptr));
  }
  CHECK_FALSE(ruleset_cache::decode(entry + "x", "key A", &why));
}

TEST_CASE("the key changes when a rule file or lcrules changes", "[ruleset_cache]") {
  TempDir dir;
  const std::string rules =
      dir.write("a.rules", "lcrules 1\nrule a {\n  when context.name == \"a\"\n  set cluster = \"a\"\n}\n");
  const std::vector<RuleFileRef> files = {{rules, RuleOrigin::CommandLine}};
  const auto before = ruleset_cache::key_of(files);
  REQUIRE(before);
  CHECK(ruleset_cache::key_of(files) == before);
  CHECK(before->find(rules) != std::string::npos);

  // Same size, other content and modification time.
  dir.write("a.rules", "lcrules 1\nrule a {\n  when context.name == \"b\"\n  set cluster = \"b\"\n}\n");
  CHECK(ruleset_cache::key_of(files) != before);

  const std::vector<RuleFileRef> as_user = {{rules, RuleOrigin::User}};
  CHECK(ruleset_cache::key_of(as_user) != ruleset_cache::key_of(files));
  CHECK_FALSE(ruleset_cache::key_of({{dir / "missing.rules", RuleOrigin::User}}));
  // The entry is named after the paths only: an edited file replaces its entry.
  CHECK(ruleset_cache::entry_path("/c", files) == ruleset_cache::entry_path("/c", files));
  CHECK(ruleset_cache::entry_path("/c", files) != ruleset_cache::entry_path("/c", as_user));
}

TEST_CASE("load_with_cache writes an entry, reads it back and follows edits", "[ruleset_cache]") {
  TempDir dir;
  const std::string cache = dir / "cache/lcrules";
  const std::string rules = dir / "r/a.rules";
  const auto write_rule = [&](const std::string& cluster) {
    dir.write("r/a.rules", "lcrules 1\nrule a {\n  when context.name matches /k.*/\n  set cluster = \"" +
                               cluster + "\"\n}\n");
  };
  write_rule("one");
  settle(rules);
  const std::vector<RuleFileRef> files = {{rules, RuleOrigin::CommandLine}};

  auto first = ruleset_cache::load_with_cache(files, cache);
  REQUIRE(first.errors.empty());
  REQUIRE(first.rule_set);
  const std::string entry = ruleset_cache::entry_path(cache, files);
  REQUIRE(fs::exists(entry));
  struct stat st {};
  REQUIRE(::stat(cache.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat(entry.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  // The second load decodes the entry: an entry replaced by one for the same key but other
  // rules shows that it was read.
  auto key = ruleset_cache::key_of(files);
  REQUIRE(key);
  RuleSet marked = std::move(*first.rule_set);
  marked.rules.front().description = "from the cache";
  {
    std::string bytes = ruleset_cache::encode(marked, *key);
    dir.write("cache/lcrules/" + fs::path(entry).filename().string(), bytes);
  }
  auto second = ruleset_cache::load_with_cache(files, cache);
  REQUIRE(second.rule_set);
  CHECK(second.rule_set->rules.front().description == "from the cache");

  // Editing the rule file changes the key: loaded again, and the entry replaced.
  write_rule("two");
  settle(rules);
  auto third = ruleset_cache::load_with_cache(files, cache);
  REQUIRE(third.rule_set);
  CHECK(third.rule_set->rules.front().description.empty());
  REQUIRE(third.rule_set->rules.front().sets.size() == 1);
  CHECK(std::get<CompiledTemplate>(third.rule_set->rules.front().sets.front().value).spelling == "two");
  CHECK(std::distance(fs::directory_iterator(cache), fs::directory_iterator()) == 1);

  // A rule file with errors is reported and not cached.
  dir.write("r/a.rules", "lcrules 1\nrule a {\n  when context.nme == \"x\"\n}\n");
  fs::remove(entry);
  auto bad = ruleset_cache::load_with_cache(files, cache);
  CHECK_FALSE(bad.rule_set);
  CHECK_FALSE(bad.errors.empty());
  CHECK_FALSE(fs::exists(entry));

  // A cache folder that others can write is not used (its entries could be anyone's).
  write_rule("three");
  REQUIRE(::chmod(cache.c_str(), 0777) == 0);
  auto shared = ruleset_cache::load_with_cache(files, cache);
  REQUIRE(shared.rule_set);
  CHECK_FALSE(fs::exists(entry));
}
