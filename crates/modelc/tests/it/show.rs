//! `modelc show`: previews of a model's rows and of inline SQL, as `dbt show`
//! prints them, without building anything.

use crate::support::{Fixture, PROJECT_YML};

fn shop() -> Fixture {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("seeds/orders.csv", "id,customer,amount\n1,ann,10.5\n2,bob,3\n3,ann,7\n4,cy,\n"),
        (
            "models/totals.sql",
            "{{ config(materialized='table') }}\nselect customer, sum(amount) as total, count(*) as n\nfrom {{ ref('orders') }} group by customer order by customer",
        ),
        ("models/schema.yml", "version: 2\nmodels:\n  - name: totals\n    columns:\n      - name: customer\n        tests: [unique]\n"),
    ]);
    assert_eq!(f.modelc(&["seed"]).code, 0);
    f
}

#[test]
fn show_previews_a_model_without_building_it() {
    let f = shop();
    let out = f.modelc(&["show", "-s", "totals", "--limit", "2"]);
    insta::assert_snapshot!("show_text", out.redacted(f.path()));
    // Nothing was built: the model's table does not exist.
    let tables = f.query("select count(*) from information_schema.tables where table_name = 'totals'");
    assert_eq!(tables, vec![vec!["0".to_string()]]);
}

#[test]
fn show_inline_sql_with_refs_as_json_and_every_row() {
    let f = shop();
    let out = f.modelc(&[
        "show",
        "--inline",
        "select id, amount from {{ ref('orders') }} order by id",
        "--limit",
        "-1",
        "--output",
        "json",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let json: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("json");
    assert_eq!(
        json,
        serde_json::json!({"node": "inline_query", "show": [
            {"id": 1, "amount": 10.5}, {"id": 2, "amount": 3.0}, {"id": 3, "amount": 7.0}, {"id": 4, "amount": null}
        ]})
    );
}

#[test]
fn show_errors_name_what_is_wrong() {
    let f = shop();
    let none = f.modelc(&["show"]);
    assert_eq!(none.code, 2, "{none:?}");
    assert!(none.stderr.contains("show needs --select"), "{}", none.stderr);
    let bad_ref = f.modelc(&["show", "--inline", "select * from {{ ref('nope') }}"]);
    assert_eq!(bad_ref.code, 2, "{bad_ref:?}");
    assert!(bad_ref.stderr.contains("refers to 'nope'"), "{}", bad_ref.stderr);
    // A query DuckDB rejects is a failure naming the node's file.
    f.write(
        "models/broken.sql",
        "select no_such_function(id) from {{ ref('orders') }}",
    );
    let broken = f.modelc(&["show", "-s", "broken"]);
    assert_eq!(broken.code, 1, "{broken:?}");
    assert!(
        broken
            .stderr
            .contains("cannot preview node 'broken' (models/broken.sql)"),
        "{}",
        broken.stderr
    );
    assert!(broken.stderr.contains("no_such_function"), "{}", broken.stderr);
}
