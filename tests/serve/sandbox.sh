# Shared by the serve tests: a sandbox HOME with the demo kubeconfig, a server started on a
# socket in it, and a way to stop it. Needs $binary and $repo.
sandbox=$(mktemp -d)
chmod 700 "$sandbox"
home="$sandbox/home"
mkdir -p "$home/.kube" "$sandbox/fakebin"
cp "$repo/docs/demo/kubeconfig" "$home/.kube/config"
sock="$sandbox/lcrules.sock"
server_pid=
env_vars=("HOME=$home" "PATH=$sandbox/fakebin:/usr/bin:/bin" "LCRULES_SYSTEM_DIR=$sandbox/etc-lcrules" "LANG=C.UTF-8")
cleanup() {
  [ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null
  chmod -R u+w "$sandbox" 2>/dev/null
  rm -rf "$sandbox"
}
trap cleanup EXIT

# wait_for COMMAND...: retries for up to 5 s.
wait_for() {
  for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
  return 1
}

# start_server [ARGS...]: serve on $sock (unless ARGS say otherwise), log in $sandbox/log.
start_server() {
  (cd "$sandbox" && exec env -i "${env_vars[@]}" ${extra_env[@]+"${extra_env[@]}"} "$binary" serve \
     --socket "$sock" --log-level debug "$@" >"$sandbox/log" 2>&1) &
  server_pid=$!
  wait_for curl -sf --unix-socket "$sock" http://lcrules/healthz || wait_for test -S "$sock" ||
    { echo "the server did not start"; cat "$sandbox/log"; return 1; }
}

# stop_server: SIGTERM; it must exit 0 and remove its socket.
stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid"
  local status=$?
  server_pid=
  [ "$status" = 0 ] || { echo "the server exited $status after SIGTERM"; cat "$sandbox/log"; return 1; }
  [ ! -e "$sock" ] || { echo "the server left its socket behind"; return 1; }
}
