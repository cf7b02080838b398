//! Rendering nodes: dbt's context functions, macros, and located errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use modelc_template::{Jinja, MacroFile, NodeContext, ProjectContext};
use serde_json::json;

fn jinja(macros: &[(&str, &str)]) -> Jinja {
    let mut ctx = ProjectContext {
        project_name: "lending".into(),
        ..Default::default()
    };
    ctx.vars.insert("start_date".into(), json!("2023-01-01"));
    ctx.target.insert("schema".into(), json!("main"));
    ctx.target.insert("name".into(), json!("dev"));
    let files: Vec<MacroFile> = macros
        .iter()
        .map(|(p, t)| MacroFile {
            path: p.to_string(),
            text: t.to_string(),
            // Files under `dbt_packages/<name>/` belong to package `<name>`.
            package: p
                .strip_prefix("dbt_packages/")
                .and_then(|r| r.split('/').next())
                .map(str::to_owned),
        })
        .collect();
    let (j, diags) = Jinja::new(ctx, &files);
    assert!(diags.is_empty(), "{diags:?}");
    j
}

fn node(name: &str) -> NodeContext {
    NodeContext {
        name: name.into(),
        unique_id: format!("model.lending.{name}"),
        resource_type: "model".into(),
        original_file_path: format!("models/{name}.sql"),
        ..Default::default()
    }
}

/// Renders and prints the SQL followed by everything captured.
fn check(j: &Jinja, src: &str, incremental: bool) -> String {
    let mut n = node("m");
    n.is_incremental = incremental;
    let out = j.render("models/m.sql", src, &n).expect("renders");
    format!(
        "{}\n---\nrefs: {:?}\nsources: {:?}\nconfig: {}\nmacros: {:?}\nvars: {:?}\nis_incremental used: {}",
        out.sql,
        out.refs.iter().map(|r| (&r.package, &r.name)).collect::<Vec<_>>(),
        out.sources,
        serde_json::Value::Object(out.config),
        out.macros,
        out.vars,
        out.uses_is_incremental
    )
}

#[test]
fn model_context() {
    let j = jinja(&[(
        "macros/money.sql",
        "{% macro cents(col, scale=2) %}round({{ col }} / 100, {{ scale }}){% endmacro %}\n\
         {% macro twice(col) %}{{ cents(col) }} * 2{% endmacro %}\n\
         {% macro pick() %}{{ return({'a': 1, 'b': [2, 3]}) }}{% endmacro %}",
    )]);
    let src = "{{ config(materialized='incremental', unique_key='id', tags=['finance']) }}\n\
select a.id, {{ twice('a.amount') }} as amt, {{ pick()['b'][1] }} as three\n\
from {{ ref('stg_a') }} a join {{ ref('lending', 'stg_b') }} b using (id)\n\
join {{ source('raw', 'scores') }} s on s.id = a.id\n\
where day >= '{{ var(\"start_date\") }}' and '{{ var(\"missing\", \"dflt\") }}' = 'dflt'\n\
{% if is_incremental() %}and day > (select max(day) from {{ this }}){% endif %}\n\
-- {{ this.identifier }} {{ ref('stg_a').schema }} {{ config.get('unique_key') }}";
    insta::assert_snapshot!("model_context_full", check(&j, src, false));
    insta::assert_snapshot!("model_context_incremental", check(&j, src, true));
}

#[test]
fn builtin_tests_and_dispatch() {
    let j = jinja(&[("macros/d.sql", "{% macro default__greet() %}hello{% endmacro %}")]);
    let src = "{{ test_not_null(model=get_where_subquery(ref('x')), column_name='id') }}\n{{ adapter.dispatch('greet')() }} {{ dbt.type_string() }}";
    insta::assert_snapshot!("builtin_tests", check(&j, src, false));
}

#[test]
fn where_config_wraps_the_tested_relation() {
    let j = jinja(&[]);
    let mut n = node("t");
    n.config.insert("where".into(), json!("status = 'approved'"));
    let out = j
        .render(
            "t.sql",
            "{{ test_unique(model=get_where_subquery(ref('x')), column_name='id') }}",
            &n,
        )
        .unwrap();
    assert!(
        out.sql
            .contains("from (select * from __modelc_ref_0__ where status = 'approved') dbt_subquery"),
        "{}",
        out.sql
    );
}

#[test]
fn project_macros_override_builtins() {
    let j = jinja(&[(
        "macros/schema.sql",
        "{% macro generate_schema_name(custom, node) %}{{ custom or target.schema }}{% endmacro %}",
    )]);
    assert!(j.is_overridden("generate_schema_name"));
    assert!(!j.is_overridden("generate_alias_name"));
    let out = j
        .call_macro("generate_schema_name", &[json!("finance"), json!({})], &node("m"))
        .unwrap();
    assert_eq!(out.trim(), "finance");
    let default = jinja(&[]);
    let out = default
        .call_macro("generate_schema_name", &[json!("finance"), json!({})], &node("m"))
        .unwrap();
    assert_eq!(out.trim(), "main_finance");
    let out = default
        .call_macro("generate_schema_name", &[json!(null), json!({})], &node("m"))
        .unwrap();
    assert_eq!(out.trim(), "main");
}

