#!/usr/bin/python3
"""Tokenizes a file with the VS Code grammar (grammar/editors/vscode) and compares the
scopes with an expected list: the VS Code counterpart of vim_highlight.sh.

    textmate_tokens.py REPO SAMPLE EXPECTED [--write]

The tokenizer follows the TextMate rules VS Code applies (vscode-textmate): at each
position the pattern whose match starts first wins, the earlier pattern on a tie, and the
`end` of the innermost begin/end rule before its inner patterns; `captures`,
`beginCaptures` and `endCaptures` scope the groups; `name` covers a rule's whole span and
`contentName` what lies between begin and end. Regexes run with Python's `re` (the grammar
keeps to what Oniguruma and Python both read: tests/editors/check_textmate.py). Each line
of output is one run of non-blank characters that share their scopes:
`LINE:COL SCOPE SCOPE... TEXT`, without the grammar's own scopeName (`-` for none).
"""
import json
import re
import sys

repo, sample, expected = sys.argv[1], sys.argv[2], sys.argv[3]
grammar = json.load(open(repo + "/grammar/editors/vscode/syntaxes/lcrules.tmLanguage.json", encoding="utf-8"))
repository = grammar["repository"]
_compiled = {}


def rx(text):
    if text not in _compiled:
        _compiled[text] = re.compile(text)
    return _compiled[text]


def flatten(patterns, seen=None):
    """The patterns to try, includes resolved, in order."""
    out = []
    seen = set() if seen is None else seen
    for p in patterns:
        if "include" in p:
            name = p["include"][1:]
            if name in seen:
                continue
            out += flatten([repository[name]], seen | {name})
        elif "match" in p or "begin" in p:
            out.append(p)
        else:
            out += flatten(p.get("patterns", []), seen)
    return out


def scope_captures(scopes, m, captures, base):
    for group, cap in sorted((captures or {}).items(), key=lambda kv: int(kv[0])):
        g = int(group)
        if m.start(g) < 0:
            continue
        for i in range(m.start(g), m.end(g)):
            scopes[i] = scopes[i] + cap["name"].split()


def tokenize(lines):
    stack = []  # (rule, scopes inside it)
    out = []
    for lnum, text in enumerate(lines, 1):
        line = text + "\n"
        scopes = [None] * len(line)
        pos = 0
        while pos < len(line):
            base = stack[-1][1] if stack else []
            rule = stack[-1][0] if stack else grammar
            candidates = []
            if stack:
                candidates.append(("end", rule))
            candidates += [("pattern", p) for p in flatten(rule.get("patterns", []))]
            best = None
            for kind, p in candidates:
                m = rx(p["end"] if kind == "end" else p.get("match", p.get("begin"))).search(line, pos)
                if m and (best is None or m.start() < best[2].start()):
                    best = (kind, p, m)
            if best is None:
                for i in range(pos, len(line)):
                    scopes[i] = base
                break
            kind, p, m = best
            for i in range(pos, m.start()):
                scopes[i] = base
            if kind == "end":
                outer = stack[-2][1] if len(stack) > 1 else []
                whole = outer + (p["name"].split() if "name" in p else [])
                for i in range(m.start(), m.end()):
                    scopes[i] = whole
                scope_captures(scopes, m, p.get("endCaptures"), whole)
                stack.pop()
            elif "match" in p:
                whole = base + (p["name"].split() if "name" in p else [])
                for i in range(m.start(), m.end()):
                    scopes[i] = whole
                scope_captures(scopes, m, p.get("captures"), whole)
            else:
                whole = base + (p["name"].split() if "name" in p else [])
                for i in range(m.start(), m.end()):
                    scopes[i] = whole
                scope_captures(scopes, m, p.get("beginCaptures"), whole)
                stack.append((p, whole + (p["contentName"].split() if "contentName" in p else [])))
            if m.end() == pos and kind != "pattern" or m.end() > pos:
                pos = m.end()
            else:
                scopes[pos] = base  # an empty match: step over one character
                pos += 1
        col = 0
        while col < len(text):
            if text[col].isspace():
                col += 1
                continue
            start = col
            while col < len(text) and not text[col].isspace() and scopes[col] == scopes[start]:
                col += 1
            names = " ".join(scopes[start]) or "-"
            out.append(f"{lnum}:{start + 1} {names} {text[start:col]}")
    return out


actual = tokenize(open(sample, encoding="utf-8").read().split("\n")[:-1])
if len(sys.argv) > 4 and sys.argv[4] == "--write":
    open(expected, "w", encoding="utf-8").write("\n".join(actual) + "\n")
    sys.exit(0)
want = open(expected, encoding="utf-8").read().split("\n")[:-1]
if actual != want:
    import difflib
    sys.stdout.writelines(difflib.unified_diff([w + "\n" for w in want], [a + "\n" for a in actual], "expected", "actual"))
    sys.exit(1)
print(f"{len(actual)} tokens of {sample} have their expected scopes")
