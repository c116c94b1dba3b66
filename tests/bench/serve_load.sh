#!/usr/bin/env bash
# Load benchmark for `lcrules serve` (docs/performance.md, "The service under load"). Run on
# demand, not by ctest. Starts one server (env -i, a sandbox HOME with the demo kubeconfig as
# ~/.kube/config) on a Unix socket and on loopback TCP with a bearer token, then measures:
#
#   memory      VmRSS after the first 10,000 requests and after 1,000,000 (Unix-socket client)
#   throughput  name-decided evaluations/s at 64 keep-alive connections: wrk over TCP with the
#               Authorization header, and serve_load_client over the Unix socket (which checks
#               every response is a 200 with exactly `lcrules eval -o json`'s body)
#   latency     p99 at 8 connections (wrk --latency, TCP)
#   processes   `lcrules eval -o json` run back to back (hyperfine), against the service's rate
#   reload      the rule set reloaded every 100 ms (a user rule file replaced, or SIGHUP)
#               under 64 connections: every answer must be 200 and a complete decision
#
# Each figure is printed with PASS or FAIL against its target; the exit status is 1 if any
# target is missed (2 if the benchmark could not run).
#
# usage: tests/bench/serve_load.sh [BUILD/lcrules]
#   the client is BUILD/bench/serve_load_client (cmake --build BUILD --target serve_load_client)
#   SERVE_LOAD_SECONDS  length of each throughput and latency run (default 10)
#   SERVE_LOAD_ROUNDS   runs of each, the median is reported (default 3)
#   SERVE_LOAD_REQUESTS requests for the memory figure (default 1000000)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
binary="$(realpath "${1:-$repo/build/lcrules}")"
client="${SERVE_LOAD_CLIENT:-$(dirname "$binary")/bench/serve_load_client}"
seconds="${SERVE_LOAD_SECONDS:-10}"
rounds="${SERVE_LOAD_ROUNDS:-3}"
million="${SERVE_LOAD_REQUESTS:-1000000}"
contexts=(kind-dev k3d-k3s-default docker-desktop)  # decided by name rules in the demo kubeconfig

for tool in wrk hyperfine curl python3; do
  command -v "$tool" >/dev/null || { echo "serve_load.sh: needs $tool" >&2; exit 2; }
done
[ -x "$binary" ] || { echo "serve_load.sh: no lcrules at $binary" >&2; exit 2; }
[ -x "$client" ] || {
  echo "serve_load.sh: no client at $client (cmake --build BUILD --target serve_load_client)" >&2
  exit 2
}

