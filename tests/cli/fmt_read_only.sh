#!/usr/bin/env bash
# `lcrules fmt FILE` in a folder it cannot write (so no temporary file can be made beside
# FILE): a clear error, exit 2, and FILE as it was, with no file left behind. Run as root,
# lcrules runs as nobody (setpriv), for whom the folder's mode counts.
#   fmt_read_only.sh LCRULES_BINARY
set -u
sandbox=$(mktemp -d)
trap 'chmod -R u+w "$sandbox" 2>/dev/null; rm -rf "$sandbox"' EXIT
chmod 755 "$sandbox"
cp "$1" "$sandbox/lcrules"
chmod 755 "$sandbox/lcrules"
mkdir "$sandbox/ro"
printf 'rule r {   set cluster = "r" }\n' >"$sandbox/ro/r.rules"
original=$(cat "$sandbox/ro/r.rules")
chmod 644 "$sandbox/ro/r.rules"
chmod 555 "$sandbox/ro"
run=("$sandbox/lcrules")
if [ "$(id -u)" = 0 ]; then
  command -v setpriv >/dev/null || { echo "needs setpriv to run as root"; exit 1; }
  run=(setpriv --reuid=65534 --regid=65534 --clear-groups "$sandbox/lcrules")
fi
err=$(cd / && env -i PATH=/usr/bin:/bin "${run[@]}" fmt "$sandbox/ro/r.rules" 2>&1 >/dev/null)
status=$?
fail=0
expected="$sandbox/ro/r.rules: error: cannot write: Permission denied (creating a file in $sandbox/ro); the file is unchanged"
[ "$status" = 2 ] || { echo "exit status: expected 2, got $status"; fail=1; }
[ "$err" = "$expected" ] || { printf 'stderr:\n  expected: %s\n  actual:   %s\n' "$expected" "$err"; fail=1; }
[ "$(cat "$sandbox/ro/r.rules")" = "$original" ] || { echo "the file changed"; fail=1; }
[ "$(ls -A "$sandbox/ro")" = r.rules ] || { echo "files left in the folder: $(ls -A "$sandbox/ro")"; fail=1; }
exit $fail
