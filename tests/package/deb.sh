#!/usr/bin/env bash
# The Debian package (docs/packaging.md): `cpack -G DEB` from the build tree (into a scratch
# folder), lintian (when installed) reports no error, `dpkg-deb -x` into a scratch root, and
# the binary of that root runs on the demo kubeconfig with its rules from ROOT/usr/share/lcrules.
#
#   deb.sh BUILD_DIR SOURCE_DIR [sanitized]
# (`sanitized`: the build is instrumented (LCRULES_SANITIZE): lintian, which judges a release
# package, is not run on it.)
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
sanitized=${3:-}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cpack --config "$build/CPackConfig.cmake" -G DEB -B "$scratch/out" >"$scratch/cpack.log" 2>&1 \
  || { cat "$scratch/cpack.log"; fail "cpack -G DEB failed"; }
shopt -s nullglob
debs=("$scratch"/out/lcrules_*.deb)
devs=("$scratch"/out/lcrules-dev_*.deb)
[ ${#debs[@]} = 1 ] && [ ${#devs[@]} = 1 ] || fail "expected lcrules_*.deb and lcrules-dev_*.deb, got: $(ls "$scratch/out")"
deb=${debs[0]} dev=${devs[0]}
arch=$(dpkg --print-architecture)
version=$(dpkg-deb -f "$deb" Version)
[ "$(basename "$deb")" = "lcrules_${version}_${arch}.deb" ] || fail "file name $(basename "$deb")"
echo "built $(basename "$deb") and $(basename "$dev")"

# Control fields: Depends computed by dpkg-shlibdeps (the program links libc dynamically).
depends=$(dpkg-deb -f "$deb" Depends)
grep -q 'libc6 (>= ' <<<"$depends" || fail "Depends of lcrules lacks a computed libc6: '$depends'"
[ "$(dpkg-deb -f "$deb" Section)" = utils ] || fail "Section of lcrules"
[ "$(dpkg-deb -f "$dev" Section)" = libdevel ] || fail "Section of lcrules-dev"
[ -n "$(dpkg-deb -f "$deb" Maintainer)" ] || fail "no Maintainer"
dpkg-deb -I "$deb" conffiles | grep -qx /etc/lcrules/local.rules || fail "/etc/lcrules/local.rules is not a conffile"

if [ -n "$sanitized" ]; then
  echo "a sanitized build: lintian not run"
elif command -v lintian >/dev/null; then
  # Errors fail the test; warnings and the rest are listed (docs/packaging.md says why each stays).
  lintian --fail-on error --suppress-tags "$(cat "$src/packaging/lintian-accepted" | grep -v '^#' | tr '\n' ',' | sed 's/,*$//')" \
    "$deb" "$dev" >"$scratch/lintian.log" 2>&1 || { cat "$scratch/lintian.log"; fail "lintian reports errors"; }
  if grep -q '^[EW]: ' "$scratch/lintian.log"; then cat "$scratch/lintian.log"; fail "lintian: an error or warning not listed in packaging/lintian-accepted"; fi
  echo "lintian: no error or warning (accepted: $(grep -vc '^#' "$src/packaging/lintian-accepted"))"
else
  echo "lintian is not installed: not run"
fi

root=$scratch/root
dpkg-deb -x "$deb" "$root"
dpkg-deb -x "$dev" "$scratch/devroot"
for f in usr/bin/lcrules usr/share/lcrules/kind.rules usr/share/lcrules/kind.rules-test.yaml \
         usr/share/man/man1/lcrules.1.gz usr/share/man/man1/lcrules-eval.1.gz usr/share/man/man5/lcrules-rules.5.gz \
         usr/share/bash-completion/completions/lcrules usr/share/zsh/vendor-completions/_lcrules \
         usr/share/fish/vendor_completions.d/lcrules.fish usr/lib/systemd/user/lcrules.socket \
         usr/lib/systemd/user/lcrules.service etc/lcrules/local.rules usr/share/doc/lcrules/copyright \
         usr/share/doc/lcrules/changelog.Debian.gz; do
  [ -f "$root/$f" ] || fail "the package lacks /$f"
done
[ "$(readlink "$root/usr/bin/kubectl-lcrules")" = lcrules ] || fail "/usr/bin/kubectl-lcrules is not a link to lcrules"
grep -qx 'ExecStart=/usr/bin/lcrules serve' "$root/usr/lib/systemd/user/lcrules.service" || fail "lcrules.service ExecStart"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for f in usr/include/lcrules/engine.hpp usr/lib/$multiarch/cmake/lcrules/lcrules-config.cmake \
         usr/lib/$multiarch/pkgconfig/lcrules.pc usr/lib/$multiarch/liblcrules_engine.a usr/share/doc/lcrules-dev/copyright; do
  [ -f "$scratch/devroot/$f" ] || fail "lcrules-dev lacks /$f"
done
[ ! -e "$root/usr/include" ] || fail "the headers are in lcrules, not only in lcrules-dev"

# The extracted binary finds its rules in ROOT/usr/share/lcrules (not in the source tree).
home=$scratch/home
mkdir -p "$home"
run() { (cd "$scratch" && env -i HOME="$home" PATH=/usr/bin:/bin LCRULES_SYSTEM_DIR="$root/etc/lcrules" "$@"); }
run "$root/usr/bin/lcrules" rules -o json >"$scratch/rules.json"
/usr/bin/python3 - "$scratch/rules.json" "$root/usr/share/lcrules/" <<'PY'
import json, sys
rules, prefix = json.load(open(sys.argv[1])), sys.argv[2]
assert len(rules) > 10, f"only {len(rules)} rules"
outside = [r["file"] for r in rules if not r["file"].startswith(prefix)]
assert not outside, f"rules from outside {prefix}: {outside[:3]}"
print(f"{len(rules)} rules, all from {prefix}")
PY
for ctx in kind-dev k3d-k3s-default docker-desktop prod; do
  run "$root/usr/bin/lcrules" eval --kubeconfig "$src/docs/demo/kubeconfig" --context "$ctx" -o json >"$scratch/installed.json"
  run "$build/lcrules" eval --kubeconfig "$src/docs/demo/kubeconfig" --context "$ctx" -o json >"$scratch/build.json"
  diff -u "$scratch/build.json" "$scratch/installed.json" || fail "eval --context $ctx differs from the build tree's"
done
run "$root/usr/bin/lcrules" test >"$scratch/test.out" || { cat "$scratch/test.out"; fail "lcrules test of the shipped rules in the root"; }
grep -q "$root/usr/share/lcrules/kind.rules-test.yaml" "$scratch/test.out" || fail "lcrules test did not run ROOT/usr/share/lcrules's tests"
run "$root/usr/bin/kubectl-lcrules" --kubeconfig "$src/docs/demo/kubeconfig" -o json >"$scratch/plugin.json"
run "$build/lcrules" eval --kubeconfig "$src/docs/demo/kubeconfig" -o json >"$scratch/build.json"
diff -u "$scratch/build.json" "$scratch/plugin.json" || fail "kubectl-lcrules differs from lcrules eval"
echo "the installed lcrules uses $root/usr/share/lcrules"
