#!/usr/bin/env bash
# A failed write of the answer is an error: `lcrules eval >/dev/full` (ENOSPC) and
# `lcrules eval >&-` (a closed standard output) exit 2 with a message on stderr, never 0
# with nothing printed. A CLI case cannot redirect lcrules' standard output, hence a script.
#
#   write_errors.sh LCRULES_BINARY SCENARIO      SCENARIO: full | closed | ok
set -u
binary=$1
scenario=$2
repo=$(cd "$(dirname "$0")/../../.." && pwd)
sandbox=$(mktemp -d)
trap 'rm -rf "$sandbox"' EXIT
fail() { echo "FAIL: $*"; echo "stderr:"; sed 's/^/  /' "$sandbox/err"; exit 1; }
export HOME="$sandbox/home" XDG_CACHE_HOME="$sandbox/cache"
unset KUBECONFIG XDG_CONFIG_HOME
mkdir -p "$HOME"
# lcrules reaches no tool: an empty PATH for it alone.
lcrules() { env PATH=/nonexistent "$binary" "$@"; }
args=(eval --kubeconfig "$repo/docs/demo/kubeconfig" --context kind-dev)
for sub in eval rules facts; do
  case "$sub" in
  eval) cmd=("${args[@]}") ;;
  rules) cmd=(rules) ;;
  facts) cmd=(facts --kubeconfig "$repo/docs/demo/kubeconfig" --context kind-dev) ;;
  esac
  case "$scenario" in
  full)
    [ -w /dev/full ] || { echo "no /dev/full here"; exit 1; }
    lcrules "${cmd[@]}" >/dev/full 2>"$sandbox/err"
    status=$?
    want="lcrules: error: cannot write the answer: No space left on device"
    ;;
  closed)
    lcrules "${cmd[@]}" >&- 2>"$sandbox/err"
    status=$?
    want="lcrules: error: cannot write the answer: Bad file descriptor"
    ;;
  ok)
    lcrules "${cmd[@]}" >"$sandbox/out" 2>"$sandbox/err"
    status=$?
    [ "$status" = 0 ] || fail "$sub: exit $status with a writable output"
    [ -s "$sandbox/out" ] || fail "$sub: nothing written"
    [ ! -s "$sandbox/err" ] || fail "$sub: unexpected stderr"
    continue
    ;;
  *) echo "unknown scenario $scenario"; exit 1 ;;
  esac
  [ "$status" = 2 ] || fail "$sub ($scenario): exit $status, expected 2"
  grep -qxF "$want" "$sandbox/err" || fail "$sub ($scenario): stderr lacks: $want"
done
echo "ok"
