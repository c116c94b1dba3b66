#!/usr/bin/env bash
# Load time per rule in a process that loads once, as `lcrules check` (and an `eval` that
# misses the rule-set cache) does: N generated rules, the same rules as bench_engine's
# generated_rules(N), for N = 0, 1k, 10k and 100k (docs/performance.md). Subtract the
# empty file's time and divide by N.
#
# usage: tests/bench/load_per_rule.sh [LCRULES_BINARY] [extra hyperfine options...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
lcrules="${1:-$here/../../build/lcrules}"
shift || true
work="$(mktemp -d /tmp/lcrules-load.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# One rule of about 265 bytes: three predicates (one a regex), two interpolated fields.
generate() {
  awk -v n="$1" 'BEGIN {
    print "lcrules 1"
    for (i = 0; i < n; i++) {
      id = sprintf("%06d", i)
      printf "rule g%s {\n  priority %d\n", id, i % 1000
      printf "  when context.name starts-with \"p%s-\" and cluster.server.port == \"6443\"\n", id
      printf "   and cluster.name matches /c%s-(?<n>.+)/\n", id
      printf "  set cluster = \"p%s\"\n  set cluster_name = \"${cluster.name#c%s-}\"\n", id, id
      printf "  set registry = \"${match.n}:5000\"\n}\n"
    }
  }' > "$work/gen-$1.rules"
}

args=()
for n in 0 1000 10000 100000; do
  generate "$n"
  "$lcrules" check --no-default-rules "$work/gen-$n.rules"  # fails loudly if it does not load
  args+=(-n "check $n rules" "$lcrules check --no-default-rules $work/gen-$n.rules")
done
hyperfine -N --warmup 3 --min-runs 10 --export-markdown "$work/load.md" "$@" "${args[@]}"
cat "$work/load.md"
