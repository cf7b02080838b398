//! Model versions, as dbt has them: `versions:` in YAML, one SQL file per version,
//! relations `<name>_v<v>`, `ref(name, v=...)`, and the unversioned ref resolving
//! to the latest version.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{compile_ok, write};

#[test]
fn versions_compile_as_dbt_compiles_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "dbt_project.yml", "name: shop\n");
    write(
        root,
        "models/dim_customers_v1.sql",
        "select 1 as id, 'a' as name, 'x' as legacy\n",
    );
    write(root, "models/dim_customers_v2.sql", "select 1 as id, 'a' as name\n");
    write(root, "models/customers_next.sql", "select 2 as id, 'b' as name\n");
    write(
        root,
        "models/readers.sql",
        "select * from {{ ref('dim_customers') }}\nunion all select id, name from {{ ref('dim_customers', v=1) }}\nunion all select * from {{ ref('dim_customers', version=3) }}\n",
    );
    write(
        root,
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: dim_customers\n    latest_version: 2\n    config:\n      materialized: table\n    columns:\n      - name: id\n        data_tests: [unique]\n      - name: legacy\n    versions:\n      - v: 1\n        columns:\n          - include: all\n      - v: 2\n        columns:\n          - include: all\n            exclude: [legacy]\n      - v: 3\n        defined_in: customers_next\n        config:\n          alias: dim_customers_next\n",
    );
    let (project, diags) = compile_ok(root);
    assert!(diags.is_empty(), "{diags:#?}");
    let listing: Vec<String> = project
        .nodes
        .values()
        .map(|n| {
            format!(
                "{:<45} {:<6} v={:<5} latest={:<5} {:<40} columns={}",
                n.unique_id,
                n.materialized(),
                n.version.as_deref().unwrap_or("-"),
                n.latest_version.as_deref().unwrap_or("-"),
                n.relation.as_ref().map(|r| r.to_string()).unwrap_or_default(),
                n.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(",")
            )
        })
        .collect();
    insta::assert_snapshot!("version_nodes", listing.join("\n"));
    let readers = project
        .nodes
        .get("model.shop.readers")
        .and_then(|n| n.compiled_code.clone());
    insta::assert_snapshot!("version_refs", readers.unwrap_or_default());
    let manifest = modelc_compile::artifacts::manifest(&project, "test");
    assert_eq!(manifest["nodes"]["model.shop.dim_customers.v1"]["version"], "1");
    assert_eq!(manifest["nodes"]["model.shop.dim_customers.v1"]["latest_version"], "2");
}
