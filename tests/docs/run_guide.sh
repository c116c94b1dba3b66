#!/usr/bin/env bash
# Keeps a page of docs/ true: runs its examples in a sandbox and compares their output.
#
#   run_guide.sh [--strict] GUIDE.md LCRULES_BINARY [WORKDIR]
#
# Commands run in WORKDIR (default: the sandbox home; the repository root for pages whose
# examples use the repository's files, such as docs/demo/kubeconfig).
#
# Fenced blocks, by their info string (the word after the opening ```):
# - `# file: PATH` as a block's first line (PATH may start with ~/): the block is written to
#   that path in the sandbox HOME before the commands after it run. A ```rules file block
#   is then checked as a later `lcrules check PATH` would check it: it must load.
# - ```console: each line starting with `$ ` is a command (run with bash in the sandbox,
#   `lcrules` on PATH); the lines after it, up to the next command or the end of the block,
#   are its expected stdout and stderr. An expected line `...` (spaces around it aside)
#   stands for any number of lines. In the actual output the sandbox home is written `~`
#   and the source tree's rules/ `/usr/local/share/lcrules` (where an installed lcrules
#   keeps its shipped rules), so the guide reads as a user's session would.
#   Exit status: a command that exits non-zero must say so with a last expected line
#   `[exit N]` (N its status; the line is not part of its output); a command without that
#   line must exit 0. (For a pipeline, bash's status: the last command's.)
# - ```rules (no `# file:`): a rules file that must load with the shipped rules
#   (`lcrules check FILE`), or by itself after a line `<!-- alone -->`.
# - ```yaml whose top level has `tests:` (no `# file:`): a test file; `lcrules test FILE`,
#   run in WORKDIR, must pass.
# A marker line just before a block changes what is done with it:
# - `<!-- fragment -->` (text may follow `fragment`): the block is deliberately partial (a
#   grammar excerpt, a template with placeholders, a line of output without its command):
#   nothing is done with it.
# - `<!-- excerpt: PATH -->` (PATH relative to the repository, a file or a folder): the
#   block shows part of PATH; its items (rules) or its tests and keys (a test file) must be
#   found in PATH as written (tests/docs/examples.py), and a ```rules block must also load
#   by itself.
# With --strict (docs/custom-rules.md, language.md, testing.md, rules-files.md), every block must be one of
# the above or be marked a fragment: a page cannot show an example no test runs. And a
# shipped rule its prose names with a priority, "`kind` (700)", "`kind` (priority 700)" or
# a table row "| `kind` | 700 |", must exist and have that priority.
#
# PATH: the commands' shell has PATH=$SANDBOX/bin:/usr/bin:/bin (a guide pipes into sed,
# head, curl...), but `lcrules` there is a wrapper that runs the binary with PATH set to an
# empty sandbox folder: as in the CLI cases (tests/cli/run_case.sh), no command a rule runs
# can reach a kubectl or minikube installed on the machine, so a guide's output never
# depends on what the machine has installed.
set -u
strict=""
if [ "${1:-}" = --strict ]; then
  strict=1
  shift
