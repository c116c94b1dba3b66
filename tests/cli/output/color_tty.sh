#!/usr/bin/env bash
# Colour on a terminal (docs/cli.md, "Colour"): lcrules runs under script(1), whose pseudo-
# terminal is its standard output and error (the CLI cases run it into pipes, where
# `--color auto` never colours).
#
#   color_tty.sh LCRULES_BINARY SCENARIO
#
# SCENARIO: auto (colour), no-color (NO_COLOR=1: none), empty-no-color (NO_COLOR set but
# empty: colour), never (--color never: none).
set -u
binary=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
scenario=$2
repo=$(cd "$(dirname "$0")/../../.." && pwd)
sandbox=$(mktemp -d)
trap 'rm -rf "$sandbox"' EXIT
env_vars=(HOME="$sandbox" PATH=/usr/bin:/bin LCRULES_SYSTEM_DIR="$sandbox/etc")
flag=auto
want=colour
case $scenario in
  auto) ;;
  no-color) env_vars+=(NO_COLOR=1); want=none ;;
  empty-no-color) env_vars+=(NO_COLOR=) ;;
  never) flag=never; want=none ;;
  *) echo "unknown scenario $scenario"; exit 2 ;;
esac
# A failing test with --explain: PASS and FAIL on stdout, the explanation's markers with it.
cmd="$(printf '%q ' "$binary" test --explain --color "$flag" "$repo/tests/rule-tests/failing")"
env -i "${env_vars[@]}" script -qec "$cmd" /dev/null >"$sandbox/out" </dev/null
esc=$'\033'
if grep -q "${esc}\[32mPASS${esc}\[0m kind passes" "$sandbox/out" &&
   grep -q "${esc}\[31mFAIL${esc}\[0m " "$sandbox/out" &&
   grep -q "${esc}\[31m\[not-matched\]${esc}\[0m " "$sandbox/out"; then
  got=colour
elif grep -q "$esc" "$sandbox/out"; then
  got="some escape sequences, not the expected ones"
elif grep -q "^PASS kind passes" "$sandbox/out"; then
  got=none
else
  echo "no report on the terminal:"; cat -v "$sandbox/out"; exit 1
fi
if [ "$got" != "$want" ]; then
  echo "$scenario: expected $want, got $got:"; cat -v "$sandbox/out" | head -20; exit 1
fi
echo "ok $scenario: $got"
