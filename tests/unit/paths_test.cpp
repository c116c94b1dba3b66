// paths::inside (and the clean() it rests on): the `path ... inside ...` predicate of rules
// (minikube's certificate under its home, say) relies on it.
#include <catch2/catch.hpp>

#include <string>

#include "engine/facts/paths.hpp"

using lcrules::paths::clean;
using lcrules::paths::inside;

TEST_CASE("paths::clean is Go's filepath.Clean", "[paths]") {
  CHECK(clean("") == ".");
  CHECK(clean(".") == ".");
  CHECK(clean("/") == "/");
  CHECK(clean("//a//b//") == "/a/b");
  CHECK(clean("/a/./b/.") == "/a/b");
  CHECK(clean("/a/b/../c") == "/a/c");
  CHECK(clean("/..") == "/");
  CHECK(clean("/../a") == "/a");
  CHECK(clean("a/..") == ".");
  CHECK(clean("../a") == "../a");
  CHECK(clean("a/../../b") == "../b");
  CHECK(clean("./a/") == "a");
}

TEST_CASE("paths::inside: a folder holds itself and what lies below it", "[paths]") {
  CHECK(inside("/a/b", "/a/b"));
  CHECK(inside("/a/b/c", "/a/b"));
  CHECK(inside("/a/b/c/d.crt", "/a/b"));
  CHECK_FALSE(inside("/a", "/a/b"));
  CHECK_FALSE(inside("/a/x", "/a/b"));
  CHECK_FALSE(inside("/x/a/b", "/a/b"));
}

TEST_CASE("paths::inside: a common prefix that is not a folder boundary is not inside", "[paths]") {
  CHECK_FALSE(inside("/a/bc", "/a/b"));
  CHECK_FALSE(inside("/a/bc/d", "/a/b"));
  CHECK_FALSE(inside("/a/b-old/ca.crt", "/a/b"));
  CHECK_FALSE(inside("/home/u/.minikube-old/ca.crt", "/home/u/.minikube"));
  CHECK(inside("/home/u/.minikube/ca.crt", "/home/u/.minikube"));
  CHECK_FALSE(inside("/a/b", "/a/bc"));
}

TEST_CASE("paths::inside: trailing and repeated slashes do not matter", "[paths]") {
  CHECK(inside("/a/b/", "/a/b"));
  CHECK(inside("/a/b", "/a/b/"));
  CHECK(inside("/a/b/c/", "/a/b/"));
  CHECK(inside("//a///b//c", "/a/b"));
  CHECK_FALSE(inside("/a/bc/", "/a/b/"));
}

TEST_CASE("paths::inside: `.` and `..` are resolved before comparing", "[paths]") {
  CHECK(inside("/a/b/./c", "/a/b"));
  CHECK(inside("/a/./b", "/a/b"));
  CHECK(inside("/a/b/c/..", "/a/b"));
  CHECK(inside("/a/x/../b/c", "/a/b"));
  CHECK_FALSE(inside("/a/b/..", "/a/b"));
  CHECK_FALSE(inside("/a/b/../c", "/a/b"));
  CHECK_FALSE(inside("/a/b/../bc", "/a/b"));
  CHECK_FALSE(inside("/a/b/c/../../b2", "/a/b"));
  CHECK(inside("/a/b/c", "/a/x/../b"));
  CHECK(inside("/a/b/c", "/a/b/."));
  CHECK_FALSE(inside("/a/c", "/a/b/../b"));
  // `..` above the root stays at the root.
  CHECK(inside("/../a/b", "/a"));
}

TEST_CASE("paths::inside: the root holds every absolute path and no relative one", "[paths]") {
  CHECK(inside("/", "/"));
  CHECK(inside("/a", "/"));
  CHECK(inside("/a/b/..", "/"));
  CHECK(inside("/a", "//"));
  CHECK_FALSE(inside("a", "/"));
  CHECK_FALSE(inside("/", "/a"));
}

TEST_CASE("paths::inside: relative paths compare with relative folders only", "[paths]") {
  CHECK(inside("a/b", "a"));
  CHECK(inside("a", "a"));
  CHECK(inside("./a/b", "a/"));
  CHECK_FALSE(inside("ab", "a"));
  CHECK_FALSE(inside("a/../b", "a"));
  // An absolute path is never inside a relative folder, nor the other way round.
  CHECK_FALSE(inside("/a/b", "a"));
  CHECK_FALSE(inside("a/b", "/a"));
  // `.` holds every relative path that does not climb out of it.
  CHECK(inside("a", "."));
  CHECK(inside("a/b", "./"));
  CHECK(inside(".", "."));
  CHECK_FALSE(inside("..", "."));
  CHECK_FALSE(inside("../a", "."));
  CHECK_FALSE(inside("a/../..", "."));
  CHECK_FALSE(inside("/a", "."));
  // A folder above the current one holds what lies below it.
  CHECK(inside("../a", ".."));
  CHECK(inside("..", ".."));
  CHECK_FALSE(inside("a", ".."));
}

TEST_CASE("paths::inside: an empty path or folder is `.`", "[paths]") {
  CHECK(inside("", ""));
  CHECK(inside("", "."));
  CHECK(inside(".", ""));
  CHECK(inside("a", ""));
  CHECK_FALSE(inside("", "a"));
  CHECK_FALSE(inside("", "/"));
  CHECK_FALSE(inside("/a", ""));
  CHECK_FALSE(inside("..", ""));
}

// Names that merely start with two dots are ordinary names, and a path that climbs further
// than the folder does is not inside it.
TEST_CASE("paths::inside: a name starting with .. is inside .", "[paths]") {
  CHECK(inside("..a/b", "."));
}

TEST_CASE("paths::inside: ../../a is not inside ..", "[paths]") {
  CHECK_FALSE(inside("../../a", ".."));
}
