// `lcrules test`: reads *.rules-test.yaml files, loads the rule set each one names, runs
// every test against stubbed facts and commands, compares the decision with `expect`, and
// records which rules matched and decided something (for --coverage).
#include "lcrules/testing.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>
#include <algorithm>
#include <boost/regex.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>

#include "engine/core/loader.hpp"
#include "engine/core/output.hpp"
#include "engine/facts/file_reads.hpp"
#include "engine/facts/files.hpp"
#include "engine/facts/paths.hpp"

namespace lcrules {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

constexpr std::string_view kTestSuffix = ".rules-test.yaml";
constexpr std::uintmax_t kMaxTestFileSize = 16 * 1024 * 1024;

// ---------------------------------------------------------------------------------------
// The parsed form of a test file.

struct Stub {
  Argv argv;
  enum class Kind { Exited, TimedOut, NotFound } kind = Kind::Exited;
  std::string out, err;
  int exit_code = 0;
  std::size_t line = 0;
};

struct Expect {
  std::optional<std::string> cluster;
  std::optional<bool> local, load_images, push_images;
  std::optional<std::optional<std::string>> cluster_name, kubeconfig_cluster, registry;
  std::optional<std::optional<std::vector<Argv>>> load_command;
  std::optional<std::vector<std::string>> notes;
  std::vector<std::string> notes_include;
};

struct TestCase {
  std::string name;
  std::size_t line = 0;
  KubeContext context;
  std::vector<std::string> kubeconfig_files;
  std::map<std::string, std::string> env;
  // `files`: the paths that exist; a file's content for `read`, none for a folder.
  std::map<std::string, std::optional<std::string>> files;
  std::map<std::string, std::string> skaffold;
  std::optional<std::string> skaffold_yaml_push;
  bool probe_cluster = false;
  std::vector<Stub> stubs;
  Expect expect;
  std::vector<std::pair<Field, std::optional<std::string>>> decided_by;  // nullopt: the default
};

struct TestFile {
  std::string path;
  bool shipped = true;
  std::vector<std::string> rule_paths;  // `rules:` entries resolved against the file's folder
  std::vector<Stub> stubs;  // `commands:` for every test; a test's own stub for the same argv wins
  std::vector<TestCase> tests;
  std::shared_ptr<const RuleSet> rules;
};

// A problem in a test file, with its position.
struct TestFileError {
  std::string message;
};

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

// ---------------------------------------------------------------------------------------
// Reading YAML with positions. Every function throws TestFileError.

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const {
    throw TestFileError{files::yaml_error_message(file_, at.Mark(), message)};
  }
  [[noreturn]] void fail(const YAML::Mark& at, const std::string& message) const {
    throw TestFileError{files::yaml_error_message(file_, at, message)};
  }

  // The entries of a mapping in order; duplicate keys and keys outside `known` are errors.
  std::vector<std::pair<std::string, YAML::Node>> entries(const YAML::Node& map,
                                                          const std::vector<std::string>& known,
                                                          const std::string& where) const {
    std::vector<std::pair<std::string, YAML::Node>> out;
    std::map<std::string, std::size_t> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar()) fail(key, "a key" + in(where) + " must be a string");
      const std::string& k = key.Scalar();
      if (std::find(known.begin(), known.end(), k) == known.end()) {
        fail(key, "unknown key '" + k + "'" + in(where) + " (known keys: " + join(known) + ")");
      }
      if (auto [pos, inserted] = seen.emplace(k, key.Mark().line + 1); !inserted) {
        fail(key, "duplicate key '" + k + "'" + in(where) + " (first at line " + std::to_string(pos->second) +
                      ")");
      }
      out.emplace_back(k, it->second);
    }
    return out;
  }

  // Any mapping's entries, keys checked only for being unique strings.
  std::vector<std::pair<std::string, YAML::Node>> any_entries(const YAML::Node& map,
                                                              const std::string& what) const {
    if (!map.IsMap()) fail(map, what + " must be a mapping");
    std::vector<std::pair<std::string, YAML::Node>> out;
    std::map<std::string, std::size_t> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar()) fail(key, "a key in " + what + " must be a string");
      if (auto [pos, inserted] = seen.emplace(key.Scalar(), key.Mark().line + 1); !inserted) {
        fail(key, "duplicate key '" + key.Scalar() + "' in " + what + " (first at line " +
                      std::to_string(pos->second) + ")");
      }
      out.emplace_back(key.Scalar(), it->second);
    }
    return out;
  }

  std::string string(const YAML::Node& n, const std::string& what) const {
    if (!n.IsScalar()) fail(n, what + " must be a string");
    return n.Scalar();
  }

  std::optional<std::string> string_or_null(const YAML::Node& n, const std::string& what) const {
    if (n.IsNull()) return std::nullopt;
    if (!n.IsScalar()) fail(n, what + " must be a string or null");
    return n.Scalar();
  }

  bool boolean(const YAML::Node& n, const std::string& what) const {
    bool b = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) fail(n, what + " must be true or false");
    return b;
  }

  std::vector<std::string> strings(const YAML::Node& n, const std::string& what) const {
    if (!n.IsSequence()) fail(n, what + " must be a list of strings");
    std::vector<std::string> out;
    for (const auto& item : n) {
      if (!item.IsScalar()) fail(item, what + " must be a list of strings");
      out.push_back(item.Scalar());
    }
    return out;
  }

  const std::string& file() const { return file_; }

 private:
  static std::string in(const std::string& where) { return where.empty() ? "" : " in " + where; }
  std::string file_;
};

