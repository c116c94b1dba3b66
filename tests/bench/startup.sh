#!/usr/bin/env bash
# Process start-up of `lcrules eval` (a context decided by its name) next to an iostream
# "hello" built with `g++ -O2` (default linking) and `kubectl config current-context`,
# measured the same way in the same run with hyperfine (docs/performance.md).
#
# usage: tests/bench/startup.sh [LCRULES_BINARY] [extra hyperfine options...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
lcrules="${1:-$src/build/lcrules}"
shift || true
work="$(mktemp -d /tmp/lcrules-startup.XXXXXX)"
trap 'rm -rf "$work"' EXIT

g++ -O2 -o "$work/hello" "$here/hello.cpp"
# A home with no user rules, no Skaffold config and no cache, and the demo kubeconfig.
mkdir -p "$work/home/.kube"
cp "$src/docs/demo/kubeconfig" "$work/home/.kube/config"
export HOME="$work/home" KUBECONFIG="$work/home/.kube/config" XDG_CONFIG_HOME="$work/home/.config" \
       XDG_CACHE_HOME="$work/home/.cache" LCRULES_SYSTEM_DIR="$work/no-system-rules"

"$lcrules" eval --context kind-dev >/dev/null  # fails loudly if it does not work

# The first run above filled the caches (compiled rule set, kubeconfig): the two eval rows
# are what every run costs while no rule file and no kubeconfig changes; the --no-cache row
# is what a run costs when everything is read again (the first run after an edit, plus
# writing the entries).
cmds=("$work/hello" "$lcrules eval --context kind-dev" "$lcrules eval --context docker-desktop"
      "$lcrules eval --no-cache --context kind-dev")
names=("hello (g++ -O2, iostream)" "lcrules eval --context kind-dev" "lcrules eval --context docker-desktop"
       "lcrules eval --no-cache --context kind-dev")
if command -v kubectl >/dev/null; then
  cmds+=("kubectl config current-context")
  names+=("kubectl config current-context")
fi
args=()
for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
hyperfine -N --warmup 20 --min-runs 200 --export-markdown "$work/startup.md" "$@" "${args[@]}"
cat "$work/startup.md"
