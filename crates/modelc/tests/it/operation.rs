//! `modelc run-operation`: a macro called with `--args`, whose `run_query` and
//! `statement` calls run against the database (DDL included), as in dbt.

use crate::support::{Fixture, PROJECT_YML};

const MACROS: &str = "\
{% macro copy_table(table, suffix='copy') %}
  {% do run_query('create or replace table ' ~ table ~ '_' ~ suffix ~ ' as select * from ' ~ table) %}
  {% set n = run_query('select count(*) as n from ' ~ table ~ '_' ~ suffix).columns[0].values()[0] %}
  {{ log('copied ' ~ n ~ ' rows', info=True) }}
{% endmacro %}
{% macro fails() %}{% do run_query('select * from nowhere_at_all') %}{% endmacro %}
{% macro drop_if_there(name) %}
  {% set rel = adapter.get_relation(database=target.database, schema=target.schema, identifier=name) %}
  {% if rel %}{% do adapter.drop_relation(rel) %}{{ log('dropped ' ~ rel, info=True) }}{% endif %}
{% endmacro %}
";

fn project() -> Fixture {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("seeds/orders.csv", "id\n1\n2\n3\n"),
        ("macros/ops.sql", MACROS),
    ]);
    assert_eq!(f.modelc(&["seed"]).code, 0);
    f
}

#[test]
fn run_operation_runs_a_macros_statements_with_its_args() {
    let f = project();
    let out = f.modelc(&[
        "run-operation",
        "copy_table",
        "--args",
        "{table: orders, suffix: backup}",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("copied 3 rows") || out.stdout.contains("copied 3 rows"),
        "{out:?}"
    );
    assert_eq!(
        f.query("select count(*) from orders_backup"),
        vec![vec!["3".to_string()]]
    );
    // The default argument.
    assert_eq!(
        f.modelc(&["run-operation", "copy_table", "--args", "{table: orders}"])
            .code,
        0
    );
    assert_eq!(f.query("select count(*) from orders_copy"), vec![vec!["3".to_string()]]);
}

/// The everyday clean-up operation: `adapter.drop_relation` on what
/// `adapter.get_relation` found drops it, a view as well as a table.
#[test]
fn run_operation_drops_relations() {
    let f = project();
    f.write("models/v.sql", "select * from {{ ref('orders') }}");
    assert_eq!(f.modelc(&["run"]).code, 0);
    for name in ["orders", "v", "not_there"] {
        let out = f.modelc(&["run-operation", "drop_if_there", "--args", &format!("{{name: {name}}}")]);
        assert_eq!(out.code, 0, "{out:?}");
    }
    assert_eq!(
        f.query("select count(*) from information_schema.tables where table_name in ('orders', 'v')"),
        vec![vec!["0".to_string()]]
    );
}

#[test]
fn run_operation_failures_exit_1_and_bad_usage_exits_2() {
    let f = project();
    let failed = f.modelc(&["run-operation", "fails"]);
    assert_eq!(failed.code, 1, "{failed:?}");
    assert!(
        failed
            .stderr
            .contains("Encountered an error while running operation fails"),
        "{}",
        failed.stderr
    );
    assert!(failed.stderr.contains("nowhere_at_all"), "{}", failed.stderr);
    let unknown = f.modelc(&["run-operation", "no_such_macro"]);
    assert_eq!(unknown.code, 1, "{unknown:?}");
    assert!(
        unknown.stderr.contains("no_such_macro is unknown"),
        "{}",
        unknown.stderr
    );
    let not_a_name = f.modelc(&["run-operation", "x; drop table orders"]);
    assert_eq!(not_a_name.code, 2, "{not_a_name:?}");
    let bad_args = f.modelc(&["run-operation", "copy_table", "--args", "[1, 2]"]);
    assert_eq!(bad_args.code, 2, "{bad_args:?}");
    assert!(
        bad_args.stderr.contains("--args must be a YAML mapping"),
        "{}",
        bad_args.stderr
    );
    assert_eq!(f.query("select count(*) from orders"), vec![vec!["3".to_string()]]);
}