// Writes a YAML node back as text, keeping quoted scalars quoted (the kubeconfig reader
// tells `"8443"` from `8443`, as kubectl does).
void emit(YAML::Emitter& e, const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      e << YAML::BeginMap;
      for (auto it = n.begin(); it != n.end(); ++it) {
        e << YAML::Key;
        emit(e, it->first);
        e << YAML::Value;
        emit(e, it->second);
      }
      e << YAML::EndMap;
      break;
    case YAML::NodeType::Sequence:
      e << YAML::BeginSeq;
      for (const auto& item : n) emit(e, item);
      e << YAML::EndSeq;
      break;
    case YAML::NodeType::Scalar:
      if (n.Tag() == "?") {
        e << n.Scalar();
      } else {
        e << YAML::DoubleQuoted << n.Scalar();
      }
      break;
    default:
      e << YAML::Null;
      break;
  }
}

// A private folder removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::error_code ec;
    fs::path base = fs::temp_directory_path(ec);
    if (ec) base = "/tmp";
    std::string templ = (base / "lcrules-test-XXXXXX").string();
    if (::mkdtemp(templ.data())) path_ = templ;
  }
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Replaces `from` (a file or folder path) at the start of `s` with `to`.
void replace_prefix(std::string& s, const std::string& from, const std::string& to) {
  if (s == from) {
    s = to;
  } else if (s.size() > from.size() && s.compare(0, from.size(), from) == 0 && s[from.size()] == '/') {
    s = to + s.substr(from.size());
  }
}

std::string parent_folder(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Loads the test's kubeconfig content (written to a private temp file, read with the real
// kubeconfig reader) and resolves the context. The temp path never shows: the file is
// presented as `virtual_path` (context.file, kubeconfig.files, relative certificate paths).
void load_kubeconfig(const Reader& r, const YAML::Node& node, TestCase& t, const std::string& virtual_path) {
  std::string text;
  if (node.IsMap()) {
    YAML::Emitter e;
    emit(e, node);
    if (!e.good())
      r.fail(node, "kubeconfig of test '" + t.name + "' cannot be written back: " + e.GetLastError());
    text = std::string(e.c_str()) + "\n";
  } else if (node.IsScalar() && node.Tag() != "?") {
    text = node.Scalar();  // the file's text, as a (block) string
  } else {
    r.fail(node,
           "kubeconfig of test '" + t.name + "' must be a mapping (a kubeconfig) or a string (its text)");
  }
  TempDir dir;
  if (dir.path().empty()) {
    r.fail(node, std::string("cannot create a temporary folder for the kubeconfig: ") + std::strerror(errno));
  }
  const std::string tmp_file = dir.path() + "/config";
  {
    std::ofstream out(tmp_file, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) r.fail(node, "cannot write a temporary kubeconfig " + tmp_file);
  }
  ::chmod(tmp_file.c_str(), 0600);
  Kubeconfig kc;
  try {
    kc = Kubeconfig::load({tmp_file}, true);
  } catch (const KubeconfigError& e) {
    // "TMP:LINE:COL: error: MESSAGE": positions are in the written-back text, so keep only
    // the message and point at the test's `kubeconfig`.
    std::string msg = e.what();
    const auto at = msg.find(": error: ");
    if (at != std::string::npos) msg = msg.substr(at + 9);
    r.fail(node, "kubeconfig of test '" + t.name + "': " + msg);
  }
  t.context = kc.resolve(t.context.name);
  t.kubeconfig_files = {virtual_path};
  const std::string virtual_dir = parent_folder(virtual_path);
  if (t.context.file) replace_prefix(*t.context.file, tmp_file, virtual_path);
  if (t.context.certificate_authority) {
    // Relative paths were made absolute against the temp folder (after symlinks, maybe).
    std::error_code ec;
    const std::string canonical_dir = fs::weakly_canonical(dir.path(), ec).string();
    replace_prefix(*t.context.certificate_authority, dir.path(), virtual_dir);
    if (!ec) replace_prefix(*t.context.certificate_authority, canonical_dir, virtual_dir);
  }
}

std::optional<std::vector<Argv>> parse_load_command(const Reader& r, const YAML::Node& n,
                                                    const std::string& what) {
  if (n.IsNull()) return std::nullopt;
  if (!n.IsSequence() || n.size() == 0) {
    r.fail(n, what + " must be null, an argv (a list of strings) or a pipeline (a list of argvs)");
  }
  std::vector<Argv> pipeline;
  if (n[0].IsScalar()) {
    pipeline.push_back(r.strings(n, what));  // one argv, written flat
    return pipeline;
  }
  for (const auto& argv : n) {
    if (!argv.IsSequence() || argv.size() == 0)
      r.fail(argv, what + ": each command of a pipeline must be a list of strings");
    pipeline.push_back(r.strings(argv, what));
  }
  return pipeline;
}

const std::vector<std::string> kTestKeys = {"name",          "context",  "kubeconfig", "kubeconfig-path",
                                            "env",           "files",    "skaffold",   "skaffold-yaml-push",
                                            "probe-cluster", "commands", "expect",     "decided-by"};
const std::vector<std::string> kExpectKeys = {
    "cluster",      "local",    "cluster_name", "kubeconfig_cluster", "load_images", "push_images",
    "load_command", "registry", "notes",        "notes-include"};
const std::vector<std::string> kStubKeys = {"argv", "stdout", "stderr", "exit", "timeout", "not-found"};
const std::vector<std::string> kSkaffoldKeys = {"local-cluster", "kind-disable-load", "k3d-disable-load"};
const std::vector<std::string> kTestFileEntryKeys = {"path", "content"};
const std::vector<std::string> kFileKeys = {"rules", "shipped", "commands", "tests"};

std::vector<std::string> field_names() {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < kFieldCount; ++i) out.emplace_back(field_name(static_cast<Field>(i)));
  return out;
}

