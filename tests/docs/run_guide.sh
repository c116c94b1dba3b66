#!/usr/bin/env bash
# Keeps a guide in docs/ true: runs its commands in a sandbox and compares their output.
#
#   run_guide.sh GUIDE.md LCRULES_BINARY [WORKDIR]
#
# Commands run in WORKDIR (default: the sandbox home; the repository root for pages whose
# examples use the repository's files, such as docs/demo/kubeconfig).
# In the guide, a fenced block whose first line is `# file: PATH` (PATH may start with ~/)
# is written to that path in the sandbox HOME before the commands after it run. In a
# ```console block, each line starting with `$ ` is a command (run with bash in the
# sandbox, `lcrules` on PATH); the lines after it, up to the next command or the end of
# the block, are its expected stdout and stderr. In the actual output the sandbox home is
# written `~` and the source tree's rules/ `/usr/local/share/lcrules` (where an installed
# lcrules keeps its shipped rules), so the guide reads as a user's session would.
# Exit status: a command that exits non-zero must say so with a last expected line
# `[exit N]` (N its status; the line is not part of its output); a command without that
# line must exit 0. (For a pipeline, bash's status: the last command's.)
#
# PATH: the commands' shell has PATH=$SANDBOX/bin:/usr/bin:/bin (a guide pipes into sed,
# head, curl...), but `lcrules` there is a wrapper that runs the binary with PATH set to an
# empty sandbox folder: as in the CLI cases (tests/cli/run_case.sh), no command a rule runs
# can reach a kubectl or minikube installed on the machine, so a guide's output never
# depends on what the machine has installed.
set -u
guide=$1
binary=$2
workdir=${3:-}
repo=$(cd "$(dirname "$0")/../.." && pwd)
sandbox=$(mktemp -d)
# A guide may start a server in the background (docs/service.md): stop whatever still runs
# from the sandbox.
trap 'pkill -f -- "$sandbox/" 2>/dev/null; rm -rf "$sandbox"' EXIT
chmod 700 "$sandbox"
home="$sandbox/home"
mkdir -p "$home" "$sandbox/bin" "$sandbox/nothing"
printf '#!/bin/bash\nPATH="%s"\nexport PATH\nexec -a lcrules "%s" "$@"\n' "$sandbox/nothing" \
  "$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")" >"$sandbox/bin/lcrules"
chmod +x "$sandbox/bin/lcrules"

fail=0
in_block=""   # "", "console", "file", "other"
file_path=""
cmd=""
expected=""
nexpected=0
run_pending() {
  [ -z "$cmd" ] && return
  (cd "${workdir:-$home}" && env -i HOME="$home" PATH="$sandbox/bin:/usr/bin:/bin" LCRULES_SYSTEM_DIR="$sandbox/etc" \
    LANG=C.UTF-8 bash -c "$cmd") >"$sandbox/output" 2>&1
  status=$?
  actual=$(sed -e "s|$home|~|g" -e "s|$repo/rules|/usr/local/share/lcrules|g" "$sandbox/output")
  [ "$status" != 0 ] && actual+=$'\n'"[exit $status]"
  actual=${actual#$'\n'}  # a failing command without output: the marker alone
  while [[ "$expected" == *$'\n' ]]; do expected=${expected%$'\n'}; done  # as $(...) does
  if [ "$actual" != "$expected" ]; then
    echo "command: $cmd"
    diff -u --label expected --label actual <(printf '%s\n' "$expected") <(printf '%s\n' "$actual")
    fail=1
  fi
  cmd=""
  expected=""
  nexpected=0
}
while IFS= read -r line || [ -n "$line" ]; do
  if [ -z "$in_block" ]; then
    case "$line" in
      '```console'*) in_block=console ;;
      '```'*) in_block=maybe-file ;;
    esac
    continue
  fi
  if [ "$line" = '```' ]; then
    [ "$in_block" = console ] && run_pending
    in_block=""
    continue
  fi
  case "$in_block" in
    maybe-file)
      if [[ "$line" == "# file: "* ]]; then
        file_path=${line#\# file: }
        file_path=${file_path/#\~/$home}
        mkdir -p "$(dirname "$file_path")"
        chmod 700 "$(dirname "$file_path")"
        printf '%s\n' "$line" >"$file_path"
        in_block=file
      else
        in_block=other
      fi ;;
    file) printf '%s\n' "$line" >>"$file_path" ;;
    console)
      if [[ "$line" == '$ '* ]]; then
        run_pending
        cmd=${line#\$ }
      elif [ -n "$cmd" ]; then
        if [ "$nexpected" -gt 0 ]; then expected+=$'\n'; fi
        expected+="$line"
        nexpected=$((nexpected + 1))
      fi ;;
  esac
done <"$guide"
exit $fail
