#!/usr/bin/env bash
# Scenarios of `lcrules serve` that a request/response case cannot show: reloads, the
# watch stream, signals, TCP with a token, sockets in use, systemd socket activation.
#
#   scenarios.sh LCRULES_BINARY SCENARIO
set -u
binary=$1
scenario=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/sandbox.sh"
extra_env=()
fail() { echo "FAIL: $*"; [ -f "$sandbox/log" ] && sed 's/^/  log: /' "$sandbox/log"; exit 1; }
get() { curl -s --unix-socket "$sock" "http://lcrules$1"; }
status_of() { curl -s -o /dev/null -w '%{http_code}' --unix-socket "$sock" "http://lcrules$1"; }
user_rules="$home/.config/lcrules"

case "$scenario" in
reload)
  # A good new file is picked up without a signal; a bad one keeps the last good set serving.
  mkdir -p "$user_rules" && chmod 700 "$home/.config" "$user_rules"
  start_server || exit 1
  [ "$(get '/v1/eval?context=prod' | grep -c '"cluster": "unknown"')" = 1 ] || fail "prod starts unknown"
  printf 'rule corp.prod {\n  priority 900\n  when context.name == "prod"\n  set cluster = "corp"\n}\n' >"$user_rules/corp.rules.tmp"
  chmod 600 "$user_rules/corp.rules.tmp" && mv "$user_rules/corp.rules.tmp" "$user_rules/corp.rules"
  wait_for sh -c "curl -s --unix-socket '$sock' 'http://lcrules/v1/eval?context=prod' | grep -q '\"cluster\": \"corp\"'" ||
    fail "the new rule file was not loaded"
  printf 'rule broken {\n  priorty 1\n}\n' >"$user_rules/broken.rules" && chmod 600 "$user_rules/broken.rules"
  wait_for sh -c "curl -s --unix-socket '$sock' http://lcrules/healthz | grep -q '\"status\": \"degraded\"'" ||
    fail "a bad rule file did not make /healthz degraded"
  get /healthz | grep -q "broken.rules:2:3: error: " || fail "/healthz does not give FILE:LINE:COL of the error"
  get '/v1/eval?context=prod' | grep -q '"cluster": "corp"' || fail "the last good rule set stopped serving"
  get /metrics | grep -q 'lcrules_reloads_total{result="failed"} [1-9]' || fail "the failed reload is not counted"
  grep -q 'broken.rules:2:3: error: ' "$sandbox/log" || fail "the log does not give FILE:LINE:COL"
  rm "$user_rules/broken.rules"
  wait_for sh -c "curl -s --unix-socket '$sock' http://lcrules/healthz | grep -q '\"status\": \"ok\"'" ||
    fail "fixing the file did not bring /healthz back to ok"
  # SIGHUP reloads too.
  before=$(get /metrics | sed -n 's/^lcrules_reloads_total{result="ok"} //p')
  kill -HUP "$server_pid"
  wait_for sh -c "[ \$(curl -s --unix-socket '$sock' http://lcrules/metrics | sed -n 's/^lcrules_reloads_total{result=\"ok\"} //p') -gt $before ]" ||
    fail "SIGHUP did not reload"
  stop_server
  ;;
first-load-fails)
  # A server whose first load fails keeps running, answers 503 with the error, and loads
  # once the file is fixed.
  mkdir -p "$user_rules" && chmod 700 "$home/.config" "$user_rules"
  printf 'rule broken {\n  priorty 1\n}\n' >"$user_rules/a.rules" && chmod 600 "$user_rules/a.rules"
  start_server || exit 1
  [ "$(status_of /healthz)" = 503 ] || fail "/healthz is not 503 without a rule set"
  [ "$(status_of '/v1/eval?context=kind-dev')" = 503 ] || fail "/v1/eval is not 503 without a rule set"
  get '/v1/eval?context=kind-dev' | grep -q 'a.rules:2:3: error: ' || fail "the 503 does not give the error"
  printf 'rule fixed {\n  priority 1\n  when context.name == "x"\n  set cluster = "x"\n}\n' >"$user_rules/a.rules"
  wait_for sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' --unix-socket '$sock' http://lcrules/healthz) = 200 ]" ||
    fail "the fixed file was not loaded"
  get '/v1/eval?context=kind-dev' | grep -q '"cluster": "kind"' || fail "not answering after the fix"
  stop_server
  ;;