Stub parse_stub(const Reader& r, const YAML::Node& n, const std::string& test_name) {
  // An empty test name: a stub the file gives every test.
  const std::string of = test_name.empty() ? "the test file" : "test '" + test_name + "'";
  const std::string where = "a command stub of " + of;
  if (!n.IsMap()) r.fail(n, "each entry of commands (" + of + ") must be a mapping with 'argv'");
  Stub s;
  s.line = n.Mark().line + 1;
  bool has_argv = false, has_output = false, timeout = false, not_found = false;
  for (const auto& [key, v] : r.entries(n, kStubKeys, where)) {
    if (key == "argv") {
      s.argv = r.strings(v, "argv");
      if (s.argv.empty()) r.fail(v, "argv must not be empty");
      has_argv = true;
    } else if (key == "stdout") {
      s.out = r.string(v, "stdout");
      has_output = true;
    } else if (key == "stderr") {
      s.err = r.string(v, "stderr");
      has_output = true;
    } else if (key == "exit") {
      int code = -1;
      if (!v.IsScalar() || !YAML::convert<int>::decode(v, code) || code < 0 || code > 255) {
        r.fail(v, "exit must be a number from 0 to 255");
      }
      s.exit_code = code;
      has_output = true;
    } else if (key == "timeout") {
      timeout = r.boolean(v, "timeout");
    } else if (key == "not-found") {
      not_found = r.boolean(v, "not-found");
    }
  }
  if (!has_argv) r.fail(n, "missing key 'argv' in " + where);
  if (timeout && not_found) r.fail(n, "a command stub cannot both time out and be not found");
  if ((timeout || not_found) && has_output) {
    r.fail(n, std::string("a command stub that ") + (timeout ? "times out" : "is not found") +
                  " has no stdout, stderr or exit");
  }
  s.kind = timeout ? Stub::Kind::TimedOut : not_found ? Stub::Kind::NotFound : Stub::Kind::Exited;
  return s;
}

// The stubs of a `commands` list (a test's, or the file's with an empty test name) into
// `out`; two stubs for one argv are an error.
void parse_stubs(const Reader& r, const YAML::Node& list, const std::string& test_name,
                 std::vector<Stub>& out) {
  for (const auto& item : list) {
    Stub s = parse_stub(r, item, test_name);
    for (const auto& other : out) {
      if (other.argv == s.argv) {
        r.fail(item, "a stub for `" + describe_argv(s.argv) + "` is already given at line " +
                         std::to_string(other.line));
      }
    }
    out.push_back(std::move(s));
  }
}

void parse_expect(const Reader& r, const YAML::Node& n, TestCase& t) {
  const std::string where = "expect of test '" + t.name + "'";
  if (!n.IsMap()) r.fail(n, "expect of test '" + t.name + "' must be a mapping of fields to values");
  Expect& e = t.expect;
  for (const auto& [key, v] : r.entries(n, kExpectKeys, where)) {
    const std::string what = "expect." + key;
    if (key == "cluster") {
      e.cluster = r.string(v, what);
    } else if (key == "local") {
      e.local = r.boolean(v, what);
    } else if (key == "load_images") {
      e.load_images = r.boolean(v, what);
    } else if (key == "push_images") {
      e.push_images = r.boolean(v, what);
    } else if (key == "cluster_name") {
      e.cluster_name = r.string_or_null(v, what);
    } else if (key == "kubeconfig_cluster") {
      e.kubeconfig_cluster = r.string_or_null(v, what);
    } else if (key == "registry") {
      e.registry = r.string_or_null(v, what);
    } else if (key == "load_command") {
      e.load_command = parse_load_command(r, v, what);
    } else if (key == "notes") {
      e.notes = r.strings(v, what);
    } else if (key == "notes-include") {
      e.notes_include = r.strings(v, what);
    }
  }
}

