#!/usr/bin/env python3
"""Generates Sources/WindlassManifest/Validation/KubernetesSchemas.swift from the JSON schemas
that the PyPI package kubernetes-validate ships (Apache-2.0), one `_definitions.json` per
Kubernetes version.

Usage:
  pip download kubernetes-validate==1.37.0 --no-deps -d /tmp/kv && unzip -q /tmp/kv/*.whl -d /tmp/kv
  scripts/generate-kubernetes-schemas.py /tmp/kv/kubernetes_validate/kubernetes-json-schema 27 37 \
      [OPENAPI_V3_DIR] > Sources/WindlassManifest/Validation/KubernetesSchemas.swift

Those JSON schemas carry no `enum`s; Kubernetes' OpenAPI v3 documents do. With OPENAPI_V3_DIR
(Kubernetes' own v3 documents, e.g. kubernetes/kubectl's testdata), their enums are added where
the two agree on a field.

Every built-in group is kept. The definitions of all versions are merged, the newest winning
(so a kind removed later keeps its last schema), without descriptions, in the OpenAPI v3
`components.schemas` shape the validator reads (`type: [X, "null"]` becomes `type: X`, `$ref`s
point at `#/components/schemas/`). Beside them, the range of minor versions that serve each
group-version-kind, for `--kubernetes-version`.
"""
import json
import os
import sys

# Keys of a schema object that the validator or later modules use; everything else is dropped.
KEPT = {
    "type", "format", "properties", "additionalProperties", "items", "required", "enum",
    "allOf", "oneOf", "anyOf", "$ref", "default",
    "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-group-version-kind", "x-kubernetes-patch-merge-key",
    "x-kubernetes-patch-strategy", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type", "x-kubernetes-embedded-resource",
}


def normalized(schema):
    """JSON Schema's spellings as OpenAPI v3 writes them."""
    if isinstance(schema, list):
        return [normalized(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, list):
            kinds = [kind for kind in value if kind != "null"]
            value = kinds[0] if len(kinds) == 1 else kinds
        elif key == "$ref" and isinstance(value, str):
            value = value.replace("#/$defs/", "#/components/schemas/")
        out[key] = normalized(value)
    return out


def strip(schema):
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key not in KEPT:
            continue
        if key == "properties":
            out[key] = {name: strip(s) for name, s in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = strip(value) if isinstance(value, dict) else value
        elif key in ("allOf", "oneOf", "anyOf"):
            out[key] = [strip(s) for s in value]
        else:
            out[key] = value
    return out


def add_enums(target, source):
    """Copies `enum` from an OpenAPI v3 schema into the same field of a merged one."""
    if not isinstance(target, dict) or not isinstance(source, dict):
        return 0
    added = 0
    if "enum" in source and "enum" not in target and target.get("type") == source.get("type", "string"):
        target["enum"] = source["enum"]
        added += 1
    for name, child in source.get("properties", {}).items():
        added += add_enums(target.get("properties", {}).get(name), child)
    added += add_enums(target.get("items"), source.get("items"))
    return added


def is_object_kind(schema):
    """A kind that is stored or applied: it has apiVersion, kind and metadata."""
    properties = schema.get("properties", {})
    return all(name in properties for name in ("apiVersion", "kind", "metadata"))


def main():
    directory, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    schemas = {}
    served = {}
    for minor in range(first, last + 1):
        path = os.path.join(directory, f"v1.{minor}.0-local", "_definitions.json")
        definitions = json.load(open(path))["$defs"]
        for name, schema in definitions.items():
            schemas[name] = strip(normalized(schema))
            if not is_object_kind(schema):
                continue
            for gvk in schema.get("x-kubernetes-group-version-kind", []):
                api = gvk["version"] if not gvk["group"] else gvk["group"] + "/" + gvk["version"]
                key = api + "/" + gvk["kind"]
                low, high = served.get(key, (minor, minor))
                served[key] = (min(low, minor), max(high, minor))
    enums = 0
    if len(sys.argv) > 4:
        for path in sorted(os.listdir(sys.argv[4])):
            if path.endswith(".json"):
                for name, schema in json.load(open(os.path.join(sys.argv[4], path)))["components"]["schemas"].items():
                    enums += add_enums(schemas.get(name), strip(schema))
        print(f"{enums} enums added from {sys.argv[4]}", file=sys.stderr)
    text = json.dumps(schemas, separators=(",", ":"), sort_keys=True)
    kinds = json.dumps({key: list(span) for key, span in sorted(served.items())}, separators=(",", ":"))
    assert '"##' not in text and '"##' not in kinds
    print("// Generated by scripts/generate-kubernetes-schemas.py; do not edit.")
    print("//")
    print(f"// The schemas of every built-in kind of Kubernetes 1.{first} to 1.{last}, without their")
    print("// descriptions, from the JSON schemas of the PyPI package kubernetes-validate 1.37.0")
    print("// (Apache-2.0; the schemas are Kubernetes' own OpenAPI, Copyright The Kubernetes Authors).")
    print("// Enums from Kubernetes' OpenAPI v3 documents (kubernetes/kubectl testdata, Apache-2.0).")
    print("// See docs/third-party.md.")
    print()
    print(f"/// The minor versions the schemas cover: Kubernetes 1.{first} to 1.{last}.")
    print(f"let kubernetesSchemaVersions = {first}...{last}")
    print()
    print("/// `components.schemas`, the definitions of every version merged (the newest wins), as")
    print("/// compact JSON.")
    print('let kubernetesSchemasJSON = ##"' + text + '"##')
    print()
    print("/// `apiVersion/Kind` → the first and last minor version that serves it.")
    print('let kubernetesServedKindsJSON = ##"' + kinds + '"##')


main()
