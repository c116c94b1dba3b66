#!/usr/bin/env bash
# What happens to the commands rules run when lcrules is stopped, and to concurrent runs
# of one slow command (docs/hardening.md, "Processes"):
#   sigterm, sigint, sighup  the signal during a command: the command's process group is
#                            killed, lcrules exits 128+N, prints nothing, caches nothing
#   sigkill                  SIGKILL of lcrules: the command dies with it (Linux)
#   stampede                 20 concurrent evals on a cold cache run the slow command once
#
#   scenarios.sh LCRULES_BINARY SCENARIO
set -u
set -m  # background jobs in their own process groups, keeping SIGINT
binary=$1
scenario=$2
sandbox=$(mktemp -d)
home="$sandbox/home"
cleanup() {
  # A command that survived (the failure this test looks for) must not outlive the test.
  # (After SIGKILL of lcrules the tool's own children are expected to survive: its group.)
  [ -s "$sandbox/tool.pid" ] && kill -KILL -- "-$(cat "$sandbox/tool.pid")" 2>/dev/null
  rm -rf "$sandbox"
}
trap cleanup EXIT
mkdir -p "$home" "$sandbox/bin"
chmod 700 "$sandbox" "$home"
fail() {
  echo "FAIL: $*"
  for f in out err; do [ -s "$sandbox/$f" ] && sed "s/^/  $f: /" "$sandbox/$f"; done
  exit 1
}

# A slow tool: logs each run, records its pid, then sleeps (SLOW_TOOL_SECONDS) and says ok.
cat >"$sandbox/bin/slow-tool" <<TOOL
#!/bin/sh
echo run >>"$sandbox/runs.log"
echo \$\$ >"$sandbox/tool.pid"
sleep "\${SLOW_TOOL_SECONDS:-600}"
echo ok
TOOL
chmod +x "$sandbox/bin/slow-tool"
cat >"$sandbox/slow.rules" <<'RULES'
rule slow {
  priority 100
  when run ["slow-tool"] timeout 120s cache 10m output contains "ok"
  set cluster = "slow"
}
rule fallback { priority 0 set cluster = "unknown" set local = false }
RULES

# Always started in the background: `exec` makes $! lcrules itself, not a subshell.
lcrules() {
  exec env -i HOME="$home" PATH="$sandbox/bin:/usr/bin:/bin" LANG=C.UTF-8 LCRULES_SYSTEM_DIR="$sandbox/etc" \
    SLOW_TOOL_SECONDS="${SLOW_TOOL_SECONDS:-600}" \
    "$binary" eval --context somewhere --no-default-rules --rules "$sandbox/slow.rules" "$@"
}

# Waits up to 10 s for the tool to have started; prints its pid.
tool_pid() {
  for _ in $(seq 100); do
    [ -s "$sandbox/tool.pid" ] && { cat "$sandbox/tool.pid"; return 0; }
    sleep 0.1
  done
  return 1
}

# True when `pid` is gone (or a zombie) within 5 s.
gone_soon() {
  for _ in $(seq 50); do
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
    [ "$state" = Z ] && return 0
    sleep 0.1
  done
  return 1
}

case "$scenario" in
sigterm | sigint | sighup)
  sig=$(echo "$scenario" | sed 's/^sig//' | tr a-z A-Z)
  lcrules --deadline 60 >"$sandbox/out" 2>"$sandbox/err" &
  pid=$!
  tool=$(tool_pid) || fail "the command did not start"
  kill -s "$sig" "$pid"
  wait "$pid"
  status=$?
  expected=$((128 + $(kill -l "$sig")))
  [ "$status" = "$expected" ] || fail "exit status $status after SIG$sig, expected $expected"
  gone_soon "$tool" || fail "the command (pid $tool) is still running after SIG$sig to lcrules"
  [ -s "$sandbox/out" ] && fail "an interrupted eval wrote an answer"
  leftovers=$(find "$home/.cache/lcrules" -name '*.tmp.*' 2>/dev/null)
  [ -z "$leftovers" ] || fail "half-written cache files: $leftovers"
  entries=$(find "$home/.cache/lcrules" -name '*.json' 2>/dev/null)
  [ -z "$entries" ] || fail "an interrupted command's result was cached: $entries"
  ;;
sigkill)
  lcrules --deadline 60 >"$sandbox/out" 2>"$sandbox/err" &
  pid=$!
  tool=$(tool_pid) || fail "the command did not start"
  kill -KILL "$pid"
  wait "$pid"
  gone_soon "$tool" || fail "the command (pid $tool) outlived lcrules killed by SIGKILL"
  ;;
stampede)
  pids=()
  for i in $(seq 20); do
    SLOW_TOOL_SECONDS=2 lcrules --deadline 60 >"$sandbox/out.$i" 2>"$sandbox/err.$i" &
    pids+=($!)
  done
  for i in $(seq 20); do
    wait "${pids[$((i - 1))]}" || fail "eval $i exited $? ($(cat "$sandbox/err.$i"))"
    grep -q '^somewhere: slow' "$sandbox/out.$i" || fail "eval $i answered: $(cat "$sandbox/out.$i")"
  done
  runs=$(wc -l <"$sandbox/runs.log")
  [ "$runs" = 1 ] || fail "20 concurrent evals ran the command $runs times, expected once"
  ;;
*)
  echo "unknown scenario $scenario"
  exit 2
  ;;
esac
echo "ok: $scenario"