watch | watch-poll)
  # A watcher sees the decision now, then one event when `kubectl config use-context`
  # changes the current context, and one when ~/.skaffold/config is created.
  [ "$scenario" = watch-poll ] && extra_env=(LCRULES_WATCH=poll)
  start_server || exit 1
  curl -sN --unix-socket "$sock" http://lcrules/v1/watch >"$sandbox/events" &
  watcher=$!
  wait_for grep -q '"context":"kind-dev"' "$sandbox/events" || fail "no first event"
  kubectl config use-context docker-desktop --kubeconfig "$home/.kube/config" >/dev/null
  wait_for grep -q '"context":"docker-desktop"' "$sandbox/events" || fail "no event after use-context"
  mkdir -p "$home/.skaffold"
  printf 'global:\n  local-cluster: false\n' >"$home/.skaffold/config"
  wait_for grep -q '"context":"docker-desktop","cluster":"docker-desktop","local":false' "$sandbox/events" ||
    fail "no event after ~/.skaffold/config was created"
  # Touching a file without changing the decision sends nothing.
  touch "$home/.kube/config"; sleep 0.5
  [ "$(grep -c '^event: decision$' "$sandbox/events")" = 3 ] || { cat "$sandbox/events"; fail "expected exactly 3 events"; }
  [ "$(grep -c '^data: ' "$sandbox/events")" = 3 ] || fail "each event has one data line"
  kill "$watcher" 2>/dev/null
  stop_server
  ;;
sigterm-during-request)
  # SIGTERM while a request waits for a slow command: the request is answered, then the
  # server exits 0 and removes its socket.
  printf '#!/bin/sh\nsleep 1\necho slow\n' >"$sandbox/fakebin/slowtool" && chmod +x "$sandbox/fakebin/slowtool"
  mkdir -p "$user_rules" && chmod 700 "$home/.config" "$user_rules"
  printf 'rule slow {\n  priority 900\n  when run ["slowtool"] succeeds\n  set cluster = "slow"\n}\n' >"$user_rules/slow.rules"
  chmod 600 "$user_rules/slow.rules"
  start_server || exit 1
  curl -s --unix-socket "$sock" "http://lcrules/v1/eval?context=prod" >"$sandbox/answer" &
  client=$!
  sleep 0.4
  kill -TERM "$server_pid"
  wait "$client"
  grep -q '"cluster": "slow"' "$sandbox/answer" || { cat "$sandbox/answer"; fail "the request in flight was not answered"; }
  wait "$server_pid"; status=$?; server_pid=
  [ "$status" = 0 ] || fail "exit status $status after SIGTERM"
  [ ! -e "$sock" ] || fail "the socket was left behind"
  ;;
tcp-token)
  printf 's3cret-token\n' >"$sandbox/token" && chmod 600 "$sandbox/token"
  port=$((20000 + RANDOM % 20000))
  start_server --listen "127.0.0.1:$port" --token-file "$sandbox/token" || exit 1
  wait_for curl -s "http://127.0.0.1:$port/healthz" || fail "TCP not listening"
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/eval?context=kind-dev")" = 401 ] ||
    fail "no token: not 401"
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret-tokem' "http://127.0.0.1:$port/v1/eval")" = 401 ] ||
    fail "a wrong token: not 401"
  curl -s -H 'Authorization: Bearer s3cret-token' "http://127.0.0.1:$port/v1/eval?context=kind-dev" | grep -q '"cluster": "kind"' ||
    fail "the right token is refused"
  stop_server
  # A token file others can read, and a non-loopback address, are refused at start (exit 2).
  chmod 644 "$sandbox/token"
  env -i "${env_vars[@]}" "$binary" serve --socket "$sock" --listen "127.0.0.1:$port" --token-file "$sandbox/token" 2>"$sandbox/err"
  [ $? = 2 ] && grep -q 'must not be readable' "$sandbox/err" || fail "a token file others can read was accepted"
  chmod 600 "$sandbox/token"
  env -i "${env_vars[@]}" "$binary" serve --listen "0.0.0.0:$port" --token-file "$sandbox/token" 2>"$sandbox/err"
  [ $? = 2 ] && grep -q 'not a loopback address' "$sandbox/err" || fail "0.0.0.0 was accepted"
  env -i "${env_vars[@]}" "$binary" serve --listen "127.0.0.1:$port" 2>"$sandbox/err"
  [ $? = 2 ] && grep -q 'requires --token-file' "$sandbox/err" || fail "--listen without a token was accepted"
  ;;
