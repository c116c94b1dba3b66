// The kubeconfig cache: a decoded kubeconfig resolves every context as the loaded one;
// an entry for other files, a damaged or a truncated one is refused; editing, adding or
// removing a file is seen on the next load; a kubeconfig with errors is not stored.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/cache/kubeconfig_cache.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using lcrules::Kubeconfig;
using lcrules::KubeconfigError;
using lcrules::KubeContext;
using lcrules::testing::TempDir;
namespace kubeconfig_cache = lcrules::kubeconfig_cache;

namespace {

std::string opt(const std::optional<std::string>& v) { return v ? "'" + *v + "'" : "-"; }

// Dates `path` 10 s back: caches store no entry for a file modified within the last tick
// (cache_codec::recently_modified).
void settle(const std::string& path) {
  struct timespec times[2];
  REQUIRE(::clock_gettime(CLOCK_REALTIME, &times[0]) == 0);
  times[0].tv_sec -= 10;
  times[1] = times[0];
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

// Everything a context resolves to, as text.
std::string describe(const Kubeconfig& kc, const std::string& name) {
  const KubeContext c = kc.resolve(name);
  std::string out = c.name + (c.in_kubeconfig ? " in" : " out") + " cluster=" + opt(c.cluster_ref) +
                    " user=" + opt(c.user) + " ns=" + opt(c.namespace_) + " file=" + opt(c.file) +
                    (c.cluster_found ? " found" : " not-found") + " server=" + opt(c.server) +
                    " ca=" + opt(c.certificate_authority) + " exec=" + opt(c.user_exec_command);
  for (const auto& [k, v] : c.context_extensions) out += " cx:" + k + "=" + v;
  for (const auto& [k, v] : c.cluster_extensions) out += " kx:" + k + "=" + v;
  return out;
}

std::string describe_all(const Kubeconfig& kc) {
  std::string out = "current=" + opt(kc.current_context()) + "\n";
  for (const auto& f : kc.files_read()) out += "read " + f + "\n";
  for (const auto& name : kc.context_names()) out += describe(kc, name) + "\n";
  return out + describe(kc, "not-there") + "\n";
}

const char* kFirst = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: certs/ca.crt
    extensions:
    - name: cluster_info
      extension: {provider: minikube.sigs.k8s.io, version: v1.33.1}
- name: prod
  cluster: {server: https://prod.example.com}
contexts:
- name: dev
  context: {cluster: dev, user: dev, namespace: work}
- name: prod
  context:
    cluster: prod
    user: prod
    extensions:
    - name: context_info
      extension: {provider: example}
users:
- name: dev
  user: {}
- name: prod
  user:
    exec: {command: gke-gcloud-auth-plugin, apiVersion: client.authentication.k8s.io/v1beta1}
)";

const char* kSecond = R"(contexts:
- name: dev
  context: {cluster: other}
- name: extra
  context: {cluster: prod}
current-context: extra
)";

}  // namespace

TEST_CASE("a decoded kubeconfig resolves every context as the loaded one", "[kubeconfig_cache]") {
  TempDir dir;
  const std::vector<std::string> files = {dir.write("a/config", kFirst), dir.write("b/config", kSecond)};
  const Kubeconfig loaded = Kubeconfig::load(files);
  const std::string entry = kubeconfig_cache::encode(loaded, "key");
  const std::string_view key("key");
  std::string why;
  const auto decoded = kubeconfig_cache::decode(entry, &key, &why);
  INFO(why);
  REQUIRE(decoded);
  CHECK(describe_all(*decoded) == describe_all(loaded));
  CHECK(describe(*decoded, "prod").find("cx:context_info.provider=example") != std::string::npos);
  CHECK(kubeconfig_cache::encode(*decoded, "key") == entry);
}

