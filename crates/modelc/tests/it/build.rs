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
