#!/usr/bin/env bash
# `lcrules completion bash` in a real `bash --norc` without the bash-completion package: the
# test sets COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT as bash does for a line (words
# split at COMP_WORDBREAKS: `=` and `:` are words of their own), calls the function the
# script registered for lcrules, and compares COMPREPLY.
#
#   bash.sh LCRULES SOURCE_DIR
set -uo pipefail
lcrules=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
sandbox=$(mktemp -d)
trap 'rm -rf "$sandbox"' EXIT
mkdir -p "$sandbox/bin" "$sandbox/home/.kube" "$sandbox/work/rules.d"
ln -s "$lcrules" "$sandbox/bin/lcrules"
ln -s "$lcrules" "$sandbox/bin/kubectl-lcrules"
"$lcrules" completion bash >"$sandbox/lcrules.bash"
cat >"$sandbox/home/.kube/config" <<'YAML'
apiVersion: v1
kind: Config
current-context: home-one
contexts:
  - {name: home-one, context: {cluster: c}}
  - {name: home-two, context: {cluster: c}}
YAML
cat >"$sandbox/eks.yaml" <<'YAML'
apiVersion: v1
kind: Config
contexts:
  - {name: "arn:aws:eks:eu-west-1:1234:cluster/dev", context: {cluster: c}}
  - {name: "arn:aws:eks:eu-west-1:1234:cluster/prod", context: {cluster: c}}
  - {name: kind-dev, context: {cluster: c}}
YAML
touch "$sandbox/work/local.rules" "$sandbox/work/notes.txt"
failures=0

