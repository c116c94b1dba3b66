#!/usr/bin/env bash
# Runs one CLI test case: the real lcrules binary in a sandbox, compared with golden files.
#
#   run_case.sh CASE_DIR LCRULES_BINARY [--check]
#
# A case is a folder (a new case is a new folder, no code):
#   args        the arguments, one per line (no shell quoting needed; `$HOME` and `$CASE`
#               are replaced by the sandbox home and the case folder)
#   home/       copied to the sandbox HOME (e.g. home/.kube/config, home/.config/lcrules/)
#   bin/        fake tools put on PATH; they may append their argv to $LCRULES_TEST_LOG
#   fakes       optional: names of shared fake tools from tests/cli/fakes/ to put on PATH
#   tools       optional: names of real tools (e.g. kubectl) the case needs, one per line
#   env         optional VAR=value lines to export (same replacements as args)
#   setup       optional bash script run in the sandbox before lcrules (chmod, touch, ...);
#               $LCRULES runs the binary as the case does (to warm a cache, say)
#   stdin       optional: given to lcrules on its standard input
#   after       optional bash script run in the sandbox HOME after lcrules (PATH=/usr/bin:/bin, to
#               look at the files it wrote); its output, stdout and stderr, is compared with
#               the golden `after.out`
#   stdout, stderr, exit   expected output and exit status (sandbox paths written as $HOME, $REPO)
#   commands    the expected log of the commands run, one line each (`NAME ARGS...`). A case
#               without this file must run no command at all: its log must stay empty.
#   mask        optional sed -E script applied to the outputs before they are compared,
#               for what differs from build to build (`lcrules version`'s commit): it
#               replaces a value of the expected shape by a placeholder, so a value of any
#               other shape still differs from the golden file
#
# PATH: lcrules sees only the case's fake tools and the real tools its `tools` file names,
# so no case can reach a kubectl or minikube installed on the machine by accident:
#   $SANDBOX/fakebin   one small wrapper per fake tool (bin/ and fakes): it sets
#                      PATH=/usr/bin:/bin for the fake alone (fakes are scripts that call
#                      cat, sleep, head...) and execs the fake, kept in $SANDBOX/fakes where
#                      lcrules does not look. lcrules itself cannot reach those utilities.
#   $SANDBOX/tools     one wrapper per named tool: it logs `NAME ARGS...` to $LCRULES_TEST_LOG
#                      (as the fakes do) and execs the tool found on the runner's PATH.
# lcrules needs no PATH to start; `setup` runs with PATH=/usr/bin:/bin for its own
# utilities, and its $LCRULES gets the case's PATH back.
#
# Golden files: ctest runs every case with --check, which compares only; with --check,
# LCRULES_UPDATE_GOLDEN set in the environment is an error (a suite run must never pass by
# rewriting what it checks). To update a case's goldens on purpose, run it by hand without
# --check, then review the diff:
#   LCRULES_UPDATE_GOLDEN=1 bash tests/cli/run_case.sh tests/cli/cases/NAME build/lcrules
set -u
case_dir=$(cd "$1" && pwd)
binary=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
mode=${3:-}
if [ "$mode" = --check ] && [ -n "${LCRULES_UPDATE_GOLDEN:-}" ]; then
  echo "LCRULES_UPDATE_GOLDEN is set, but this run checks (--check, as under ctest): goldens are"
  echo "updated only by running run_case.sh by hand without --check (see its header)."
  exit 1
fi
repo=$(cd "$(dirname "$0")/../.." && pwd)
sandbox=$(mktemp -d)
trap 'chmod -R u+w "$sandbox" 2>/dev/null; rm -rf "$sandbox"' EXIT
chmod 700 "$sandbox"
home="$sandbox/home"
mkdir -p "$home" "$sandbox/fakebin" "$sandbox/fakes" "$sandbox/tools"
[ -d "$case_dir/home" ] && cp -R "$case_dir/home/." "$home/"
[ -d "$case_dir/bin" ] && cp -R "$case_dir/bin/." "$sandbox/fakes/"
if [ -f "$case_dir/fakes" ]; then
  for tool in $(cat "$case_dir/fakes"); do cp "$repo/tests/cli/fakes/$tool" "$sandbox/fakes/$tool"; done
fi
for fake in "$sandbox/fakes/"*; do
  [ -f "$fake" ] || continue
  chmod +x "$fake"
  printf '#!/bin/sh\nPATH=/usr/bin:/bin\nexport PATH\nexec "%s" "$@"\n' "$fake" >"$sandbox/fakebin/$(basename "$fake")"
  chmod +x "$sandbox/fakebin/$(basename "$fake")"
