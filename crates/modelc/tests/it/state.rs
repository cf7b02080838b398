//! `--state`: `state:modified` (and its kinds), `state:new` and `result:` selection
//! against a previous invocation's artifacts, as dbt's CI jobs use them.

use crate::support::{Fixture, PROJECT_YML};

fn names(f: &Fixture, args: &[&str]) -> Vec<String> {
    let mut full = vec!["ls", "--output", "name"];
    full.extend_from_slice(args);
    let out = f.modelc(&full);
    assert_eq!(out.code, 0, "{out:?}");
    let mut names: Vec<String> = out.stdout.lines().map(str::to_string).collect();
    names.sort();
    names
}

#[test]
fn state_selection_compares_with_a_previous_manifest() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("macros/twice.sql", "{% macro twice(x) %}{{ x }} * 2{% endmacro %}"),
        ("models/a.sql", "select 1 as v"),
        ("models/b.sql", "select v from {{ ref('a') }}"),
        ("models/c.sql", "select {{ twice('v') }} as v from {{ ref('a') }}"),
        ("models/d.sql", "select v from {{ ref('b') }}"),
        ("models/broken.sql", "select * from nowhere_at_all"),
    ]);
    assert_eq!(f.modelc(&["run"]).code, 1, "broken fails");
    let state = f.path().join("prod-artifacts");
    std::fs::create_dir_all(&state).expect("mkdir");
    for file in ["manifest.json", "run_results.json"] {
        std::fs::copy(f.path().join("target").join(file), state.join(file)).expect("copy");
    }
    let state = state.to_string_lossy().into_owned();

    // Nothing changed yet.
    assert!(names(&f, &["-s", "state:modified", "--state", &state]).is_empty());

    f.write("models/a.sql", "select 2 as v");
    f.write(
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: b\n    config:\n      materialized: table\n",
    );
    f.write(
        "macros/twice.sql",
        "{% macro twice(x) %}{{ x }} + {{ x }}{% endmacro %}",
    );
    f.write("models/e.sql", "select 5 as v");
    assert_eq!(names(&f, &["-s", "state:modified", "--state", &state]), ["a", "b", "c"]);
    assert_eq!(names(&f, &["-s", "state:modified.body", "--state", &state]), ["a"]);
    assert_eq!(names(&f, &["-s", "state:modified.configs", "--state", &state]), ["b"]);
    assert_eq!(names(&f, &["-s", "state:modified.macros", "--state", &state]), ["c"]);
    assert_eq!(names(&f, &["-s", "state:new", "--state", &state]), ["e"]);
    assert_eq!(
        names(&f, &["-s", "state:modified+", "state:new", "--state", &state]),
        ["a", "b", "c", "d", "e"]
    );
    assert_eq!(names(&f, &["-s", "result:error", "--state", &state]), ["broken"]);

    let without = f.modelc(&["ls", "-s", "state:modified"]);
    assert_eq!(without.code, 2, "{without:?}");
    assert!(without.stderr.contains("--state"), "{}", without.stderr);
}

/// `source_status:fresher` compares this run's `source freshness` with the
/// state's: a source loaded since is selected (with `+`, what reads it), one
/// unchanged is not, and without freshness results the selection says so.
#[test]
fn source_status_fresher_selects_sources_loaded_since_the_state() {
    let sources = "version: 2\nsources:\n  - name: raw\n    schema: main\n    loaded_at_field: loaded_at\n    freshness:\n      warn_after: {count: 3650, period: day}\n    tables:\n      - name: a\n      - name: b\n";
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("models/sources.yml", sources),
        ("models/from_a.sql", "select * from {{ source('raw', 'a') }}"),
        ("models/from_b.sql", "select * from {{ source('raw', 'b') }}"),
        ("seeds/a.csv", "id,loaded_at\n1,2026-01-01 00:00:00\n"),
        ("seeds/b.csv", "id,loaded_at\n1,2026-01-01 00:00:00\n"),
    ]);
    assert_eq!(f.modelc(&["seed"]).code, 0);
    let state = f.path().join("prod-artifacts");
    std::fs::create_dir_all(&state).expect("mkdir");
    let state_arg = state.to_string_lossy().into_owned();
    assert_eq!(f.modelc(&["compile"]).code, 0);
    std::fs::copy(f.path().join("target/manifest.json"), state.join("manifest.json")).expect("copy");
    let missing = f.modelc(&["ls", "-s", "source_status:fresher", "--state", &state_arg]);
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(missing.stderr.contains("sources.json"), "{}", missing.stderr);

    assert_eq!(f.modelc(&["source", "freshness"]).code, 0);
    std::fs::copy(f.path().join("target/sources.json"), state.join("sources.json")).expect("copy");
    // Nothing was loaded since.
    assert!(names(&f, &["-s", "source_status:fresher+", "--state", &state_arg]).is_empty());
    // `a` gets a newer row.
    f.write(
        "seeds/a.csv",
        "id,loaded_at\n1,2026-01-01 00:00:00\n2,2026-02-01 00:00:00\n",
    );
    assert_eq!(f.modelc(&["seed", "-s", "a"]).code, 0);
    assert_eq!(f.modelc(&["source", "freshness"]).code, 0);
    assert_eq!(
        names(&f, &["-s", "source_status:fresher+", "--state", &state_arg]),
        ["from_a", "raw.a"]
    );
}

