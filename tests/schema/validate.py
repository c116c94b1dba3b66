#!/usr/bin/python3
"""Validates lcrules' JSON output against its JSON Schemas (docs/schema/*.schema.json).

  validate.py SCHEMA_DIR schemas            every schema is a valid draft 2020-12 schema
  validate.py SCHEMA_DIR cli CASES_DIR      every CLI case whose stdout is JSON (-o json)
  validate.py SCHEMA_DIR serve CASES_DIR    every 200 answer of /v1/eval, /v1/rules, /v1/facts
  validate.py SCHEMA_DIR invalid DOCS_DIR   every NAME--why.json there is REJECTED by NAME's schema
  validate.py SCHEMA_DIR valid DOCS_DIR     every NAME--what.json there is accepted by NAME's schema

The CLI and service cases' golden files are byte for byte what lcrules prints (run_case.sh
and run_cases.sh compare them exactly), except for what run_case.sh masks: the numbers it
writes as N (durations, cache ages) are read as 0 here, and the placeholders of the version
cases' mask files (VERSION, COMMIT, X.Y.Z) as values of the shapes those masks matched.
"""
import json
import pathlib
import re
import sys

import jsonschema

# Subcommands whose `-o json` output has a schema, and which of them the cases must cover.
SCHEMAS = ("eval", "rules", "facts", "test", "check", "version")
NOT_YET_IN_CASES = ()  # every schema has a CLI case that prints its output
MASKED = [
    (re.compile(r'("(?:duration_ms|cache_age_seconds)"): N\b'), r"\1: 0"),
    (re.compile(r'("version"): "VERSION"'), r'\1: "0.0.0"'),
    (re.compile(r'("commit"): "COMMIT"'), r'\1: "' + "0" * 40 + '"'),
    (re.compile(r'": "X\.Y\.Z"'), r'": "0.0.0"'),
]


def load_schemas(schema_dir):
    schema_dir = pathlib.Path(schema_dir).resolve()
    store = {}
    for path in sorted(schema_dir.glob("*.schema.json")):
        store[path.as_uri()] = json.loads(path.read_text())
    validators = {}
    for name in SCHEMAS:
        path = schema_dir / f"{name}.schema.json"
        if path.as_uri() not in store:
            continue
        schema = store[path.as_uri()]
        # Relative references ("eval.schema.json#/$defs/decision") resolve against the
        # schema's own file, as for any reader that fetched it from its folder.
        resolver = jsonschema.RefResolver(base_uri=path.as_uri(), referrer=schema, store=store)
        validators[name] = jsonschema.Draft202012Validator(
            schema, resolver=resolver, format_checker=jsonschema.FormatChecker())
    return store, validators


def errors_of(validator, document):
    return sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))


def describe(error):
    # Under oneOf/anyOf, the alternative that came closest says more than "not valid under any".
    # (A wrong type under oneOf: [null, X] is the null alternative failing, rarely the point.)
    while error.context:
        candidates = [e for e in error.context if e.validator != "type"] or error.context
        error = jsonschema.exceptions.best_match(candidates)
    where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    message = error.message if len(error.message) <= 300 else error.message[:300] + "..."
    return f"{where}: {message}"


def subcommand_of(args):
    for arg in args:
        if arg in SCHEMAS or arg in ("serve", "completion"):
            return arg
    return None


def wants_json(args):
    for i, arg in enumerate(args):
        if arg in ("-o", "--output") and i + 1 < len(args) and args[i + 1] == "json":
            return True
        if arg in ("-ojson", "--output=json"):
            return True
    return False


def check_schemas(store):
    bad = 0
    for uri, schema in store.items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
            if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
                raise jsonschema.SchemaError("$schema is not draft 2020-12")
            print(f"ok {uri.rsplit('/', 1)[-1]}")
        except jsonschema.SchemaError as e:
            print(f"FAIL {uri}: {e.message}")
            bad += 1
    return bad


