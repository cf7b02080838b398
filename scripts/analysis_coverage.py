#!/usr/bin/env python3
"""How much of a project modelc's static analysis understands, from the
`target/lineage.json` that `modelc docs` writes:

    modelc docs --project-dir DIR && scripts/analysis_coverage.py DIR/target/lineage.json [DIR/target/catalog.json]

Each model is *fully analysed* when every output column is known, with its
upstream columns and its type; *partly analysed* when its columns are known but
some lineage or type is not; *not analysed* when its columns are unknown (SQL the
parser cannot read, a `*` over a relation whose columns are unknown). Prints one
line per class, then the models partly or not analysed with the first reason.
Given the `catalog.json` of a built database, also checks every inferred type
against the built column's and prints those that differ (there should be none).
Only the standard library is used.
"""

import json
import sys


def main():
    with open(sys.argv[1]) as f:
        graph = json.load(f)
    classes = {"fully": [], "partly": [], "not": []}
    for node in graph["nodes"]:
        if node.get("resource_type") != "model":
            continue
        cols = node.get("columns") or []
        if not cols or any(c["name"] == "*" for c in cols):
            reason = next((c.get("unresolved") for c in cols if c.get("unresolved")), "no columns known")
            classes["not"].append((node["name"], reason))
        elif all(not c.get("unresolved") and c.get("data_type") for c in cols):
            classes["fully"].append((node["name"], ""))
        else:
            untyped = [c["name"] for c in cols if not c.get("data_type")]
            unresolved = [c.get("unresolved") for c in cols if c.get("unresolved")]
            reason = unresolved[0] if unresolved else f"type unknown: {', '.join(untyped[:3])}"
            classes["partly"].append((node["name"], reason))
    total = sum(len(v) for v in classes.values())
    for name, models in classes.items():
        print(f"{name} analysed: {len(models)} of {total}")
    for name in ("partly", "not"):
        for model, reason in classes[name]:
            print(f"  {name}: {model}: {reason}")
    if len(sys.argv) > 2:
        check_types(graph, sys.argv[2])


def check_types(graph, catalog_path):
    with open(catalog_path) as f:
        catalog = json.load(f)
    typed = wrong = 0
    for node in graph["nodes"]:
        built = catalog["nodes"].get(node["id"])
        if not built:
            continue
        types = {k.lower(): v["type"] for k, v in built["columns"].items()}
        for col in node.get("columns") or []:
            if not col.get("data_type"):
                continue
            typed += 1
            if types.get(col["name"].lower()) != col["data_type"]:
                wrong += 1
                print(f"  wrong type: {node['id']}.{col['name']}: inferred {col['data_type']}, built {types.get(col['name'].lower())}")
    print(f"inferred types checked against the database: {typed}, wrong: {wrong}")


if __name__ == "__main__":
    main()
