#!/usr/bin/env bash
# Cold evaluation (`--no-cache`) of a remote context on a machine whose `minikube` takes
# one second to answer each command, with one minikube profile (`minikube`, node
# 192.168.49.2:8443) in the minikube home. The shipped rules ask minikube, as Skaffold
# does, unless the profiles in the minikube home rule it out (docs/performance.md).
#
# usage: tests/bench/minikube_skip.sh [LCRULES_BINARY] [extra hyperfine options...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
lcrules="${1:-$src/build/lcrules}"
shift || true
work="$(mktemp -d /tmp/lcrules-minikube-skip.XXXXXX)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/home/.kube" "$work/home/.minikube/profiles/minikube" "$work/bin"
cat >"$work/home/.kube/config" <<'YAML'
apiVersion: v1
kind: Config
current-context: prod
contexts:
- name: prod
  context: {cluster: prod, user: prod}
clusters:
- name: prod
  cluster: {server: "https://10.20.30.40:6443"}
users:
- name: prod
  user: {}
YAML
cat >"$work/home/.minikube/profiles/minikube/config.json" <<'JSON'
{"Name": "minikube", "Driver": "docker", "Nodes": [{"Name": "", "IP": "192.168.49.2", "Port": 8443, "ControlPlane": true, "Worker": true}]}
JSON
# minikube: one second per command, then what minikube prints.
cat >"$work/bin/minikube" <<'SH'
#!/bin/sh
sleep 1
case "$1" in
  version) echo '{"commit":"","minikubeVersion":"v1.34.0"}' ;;
  profile) echo '{"invalid":[],"valid":[{"Name":"minikube","Status":"Running","Config":{"Name":"minikube","Driver":"docker","Nodes":[{"Name":"","IP":"192.168.49.2","Port":8443}]}}]}' ;;
esac
SH
chmod +x "$work/bin/minikube"
export HOME="$work/home" KUBECONFIG="$work/home/.kube/config" XDG_CONFIG_HOME="$work/home/.config" \
       XDG_CACHE_HOME="$work/home/.cache" LCRULES_SYSTEM_DIR="$work/no-system-rules" \
       PATH="$work/bin:/usr/bin:/bin"
unset MINIKUBE_HOME

"$lcrules" eval --no-cache --context prod -o json  # fails loudly if it does not work
hyperfine -N --warmup 1 --min-runs 10 --export-markdown "$work/minikube.md" "$@" \
  -n "lcrules eval --no-cache --context prod" "$lcrules eval --no-cache --context prod"
cat "$work/minikube.md"
