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
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <set>

#include "engine/core/loader.hpp"
#include "engine/core/output.hpp"
#include "engine/facts/file_reads.hpp"
#include "engine/facts/files.hpp"
#include "engine/facts/paths.hpp"
#include "grammar/utf8.hpp"

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

// What a command no stub answers does: fail the test (the default), or behave as a
// command that is not installed.
enum class Unstubbed { Fail, NotInstalled };

// A `decided-by` entry: the field, the rule (nullopt: the default) and where it is written.
struct DecidedBy {
  Field field = Field::Cluster;
  std::optional<std::string> rule;
  YAML::Mark mark;
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
  std::vector<DecidedBy> decided_by;
  std::optional<Unstubbed> unstubbed;  // absent: the file's
};

struct TestFile {
  std::string path;
  bool shipped = true;
  std::vector<std::string> rule_paths;  // `rules:` entries resolved against the file's folder
  std::vector<Stub> stubs;  // `commands:` for every test; a test's own stub for the same argv wins
  Unstubbed unstubbed = Unstubbed::Fail;
  std::vector<TestCase> tests;
  std::shared_ptr<const RuleSet> rules;
  std::set<std::string> files_under_test;  // canonical paths of the `rules:` files (for --coverage)
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

// The edit distance of a and b, ignoring case, a swap of two neighbours counting as one edit
// (optimal string alignment).
std::size_t edit_distance(const std::string& a, const std::string& b) {
  const auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const bool same = lower(a[i - 1]) == lower(b[j - 1]);
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (same ? 0 : 1)});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// The candidate closest to `name`, when it is close enough to be a likely typo: at most a
// third of the name's length in edits (at least one), `-` and `_` being the same.
std::optional<std::string> closest(const std::string& name, const std::vector<std::string>& candidates) {
  const auto normal = [](std::string s) {
    std::replace(s.begin(), s.end(), '_', '-');
    return s;
  };
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(1, name.size() / 3) + 1;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(normal(name), normal(c));
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

// "; did you mean 'context'?" when a candidate is close to `name`, else "".
std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates) {
  const auto c = closest(name, candidates);
  return c ? "; did you mean '" + *c + "'?" : "";
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
        fail(key, "unknown key '" + k + "'" + in(where) + did_you_mean(k, known) +
                      " (known keys: " + join(known) + ")");
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

  // A plain (unquoted) `true` or `false`, which YAML reads as a boolean.
  static std::optional<bool> plain_boolean(const YAML::Node& n) {
    if (!n.IsScalar() || n.Tag() != "?") return std::nullopt;
    const std::string& v = n.Scalar();
    if (v == "true" || v == "True" || v == "TRUE") return true;
    if (v == "false" || v == "False" || v == "FALSE") return false;
    return std::nullopt;
  }

  // A string; an unquoted true or false (a boolean in YAML) is not one.
  std::string string(const YAML::Node& n, const std::string& what) const {
    if (!n.IsScalar()) fail(n, what + " must be a string");
    if (plain_boolean(n))
      fail(n, what + " must be a string, not a boolean (write \"" + n.Scalar() + "\" for the string)");
    return n.Scalar();
  }

  std::optional<std::string> string_or_null(const YAML::Node& n, const std::string& what) const {
    if (n.IsNull()) return std::nullopt;
    if (!n.IsScalar()) fail(n, what + " must be a string or null");
    if (plain_boolean(n)) {
      fail(n,
           what + " must be a string or null, not a boolean (write \"" + n.Scalar() + "\" for the string)");
    }
    return n.Scalar();
  }

  // Only an unquoted true or false: `"yes"`, `"true"` and `yes` are strings.
  bool boolean(const YAML::Node& n, const std::string& what) const {
    if (const auto b = plain_boolean(n)) return *b;
    if (n.IsScalar() && n.Tag() != "?") {
      fail(n,
           what + " must be true or false, not the string \"" + n.Scalar() + "\" (write it without quotes)");
    }
    fail(n, what + " must be true or false");
  }

  // A boolean as Skaffold reads its config: YAML 1.1 words (yes, on, 'Off') count too.
  bool skaffold_boolean(const YAML::Node& n, const std::string& what) const {
    bool b = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) fail(n, what + " must be true or false");
    return b;
  }

  // One of `values`, unquoted or quoted.
  std::string choice(const YAML::Node& n, const std::string& what,
                     const std::vector<std::string>& values) const {
    const auto quoted = [&values] {
      std::vector<std::string> q;
      for (const auto& v : values) q.push_back("'" + v + "'");
      return join(q, " or ");
    };
    if (!n.IsScalar()) fail(n, what + " must be " + quoted());
    if (std::find(values.begin(), values.end(), n.Scalar()) == values.end()) {
      fail(n,
           what + " must be " + quoted() + ", not '" + n.Scalar() + "'" + did_you_mean(n.Scalar(), values));
    }
    return n.Scalar();
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
                                            "probe-cluster", "commands", "unstubbed",  "expect",
                                            "decided-by"};
