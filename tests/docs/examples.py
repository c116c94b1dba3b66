#!/usr/bin/python3
"""Helpers of run_guide.sh (see the comment at its top).

    examples.py compare EXPECTED ACTUAL
        Exit 0 when ACTUAL matches EXPECTED, where an EXPECTED line that is `...` (spaces
        around it aside) stands for any number of lines, none included; else print a diff.

    examples.py excerpt BLOCK SOURCE
        BLOCK is a block of a page marked `<!-- excerpt: SOURCE -->`; SOURCE a file or a
        folder of the repository. For rules (BLOCK ends in .rules): every item of BLOCK
        (from a line starting `rule`, `macro`, `list`, `override`, `disable`, `decision` or
        `lcrules` to the next) must be an item of SOURCE (a folder: of its *.rules files),
        comments and spacing aside. For a test file (BLOCK ends in .yaml): every test of
        BLOCK must equal the test of that name in SOURCE, and every other top-level key of
        BLOCK must equal SOURCE's.

    examples.py prose PAGE RULES_JSON
        A shipped rule the prose of PAGE names with its priority, "`NAME` (N)",
        "`NAME` (priority N)" or a table row "| `NAME` | N |", must have that priority in RULES_JSON (`lcrules rules -o
        json`), and exist.
"""
import difflib
import os
import re
import sys


def compare(expected_path, actual_path):
    expected = open(expected_path, encoding="utf-8").read().split("\n")
    actual = open(actual_path, encoding="utf-8").read().split("\n")
    pattern = "".join(r"(?:[^\n]*\n)*?" if line.strip() == "..." else re.escape(line) + r"\n" for line in expected)
    if re.fullmatch(pattern, "\n".join(actual) + "\n"):
        return 0
    sys.stdout.writelines(difflib.unified_diff([l + "\n" for l in expected], [l + "\n" for l in actual],
                                               "expected", "actual"))
    return 1


ITEM_START = re.compile(r"^(?:rule|macro|list|override|disable|decision|lcrules)\b")


def strip_comments(text):
    """Removes `# ...` comments outside strings and regular expressions."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"/":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def rule_items(text):
    items, current = [], []
    for line in strip_comments(text).split("\n"):
        if ITEM_START.match(line) and current:
            items.append(current)
            current = []
        current.append(line)
    if current:
        items.append(current)
    return [" ".join(" ".join(item).split()) for item in items if " ".join(item).strip()]


def excerpt(block_path, source):
    block = open(block_path, encoding="utf-8").read()
    problems = []
    if block_path.endswith(".rules"):
        files = [source]
        if os.path.isdir(source):
            files = sorted(os.path.join(source, f) for f in os.listdir(source) if f.endswith(".rules"))
        known = set()
        for f in files:
            known.update(rule_items(open(f, encoding="utf-8").read()))
        for item in rule_items(block):
            if item not in known:
                head = item if len(item) < 70 else item[:67] + "..."
                problems.append(f"not in {source} as written here: {head}")
    else:
        import yaml
        mine = yaml.safe_load(block)
        theirs = yaml.safe_load(open(source, encoding="utf-8"))
        tests = {t.get("name"): t for t in theirs.get("tests", [])}
        for key, value in mine.items():
            if key != "tests" and theirs.get(key) != value:
                problems.append(f"top-level key '{key}' differs from {source}")
        for t in mine.get("tests", []):
            if t.get("name") not in tests:
                problems.append(f"{source} has no test '{t.get('name')}'")
            elif tests[t["name"]] != t:
                problems.append(f"test '{t['name']}' differs from {source}")
    for p in problems:
        print(p)
    return 1 if problems else 0


def prose(page, rules_json):
    import json
    priorities = {r["name"]: r["priority"] for r in json.load(open(rules_json, encoding="utf-8"))}
    problems = 0
    in_block = False
    for lnum, line in enumerate(open(page, encoding="utf-8"), 1):
        if line.startswith("```"):
            in_block = not in_block
            continue
        if in_block:
            continue
        found = list(re.finditer(r"`([A-Za-z_][A-Za-z0-9_.-]*)` \((?:priority )?(-?\d+)\)", line))
        found += list(re.finditer(r"^\| `([A-Za-z_][A-Za-z0-9_.-]*)` \| (-?\d+) \|", line))
        for m in found:
            name, said = m.group(1), int(m.group(2))
            if name not in priorities:
                print(f"{page}:{lnum}: the prose names rule '{name}' (priority {said}), which no shipped rule is")
                problems += 1
            elif priorities[name] != said:
                print(f"{page}:{lnum}: the prose gives rule '{name}' priority {said}; it has {priorities[name]}")
                problems += 1
    return 1 if problems else 0


if sys.argv[1] == "prose":
    sys.exit(prose(sys.argv[2], sys.argv[3]))
if sys.argv[1] == "compare":
    sys.exit(compare(sys.argv[2], sys.argv[3]))
if sys.argv[1] == "excerpt":
    sys.exit(excerpt(sys.argv[2], sys.argv[3]))
sys.exit(f"unknown command {sys.argv[1]}")
