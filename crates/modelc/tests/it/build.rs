//! `build`: seeds, models, snapshots and tests in DAG order; a failing test skips
//! exactly the descendants of the node it tests.

use crate::support::{table, Fixture, PROJECT_YML};

#[test]
fn a_failing_test_skips_exactly_the_downstream_nodes() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("seeds/orders.csv", "id,amount\n1,10\n1,20\n"),
        ("models/stg_orders.sql", "select * from {{ ref('orders') }}"),
        ("models/other.sql", "select 1 as x"),
        ("models/other_child.sql", "select * from {{ ref('other') }}"),
        ("models/totals.sql", "select sum(amount) as total from {{ ref('stg_orders') }}"),
        ("models/report.sql", "select * from {{ ref('totals') }}"),
        ("models/schema.yml", "version: 2\nmodels:\n  - name: stg_orders\n    columns:\n      - name: id\n        data_tests: [unique]\n  - name: totals\n    columns:\n      - name: total\n        data_tests: [not_null]\n"),
    ]);
    let out = f.modelc(&["build", "--threads", "1"]);
    assert_eq!(out.code, 1);
    insta::assert_snapshot!(out.redacted(f.path()));
    let built =
        table(&f.query("select table_name from information_schema.tables where table_catalog = 'shop' order by 1"));
    assert_eq!(built, "orders\nother\nother_child\nstg_orders");
    // With a warn severity the same build goes through.
    f.write("models/schema.yml", "version: 2\nmodels:\n  - name: stg_orders\n    columns:\n      - name: id\n        data_tests:\n          - unique:\n              config:\n                severity: warn\n");
    let out = f.modelc(&["build"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(table(&f.query("select total from main.report")), "30");
}

/// `retry` runs again what the last build left undone (errors and the nodes they
/// skipped), with its command, and nothing that succeeded.
#[test]
fn retry_reruns_the_errors_and_skips_of_the_last_build() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("models/good.sql", "{{ config(materialized='table') }}\nselect 1 as v"),
        (
            "models/bad.sql",
            "{{ config(materialized='table') }}\nselect * from {{ var('from', 'nowhere_yet') }}",
        ),
        ("models/after_bad.sql", "select * from {{ ref('bad') }}"),
    ]);
    let nothing = f.modelc(&["retry"]);
    assert_eq!(nothing.code, 2, "no run_results.json yet: {nothing:?}");
    let first = f.modelc(&["build"]);
    assert_eq!(first.code, 1, "{first:?}");
    // The cause is fixed; retry runs `bad` and `after_bad`, not `good`.
    f.write("models/bad.sql", "{{ config(materialized='table') }}\nselect 2 as v");
    let retry = f.modelc(&["retry"]);
    assert_eq!(retry.code, 0, "{retry:?}");
    assert!(
        retry.stdout.contains("Retrying 2 node(s) of the last build"),
        "{}",
        retry.stdout
    );
    assert!(
        retry.stdout.contains("PASS=2") && retry.stdout.contains("TOTAL=2"),
        "{}",
        retry.stdout
    );
    assert!(!retry.stdout.contains("main.good"), "{}", retry.stdout);
    assert_eq!(f.query("select v from after_bad"), vec![vec!["2".to_string()]]);
    let again = f.modelc(&["retry"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("Nothing to retry"), "{}", again.stdout);
}

/// `on-run-end` hooks see dbt's `results` (each node's `node`, `status`, ...)
/// and `schemas`, rendered when the run ends, after a failure too.
#[test]
fn on_run_end_hooks_see_the_runs_results_and_schemas() {
    let project = r#"name: shop
duckdb:
  path: shop.duckdb
on-run-end:
  - "create or replace table main.run_log as select * from (values {% for r in results %}('{{ r.node.name }}', '{{ r.status }}', '{{ r.node.schema }}'){{ ',' if not loop.last }}{% endfor %}) t(name, status, schema)"
  - "create or replace table main.schemas_seen as select unnest([{% for s in schemas %}'{{ s }}'{{ ',' if not loop.last }}{% endfor %}]) as schema"
"#;
    let f = Fixture::new(&[
        ("project.yml", project),
        ("models/a.sql", "{{ config(materialized='table') }}\nselect 1 as x\n"),
        ("models/b.sql", "{{ config(schema='other') }}\nselect 2 as x\n"),
        (
            "models/c.sql",
            "{{ config(materialized='table') }}\nselect * from {{ ref('a') }} where cast('x' as integer) = x\n",
        ),
    ]);
    let out = f.modelc(&["run"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        table(&f.query("select name, status, schema from main.run_log order by name")),
        "a | success | main\nb | success | main_other\nc | error | main"
    );
    assert_eq!(
        table(&f.query("select schema from main.schemas_seen order by 1")),
        "main\nmain_other"
    );
}

/// An error the analysis finds in a model stops a command that selects it, and
/// only those: as dbt compiles only what it runs, `--select`/`--exclude` that leave
/// the model out run the rest, with the error shown as a warning.
#[test]
fn analysis_errors_stop_only_the_commands_that_select_their_nodes() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("models/good.sql", "select 1 as v"),
        ("models/bad.sql", "select nope from {{ ref('good') }}"),
        ("models/after_bad.sql", "select * from {{ ref('bad') }}"),
    ]);
    let built =
        || table(&f.query("select table_name from information_schema.tables where table_catalog = 'shop' order by 1"));
    for args in [
        &["build"][..],
        &["run", "-s", "bad"],
        &["run", "-s", "good+"],
        &["run", "--exclude", "after_bad"],
    ] {
        let out = f.modelc(args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains("models/bad.sql:1:8"), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("nothing was run"), "{args:?}: {}", out.stderr);
    }
    assert_eq!(built(), "", "nothing was built");
    for args in [&["run", "-s", "good"][..], &["build", "--exclude", "bad+"]] {
        let out = f.modelc(args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        assert!(out.stderr.contains("in nodes not selected"), "{args:?}: {}", out.stderr);
        assert!(!out.stderr.contains("nothing was run"), "{args:?}: {}", out.stderr);
    }
    assert_eq!(built(), "good");
    // A compile of the selection prints its SQL.
    let out = f.modelc(&["compile", "-s", "good"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("select 1 as v"), "{}", out.stdout);
}