TestCase parse_test(const Reader& r, const YAML::Node& n) {
  if (!n.IsMap()) r.fail(n, "each entry of tests must be a mapping");
  TestCase t;
  t.line = n.Mark().line + 1;
  // The name first, so every later message can say which test it is about.
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == "name") {
      t.name = r.string(it->second, "name");
      if (t.name.empty()) r.fail(it->second, "name must not be empty");
    }
  }
  if (t.name.empty()) r.fail(n, "missing key 'name' in test");
  const std::string where = "test '" + t.name + "'";
  const auto entries = r.entries(n, kTestKeys, where);
  const YAML::Node* kubeconfig = nullptr;
  const YAML::Node* kubeconfig_path = nullptr;
  bool has_context = false;
  for (const auto& [key, v] : entries) {
    if (key == "context") {
      t.context.name = r.string(v, "context");
      if (t.context.name.empty()) r.fail(v, "context must not be empty");
      has_context = true;
    } else if (key == "kubeconfig") {
      kubeconfig = &v;
    } else if (key == "kubeconfig-path") {
      kubeconfig_path = &v;
    } else if (key == "env") {
      for (const auto& [name, value] : r.any_entries(v, "env of " + where)) {
        if (value.IsNull()) {
          r.fail(value,
                 "env " + name + " must be a string (write \"\" for a variable that is set and empty)");
        }
        t.env[name] = r.string(value, "env " + name);
      }
    } else if (key == "files") {
      if (!v.IsSequence()) r.fail(v, "files must be a list of paths or {path, content} mappings");
      for (const auto& item : v) {
        if (item.IsScalar()) {
          t.files[paths::clean(item.Scalar())] = std::nullopt;
          continue;
        }
        if (!item.IsMap()) r.fail(item, "files must be a list of paths or {path, content} mappings");
        std::optional<std::string> path, content;
        for (const auto& [k, value] : r.entries(item, kTestFileEntryKeys, "a file of " + where)) {
          (k == "path" ? path : content) = r.string(value, "file " + k);
        }
        if (!path) r.fail(item, "a file of " + where + " needs a path");
        if (!content)
          r.fail(item, "a file of " + where + " needs a content (write a folder as a plain path)");
        t.files[paths::clean(*path)] = std::move(content);
      }
    } else if (key == "skaffold") {
      if (!v.IsMap()) r.fail(v, "skaffold of " + where + " must be a mapping");
      for (const auto& [name, value] : r.entries(v, kSkaffoldKeys, "skaffold of " + where)) {
        t.skaffold[name] = r.boolean(value, "skaffold." + name) ? "true" : "false";
      }
    } else if (key == "skaffold-yaml-push") {
      t.skaffold_yaml_push = r.boolean(v, "skaffold-yaml-push") ? "true" : "false";
    } else if (key == "probe-cluster") {
      t.probe_cluster = r.boolean(v, "probe-cluster");
    } else if (key == "commands") {
      if (!v.IsSequence()) r.fail(v, "commands of " + where + " must be a list of command stubs");
      parse_stubs(r, v, t.name, t.stubs);
    } else if (key == "expect") {
      parse_expect(r, v, t);
    } else if (key == "decided-by") {
      if (!v.IsMap()) r.fail(v, "decided-by of " + where + " must be a mapping of fields to rule names");
      for (const auto& [name, rule] : r.entries(v, field_names(), "decided-by of " + where)) {
        t.decided_by.emplace_back(*parse_field(name), r.string_or_null(rule, "decided-by." + name));
      }
    }
  }
  if (!has_context) r.fail(n, "missing key 'context' in " + where);
  const Expect& e = t.expect;
  const bool checks_something = e.cluster || e.local || e.load_images || e.push_images || e.cluster_name ||
                                e.kubeconfig_cluster || e.registry || e.load_command || e.notes ||
                                !e.notes_include.empty() || !t.decided_by.empty();
  if (!checks_something) {
    r.fail(n, where + " checks nothing: give 'expect' with at least one field, or 'decided-by'");
  }
  if (kubeconfig_path && !kubeconfig)
    r.fail(*kubeconfig_path, "kubeconfig-path of " + where + " needs 'kubeconfig'");
  if (kubeconfig) {
    // Where the kubeconfig "is" (context.file, relative certificate paths): by default
    // $HOME/.kube/config; `kubeconfig-path` tests rules about other places
    // (/etc/rancher/k3s/k3s.yaml, ~/.lima/VM/copied-from-guest/kubeconfig.yaml).
    const auto home = t.env.find("HOME");
    std::string virtual_path = paths::clean((home != t.env.end() ? home->second : "") + "/.kube/config");
    if (kubeconfig_path) {
      virtual_path = r.string(*kubeconfig_path, "kubeconfig-path");
      if (virtual_path.empty() || virtual_path.front() != '/') {
        r.fail(*kubeconfig_path, "kubeconfig-path of " + where + " must be an absolute path");
      }
      virtual_path = paths::clean(virtual_path);
    }
    load_kubeconfig(r, *kubeconfig, t, virtual_path);
  }
  return t;
}

