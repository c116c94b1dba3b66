#!/usr/bin/python3
"""Checks the word lists of the editor syntax files against the grammar.

    check_keywords.py GRAMMAR_WORDS_BINARY REPO

GRAMMAR_WORDS_BINARY (tests/tools/grammar_words.cpp) prints every literal word of the
grammar (grammar/keywords.hpp walks grammar.hpp from its top rule) as "KIND WORD". Each
word of kind keyword, field or value must be in each syntax file, in the list for its kind,
and each word those lists hold must be a grammar word of that kind:

- Vim (grammar/editors/vim/syntax/lcrules.vim): `syntax keyword GROUP WORD...` lines
  and `syntax match GROUP /\\<WORD\\>/` lines (for a word :syntax takes as an argument);
  lcrulesField holds the fields, lcrulesBoolean, lcrulesNull and lcrulesStage the values,
  every other group but lcrulesTodo the keywords.
- VS Code (grammar/editors/vscode/syntaxes/lcrules.tmLanguage.json): the repository
  entries `fields`, `constants-*` and `keywords-*`, each one `match` of the form
  (?<![\\w.-])(?:WORD|WORD...)(?![\\w.-]); the pattern must match each of its words.

Symbols (`==`, `${`), the unit `ms` and refused words (`notes`) are not checked here.
The fact roots of the facts table of docs/language.md (`context.`, `cluster.`...) must be
roots both files highlight.
"""
import json
import re
import subprocess
import sys

binary, repo = sys.argv[1], sys.argv[2]
VIM = repo + "/grammar/editors/vim/syntax/lcrules.vim"
TM = repo + "/grammar/editors/vscode/syntaxes/lcrules.tmLanguage.json"
KINDS = ("keyword", "field", "value")

grammar = {k: set() for k in KINDS}
for line in subprocess.run([binary], check=True, capture_output=True, text=True).stdout.splitlines():
    kind, word = line.split(" ", 1)
    if kind in grammar:
        grammar[kind].add(word)
if not grammar["keyword"] or not grammar["field"] or not grammar["value"]:
    sys.exit(f"{binary} printed no words of some kind: {grammar}")

problems = []


def compare(editor, lists):
    for kind in KINDS:
        have, want = lists[kind], grammar[kind]
        for w in sorted(want - have):
            problems.append(f"{editor}: the grammar's {kind} '{w}' is missing")
        for w in sorted(have - want):
            problems.append(f"{editor}: '{w}' is listed as a {kind}, but the grammar has no such {kind}")


# Vim.
vim_lists = {k: set() for k in KINDS}
vim_text = open(VIM, encoding="utf-8").read()
VIM_KIND = {"lcrulesField": "field", "lcrulesBoolean": "value", "lcrulesNull": "value", "lcrulesStage": "value"}
for m in re.finditer(r"^syntax keyword (\w+) (.*)$", vim_text, re.M):
    group, rest = m.group(1), m.group(2).split()
    if group == "lcrulesTodo":
        continue
    words = [w for w in rest if w not in ("contained", "transparent", "skipwhite", "skipempty", "skipnl")]
    vim_lists[VIM_KIND.get(group, "keyword")].update(words)
# A word that is also an argument of :syntax (`contains`) is a match of that one word.
for m in re.finditer(r"^syntax match (\w+) /\\<([\w-]+)\\>/$", vim_text, re.M):
    vim_lists[VIM_KIND.get(m.group(1), "keyword")].add(m.group(2))
compare(VIM, vim_lists)

# VS Code.
tm = json.load(open(TM, encoding="utf-8"))
tm_lists = {k: set() for k in KINDS}
WORDS = re.compile(r"^\(\?<!\[\\w\.-\]\)\(\?:([A-Za-z0-9_|-]+)\)\(\?!\[\\w\.-\]\)$")
for name, entry in tm["repository"].items():
    if name == "fields":
        kind = "field"
    elif name.startswith("constants-"):
        kind = "value"
    elif name.startswith("keywords-"):
        kind = "keyword"
    else:
        continue
    m = WORDS.match(entry.get("match", ""))
    if not m:
        problems.append(f"{TM}: repository entry {name}: its match is not (?<![\\w.-])(?:WORD|...)(?![\\w.-])")
        continue
    pattern = re.compile(entry["match"])
    for w in m.group(1).split("|"):
        if not pattern.fullmatch(w):
            problems.append(f"{TM}: repository entry {name} does not match its word '{w}'")
        tm_lists[kind].add(w)
compare(TM, tm_lists)

# Fact roots: every root of docs/language.md's facts table.
doc = open(repo + "/docs/language.md", encoding="utf-8").read()
facts = doc[doc.index("## Facts"):]
facts = facts[:facts.index("\n## ", 1)]
roots = set(re.findall(r"^\| `([a-z]+)\.", facts, re.M))
if len(roots) < 5:
    problems.append(f"docs/language.md: found only the fact roots {sorted(roots)} in its facts table")
vim_roots = re.search(r"syntax match lcrulesFact /\\<\\%\(([a-z\\|]+)\\\)", vim_text)
vim_roots = set(vim_roots.group(1).split("\\|")) if vim_roots else set()
tm_roots = re.search(r"\(([a-z|]+)\)", tm["repository"]["fact"]["match"])
tm_roots = set(tm_roots.group(1).split("|")) if tm_roots else set()
for editor, have in ((VIM, vim_roots), (TM, tm_roots)):
    for r in sorted(roots - have):
        problems.append(f"{editor}: the fact root '{r}.' (docs/language.md) is not highlighted")

for p in problems:
    print(p)
if problems:
    sys.exit(1)
total = sum(len(v) for v in grammar.values())
print(f"both syntax files list the grammar's {total} words and {len(roots)} fact roots")
