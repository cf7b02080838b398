//! Installed packages (`dbt_packages/*`): their macros, generic tests, models,
//! seeds, vars and configs, compiled as dbt compiles them. The compiled SQL is
//! pinned with insta.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{compile_ok, write};
use modelc_compile::{compile, CompileOptions};

/// A root project `shop` with two installed packages:
/// - `helpers`: namespaced macros that call each other unqualified and dispatch
///   through their namespace, a generic test, a model over its own seed reading a
///   package var, a second model the root project disables, a too-new
///   `require-dbt-version`;
/// - `quirks`: an implementation of `helpers`' dispatched macro, picked through the
///   root project's `dispatch:` search order.
fn shop() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "dbt_project.yml",
        "name: shop\n\
         vars:\n  helpers:\n    factor: 3\n\
         dispatch:\n  - macro_namespace: helpers\n    search_order: [shop, quirks, helpers]\n\
         models:\n  helpers:\n    unwanted:\n      +enabled: false\n",
    );
    write(root, "seeds/orders.csv", "id,customer_id,amount\n1,1,10\n2,2,-5\n");
    write(
        root,
        "models/orders_keyed.sql",
        "select {{ helpers.key(['id', 'customer_id']) }} as order_key, {{ helpers.label() }} as label, *\n\
         from {{ ref('orders') }}\n",
    );
    write(
        root,
        "models/enriched.sql",
        "select o.*, r.rate from {{ ref('orders') }} o join {{ ref('helpers', 'rates') }} r on r.id = o.id\n",
    );
    write(
        root,
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: orders_keyed\n    columns:\n      - name: amount\n        data_tests:\n          - helpers.positive\n          - positive:\n              config: {severity: warn}\n",
    );

    let pkg = "dbt_packages/helpers";
    write(
        root,
        &format!("{pkg}/dbt_project.yml"),
        "name: helpers\nversion: '1.0.0'\nrequire-dbt-version: ['>=1.99.0']\nvars:\n  factor: 2\n  scale: 100\nmodels:\n  helpers:\n    +materialized: table\n",
    );
    write(
        root,
        &format!("{pkg}/macros/keys.sql"),
        "{% macro key(cols) %}{{ return(adapter.dispatch('key', 'helpers')(cols)) }}{% endmacro %}\n\
         {% macro default__key(cols) -%}\n\
         {%- set parts = [] -%}\n\
         {%- for c in cols -%}{%- do parts.append(dbt.concat([\"coalesce(cast(\" ~ c ~ \" as \" ~ dbt.type_string() ~ \"), '')\"])) -%}{%- endfor -%}\n\
         md5({{ parts | join(\" || '-' || \") }})\n\
         {%- endmacro %}\n\
         {% macro label() %}{{ return(adapter.dispatch('label', 'helpers')()) }}{% endmacro %}\n\
         {% macro default__label() %}'helpers'{% endmacro %}\n",
    );
    write(
        root,
        &format!("{pkg}/macros/tests/positive.sql"),
        "{% test positive(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} <= 0\n{% endtest %}\n",
    );
    write(root, &format!("{pkg}/seeds/raw_rates.csv"), "id,rate\n1,5\n2,7\n");
    write(
        root,
        &format!("{pkg}/models/rates.sql"),
        "select id, rate * {{ var('factor') }} / {{ var('scale') }} as rate from {{ ref('raw_rates') }}\n",
    );
    write(root, &format!("{pkg}/models/unwanted.sql"), "select 1 as x\n");

    write(
        root,
        "dbt_packages/quirks/dbt_project.yml",
        "name: quirks\nversion: '0.1.0'\n",
    );
    write(
        root,
        "dbt_packages/quirks/macros/label.sql",
        "{% macro duckdb__label() %}'quirks'{% endmacro %}\n",
    );
    dir
}

#[test]
fn packages_compile_as_dbt_compiles_them() {
    let dir = shop();
    let (project, diags) = compile_ok(dir.path());
    insta::assert_snapshot!("package_diagnostics", diags.join("\n"));

    let listing: Vec<String> = project
        .nodes
        .values()
        .map(|n| {
            format!(
                "{:<70} {:<6} {}",
                n.unique_id,
                n.materialized(),
                n.relation.as_ref().map(|r| r.to_string()).unwrap_or_default()
            )
        })
        .collect();
    insta::assert_snapshot!("package_nodes", listing.join("\n"));

    let compiled: Vec<String> = project
        .nodes
        .values()
        .filter(|n| n.resource_type != modelc_core::ResourceType::Seed)
        .map(|n| {
            format!(
                "-- {}\n{}",
                n.unique_id,
                n.compiled_code.as_deref().unwrap_or_default().trim()
            )
        })
        .collect();
    insta::assert_snapshot!("package_compiled_sql", compiled.join("\n\n"));

    let manifest = modelc_compile::artifacts::manifest(&project, "test");
    for id in [
        "macro.helpers.key",
        "macro.quirks.duckdb__label",
        "macro.helpers.test_positive",
    ] {
        assert_eq!(
            manifest["macros"][id]["package_name"],
            id.split('.').nth(1).unwrap_or_default(),
            "{id}"
        );
    }
}

