#!/usr/bin/env python3
"""Records what dbt compiles each cross-database macro sample to on PostgreSQL.

crates/modelc-template/tests/data/crossdb.json holds sample calls with dbt-duckdb's
output (`dbt_duckdb`). This script compiles every sample with dbt-core and
dbt-postgres (1.10) against a running PostgreSQL and stores the result, whitespace
collapsed, as `dbt_postgres`; the crossdb test then checks that modelc renders
the same on a postgres target.

    pip install 'dbt-core~=1.10.0' 'dbt-postgres~=1.10.0'
    scripts/crossdb_reference.py --host 127.0.0.1 --port 5432 --user postgres --password ...

Samples whose value dbt asks the database for (get_intervals_between, date_spine)
are skipped, as in the DuckDB test.
"""

import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "crates/modelc-template/tests/data/crossdb.json"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5432)
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--password", default="")
    ap.add_argument("--dbname", default="postgres")
    ap.add_argument("--dbt", default="dbt")
    args = ap.parse_args()

    samples = json.loads(DATA.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        (root / "dbt_project.yml").write_text(
            "name: crossdb\nversion: '1.0'\nconfig-version: 2\nprofile: crossdb\n"
        )
        (root / "profiles.yml").write_text(
            "crossdb:\n  target: pg\n  outputs:\n    pg:\n      type: postgres\n"
            f"      host: {args.host}\n      port: {args.port}\n      user: {args.user}\n"
            f"      password: '{args.password}'\n      dbname: {args.dbname}\n      schema: public\n      threads: 1\n"
        )
        models = root / "models"
        models.mkdir()
        wanted = [s for s in samples if not s["id"].startswith(("get_intervals_between", "date_spine"))]
        for s in wanted:
            (models / f"s_{s['id']}.sql").write_text(s["call"] + "\n")
        # A sample dbt-postgres refuses is recorded with dbt's message, and taken
        # out of the project for the next attempt.
        errors = {}
        while True:
            done = subprocess.run(
                [args.dbt, "compile", "--profiles-dir", str(root), "--project-dir", str(root)],
                capture_output=True,
                text=True,
            )
            if done.returncode == 0:
                break
            failed = re.search(r"Compilation Error in model s_(\w+) ", done.stdout)
            if not failed:
                print(done.stdout, done.stderr, file=sys.stderr)
                return 1
            sample = failed.group(1)
            message = done.stdout[failed.end():].strip().splitlines()[1].strip()
            errors[sample] = message
            (models / f"s_{sample}.sql").unlink()
        compiled = root / "target/compiled/crossdb/models"
        for s in wanted:
            if s["id"] in errors:
                s["dbt_postgres_error"] = errors[s["id"]]
                continue
            sql = (compiled / f"s_{s['id']}.sql").read_text()
            s["dbt_postgres"] = " ".join(sql.split())
    DATA.write_text(json.dumps(samples, indent=1, ensure_ascii=False) + "\n")
    print(f"recorded {len(wanted)} samples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
