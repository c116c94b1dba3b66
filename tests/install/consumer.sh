#!/usr/bin/env bash
# The installed library, used as docs/api.md says: install the build into a scratch prefix,
# build the example of docs/api.md (the same as tests/install/consumer/) against it with
# find_package(lcrules) and with pkg-config, run both in a sandbox, and compare what they
# print with what the installed `lcrules eval -o json` prints.
#   usage: consumer.sh BUILD_DIR SOURCE_DIR [CXX [FLAGS]]
# FLAGS: compiler and linker flags a consumer of this build needs besides the package's
# (the sanitizers, when the build is sanitized).
set -eu
build_dir=$1
source_dir=$2
cxx=${3:-c++}
flags=${4:-}
doc=$source_dir/docs/api.md
consumer=$source_dir/tests/install/consumer

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
prefix=$scratch/prefix
src=$scratch/src
home=$scratch/home
mkdir -p "$src" "$home"

fail() { echo "FAIL: $*"; exit 1; }

# The code blocks of docs/api.md that follow the marker comments are the consumer's files.
extract() {  # extract MARKER: the fenced block after the line "<!-- MARKER -->"
  awk -v marker="<!-- $1 -->" '
    $0 == marker { found = 1; next }
    found == 1 && /^```/ { found = 2; next }
    found == 2 && /^```$/ { exit }
    found == 2 { print }' "$doc"
}
for f in main.cpp CMakeLists.txt; do
  extract "tests/install/consumer/$f" >"$src/$f"
  [ -s "$src/$f" ] || fail "docs/api.md has no code block after <!-- tests/install/consumer/$f -->"
  diff -u "$consumer/$f" "$src/$f" || fail "docs/api.md's $f differs from tests/install/consumer/$f"
done

cmake --install "$build_dir" --prefix "$prefix" >/dev/null
for f in include/lcrules/engine.hpp include/lcrules/decision.hpp include/lcrules/error.hpp \
         include/lcrules/testing.hpp share/lcrules/kind.rules; do
  [ -f "$prefix/$f" ] || fail "not installed: $f"
done
config=$(find "$prefix" -name lcrules-config.cmake)
pc=$(find "$prefix" -name lcrules.pc)
[ -n "$config" ] || fail "not installed: lcrules-config.cmake"
[ -n "$pc" ] || fail "not installed: lcrules.pc"
[ "$(dirname "$pc")" = "$(dirname "$(dirname "$(dirname "$config")")")/pkgconfig" ] \
  || fail "lcrules.pc is not in LIBDIR/pkgconfig: $pc"
# Nothing installed may point back into the source or build tree.
if grep -rlF -e "$source_dir/" -e "$build_dir/" "$(dirname "$config")" "$pc"; then
  fail "the installed package refers to the source or build tree"
fi

sandbox() { env -i HOME="$home" PATH=/usr/bin:/bin LCRULES_SYSTEM_DIR="$home/etc" "$@"; }
kubeconfig=$source_dir/docs/demo/kubeconfig
sandbox "$prefix/bin/lcrules" eval --kubeconfig "$kubeconfig" --context kind-dev -o json >"$scratch/expected" \
  || fail "installed lcrules eval failed"
grep -q '"cluster": "kind"' "$scratch/expected" || fail "unexpected lcrules eval output: $(cat "$scratch/expected")"

run() {  # run NAME PROGRAM: runs a build of the example and compares its output
  local status=0
  sandbox "$2" "$prefix/share/lcrules" "$kubeconfig" >"$scratch/$1.out" 2>"$scratch/$1.err" || status=$?
  if [ "$status" != 0 ] || [ -s "$scratch/$1.err" ]; then
    cat "$scratch/$1.err"
    fail "$1: exit status $status, or it wrote to stderr"
  fi
  diff -u "$scratch/expected" "$scratch/$1.out" || fail "$1 does not print what lcrules eval -o json prints"
  echo "$1: ok"
}

# With the CMake package.
cmake -S "$src" -B "$scratch/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCMAKE_BUILD_TYPE=Release >"$scratch/configure.log" 2>&1 || { cat "$scratch/configure.log"; fail "configure"; }
cmake --build "$scratch/build" -j1 >"$scratch/build.log" 2>&1 || { cat "$scratch/build.log"; fail "build"; }
run find_package "$scratch/build/classify"

# With pkg-config.
pkg_flags=$(PKG_CONFIG_PATH="$(dirname "$pc")" pkg-config --cflags --libs lcrules) || fail "pkg-config lcrules"
# shellcheck disable=SC2086 # the flags are words
"$cxx" -std=c++20 -O1 $flags "$src/main.cpp" -o "$scratch/classify-pc" $pkg_flags || fail "g++ with pkg-config: $pkg_flags"
run pkg-config "$scratch/classify-pc"
