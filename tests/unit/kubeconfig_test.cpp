// Kubeconfig reading, checked against fixed expectations and against the real kubectl.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "engine/facts/kubeconfig.hpp"
#include "support.hpp"

extern char** environ;

namespace {

using lcrules::Kubeconfig;
using lcrules::KubeconfigError;
using lcrules::KubeContext;
using lcrules::testing::random_bytes;
using lcrules::testing::random_yaml_punctuation;
using lcrules::testing::read_file;
using lcrules::testing::TempDir;
namespace fs = std::filesystem;

// Changes the current directory for the scope.
class ChangeDir {
 public:
  explicit ChangeDir(const std::string& dir) : old_(fs::current_path()) { fs::current_path(dir); }
  ~ChangeDir() { fs::current_path(old_); }

 private:
  fs::path old_;
};

std::string load_error(const std::vector<std::string>& files, bool must_exist = false) {
  try {
    Kubeconfig::load(files, must_exist);
  } catch (const KubeconfigError& e) {
    return e.what();
  }
  return "(no error)";
}

// --- kubectl ------------------------------------------------------------------------------

std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

struct RunResult {
  int status = -1;
  std::string out;
};

// Runs kubectl with an explicit environment: PATH, HOME (a temp folder, never the real
// ~/.kube) and KUBECONFIG. Fails the test when kubectl is not on PATH.
RunResult kubectl(const TempDir& tmp, const std::string& kubeconfig, const std::vector<std::string>& args) {
  const std::string exe = find_on_path("kubectl");
  INFO("kubectl must be installed and on PATH for these tests");
  REQUIRE(!exe.empty());
  fs::create_directories(tmp / "home");
  std::vector<std::string> env_strings = {
      std::string("PATH=") + (std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin"),
      "HOME=" + (tmp / "home"), "KUBECONFIG=" + kubeconfig, "LANG=C"};
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = {"kubectl"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclose(&actions, pipefd[0]);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipefd[1]);
  RunResult r;
  if (rc != 0) {
    ::close(pipefd[0]);
    FAIL("cannot run kubectl: " << std::strerror(rc));
  }
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string kubectl_ok(const TempDir& tmp, const std::string& kubeconfig,
                       const std::vector<std::string>& args) {
  const RunResult r = kubectl(tmp, kubeconfig, args);
  INFO("kubectl args: " << args.front() << " ...; output: " << r.out);
  REQUIRE(r.status == 0);
  return r.out;
}

std::string base64_decode(const std::string& in) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    const auto pos = chars.find(c);
    if (pos == std::string::npos) break;
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string line;
  while (std::getline(ss, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

std::vector<std::string> split_tabs(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  for (;;) {
    const auto j = s.find('\t', i);
    out.push_back(s.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

// Three kubeconfig files that exercise the merge rules, plus CA files whose content is
// their own absolute path (so kubectl's --flatten tells which file it resolved).
struct MergeFixture {
  explicit MergeFixture(const TempDir& tmp) {
    tmp.write("empty", "");
    tmp.write("one/config", R"(apiVersion: v1
kind: Config
current-context: ""
contexts:
- name: shared
  context:
    cluster: k-one
    user: u-one
    namespace: ns-one
    extensions:
    - name: lcrules.test
      extension: {provider: one, version: "1.0", nested: {a: b}}
- name: only-one
  context: {cluster: k-shared, user: u-shared}
clusters:
- name: k-one
  cluster:
    server: https://1.2.3.4:8443
    certificate-authority: certs/ca.crt
    extensions:
    - name: minikube
      extension: {provider: minikube.sigs.k8s.io, version: v1.32.0}
- name: k-shared
  cluster: {server: "https://first.example:6443", certificate-authority: ../two/ca-from-one.crt}
users:
- name: u-one
  user:
    exec: {command: gke-gcloud-auth-plugin, apiVersion: client.authentication.k8s.io/v1beta1}
- name: u-shared
  user: {token: x}
)");
    tmp.write("two/config", R"(current-context: only-two
contexts:
- name: shared
  context: {cluster: k-two, user: u-two}
- name: only-two
  context: {cluster: k-shared, user: u-two, namespace: ns-two}
- name: v6
  context: {cluster: k-v6, user: u-two}
clusters:
- name: k-two
  cluster: {server: "https://9.9.9.9", certificate-authority: ca-two.crt}
- name: k-shared
  cluster: {server: "https://second.example:6443", certificate-authority: ca-second.crt}
- name: k-v6
  cluster: {server: "https://[::1]:6443", certificate-authority: /ABS/abs.crt}
users:
- name: u-two
  user: {token: tok-y}
- name: u-one
  user: {token: ignored}
)");
    // The absolute CA path depends on the temp folder.
    std::string two = read_file(tmp / "two/config");
    two.replace(two.find("/ABS"), 4, tmp / "abs");
    tmp.write("two/config", two);
    three = tmp.write("three/config", "current-context: from-three\n");
    for (const char* ca :
         {"one/certs/ca.crt", "two/ca-from-one.crt", "two/ca-two.crt", "two/ca-second.crt", "abs/abs.crt"}) {
      tmp.write(ca, tmp / ca);
    }
  }
  std::string three;
};

}  // namespace

// --- locate ---------------------------------------------------------------------------------

TEST_CASE("locate: explicit file, then KUBECONFIG, then HOME", "[kubeconfig]") {
  using V = std::vector<std::string>;
  CHECK(Kubeconfig::locate("/x/config", std::string("/a:/b"), "/home/u") == V{"/x/config"});
  CHECK(Kubeconfig::locate("", std::string("/a:/b"), "/home/u") == V{"/a", "/b"});
  CHECK(Kubeconfig::locate("", std::string("::/a::/b:"), "/home/u") == V{"/a", "/b"});
  CHECK(Kubeconfig::locate("", std::string("/a:/b:/a"), "/home/u") == V{"/a", "/b"});  // kubectl dedupes
  CHECK(Kubeconfig::locate("", std::string("rel/config"), "/home/u") == V{"rel/config"});
  CHECK(Kubeconfig::locate("", std::nullopt, "/home/u") == V{"/home/u/.kube/config"});
  CHECK(Kubeconfig::locate("", std::string(""), "/home/u") == V{"/home/u/.kube/config"});
  CHECK(Kubeconfig::locate("", std::nullopt, "/home/u/") == V{"/home/u/.kube/config"});
  // A KUBECONFIG of separators only names no file (kubectl does not fall back to HOME).
  CHECK(Kubeconfig::locate("", std::string(":"), "/home/u").empty());
}

TEST_CASE("kubectl: KUBECONFIG of separators only does not read HOME/.kube/config", "[kubeconfig]") {
  TempDir tmp;
  tmp.write("home/.kube/config", "current-context: from-home\n");
  CHECK(kubectl(tmp, ":", {"config", "current-context"}).status != 0);
  CHECK(kubectl_ok(tmp, "", {"config", "current-context"}) == "from-home\n");
  CHECK(Kubeconfig::load(Kubeconfig::locate("", std::string(":"), tmp / "home")).current_context() ==
        std::nullopt);
  CHECK(Kubeconfig::load(Kubeconfig::locate("", std::string(""), tmp / "home")).current_context() ==
        std::optional<std::string>("from-home"));
}

// --- merging, checked against kubectl ------------------------------------------------------------

TEST_CASE("merge: current-context, first definition wins, CA paths (fixed expectations)", "[kubeconfig]") {
  TempDir tmp;
  MergeFixture fx(tmp);
  const std::vector<std::string> files = {tmp / "empty", tmp / "missing", tmp / "one/config",
                                          tmp / "two/config", fx.three};
  const Kubeconfig kc = Kubeconfig::load(files);
  CHECK(kc.files_read() ==
        std::vector<std::string>{tmp / "empty", tmp / "one/config", tmp / "two/config", fx.three});
  CHECK(kc.current_context() == std::optional<std::string>("only-two"));
  CHECK(kc.context_names() == std::vector<std::string>{"shared", "only-one", "only-two", "v6"});

  const KubeContext shared = kc.resolve("shared");
  CHECK(shared.name == "shared");
  CHECK(shared.in_kubeconfig);
  CHECK(shared.cluster_ref == std::optional<std::string>("k-one"));
  CHECK(shared.user == std::optional<std::string>("u-one"));
  CHECK(shared.namespace_ == std::optional<std::string>("ns-one"));
  CHECK(shared.file == std::optional<std::string>(tmp / "one/config"));
  CHECK(shared.context_extensions == std::map<std::string, std::string>{{"lcrules.test.provider", "one"},
                                                                        {"lcrules.test.version", "1.0"}});
  CHECK(shared.cluster_found);
  CHECK(shared.server == std::optional<std::string>("https://1.2.3.4:8443"));
  CHECK(shared.certificate_authority == std::optional<std::string>(tmp / "one/certs/ca.crt"));
  CHECK(shared.cluster_extensions ==
        std::map<std::string, std::string>{{"minikube.provider", "minikube.sigs.k8s.io"},
                                           {"minikube.version", "v1.32.0"}});
  CHECK(shared.user_exec_command == std::optional<std::string>("gke-gcloud-auth-plugin"));

  // only-two points at k-shared, which one/config defined first (with a CA relative to one/).
  const KubeContext two = kc.resolve("only-two");
  CHECK(two.file == std::optional<std::string>(tmp / "two/config"));
  CHECK(two.server == std::optional<std::string>("https://first.example:6443"));
  CHECK(two.certificate_authority == std::optional<std::string>(tmp / "two/ca-from-one.crt"));
  CHECK(two.user_exec_command == std::nullopt);

  const KubeContext v6 = kc.resolve("v6");
  CHECK(v6.certificate_authority == std::optional<std::string>(tmp / "abs/abs.crt"));

  const KubeContext absent = kc.resolve("not-there");
  CHECK(absent.name == "not-there");
  CHECK_FALSE(absent.in_kubeconfig);
  CHECK_FALSE(absent.cluster_ref);
  CHECK_FALSE(absent.user);
  CHECK_FALSE(absent.file);
  CHECK_FALSE(absent.cluster_found);
  CHECK_FALSE(absent.server);
  CHECK(absent.context_extensions.empty());
}

TEST_CASE("merge: the first file's context, cluster and user win, each on its own (no kubectl)",
          "[kubeconfig]") {
  TempDir tmp;
  // Each of the three is defined in both files, differently; `other`, defined in the second
  // file only, uses the cluster and the user both files define.
  const std::string first = tmp.write("first", R"(contexts:
- name: ctx
  context: {cluster: k, user: u, namespace: ns-first}
clusters:
- name: k
  cluster: {server: "https://first.example:6443"}
users:
- name: u
  user:
    exec: {command: first-plugin, apiVersion: client.authentication.k8s.io/v1beta1}
)");
  const std::string second = tmp.write("second", R"(contexts:
- name: ctx
  context: {cluster: k-second, user: u-second, namespace: ns-second}
- name: other
  context: {cluster: k, user: u}
clusters:
- name: k
  cluster: {server: "https://second.example:6443"}
- name: k-second
  cluster: {server: "https://k-second.example:6443"}
users:
- name: u
  user:
    exec: {command: second-plugin, apiVersion: client.authentication.k8s.io/v1beta1}
- name: u-second
  user:
    exec: {command: u-second-plugin, apiVersion: client.authentication.k8s.io/v1beta1}
)");
  const Kubeconfig kc = Kubeconfig::load({first, second});
  // The context: the first file's definition, with the cluster and user it names.
  const KubeContext ctx = kc.resolve("ctx");
  CHECK(ctx.file == std::optional<std::string>(first));
  CHECK(ctx.cluster_ref == std::optional<std::string>("k"));
  CHECK(ctx.user == std::optional<std::string>("u"));
  CHECK(ctx.namespace_ == std::optional<std::string>("ns-first"));
  CHECK(ctx.server == std::optional<std::string>("https://first.example:6443"));
  CHECK(ctx.user_exec_command == std::optional<std::string>("first-plugin"));
  // The cluster and the user: the first file's, for a context of the second file too.
  const KubeContext other = kc.resolve("other");
  CHECK(other.file == std::optional<std::string>(second));
  CHECK(other.server == std::optional<std::string>("https://first.example:6443"));
  CHECK(other.user_exec_command == std::optional<std::string>("first-plugin"));
  CHECK(kc.context_names() == std::vector<std::string>{"ctx", "other"});

  // The other order: the second file's definitions win now.
  const Kubeconfig swapped = Kubeconfig::load({second, first});
  const KubeContext ctx2 = swapped.resolve("ctx");
  CHECK(ctx2.file == std::optional<std::string>(second));
  CHECK(ctx2.cluster_ref == std::optional<std::string>("k-second"));
  CHECK(ctx2.namespace_ == std::optional<std::string>("ns-second"));
  CHECK(ctx2.server == std::optional<std::string>("https://k-second.example:6443"));
  CHECK(ctx2.user_exec_command == std::optional<std::string>("u-second-plugin"));
  CHECK(swapped.resolve("other").server == std::optional<std::string>("https://second.example:6443"));
  CHECK(swapped.resolve("other").user_exec_command == std::optional<std::string>("second-plugin"));
}

namespace {

// Compares lcrules' view of `kubeconfig_env` with kubectl's (run in the current directory).
void compare_with_kubectl(const TempDir& tmp, const std::string& kubeconfig_env) {
  INFO("KUBECONFIG=" << kubeconfig_env);
  const Kubeconfig kc = Kubeconfig::load(Kubeconfig::locate("", kubeconfig_env, tmp / "home"));

  // current-context
  const RunResult cur = kubectl(tmp, kubeconfig_env, {"config", "current-context"});
  if (cur.status == 0) {
    CHECK(kc.current_context() == std::optional<std::string>(cur.out.substr(0, cur.out.size() - 1)));
  } else {
    CHECK(kc.current_context() == std::nullopt);
  }

  // each context's cluster, user and namespace
  const std::string contexts = kubectl_ok(
      tmp, kubeconfig_env,
      {"config", "view", "-o",
       R"(jsonpath={range .contexts[*]}{.name}{"\t"}{.context.cluster}{"\t"}{.context.user}{"\t"}{.context.namespace}{"\n"}{end})"});
  std::set<std::string> kubectl_names;
  for (const std::string& line : split_lines(contexts)) {
    const auto f = split_tabs(line);
    REQUIRE(f.size() == 4);
    kubectl_names.insert(f[0]);
    const KubeContext c = kc.resolve(f[0]);
    INFO("context " << f[0]);
    CHECK(c.in_kubeconfig);
    CHECK(c.cluster_ref.value_or("") == f[1]);
    CHECK(c.user.value_or("") == f[2]);
    CHECK(c.namespace_.value_or("") == f[3]);
  }
  const auto names = kc.context_names();
  CHECK(std::set<std::string>(names.begin(), names.end()) == kubectl_names);

  // each cluster's server
  const std::string clusters = kubectl_ok(
      tmp, kubeconfig_env,
      {"config", "view", "-o", R"(jsonpath={range .clusters[*]}{.name}{"\t"}{.cluster.server}{"\n"}{end})"});
  std::map<std::string, std::string> servers;
  for (const std::string& line : split_lines(clusters)) {
    const auto f = split_tabs(line);
    REQUIRE(f.size() == 2);
    servers[f[0]] = f[1];
  }
  for (const std::string& name : names) {
    const KubeContext c = kc.resolve(name);
    INFO("context " << name);
    REQUIRE(c.cluster_ref);
    REQUIRE(servers.count(*c.cluster_ref) == 1);
    CHECK(c.server.value_or("") == servers[*c.cluster_ref]);

    // The CA file kubectl resolved: --flatten embeds its content, which is its own path.
    const std::string data = kubectl_ok(tmp, kubeconfig_env,
                                        {"config", "view", "--minify", "--flatten", "--context", name, "-o",
                                         "jsonpath={.clusters[0].cluster.certificate-authority-data}"});
    CHECK(c.certificate_authority.value_or("") == base64_decode(data));
  }
}

}  // namespace

TEST_CASE("kubectl agrees: merged absolute KUBECONFIG files", "[kubeconfig]") {
  TempDir tmp;
  MergeFixture fx(tmp);
  compare_with_kubectl(tmp, tmp / "empty" + "::" + tmp / "missing" + ":" + tmp / "one/config" + ":" +
                                tmp / "two/config" + ":" + fx.three);
  // The other order: two/config's definitions win now.
  compare_with_kubectl(tmp, tmp / "two/config" + ":" + tmp / "one/config");
  compare_with_kubectl(tmp, fx.three + ":" + tmp / "one/config");
}

TEST_CASE("kubectl agrees: relative KUBECONFIG paths resolve CAs from the current directory",
          "[kubeconfig]") {
  TempDir tmp;
  MergeFixture fx(tmp);
  {
    ChangeDir cd(tmp.str());
    compare_with_kubectl(tmp, "one/config:two/config");
    const Kubeconfig kc = Kubeconfig::load({"one/config", "two/config"});
    CHECK(kc.resolve("shared").certificate_authority == std::optional<std::string>(tmp / "one/certs/ca.crt"));
    CHECK(kc.resolve("shared").file == std::optional<std::string>("one/config"));
  }
  {
    ChangeDir cd(tmp / "two");
    compare_with_kubectl(tmp, "config:../one/config");
    const Kubeconfig kc = Kubeconfig::load({"config", "../one/config"});
    CHECK(kc.resolve("only-two").certificate_authority ==
          std::optional<std::string>(tmp / "two/ca-second.crt"));
  }
}

TEST_CASE("kubectl agrees: current-context from the first file that sets a non-empty one", "[kubeconfig]") {
  TempDir tmp;
  const std::string a = tmp.write("a", "current-context: \"\"\n");
  const std::string b = tmp.write("b", "# nothing but a comment\n");
  const std::string c = tmp.write("c", "current-context: ctx-c\n");
  const std::string d = tmp.write("d", "current-context: ctx-d\n");
  for (const std::string& env : {a + ":" + b + ":" + c + ":" + d, d + ":" + c, a + ":" + b}) {
    compare_with_kubectl(tmp, env);
  }
  CHECK(Kubeconfig::load({a, b, c, d}).current_context() == std::optional<std::string>("ctx-c"));
  CHECK(Kubeconfig::load({a, b}).current_context() == std::nullopt);
}

// --- files ------------------------------------------------------------------------------------

TEST_CASE("load: missing, empty and unreadable files", "[kubeconfig]") {
  TempDir tmp;
  const std::string missing = tmp / "missing";
  CHECK(Kubeconfig::load({missing}).files_read().empty());
  CHECK(load_error({missing}, true) == missing + ": error: cannot read: No such file or directory");

  const std::string empty = tmp.write("empty", "");
  const Kubeconfig kc = Kubeconfig::load({empty}, true);
  CHECK(kc.files_read() == std::vector<std::string>{empty});
  CHECK(kc.context_names().empty());
  CHECK_FALSE(kc.current_context());
  CHECK(Kubeconfig::load({tmp.write("nulls", "contexts: null\nclusters: ~\nusers:\ncurrent-context: null\n")})
            .context_names()
            .empty());

  fs::create_directories(tmp / "dir");
  CHECK(load_error({tmp / "dir"}) == tmp / "dir" + ": error: cannot read: Is a directory");
  // Only a missing file is skipped: a path through a regular file is an error, as in kubectl.
  CHECK(load_error({empty + "/config"}) == empty + "/config: error: cannot read: Not a directory");
}

TEST_CASE("load: a file that cannot be read is an error", "[kubeconfig]") {
  TempDir tmp;
  const std::string file = tmp.write("secret", "current-context: x\n");
  ::chmod(tmp.str().c_str(), 0755);
  ::chmod(file.c_str(), 0);
  // Root reads any file: check the message as an unprivileged user in a child process.
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(pipefd[0]);
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    std::string msg;
    try {
      Kubeconfig::load({file});
      msg = "(no error)";
    } catch (const KubeconfigError& e) {
      msg = e.what();
    } catch (...) {
      msg = "(other exception)";
    }
    (void)!::write(pipefd[1], msg.data(), msg.size());
    ::_exit(0);
  }
  ::close(pipefd[1]);
  std::string msg;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK(msg == file + ": error: cannot read: Permission denied");
}

// --- errors ---------------------------------------------------------------------------------------

TEST_CASE("errors name the file, line and column", "[kubeconfig]") {
  TempDir tmp;
  auto err = [&](const std::string& text) { return load_error({tmp.write("f", text)}); };
  const std::string f = tmp / "f";

  CHECK(err("contexts: {a: 1}\n") == f + ":1:11: error: contexts must be a list");
  CHECK(err("contexts:\n- context: {cluster: x}\n") == f + ":2:3: error: context entry without a name");
  CHECK(err("contexts:\n- name: \"\"\n") == f + ":2:3: error: context entry without a name");
  CHECK(err("users:\n- user: {}\n") == f + ":2:3: error: user entry without a name");
  CHECK(err("contexts:\n- just-a-string\n") == f + ":2:3: error: context entry must be a mapping");
  CHECK(err("contexts:\n- name: a\n  context: [x]\n") == f + ":3:12: error: context must be a mapping");
  CHECK(err("contexts:\n- name: a\n  context: {cluster: [1]}\n") ==
        f + ":3:22: error: cluster must be a string");
  CHECK(err("clusters:\n- name: a\n  cluster: {server: 8443}\n") ==
        f + ":3:21: error: server must be a string, not a number (quote it: \"8443\")");
  CHECK(err("current-context: yes\n") ==
        f + ":1:18: error: current-context must be a string, not a boolean (quote it: \"yes\")");
  CHECK(err("current-context: [a]\n") == f + ":1:18: error: current-context must be a string");
  CHECK(err("users:\n- name: u\n  user: {exec: cmd}\n") == f + ":3:16: error: exec must be a mapping");
  CHECK(err("contexts:\n- name: a\n  context: {extensions: {a: b}}\n") ==
        f + ":3:25: error: extensions must be a list");
  CHECK(err("- a\n- b\n") == f + ":1:1: error: a kubeconfig must be a mapping");
  CHECK(err("just text\n") == f + ":1:1: error: a kubeconfig must be a mapping");
  CHECK(err("contexts:\n- name: x\n  context: {cluster: a}\n- name: x\n  context: {cluster: b}\n") ==
        f + ":4:3: error: duplicate context name \"x\" (first defined on line 2)");
  CHECK(err("clusters:\n- name: \"\"\n- cluster: {server: x}\n") ==
        f + ":3:3: error: duplicate cluster name \"\" (first defined on line 2)");
  // A kind other than Config.
  CHECK(err("apiVersion: v1\nkind: Pod\n") ==
        f + ":2:7: error: kind is \"Pod\", not Config: this is not a kubeconfig");
  CHECK(err("kind: config\n") == f + ":1:7: error: kind is \"config\", not Config: this is not a kubeconfig");
  CHECK(err("kind: 5\n") == f + ":1:7: error: kind must be a string, not a number (quote it: \"5\")");
  // YAML syntax errors.
  CHECK(err("a: [\n") == f + ":2:1: error: invalid YAML: end of sequence flow not found");
  CHECK(err("a: b\n c: d\n") == f + ":2:3: error: invalid YAML: illegal map value");
  // A quoted number is a string; a plain one that is not a YAML 1.1 number is too.
  const Kubeconfig ok = Kubeconfig::load({tmp.write(
      "ok", "current-context: \"8443\"\ncontexts:\n- name: 1.2.3\n  context: {cluster: !!str 12}\n")});
  CHECK(ok.current_context() == std::optional<std::string>("8443"));
  CHECK(ok.resolve("1.2.3").cluster_ref == std::optional<std::string>("12"));
}

TEST_CASE("kubectl agrees on which scalars are not strings", "[kubeconfig]") {
  TempDir tmp;
  for (const std::string v :
       {"yes",   "y",     "On",  "FALSE", "0x10", "1e3",    "1_000",  "012",  "0o12", "+1", ".5",
        "0b101", "1.2.3", "yES", "1:20",  "abc",  "\"12\"", "'true'", "1.5e", "0x",   "-"}) {
    INFO("current-context: " << v);
    const std::string file = tmp.write("v", "current-context: " + v + "\n");
    const RunResult r = kubectl(tmp, file, {"config", "view", "-o", "jsonpath={.current-context}"});
    bool ours_ok = true;
    try {
      Kubeconfig::load({file});
    } catch (const KubeconfigError&) {
      ours_ok = false;
    }
    CHECK(ours_ok == (r.status == 0));
  }
}

TEST_CASE("deeply nested YAML is an error, not a crash", "[kubeconfig]") {
  TempDir tmp;
  const std::string f = tmp / "f";
  auto err = [&](const std::string& text) { return load_error({tmp.write("f", text)}); };
  const std::string deep_flow(10000, '[');
  CHECK(err(deep_flow) == f + ":1:1: error: the YAML nests too deeply (more than 499 levels); a kubeconfig "
                              "is never nested like this");
  std::string deep_map;
  for (int i = 0; i < 10000; ++i) deep_map += "{a: ";
  CHECK_THROWS_AS(Kubeconfig::load({tmp.write("f", "contexts: " + deep_map)}), KubeconfigError);
  std::string deep_block;
  for (int i = 0; i < 10000; ++i) deep_block += "- ";
  CHECK_THROWS_AS(Kubeconfig::load({tmp.write("f", "contexts:\n" + deep_block + "x\n")}), KubeconfigError);
  // Balanced and closed, 10,000 deep, in every field.
  const std::string closed = std::string(10000, '[') + std::string(10000, ']');
  for (const std::string& text :
       {"current-context: " + closed, "contexts: " + closed, "contexts:\n- name: a\n  context: " + closed,
        "clusters:\n- name: a\n  cluster: {server: " + closed + "}"}) {
    CHECK_THROWS_AS(Kubeconfig::load({tmp.write("f", text)}), KubeconfigError);
  }
  // Nesting yaml-cpp accepts, inside an extension, is skipped (scalars only).
  const std::string ok_nesting = std::string(400, '[') + std::string(400, ']');
  const Kubeconfig kc = Kubeconfig::load({tmp.write(
      "g",
      "contexts:\n- name: a\n  context:\n    extensions:\n    - name: e\n      extension: {k: v, deep: " +
          ok_nesting + "}\n")});
  CHECK(kc.resolve("a").context_extensions == std::map<std::string, std::string>{{"e.k", "v"}});
}

TEST_CASE("malformed input never crashes", "[kubeconfig]") {
  TempDir tmp;
  auto survives = [&](const std::string& text) {
    try {
      Kubeconfig kc = Kubeconfig::load({tmp.write("f", text)});
      for (const auto& name : kc.context_names()) (void)kc.resolve(name);
    } catch (const KubeconfigError&) {
    }
  };
  // Binary junk.
  std::mt19937 rng(12345);
  for (const std::string& junk : random_bytes(rng, 300, 2000)) CHECK_NOTHROW(survives(junk));
  // Junk built from YAML punctuation.
  for (const std::string& junk : random_yaml_punctuation(rng, 500, 200)) CHECK_NOTHROW(survives(junk));
  // Wrong types everywhere: each value of a valid kubeconfig replaced in turn.
  const std::string tmpl = R"(current-context: @0
contexts: @1
- name: @2
  context: @3
    cluster: @4
    user: @5
    namespace: @6
    extensions: @7
    - name: @8
      extension: @9
        provider: @10
clusters: @11
- name: @12
  cluster: @13
    server: @14
    certificate-authority: @15
    extensions: @16
users: @17
- name: @18
  user: @19
    exec: @20
      command: @21
)";
  const std::vector<std::string> replacements = {
      "[]",   "{}", "[a, b]",        "{a: b}", "12",   "true",      "~",   "\"\"",
      "&x a", "*x", "!!binary aGk=", "!tag x", ".nan", "\"\\xff\"", "? a", "|\n  text"};
  for (int slot = 0; slot <= 21; ++slot) {
    for (const auto& rep : replacements) {
      std::string text = tmpl;
      for (int other = 21; other >= 0; --other) {
        const std::string mark = "@" + std::to_string(other);
        const auto pos = text.find(mark);
        std::string value;
        if (other == slot) {
          value = rep;
        } else if (other == 1 || other == 3 || other == 7 || other == 9 || other == 11 || other == 13 ||
                   other == 16 || other == 17 || other == 19 || other == 20) {
          value = "";
        } else {
          value = "v" + std::to_string(other);
        }
        text.replace(pos, mark.size(), value);
      }
      INFO(text);
      CHECK_NOTHROW(survives(text));
    }
  }
  // Aliases that refer to themselves.
  CHECK_NOTHROW(survives("contexts: &a [*a]\n"));
  CHECK_NOTHROW(survives("a: &a {b: *a}\ncontexts: [*a]\n"));
}

// --- extensions -------------------------------------------------------------------------------------

TEST_CASE("extensions are flattened to NAME.KEY, scalars only", "[kubeconfig]") {
  TempDir tmp;
  const Kubeconfig kc = Kubeconfig::load({tmp.write("f", R"(contexts:
- name: a
  context:
    cluster: c
    extensions:
    - name: one
      extension: {provider: x, version: y, list: [1], map: {k: v}, empty: ~, quoted: "", num: 3}
    - name: two
      extension: just-a-scalar
    - name: one
      extension: {provider: second-definition-ignored, more: z}
    - extension: {provider: nameless}
clusters:
- name: c
  cluster:
    extensions:
    - {name: minikube, extension: {provider: minikube.sigs.k8s.io}}
)")});
  const KubeContext a = kc.resolve("a");
  CHECK(a.context_extensions == std::map<std::string, std::string>{{"one.provider", "x"},
                                                                   {"one.version", "y"},
                                                                   {"one.quoted", ""},
                                                                   {"one.num", "3"},
                                                                   {"one.more", "z"}});
  CHECK(a.cluster_extensions ==
        std::map<std::string, std::string>{{"minikube.provider", "minikube.sigs.k8s.io"}});
  CHECK(a.cluster_found);
  CHECK_FALSE(a.server);
  CHECK_FALSE(a.certificate_authority);
}

TEST_CASE("a context whose cluster or user is not defined", "[kubeconfig]") {
  TempDir tmp;
  const Kubeconfig kc =
      Kubeconfig::load({tmp.write("f", "contexts:\n- name: a\n  context: {cluster: nope}\n")});
  const KubeContext a = kc.resolve("a");
  CHECK(a.in_kubeconfig);
  CHECK(a.cluster_ref == std::optional<std::string>("nope"));
  CHECK_FALSE(a.cluster_found);
  CHECK_FALSE(a.user);
  CHECK_FALSE(a.user_exec_command);
  CHECK(Kubeconfig::load({tmp.write("g", "contexts:\n- name: b\n")}).resolve("b").in_kubeconfig);
}

// --- kind and nameless clusters, checked against kubectl ----------------------------------------

TEST_CASE("a cluster entry named \"\" (or without a name) is the cluster \"\"", "[kubeconfig]") {
  TempDir tmp;
  for (const std::string name_line : {"  name: \"\"\n", "  name: ~\n", ""}) {
    INFO(name_line);
    const std::string file =
        tmp.write("c", "clusters:\n- cluster: {server: \"https://1.2.3.4:6443\"}\n" + name_line +
                           "contexts:\n- name: c\n  context: {cluster: \"\"}\n"
                           "current-context: c\n");
    const KubeContext c = Kubeconfig::load({file}).resolve("c");
    CHECK(c.cluster_found);
    CHECK(c.server == std::optional<std::string>("https://1.2.3.4:6443"));
    // kubectl reads the same file and lists the cluster "" with that server.
    CHECK(
        kubectl_ok(tmp, file,
                   {"config", "view", "-o", "jsonpath={.clusters[0].name}={.clusters[0].cluster.server}"}) ==
        "=https://1.2.3.4:6443");
  }
  // Two nameless clusters are a duplicate, for kubectl too.
  const std::string dup =
      tmp.write("d", "clusters:\n- name: \"\"\n  cluster: {server: a}\n- cluster: {server: b}\n");
  CHECK(load_error({dup}) == dup + ":4:3: error: duplicate cluster name \"\" (first defined on line 2)");
  CHECK(kubectl(tmp, dup, {"config", "view"}).status != 0);
}

TEST_CASE("kubectl agrees: a kind other than Config is an error, an absent or empty one is not",
          "[kubeconfig]") {
  TempDir tmp;
  for (const std::string kind :
       {"", "kind: Config\n", "kind: \"\"\n", "kind: ~\n", "kind: Pod\n", "kind: config\n",
        "kind: ConfigMap\n", "kind: 5\n", "kind: [Config]\n", "kind: \"Config \"\n"}) {
    INFO(kind);
    const std::string file =
        tmp.write("k", "apiVersion: v1\n" + kind +
                           "clusters:\n- name: a\n  cluster: {server: \"https://1.2.3.4\"}\n"
                           "contexts:\n- name: a\n  context: {cluster: a}\ncurrent-context: a\n");
    bool ours_ok = true;
    try {
      Kubeconfig::load({file});
    } catch (const KubeconfigError&) {
      ours_ok = false;
    }
    const RunResult r = kubectl(tmp, file, {"config", "view", "-o", "jsonpath={.current-context}"});
    CHECK(ours_ok == (r.status == 0));
    CHECK(ours_ok ==
          (kind.empty() || kind == "kind: Config\n" || kind == "kind: \"\"\n" || kind == "kind: ~\n"));
  }
}

// --- server URLs ---------------------------------------------------------------------------------------

TEST_CASE("parse_server_url keeps the literal authority", "[kubeconfig]") {
  using lcrules::parse_server_url;
  auto check = [](const std::string& url, std::optional<std::string> scheme, std::optional<std::string> host,
                  std::optional<std::string> port) {
    INFO(url);
    const auto u = parse_server_url(url);
    CHECK(u.scheme == scheme);
    CHECK(u.host == host);
    CHECK(u.port == port);
  };
  const std::nullopt_t none = std::nullopt;
  check("https://1.2.3.4:8443", "https", "1.2.3.4", "8443");
  check("https://1.2.3.4", "https", "1.2.3.4", none);
  check("https://[::1]:6443", "https", "[::1]", "6443");
  check("https://[fe80::1]", "https", "[fe80::1]", none);
  check("https://example.com:443/some/path?x=1#frag", "https", "example.com", "443");
  check("https://user:pass@host.example:8443/", "https", "host.example", "8443");
  check("https://user@host.example", "https", "host.example", none);
  check("http://localhost:8080", "http", "localhost", "8080");
  check("https://192.168.64.10:8443", "https", "192.168.64.10", "8443");
  check("https://host?x=a:b", "https", "host", none);
  check("", none, none, none);
  check("https://", "https", none, none);
}

TEST_CASE("parse_server_url reads servers as Go's url.Parse does", "[kubeconfig]") {
  using lcrules::parse_server_url;
  auto check = [](const std::string& url, std::optional<std::string> scheme, std::optional<std::string> host,
                  std::optional<std::string> port) {
    INFO(url);
    const auto u = parse_server_url(url);
    CHECK(u.scheme == scheme);
    CHECK(u.host == host);
    CHECK(u.port == port);
  };
  const std::nullopt_t none = std::nullopt;
  // No scheme: a colon in the first path segment is an error, so nothing is known.
  check("192.168.49.2:8443", none, none, none);
  check("[::1]:8443", none, none, none);
  check("::1", none, none, none);
  check(":8443", none, none, none);  // missing protocol scheme
  // A word before ':' is a scheme, and what follows without "//" is opaque: no host.
  check("localhost:8443", "localhost", none, none);
  check("example.com:8443", "example.com", none, none);
  check("https:1.2.3.4:8443", "https", none, none);
  check("1.2.3.4", none, none, none);  // a path
  check("/some/path", none, none, none);
  // A scheme-relative URL has a host.
  check("//10.0.0.1:6443", none, "10.0.0.1", "6443");
  check("///10.0.0.1:6443", none, none, none);
  // The scheme is lower-cased, the host is not.
  check("HTTPS://Host.Example:8443", "https", "Host.Example", "8443");
  // Userinfo is dropped, IPv6 literals keep their brackets.
  check("https://user:p%40ss@[fd00::2]:6443/x", "https", "[fd00::2]", "6443");
  check("https://[fe80::1%25en0]:6443", "https", "[fe80::1%en0]", "6443");
  // An unbracketed host's port is what follows its last colon.
  check("https://::1:8443", "https", "::1", "8443");
  // An empty port is absent; a host without a port has none.
  check("https://1.2.3.4:", "https", "1.2.3.4", none);
  check("https://:8443", "https", none, "8443");
  // URLs Go refuses have no parts at all.
  check("https://[::1", none, none, none);             // missing ']'
  check("https://[::1]x:6443", none, none, none);      // junk after ']'
  check("https://host:84a3", none, none, none);        // invalid port
  check("https://ho st:8443", none, none, none);       // a space in the host
  check("https://h%41st:8443", none, none, none);      // an escaped ASCII byte in the host
  check("https://host:8443/%zz", none, none, none);    // a bad escape in the path
  check("https://host:8443#%zz", none, none, none);    // ... in the fragment
  check("https://us{er@host:8443", none, none, none);  // an invalid userinfo character
  check("https://host\t:8443", none, none, none);
  check(std::string("https://host:8443\n"), none, none, none);
  // Escapes of non-ASCII bytes in a host are decoded; a query is not checked.
  check("https://h%C3%A9:8443?%zz", "https", "h\xc3\xa9", "8443");
}

// --- repeated keys and merge keys, as kubectl's YAML reader (go-yaml v2) resolves them ------

namespace {

// A repeated current-context and clusters, contexts and users built with merge keys.
const char* kRepeatedAndMerged = R"(apiVersion: v1
kind: Config
current-context: first
current-context: second
base: &base
  cluster: shared
  namespace: base-ns
  user: base-user
other: &other {user: other-user, cluster: other}
clusters:
- name: shared
  cluster: &shared {server: "https://10.0.0.1:6443"}
- name: other
  cluster:
    <<: *shared
    server: "https://10.0.0.2:6443"
users:
- name: base-user
  user: {token: t}
- name: other-user
  user: {token: t}
contexts:
- name: first
  context: {cluster: shared}
- name: second
  context:
    namespace: explicit-before
    <<: *base
- name: third
  context:
    <<: *base
    namespace: explicit-after
- name: list
  context:
    <<: [*other, *base]
- name: twice
  context:
    cluster: shared
    cluster: other
    <<: {namespace: one}
    <<: {namespace: two}
)";

}  // namespace

TEST_CASE("a repeated key gives its last value; merge keys apply in document order (no kubectl)",
          "[kubeconfig]") {
  const Kubeconfig kc = Kubeconfig::from_text("config", kRepeatedAndMerged);
  CHECK(kc.current_context() == "second");
  // A merge key replaces the keys written before it, not those after.
  const KubeContext second = kc.resolve("second");
  CHECK(second.cluster_ref == "shared");
  CHECK(second.user == "base-user");
  CHECK(second.namespace_ == "base-ns");
  CHECK(second.server == "https://10.0.0.1:6443");
  const KubeContext third = kc.resolve("third");
  CHECK(third.namespace_ == "explicit-after");
  CHECK(third.user == "base-user");
  // In a merge list, earlier mappings win.
  const KubeContext list = kc.resolve("list");
  CHECK(list.cluster_ref == "other");
  CHECK(list.user == "other-user");
  CHECK(list.namespace_ == "base-ns");
  CHECK(list.server == "https://10.0.0.2:6443");
  // Every merge key applies, in order; a repeated key's last value counts.
  const KubeContext twice = kc.resolve("twice");
  CHECK(twice.cluster_ref == "other");
  CHECK(twice.namespace_ == "two");

  // A merge key must bring mappings; a mapping cannot merge itself.
  CHECK_THROWS_WITH(Kubeconfig::from_text("bad", "contexts:\n- name: a\n  context:\n    <<: 3\n"),
                    Catch::Contains("bad:4:9: error: a merge key (<<) needs a mapping or a list of mappings"));
  CHECK_THROWS_WITH(Kubeconfig::from_text("bad", "contexts:\n- name: a\n  context: &c\n    <<: *c\n"),
                    Catch::Contains("a merge key (<<) brings in the mapping it is in"));
}

TEST_CASE("kubectl agrees: repeated keys and merge keys", "[kubeconfig]") {
  TempDir tmp;
  const std::string file = tmp.write("config", kRepeatedAndMerged);
  compare_with_kubectl(tmp, file);
}