const std::vector<std::string> kExpectKeys = {
    "cluster",      "local",    "cluster_name", "kubeconfig_cluster", "load_images", "push_images",
    "load_command", "registry", "notes",        "notes-include"};
const std::vector<std::string> kStubKeys = {"argv", "stdout", "stderr", "exit", "timeout", "not-found"};
const std::vector<std::string> kSkaffoldKeys = {"local-cluster", "kind-disable-load", "k3d-disable-load"};
const std::vector<std::string> kTestFileEntryKeys = {"path", "content"};
const std::vector<std::string> kFileKeys = {"rules", "shipped", "commands", "unstubbed", "tests"};
const std::vector<std::string> kUnstubbedValues = {"fail", "not-installed"};

Unstubbed parse_unstubbed(const Reader& r, const YAML::Node& n) {
  return r.choice(n, "unstubbed", kUnstubbedValues) == "fail" ? Unstubbed::Fail : Unstubbed::NotInstalled;
}

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
      if (!v.IsScalar() || v.Tag() != "?" || !YAML::convert<int>::decode(v, code) || code < 0 || code > 255) {
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
        t.skaffold[name] = r.skaffold_boolean(value, "skaffold." + name) ? "true" : "false";
      }
    } else if (key == "skaffold-yaml-push") {
      t.skaffold_yaml_push = r.boolean(v, "skaffold-yaml-push") ? "true" : "false";
    } else if (key == "probe-cluster") {
      t.probe_cluster = r.boolean(v, "probe-cluster");
    } else if (key == "commands") {
      if (!v.IsSequence()) r.fail(v, "commands of " + where + " must be a list of command stubs");
      parse_stubs(r, v, t.name, t.stubs);
    } else if (key == "unstubbed") {
      t.unstubbed = parse_unstubbed(r, v);
    } else if (key == "expect") {
      parse_expect(r, v, t);
    } else if (key == "decided-by") {
      if (!v.IsMap()) r.fail(v, "decided-by of " + where + " must be a mapping of fields to rule names");
      for (const auto& [name, rule] : r.entries(v, field_names(), "decided-by of " + where)) {
        auto rule_name = r.string_or_null(rule, "decided-by." + name);
        if (rule_name && rule_name->empty())
          r.fail(rule, "decided-by." + name + " must name a rule (null: no rule)");
        t.decided_by.push_back({*parse_field(name), std::move(rule_name), rule.Mark()});
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
      } else if (key == "unstubbed") {
        tf.unstubbed = parse_unstubbed(r, v);
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
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    // Every access is type-checked first; never crash on input anyway.
    errors.push_back(files::yaml_error_message(path, e.mark, "unexpected YAML structure: " + e.msg));
    return std::nullopt;
  }
  // With errors in some tests the file is still returned (the run stops before any test
  // runs), so that the `decided-by` of its other tests is checked against its rule set too.
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

// Answers commands from the test's stubs. A command without one is recorded and answered
// as not run (the test fails), or, with `unstubbed: not-installed`, as not found on PATH.
// Never runs a real process.
class StubExecutor final : public CommandExecutor {
 public:
  StubExecutor(const std::vector<Stub>& stubs, Unstubbed unstubbed) : stubs_(stubs), unstubbed_(unstubbed) {}

  CommandResult run(const CommandRequest& request) override {
    CommandResult r;
    const auto not_found = [&r](const std::string& name) {
      r.status = CommandResult::Status::NotFound;
      r.resolved_path.clear();
      r.reason = name.find('/') != std::string::npos ? name + ": no such file" : name + ": not found on PATH";
    };
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
          not_found(name);
          break;
      }
      return r;
    }
    if (unstubbed_ == Unstubbed::NotInstalled && !request.argv.empty()) {
      not_found(request.argv.front());
      r.reason += " (no stub; unstubbed: not-installed)";
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
  Unstubbed unstubbed_;
};

std::string show(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json nullable(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }
json nullable(const std::optional<std::vector<Argv>>& p) { return p ? json(*p) : json(nullptr); }

std::string rule_text(const CompiledRule* r) {
  if (!r) return "no rule (the default)";
  return "rule " + r->name + " (" + location_text(r->loc) + ")";
}

// A stub for `argv`, as one line of YAML ready to paste into a `commands:` list.
std::string stub_snippet(const Argv& argv) {
  YAML::Emitter e;
  e << YAML::Flow << YAML::BeginMap << YAML::Key << "argv" << YAML::Value << YAML::BeginSeq;
  for (const auto& a : argv) e << a;
  e << YAML::EndSeq << YAML::Key << "stdout" << YAML::Value << YAML::DoubleQuoted << "" << YAML::Key << "exit"
    << YAML::Value << 0 << YAML::EndMap;
  return std::string("- ") + e.c_str();
}

struct TestResult {
  const TestFile* file = nullptr;
  const TestCase* test = nullptr;
  std::vector<std::string> failures;  // one line each (text and JSON)
  std::vector<std::string> hints;     // text only: near misses, stubs to paste
  std::string explanation;            // render_text of a failed test's decision
  json decision;                      // decision_json of a failed test's decision
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

// Where a differing field's value came from: "decided by rule R (FILE:LINE)" or the default.
std::string decided_text(const Explanation& ex, Field field) {
  for (const auto& ft : ex.fields) {
    if (ft.field != field) continue;
    if (!ft.rule) return "the default: no rule decided it";
    return "decided by rule " + ft.rule->name + " (" + location_text(ft.rule->loc) + ")";
  }
  return "the default: no rule decided it";
}

// Where the notes came from: "notes from rules A (FILE:LINE), B (...)" or "no rule added a note".
std::string notes_text(const Explanation& ex) {
  std::vector<std::string> from;
  for (const auto& trace : ex.rules) {
    if (trace.outcome == Explanation::RuleTrace::Outcome::Matched && !trace.notes.empty())
      from.push_back(trace.rule->name + " (" + location_text(trace.rule->loc) + ")");
  }
  return from.empty() ? "no rule added a note" : "notes from rules " + join(from);
}

// For the fields left at their default that differ from `expect`: the rules that set one of
// them but did not match, with the first check that failed. Rules `decided-by` names come
// first, then evaluation order; at most three.
void near_misses(const Explanation& ex, std::uint32_t fields, const TestCase& t,
                 std::vector<std::string>& hints) {
  std::vector<const Explanation::RuleTrace*> missed;
  for (const auto& trace : ex.rules) {
    if (trace.outcome == Explanation::RuleTrace::Outcome::NotMatched &&
        (trace.rule->field_mask & fields) != 0)
      missed.push_back(&trace);
  }
  const auto named = [&t](const Explanation::RuleTrace* trace) {
    return std::any_of(t.decided_by.begin(), t.decided_by.end(),
                       [trace](const DecidedBy& db) { return db.rule && *db.rule == trace->rule->name; });
  };
  std::stable_partition(missed.begin(), missed.end(), named);
  if (missed.size() > 3) missed.resize(3);
  for (const auto* trace : missed) {
    std::vector<std::string> sets;
    for (std::size_t i = 0; i < kFieldCount; ++i) {
      const auto field = static_cast<Field>(i);
      if (trace->rule->field_mask & fields & field_bit(field)) sets.emplace_back(field_name(field));
    }
    std::string line = "not matched: rule " + trace->rule->name + " (" + location_text(trace->rule->loc) +
                       "), which sets " + join(sets);
    if (!trace->checks.empty()) line += ": failed: " + trace->checks.front().text;
    hints.push_back(line);
  }
}

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
  StubExecutor stubs(all_stubs, t.unstubbed.value_or(tf.unstubbed));
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
  for (const auto& argv : stubs.missing) {
    f.push_back("no stub for command `" + describe_argv(argv) + "`");
  }
  if (!stubs.missing.empty()) {
    res.hints.push_back(std::string(stubs.missing.size() == 1 ? "a stub" : "stubs") +
                        " to paste under the test's `commands:` (set its output), or "
                        "`unstubbed: not-installed` in the test file:");
    for (const auto& argv : stubs.missing) res.hints.push_back("  " + stub_snippet(argv));
  }
  std::uint32_t defaulted = 0;  // differing fields no rule decided
  auto compare = [&](Field field, const json& expected, const json& got) {
    if (expected == got) return;
    f.push_back(std::string(field_name(field)) + ": expected " + show(expected) + ", got " + show(got) +
                " (" + decided_text(ex, field) + ")");
    const bool by_default = std::none_of(ex.fields.begin(), ex.fields.end(), [&](const auto& ft) {
      return ft.field == field && ft.rule != nullptr;
    });
    if (by_default) defaulted |= field_bit(field);
  };
  const Expect& e = t.expect;
  if (e.cluster) compare(Field::Cluster, *e.cluster, d.cluster);
  if (e.local) compare(Field::Local, *e.local, d.local);
  if (e.cluster_name) compare(Field::ClusterName, nullable(*e.cluster_name), nullable(d.cluster_name));
  if (e.kubeconfig_cluster && nullable(*e.kubeconfig_cluster) != nullable(d.kubeconfig_cluster)) {
    f.push_back("kubeconfig_cluster: expected " + show(nullable(*e.kubeconfig_cluster)) + ", got " +
                show(nullable(d.kubeconfig_cluster)) + " (from the kubeconfig, not from a rule)");
  }
  if (e.load_images) compare(Field::LoadImages, *e.load_images, d.load_images);
  if (e.push_images) compare(Field::PushImages, *e.push_images, d.push_images);
  if (e.load_command) compare(Field::LoadCommand, nullable(*e.load_command), nullable(d.load_command));
  if (e.registry) compare(Field::Registry, nullable(*e.registry), nullable(d.registry));
  if (e.notes && json(*e.notes) != json(d.notes)) {
    f.push_back("notes: expected " + show(json(*e.notes)) + ", got " + show(json(d.notes)) + " (" +
                notes_text(ex) + ")");
  }
  for (const auto& part : e.notes_include) {
    const bool found = std::any_of(d.notes.begin(), d.notes.end(), [&part](const std::string& n) {
      return n.find(part) != std::string::npos;
    });
    if (!found) {
      f.push_back("notes: expected a note containing " + show(part) + ", got " + show(d.notes) + " (" +
                  notes_text(ex) + ")");
    }
  }
  for (const auto& db : t.decided_by) {
    const CompiledRule* by = nullptr;
    for (const auto& ft : ex.fields) {
      if (ft.field == db.field) by = ft.rule;
    }
    if (db.rule && !by) defaulted |= field_bit(db.field);
  }
  if (defaulted != 0) near_misses(ex, defaulted, t, res.hints);
  for (const auto& db : t.decided_by) {
    const CompiledRule* by = nullptr;
    for (const auto& ft : ex.fields) {
      if (ft.field == db.field) by = ft.rule;
    }
    const bool ok = db.rule ? (by && by->name == *db.rule) : by == nullptr;
    if (!ok) {
      f.push_back(std::string(field_name(db.field)) + ": expected to be decided by " +
                  (db.rule ? "rule " + *db.rule : std::string("no rule (the default)")) +
                  ", was decided by " + rule_text(by));
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

// The test files in a folder (not in subfolders), in lexical order.
bool list_test_files(const std::string& folder, std::vector<std::string>& out,
                     std::vector<std::string>& errors) {
  std::error_code ec;
  std::vector<std::string> files;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (is_test_file(name) && it->is_regular_file(type_ec))
      files.push_back(paths::clean(it->path().string()));
  }
  if (ec) {
    errors.push_back(folder + ": error: cannot list folder: " + ec.message());
    return false;
  }
  std::sort(files.begin(), files.end());
  out.insert(out.end(), files.begin(), files.end());
  return true;
}

// The test files under the given paths: a folder gives its *.rules-test.yaml files in
// lexical order (not recursive), a file itself. With `skip_missing`, a path that does not
// exist gives nothing (the system and user rule folders need not exist).
std::vector<std::string> collect_test_files(const std::vector<std::string>& paths, bool skip_missing,
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
      if (!skip_missing || (ec && ec != std::errc::no_such_file_or_directory))
        errors.push_back(p + ": error: no such file or folder");
      continue;
    }
    if (fs::is_directory(status)) {
      std::vector<std::string> files;
      if (list_test_files(p, files, errors)) {
        for (const auto& f : files) add(f);
      }
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
// `rules:`; a file already in the list is not loaded again. The `rules:` files are the
// ones under test (--coverage).
std::vector<RuleFileRef> rule_files_for(TestFile& tf, const std::optional<std::string>& shipped,
                                        std::vector<std::string>& errors) {
  std::vector<Error> path_errors;
  std::vector<RuleFileRef> out;
  std::set<std::string> seen;
  auto add_all = [&](std::vector<RuleFileRef> refs, bool under_test) {
    for (auto& ref : refs) {
      ref.path = paths::clean(ref.path);
      ref.origin = RuleOrigin::Shipped;  // test rule sets run no real command: no ownership checks
      const std::string canonical = canonical_or_self(ref.path);
      if (under_test) tf.files_under_test.insert(canonical);
      if (seen.insert(canonical).second) out.push_back(std::move(ref));
    }
  };
  if (tf.shipped && shipped) add_all(collect_paths({*shipped}, RuleOrigin::Shipped, path_errors), false);
  add_all(collect_paths(tf.rule_paths, RuleOrigin::Shipped, path_errors), true);
  for (auto& e : path_errors) errors.push_back(std::move(e.text));
  return out;
}

// A rule defined or changed (override) in one of the files a test file tests.
bool under_test(const TestFile& tf, const CompiledRule& rule) {
  if (tf.files_under_test.count(canonical_or_self(rule.loc.file))) return true;
  return std::any_of(rule.changed_by.begin(), rule.changed_by.end(), [&tf](const ast::Location& at) {
    return tf.files_under_test.count(canonical_or_self(at.file)) != 0;
  });
}

// `decided-by` must name a rule of the test file's rule set that can decide something.
void check_decided_by(const TestFile& tf, std::vector<std::string>& errors) {
  std::vector<std::string> names;
  for (const auto& rule : tf.rules->rules) names.push_back(rule.name);
  for (const auto& t : tf.tests) {
    for (const auto& db : t.decided_by) {
      if (!db.rule) continue;
      const std::string what =
          "decided-by." + std::string(field_name(db.field)) + " of test '" + t.name + "'";
      const auto it = std::find_if(tf.rules->rules.begin(), tf.rules->rules.end(),
                                   [&db](const CompiledRule& r) { return r.name == *db.rule; });
      if (it == tf.rules->rules.end()) {
        errors.push_back(files::yaml_error_message(
            tf.path, db.mark,
            what + ": no rule '" + *db.rule + "' in the rule set" + did_you_mean(*db.rule, names)));
      } else if (it->disabled_by) {
        errors.push_back(files::yaml_error_message(tf.path, db.mark,
                                                   what + ": rule '" + *db.rule + "' is disabled (at " +
                                                       location_text(*it->disabled_by) +
                                                       "), so it decides nothing"));
      } else if ((it->field_mask & field_bit(db.field)) == 0) {
        errors.push_back(files::yaml_error_message(tf.path, db.mark,
                                                   what + ": rule '" + *db.rule + "' (" +
                                                       location_text(it->loc) + ") never sets " +
                                                       field_name(db.field)));
      }
    }
  }
}

// Text for XML 1.0: markup characters escaped, control bytes and invalid UTF-8 written as
// \xHH (XML cannot carry them even as character references). In an attribute, tabs and
// newlines are character references (a parser would turn them into spaces).
std::string xml_escape(const std::string& s, bool attribute = true) {
  std::string out;
  out.reserve(s.size());
  const auto hex = [&out](unsigned char c) {
    static const char* digits = "0123456789abcdef";
    out += "\\x";
    out += digits[c >> 4];
    out += digits[c & 15];
  };
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&apos;";
          break;
        case '\t':
          out += attribute ? "&#9;" : "\t";
          break;
        case '\n':
          out += attribute ? "&#10;" : "\n";
          break;
        default:
          if (c < 0x20) {
            hex(c);
          } else if (c == 0x7f) {
            hex(c);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // A well-formed UTF-8 sequence (no overlong forms, surrogates or values past U+10FFFF),
    // and not U+FFFE or U+FFFF, which are no XML characters either.
    const std::size_t len = grammar::utf8_length(std::string_view(s).substr(i, 4));
    const bool ok = len != 0 && !(len == 3 && c == 0xef && static_cast<unsigned char>(s[i + 1]) == 0xbf &&
                                  static_cast<unsigned char>(s[i + 2]) >= 0xbe);
    if (!ok) {
      hex(c);
      ++i;
      continue;
    }
    out.append(s, i, len);
    i += len;
  }
  return out;
}

// The failures of a test as text, one per line, with the hints (and, with `explain`, the
// whole explanation) below them.
std::string failure_text(const TestResult& r, bool explain, const std::string& indent_by) {
  std::string text;
  for (const auto& f : r.failures) text += indent_by + f + "\n";
  for (const auto& h : r.hints) text += indent_by + h + "\n";
  if (explain) {
    text += indent(r.explanation, indent_by + "  ");
  }
  return text;
}

std::string junit_report(const std::vector<TestResult>& results,
                         const std::vector<const CompiledRule*>& uncovered, bool explain) {
  // One testsuite per test file, in the order they ran.
  std::vector<std::pair<const TestFile*, std::vector<const TestResult*>>> suites;
  for (const auto& r : results) {
    if (suites.empty() || suites.back().first != r.file) suites.push_back({r.file, {}});
    suites.back().second.push_back(&r);
  }
  std::size_t failures = 0;
  for (const auto& r : results) failures += r.passed() ? 0 : 1;
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += "<testsuites name=\"lcrules test\" tests=\"" + std::to_string(results.size() + uncovered.size()) +
       "\" failures=\"" + std::to_string(failures + uncovered.size()) + "\">\n";
  for (const auto& [file, tests] : suites) {
    std::size_t failed = 0;
    for (const auto* r : tests) failed += r->passed() ? 0 : 1;
    x += "  <testsuite name=\"" + xml_escape(file->path) + "\" tests=\"" + std::to_string(tests.size()) +
         "\" failures=\"" + std::to_string(failed) + "\">\n";
    for (const auto* r : tests) {
      x += "    <testcase name=\"" + xml_escape(r->test->name) + "\" classname=\"" + xml_escape(file->path) +
           "\" file=\"" + xml_escape(file->path) + "\" line=\"" + std::to_string(r->test->line) + "\"";
      if (r->passed()) {
        x += "/>\n";
        continue;
      }
      x += ">\n      <failure message=\"" + xml_escape(r->failures.front()) + "\" type=\"failure\">" +
           xml_escape(failure_text(*r, explain, ""), false) + "</failure>\n    </testcase>\n";
    }
    x += "  </testsuite>\n";
  }
  if (!uncovered.empty()) {
    x += "  <testsuite name=\"coverage\" tests=\"" + std::to_string(uncovered.size()) + "\" failures=\"" +
         std::to_string(uncovered.size()) + "\">\n";
    for (const auto* rule : uncovered) {
      x += "    <testcase name=\"" + xml_escape(rule->name) + "\" classname=\"coverage\" file=\"" +
           xml_escape(rule->loc.file) + "\" line=\"" + std::to_string(rule->loc.line) + "\">\n";
      x += "      <failure message=\"uncovered: no test saw rule " + xml_escape(rule->name) +
           " match and decide a field\" type=\"uncovered\"/>\n    </testcase>\n";
    }
    x += "  </testsuite>\n";
  }
  x += "</testsuites>\n";
  return x;
}

}  // namespace

std::vector<std::string> rule_test_names(const TestOptions& opts, const RuleSetOptions& rule_opts) {
  std::vector<std::string> paths = opts.paths;
  const bool searching = paths.empty();
  if (searching) paths = opts.search_folders;
  if (paths.empty()) {
    const auto shipped = find_shipped_rules(rule_opts.shipped_fallback);
    if (!shipped) return {};
    paths.push_back(*shipped);
  }
  std::vector<std::string> errors;
  std::vector<std::string> names;
  for (const auto& file : collect_test_files(paths, searching, errors)) {
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
  const bool searching = paths.empty();
  if (searching) {
    paths = opts.search_folders;
    if (paths.empty()) {
      if (!shipped) {
        err_out << "lcrules: error: no shipped rules folder found; give the test files or folders to run\n";
        return TestStatus::CouldNotRun;
      }
      paths.push_back(*shipped);
    }
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
  const auto test_paths = collect_test_files(paths, searching, errors);
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
    } else {
      auto result = load_rule_set(refs);
      if (!result.rule_set) {
        for (auto& e : result.errors) {
          // Several test files may load the same broken rule file: report it once.
          if (std::find(errors.begin(), errors.end(), e.text) == errors.end())
            errors.push_back(std::move(e.text));
        }
        if (result.errors.empty()) errors.push_back(tf.path + ": error: its rule files could not be loaded");
        continue;
      }
      tf.rules = std::make_shared<const RuleSet>(std::move(*result.rule_set));
      loaded.emplace(std::move(key), tf.rules);
    }
    check_decided_by(tf, errors);
  }
  if (!errors.empty()) {
    for (const auto& e : errors)
      err_out << paint_diagnostic(e, opts.error_style) << (e.empty() || e.back() != '\n' ? "\n" : "");
    return TestStatus::CouldNotRun;
  }

  // Only the text report is painted: JSON and JUnit carry plain explanations.
  const bool text_report = opts.format == TestOptions::Format::Text && !opts.json;
  const TextStyle report_style = text_report ? opts.style : TextStyle{};
  std::set<RuleKey> covered;
  std::vector<TestResult> results;
  std::vector<const TestFile*> ran_files;
  for (const auto& tf : files) {
    bool any = false;
    for (const auto& t : tf.tests) {
      if (filter && !boost::regex_search(t.name, *filter)) continue;
      results.push_back(run_one(tf, t, covered, report_style));
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

  // Coverage: every active rule defined or changed in the rule files under test (a test
  // file's `rules:`) of the test files that ran a test, that no test saw match and decide a
  // field (or contribute a note). Shipped rules a test file merely loads are not listed.
  std::vector<const CompiledRule*> uncovered;
  if (opts.coverage) {
    std::set<RuleKey> listed;
    for (const auto* tf : ran_files) {
      for (const auto* rule : tf->rules->active) {
        const RuleKey k = key_of(*rule);
        if (!covered.count(k) && under_test(*tf, *rule) && listed.insert(k).second) uncovered.push_back(rule);
      }
    }
    std::stable_sort(uncovered.begin(), uncovered.end(), [](const CompiledRule* a, const CompiledRule* b) {
      return std::tie(a->loc.file, a->loc.line) < std::tie(b->loc.file, b->loc.line);
    });
  }

  const auto passed = static_cast<std::size_t>(
      std::count_if(results.begin(), results.end(), [](const TestResult& r) { return r.passed(); }));
  const std::size_t failed = results.size() - passed;

  if (opts.format == TestOptions::Format::Json || opts.json) {
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
  } else if (opts.format == TestOptions::Format::Junit) {
    report << junit_report(results, uncovered, opts.explain);
  } else {
    std::string text;
    for (const auto& r : results) {
      if (r.passed()) {
        if (!opts.quiet)
          text += paint("PASS", Tone::Good, opts.style) + " " + r.test->name + " (" + r.file->path + ")\n";
        continue;
      }
      text += paint("FAIL", Tone::Bad, opts.style) + " " + r.test->name + " (" + r.file->path + ")\n";
      text += failure_text(r, opts.explain, "  ");
    }
    for (const auto* rule : uncovered)
      text += "uncovered: " + rule->name + " (" + location_text(rule->loc) + ")\n";
    if (failed > 0 && !opts.explain) text += "(--explain shows the whole explanation of each failed test)\n";
    text += std::to_string(passed) + " passed, " + std::to_string(failed) + " failed\n";
    report << text;
  }
  report.flush();
  return failed > 0 || !uncovered.empty() ? TestStatus::Failed : TestStatus::Passed;
}

}  // namespace lcrules