// Reads one test file. Errors are appended to `errors`; returns nullopt when the file is
// unusable. Errors in one test do not hide errors in the next.
std::optional<TestFile> parse_test_file(const std::string& path, std::vector<std::string>& errors) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (!ec && size > kMaxTestFileSize) {
    errors.push_back(path + ": error: file is larger than 16 MiB");
    return std::nullopt;
  }
  std::string text;
  int err = 0;
  if (!files::read_whole(path, text, err)) {
    errors.push_back(path + ": error: cannot read: " + files::read_error_text(err));
    return std::nullopt;
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    errors.push_back(files::yaml_error_message(path, e.mark, "invalid YAML: " + e.msg));
    return std::nullopt;
  }
  const Reader r(path);
  TestFile tf;
  tf.path = path;
  const std::size_t errors_before = errors.size();
  try {
    if (!root.IsMap()) r.fail(root, "a test file must be a mapping with a 'tests' list");
    bool has_tests = false;
    for (const auto& [key, v] : r.entries(root, kFileKeys, "")) {
      if (key == "rules") {
        std::vector<std::string> entries;
        if (v.IsScalar()) {
          entries.push_back(v.Scalar());
        } else {
          entries = r.strings(v, "rules");
        }
        const std::string dir = parent_folder(path);
        for (std::size_t i = 0; i < entries.size(); ++i) {
          const YAML::Node at = v.IsSequence() ? v[i] : v;
          if (entries[i].empty()) r.fail(at, "an entry of rules must not be empty");
          const std::string resolved =
              paths::clean(entries[i].front() == '/' ? entries[i] : dir + "/" + entries[i]);
          std::error_code exists_ec;
          if (!fs::exists(resolved, exists_ec)) r.fail(at, "rules: no such file or folder: " + resolved);
          tf.rule_paths.push_back(resolved);
        }
        if (entries.empty()) r.fail(v, "rules must name at least one file or folder");
      } else if (key == "shipped") {
        tf.shipped = r.boolean(v, "shipped");
      } else if (key == "commands") {
        if (!v.IsSequence()) r.fail(v, "commands of the test file must be a list of command stubs");
        parse_stubs(r, v, "", tf.stubs);
      } else if (key == "tests") {
        if (!v.IsSequence()) r.fail(v, "tests must be a list of tests");
        has_tests = true;
        std::map<std::string, std::size_t> names;
        for (const auto& item : v) {
          try {
            TestCase t = parse_test(r, item);
            if (auto [pos, inserted] = names.emplace(t.name, t.line); !inserted) {
              r.fail(item, "duplicate test name '" + t.name + "' (first at line " +
                               std::to_string(pos->second) + ")");
            }
            tf.tests.push_back(std::move(t));
          } catch (const TestFileError& e) {
            errors.push_back(e.message);
          }
        }
      }
    }
    if (!has_tests) r.fail(root, "missing key 'tests' (a list of tests)");
  } catch (const TestFileError& e) {
    errors.push_back(e.message);
  } catch (const YAML::Exception& e) {
    // Every access is type-checked first; never crash on input anyway.
    errors.push_back(files::yaml_error_message(path, e.mark, "unexpected YAML structure: " + e.msg));
  }
  if (errors.size() != errors_before) return std::nullopt;
  if (tf.rule_paths.empty()) tf.rule_paths.push_back(parent_folder(path));
  return tf;
}

// ---------------------------------------------------------------------------------------
// Running tests.

std::string format_duration(std::chrono::milliseconds d) {
  const long long ms = std::max<long long>(d.count(), 0);
  if (ms < 1000) return std::to_string(ms) + "ms";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3gs", static_cast<double>(ms) / 1000.0);
  return buf;
}

// Answers commands from the test's stubs; a command without one is recorded (the test
// fails) and answered as not run. Never runs a real process.
class StubExecutor final : public CommandExecutor {
 public:
  explicit StubExecutor(const std::vector<Stub>& stubs) : stubs_(stubs) {}

  CommandResult run(const CommandRequest& request) override {
    CommandResult r;
    for (const auto& s : stubs_) {
      if (s.argv != request.argv) continue;
      const std::string& name = s.argv.front();
      r.resolved_path = name;
      switch (s.kind) {
        case Stub::Kind::Exited:
          r.status = CommandResult::Status::Exited;
          r.exit_code = s.exit_code;
          r.out = s.out;
          r.err = s.err;
          break;
        case Stub::Kind::TimedOut:
          r.status = CommandResult::Status::TimedOut;
          r.reason = "timed out after " + format_duration(request.timeout);
          break;
        case Stub::Kind::NotFound:
          r.status = CommandResult::Status::NotFound;
          r.resolved_path.clear();
          r.reason =
              name.find('/') != std::string::npos ? name + ": no such file" : name + ": not found on PATH";
          break;
      }
      return r;
    }
    missing.push_back(request.argv);
    r.status = CommandResult::Status::NotRun;
    r.reason = "not run: no stub in the test";
    return r;
  }

  std::vector<Argv> missing;

 private:
  const std::vector<Stub>& stubs_;
};

