#!/usr/bin/env bash
# `kubectl lcrules` with the real kubectl: a PATH holding the link kubectl-lcrules -> lcrules
# (as the package installs it). `kubectl lcrules ARGS` is `lcrules eval ARGS` unless ARGS
# names a subcommand; `kubectl plugin list` lists it without a warning.
#
#   plugin.sh LCRULES SOURCE_DIR
set -uo pipefail
lcrules=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
kubectl=$(command -v kubectl) || { echo "FAIL: kubectl is not installed"; exit 1; }
sandbox=$(mktemp -d)
trap 'rm -rf "$sandbox"' EXIT
mkdir -p "$sandbox/bin" "$sandbox/home"
ln -s "$lcrules" "$sandbox/bin/kubectl-lcrules"
demo=$src/docs/demo/kubeconfig
failures=0
# Only the plugin's folder on PATH: kubectl finds the plugin there and nowhere else.
# EXTRA_ENV: one more VAR=VALUE for the command.
run() {
  (cd "$sandbox" && env -i HOME="$sandbox/home" PATH="$sandbox/bin" LCRULES_SYSTEM_DIR="$sandbox/etc" \
     ${EXTRA_ENV:+"$EXTRA_ENV"} "$@")
}

# same NAME "KUBECTL ARGS" "LCRULES ARGS" [VAR=VALUE] [stderr]: the same stdout and exit
# status (and stderr with `stderr`), and some output.
same() {
  local name=$1 kargs=$2 largs=$3 env_var=${4:-} with_stderr=${5:-}
  local kout lout kst lst
  kout=$(EXTRA_ENV=$env_var run "$kubectl" $kargs 2>"$sandbox/kerr"); kst=$?
  lout=$(EXTRA_ENV=$env_var run "$lcrules" $largs 2>"$sandbox/lerr"); lst=$?
  if [ -n "$with_stderr" ]; then
    kout+=$(cat "$sandbox/kerr")
    lout+=$(cat "$sandbox/lerr")
  fi
  if [ "$kout" = "$lout" ] && [ "$kst" = "$lst" ] && [ -n "$kout" ]; then
    echo "ok: $name (exit $kst)"
  else
    echo "FAIL: $name: kubectl $kargs (exit $kst) vs lcrules $largs (exit $lst)"
    diff <(echo "$lout") <(echo "$kout") | head -20
    cat "$sandbox/kerr"
    failures=$((failures + 1))
  fi
}

same "kubectl lcrules: the current context" "lcrules" "eval" "KUBECONFIG=$demo"
same "--context, --kubeconfig and -o json after the plugin name" \
  "lcrules --context k3d-k3s-default --kubeconfig $demo -o json" "eval --context k3d-k3s-default --kubeconfig $demo -o json"
same "--explain" "lcrules --kubeconfig $demo --context prod --explain" "eval --kubeconfig $demo --context prod --explain"
same "lcrules' own -v before eval's flags" "lcrules -v --kubeconfig $demo -o json" "-v eval --kubeconfig $demo -o json"
same "other subcommands: rules" "lcrules rules -o json" "rules -o json"
printf 'rule broken {\n  priority 1\n  when\n}\n' >"$sandbox/broken.rules"
same "other subcommands: check" "lcrules check $sandbox/broken.rules" "check $sandbox/broken.rules" "" stderr
same "other subcommands: test" "lcrules test $src/rules/kind.rules-test.yaml" "test $src/rules/kind.rules-test.yaml"
same "a usage error is eval's" "lcrules --bogus" "eval --bogus" "" stderr

help=$(run "$kubectl" lcrules --help 2>&1)
grep -q "kubectl lcrules" <<<"$help" || { echo "FAIL: kubectl lcrules --help does not say kubectl lcrules: $help"; failures=$((failures + 1)); }

list=$(run "$kubectl" plugin list 2>"$sandbox/err")
status=$?
if [ $status = 0 ] && grep -qxF "$sandbox/bin/kubectl-lcrules" <<<"$list" && ! grep -qi warning "$sandbox/err" && ! grep -qi warning <<<"$list"; then
  echo "ok: kubectl plugin list lists it without a warning"
else
  echo "FAIL: kubectl plugin list (exit $status):"; echo "$list"; cat "$sandbox/err"
  failures=$((failures + 1))
fi
# kubectl 1.26 and later complete a plugin's arguments through kubectl_complete-PLUGIN.
ln -s "$lcrules" "$sandbox/bin/kubectl_complete-lcrules"
minor=$("$kubectl" version --client -o json 2>/dev/null | /usr/bin/python3 -c \
  'import json, sys; print(int("".join(c for c in json.load(sys.stdin)["clientVersion"]["minor"] if c.isdigit())))')
if [ "${minor:-0}" -ge 26 ]; then
  got=$(run "$kubectl" __complete lcrules --kubeconfig "$demo" --context k 2>/dev/null)
  if [ "$got" = $'kind-dev\nk3d-k3s-default\n:4' ]; then
    echo "ok: kubectl __complete lcrules ... --context k (kubectl_complete-lcrules)"
  else
    echo "FAIL: kubectl's completion of kubectl lcrules: $got"
    failures=$((failures + 1))
  fi
else
  echo "kubectl 1.$minor completes no plugin: kubectl_complete-lcrules not checked"
fi
[ $failures = 0 ] || { echo "$failures failure(s)"; exit 1; }
