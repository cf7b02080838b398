//! Unit tests (`unit_tests:` in YAML): a model's SQL on fixed rows, run in a
//! throw-away in-memory DuckDB without building anything upstream.

use crate::support::{Fixture, PROJECT_YML};

const MODEL: &str = "select c.id as customer_id, c.name, count(o.id) as orders, coalesce(sum(o.amount), 0) as total,\n       min(o.ordered_at) as first_order\nfrom {{ ref('customers') }} c\nleft join {{ ref('orders') }} o on o.customer_id = c.id and o.status <> 'cancelled'\ngroup by c.id, c.name\n";

const UNIT_TESTS: &str = r#"unit_tests:
  - name: cancelled_orders_do_not_count
    model: customer_totals
    given:
      - input: ref('customers')
        format: csv
        fixture: three_customers
      - input: ref('orders')
        rows:
          - {id: 1, customer_id: 1, status: open, amount: 10, ordered_at: 2024-01-05}
          - {id: 2, customer_id: 1, status: cancelled, amount: 99}
          - {id: 3, customer_id: 2, status: shipped, amount: 5.5, ordered_at: 2024-02-01}
    expect:
      rows:
        - {customer_id: 1, orders: 1, total: 10, first_order: 2024-01-05}
        - {customer_id: 2, orders: 1, total: 5.5, first_order: 2024-02-01}
        - {customer_id: 3, orders: 0, total: 0}
  - name: totals_are_summed
    model: customer_totals
    given:
      - input: ref('customers')
        format: csv
        rows: |
          id,name
          1,Ada
          2,Bob
      - input: ref('orders')
        format: sql
        rows: select 1 as id, 1 as customer_id, 'open' as status, 3 as amount, date '2024-01-01' as ordered_at
    expect:
      rows:
        - {customer_id: 1, total: 4}
        - {customer_id: 2, total: 0}
        - {customer_id: 9, total: 0}
"#;

fn shop() -> Fixture {
    Fixture::new(&[
        ("project.yml", PROJECT_YML),
        (
            "seeds/orders.csv",
            "id,customer_id,status,amount,ordered_at\n1,1,open,10.5,2024-01-01\n",
        ),
        ("seeds/customers.csv", "id,name\n1,Ada\n"),
        ("models/customer_totals.sql", MODEL),
        (
            "models/customer_names.sql",
            "select name from {{ ref('customer_totals') }}\n",
        ),
        ("tests/fixtures/three_customers.csv", "id,name\n1,Ada\n2,Bob\n3,Cy\n"),
        ("models/_unit_tests.yml", UNIT_TESTS),
    ])
}