std::string show(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json nullable(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }
json nullable(const std::optional<std::vector<Argv>>& p) { return p ? json(*p) : json(nullptr); }

std::string rule_text(const CompiledRule* r) {
  if (!r) return "no rule (the default)";
  return "rule " + r->name + " (" + location_text(r->loc) + ")";
}

struct TestResult {
  const TestFile* file = nullptr;
  const TestCase* test = nullptr;
  std::vector<std::string> failures;
  std::string explanation;  // render_text of a failed test's decision
  json decision;            // decision_json of a failed test's decision
  bool passed() const { return failures.empty(); }
};

// The test's `files` as `read` sees them: a path listed with a content is a file; one listed
// without is a folder, as is every folder a listed path lies below.
file_reads::ListResult list_test_folder(const std::map<std::string, std::optional<std::string>>& files,
                                        const std::string& path, std::vector<file_reads::FolderEntry>& out) {
  out.clear();
  const std::string folder = paths::clean(path);
  const std::string prefix = folder == "/" ? folder : folder + "/";
  bool found = false;
  if (auto it = files.find(folder); it != files.end()) {
    if (it->second) return file_reads::ListResult::Missing;  // a file, not a folder
    found = true;
  }
  std::map<std::string, bool> entries;  // name -> folder
  for (auto it = files.lower_bound(prefix); it != files.end() && it->first.rfind(prefix, 0) == 0; ++it) {
    found = true;
    const std::string rest = it->first.substr(prefix.size());
    if (rest.empty()) continue;
    const std::size_t slash = rest.find('/');
    entries[rest.substr(0, slash)] |= slash != std::string::npos || !it->second;
  }
  for (auto& [name, is_folder] : entries) out.push_back({name, is_folder});
  return found ? file_reads::ListResult::Listed : file_reads::ListResult::Missing;
}

bool read_test_file(const std::map<std::string, std::optional<std::string>>& files, const std::string& path,
                    std::string& out, std::string& why) {
  const std::string file = paths::clean(path);
  const auto it = files.find(file);
  if (it != files.end() && it->second) {
    if (it->second->size() > file_reads::kMaxReadFileSize) {
      why = file_reads::too_large_text();
      return false;
    }
    out = *it->second;
    return true;
  }
  std::vector<file_reads::FolderEntry> entries;
  why = list_test_folder(files, file, entries) == file_reads::ListResult::Listed ? "is a folder"
                                                                                 : "does not exist";
  return false;
}

// A rule, identified across the rule sets of several test files.
struct RuleKey {
  std::string name, file;
  std::size_t line = 0;
  auto operator<=>(const RuleKey&) const = default;
};

RuleKey key_of(const CompiledRule& r) { return {r.name, r.loc.file, r.loc.line}; }

TestResult run_one(const TestFile& tf, const TestCase& t, std::set<RuleKey>& covered, TextStyle style) {
  TestResult res;
  res.file = &tf;
  res.test = &t;
  std::vector<Stub> all_stubs = t.stubs;
  for (const auto& file_stub : tf.stubs) {
    const bool own =
        std::any_of(t.stubs.begin(), t.stubs.end(), [&](const Stub& s) { return s.argv == file_stub.argv; });
    if (!own) all_stubs.push_back(file_stub);
  }
  StubExecutor stubs(all_stubs);
  EvaluationInput in;
  in.context = t.context;
  in.kubeconfig_files = t.kubeconfig_files;
  in.getenv = [&t](const std::string& name) -> std::optional<std::string> {
    const auto it = t.env.find(name);
    return it == t.env.end() ? std::nullopt : std::optional(it->second);
  };
  // A listed path exists, and so does every folder a listed path lies below.
  in.file_exists = [&t](const std::string& path) {
    std::vector<file_reads::FolderEntry> entries;
    return t.files.count(paths::clean(path)) != 0 ||
           list_test_folder(t.files, path, entries) == file_reads::ListResult::Listed;
  };
  in.list_folder = [&t](const std::string& path, std::vector<file_reads::FolderEntry>& out, std::string&) {
    return list_test_folder(t.files, path, out);
  };
  in.read_file = [&t](const std::string& path, std::string& out, std::string& why) {
    return read_test_file(t.files, path, out, why);
  };
  in.skaffold_config = [&t]() { return t.skaffold; };
  in.skaffold_build_local_push = t.skaffold_yaml_push;
  in.probe_cluster = t.probe_cluster;
  in.executor = &stubs;

  Explanation ex;
  Decision d;
  try {
    d = evaluate(*tf.rules, in, &ex);
  } catch (const std::exception& e) {
    res.failures.push_back(std::string("evaluation failed: ") + e.what());
    return res;
  }
  for (const auto& trace : ex.rules) {
    if (trace.outcome == Explanation::RuleTrace::Outcome::Matched &&
        (!trace.decided.empty() || (trace.rule->field_mask == 0 && !trace.notes.empty()))) {
      covered.insert(key_of(*trace.rule));
    }
  }

  auto& f = res.failures;
  for (const auto& argv : stubs.missing) f.push_back("no stub for command `" + describe_argv(argv) + "`");
  auto compare = [&f](const char* field, const json& expected, const json& got) {
    if (expected != got)
      f.push_back(std::string(field) + ": expected " + show(expected) + ", got " + show(got));
  };
  const Expect& e = t.expect;
  if (e.cluster) compare("cluster", *e.cluster, d.cluster);
  if (e.local) compare("local", *e.local, d.local);
  if (e.cluster_name) compare("cluster_name", nullable(*e.cluster_name), nullable(d.cluster_name));
  if (e.kubeconfig_cluster) {
    compare("kubeconfig_cluster", nullable(*e.kubeconfig_cluster), nullable(d.kubeconfig_cluster));
  }
  if (e.load_images) compare("load_images", *e.load_images, d.load_images);
  if (e.push_images) compare("push_images", *e.push_images, d.push_images);
  if (e.load_command) compare("load_command", nullable(*e.load_command), nullable(d.load_command));
  if (e.registry) compare("registry", nullable(*e.registry), nullable(d.registry));
  if (e.notes) compare("notes", json(*e.notes), json(d.notes));
  for (const auto& part : e.notes_include) {
    const bool found = std::any_of(d.notes.begin(), d.notes.end(), [&part](const std::string& n) {
      return n.find(part) != std::string::npos;
    });
    if (!found) f.push_back("notes: expected a note containing " + show(part) + ", got " + show(d.notes));
  }
  for (const auto& [field, rule] : t.decided_by) {
    const CompiledRule* by = nullptr;
    for (const auto& ft : ex.fields) {
      if (ft.field == field) by = ft.rule;
    }
    const bool ok = rule ? (by && by->name == *rule) : by == nullptr;
    if (!ok) {
      f.push_back(std::string(field_name(field)) + ": expected to be decided by " +
                  (rule ? "rule " + *rule : std::string("no rule (the default)")) + ", was decided by " +
                  rule_text(by));
    }
  }
  if (!f.empty()) {
    res.explanation = render_text(d, &ex, style);
    res.decision = decision_json(d, &ex);
  }
  return res;
}

std::string indent(const std::string& text, const std::string& prefix) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    out += (line.empty() ? "" : prefix + line) + "\n";
    start = end + 1;
  }
  return out;
}