/// `--defer --state`: a selected model's ref to a model left out of the selection
/// reads the state's relation where this environment has not built it (always,
/// with `--favor-state`): a schema of the same file, or another DuckDB file
/// attached read-only (dbt-duckdb's `attach:`).
#[test]
fn defer_reads_unselected_parents_from_the_states_environment() {
    let profiles = "shop:
  target: dev
  outputs:
    dev: {type: duckdb, path: shop.duckdb, schema: dev}
    prod: {type: duckdb, path: shop.duckdb, schema: prod}
    prod_file: {type: duckdb, path: prod.duckdb, schema: main}
    dev_file:
      type: duckdb
      path: dev.duckdb
      schema: main
      attach:
        - {path: prod.duckdb, read_only: true}
";
    let f = Fixture::new(&[
        ("project.yml", "name: shop\nprofile: shop\n"),
        ("profiles.yml", profiles),
        (
            "models/parent.sql",
            "{{ config(materialized='table') }}\nselect '{{ target.name }}' as env\n",
        ),
        (
            "models/child.sql",
            "{{ config(materialized='table') }}\nselect env from {{ ref('parent') }}\n",
        ),
        (
            // Rendered when it runs (it asks the database), with the deferred relation.
            "models/late_child.sql",
            "{{ config(materialized='table') }}\n\
             {% set seen = run_query('select env from ' ~ ref('parent')).rows[0][0] if execute else '' %}\n\
             select '{{ seen }}' as seen, env from {{ ref('parent') }}\n",
        ),
    ]);
    let run = |args: &[&str]| {
        let out = f.modelc(args);
        assert_eq!(out.code, 0, "{args:?}: {}\n{}", out.stdout, out.stderr);
        out
    };
    let dir = |name: &str| f.path().join(name).to_string_lossy().into_owned();
    let (prod_state, prod_file_state, not_state) = (dir("prod-state"), dir("prod-file-state"), dir("not-state"));
    let env = |db: &str, rel: &str| crate::support::query(&f.path().join(db), &format!("select env from {rel}"));
    run(&["build", "--target", "prod", "--target-path", &prod_state]);

    // The parent was never built in dev: the child reads prod's.
    let out = run(&["run", "-s", "child", "--defer", "--state", &prod_state]);
    assert!(
        out.stdout
            .contains(&format!(r#"Deferred to {prod_state}: "shop"."prod"."parent""#)),
        "{}",
        out.stdout
    );
    assert_eq!(env("shop.duckdb", "dev.child"), [["prod"]]);
    run(&["run", "-s", "late_child", "--defer", "--state", &prod_state]);
    assert_eq!(
        crate::support::query(&f.path().join("shop.duckdb"), "select seen, env from dev.late_child"),
        [["prod", "prod"]]
    );
    // Once dev has its own parent, that one is read, unless --favor-state.
    run(&["run", "-s", "parent"]);
    run(&["run", "-s", "child", "--defer", "--state", &prod_state]);
    assert_eq!(env("shop.duckdb", "dev.child"), [["dev"]]);
    run(&["run", "-s", "child", "--defer", "--favor-state", "--state", &prod_state]);
    assert_eq!(env("shop.duckdb", "dev.child"), [["prod"]]);

    // Production in another file, attached read-only to dev's.
    run(&["build", "--target", "prod_file", "--target-path", &prod_file_state]);
    run(&[
        "run",
        "-s",
        "child",
        "--target",
        "dev_file",
        "--defer",
        "--state",
        &prod_file_state,
    ]);
    assert_eq!(env("dev.duckdb", "main.child"), [["prod_file"]]);

    // What cannot be deferred is an error before anything runs.
    let out = f.modelc(&["run", "-s", "child", "--defer"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("--defer reads the relations of another environment"),
        "{}",
        out.stderr
    );
    f.write("not-state/manifest.json", r#"{"results": []}"#);
    let out = f.modelc(&["run", "-s", "child", "--defer", "--state", &not_state]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("manifest.json is not a dbt manifest"),
        "{}",
        out.stderr
    );
}