TEST_CASE("a kubeconfig entry is refused unless it is whole and for the same files", "[kubeconfig_cache]") {
  TempDir dir;
  const Kubeconfig loaded = Kubeconfig::load({dir.write("config", kFirst)});
  const std::string entry = kubeconfig_cache::encode(loaded, "key A");
  const std::string_view a("key A"), b("key B");
  std::string why;
  CHECK_FALSE(kubeconfig_cache::decode(entry, &b, &why));
  CHECK(why == "the files changed");
  CHECK(kubeconfig_cache::decode(entry, nullptr, &why));
  std::string damaged = entry;
  damaged[entry.size() - 3] = static_cast<char>(damaged[entry.size() - 3] ^ 1);
  CHECK_FALSE(kubeconfig_cache::decode(damaged, &a, &why));
  CHECK(why == "the checksum does not match");
  for (std::size_t len = 0; len < entry.size(); ++len) {
    INFO(len);
    CHECK_FALSE(kubeconfig_cache::decode(std::string_view(entry).substr(0, len), &a, nullptr));
  }
}

TEST_CASE("the kubeconfig key follows the files, their presence and the working folder",
          "[kubeconfig_cache]") {
  TempDir dir;
  const std::string config = dir.write("config", kFirst);
  const std::string missing = dir / "missing";
  const std::string key = kubeconfig_cache::key_of({config, missing}, false);
  CHECK(kubeconfig_cache::key_of({config, missing}, false) == key);
  CHECK(kubeconfig_cache::key_of({config, missing}, true) != key);
  CHECK(kubeconfig_cache::key_of({missing, config}, false) != key);
  dir.write("missing", "");
  CHECK(kubeconfig_cache::key_of({config, missing}, false) != key);
  dir.write("config", kSecond);
  CHECK(kubeconfig_cache::key_of({config}, false) != kubeconfig_cache::key_of({config + "x"}, false));
  // A relative path resolves certificate paths against the working folder: it is in the key.
  CHECK(kubeconfig_cache::key_of({"config"}, false).find("\ncwd " + fs::current_path().string() + "\n") !=
        std::string::npos);
  CHECK(kubeconfig_cache::key_of({config}, false).find("\ncwd ") == std::string::npos);
}

TEST_CASE("kubeconfig_cache::load reads its entry and follows edits", "[kubeconfig_cache]") {
  TempDir dir;
  const std::string cache = dir / "cache";
  const std::string config = dir.write("config", kFirst);
  settle(config);
  const std::vector<std::string> files = {config};

  const Kubeconfig first = kubeconfig_cache::load(files, false, cache);
  CHECK(describe_all(first) == describe_all(Kubeconfig::load(files)));
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(cache)) entries.push_back(e.path());
  REQUIRE(entries.size() == 1);
  struct stat st {};
  REQUIRE(::stat(entries[0].c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  // An entry for the same key holding another kubeconfig shows that the entry is read.
  const Kubeconfig other = Kubeconfig::load({dir.write("other", kSecond)});
  dir.write("cache/" + entries[0].filename().string(),
            kubeconfig_cache::encode(other, kubeconfig_cache::key_of(files, false)));
  CHECK(kubeconfig_cache::load(files, false, cache).current_context() == std::optional<std::string>("extra"));

  // Editing the file is seen, and replaces the entry.
  dir.write("config", std::string(kFirst) + "preferences: {}\n");
  settle(config);
  const Kubeconfig edited = kubeconfig_cache::load(files, false, cache);
  CHECK(edited.current_context() == std::optional<std::string>("dev"));
  CHECK(std::distance(fs::directory_iterator(cache), fs::directory_iterator()) == 1);

  // A kubeconfig with an error throws on every load and is never stored.
  dir.write("config", "contexts: [\n");
  fs::remove(entries[0]);
  CHECK_THROWS_AS(kubeconfig_cache::load(files, false, cache), KubeconfigError);
  CHECK_THROWS_AS(kubeconfig_cache::load(files, false, cache), KubeconfigError);
  CHECK_FALSE(fs::exists(entries[0]));

  // A missing --kubeconfig file is an error, cached or not.
  CHECK_THROWS_AS(kubeconfig_cache::load({dir / "nope"}, true, cache), KubeconfigError);
}