#[test]
fn a_missing_package_ref_or_macro_is_located() {
    let dir = shop();
    write(
        dir.path(),
        "models/broken_macro.sql",
        "select\n  {{ helpers.nope() }}\n",
    );
    write(
        dir.path(),
        "models/broken_ref.sql",
        "select *\nfrom {{ ref('helpers', 'orders') }}\n",
    );
    let out = compile(dir.path(), &CompileOptions::default());
    assert!(out.project.is_none());
    let errors: Vec<String> = out
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    insta::assert_snapshot!("package_errors", errors.join("\n"));
}

/// Macros that ask the database compile without one: columns of upstream models
/// come from modelc's analysis of their SQL, `graph` from the compiled project; a
/// query is left for the run, with a warning saying why.
#[test]
fn introspection_answers_from_analysis_at_compile_time() {
    let dir = shop();
    let root = dir.path();
    write(
        root,
        "dbt_packages/helpers/macros/star.sql",
        "{% macro star(relation, except=[]) -%}\n\
         {%- if not execute %}{{ return('*') }}{% endif -%}\n\
         {%- set cols = [] -%}\n\
         {%- for c in adapter.get_columns_in_relation(relation) if c.name not in except -%}{%- do cols.append(adapter.quote(c.name)) -%}{%- endfor -%}\n\
         {{ cols | join(', ') }}\n\
         {%- endmacro %}\n",
    );
    write(
        root,
        "models/starred.sql",
        "select {{ helpers.star(ref('orders_keyed'), except=['label']) }} from {{ ref('orders_keyed') }}\n",
    );
    write(
        root,
        "models/graph_reader.sql",
        "select {% for id, n in graph.nodes.items() if n.resource_type == 'seed' %}'{{ n.name }}' as s{{ loop.index }}{% if not loop.last %}, {% endif %}{% endfor %}\n",
    );
    write(
        root,
        "models/queried.sql",
        "{% set r = run_query('select max(id) from ' ~ ref('orders')) %}select {{ r.rows[0][0] if execute else 0 }} as top\n",
    );
    let (project, diags) = compile_ok(root);
    let sql = |id: &str| {
        let n = &project.nodes[id];
        assert!(n.late_render, "{id}");
        n.compiled_code.clone().unwrap_or_default()
    };
    insta::assert_snapshot!(
        "late_renders",
        format!(
            "{}\n{}\n{}\n---\n{}",
            sql("model.shop.starred").trim(),
            sql("model.shop.graph_reader").trim(),
            sql("model.shop.queried").trim(),
            diags
                .iter()
                .filter(|d| !d.contains("dbt-version"))
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        )
    );
}

/// Jinja in config values of the project file and YAML renders as dbt renders it,
/// to native values.
#[test]
fn config_values_render_their_jinja() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "dbt_project.yml",
        "name: shop\nmodels:\n  shop:\n    +materialized: \"{{ 'ephemeral' if target.name == 'trino' else 'table' }}\"\n    +tags: [\"{{ target.type }}\"]\n",
    );
    write(root, "models/a.sql", "select 1 as id\n");
    write(
        root,
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        data_tests:\n          - unique:\n              config:\n                enabled: \"{{ target.type in ['bigquery', 'trino'] }}\"\n          - not_null\n",
    );
    let (project, _) = compile_ok(root);
    let a = &project.nodes["model.shop.a"];
    assert_eq!(a.materialized(), "table");
    assert_eq!(a.config.0["tags"], serde_json::json!(["duckdb"]));
    let tests: Vec<&str> = project
        .nodes
        .values()
        .filter(|n| n.resource_type == modelc_core::ResourceType::Test)
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(tests, ["not_null_a_id"]);
}

/// A test argument's text renders as dbt renders it, `{{ }}` and `{% %}` alike,
/// in the test's context.
#[test]
fn test_argument_text_renders_its_jinja() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "dbt_project.yml",
        "name: shop
vars:
  low: 2
