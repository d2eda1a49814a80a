"""Validates custom resources offline against their CRD's openAPIV3Schema, as the API server
would with strict field validation (`kubectl apply --validate=strict`): unknown fields are
errors, like kubernetes-validate --strict does for built-in kinds.

usage: validate-crd.py SCHEMA.json API_VERSION KIND FILE...
Each YAML document of KIND in FILE is checked; a file without one is an error too.
"""

import json
import sys

import jsonschema
import yaml


def strict(schema):
    """Every object schema that lists its properties refuses others, unless the CRD keeps
    unknown fields on purpose (x-kubernetes-preserve-unknown-fields) or says what they are."""
    if isinstance(schema, dict):
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        for value in schema.values():
            strict(value)
    elif isinstance(schema, list):
        for item in schema:
            strict(item)
    return schema


def main(argv):
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    schema_path, api_version, kind, files = argv[1], argv[2], argv[3], argv[4:]
    with open(schema_path) as f:
        schema = strict(json.load(f))
    schema.pop("$comment", None)
    validator = jsonschema.Draft7Validator(schema)
    failed = False
    for path in files:
        with open(path) as f:
            documents = [d for d in yaml.safe_load_all(f) if d]
        found = [d for d in documents if d.get("kind") == kind and d.get("apiVersion") == api_version]
        if not found:
            print(f"{path}: no {api_version} {kind} in the file", file=sys.stderr)
            failed = True
        for document in found:
            name = document.get("metadata", {}).get("name", "?")
            for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
                where = ".".join(str(p) for p in error.absolute_path) or "(document)"
                print(f"{path}: {kind} {name}: {where}: {error.message}", file=sys.stderr)
                failed = True
    if not failed:
        print(f"{', '.join(files)}: {kind} valid against {schema_path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