# ask LINE WORD... : the candidates bash would offer at the end of LINE, whose words (as
# bash splits them) are WORD...; the last WORD is the one being completed.
ask() {
  local line=$1
  shift
  (cd "$sandbox/work" && env -i HOME="$sandbox/home" PATH="$sandbox/bin:/usr/bin:/bin" ${KUBECONFIG:+KUBECONFIG="$KUBECONFIG"} \
    bash --norc --noprofile -c '
      source "$0" || exit 1
      line=$1; shift
      [ "$(complete -p lcrules)" = "complete -F _lcrules lcrules" ] || { echo "not registered: $(complete -p lcrules)"; exit 1; }
      COMP_LINE=$line COMP_POINT=${#line} COMP_WORDS=("$@") COMP_CWORD=$(($# - 1))
      _lcrules
      printf "%s\n" "${COMPREPLY[@]}"' "$sandbox/lcrules.bash" "$line" "$@" 2>&1) | sort
}

# expect NAME LINE WORD... -- CANDIDATE... : exactly these candidates (in any order).
expect() {
  local name=$1 line=$2
  shift 2
  local words=()
  while [ "$1" != -- ]; do words+=("$1"); shift; done
  shift
  local got want
  got=$(ask "$line" "${words[@]}")
  want=$( (($#)) && printf '%s\n' "$@" | sort)
  if [ "$got" = "$want" ]; then
    echo "ok: $name"
  else
    echo "FAIL: $name: '$line'"
    diff <(echo "$want") <(echo "$got") | sed 's/^/  /'
    failures=$((failures + 1))
  fi
}

# has NAME LINE WORD... -- CANDIDATE... : at least these, and no hidden command.
has() {
  local name=$1 line=$2
  shift 2
  local words=()
  while [ "$1" != -- ]; do words+=("$1"); shift; done
  shift
  local got c ok=1
  got=$(ask "$line" "${words[@]}")
  for c in "$@"; do grep -qxF -- "$c" <<<"$got" || { echo "FAIL: $name: no '$c' in: $(echo $got)"; ok=0; }; done
  if grep -q '^__' <<<"$got"; then echo "FAIL: $name: a hidden command: $(echo $got)"; ok=0; fi
  [ $ok = 1 ] && echo "ok: $name" || failures=$((failures + 1))
}

has "subcommands" "lcrules " lcrules "" -- eval check rules facts test serve completion
expect "a subcommand's start" "lcrules ev" lcrules ev -- eval
expect "a flag's start" "lcrules eval --con" lcrules eval --con -- --context
expect "flags given once are not offered again" "lcrules eval --context x --no-e" \
  lcrules eval --context x --no-e -- --no-exec
expect "repeatable flags are" "lcrules eval --rules a --ru" lcrules eval --rules a --ru -- --rules
expect "-o values" "lcrules eval -o " lcrules eval -o "" -- json text
expect "--output=VALUE" "lcrules rules --output=j" lcrules rules --output = j -- json
expect "--output=" "lcrules rules --output=" lcrules rules --output = -- =json =text
expect "completion shells" "lcrules completion " lcrules completion "" -- bash fish zsh
expect "contexts of ~/.kube/config" "lcrules eval --context " lcrules eval --context "" -- home-one home-two
KUBECONFIG="$sandbox/eks.yaml:$sandbox/missing.yaml" \
  expect "contexts of \$KUBECONFIG" "lcrules facts --context k" lcrules facts --context k -- kind-dev
KUBECONFIG="$sandbox/eks.yaml" expect "--kubeconfig on the line wins over \$KUBECONFIG" \
  "lcrules eval --kubeconfig $src/docs/demo/kubeconfig --context " \
  lcrules eval --kubeconfig "$src/docs/demo/kubeconfig" --context "" -- kind-dev k3d-k3s-default docker-desktop prod
expect "--kubeconfig=FILE --context=PREFIX" "lcrules eval --kubeconfig=$src/docs/demo/kubeconfig --context=k" \
  lcrules eval --kubeconfig = "$src/docs/demo/kubeconfig" --context = k -- kind-dev k3d-k3s-default
expect "contexts with colons: bash replaces the piece after the last ':'" \
  "lcrules eval --kubeconfig ../eks.yaml --context arn:aws:eks:eu-west-1:1234:cluster/p" \
  lcrules eval --kubeconfig ../eks.yaml --context arn : aws : eks : eu-west-1 : 1234 : cluster/p -- cluster/prod
expect "--kubeconfig ~/..." "lcrules eval --kubeconfig ~/.kube/config --context home-t" \
  lcrules eval --kubeconfig "~/.kube/config" --context home-t -- home-two
expect "a kubeconfig that cannot be read gives no context" "lcrules eval --kubeconfig nope --context " \
  lcrules eval --kubeconfig nope --context "" --
expect "--run: the tests' names, as regexes" "lcrules test $src/rules/kind.rules-test.yaml --run 'kind <" \
  lcrules test "$src/rules/kind.rules-test.yaml" --run "'kind <" -- "'kind < 0\\.6 context NAME@kind'"
has "--run: names escaped for the shell" "lcrules test $src/rules/kind.rules-test.yaml --run kind\\ d" \
  lcrules test "$src/rules/kind.rules-test.yaml" --run "kind\\ d" -- "kind\\ default\\ context\\ kind-kind"
expect "--rules: files and folders" "lcrules eval --rules " lcrules eval --rules "" -- local.rules notes.txt rules.d
expect "--rules=: files after '='" "lcrules eval --rules=lo" lcrules eval --rules = lo -- local.rules
expect "check: files" "lcrules check lo" lcrules check lo -- local.rules
expect "numbers: nothing" "lcrules eval --deadline " lcrules eval --deadline "" --
has "a subcommand without arguments offers its flags" "lcrules rules " lcrules rules "" -- \
  --help --no-default-rules --no-user-rules --output --rules
expect "... long names only" "lcrules rules " lcrules rules "" -- $(ask "lcrules rules " lcrules rules "" | grep -- '^--')
expect "kubectl-lcrules is lcrules eval" "kubectl-lcrules --cont" kubectl-lcrules --cont -- --context
expect "kubectl-lcrules names subcommands too" "kubectl-lcrules ch" kubectl-lcrules ch -- check

[ $failures = 0 ] || { echo "$failures case(s) failed"; exit 1; }