second-server)
  start_server || exit 1
  env -i "${env_vars[@]}" "$binary" serve --socket "$sock" 2>"$sandbox/err"
  [ $? = 2 ] || fail "a second server on the same socket did not exit 2"
  grep -q 'another lcrules serve is answering on this socket' "$sandbox/err" || fail "no clear message: $(cat "$sandbox/err")"
  [ "$(status_of /healthz)" = 200 ] || fail "the first server stopped answering"
  stop_server
  # A stale socket (a server killed with SIGKILL) is replaced.
  start_server || exit 1
  kill -KILL "$server_pid"; wait "$server_pid" 2>/dev/null; server_pid=
  [ -S "$sock" ] || fail "no stale socket to test with"
  start_server || exit 1
  grep -q 'replacing the stale socket' "$sandbox/log" || fail "the stale socket was not replaced"
  [ "$(status_of /healthz)" = 200 ] || fail "not answering on the replaced socket"
  stop_server
  # A path that is not a socket is never removed.
  echo keep >"$sandbox/file.sock"
  env -i "${env_vars[@]}" "$binary" serve --socket "$sandbox/file.sock" 2>"$sandbox/err"
  [ $? = 2 ] && [ "$(cat "$sandbox/file.sock")" = keep ] || fail "a file in the socket's place was replaced"
  ;;
default-socket)
  runtime="$sandbox/run" && mkdir -p "$runtime" && chmod 700 "$runtime"
  extra_env=("XDG_RUNTIME_DIR=$runtime")
  sock="$runtime/lcrules/lcrules.sock"
  (cd "$sandbox" && exec env -i "${env_vars[@]}" "${extra_env[@]}" "$binary" serve >"$sandbox/log" 2>&1) &
  server_pid=$!
  wait_for test -S "$sock" || fail "no socket at \$XDG_RUNTIME_DIR/lcrules/lcrules.sock"
  [ "$(stat -c %a "$runtime/lcrules")" = 700 ] || fail "the socket's folder is not 0700"
  [ "$(stat -c %a "$sock")" = 600 ] || fail "the socket is not 0600"
  wait_for curl -sf --unix-socket "$sock" http://lcrules/healthz || fail "not answering on the default socket"
  stop_server
  ;;
socket-activation)
  command -v systemd-socket-activate >/dev/null || fail "systemd-socket-activate is not installed"
  (cd "$sandbox" && exec env -i "${env_vars[@]}" systemd-socket-activate -l "$sock" "$binary" serve >"$sandbox/log" 2>&1) &
  server_pid=$!
  wait_for test -S "$sock" || fail "systemd-socket-activate made no socket"
  get '/v1/eval?context=kind-dev' | grep -q '"cluster": "kind"' || fail "no answer through the passed socket"
  grep -q 'listening on' "$sandbox/log" && fail "it opened a socket of its own"
  kill -TERM "$server_pid"; wait "$server_pid"; status=$?; server_pid=
  [ "$status" = 0 ] || fail "exit $status"
  ;;
limits)
  start_server || exit 1
  big=$(head -c 70000 /dev/zero | tr '\0' a)
  [ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$sock" -d "{\"context\": \"$big\"}" http://lcrules/v1/eval)" = 413 ] ||
    fail "a 70 KB body is not 413"
  [ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$sock" -H "X-Big: ${big:0:17000}" http://lcrules/healthz)" = 431 ] ||
    fail "17 KB of headers is not 431"
  reply=$(printf 'BROKEN\r\n\r\n' | timeout 5 /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read())
print(s.recv(100).decode(errors="replace").split("\r\n")[0])' "$sock")
  [ "$reply" = "HTTP/1.1 400 Bad Request" ] || fail "malformed HTTP answered '$reply'"
  [ "$(status_of /healthz)" = 200 ] || fail "the server stopped answering after bad requests"
  get /metrics | /usr/bin/python3 "$here/check_metrics.py" || fail "/metrics is not valid Prometheus text"
  # Prometheus' own checker too, where it is installed (CI installs it: package prometheus).
  if command -v promtool >/dev/null; then
    get /metrics | promtool check metrics || fail "promtool check metrics failed"
  fi
  stop_server
  ;;
*)
  echo "unknown scenario $scenario"; exit 2 ;;
esac
echo "ok $scenario"
