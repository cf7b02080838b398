//! Projects written by Windows editors: every text file with a UTF-8 byte order
//! mark and CRLF line endings builds the same tables as the plain files.

use crate::support::{table, Fixture};

/// Every kind of text file a project has: project file, profile, seed and its
/// YAML, a macro, models with Jinja blocks, property file, docs, a generic and a
/// singular test, a snapshot.
const FILES: &[(&str, &str)] = &[
    ("dbt_project.yml", "name: shop\nprofile: shop\nmodels:\n  shop:\n    +materialized: table\n"),
    (
        "profiles.yml",
        "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: shop.duckdb\n",
    ),
    ("seeds/orders.csv", "id,amount,status\n1,10,paid\n2,20,open\n3,30,paid\n"),
    ("seeds/seeds.yml", "seeds:\n  - name: orders\n    config:\n      column_types: {amount: integer}\n"),
    ("macros/cents.sql", "{% macro cents(col) -%}\n  {{ col }} * 100\n{%- endmacro %}\n"),
    (
        "models/paid.sql",
        "{{ config(materialized='view') }}\n{% set statuses = ['paid'] %}\nselect id,\n  {{ cents('amount') }} as cents\nfrom {{ ref('orders') }}\nwhere status in (\n{%- for s in statuses %}\n  '{{ s }}'{% if not loop.last %},{% endif %}\n{%- endfor %}\n)\n",
    ),
    ("models/totals.sql", "select count(*) as n, sum(cents) as cents\nfrom {{ ref('paid') }}\n"),
    (
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: paid\n    description: '{{ doc(\"paid\") }}'\n    columns:\n      - name: id\n        description: >\n          The order's\n          id.\n        data_tests:\n          - unique\n          - not_null\n          - positive\n",
    ),
    ("models/docs.md", "{% docs paid %}\nPaid orders.\n{% enddocs %}\n"),
    (
        "tests/generic/positive.sql",
        "{% test positive(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} <= 0\n{% endtest %}\n",
    ),
    ("tests/no_big_totals.sql", "select * from {{ ref('totals') }}\nwhere n > 100\n"),
    (
        "snapshots/orders.sql",
        "{% snapshot orders_snapshot %}\n{{ config(target_schema='snapshots', unique_key='id', strategy='check', check_cols=['status']) }}\nselect * from {{ ref('orders') }}\n{% endsnapshot %}\n",
    ),
];

/// Builds the project (as written by Windows editors or not) and returns every
/// relation's rows, the manifest's descriptions and the number of nodes built.
fn build(windows: bool) -> (String, String, usize) {
    let f = Fixture::new(&[]);
    for (path, text) in FILES {
        if windows {
            f.write(path, &format!("\u{feff}{}", text.replace('\n', "\r\n")));
        } else {
            f.write(path, text);
        }
    }
    let out = f.modelc(&["build"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    let mut rows = Vec::new();
    for rel in ["main.orders", "main.paid", "main.totals", "snapshots.orders_snapshot"] {
        let cols = if rel.starts_with("snapshots") {
            "id, amount, status, dbt_valid_to is null"
        } else {
            "*"
        };
        rows.push(format!(
            "{rel}:\n{}",
            table(&f.query(&format!("select {cols} from {rel} order by 1")))
        ));
    }
    rows.push(table(&f.query(
        "select column_name, data_type from information_schema.columns where table_name = 'orders' order by ordinal_position",
    )));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.path().join("target/manifest.json")).expect("manifest"))
            .expect("json");
    let paid = &manifest["nodes"]["model.shop.paid"];
    let descriptions = format!("{} / {}", paid["description"], paid["columns"]["id"]["description"]);
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.path().join("target/run_results.json")).expect("run results"))
            .expect("json");
    let built = results["results"].as_array().map_or(0, Vec::len);
    (rows.join("\n"), descriptions, built)
}

#[test]
fn byte_order_marks_and_crlf_build_the_same_tables() {
    let plain = build(false);
    assert_eq!(plain.1, r#""Paid orders." / "The order's id.\n""#);
    // 1 seed, 2 models, 3 generic tests, 1 singular test, 1 snapshot.
    assert_eq!(plain.2, 8);
    assert_eq!(build(true), plain);
}
