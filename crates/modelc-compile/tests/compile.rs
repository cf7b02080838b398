//! Compiling projects: the example project's compiled SQL, and every error a user
//! can make reported with file, line and column.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use modelc_compile::{compile, CompileOptions};

fn example_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Writes a project from (path, contents) pairs into a temp folder.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    dir
}

const PROJECT: (&str, &str) = ("project.yml", "name: shop\nduckdb:\n  path: shop.duckdb\n");

/// Compiles and renders the diagnostics, one per line.
fn check(files: &[(&str, &str)]) -> String {
    let dir = project(files);
    let out = compile(dir.path(), &CompileOptions::default());
    let lines: Vec<String> = out.diagnostics.iter().map(|d| d.to_string()).collect();
    format!("ok: {}\n{}", out.project.is_some(), lines.join("\n"))
}

#[test]
fn example_project_compiles() {
    let out = compile(&example_root(), &CompileOptions::default());
    let diags: Vec<String> = out.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(out.project.is_some(), "{diags:#?}");
    assert!(diags.is_empty(), "{diags:#?}");
    let p = out.project.expect("project");
    let listing: Vec<String> = p
        .nodes
        .values()
        .filter(|n| n.resource_type != modelc_core::ResourceType::Test)
        .map(|n| {
            format!(
                "{:<10} {:<12} {:<45} <- {}",
                n.resource_type.as_str(),
                n.materialized(),
                n.relation
                    .as_ref()
                    .map(|r| format!("{}.{}", r.schema, r.identifier))
                    .unwrap_or_else(|| format!("({})", n.materialized())),
                n.depends_on.nodes.join(", ")
            )
        })
        .collect();
    insta::assert_snapshot!("example_nodes", listing.join("\n"));
    let sql = |id: &str| {
        p.nodes
            .get(id)
            .and_then(|n| n.compiled_code.clone())
            .unwrap_or_default()
    };
    insta::assert_snapshot!(
        "example_fact_loan_performance",
        sql("model.lending.fact_loan_performance")
    );
    insta::assert_snapshot!("example_date_spine", sql("model.lending.date_spine"));
    insta::assert_snapshot!("example_snapshot", sql("snapshot.lending.credit_scores_snapshot"));
    let test = p
        .nodes
        .values()
        .find(|n| n.name == "relationships_fact_loans_applicant_id__applicant_id__ref_dim_applicants_")
        .expect("relationships test");
    insta::assert_snapshot!(
        "example_relationships_test",
        test.compiled_code.clone().unwrap_or_default().trim()
    );
    let tests = p
        .nodes
        .values()
        .filter(|n| n.resource_type == modelc_core::ResourceType::Test)
        .count();
    assert!(tests > 40, "{tests} tests");
}

#[test]
fn unknown_ref_names_file_line_and_suggestion() {
    insta::assert_snapshot!(check(&[
        PROJECT,
        ("models/stg_orders.sql", "select 1 as id"),
        ("models/orders.sql", "select *\nfrom {{ ref('stg_order') }}"),
    ]));
}

#[test]
fn cycle_lists_the_whole_cycle_with_files() {
    insta::assert_snapshot!(check(&[
        PROJECT,
        ("models/a.sql", "select * from {{ ref('c') }}"),
        ("models/b.sql", "select * from {{ ref('a') }}"),
        ("models/c.sql", "-- c\nselect * from {{ ref('b') }}"),
    ]));
}

#[test]
fn broken_yaml_is_located() {
    insta::assert_snapshot!(check(&[
        PROJECT,
        ("models/a.sql", "select 1 as id"),
        (
            "models/schema.yml",
            "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        tests: [unique\n"
        ),
    ]));
}

