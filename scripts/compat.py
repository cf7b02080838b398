#!/usr/bin/env python3
"""Runs a dbt package's own integration-test project with modelc and compares each
node's outcome with dbt-duckdb's run_results.json for the same project.

    scripts/compat.py --modelc PATH/TO/modelc --project DIR --profiles-dir DIR \
        --dbt-results DBT_RUN_RESULTS.json [--db PATH] [--exclude SELECTOR ...]

Prints one line per node whose outcome differs, then a summary line:
`<pass under both> passed, <differences> failed`. The project must already have
its packages installed (`dbt_packages/`, as `dbt deps` leaves them).
Only the standard library is used.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

OK = {"success", "pass"}


def key(unique_id):
    # A generic test's id ends in a hash of its arguments that modelc computes
    # differently from dbt: tests are matched by name.
    if unique_id.startswith("test."):
        return unique_id.rsplit(".", 1)[0] if unique_id.count(".") >= 3 else unique_id
    return unique_id


def outcomes(path):
    with open(path) as f:
        results = json.load(f)["results"]
    return {key(r["unique_id"]): r["status"] for r in results}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--modelc", required=True)
    ap.add_argument("--project", required=True)
    ap.add_argument("--profiles-dir", required=True)
    ap.add_argument("--dbt-results", required=True)
    ap.add_argument("--db", help="database file for modelc (default: a fresh one in the project)")
    ap.add_argument("--exclude", nargs="*", default=[],
                    help="nodes modelc leaves out (what it cannot do fails the whole build before it runs)")
    ap.add_argument("--static-analysis", choices=["on", "off"], default="on",
                    help="off: build what the analysis would stop (SQL needing DuckDB's ICU, say) and let it fail as it runs")
    args = ap.parse_args()

    db = args.db or os.path.join(args.project, "modelc_compat.duckdb")
    for suffix in ("", ".wal"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    target = os.path.join(args.project, "target_modelc")
    # A run that stops before running writes no results: never read an old one.
    shutil.rmtree(target, ignore_errors=True)
    cmd = [args.modelc, "build", "--project-dir", args.project, "--profiles-dir", args.profiles_dir,
           "--db", db, "--target-path", target]
    if args.exclude:
        cmd += ["--exclude", *args.exclude]
    if args.static_analysis == "off":
        cmd += ["--static-analysis", "off"]
    started = time.time()
    run = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.time() - started
    results_path = os.path.join(target, "run_results.json")
    if not os.path.exists(results_path):
        print(run.stdout[-4000:])
        print(run.stderr[-4000:], file=sys.stderr)
        print(f"modelc build exited {run.returncode} before running anything")
        print(f"0 passed, {len(outcomes(args.dbt_results))} failed")
        return 1

    dbt = outcomes(args.dbt_results)
    ours = outcomes(results_path)
    # What was excluded on purpose is counted as not passing under modelc.
    same_ok = 0
    differences = []
    for uid in sorted(set(dbt) | set(ours)):
        d, m = dbt.get(uid, "absent"), ours.get(uid, "absent")
        if d in OK and m in OK:
            same_ok += 1
        elif (d in OK) != (m in OK) or d == "absent" or m == "absent":
            differences.append((uid, d, m))
    for uid, d, m in differences:
        print(f"{uid}\tdbt={d}\tmodelc={m}")
    print(f"modelc exit {run.returncode}, {elapsed:.1f} s; dbt ok {sum(s in OK for s in dbt.values())}/{len(dbt)}, "
          f"modelc ok {sum(s in OK for s in ours.values())}/{len(ours)}")
    print(f"{same_ok} passed, {len(differences)} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