std::string canonical_or_self(const std::string& p) {
  std::error_code ec;
  auto c = fs::weakly_canonical(p, ec);
  return ec ? p : c.string();
}

bool is_test_file(const std::string& name) {
  return name.size() > kTestSuffix.size() &&
         name.compare(name.size() - kTestSuffix.size(), kTestSuffix.size(), kTestSuffix) == 0;
}

// The test files under the given paths: a folder gives its *.rules-test.yaml files in
// lexical order (not recursive), a file itself.
std::vector<std::string> collect_test_files(const std::vector<std::string>& paths,
                                            std::vector<std::string>& errors) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](const std::string& f) {
    if (seen.insert(canonical_or_self(f)).second) out.push_back(f);
  };
  for (const auto& p : paths) {
    std::error_code ec;
    const auto status = fs::status(p, ec);
    if (ec || !fs::exists(status)) {
      errors.push_back(p + ": error: no such file or folder");
      continue;
    }
    if (fs::is_directory(status)) {
      std::vector<std::string> files;
      for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        std::error_code type_ec;
        if (is_test_file(name) && it->is_regular_file(type_ec))
          files.push_back(paths::clean(it->path().string()));
      }
      if (ec) {
        errors.push_back(p + ": error: cannot list folder: " + ec.message());
        continue;
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) add(f);
      continue;
    }
    if (!is_test_file(fs::path(p).filename().string())) {
      errors.push_back(p + ": error: not a test file (test files end in .rules-test.yaml)");
      continue;
    }
    add(paths::clean(p));
  }
  return out;
}

// The rule files of a test file: the shipped rules (unless `shipped: false`), then its
// `rules:`; a file already in the list is not loaded again.
std::vector<RuleFileRef> rule_files_for(const TestFile& tf, const std::optional<std::string>& shipped,
                                        std::vector<std::string>& errors) {
  std::vector<Error> path_errors;
  std::vector<RuleFileRef> out;
  std::set<std::string> seen;
  auto add_all = [&](std::vector<RuleFileRef> refs) {
    for (auto& ref : refs) {
      ref.path = paths::clean(ref.path);
      ref.origin = RuleOrigin::Shipped;  // test rule sets run no real command: no ownership checks
      if (seen.insert(canonical_or_self(ref.path)).second) out.push_back(std::move(ref));
    }
  };
  if (tf.shipped && shipped) add_all(collect_paths({*shipped}, RuleOrigin::Shipped, path_errors));
  add_all(collect_paths(tf.rule_paths, RuleOrigin::Shipped, path_errors));
  for (auto& e : path_errors) errors.push_back(std::move(e.text));
  return out;
}

}  // namespace

std::vector<std::string> rule_test_names(const TestOptions& opts, const RuleSetOptions& rule_opts) {
  std::vector<std::string> paths = opts.paths;
  if (paths.empty()) {
    const auto shipped = find_shipped_rules(rule_opts.shipped_fallback);
    if (!shipped) return {};
    paths.push_back(*shipped);
  }
  std::vector<std::string> errors;
  std::vector<std::string> names;
  for (const auto& file : collect_test_files(paths, errors)) {
    if (auto tf = parse_test_file(file, errors)) {
      for (const auto& t : tf->tests) names.push_back(t.name);
    }
  }
  return names;
}

