//! The compile state is never stale: `modelc compile` patches the last results only
//! when model SQL files changed in ways that cannot touch any other node, and every
//! other change compiles in full. Either way, the manifest, the compiled SQL and the
//! warnings equal those of a compile without any cache.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use modelc_compile::{artifacts, compile, CompileOptions};
use serde_json::Value;

mod common;
use common::{cached, compile_like_the_cli, example_project, recompile, shop, write};

#[test]
fn a_changed_model_body_is_patched_into_the_last_results() {
    let dir = shop();
    let root = dir.path();
    assert!(!recompile(root, &cached()), "no state yet: a full compile");
    assert!(recompile(root, &cached()), "nothing changed");
    write(
        root,
        "models/customers.sql",
        "-- customers, with their region\nselect c.*, upper('eu') as region from {{ ref('stg_customers') }} c\n",
    );
    assert!(recompile(root, &cached()), "only the body changed");
    // Two models at once, one of them with a macro call it did not make before.
    write(
        root,
        "models/orders_per_customer.sql",
        "select customer_id, count(*) as orders, sum({{ cents('1') }}) as c from {{ ref('stg_orders') }} group by 1\n",
    );
    write(
        root,
        "models/stg_customers.sql",
        "select id, name from {{ ref('raw_customers') }} where id > 0\n",
    );
    assert!(recompile(root, &cached()), "two bodies changed");
    assert!(recompile(root, &cached()), "and the state saved after a patch is valid");
}

/// Each change that can affect other nodes, or that the state does not follow,
/// compiles in full; the compile after it can use the new state again.
#[test]
fn changes_beyond_model_bodies_compile_in_full() {
    let dir = shop();
    let root = dir.path();
    recompile(root, &cached());
    let changes: &[(&str, &str, &str)] = &[
        ("a config() call", "models/customers.sql", "{{ config(materialized='table') }}\nselect c.*, 'eu' as region from {{ ref('stg_customers') }} c\n"),
        ("a different ref", "models/orders_per_customer.sql", "select customer_id, count(*) as orders from {{ ref('big_orders') }} group by 1\n"),
        ("a macro", "macros/cents.sql", "{% macro cents(col) %}({{ col }} * 1000){% endmacro %}\n"),
        ("an unused macro", "macros/unused.sql", "{% macro unused() %}2{% endmacro %}\n"),
        ("a YAML description", "models/_models.yml", "version: 2\nmodels:\n  - name: customers\n    description: Customers.\n    columns:\n      - name: id\n        data_tests: [unique]\n"),
        ("a new model", "models/new_model.sql", "select 1 as x\n"),
        ("the project file", "project.yml", "name: shop\nduckdb:\n  path: shop.duckdb\nvars:\n  min_amount: 20\n  unused: 1\n"),
        ("a seed", "seeds/raw_customers.csv", "id,name,city\n1,ann,paris\n"),
    ];
    for (what, path, text) in changes {
        write(root, path, text);
        assert!(!recompile(root, &cached()), "{what} changed: a full compile");
        assert!(
            recompile(root, &cached()),
            "{what}: the next compile uses the new state"
        );
    }
    std::fs::remove_file(root.join("models/new_model.sql")).expect("rm");
    assert!(!recompile(root, &cached()), "a model removed: a full compile");

    let mut vars = serde_json::Map::new();
    vars.insert("min_amount".into(), Value::from(5));
    let with_vars = CompileOptions { vars, ..cached() };
    assert!(!recompile(root, &with_vars), "--vars changed: a full compile");
    assert!(recompile(root, &with_vars));
    assert!(!recompile(root, &cached()), "--vars dropped again: a full compile");

    // Another command rewrote the manifest: the state no longer matches it.
    let project = compile(root, &cached()).project.expect("compiles");
    artifacts::write(&project, "other").expect("write");
    assert!(
        !recompile(root, &cached()),
        "a manifest the state did not write: a full compile"
    );
}

#[test]
fn warnings_of_a_patched_model_move_with_it() {
    let dir = shop();
    let root = dir.path();
    write(root, "models/direct.sql", "select * from main.raw_orders\n");
    recompile(root, &cached());
    write(
        root,
        "models/direct.sql",
        "-- reads the seed's table by name\n\nselect *\nfrom main.raw_orders\n",
    );
    assert!(recompile(root, &cached()));
}