#[test]
fn unknown_keys_are_warnings_with_suggestions() {
    insta::assert_snapshot!(check(&[
        ("project.yml", "name: shop\nmodel-path: [models]\nmodels:\n  shop:\n    +materialised: table\n    marts:\n      +schema: marts\n"),
        ("models/a.sql", "{{ config(materialzed='table') }}\nselect 1 as id"),
        ("models/schema.yml", "version: 2\nmodels:\n  - name: a\n    descripton: typo\n    config:\n      tagz: [x]\n"),
    ]));
}

#[test]
fn duplicate_names_and_bad_sources() {
    insta::assert_snapshot!(check(&[
        PROJECT,
        ("models/a.sql", "select * from {{ source('raw', 'ordrs') }}"),
        ("models/sub/a.sql", "select 2"),
        (
            "models/sources.yml",
            "version: 2\nsources:\n  - name: raw\n    tables:\n      - name: orders\n"
        ),
    ]));
}

#[test]
fn jinja_errors_point_into_the_template() {
    insta::assert_snapshot!(check(&[
        PROJECT,
        ("models/a.sql", "select 1 as id\n{% if %}\n"),
        ("models/b.sql", "select {{ var('missing') }}"),
        (
            "macros/m.sql",
            "{% macro broken() %}{{ exceptions.raise_compiler_error('nope') }}{% endmacro %}"
        ),
        ("models/c.sql", "\n\nselect {{ broken() }}"),
    ]));
}

#[test]
fn ephemeral_models_are_inlined_and_custom_schemas_follow_dbt() {
    let dir = project(&[
        (
            "project.yml",
            "name: shop\nmodels:\n  shop:\n    marts:\n      +schema: marts\n      +materialized: table\n",
        ),
        (
            "models/e1.sql",
            "{{ config(materialized='ephemeral') }}\nselect 1 as id",
        ),
        (
            "models/e2.sql",
            "{{ config(materialized='ephemeral') }}\nselect id from {{ ref('e1') }}",
        ),
        (
            "models/marts/m.sql",
            "with x as (select 2 as id)\nselect * from {{ ref('e2') }} union all select * from x",
        ),
        ("models/v.sql", "select * from {{ ref('m') }} -- {{ this }}"),
    ]);
    let out = compile(dir.path(), &CompileOptions::default());
    let p = out.project.expect("compiles");
    let sql = |id: &str| {
        p.nodes
            .get(id)
            .and_then(|n| n.compiled_code.clone())
            .unwrap_or_default()
    };
    insta::assert_snapshot!("ephemeral_m", sql("model.shop.m"));
    insta::assert_snapshot!("schema_v", sql("model.shop.v"));
}

#[test]
fn direct_table_reads_and_parser_gaps_are_warnings() {
    insta::assert_snapshot!(check(&[
        PROJECT,
        ("models/a.sql", "select 1 as id"),
        (
            "models/b.sql",
            "select *\nfrom {{ ref('a') }} join main.payments p using (id)"
        ),
        ("models/c.sql", "pivot {{ ref('a') }} on id using count(*)"),
    ]));
}

