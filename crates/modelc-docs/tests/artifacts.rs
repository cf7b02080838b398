//! `manifest.json` and `catalog.json` against dbt's published JSON schemas
//! (manifest v12, catalog v1), vendored under `tests/fixtures/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use modelc_compile::{compile, CompileOptions, Project};
use modelc_docs::catalog::{Catalog, ColumnRow};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("fixture is JSON")
}

fn compile_at(root: &Path) -> Project {
    let compiled = compile(root, &CompileOptions::default());
    match compiled.project {
        Some(p) => p,
        None => panic!("{} does not compile: {:?}", root.display(), compiled.diagnostics),
    }
}

fn example() -> Project {
    compile_at(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// Every error of `instance` against `schema`, as `instance path: message`.
fn errors(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = jsonschema::validator_for(schema).expect("schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {}", e.instance_path(), truncate(&e.to_string())))
        .collect()
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 400 {
        format!("{}...", s.chars().take(400).collect::<String>())
    } else {
        s.to_string()
    }
}

/// dbt's schema lists the node kinds as one `anyOf`, whose error says only that no
/// branch matched: check each node against the branch of its kind for useful errors.
fn node_branch<'a>(schema: &'a Value, node: &Value) -> Option<&'a Value> {
    let title = match node["resource_type"].as_str()? {
        "seed" => "Seed",
        "analysis" => "Analysis",
        "model" => "Model",
        "snapshot" => "Snapshot",
        "operation" => "HookNode",
        "sql_operation" => "SqlOperation",
        "test" if node.get("test_metadata").is_some() => "GenericTest",
        "test" => "SingularTest",
        _ => return None,
    };
    schema["properties"]["nodes"]["additionalProperties"]["anyOf"]
        .as_array()?
        .iter()
        .find(|b| b["title"] == title)
}

fn assert_valid_manifest(manifest: &Value) {
    let schema = fixture("dbt-manifest-v12.schema.json");
    let mut errs = Vec::new();
    for (id, node) in manifest["nodes"].as_object().expect("nodes") {
        match node_branch(&schema, node) {
            Some(branch) => errs.extend(errors(branch, node).into_iter().map(|e| format!("/nodes/{id}{e}"))),
            None => errs.push(format!("/nodes/{id}: unknown resource_type {}", node["resource_type"])),
        }
    }
    // The per-node errors say more than the `anyOf` ones about the same nodes.
    errs.extend(
        errors(&schema, manifest)
            .into_iter()
            .filter(|e| !e.starts_with("/nodes/")),
    );
    assert!(
        errs.is_empty(),
        "manifest.json does not match dbt's manifest v12 schema ({} errors):\n{}",
        errs.len(),
        errs.join("\n")
    );
}

#[test]
fn example_manifest_matches_dbt_manifest_v12_schema() {
    let p = example();
    let manifest = modelc_compile::artifacts::manifest(&p, "00000000-0000-0000-0000-000000000000");
    assert_valid_manifest(&manifest);
}

/// A project folder under the system temp dir, removed when dropped.
struct TempProject(PathBuf);

