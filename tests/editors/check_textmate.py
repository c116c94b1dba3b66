#!/usr/bin/python3
"""Checks that grammar/editors/vscode is an installable VS Code extension whose TextMate
grammar is well formed.

    check_textmate.py REPO

- package.json, language-configuration.json and the grammar parse as JSON;
- package.json declares the language `lcrules` for `.rules` with that configuration, and
  the grammar by its path and scopeName;
- every pattern of the grammar has either `match`, `begin` and `end`, or `include` or
  `patterns`; every `#name` include names a repository entry, and every entry is used;
- every regular expression compiles with Python's `re`. VS Code uses Oniguruma, whose
  syntax is wider; the grammar keeps to what both read (no \\h, \\G, \\A, (?<name>...)),
  so a regex that does not compile here is a mistake.
- capture keys are group numbers within the regex's groups.
"""
import json
import os
import re
import sys

repo = sys.argv[1]
ext = os.path.join(repo, "grammar/editors/vscode")
problems = []


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"{path}: {e}")


pkg = load(os.path.join(ext, "package.json"))
for key in ("name", "version", "publisher", "engines"):
    if key not in pkg:
        problems.append(f"package.json: no '{key}'")
langs = pkg.get("contributes", {}).get("languages", [])
grammars = pkg.get("contributes", {}).get("grammars", [])
lang = next((l for l in langs if l.get("id") == "lcrules"), None)
if lang is None or ".rules" not in lang.get("extensions", []):
    problems.append("package.json: no language 'lcrules' for the extension '.rules'")
else:
    load(os.path.join(ext, lang["configuration"]))
gram = next((g for g in grammars if g.get("language") == "lcrules"), None)
if gram is None:
    sys.exit("package.json: no grammar for the language 'lcrules'")
tm_path = os.path.join(ext, gram["path"])
tm = load(tm_path)
if tm.get("scopeName") != gram.get("scopeName"):
    problems.append(f"{gram['path']}: scopeName {tm.get('scopeName')!r}, package.json says {gram.get('scopeName')!r}")

repository = tm.get("repository", {})
used = set()


def check_regex(where, key, rx, captures=None):
    try:
        compiled = re.compile(rx)
    except re.error as e:
        problems.append(f"{where}.{key}: {rx!r} does not compile: {e}")
        return
    for name in (captures or {}):
        if not name.isdigit() or int(name) > compiled.groups:
            problems.append(f"{where}.{key}Captures: no group {name} in {rx!r}")


def check_pattern(where, p):
    if not isinstance(p, dict):
        problems.append(f"{where}: not an object")
        return
    if "include" in p:
        inc = p["include"]
        if inc.startswith("#"):
            if inc[1:] not in repository:
                problems.append(f"{where}: includes {inc}, which the repository does not define")
            used.add(inc[1:])
        elif inc not in ("$self", "$base"):
            problems.append(f"{where}: includes {inc}, another grammar")
        return
    if "match" in p:
        check_regex(where, "match", p["match"], p.get("captures"))
    elif "begin" in p:
        if "end" not in p:
            problems.append(f"{where}: 'begin' without 'end'")
        check_regex(where, "begin", p["begin"], p.get("beginCaptures"))
        if "end" in p:
            check_regex(where, "end", p["end"], p.get("endCaptures"))
    elif "patterns" not in p:
        problems.append(f"{where}: neither match, begin/end, include nor patterns")
    for i, sub in enumerate(p.get("patterns", [])):
        check_pattern(f"{where}.patterns[{i}]", sub)


if not tm.get("patterns"):
    problems.append(f"{gram['path']}: no top-level patterns")
for i, p in enumerate(tm.get("patterns", [])):
    check_pattern(f"patterns[{i}]", p)
for name, p in repository.items():
    check_pattern(f"repository.{name}", p)
for name in sorted(set(repository) - used):
    problems.append(f"repository.{name}: never included")

for p in problems:
    print(p)
if problems:
    sys.exit(1)
print(f"{gram['path']}: {len(repository)} repository entries, every regex compiles")
