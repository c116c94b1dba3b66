#!/usr/bin/env bash
# An installed lcrules finds its shipped rules in share/lcrules beside bin/, not in the
# source tree: install into a scratch prefix and check where the rules come from.
set -eu
build_dir=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
home=$(mktemp -d)
trap 'rm -rf "$prefix" "$home"' EXIT
out=$(env -i HOME="$home" PATH=/usr/bin:/bin LCRULES_SYSTEM_DIR="$home/etc" "$prefix/bin/lcrules" rules -o json)
grep -q "\"file\": \"$prefix/share/lcrules/kind.rules\"" <<<"$out" || { echo "installed lcrules did not use $prefix/share/lcrules"; exit 1; }
result=$(env -i HOME="$home" PATH=/usr/bin:/bin LCRULES_SYSTEM_DIR="$home/etc" "$prefix/bin/lcrules" eval --context kind-dev)
[ "$result" = 'kind-dev: kind, local, cluster dev: load images with `kind load docker-image --name dev IMAGE`
note: Images loaded into a local cluster are in no registry: a pod with imagePullPolicy: Always fails to start.
note: Context "kind-dev" is not in the kubeconfig (none found; looked for '"$home"'/.kube/config): the answer comes from its name, without facts about its cluster.' ] \
  || { echo "unexpected: $result"; exit 1; }
echo "installed lcrules uses $prefix/share/lcrules"