impl TempProject {
    fn new(name: &str, files: &[(&str, &str)]) -> TempProject {
        let root = std::env::temp_dir().join(format!("modelc-artifacts-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        TempProject(root)
    }
}

impl Drop for TempProject {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every resource type modelc knows, with the configs that change the manifest's shape:
/// hooks, incremental and ephemeral models, a contract, docs, source freshness and
/// quoting, generic tests on a model, a seed and a source, a singular test, an
/// analysis, a SQL snapshot, project macros and a custom generic test.
#[test]
fn manifest_of_every_resource_type_matches_dbt_manifest_v12_schema() {
    let project = TempProject::new(
        "all",
        &[
            (
                "project.yml",
                "name: shop\nprofile: shop\nduckdb:\n  path: ':memory:'\nmodels:\n  shop:\n    +materialized: table\n",
            ),
            ("seeds/raw_orders.csv", "id,amount,updated_at\n1,10,2024-01-01\n2,20,2024-01-02\n"),
            (
                "seeds/_seeds.yml",
                "version: 2\nseeds:\n  - name: raw_orders\n    config:\n      column_types:\n        amount: integer\n    columns:\n      - name: id\n        data_tests: [unique, not_null]\n",
            ),
            (
                "models/_sources.yml",
                "version: 2\nsources:\n  - name: app\n    schema: main\n    loader: fivetran\n    freshness:\n      warn_after: {count: 12, period: hour}\n    loaded_at_field: updated_at\n    tables:\n      - name: orders\n        identifier: raw_orders\n        columns:\n          - name: id\n            data_tests: [not_null]\n",
            ),
            (
                "models/stg_orders.sql",
                "{{ config(materialized='view', pre_hook='select 1', post_hook=['select 2']) }}\nselect id, {{ cents('amount') }} as amount, updated_at from {{ source('app', 'orders') }}\n",
            ),
            ("models/int_orders.sql", "{{ config(materialized='ephemeral') }}\nselect * from {{ ref('stg_orders') }}\n"),
            (
                "models/orders.sql",
                "{{ config(materialized='incremental', unique_key='id', docs={'node_color': 'red'}) }}\nselect * from {{ ref('int_orders') }}\n{% if is_incremental() %}where updated_at > (select max(updated_at) from {{ this }}){% endif %}\n",
            ),
            (
                "models/_models.yml",
                "version: 2\nmodels:\n  - name: orders\n    description: One row per order.\n    columns:\n      - name: id\n        description: The order.\n        data_tests: [unique, not_null, {relationships: {to: ref('raw_orders'), field: id}}]\n      - name: amount\n        data_tests: [is_positive]\n",
            ),
            ("macros/cents.sql", "{% macro cents(col) -%}\n{{ col }} * 100\n{%- endmacro %}\n"),
            (
                "tests/generic/is_positive.sql",
                "{% test is_positive(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} <= 0\n{% endtest %}\n",
            ),
            ("tests/orders_not_empty.sql", "select 1 where (select count(*) from {{ ref('orders') }}) = 0\n"),
            ("analyses/order_totals.sql", "select sum(amount) from {{ ref('orders') }}\n"),
            (
                "snapshots/orders_snapshot.sql",
                "{% snapshot orders_snapshot %}\n{{ config(target_schema='snapshots', unique_key='id', strategy='timestamp', updated_at='updated_at') }}\nselect * from {{ ref('raw_orders') }}\n{% endsnapshot %}\n",
            ),
        ],
    );
    let p = compile_at(&project.0);
    let manifest = modelc_compile::artifacts::manifest(&p, "00000000-0000-0000-0000-000000000000");
    let kinds: std::collections::BTreeSet<String> = manifest["nodes"]
        .as_object()
        .expect("nodes")
        .values()
        .map(|n| match (n["resource_type"].as_str(), n.get("test_metadata")) {
            (Some("test"), Some(_)) => "generic test".to_string(),
            (Some("test"), None) => "singular test".to_string(),
            (kind, _) => kind.unwrap_or_default().to_string(),
        })
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["analysis", "generic test", "model", "seed", "singular test", "snapshot"]
    );
    assert_valid_manifest(&manifest);

    let stg = &manifest["nodes"]["model.shop.stg_orders"];
    assert_eq!(
        stg["config"]["pre-hook"],
        serde_json::json!([{"sql": "select 1", "transaction": true, "index": null}])
    );
    assert_eq!(stg["config"]["post-hook"][0]["sql"], "select 2");
    assert_eq!(stg["sources"], serde_json::json!([["app", "orders"]]));
    assert_eq!(stg["depends_on"]["macros"], serde_json::json!(["macro.shop.cents"]));
    let orders = &manifest["nodes"]["model.shop.orders"];
    assert_eq!(orders["primary_key"], serde_json::json!(["id"]));
    assert_eq!(orders["docs"]["node_color"], "red");
    assert_eq!(orders["config"]["unique_key"], "id");
    assert_eq!(manifest["nodes"]["model.shop.int_orders"]["relation_name"], Value::Null);
    let source = &manifest["sources"]["source.shop.app.orders"];
    assert_eq!(source["loader"], "fivetran");
    assert_eq!(source["loaded_at_field"], "updated_at");
    assert_eq!(
        source["freshness"]["warn_after"],
        serde_json::json!({"count": 12, "period": "hour"})
    );
    assert_eq!(
        manifest["macros"]["macro.shop.cents"]["macro_sql"],
        "{% macro cents(col) -%}\n{{ col }} * 100\n{%- endmacro %}"
    );
    let generic: Vec<&Value> = manifest["nodes"]
        .as_object()
        .expect("nodes")
        .values()
        .filter(|n| n.get("test_metadata").is_some())
        .collect();
    for t in &generic {
        let attached = t["attached_node"].as_str().expect("attached_node");
        let key = t["file_key_name"].as_str().expect("file_key_name");
        let expected = match attached.split('.').next() {
            Some("source") => "sources.app",
            Some("seed") => "seeds.raw_orders",
            _ => "models.orders",
        };
        assert_eq!(key, expected, "{}", t["unique_id"]);
    }
    let singular = &manifest["nodes"]["test.shop.orders_not_empty"];
    assert!(singular.get("attached_node").is_none());
}

fn row(
    database: &str,
    schema: &str,
    table: &str,
    table_type: &str,
    column: &str,
    index: u32,
    data_type: &str,
) -> ColumnRow {
    ColumnRow {
        database: database.into(),
        schema: schema.into(),
        table: table.into(),
        table_type: table_type.into(),
        column: column.into(),
        index,
        data_type: data_type.into(),
    }
}

/// What DuckDB's `information_schema` would list after a run of the example, in part:
/// a table, a view spelled in upper case, a mart in its own schema, the seed a source
/// reads, a table with the name of an ephemeral model, and a table no node owns.
fn example_rows() -> Vec<ColumnRow> {
    vec![
        row(
            "lending",
            "main",
            "dim_applicants",
            "BASE TABLE",
            "latest_risk_band",
            2,
            "VARCHAR",
        ),
        row(
            "lending",
            "main",
            "dim_applicants",
            "BASE TABLE",
            "applicant_id",
            1,
            "BIGINT",
        ),
        row("LENDING", "MAIN", "STG_APPLICANTS", "VIEW", "APPLICANT_ID", 1, "BIGINT"),
        row(
            "lending",
            "main_finance",
            "default_rate_by_risk_band",
            "BASE TABLE",
            "risk_band",
            1,
            "VARCHAR",
        ),
        row(
            "lending",
            "main_finance",
            "default_rate_by_risk_band",
            "BASE TABLE",
            "default_rate",
            2,
            "DOUBLE",
        ),
        row(
            "lending",
            "main",
            "raw_credit_score_snapshots",
            "BASE TABLE",
            "snapshot_id",
            1,
            "BIGINT",
        ),
        row(
            "lending",
            "main",
            "raw_credit_score_snapshots",
            "BASE TABLE",
            "credit_score",
            2,
            "INTEGER",
        ),
        row(
            "lending",
            "main",
            "int_loan_terms",
            "BASE TABLE",
            "application_id",
            1,
            "BIGINT",
        ),
        row("lending", "main", "scratch_table", "BASE TABLE", "x", 1, "INTEGER"),
        row(
            "other",
            "main",
            "dim_applicants",
            "BASE TABLE",
            "applicant_id",
            1,
            "BIGINT",
        ),
    ]
}

#[test]
fn catalog_matches_rows_to_nodes_case_insensitively() {
    let p = example();
    let catalog = Catalog::from_rows(&p, &example_rows());
    assert_eq!(
        catalog.nodes.keys().collect::<Vec<_>>(),
        [
            "model.lending.default_rate_by_risk_band",
            "model.lending.dim_applicants",
            "model.lending.stg_applicants",
            "seed.lending.raw_credit_score_snapshots",
        ]
    );
    assert_eq!(
        catalog.sources.keys().collect::<Vec<_>>(),
        ["source.lending.bureau.credit_score_snapshots"]
    );
    let dim = &catalog.nodes["model.lending.dim_applicants"];
    assert_eq!(
        dim.columns
            .iter()
            .map(|c| (c.index, c.name.as_str()))
            .collect::<Vec<_>>(),
        [(1, "applicant_id"), (2, "latest_risk_band")],
        "columns are ordered by position"
    );
    // The database's spelling is kept; lookups ignore case.
    let stg = &catalog.nodes["model.lending.stg_applicants"];
    assert_eq!((stg.schema.as_str(), stg.name.as_str()), ("MAIN", "STG_APPLICANTS"));
    assert_eq!(
        catalog.column_type("model.lending.stg_applicants", "applicant_id"),
        Some("BIGINT")
    );
    assert_eq!(
        catalog.column_type("model.lending.int_loan_terms", "application_id"),
        None
    );
}

#[test]
fn catalog_matches_dbt_catalog_v1_schema() {
    let p = example();
    let catalog = Catalog::from_rows(&p, &example_rows());
    let mut json = catalog.to_json("00000000-0000-0000-0000-000000000000", "2024-01-01T00:00:00.000000Z");
    let errs = errors(&fixture("dbt-catalog-v1.schema.json"), &json);
    assert!(
        errs.is_empty(),
        "catalog.json does not match dbt's catalog v1 schema ({} errors):\n{}",
        errs.len(),
        errs.join("\n")
    );
    // An empty catalog (nothing built yet) is valid too.
    let empty = Catalog::default().to_json("id", "2024-01-01T00:00:00Z");
    assert_eq!(
        errors(&fixture("dbt-catalog-v1.schema.json"), &empty),
        Vec::<String>::new()
    );

    json["metadata"]["dbt_version"] = "modelc-<version>".into();
    insta::assert_json_snapshot!("catalog", json);
}