",
    );
    write(
        root,
        "models/a.sql",
        "select 1 as id
",
    );
    write(
        root,
        "macros/where_ok.sql",
        "{% test where_ok(model, condition) %}select * from {{ model }} where not ({{ condition }}){% endtest %}\n",
    );
    write(
        root,
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: a\n    data_tests:\n      - where_ok:\n          condition: \"id >= {{ var('low') }}\"\n      - where_ok:\n          condition: \"{% if target.type == 'duckdb' %}id > 0{% else %}true{% endif %} and {% for c in ['id'] %}{{ c }} is not null{% endfor %}\"\n",
    );
    let (project, _) = compile_ok(root);
    let mut sql: Vec<&str> = project
        .nodes
        .values()
        .filter(|n| n.resource_type == modelc_core::ResourceType::Test)
        .filter_map(|n| n.compiled_code.as_deref())
        .collect();
    sql.sort();
    assert_eq!(
        sql,
        [
            r#"select * from "modelc"."main"."a" where not (id > 0 and id is not null)"#,
            r#"select * from "modelc"."main"."a" where not (id >= 2)"#,
        ]
    );
}

/// `tests/fixtures/` holds unit tests' input files (dbt 1.8+), not singular tests.
#[test]
fn unit_test_fixtures_are_not_singular_tests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "dbt_project.yml", "name: shop\n");
    write(root, "models/a.sql", "select 1 as id\n");
    write(
        root,
        "tests/assert_a.sql",
        "select * from {{ ref('a') }} where id < 0\n",
    );
    write(
        root,
        "tests/fixtures/a_rows.sql",
        "select {{ no_such_macro() }} as id\n",
    );
    write(root, "tests/fixtures/a_rows.csv", "id\n1\n");
    let (project, _) = compile_ok(root);
    let tests: Vec<&str> = project
        .nodes
        .values()
        .filter(|n| n.resource_type == modelc_core::ResourceType::Test)
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(tests, ["assert_a"]);
}

/// An error only `execute` reaches is the node's error when it runs, as in dbt:
/// the compile warns and goes on; an error the parse phase reaches fails it.
#[test]
fn execute_time_errors_wait_for_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "dbt_project.yml", "name: shop\n");
    write(
        root,
        "macros/json.sql",
        "{% macro json_fn() %}{% if target.type == 'snowflake' %}object_construct{% elif execute %}{% do exceptions.raise_compiler_error('Unknown adapter ' ~ target.type) %}{% endif %}{% endmacro %}\n",
    );
    write(root, "models/a.sql", "select {{ json_fn() }}('k', 1) as j\n");
    write(root, "models/b.sql", "select 1 as id\n");
    let (project, diags) = compile_ok(root);
    assert!(project.nodes["model.shop.a"].late_render);
    assert!(!project.nodes["model.shop.b"].late_render);
    assert!(
        diags
            .iter()
            .any(|d| d.contains("late-render") && d.contains("Unknown adapter duckdb")),
        "{diags:#?}"
    );
    // At run time the render fails again: the node's error.
    let e = project.render_late("model.shop.a", None, None).unwrap_err();
    assert!(e.message.contains("Unknown adapter duckdb"), "{e:?}");

    write(root, "models/c.sql", "select {{ no_such_macro() }}\n");
    let out = compile(root, &CompileOptions::default());
    assert!(out.project.is_none());
}

/// `{{ doc('name') }}` in descriptions is the docs block's text, as in dbt; an
/// unknown block is an error naming the YAML file.
#[test]
fn descriptions_render_docs_blocks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "dbt_project.yml", "name: shop\n");
    write(root, "models/a.sql", "select 1 as id\n");
    write(
        root,
        "models/docs.md",
        "{% docs a_table %}\nOne row per **thing**.\n{% enddocs %}\n",
    );
    write(
        root,
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: a\n    description: '{{ doc(\"a_table\") }}'\n    columns:\n      - name: id\n        description: 'Key. {{ doc(\"a_table\") }}'\n",
    );
    let (project, _) = compile_ok(root);
    let a = &project.nodes["model.shop.a"];
    assert_eq!(a.description, "One row per **thing**.");
    assert_eq!(a.columns[0].description, "Key. One row per **thing**.");

    write(root, "models/docs.md", "");
    let out = compile(root, &CompileOptions::default());
    let errors: Vec<String> = out
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert!(out.project.is_none());
    assert!(
        errors
            .iter()
            .any(|e| e.contains("models/schema.yml") && e.contains("doc('a_table')")),
        "{errors:#?}"
    );
}
