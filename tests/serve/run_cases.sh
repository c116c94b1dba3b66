#!/usr/bin/env bash
# Request/response cases for `lcrules serve`: one server in a sandbox (HOME with the demo
# kubeconfig, the shipped rules only), every case in cases/ asked over its Unix socket.
#
#   run_cases.sh LCRULES_BINARY [--check]
#
# A case is a folder (a new case is a new folder, no code):
#   request    first line "METHOD TARGET"; the rest, if any, is the body (sent as JSON)
#   status     the expected HTTP status
#   response   optional: the expected body, exactly ($HOME and $REPO stand for those paths)
# Then every context of the demo kubeconfig is asked through GET /v1/eval and POST /v1/eval
# and must be answered exactly as `lcrules eval -o json` answers it.
#
# Golden files: ctest passes --check, which compares only; with --check, LCRULES_UPDATE_GOLDEN
# set in the environment is an error (a suite run must never pass by rewriting what it
# checks). To rewrite the `response` files on purpose, run it by hand without --check, then
# review the diff:
#   LCRULES_UPDATE_GOLDEN=1 bash tests/serve/run_cases.sh build/lcrules
set -u
binary=$1
if [ "${2:-}" = --check ] && [ -n "${LCRULES_UPDATE_GOLDEN:-}" ]; then
  echo "LCRULES_UPDATE_GOLDEN is set, but this run checks (--check, as under ctest): goldens are"
  echo "updated only by running run_cases.sh by hand without --check (see its header)."
  exit 1
fi
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/sandbox.sh"
start_server || exit 1

fail=0
for case_dir in "$here"/cases/*/; do
  name=$(basename "$case_dir")
  read -r method target <"$case_dir/request"
  body=$(tail -n +2 "$case_dir/request" | sed -e "s|\$HOME|$home|g" -e "s|\$REPO|$repo|g")
  curl_args=(-s -o "$sandbox/body" -w '%{http_code}' --unix-socket "$sock" -X "$method")
  [ -n "$body" ] && curl_args+=(-H 'Content-Type: application/json' --data-binary "$body")
  status=$(curl "${curl_args[@]}" "http://lcrules$target")
  expected_status=$(cat "$case_dir/status")
  if [ "$status" != "$expected_status" ]; then
    echo "FAIL $name: status $status, expected $expected_status"; cat "$sandbox/body"; fail=1; continue
  fi
  if [ "${2:-}" != --check ] && [ "${LCRULES_UPDATE_GOLDEN:-}" = 1 ]; then
    sed -e "s|$home|\$HOME|g" -e "s|$repo|\$REPO|g" "$sandbox/body" >"$case_dir/response"
  fi
  if [ -f "$case_dir/response" ]; then
    if ! diff -u <(sed -e "s|$home|\$HOME|g" -e "s|$repo|\$REPO|g" "$case_dir/response") \
                 <(sed -e "s|$home|\$HOME|g" -e "s|$repo|\$REPO|g" "$sandbox/body"); then
      echo "FAIL $name: body differs"; fail=1; continue
    fi
  fi
  echo "ok $name"
done

# The service answers exactly as the command line does.
for context in $(kubectl config get-contexts -o name --kubeconfig "$home/.kube/config"); do
  want=$(cd "$sandbox" && env -i "${env_vars[@]}" "$binary" eval --context "$context" -o json 2>&1)
  got_get=$(curl -s --unix-socket "$sock" "http://lcrules/v1/eval?context=$context")
  got_post=$(curl -s --unix-socket "$sock" -H 'Content-Type: application/json' -d "{\"context\": \"$context\"}" http://lcrules/v1/eval)
  if [ "$want" != "$got_get" ] || [ "$want" != "$got_post" ]; then
    echo "FAIL eval $context: the service answers differently from lcrules eval -o json"
    diff <(echo "$want") <(echo "$got_get"); fail=1
  else
    echo "ok eval $context = lcrules eval -o json"
  fi
  want=$(cd "$sandbox" && env -i "${env_vars[@]}" "$binary" eval --context "$context" -o json --explain 2>&1)
  got=$(curl -s --unix-socket "$sock" "http://lcrules/v1/eval?context=$context&explain=1")
  got=$(sed 's/"duration_ms": [0-9.e+-]*/"duration_ms": N/' <<<"$got")
  want=$(sed 's/"duration_ms": [0-9.e+-]*/"duration_ms": N/' <<<"$want")
  [ "$want" = "$got" ] || { echo "FAIL eval --explain $context differs"; diff <(echo "$want") <(echo "$got"); fail=1; }
done
stop_server || fail=1
exit $fail
