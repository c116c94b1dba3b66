#include "engine/facts/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <istream>
#include <streambuf>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

namespace lcrules::files {

bool read_whole(const std::string& path, std::string& out, int& err, std::size_t max_size) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below anyway).
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    err = errno;
    return false;
  }
  const bool ok = read_whole_fd(fd, out, err, max_size);
  ::close(fd);
  return ok;
}

bool read_whole_fd(int fd, std::string& out, int& err, std::size_t max_size) {
  struct stat st {};
  // Regular files and devices (KUBECONFIG=/dev/null is common; /dev/zero stops at the size
  // cap); never a FIFO or socket, which could block or never end.
  if (::fstat(fd, &st) != 0) {
    err = errno;
    return false;
  }
  if (!(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
    err = S_ISDIR(st.st_mode) ? EISDIR : kNotRegularFile;
    return false;
  }
  if (S_ISREG(st.st_mode) && static_cast<std::uintmax_t>(st.st_size) > max_size) {
    err = kTooLarge;
    return false;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  out.clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      return false;
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_size) {  // grew while read
      err = kTooLarge;
      return false;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

std::string read_error_text(int err, std::size_t max_size) {
  if (err == kNotRegularFile) return "not a regular file";
  if (err == kTooLarge) return "larger than " + std::to_string(max_size / (1024 * 1024)) + " MiB";
  return std::strerror(err);
}

namespace {

// A read-only stream over a string, without a copy of it.
class ViewBuf : public std::streambuf {
 public:
  explicit ViewBuf(const std::string& text) {
    char* begin = const_cast<char*>(text.data());  // never written: no put area
    setg(begin, begin, begin + text.size());
  }
};

struct TooManyNodes {
  YAML::Mark mark;
};

// Counts nodes; throws TooManyNodes at the first one over the bound.
class NodeCounter : public YAML::EventHandler {
 public:
  explicit NodeCounter(std::size_t max_nodes) : max_nodes_(max_nodes) {}
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
    node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnMapEnd() override {}

 private:
  void node(const YAML::Mark& mark) {
    if (++nodes_ > max_nodes_) throw TooManyNodes{mark};
  }
  std::size_t max_nodes_;
  std::size_t nodes_ = 0;
};

}  // namespace

std::optional<YamlBoundError> check_yaml_bounds(const std::string& text, std::size_t max_nodes) {
  std::size_t flow = 0;
  YAML::Mark at;
  at.pos = at.line = at.column = 0;
  for (char c : text) {
    if (c == '[' || c == '{' || c == ',') {
      if (++flow > max_nodes) {
        return YamlBoundError{at, "more than " + std::to_string(max_nodes) +
                                      " flow indicators ([, { and ,): the file is too large to read"};
      }
    }
    ++at.pos;
    if (c == '\n') {
      ++at.line;
      at.column = 0;
    } else {
      ++at.column;
    }
  }
  ViewBuf buf(text);
  std::istream in(&buf);
  YAML::Parser parser(in);
  NodeCounter counter(max_nodes);
  try {
    parser.HandleNextDocument(counter);  // YAML::Load reads the first document only
  } catch (const TooManyNodes& e) {
    return YamlBoundError{e.mark, "more than " + std::to_string(max_nodes) + " nodes: the file is too large to read"};
  }
  return std::nullopt;
}

std::string yaml_error_message(const std::string& file, const YAML::Mark& mark, const std::string& message) {
  if (mark.is_null()) return file + ": error: " + message;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) +
         ": error: " + message;
}

Error yaml_error(ErrorKind kind, const std::string& file, const YAML::Mark& mark,
                 const std::string& message) {
  if (mark.is_null()) return Error::at(kind, file, 0, 0, message);
  return Error::at(kind, file, static_cast<unsigned>(mark.line + 1), static_cast<unsigned>(mark.column + 1),
                   message);
}

}  // namespace lcrules::files
