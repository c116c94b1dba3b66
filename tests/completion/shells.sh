#!/usr/bin/env bash
# `lcrules completion zsh|fish`: zsh loads its script after compinit without an error, and
# fish loads its script and completes with it (`complete -C`). Exit 77 (skipped) when the
# shell is not installed (CI installs both).
#
#   shells.sh LCRULES zsh|fish SOURCE_DIR
set -uo pipefail
lcrules=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") shell=$2
src=$(cd "$3" && pwd)
command -v "$shell" >/dev/null || { echo "$shell is not installed: skipped"; exit 77; }
sandbox=$(mktemp -d)
trap 'rm -rf "$sandbox"' EXIT
mkdir -p "$sandbox/bin" "$sandbox/home"
ln -s "$lcrules" "$sandbox/bin/lcrules"
run() { env -i HOME="$sandbox/home" PATH="$sandbox/bin:/usr/bin:/bin" "$@" >"$sandbox/out" 2>"$sandbox/err"; }
fail() { echo "FAIL: $*"; echo "stdout:"; cat "$sandbox/out"; echo "stderr:"; cat "$sandbox/err"; exit 1; }

case $shell in
  zsh)
    # As sourced (`source <(lcrules completion zsh)`) and as the autoloaded file _lcrules.
    run zsh -fc 'autoload -U compinit && compinit -u -d "$HOME/.zcompdump" && source <(lcrules completion zsh) && print -r -- ${_comps[lcrules]} ${_comps[kubectl-lcrules]}' \
      || fail "zsh could not load the script"
    [ -s "$sandbox/err" ] && fail "zsh wrote to stderr"
    [ "$(cat "$sandbox/out")" = "_lcrules _lcrules" ] || fail "compdef did not register _lcrules"
    mkdir -p "$sandbox/fpath"
    "$lcrules" completion zsh >"$sandbox/fpath/_lcrules"
    run zsh -fc 'fpath=("$1" $fpath) && autoload -U compinit && compinit -u -d "$HOME/.zcompdump2" && print -r -- ${_comps[lcrules]}' zsh "$sandbox/fpath" \
      || fail "zsh could not autoload _lcrules"
    [ "$(cat "$sandbox/out")" = "_lcrules" ] || fail "the file _lcrules in fpath did not register"
    echo "zsh loads the script, sourced and autoloaded"
    ;;
  fish)
    "$lcrules" completion fish >"$sandbox/lcrules.fish"
    check() {  # COMMANDLINE EXPECTED (fish's candidates, VALUE<TAB>DESCRIPTION, sorted)
      run fish --no-config -c 'source $argv[1]; or exit 1; complete -C $argv[2]' "$sandbox/lcrules.fish" "$1" \
        || fail "fish could not load the script"
      [ -s "$sandbox/err" ] && fail "fish wrote to stderr"
      diff <(printf '%s\n' "$2") <(sort "$sandbox/out") || fail "fish's candidates for '$1'"
    }
    check "lcrules ev" "eval	Classify a kube-context"
    check "lcrules eval -o " "json
text"
    check "lcrules eval --kubeconfig $src/docs/demo/kubeconfig --context k" "k3d-k3s-default
kind-dev"
    echo "fish loads the script and completes with it"
    ;;
esac