done
if [ -f "$case_dir/tools" ]; then
  for tool in $(cat "$case_dir/tools"); do
    real=$(command -v "$tool") || { echo "the case needs $tool, which is not on PATH"; exit 1; }
    printf '#!/bin/sh\nprintf "%%s\\n" "%s $*" >>"$LCRULES_TEST_LOG"\nexec "%s" "$@"\n' "$tool" "$real" \
      >"$sandbox/tools/$tool"
    chmod +x "$sandbox/tools/$tool"
  done
fi
case_path="$sandbox/fakebin:$sandbox/tools"
# Files in a checkout carry the checkout's umask: make the sandbox's rule folders private.
chmod -R go-w "$home"

subst() { sed -e "s|\$HOME|$home|g" -e "s|\$CASE|$case_dir|g" -e "s|\$REPO|$repo|g"; }

args=()
if [ -f "$case_dir/args" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    args+=("$(printf '%s' "$line" | subst)")
  done <"$case_dir/args"
fi

env_vars=(
  "HOME=$home" "PATH=$case_path" "LCRULES_TEST_LOG=$sandbox/commands.log"
  "LCRULES_SYSTEM_DIR=$sandbox/etc-lcrules" "LANG=C.UTF-8"
)
if [ -f "$case_dir/env" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    [ -n "$line" ] && env_vars+=("$(printf '%s' "$line" | subst)")
  done <"$case_dir/env"
fi

if [ -f "$case_dir/setup" ]; then
  # $LCRULES: the binary with the case's PATH (an env var line may have set PATH too).
  printf '#!/bin/sh\nPATH="%s"\nexport PATH\nexec "%s" "$@"\n' "$case_path" "$binary" >"$sandbox/lcrules"
  chmod +x "$sandbox/lcrules"
  (cd "$sandbox" && env -i "${env_vars[@]}" PATH=/usr/bin:/bin CASE="$case_dir" LCRULES="$sandbox/lcrules" \
     bash "$case_dir/setup") || { echo "setup failed"; exit 1; }
fi

touch "$sandbox/commands.log"
stdin=/dev/stdin
[ -f "$case_dir/stdin" ] && stdin="$case_dir/stdin"
(cd "$sandbox" && env -i "${env_vars[@]}" "$binary" "${args[@]}" <"$stdin" >"$sandbox/out" 2>"$sandbox/err")
status=$?
if [ -f "$case_dir/after" ]; then
  (cd "$home" && env -i HOME="$home" PATH=/usr/bin:/bin CASE="$case_dir" bash "$case_dir/after") \
    >"$sandbox/after.out" 2>&1
fi

# Sandbox paths become $HOME/$REPO/$SANDBOX; command durations vary from run to run.
normalise() {
  sed -e "s|$home|\$HOME|g" -e "s|$repo|\$REPO|g" -e "s|$sandbox|\$SANDBOX|g" \
      -e 's/ in [0-9][0-9]* ms$/ in N ms/' -e 's/cached result, [0-9][0-9]*s old/cached result, Ns old/' -e 's/\(rules\|kubeconfig\)-[0-9a-f]\{16\}\.bin/\1-HASH.bin/g' \
      -e 's/"cache_age_seconds": [0-9][0-9]*/"cache_age_seconds": N/' -e 's/"duration_ms": [0-9.e+-]*/"duration_ms": N/' "$1" |
    if [ -f "$case_dir/mask" ]; then sed -E -f "$case_dir/mask"; else cat; fi
}

if [ "$mode" != --check ] && [ "${LCRULES_UPDATE_GOLDEN:-}" = 1 ]; then
  normalise "$sandbox/out" >"$case_dir/stdout"
  normalise "$sandbox/err" >"$case_dir/stderr"
  echo "$status" >"$case_dir/exit"
  [ -f "$case_dir/after" ] && normalise "$sandbox/after.out" >"$case_dir/after.out"
  if [ -f "$case_dir/commands" ] || [ -s "$sandbox/commands.log" ]; then
    normalise "$sandbox/commands.log" >"$case_dir/commands"
  fi
  echo "updated $case_dir"
  exit 0
fi

fail=0
compare() {  # expected-file actual-file label
  if ! diff -u --label "expected $3" --label "actual $3" "$1" <(normalise "$2"); then fail=1; fi
}
compare "$case_dir/stdout" "$sandbox/out" stdout
compare "$case_dir/stderr" "$sandbox/err" stderr
if [ -f "$case_dir/commands" ]; then
  compare "$case_dir/commands" "$sandbox/commands.log" "commands run"
else
  compare /dev/null "$sandbox/commands.log" "commands run (none: the case has no commands file)"
fi
if [ -f "$case_dir/after" ]; then
  compare "$case_dir/after.out" "$sandbox/after.out" "files after the run (the case's after script)"
fi
expected_status=$(cat "$case_dir/exit")
if [ "$status" != "$expected_status" ]; then
  echo "exit status: expected $expected_status, got $status"
  fail=1
fi
exit $fail
