#!/usr/bin/env bash
# The man pages the build wrote (packaging/build_manpages.sh): each renders without a
# warning (`MANWIDTH=80 man --warnings -l PAGE`), and every flag `lcrules SUBCOMMAND --help`
# lists is in that subcommand's page (and the root's in lcrules(1)).
#
#   check.sh LCRULES MAN_DIR
set -uo pipefail
lcrules=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") man_dir=$2
command -v man >/dev/null || { echo "FAIL: man is not installed (man-db)"; exit 1; }
failures=0
pages=("$man_dir"/man1/*.1 "$man_dir"/man5/*.5)
[ -f "$man_dir/man1/lcrules.1" ] && [ -f "$man_dir/man5/lcrules-rules.5" ] || { echo "FAIL: no pages in $man_dir"; exit 1; }
for page in "${pages[@]}"; do
  warnings=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" 2>&1 >/dev/null)
  if [ -n "$warnings" ]; then
    echo "FAIL: $(basename "$page"): warnings:"; echo "$warnings" | head -20
    failures=$((failures + 1))
  fi
  gz=$page.gz
  cmp -s <(gzip -dc "$gz") "$page" || { echo "FAIL: $gz is not $page compressed"; failures=$((failures + 1)); }
done
echo "${#pages[@]} pages render without warnings"

# Every page `lcrules __man` names exists; every flag of --help is in its page's roff.
while IFS= read -r name; do
  page=$man_dir/man1/$name.1
  [ -f "$page" ] || { echo "FAIL: no $page"; failures=$((failures + 1)); continue; }
  sub=${name#lcrules}
  sub=${sub#-}
  # Flags in the OPTIONS part of --help: `  -o,--output TEXT ...`, `  --rules TEXT ...`.
  flags=$("$lcrules" $sub --help | sed -n '/^Options:/,/^[A-Z][a-z]*:/p' | grep -oE '^ +(-[a-zA-Z],)?--[a-z][a-z-]*|^ +-[a-zA-Z]\b' \
    | tr ',' '\n' | tr -d ' ')
  [ -n "$flags" ] || { echo "FAIL: no flag found in 'lcrules $sub --help'"; failures=$((failures + 1)); continue; }
  text=$(sed 's/\\-/-/g' "$page")
  for flag in $flags; do
    grep -qF -- "$flag" <<<"$text" || { echo "FAIL: $name.1 lacks $flag"; failures=$((failures + 1)); }
  done
  echo "$name.1: $(echo $flags)"
done < <("$lcrules" __man)
[ $failures = 0 ] || { echo "$failures failure(s)"; exit 1; }
