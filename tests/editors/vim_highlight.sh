#!/usr/bin/env bash
# Checks the Vim syntax file (grammar/editors/vim) on a sample: headless Vim, with nothing
# but the plugin folder on its runtimepath, opens tests/editors/sample.rules (so the
# ftdetect file must set the filetype), and writes each run of characters with the syntax
# group Vim gives it (tests/editors/dump_syntax.vim); the result must equal
# tests/editors/sample.vim-expected.
#
#   vim_highlight.sh REPO [--write]     (--write: rewrite the expected file; read its diff)
set -u
repo=$1
here="$repo/tests/editors"
command -v vim >/dev/null || { echo "vim is not installed (apt-get install vim-nox)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A copy outside any udev/polkit folder, as a user's file would be.
cp "$here/sample.rules" "$work/sample.rules"
HOME="$work" vim -Es -N -u NONE -i NONE \
  --cmd "set runtimepath^=$repo/grammar/editors/vim" \
  -c 'filetype on' -c 'syntax on' -c "edit $work/sample.rules" \
  -c "let g:dump_out = '$work/actual'" -c "source $here/dump_syntax.vim" -c 'qall!' </dev/null
status=$?
if [ ! -s "$work/actual" ]; then
  echo "vim wrote no result (exit status $status)" >&2
  exit 1
fi
if [ "${2:-}" = --write ]; then
  cp "$work/actual" "$here/sample.vim-expected"
  exit 0
fi
diff -u --label expected --label actual "$here/sample.vim-expected" "$work/actual"