/// Config values with a fixed set of choices, and the configs a snapshot needs, are
/// errors before anything runs, pointing where the value is set: the `config()`
/// call (also when its value comes from Jinja), the YAML entry, the project file.
/// A value one level overrides is not checked.
#[test]
fn config_values_are_checked_where_they_are_set() {
    insta::assert_snapshot!(check(&[
        (
            "project.yml",
            "name: shop\nvars:\n  mat: tabel\nmodels:\n  shop:\n    legacy:\n      +materialized: tables\nsnapshots:\n  shop:\n    +hard_deletes: delete\n"
        ),
        ("models/a.sql", "-- a\n{{ config(materialized='tabel') }}\nselect 1 as id"),
        ("models/b.sql", "select 1 as id"),
        ("models/c.sql", "{{ config(materialized=var('mat')) }}\nselect 1 as id"),
        (
            "models/d.sql",
            "{{ config(\n    materialized='incremental',\n    incremental_strategy='microbatch',\n    on_schema_change='sync'\n) }}\nselect 1 as id"
        ),
        (
            "models/e.sql",
            "{{ config(materialized='table', incremental_strategy='microbatch') }}\nselect 1 as id"
        ),
        ("models/f.sql", "{{ config(materialized='table') }}\nselect 1 as id"),
        ("models/legacy/g.sql", "select 1 as id"),
        (
            "models/schema.yml",
            "version: 2\nmodels:\n  - name: b\n    config:\n      materialized: materialized_view\n    columns:\n      - name: id\n        data_tests:\n          - not_null:\n              config:\n                severity: warning\n          - unique:\n              severity: WARN\n  - name: f\n    config:\n      materialized: tabel\n"
        ),
        (
            "snapshots/snaps.sql",
            "{% snapshot s_no_key %}\n{{ config(target_schema='snapshots', strategy='timestamp', updated_at='u') }}\nselect 1 as id, now() as u\n{% endsnapshot %}\n\n{% snapshot s_bad_strategy %}\n{{ config(target_schema='snapshots', unique_key='id', strategy='chek') }}\nselect 1 as id\n{% endsnapshot %}\n\n{% snapshot s_check %}\n{{ config(target_schema='snapshots', unique_key='id', strategy='check') }}\nselect 1 as id\n{% endsnapshot %}\n\n{% snapshot s_timestamp %}\n{{ config(target_schema='snapshots', unique_key='id') }}\nselect 1 as id\n{% endsnapshot %}\n"
        ),
    ]));
}

/// An unknown key in a snapshot's `config()` is located at its own line, not
/// shifted by the block's start (the block keeps its lines in the file).
#[test]
fn unknown_config_keys_in_snapshots_are_located_at_their_line() {
    let dir = project(&[
        PROJECT,
        ("models/a.sql", "select 1 as id, now() as ts\n"),
        (
            "snapshots/a_snap.sql",
            "-- a comment\n\n{% snapshot a_snap %}\n{{ config(target_schema='snapshots', unique_key='id',\n  strategy='timestamp', updated_at='ts', colour='red') }}\nselect * from {{ ref('a') }}\n{% endsnapshot %}\n",
        ),
    ]);
    let out = compile(dir.path(), &CompileOptions::default());
    let warning = out
        .diagnostics
        .iter()
        .find(|d| d.code == "unknown-config")
        .map(|d| (d.file.clone(), d.line))
        .expect("a warning for 'colour'");
    assert_eq!(warning, (Some("snapshots/a_snap.sql".into()), 5));
}

/// `--empty`: each `ref` and `source` of a built relation reads no rows, as dbt
/// renders it on each engine (aliased on PostgreSQL, dbt's `require_alias`);
/// `this`, ephemeral models and relation parts are left as they are.
#[test]
fn empty_refs_read_no_rows_as_dbt_renders_them() {
    let files = [
        ("seeds/raw.csv", "id\n1\n"),
        ("models/_sources.yml", "sources:\n  - name: app\n    schema: app\n    tables: [{name: events}]\n"),
        ("models/e.sql", "{{ config(materialized='ephemeral') }}\nselect * from {{ source('app', 'events') }}"),
        (
            "models/m.sql",
            "select id, {{ ref('raw').identifier }} as t from {{ ref('raw') }} join {{ ref('e') }} using (id) -- {{ this }}",
        ),
    ];
    let compiled = |profile: Option<&str>| {
        let mut files: Vec<(&str, &str)> = files.to_vec();
        files.push(("project.yml", "name: shop\nprofile: shop\n"));
        if let Some(p) = profile {
            files.push(("profiles.yml", p));
        }
        let dir = project(&files);
        let opts = CompileOptions {
            empty: true,
            ..CompileOptions::default()
        };
        let out = compile(dir.path(), &opts);
        let p = out.project.unwrap_or_else(|| panic!("{:?}", out.diagnostics));
        p.nodes["model.shop.m"].compiled_code.clone().unwrap_or_default()
    };
    insta::assert_snapshot!("empty_duckdb", compiled(None));
    insta::assert_snapshot!(
        "empty_postgres",
        compiled(Some(
            "shop:\n  target: pg\n  outputs:\n    pg:\n      type: postgres\n      host: h\n      user: u\n      dbname: warehouse\n      schema: analytics\n"
        ))
    );
}