def check_document(label, validator, text):
    try:
        for pattern, value in MASKED:
            text = pattern.sub(value, text)
        document = json.loads(text)
    except json.JSONDecodeError as e:
        print(f"FAIL {label}: not JSON: {e}")
        return False
    errors = errors_of(validator, document)
    for e in errors:
        print(f"FAIL {label}: {describe(e)}")
    if not errors:
        print(f"ok {label}")
    return not errors


def check_cli(validators, cases_dir):
    bad, seen = 0, set()
    for case in sorted(pathlib.Path(cases_dir).iterdir()):
        args_file = case / "args"
        if not case.is_dir() or not args_file.exists():
            continue
        args = args_file.read_text().splitlines()
        sub = subcommand_of(args)
        stdout = (case / "stdout").read_text() if (case / "stdout").exists() else ""
        if not wants_json(args) or not stdout or sub not in validators:
            continue
        label = f"{case.name} ({sub}{' --explain' if '--explain' in args else ''} -o json)"
        bad += not check_document(label, validators[sub], stdout)
        seen.add(sub)
        if sub == "eval" and "--explain" in args:
            seen.add("eval --explain")
    for sub in [s for s in validators if s not in NOT_YET_IN_CASES] + ["eval --explain"]:
        if sub not in seen:
            print(f"FAIL no CLI case prints `{sub} -o json`: its schema is checked against nothing")
            bad += 1
    return bad


def check_serve(validators, cases_dir):
    bad, seen = 0, set()
    endpoints = {"/v1/eval": "eval", "/v1/rules": "rules", "/v1/facts": "facts"}
    for case in sorted(pathlib.Path(cases_dir).iterdir()):
        if not (case / "response").exists() or (case / "status").read_text().strip() != "200":
            continue
        method_target = (case / "request").read_text().splitlines()[0].split()
        path = method_target[1].split("?", 1)[0]
        if path not in endpoints:
            continue
        sub = endpoints[path]
        bad += not check_document(f"{case.name} ({' '.join(method_target)})", validators[sub],
                                  (case / "response").read_text())
        seen.add(sub)
    for sub in endpoints.values():
        if sub not in seen:
            print(f"FAIL no service case answers with `{sub} -o json`")
            bad += 1
    return bad


def check_examples(validators, docs_dir, should_pass):
    bad = 0
    docs = sorted(pathlib.Path(docs_dir).glob("*.json"))
    for doc in docs:
        name = doc.name.split("--", 1)[0]
        if name not in validators:
            print(f"FAIL {doc.name}: no schema {name}.schema.json (name files SCHEMA--WHAT.json)")
            bad += 1
            continue
        errors = errors_of(validators[name], json.loads(doc.read_text()))
        if should_pass and not errors:
            print(f"ok {doc.name}")
        elif should_pass:
            for e in errors:
                print(f"FAIL {doc.name}: {describe(e)}")
            bad += 1
        elif errors:
            print(f"ok {doc.name} rejected: {describe(errors[0])}")
        else:
            print(f"FAIL {doc.name}: the {name} schema accepts it")
            bad += 1
    for name in validators:
        if not any(d.name.startswith(name + "--") for d in docs):
            kind = "valid" if should_pass else "invalid"
            print(f"FAIL no {kind} document for the {name} schema in {docs_dir}")
            bad += 1
    return bad


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    store, validators = load_schemas(argv[1])
    if not validators:
        print(f"no schemas in {argv[1]}")
        return 1
    mode = argv[2]
    if mode == "schemas":
        bad = check_schemas(store)
    elif mode == "cli":
        bad = check_cli(validators, argv[3])
    elif mode == "serve":
        bad = check_serve(validators, argv[3])
    elif mode in ("invalid", "valid"):
        bad = check_examples(validators, argv[3], mode == "valid")
    else:
        print(__doc__)
        return 2
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
