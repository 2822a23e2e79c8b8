#!/usr/bin/env python3
"""Checks an OpenAPI document with validators that are not ours.

usage: check_openapi.py OPENAPI_JSON GOLDEN_DIR

1. openapi-spec-validator: the document is valid OpenAPI 3.1.
2. jsonschema (Draft 2020-12): every golden body GOLDEN_DIR/<type>/<version>.json
   is valid against the document's webhook `<type>.<version>`, and the same
   body without its first required field is not (the schema is not vacuous).
Prints one line of counts; exits 1 naming each failure.
"""
import json
import pathlib
import sys

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


def main() -> int:
    doc_path, golden = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    doc = json.loads(doc_path.read_text())
    validate(doc)
    uri = "urn:hubhooks:openapi"
    registry = Registry().with_resource(uri, Resource.from_contents(doc, DRAFT202012))
    failures, checked = [], 0
    for name, item in sorted(doc["webhooks"].items()):
        event_type, version = name.split(".")
        body_path = golden / event_type / f"{version}.json"
        if not body_path.exists():
            failures.append(f"{name}: no golden body {body_path}")
            continue
        ref = item["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        validator = Draft202012Validator({"$ref": uri + ref}, registry=registry)
        body = json.loads(body_path.read_text())
        errors = [e.message for e in validator.iter_errors(body)]
        if errors:
            failures.append(f"{name}: {errors[:3]}")
        schema = registry.resolver().lookup(uri + ref).contents
        required = schema.get("required", [])
        if not required:
            failures.append(f"{name}: the schema requires nothing")
        else:
            broken = {k: v for k, v in body.items() if k != required[0]}
            if validator.is_valid(broken):
                failures.append(f"{name}: valid without `{required[0]}`")
        checked += 1
    for f in failures:
        print(f"check_openapi: {f}", file=sys.stderr)
    if failures:
        return 1
    print(f"valid OpenAPI 3.1; {len(doc['paths'])} paths; {checked} webhooks, each golden body valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