TestStatus run_rule_tests(const TestOptions& opts, const RuleSetOptions& rule_opts, std::ostream& report,
                          std::ostream& err_out) {
  const auto shipped = find_shipped_rules(rule_opts.shipped_fallback);
  std::vector<std::string> paths = opts.paths;
  if (paths.empty()) {
    if (!shipped) {
      err_out << "lcrules: error: no shipped rules folder found; give the test files or folders to run\n";
      return TestStatus::CouldNotRun;
    }
    paths.push_back(*shipped);
  }

  std::optional<boost::regex> filter;
  if (!opts.run_filter.empty()) {
    try {
      filter.emplace(opts.run_filter, boost::regex::perl);
    } catch (const boost::regex_error& e) {
      err_out << "lcrules: error: --run: invalid regular expression '" << opts.run_filter << "': " << e.what()
              << "\n";
      return TestStatus::CouldNotRun;
    }
  }

  std::vector<std::string> errors;
  const auto test_paths = collect_test_files(paths, errors);
  if (test_paths.empty() && errors.empty()) {
    err_out << "lcrules: error: no test files (*.rules-test.yaml) in " << join(paths) << "\n";
    return TestStatus::CouldNotRun;
  }
  std::vector<TestFile> files;
  for (const auto& p : test_paths) {
    if (auto tf = parse_test_file(p, errors)) files.push_back(std::move(*tf));
  }
  // Load each distinct rule set once.
  std::map<std::vector<std::string>, std::shared_ptr<const RuleSet>> loaded;
  for (auto& tf : files) {
    std::vector<std::string> file_errors;
    const auto refs = rule_files_for(tf, shipped, file_errors);
    if (!file_errors.empty()) {
      for (auto& e : file_errors) errors.push_back(std::move(e));
      continue;
    }
    std::vector<std::string> key;
    for (const auto& ref : refs) key.push_back(canonical_or_self(ref.path));
    if (auto it = loaded.find(key); it != loaded.end()) {
      tf.rules = it->second;
      continue;
    }
    auto result = load_rule_set(refs);
    if (!result.rule_set) {
      for (auto& e : result.errors) errors.push_back(std::move(e.text));
      if (result.errors.empty()) errors.push_back(tf.path + ": error: its rule files could not be loaded");
      continue;
    }
    tf.rules = std::make_shared<const RuleSet>(std::move(*result.rule_set));
    loaded.emplace(std::move(key), tf.rules);
  }
  if (!errors.empty()) {
    for (const auto& e : errors)
      err_out << paint_diagnostic(e, opts.error_style) << (e.empty() || e.back() != '\n' ? "\n" : "");
    return TestStatus::CouldNotRun;
  }

  std::set<RuleKey> covered;
  std::vector<TestResult> results;
  std::vector<const TestFile*> ran_files;
  for (const auto& tf : files) {
    bool any = false;
    for (const auto& t : tf.tests) {
      if (filter && !boost::regex_search(t.name, *filter)) continue;
      results.push_back(run_one(tf, t, covered, opts.style));
      any = true;
    }
    if (any) ran_files.push_back(&tf);
  }
  if (results.empty()) {
    if (filter) {
      err_out << "lcrules: error: no test name matches --run '" << opts.run_filter << "'\n";
    } else {
      err_out << "lcrules: error: the test files hold no tests\n";
    }
    return TestStatus::CouldNotRun;
  }

  // Coverage: every active rule of the rule sets that ran a test, that no test saw match
  // and decide a field (or contribute a note).
  std::vector<const CompiledRule*> uncovered;
  if (opts.coverage) {
    std::set<RuleKey> listed;
    for (const auto* tf : ran_files) {
      for (const auto* rule : tf->rules->active) {
        const RuleKey k = key_of(*rule);
        if (!covered.count(k) && listed.insert(k).second) uncovered.push_back(rule);
      }
    }
    std::stable_sort(uncovered.begin(), uncovered.end(), [](const CompiledRule* a, const CompiledRule* b) {
      return std::tie(a->loc.file, a->loc.line) < std::tie(b->loc.file, b->loc.line);
    });
  }

  const auto passed = static_cast<std::size_t>(
      std::count_if(results.begin(), results.end(), [](const TestResult& r) { return r.passed(); }));
  const std::size_t failed = results.size() - passed;

  if (opts.json) {
    json tests = json::array();
    for (const auto& r : results) {
      json item = {{"name", r.test->name},
                   {"file", r.file->path},
                   {"line", r.test->line},
                   {"passed", r.passed()},
                   {"failures", r.failures}};
      if (!r.passed()) item["decision"] = r.decision;
      tests.push_back(std::move(item));
    }
    json unc = json::array();
    for (const auto* rule : uncovered)
      unc.push_back({{"name", rule->name}, {"file", rule->loc.file}, {"line", rule->loc.line}});
    json out = {{"tests", tests}, {"passed", passed}, {"failed", failed}, {"uncovered", unc}};
    report << dump_json(out);
  } else {
    std::string text;
    for (const auto& r : results) {
      text += (r.passed() ? paint("PASS", Tone::Good, opts.style) : paint("FAIL", Tone::Bad, opts.style)) +
              " " + r.test->name + " (" + r.file->path + ")\n";
      if (r.passed()) continue;
      for (const auto& f : r.failures) text += "  " + f + "\n";
      text += indent(r.explanation, "    ");
    }
    for (const auto* rule : uncovered)
      text += "uncovered: " + rule->name + " (" + location_text(rule->loc) + ")\n";
    text += std::to_string(passed) + " passed, " + std::to_string(failed) + " failed\n";
    report << text;
  }
  report.flush();
  return failed > 0 || !uncovered.empty() ? TestStatus::Failed : TestStatus::Passed;
}

}  // namespace lcrules
