#!/usr/bin/env bash
# `lcrules test -o junit` is well-formed XML that CI systems can read, whatever the test names
# hold: parsed with Python's XML parser, its structure and names checked.
#   junit_valid.sh LCRULES_BINARY
set -eu
binary=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/lab.rules" <<'RULES'
rule lab {
  when context.name == "lab"
  set cluster = "lab"
  set local = true
}
RULES
# Names with markup, quotes, a control byte, a raw invalid byte and non-ASCII text.
printf '%s\n' \
  'shipped: false' \
  'tests:' \
  '  - {name: "a <b> & \"c\" '"'"'d'"'"'", context: lab, expect: {cluster: lab}}' \
  '  - {name: "bell \a tab \t é", context: lab, expect: {local: false}}' \
  >"$dir/lab.rules-test.yaml"
printf '  - {name: "raw \377 byte ]]> end", context: lab, expect: {cluster: "x<y&z"}}\n' >>"$dir/lab.rules-test.yaml"
status=0
env -i HOME="$dir" "$binary" test -o junit --coverage "$dir" >"$dir/out.xml" 2>"$dir/err" || status=$?
if [ "$status" != 1 ]; then
  echo "expected exit 1 (failing tests), got $status"; cat "$dir/err"; exit 1
fi
/usr/bin/python3 - "$dir/out.xml" "$dir/lab.rules-test.yaml" <<'PY'
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
test_file = sys.argv[2]
assert root.tag == "testsuites", root.tag
assert root.get("tests") == "3" and root.get("failures") == "2", root.attrib
suites = root.findall("testsuite")
assert [s.get("name") for s in suites] == [test_file], [s.get("name") for s in suites]
cases = suites[0].findall("testcase")
names = [c.get("name") for c in cases]
assert names == ["a <b> & \"c\" 'd'", "bell \\x07 tab \t é", "raw \\xff byte ]]> end"], names
assert all(c.get("file") == test_file and c.get("classname") == test_file for c in cases)
assert [c.get("line") for c in cases] == ["3", "4", "5"]
assert cases[0].find("failure") is None
failure = cases[2].find("failure")
assert failure is not None and failure.get("type") == "failure"
assert failure.get("message").startswith('cluster: expected "x<y&z", got "lab"'), failure.get("message")
assert 'expected "x<y&z"' in failure.text
print("junit output: valid XML,", len(cases), "test cases")
PY