sandbox=$(mktemp -d /tmp/lcrules-serve-load.XXXXXX)
chmod 700 "$sandbox"
home="$sandbox/home"
work="$sandbox/work"  # expected bodies, outputs: not watched by the server
mkdir -p "$home/.kube" "$home/.config/lcrules" "$work" "$sandbox/run"
cp "$repo/docs/demo/kubeconfig" "$home/.kube/config"
sock="$sandbox/run/lcrules.sock"
token="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$token" >"$sandbox/token"
chmod 600 "$sandbox/token"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
env_vars=("HOME=$home" "PATH=/usr/bin:/bin" "LCRULES_SYSTEM_DIR=$sandbox/no-system-rules" "LANG=C.UTF-8")
server_pid=
flipper_pid=
cleanup() {
  [ -n "$flipper_pid" ] && kill "$flipper_pid" 2>/dev/null
  [ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null
  rm -rf "$sandbox"
}
trap cleanup EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
failed=0
results=()
# verdict NAME FIGURE TARGET OK(0/1)
verdict() {
  local status=PASS
  [ "$4" = 1 ] || { status=FAIL; failed=1; }
  results+=("$(printf '%-52s %-34s %-24s %s' "$1" "$2" "$3" "$status")")
  printf '  => %s: %s (target %s) %s\n' "$1" "$2" "$3" "$status"
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status"; }
lcrules_env() { env -i "${env_vars[@]}" "$binary" "$@"; }

echo "machine: $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary:  $binary"

# --- Expected answers: exactly what `lcrules eval -o json` prints ---------------------------
for c in "${contexts[@]}"; do lcrules_env eval --context "$c" -o json >"$work/$c.json"; done
# Two generations of a user rule file for the reload run. Each adds two notes to kind-dev from
# two rules with 200 rules between them, so an answer from a partly loaded file would lack one.
write_rules() {  # GENERATION FILE
  {
    echo "lcrules 1"
    printf '\nrule bench-reload-first {\n  priority 950\n  when context.name == "kind-dev"\n'
    printf '  note "reload generation %s: note 1 of 2"\n}\n' "$1"
    for i in $(seq 200); do
      printf '\nrule bench-filler-%s {\n  priority 900\n' "$i"
      printf '  when context.name == "no-such-context-%s-%s" and cluster.server.port == "1"\n' "$1" "$i"
      printf '  set cluster = "filler-%s"\n}\n' "$i"
    done
    printf '\nrule bench-reload-second {\n  priority 800\n  when context.name == "kind-dev"\n'
    printf '  note "reload generation %s: note 2 of 2"\n}\n' "$1"
  } >"$2"
}
write_rules A "$work/A.rules"
write_rules B "$work/B.rules"
for g in A B; do
  cp "$work/$g.rules" "$home/.config/lcrules/50-bench-reload.rules"
  lcrules_env eval --context kind-dev -o json >"$work/kind-dev.$g.json"
  grep -q "generation $g: note 2 of 2" "$work/kind-dev.$g.json" || { echo "rule file $g not applied" >&2; exit 2; }
done
rm "$home/.config/lcrules/50-bench-reload.rules"
expect_args=()
for c in "${contexts[@]}"; do expect_args+=(--expect "$c" "$work/$c.json"); done

# --- The server ------------------------------------------------------------------------------
(cd "$sandbox/run" && exec env -i "${env_vars[@]}" "$binary" serve --socket "$sock" \
   --listen "127.0.0.1:$port" --token-file "$sandbox/token" >"$work/server.log" 2>&1) &
server_pid=$!
for _ in $(seq 100); do
  curl -sf --unix-socket "$sock" http://lcrules/healthz >/dev/null 2>&1 && break
  sleep 0.05
done
curl -sf --unix-socket "$sock" http://lcrules/healthz >/dev/null || { echo "the server did not start" >&2; cat "$work/server.log"; exit 2; }
for c in "${contexts[@]}"; do
  curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/eval?context=$c" | cmp -s - "$work/$c.json" ||
    { echo "GET /v1/eval?context=$c over TCP is not lcrules eval -o json's answer" >&2; exit 2; }
done
echo "server:  pid $server_pid, $(ls "/proc/$server_pid/task" | wc -l) threads, unix socket and 127.0.0.1:$port"
echo

# --- Memory: 10,000 requests, then the rest of a million -------------------------------------
echo "memory: VmRSS after 10,000 requests and after $million (64 connections, Unix socket)"
"$client" --socket "$sock" --connections 64 --requests 10000 "${expect_args[@]}" >"$work/mem1.out" ||
  { cat "$work/mem1.out"; verdict "requests answered correctly (first 10,000)" "errors" "all" 0; }
rss_10k=$(rss_kib)
"$client" --socket "$sock" --connections 64 --requests $((million - 10000)) "${expect_args[@]}" >"$work/mem2.out" ||
  { cat "$work/mem2.out"; verdict "requests answered correctly (memory run)" "errors" "all" 0; }
rss_1m=$(rss_kib)
head -1 "$work/mem2.out"
growth=$((rss_1m - rss_10k))
verdict "VmRSS growth, 10k -> ${million} requests" \
  "$(awk -v a="$rss_10k" -v b="$rss_1m" 'BEGIN { printf "%+.2f MiB (%.1f -> %.1f MiB)", (b - a) / 1024, a / 1024, b / 1024 }')" \
  "within 5 MiB" "$([ "${growth#-}" -le 5120 ] && echo 1 || echo 0)"
echo

# --- Throughput at 64 connections ------------------------------------------------------------
export LCRULES_TOKEN="$token" LCRULES_CONTEXTS="${contexts[*]}"
wrk_run() {  # CONNECTIONS THREADS OUT [--latency]
  wrk -t"$2" -c"$1" -d"${seconds}s" ${4:-} -s "$here/serve_load.lua" "http://127.0.0.1:$port/" >"$3"
}
# wrk: "Non-2xx or 3xx responses: N" and "Socket errors: connect A, read B, write C, timeout D"
wrk_bad() { awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "$1"; }

echo "throughput: ${rounds} runs of ${seconds} s each at 64 keep-alive connections"
tcp_rates=() unix_rates=() bad=0
for r in $(seq "$rounds"); do
  wrk_run 64 2 "$work/wrk64.$r"
  tcp_rates+=("$(awk '/^Requests\/sec/ { print $2 }' "$work/wrk64.$r")")
  bad=$((bad + $(wrk_bad "$work/wrk64.$r")))
  "$client" --socket "$sock" --connections 64 --seconds "$seconds" "${expect_args[@]}" >"$work/unix64.$r" ||
    bad=$((bad + 1))
  unix_rates+=("$(sed -n 's/.* rate=\([0-9]*\).*/\1/p' "$work/unix64.$r")")
  echo "  run $r: wrk over TCP ${tcp_rates[-1]}/s, Unix-socket client ${unix_rates[-1]}/s ($(cut -d' ' -f2-5 "$work/unix64.$r" | head -1))"
done
tcp_rate=$(printf '%s\n' "${tcp_rates[@]}" | median)
unix_rate=$(printf '%s\n' "${unix_rates[@]}" | median)
verdict "evaluations/s, 64 connections, wrk over TCP" "$(printf '%.0f/s (median of %s)' "$tcp_rate" "$rounds")" \
  ">= 30000/s" "$(awk -v r="$tcp_rate" 'BEGIN { print (r >= 30000) ? 1 : 0 }')"
verdict "evaluations/s, 64 connections, Unix socket" "$(printf '%.0f/s (median of %s)' "$unix_rate" "$rounds")" \
  ">= 30000/s" "$(awk -v r="$unix_rate" 'BEGIN { print (r >= 30000) ? 1 : 0 }')"
verdict "non-200 answers and socket errors (throughput)" "$bad" "0" "$([ "$bad" = 0 ] && echo 1 || echo 0)"
echo

# --- p99 latency at 8 connections ------------------------------------------------------------
echo "latency: ${rounds} runs of ${seconds} s each at 8 connections (wrk --latency, TCP)"
to_ms() { awk '{ v = $1; if (v ~ /us$/) printf "%.3f\n", v / 1000; else if (v ~ /ms$/) printf "%.3f\n", v + 0; else printf "%.3f\n", v * 1000 }'; }
p99s=() p50s=() bad=0
for r in $(seq "$rounds"); do
  wrk_run 8 1 "$work/wrk8.$r" --latency
  p50s+=("$(awk '$1 == "50%" { print $2 }' "$work/wrk8.$r" | to_ms)")
  p99s+=("$(awk '$1 == "99%" { print $2 }' "$work/wrk8.$r" | to_ms)")
  bad=$((bad + $(wrk_bad "$work/wrk8.$r")))
  echo "  run $r: p50 ${p50s[-1]} ms, p99 ${p99s[-1]} ms, $(awk '/^Requests\/sec/ { print $2 }' "$work/wrk8.$r")/s"
done
p99=$(printf '%s\n' "${p99s[@]}" | median)
verdict "p99 latency, 8 connections" "$(printf '%.3f ms (p50 %.3f ms)' "$p99" "$(printf '%s\n' "${p50s[@]}" | median)")" \
  "< 2 ms" "$(awk -v p="$p99" 'BEGIN { print (p < 2) ? 1 : 0 }')"
verdict "non-200 answers and socket errors (latency)" "$bad" "0" "$([ "$bad" = 0 ] && echo 1 || echo 0)"
echo

# --- lcrules eval processes back to back -----------------------------------------------------
echo "processes: lcrules eval --context kind-dev -o json, back to back (hyperfine)"
env -i "${env_vars[@]}" "$(command -v hyperfine)" -N --warmup 20 --runs 500 --export-json "$work/eval.json" \
  --style basic "$binary eval --context kind-dev -o json" >/dev/null
eval_ms=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["median"] * 1000)' "$work/eval.json")
eval_rate=$(awk -v m="$eval_ms" 'BEGIN { printf "%.0f", 1000 / m }')
service_rate=$(awk -v a="$tcp_rate" -v b="$unix_rate" 'BEGIN { print (a < b) ? a : b }')
ratio=$(awk -v s="$service_rate" -v e="$eval_rate" 'BEGIN { printf "%.1f", s / e }')
verdict "service rate / lcrules eval processes" \
  "$(printf '%sx (%.0f/s against %s/s, %.2f ms each)' "$ratio" "$service_rate" "$eval_rate" "$eval_ms")" \
  ">= 20x" "$(awk -v r="$ratio" 'BEGIN { print (r >= 20) ? 1 : 0 }')"
echo

# --- Reloads every 100 ms under load ---------------------------------------------------------
reloads() { curl -sf --unix-socket "$sock" http://lcrules/metrics | awk -v r="$1" '$1 == "lcrules_reloads_total{result=\"" r "\"}" { print $2 }'; }
rules_file="$home/.config/lcrules/50-bench-reload.rules"
cp "$work/A.rules" "$sandbox/next.rules" && mv "$sandbox/next.rules" "$rules_file"
for _ in $(seq 100); do
  curl -sf --unix-socket "$sock" "http://lcrules/v1/eval?context=kind-dev" | cmp -s - "$work/kind-dev.A.json" && break
  sleep 0.05
done
ok_before=$(reloads ok) failed_before=$(reloads failed)
echo "reload: ${seconds} s at 64 connections (Unix socket) while, every 100 ms, the user rule file is"
echo "        replaced (rename; generations A and B alternate) or the server gets SIGHUP"
(
  g=B
  while :; do
    cp "$work/$g.rules" "$sandbox/next.rules" && mv "$sandbox/next.rules" "$rules_file"
    if [ "$g" = A ]; then g=B; else g=A; fi
    sleep 0.1
    kill -HUP "$server_pid"
    sleep 0.1
  done
) &
flipper_pid=$!
reload_expect=(--expect kind-dev "$work/kind-dev.A.json" --expect kind-dev "$work/kind-dev.B.json")
for c in "${contexts[@]:1}"; do reload_expect+=(--expect "$c" "$work/$c.json"); done
reload_ok=1
"$client" --socket "$sock" --connections 64 --seconds "$seconds" "${reload_expect[@]}" >"$work/reload.out" || reload_ok=0
kill "$flipper_pid"
wait "$flipper_pid" 2>/dev/null || true
flipper_pid=
sleep 0.3
ok_after=$(reloads ok) failed_after=$(reloads failed)
cat "$work/reload.out"
seen_a=$(awk '$1 == "seen" && $3 ~ /kind-dev.A.json$/ { print $4 }' "$work/reload.out")
seen_b=$(awk '$1 == "seen" && $3 ~ /kind-dev.B.json$/ { print $4 }' "$work/reload.out")
answers=$(sed -n 's/^requests=\([0-9]*\) ok=\([0-9]*\) bad_status=\([0-9]*\) bad_body=\([0-9]*\) errors=\([0-9]*\).*/\1 answered, \3 non-200, \4 wrong or partial bodies, \5 socket errors/p' "$work/reload.out")
[ "${seen_a:-0}" -gt 0 ] && [ "${seen_b:-0}" -gt 0 ] || reload_ok=0
[ "$failed_after" = "$failed_before" ] || reload_ok=0
verdict "answers during reloads every 100 ms" "$answers; $((ok_after - ok_before)) reloads" \
  "all 200 and complete" "$reload_ok"
echo

kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=

printf '%-52s %-34s %-24s %s\n' "figure" "measured" "target" "result"
printf '%s\n' "${results[@]}"
exit "$failed"
