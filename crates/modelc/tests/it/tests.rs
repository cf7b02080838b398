//! Data tests: generic and singular, severities, thresholds, store_failures.

use crate::support::{table, Fixture, PROJECT_YML};

fn fixture() -> Fixture {
    Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("seeds/orders.csv", "id,status,customer_id\n1,paid,1\n2,paid,2\n2,open,9\n4,weird,\n"),
        ("seeds/customers.csv", "id\n1\n2\n"),
        ("tests/generic/positive.sql", "{% test positive(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} <= 0\n{% endtest %}"),
        ("tests/no_weird_orders.sql", "select * from {{ ref('orders') }} where status = 'weird'"),
        ("seeds/schema.yml", "version: 2\nseeds:\n  - name: orders\n    columns:\n      - name: id\n        data_tests:\n          - unique\n          - not_null\n          - positive\n      - name: status\n        data_tests:\n          - accepted_values:\n              arguments:\n                values: [paid, open]\n              config:\n                severity: warn\n      - name: customer_id\n        data_tests:\n          - not_null:\n              config:\n                where: \"status = 'paid'\"\n          - relationships:\n              arguments:\n                to: ref('customers')\n                field: id\n              config:\n                store_failures: true\n                error_if: '>5'\n                warn_if: '>0'\n"),
    ])
}

#[test]
fn tests_pass_warn_and_fail() {
    let f = fixture();
    assert_eq!(f.modelc(&["seed"]).code, 0);
    let out = f.modelc(&["test", "--threads", "1"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    insta::assert_snapshot!(out.redacted(f.path()));
    // Every compiled file a message names is there; a passing generic test's file
    // is written only when asked for (`compile -s`), which prints its SQL too.
    let named: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("compiled SQL: "))
        .collect();
    assert_eq!(named.len(), 4, "{}", out.stdout);
    for path in named {
        assert!(f.path().join(path).is_file(), "{path}");
    }
    let passed = f
        .path()
        .join("target/compiled/shop/seeds/schema.yml/not_null_orders_id.sql");
    assert!(!passed.exists());
    let out = f.modelc(&["compile", "-s", "not_null_orders_id"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("where id is null"), "{}", out.stdout);
    let written = std::fs::read_to_string(&passed).expect("written by compile -s");
    assert_eq!(written.trim_end(), out.stdout.trim_end());
    // store_failures kept the failing rows of the relationships test.
    let stored =
        f.query("select from_field from main_dbt_test__audit.relationships_orders_customer_id__id__ref_customers_");
    assert_eq!(table(&stored), "9");
}

#[test]
fn store_failures_flag_and_selection() {
    let f = fixture();
    assert_eq!(f.modelc(&["seed"]).code, 0);
    let out = f.modelc(&["test", "-s", "test_name:unique", "--store-failures"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        table(&f.query("select unique_field, n_records from main_dbt_test__audit.unique_orders_id")),
        "2 | 2"
    );
    let out = f.modelc(&["test", "-s", "test_type:singular"]);
    assert!(out.stdout.contains("no_weird_orders"), "{}", out.stdout);
    assert!(!out.stdout.contains("unique_orders_id"), "{}", out.stdout);
}