fi
guide=$1
binary=$2
workdir=${3:-}
examples="$(cd "$(dirname "$0")" && pwd)/examples.py"
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
in_block=""   # "", "console", "file", "collect", "skip"
file_path=""
cmd=""
expected=""
nexpected=0
lnum=0
prev=""
marker=""     # the marker line before the block being read
info=""       # the block's info string
block_line=0  # the line of the guide where the block starts
nblock=0
mkdir -p "$sandbox/examples"
in_sandbox() {  # COMMAND: runs it as the guide's commands run, output in $sandbox/output
  (cd "${workdir:-$home}" && env -i HOME="$home" PATH="$sandbox/bin:/usr/bin:/bin" LCRULES_SYSTEM_DIR="$sandbox/etc" \
    LANG=C.UTF-8 bash -c "$1") >"$sandbox/output" 2>&1
}
must_succeed() {  # WHAT COMMAND: the command must exit 0
  in_sandbox "$2"
  local status=$?
  if [ "$status" != 0 ]; then
    echo "$guide:$block_line: $1: \`${2//$sandbox\/examples\//EXAMPLES/}\` exited with status $status:"
    sed -e "s|$home|~|g" -e "s|$sandbox/examples/|EXAMPLES/|g" -e 's/^/    /' "$sandbox/output"
    fail=1
  fi
}
run_pending() {
  [ -z "$cmd" ] && return
  in_sandbox "$cmd"
  status=$?
  actual=$(sed -e "s|$home|~|g" -e "s|$repo/rules|/usr/local/share/lcrules|g" "$sandbox/output")
  [ "$status" != 0 ] && actual+=$'\n'"[exit $status]"
  actual=${actual#$'\n'}  # a failing command without output: the marker alone
  while [[ "$expected" == *$'\n' ]]; do expected=${expected%$'\n'}; done  # as $(...) does
  if [[ $'\n'"$expected"$'\n' =~ $'\n'[[:space:]]*'...'[[:space:]]*$'\n' ]]; then
    printf '%s\n' "$expected" >"$sandbox/expected"
    printf '%s\n' "$actual" >"$sandbox/actual"
    if ! /usr/bin/python3 "$examples" compare "$sandbox/expected" "$sandbox/actual" >"$sandbox/diff"; then
      echo "command: $cmd"
      cat "$sandbox/diff"
      fail=1
    fi
  elif [ "$actual" != "$expected" ]; then
    echo "command: $cmd"
    diff -u --label expected --label actual <(printf '%s\n' "$expected") <(printf '%s\n' "$actual")
    fail=1
  fi
  cmd=""
  expected=""
  nexpected=0
}
# A block other than console, read whole into $sandbox/block: check it.
finish_block() {
  local first
  first=$(head -n 1 "$sandbox/block")
  nblock=$((nblock + 1))
  # Each example in a folder of its own: a test file loads the *.rules files beside it.
  mkdir -p "$sandbox/examples/$nblock"
  local example="$sandbox/examples/$nblock/example"
  if [[ "$first" == "# file: "* ]]; then
    file_path=${first#\# file: }
    file_path=${file_path/#\~/$home}
    mkdir -p "$(dirname "$file_path")"
    chmod 700 "$(dirname "$file_path")"
    cp "$sandbox/block" "$file_path"
    [ "$info" = rules ] && must_succeed "this rules file must load" "lcrules check '$file_path'"
    return
  fi
  case "$marker" in
    '<!-- excerpt: '*' -->')
      local source=${marker#<!-- excerpt: }
      source="$repo/${source% -->}"
      case "$info" in
        rules) example+=.rules ;;
        yaml) example+=.rules-test.yaml ;;
        *) echo "$guide:$block_line: an excerpt must be a \`\`\`rules or \`\`\`yaml block"; fail=1; return ;;
      esac
      cp "$sandbox/block" "$example"
      if ! /usr/bin/python3 "$examples" excerpt "$example" "$source" >"$sandbox/excerpt"; then
        sed "s|^|$guide:$block_line: |" "$sandbox/excerpt"
        fail=1
      fi
      [ "$info" = rules ] && must_succeed "this rules excerpt must load by itself" "lcrules check --no-default-rules '$example'"
      return ;;
  esac
  if [ "$info" = rules ]; then
    cp "$sandbox/block" "$example.rules"
    if [ "$marker" = '<!-- alone -->' ]; then
      must_succeed "this rules example must load by itself" "lcrules check --no-default-rules '$example.rules'"
    else
      must_succeed "this rules example must load with the shipped rules" "lcrules check '$example.rules'"
    fi
  elif [ "$info" = yaml ] && grep -q '^tests:' "$sandbox/block"; then
    cp "$sandbox/block" "$example.rules-test.yaml"
    must_succeed "this test file must pass" "lcrules test '$example.rules-test.yaml'"
  elif [ -n "$strict" ]; then
    echo "$guide:$block_line: no test runs this \`\`\`$info block: make it a console, rules, test file or # file: block, or mark it <!-- fragment -->"
    fail=1
  fi
}
while IFS= read -r line || [ -n "$line" ]; do
  lnum=$((lnum + 1))
  if [ -z "$in_block" ]; then
    case "$line" in
      '```'*)
        info=${line#\`\`\`}
        marker=$prev
        block_line=$lnum
        if [[ "$marker" == '<!-- fragment'*'-->' ]]; then
          in_block=skip
        elif [ "$info" = console ]; then
          in_block=console
        else
          in_block=collect
          : >"$sandbox/block"
        fi ;;
    esac
    prev=$line
    continue
  fi
  if [ "$line" = '```' ]; then
    [ "$in_block" = console ] && run_pending
    [ "$in_block" = collect ] && finish_block
    in_block=""
    prev=$line
    continue
  fi
  case "$in_block" in
    collect) printf '%s\n' "$line" >>"$sandbox/block" ;;
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
if [ -n "$strict" ]; then
  if in_sandbox "lcrules rules -o json --no-user-rules"; then
    /usr/bin/python3 "$examples" prose "$guide" "$sandbox/output" || fail=1
  else
    echo "$guide: \`lcrules rules -o json\` failed:"
    cat "$sandbox/output"
    fail=1
  fi
fi
exit $fail
