#!/usr/bin/env bash
# Writes lcrules' man pages (the build runs it; docs/cli.md, "Man pages"):
#
#   build_manpages.sh LCRULES DOCS_DIR PANDOC OUT_DIR VERSION
#
# OUT_DIR/man1/lcrules.1 and lcrules-SUBCOMMAND.1, one per subcommand `lcrules __man` lists,
# and OUT_DIR/man5/lcrules-rules.5, each beside its .gz (gzip -9n), then OUT_DIR/pages.stamp.
# One source each, so a page cannot drift from `--help` or the docs:
# - NAME, SYNOPSIS, OPTIONS, SUBCOMMANDS: `lcrules __man PAGE`, from the CLI11 definitions;
# - DESCRIPTION and the other sections: docs/*.md (the subcommand's section of docs/cli.md,
#   docs/testing.md, docs/service.md, docs/language.md, docs/rules-files.md), converted by
#   pandoc (`-t man`, smart punctuation off so `--flag` stays two hyphens).
set -euo pipefail
lcrules=$1 docs=$2 pandoc=$3 out=$4 version=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$out/man1" "$out/man5" "$out/pages.stamp"
mkdir -p "$out/man1" "$out/man5"

# section FILE PREFIX: the text under the `## ` heading that starts with PREFIX, up to the
# next `## ` heading; its `###` headings become `##` (subsections of the man page section).
# A code block that opens the section with `lcrules ...` (its synopsis) is left out: the
# page has its SYNOPSIS from the program.
section() {
  awk -v prefix="$2" '
    inside && n == 0 && /^```$/ { n++; getline first; if (first ~ /^lcrules /) { skip = 1; next } fence = 1; print; print first; next }
    skip { if (/^```$/) skip = 0; next }
    inside && !/^$/ { n++ }
    /^```/ { fence = !fence }
    !fence && /^## / { if (inside) exit; if (index($0, prefix) == 1 && substr($0, length(prefix) + 1, 1) ~ /^[ `]?$/) { inside = 1; next } }
    inside { if (!fence && /^###/) sub(/^#/, ""); print }
  ' "$1"
}

# intro FILE: the text before the first `## ` heading, without the `# ` title and the
# first code block (the synopsis, which the page has from the program).
intro() {
  awk '
    /^```/ { fence = !fence; if (!seen_block) { if (!fence) seen_block = 1; next } }
    !fence && /^## / { exit }
    !fence && /^# / { next }
    fence && !seen_block { next }
    { print }
  ' "$1"
}

# whole FILE: the file without its `# ` title, every heading one level up (`## X` becomes
# a man page section).
whole() {
  awk '
    /^```/ { fence = !fence }
    !fence && /^# / { next }
    !fence && /^##/ { sub(/^#/, "") }
    { print }
  ' "$1"
}

# untitled FILE: the file without its `# ` title (its `## ` headings stay subsections).
untitled() {
  awk '
    /^```/ { fence = !fence }
    !fence && /^# / { next }
    { print }
  ' "$1"
}

# assemble PAGE_MD DESCRIPTION_FILE EXTRA_FILE: DESCRIPTION_FILE replaces the line
# @DESCRIPTION@, EXTRA_FILE (whole sections) goes before `# SEE ALSO`.
assemble() {
  awk -v desc="$2" -v extra="$3" '
    $0 == "@DESCRIPTION@" { while ((getline line < desc) > 0) print line; next }
    $0 == "# SEE ALSO" { while ((getline line < extra) > 0) print line; print "" }
    { print }
  ' "$1"
}

render() {  # MARKDOWN SECTION PAGE
  "$pandoc" -f markdown-smart -t man -s --lua-filter "$(dirname "$0")/man_tables.lua" -M footer="lcrules $version" -M date="" -o "$out/man$2/$3.$2" "$1"
  gzip -9nc "$out/man$2/$3.$2" >"$out/man$2/$3.$2.gz"
}

"$lcrules" __man >"$work/pages"
while IFS= read -r page; do
  "$lcrules" __man "$page" >"$work/$page.generated.md"
  : >"$work/$page.extra.md"
  if [ "$page" = lcrules ]; then
    intro "$docs/cli.md" >"$work/$page.description.md"
    {
      printf '# EXIT STATUS\n\n'
      section "$docs/cli.md" '## Exit codes'
      printf '\n# ENVIRONMENT\n\n'
      section "$docs/cli.md" '## Environment'
      printf '\n# KUBECTL PLUGIN\n\n'
      section "$docs/cli.md" '## `kubectl lcrules`'
    } >"$work/$page.extra.md"
  else
    section "$docs/cli.md" "## \`lcrules ${page#lcrules-}" >"$work/$page.description.md"
    case $page in
      lcrules-test) whole "$docs/testing.md" >"$work/$page.extra.md" ;;
      lcrules-serve) whole "$docs/service.md" >"$work/$page.extra.md" ;;
    esac
  fi
  assemble "$work/$page.generated.md" "$work/$page.description.md" "$work/$page.extra.md" >"$work/$page.md"
  render "$work/$page.md" 1 "$page"
done <"$work/pages"

# kubectl-lcrules and kubectl_complete-lcrules are lcrules under other names.
ln -sf lcrules.1.gz "$out/man1/kubectl-lcrules.1.gz"
ln -sf lcrules.1.gz "$out/man1/kubectl_complete-lcrules.1.gz"

{
  printf -- '---\ntitle: LCRULES-RULES\nsection: 5\nheader: lcrules manual\n---\n\n'
  printf '# NAME\n\nlcrules-rules \\- the .rules language of lcrules\n\n# DESCRIPTION\n\n'
  whole "$docs/language.md"
  printf '\n# RULE FILES\n\n'
  untitled "$docs/rules-files.md"
  printf '\n# SEE ALSO\n\n**lcrules**(1), **lcrules-check**(1), **lcrules-test**(1)\n'
} >"$work/lcrules-rules.md"
render "$work/lcrules-rules.md" 5 lcrules-rules
touch "$out/pages.stamp"