#[test]
fn a_unit_test_compares_the_models_rows_and_shows_the_difference() {
    let f = shop();
    let out = f.modelc(&["test", "--threads", "1"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    // The first passes (the rows it does not name are null; only the columns
    // expected are compared); the second differs in two rows.
    insta::assert_snapshot!("unit_test_failure", out.redacted(f.path()));
    // Nothing upstream was built: unit tests need no database.
    assert!(!f.db_path().exists() || f.query("select count(*) from information_schema.tables")[0][0] == "0");
}

#[test]
fn build_runs_a_models_unit_tests_first_and_a_failure_skips_it() {
    let f = shop();
    let out = f.modelc(&["build", "--threads", "1"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let line = |needle: &str| {
        out.stdout
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle}:\n{}", out.stdout))
    };
    assert!(
        line("PASS  unit_test customer_totals::cancelled_orders_do_not_count")
            < line("SKIP  view model main.customer_totals")
    );
    assert!(
        out.stdout.contains("SKIP  view model main.customer_names"),
        "{}",
        out.stdout
    );
    let views = f.query(
        "select count(*) from information_schema.tables where table_name in ('customer_totals', 'customer_names')",
    );
    assert_eq!(views[0][0], "0", "a model whose unit test failed is not built");

    // Fixed, the model builds after its unit tests pass.
    f.write(
        "models/_unit_tests.yml",
        &UNIT_TESTS
            .replace("{customer_id: 1, total: 4}", "{customer_id: 1, total: 3}")
            .replace("        - {customer_id: 9, total: 0}\n", ""),
    );
    let out = f.modelc(&["build", "--threads", "1"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("2 unit_tests"), "{}", out.stdout);
    assert_eq!(
        f.query("select name from main.customer_names"),
        vec![vec!["Ada".to_string()]]
    );
}

#[test]
fn unit_tests_are_selected_with_their_model_or_by_test_type() {
    let f = shop();
    let ls = |args: &[&str]| {
        let mut all = vec!["ls", "--resource-type", "unit_test"];
        all.extend(args);
        let out = f.modelc(&all);
        assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
        out.stdout.lines().filter(|l| !l.trim().is_empty()).count()
    };
    assert_eq!(ls(&[]), 2);
    assert_eq!(ls(&["-s", "test_type:unit"]), 2);
    assert_eq!(ls(&["-s", "customer_totals"]), 2);
    assert_eq!(ls(&["-s", "customer_names"]), 0);
    assert_eq!(ls(&["-s", "customer_totals", "--exclude", "test_type:unit"]), 0);
    let out = f.modelc(&["test", "-s", "test_type:data"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("unit_test"), "{}", out.stdout);

    let out = f.modelc(&["compile"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.path().join("target/manifest.json")).expect("manifest"))
            .expect("json");
    let entry = &manifest["unit_tests"]["unit_test.shop.customer_totals.totals_are_summed"];
    assert_eq!(entry["model"], "customer_totals", "{entry}");
    assert_eq!(entry["depends_on"]["nodes"][0], "model.shop.customer_totals", "{entry}");
    assert_eq!(entry["given"][1]["format"], "sql", "{entry}");
    assert!(manifest["nodes"]
        .get("unit_test.shop.customer_totals.totals_are_summed")
        .is_none());
}

#[test]
fn an_incremental_model_is_tested_in_both_modes() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("seeds/events.csv", "id,loaded_at\n1,2024-01-01\n"),
        (
            "models/new_events.sql",
            "{{ config(materialized='incremental', unique_key='id') }}\nselect id, loaded_at from {{ ref('events') }}\n{% if is_incremental() %}where loaded_at > (select max(loaded_at) from {{ this }}){% endif %}\n",
        ),
        (
            "models/_unit_tests.yml",
            r#"unit_tests:
  - name: full_build_takes_every_event
    model: new_events
    given:
      - input: ref('events')
        rows: [{id: 1, loaded_at: 2024-01-01}, {id: 2, loaded_at: 2024-01-02}]
    expect:
      rows: [{id: 1}, {id: 2}]
  - name: incremental_run_takes_newer_events
    model: new_events
    overrides:
      macros: {is_incremental: true}
    given:
      - input: ref('events')
        rows: [{id: 1, loaded_at: 2024-01-01}, {id: 2, loaded_at: 2024-01-02}, {id: 3, loaded_at: 2024-01-03}]
      - input: this
        rows: [{id: 1, loaded_at: 2024-01-01}, {id: 2, loaded_at: 2024-01-02}]
    expect:
      rows: [{id: 3, loaded_at: 2024-01-03}]
"#,
        ),
    ]);
    let out = f.modelc(&["test", "-s", "test_type:unit"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("PASS=2"), "{}", out.stdout);
}

#[test]
fn bad_unit_tests_are_errors_at_their_yaml_line() {
    let f = shop();
    f.write(
        "models/_unit_tests.yml",
        r#"unit_tests:
  - name: unknown_model
    model: customer_total
    given: []
    expect: {rows: []}
  - name: input_not_read
    model: customer_totals
    given:
      - input: ref('customers')
        rows: [{id: 1}]
      - input: ref('customer_names')
        rows: [{name: x}]
    expect: {rows: []}
  - name: missing_fixture
    model: customer_totals
    given:
      - input: ref('customers')
        format: csv
        fixture: nowhere
      - input: ref('orders')
        rows: [{id: 1}]
    expect: {rows: []}
  - name: unsupported_override
    model: customer_totals
    overrides:
      variables: {x: 1}
    given:
      - input: ref('customers')
        rows: [{id: 1}]
      - input: ref('orders')
        rows: [{id: 1}]
    expect: {rows: []}
"#,
    );
    let out = f.modelc(&["test"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    insta::assert_snapshot!("unit_test_bad_input", out.redacted(f.path()));

    // The YAML's own shape is checked first.
    f.write(
        "models/_unit_tests.yml",
        "unit_tests:\n  - name: t\n    model: customer_totals\n    given:\n      - rows: [{id: 1}]\n    expect:\n      format: yaml\n      rows: []\n",
    );
    let out = f.modelc(&["test"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    for message in [
        "models/_unit_tests.yml:5:1",
        "an entry of unit test 't''s 'given:' has no 'input:'",
        "models/_unit_tests.yml:7:1",
        "unit test 't': format 'yaml' is not one of dict, csv, sql",
    ] {
        assert!(out.stderr.contains(message), "{message}\n{}", out.stderr);
    }
}

#[test]
fn an_expected_column_the_model_does_not_return_is_an_error() {
    let f = shop();
    f.write(
        "models/_unit_tests.yml",
        "unit_tests:\n  - name: t\n    model: customer_totals\n    given:\n      - input: ref('customers')\n        rows: [{id: 1, name: Ada}]\n      - input: ref('orders')\n        rows: [{id: 1, customer_id: 1}]\n    expect:\n      rows: [{customer_id: 1, revenue: 3}]\n",
    );
    let out = f.modelc(&["test"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("expect names column 'revenue', which the model does not return (it returns customer_id, name, orders, total, first_order) (models/_unit_tests.yml:9)"),
        "{}",
        out.stdout
    );
}

#[test]
fn overrides_give_the_model_other_vars_and_env_vars() {
    let f = Fixture::new(&[
        ("project.yml", "name: shop\nduckdb:\n  path: shop.duckdb\nvars:\n  min_amount: 100\n"),
        ("seeds/orders.csv", "id,amount\n1,10\n"),
        (
            "models/big_orders.sql",
            "select id, '{{ env_var('REGION', 'eu') }}' as region from {{ ref('orders') }} where amount >= {{ var('min_amount') }}\n",
        ),
        (
            "models/_unit_tests.yml",
            r#"unit_tests:
  - name: project_threshold
    model: big_orders
    given:
      - input: ref('orders')
        rows: [{id: 1, amount: 50}, {id: 2, amount: 150}]
    expect:
      rows: [{id: 2, region: eu}]
  - name: lower_threshold_elsewhere
    model: big_orders
    overrides:
      vars: {min_amount: 20}
      env_vars: {REGION: us}
    given:
      - input: ref('orders')
        rows: [{id: 1, amount: 50}, {id: 2, amount: 150}, {id: 3, amount: 5}]
    expect:
      rows: [{id: 1, region: us}, {id: 2, region: us}]
"#,
        ),
    ]);
    let out = f.modelc(&["test"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("PASS=2"), "{}", out.stdout);
}

/// An ephemeral model a model reads is given rows like any other input (dbt asks
/// for `format: sql` there; any format works here): its CTE reads them, and the
/// ephemeral models only it read are left out, so nothing upstream is needed.
#[test]
fn an_ephemeral_input_is_given_rows() {
    let yml = "unit_tests:
  - name: big_orders_from_the_ephemeral_model
    model: big_orders
    given:
      - input: ref('open_orders')
        format: sql
        rows: select 1 as id, 50 as amount union all select 2, 500
    expect:
      rows:
        - {id: 2}
";
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("seeds/orders.csv", "id,status,amount\n1,open,10\n"),
        (
            "models/base_orders.sql",
            "{{ config(materialized='ephemeral') }}\nselect * from {{ ref('orders') }}\n",
        ),
        (
            "models/open_orders.sql",
            "{{ config(materialized='ephemeral') }}\nselect id, amount from {{ ref('base_orders') }} where status = 'open'\n",
        ),
        (
            "models/big_orders.sql",
            "with big as (select id from {{ ref('open_orders') }} where amount > 100)\nselect id from big\n",
        ),
        ("models/_unit_tests.yml", yml),
    ]);
    let out = f.modelc(&["test", "-s", "test_type:unit"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("PASS=1"), "{}", out.stdout);
    // The rows are what the test sees: other expected rows fail it.
    f.write("models/_unit_tests.yml", &yml.replace("{id: 2}", "{id: 1}"));
    let out = f.modelc(&["test", "-s", "test_type:unit"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
}

/// dbt's other overrides and fixtures, as packages' own unit tests use them
/// (dbt-audit-helper's): a macro answered with a value, `expect: {rows: []}`, a
/// `format: sql` fixture file with Jinja, and a render error only running can tell.
#[test]
fn macro_overrides_empty_expectations_and_sql_fixtures_with_jinja() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("seeds/src.csv", "id\n1\n"),
        // A macro that asks the database: overridden, it is not run.
        (
            "macros/bounds.sql",
            "{% macro bounds() %}{% set r = run_query('select 1 as lo') %}{{ return({'lo': r.columns[0].values()[0]}) }}{% endmacro %}\n\
             {% macro not_here() %}{% if execute %}{{ exceptions.raise_compiler_error('not_here() is not implemented for duckdb') }}{% endif %}{% endmacro %}\n",
        ),
        (
            "models/m.sql",
            "{% set b = bounds() if var('use_bounds', false) else {'lo': 0} %}select id from {{ ref('src') }} where id >= {{ b['lo'] }}\n",
        ),
        ("models/none.sql", "select id from {{ ref('src') }} where id < 0\n"),
        ("models/late.sql", "select id from {{ ref('src') }}{{ not_here() }}\n"),
        ("tests/fixtures/two.sql", "select {{ 1 + 1 }} as id union all select 5\n"),
        (
            "tests/fixtures/late.sql",
            "{% if execute %}{{ exceptions.raise_compiler_error('no such fixture on duckdb') }}{% endif %}select 1 as id\n",
        ),
        (
            "models/_unit_tests.yml",
            r#"unit_tests:
  - name: overridden_macro
    model: m
    overrides:
      vars: {use_bounds: true}
      macros: {bounds: {lo: 2}}
    given:
      - input: ref('src')
        rows: [{id: 1}, {id: 2}, {id: 3}]
    expect:
      rows: [{id: 2}, {id: 3}]
  - name: no_rows_expected
    model: none
    given:
      - input: ref('src')
        format: sql
        fixture: two
    expect:
      rows: []
  - name: rows_from_a_rendered_fixture
    model: m
    given:
      - input: ref('src')
        format: sql
        fixture: two
    expect:
      rows: [{id: 2}, {id: 5}]
  - name: late_fixture
    model: none
    given:
      - input: ref('src')
        format: sql
        fixture: late
    expect:
      rows: []
  - name: late_error
    model: late
    overrides:
      vars: {x: 1}
    given:
      - input: ref('src')
        rows: [{id: 1}]
    expect:
      rows: [{id: 1}]
"#,
        ),
    ]);
    let out = f.modelc(&["test", "--threads", "1"]);
    // The package's own error is the test's, when it runs; the others pass.
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    for line in [
        "PASS  unit_test m::overridden_macro",
        "PASS  unit_test none::no_rows_expected",
        "PASS  unit_test m::rows_from_a_rendered_fixture",
        "ERROR unit_test late::late_error",
        "Failure in unit_test late_error (models/_unit_tests.yml:36)\n  rendering model 'late' with its overrides",
        "Failure in unit_test late_fixture (models/_unit_tests.yml:28)\n  the rows of ref('src'): invalid operation: no such fixture on duckdb",
        "not_here() is not implemented for duckdb",
    ] {
        assert!(out.stdout.contains(line), "{line}\n{}\n{}", out.stdout, out.stderr);
    }

    // Rows where none are expected fail, and show.
    f.write("models/none.sql", "select id from {{ ref('src') }} where id > 3\n");
    let out = f.modelc(&["test", "-s", "none"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("actual differs from expected in 1 row\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("+ | 5"), "{}", out.stdout);

    // The override is the macro's answer: another value, other rows.
    let yml = std::fs::read_to_string(f.path().join("models/_unit_tests.yml")).expect("yml");
    f.write(
        "models/_unit_tests.yml",
        &yml.replace("{bounds: {lo: 2}}", "{bounds: {lo: 3}}"),
    );
    let out = f.modelc(&["test", "-s", "m"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("- | 2"), "{}", out.stdout);
}