/// A column no upstream relation has is an error at compile time, located in the
/// model's file with the closest column's name, as is a union of queries with
/// different numbers of columns; where an upstream's columns are
/// unknown (a source's declared ones, an opaque table) nothing is reported, and
/// `static_analysis: off` skips a model.
#[test]
fn unknown_columns_are_compile_errors() {
    let files = [
        PROJECT,
        ("seeds/orders.csv", "id,customer_id,amount,status\n1,1,10,open\n"),
        ("seeds/customers.csv", "id,name\n1,ann\n"),
        (
            "models/sources.yml",
            "sources:\n  - name: app\n    schema: app\n    tables:\n      - name: events\n        columns: [{name: event_id}]\n",
        ),
        ("models/misspelled.sql", "select id,\n    amout\nfrom {{ ref('orders') }}\n"),
        (
            "models/in_where.sql",
            "select o.id, c.name\nfrom {{ ref('orders') }} o\njoin {{ ref('customers') }} c on c.id = o.customer_idd\nwhere o.statuss = 'open'\n",
        ),
        ("models/downstream.sql", "select id, total from {{ ref('fine') }}\n"),
        ("models/fine.sql", "select id, amount * 2 as total_amount from {{ ref('orders') }}\n"),
        ("models/undeclared_source_column.sql", "select event_id, user_id from {{ source('app', 'events') }}\n"),
        // A snapshot's table has dbt's columns too.
        (
            "snapshots/snap.sql",
            "{% snapshot snap %}\n{{ config(unique_key='id', strategy='check', check_cols='all', target_schema='snapshots') }}\nselect id, name from {{ ref('customers') }}\n{% endsnapshot %}\n",
        ),
        ("models/from_snapshot.sql", "select id, name, dbt_valid_to from {{ ref('snap') }}\n"),
        (
            "models/unioned.sql",
            "select id, amount from {{ ref('orders') }}\nunion all\nselect id from {{ ref('customers') }}\n",
        ),
        (
            "models/unioned_by_name.sql",
            "select id, amount from {{ ref('orders') }}\nunion all by name\nselect id from {{ ref('customers') }}\n",
        ),
        (
            "models/opted_out.sql",
            "{{ config(static_analysis='off') }}\nselect nothing_here from {{ ref('orders') }}\n",
        ),
    ];
    insta::assert_snapshot!("unknown_columns", check(&files));
    // Off for the whole compile: no errors.
    let dir = project(&files);
    let opts = CompileOptions {
        skip_static_analysis: true,
        ..CompileOptions::default()
    };
    assert!(compile(dir.path(), &opts).project.is_some());
}

/// An enforced contract is checked against the model's SQL at compile time: every
/// declared column has a data_type, and the SQL returns exactly those columns.
#[test]
fn enforced_contracts_are_checked_before_anything_runs() {
    let files = [
        PROJECT,
        ("seeds/customers.csv", "id,name,region\n1,ann,eu\n"),
        ("models/dim_customers.sql", "select id, name, region\nfrom {{ ref('customers') }}\n"),
        ("models/kept.sql", "select id, name from {{ ref('customers') }}\n"),
        (
            "models/_models.yml",
            "models:\n  - name: dim_customers\n    config:\n      contract: {enforced: true}\n    columns:\n      - name: id\n        data_type: integer\n      - name: name\n      - name: email\n        data_type: varchar\n  - name: kept\n    config:\n      contract: {enforced: true}\n    columns:\n      - name: id\n        data_type: integer\n      - name: name\n        data_type: varchar\n",
        ),
    ];
    insta::assert_snapshot!("contracts", check(&files));
}