#[test]
fn ephemeral_models_and_their_readers_compile_in_full() {
    let dir = shop();
    let root = dir.path();
    write(
        root,
        "models/eph.sql",
        "{{ config(materialized='ephemeral') }}\nselect id from {{ ref('stg_orders') }}\n",
    );
    write(root, "models/reads_eph.sql", "select id from {{ ref('eph') }}\n");
    recompile(root, &cached());
    write(
        root,
        "models/eph.sql",
        "{{ config(materialized='ephemeral') }}\nselect id from {{ ref('stg_orders') }} where id > 1\n",
    );
    assert!(
        !recompile(root, &cached()),
        "an ephemeral model is inlined into its readers"
    );
    write(
        root,
        "models/reads_eph.sql",
        "select id, 1 as one from {{ ref('eph') }}\n",
    );
    assert!(
        !recompile(root, &cached()),
        "a reader of an ephemeral model has it as a CTE"
    );
}

#[test]
fn a_project_with_renders_that_change_at_every_compile_always_compiles_in_full() {
    let dir = shop();
    let root = dir.path();
    write(root, "models/stamped.sql", "select '{{ invocation_id }}' as run\n");
    assert!(!compile_like_the_cli(root, &cached()).0);
    assert!(!compile_like_the_cli(root, &cached()).0);
    assert!(!root.join("target/compile_state.msgpack").exists());
}

#[test]
fn the_example_project_patches_a_changed_model() {
    let dir = example_project();
    let root = dir.path();
    assert!(!recompile(root, &cached()));
    assert!(recompile(root, &cached()), "nothing changed");
    let path = root.join("models/marts/finance/daily_loan_applications.sql");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, format!("-- reviewed\n{text}")).expect("write");
    assert!(recompile(root, &cached()), "a mart's body changed");
}

/// With the column checks on, a changed model is checked against the columns its
/// upstreams had; a mistake, or a change of the model's own columns (which its
/// downstreams were checked against), is left to a full compile.
#[test]
fn changed_models_are_checked_and_column_changes_compile_in_full() {
    let dir = shop();
    let root = dir.path();
    recompile(root, &cached());
    write(
        root,
        "models/customers.sql",
        "select c.id, c.nam, 'eu' as region from {{ ref('stg_customers') }} c\n",
    );
    let why = modelc_compile::state::recompile(root, &cached(), "test").expect_err("not patched");
    assert!(why.contains("errors"), "{why}");
    let out = compile(root, &cached());
    assert!(out.project.is_none());
    let errors: Vec<String> = out.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("models/customers.sql:1:") && e.contains("'nam'") && e.contains("did you mean 'name'")),
        "{errors:?}"
    );
    write(
        root,
        "models/customers.sql",
        "select c.*, 'eu' as region from {{ ref('stg_customers') }} c\n",
    );
    recompile(root, &cached());
    // New columns of an upstream model: its downstreams need checking again.
    write(
        root,
        "models/stg_customers.sql",
        "select id, name, name as full_name from {{ ref('raw_customers') }}\n",
    );
    let why = modelc_compile::state::recompile(root, &cached(), "test").expect_err("not patched");
    assert!(why.contains("columns of model.shop.stg_customers changed"), "{why}");
    assert!(!recompile(root, &cached()), "a full compile");
    assert!(recompile(root, &cached()), "then patches again");
}

/// Generic tests' compiled files are written when something asks for them
/// (`artifacts::write_compiled`: `compile -s`, a failing test), not by every compile,
/// and kept current once they are there.
#[test]
fn generic_tests_files_are_written_when_asked_for_and_kept_current() {
    let dir = shop();
    let root = dir.path();
    recompile(root, &cached());
    let compiled = root.join("target/compiled/shop/models");
    let test_file = compiled.join("_models.yml/unique_customers_id.sql");
    assert!(compiled.join("customers.sql").exists());
    assert!(!test_file.exists(), "not asked for yet");
    let (project, _) = common::compile_ok(root);
    let test = project.nodes.values().filter(|n| n.name == "unique_customers_id");
    artifacts::write_compiled(&project, test).unwrap();
    assert!(std::fs::read_to_string(&test_file)
        .unwrap()
        .contains(r#""shop"."main"."customers""#));
    // Its SQL changes with its model's alias: the file follows (and equals a compile's).
    write(
        root,
        "models/customers.sql",
        "{{ config(alias='clients') }}\nselect c.*, 'eu' as region from {{ ref('stg_customers') }} c\n",
    );
    assert!(!recompile(root, &cached()), "a config() call changed: a full compile");
    assert!(std::fs::read_to_string(&test_file)
        .unwrap()
        .contains(r#""shop"."main"."clients""#));
}