#[test]
fn errors_name_file_and_line() {
    let j = jinja(&[(
        "macros/bad.sql",
        "{% macro boom() %}\n\n{{ exceptions.raise_compiler_error('kaboom') }}\n{% endmacro %}",
    )]);
    let e = j
        .render("models/m.sql", "select 1\n{{ var('nope') }}", &node("m"))
        .unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("models/m.sql", 2));
    assert!(e.message.contains("required var 'nope' not found"), "{}", e.message);

    let e = j.render("models/m.sql", "select 1\n{% if %}", &node("m")).unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("models/m.sql", 2), "{e:?}");

    let e = j.render("models/m.sql", "\n\n{{ boom() }}", &node("m")).unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("macros/bad.sql", 3), "{e:?}");
    assert!(e.message.contains("kaboom"));

    let (_, diags) = Jinja::new(
        ProjectContext::default(),
        &[
            MacroFile {
                path: "macros/a.sql".into(),
                text: "{% macro x() %}{% endmacro %}".into(),
                package: None,
            },
            MacroFile {
                path: "macros/b.sql".into(),
                text: "\n{% macro x() %}{% endmacro %}".into(),
                package: None,
            },
            MacroFile {
                path: "macros/c.sql".into(),
                text: "{% macro y() %}{% if %}{% endmacro %}".into(),
                package: None,
            },
        ],
    );
    let shown: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
    insta::assert_snapshot!("macro_file_errors", shown.join("\n"));
}

/// `model` describes the node being rendered, its config as known before rendering.
#[test]
fn model_variable_describes_the_node() {
    let j = jinja(&[]);
    let mut n = node("orders");
    n.config.insert("materialized".into(), json!("table"));
    let src = "{{ model.name }}|{{ model.unique_id }}|{{ model.resource_type }}|{{ model.original_file_path }}|\
{{ model.config.materialized }}|{{ model['name'] }}|{{ model.missing is undefined }}";
    let out = j.render("models/orders.sql", src, &n).expect("renders");
    assert_eq!(
        out.sql,
        "orders|model.lending.orders|model|models/orders.sql|table|orders|True"
    );
}

/// The built-in `not_null` and `unique` tests rendered without the engine equal
/// their macros' renders, for every shape of config they read.
#[test]
fn builtin_tests_render_natively_as_their_macros_do() {
    use modelc_template::TestModel;
    let j = jinja(&[]);
    let models = [
        (TestModel::Ref("orders".into()), "ref('orders')"),
        (
            TestModel::Source("raw".into(), "events".into()),
            "source('raw', 'events')",
        ),
    ];
    let configs = [
        json!({}),
        json!({"store_failures": true}),
        json!({"store_failures": false, "where": "amount > 0"}),
        json!({"store_failures": "yes", "where": "  "}),
        json!({"where": "ts > date '2024-01-01'", "severity": "warn"}),
    ];
    let mut checked = 0;
    for test in ["not_null", "unique"] {
        for (model, call) in &models {
            for config in &configs {
                for column in ["id", "order_id", "lower(email)"] {
                    let mut n = node("t");
                    n.config = config.as_object().cloned().unwrap_or_default();
                    let mut args = serde_json::Map::new();
                    args.insert("column_name".into(), json!(column));
                    let template = format!(
                        "{{{{ test_{test}(model=get_where_subquery({call}), column_name={}) }}}}",
                        json!(column)
                    );
                    let engine = j.render("models/x.yml", &template, &n).expect("renders");
                    let native = j.render_builtin_test(test, model, &args, &n.config).expect("native");
                    assert_eq!(native, engine, "{template} with {config}");
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 60);
    // Other tests, other arguments, or an overridden macro: the engine renders.
    let mut args = serde_json::Map::new();
    args.insert("column_name".into(), json!("id"));
    let model = TestModel::Ref("orders".into());
    assert!(j
        .render_builtin_test("accepted_values", &model, &args, &Default::default())
        .is_none());
    args.insert("values".into(), json!([1]));
    assert!(j
        .render_builtin_test("not_null", &model, &args, &Default::default())
        .is_none());
    args.remove("values");
    let overridden = jinja(&[(
        "macros/t.sql",
        "{% test not_null(model, column_name) %}select 1{% endtest %}",
    )]);
    assert!(overridden
        .render_builtin_test("not_null", &model, &args, &Default::default())
        .is_none());
    assert!(overridden
        .render_builtin_test("unique", &model, &args, &Default::default())
        .is_some());
}
