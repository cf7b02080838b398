//! Views, tables, ephemeral models, seeds and custom schemas on DuckDB.

use crate::support::{table, Fixture, PROJECT_YML};

#[test]
fn materializations_and_schemas() {
    let f = Fixture::new(&[
        ("project.yml", "name: shop\nduckdb:\n  path: shop.duckdb\nmodels:\n  shop:\n    marts:\n      +materialized: table\n      +schema: finance\n"),
        ("seeds/orders.csv", "id,amount,day\n1,10.5,2024-01-02\n2,20,2024-01-03\n"),
        ("seeds/_seeds.yml", "version: 2\nseeds:\n  - name: orders\n    config:\n      column_types:\n        amount: decimal(10,2)\n        day: varchar\n"),
        ("models/base.sql", "{{ config(materialized='ephemeral') }}\nselect id, amount * 2 as doubled from {{ ref('orders') }}"),
        ("models/orders_v.sql", "select * from {{ ref('base') }}"),
        ("models/marts/totals.sql", "select sum(doubled) as total from {{ ref('base') }}"),
        ("models/marts/aliased.sql", "{{ config(alias='renamed', schema='other') }}\nselect 1 as x"),
    ]);
    let out = f.modelc(&["build", "--threads", "1"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let kinds = f.query(
        "select table_schema, table_name, table_type from information_schema.tables where table_catalog = 'shop' order by 1, 2",
    );
    insta::assert_snapshot!("materialized_relations", table(&kinds));
    assert_eq!(table(&f.query("select data_type from information_schema.columns where table_name = 'orders' and column_name in ('amount', 'day') order by column_name")), "DECIMAL(10,2)\nVARCHAR");
    assert_eq!(table(&f.query("select total from main_finance.totals")), "61.00");

    // Switching a model from view to table and back replaces the relation.
    f.write(
        "models/orders_v.sql",
        "{{ config(materialized='table') }}\nselect * from {{ ref('base') }}",
    );
    assert_eq!(f.modelc(&["run", "-s", "orders_v"]).code, 0);
    assert_eq!(
        table(&f.query("select table_type from information_schema.tables where table_name = 'orders_v'")),
        "BASE TABLE"
    );
    f.write("models/orders_v.sql", "select * from {{ ref('base') }}");
    assert_eq!(f.modelc(&["run", "-s", "orders_v"]).code, 0);
    assert_eq!(
        table(&f.query("select table_type from information_schema.tables where table_name = 'orders_v'")),
        "VIEW"
    );
}

/// A project with one table model, `t`, built with `v = 1`.
fn built_table() -> Fixture {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("models/t.sql", "{{ config(materialized='table') }}\nselect 1 as v"),
    ]);
    assert_eq!(f.modelc(&["run"]).code, 0);
    f
}

/// The table `t` holds its first build, and nothing else was left beside it.
fn assert_first_build_kept(f: &Fixture) {
    assert_eq!(table(&f.query("select v from main.t")), "1");
    assert_eq!(table(&f.query("select table_name from information_schema.tables")), "t");
}

#[test]
fn a_failing_rebuild_keeps_the_previous_table() {
    let f = built_table();
    // Fails at run time (a cast error), after the drop of the old table ran in the transaction.
    f.write(
        "models/t.sql",
        "{{ config(materialized='table') }}\nselect cast('x' || v as integer) as v from (select 2 as v)",
    );
    assert_eq!(f.modelc(&["run"]).code, 1);
    assert_first_build_kept(&f);
}

/// `kill -9` while a table is being rebuilt: the previous table is what remains.
#[test]
fn a_killed_run_leaves_the_previous_table() {
    let f = built_table();
    // Tens of seconds of work: the kill lands while the new table is being built.
    f.write(
        "models/t.sql",
        "{{ config(materialized='table') }}\nselect sum(range % 7) as v from range(50000000000)",
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_modelc"))
        .args(["run", "--project-dir"])
        .arg(f.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start modelc");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the slow build finished before the kill"
    );
    child.kill().expect("kill");
    let _ = child.wait();
    assert_first_build_kept(&f);
}

#[test]
fn parallel_run_skips_only_descendants_of_a_failure() {
    let mut files = vec![("project.yml".to_string(), PROJECT_YML.to_string())];
    for i in 0..12 {
        files.push((
            format!("models/ok_{i}.sql"),
            format!("{{{{ config(materialized='table') }}}}\nselect {i} as v"),
        ));
    }
    files.push(("models/bad.sql".into(), "select * from nowhere_at_all".into()));
    files.push((
        "models/child_of_bad.sql".into(),
        "select * from {{ ref('bad') }}".into(),
    ));
    files.push((
        "models/grandchild.sql".into(),
        "select * from {{ ref('child_of_bad') }} join {{ ref('ok_1') }} on true".into(),
    ));
    files.push((
        "models/child_of_ok.sql".into(),
        "select * from {{ ref('ok_2') }}".into(),
    ));
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let f = Fixture::new(&refs);
    let out = f.modelc(&["run", "--threads", "4"]);
    assert_eq!(out.code, 1);
    let built =
        table(&f.query("select table_name from information_schema.tables where table_catalog = 'shop' order by 1"));
    insta::assert_snapshot!("parallel_built", built);
    assert!(out.stdout.contains("SKIP=2"), "{}", out.stdout);
    assert!(out.stdout.contains("ERROR=1"), "{}", out.stdout);
}

/// `pre_hook`/`post_hook` from `config()` and from YAML (string or dbt's object
/// form) run around the node, in order, with `this` rendered to its relation.
#[test]
fn node_hooks_run_before_and_after_the_node_with_this() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        (
            "models/m.sql",
            "{{ config(materialized='table',\n\
               pre_hook=['create table if not exists hook_log (n integer, what varchar)',\n\
                         \"insert into hook_log select count(*), 'pre' from hook_log\"],\n\
               post_hook=\"insert into hook_log select count(*), 'post {{ this }} ' || (select count(*) from {{ this }}) from hook_log\") }}\n\
             select 1 as a union all select 2",
        ),
        ("seeds/s.csv", "x\n1\n2\n3\n"),
        (
            "seeds/props.yml",
            "version: 2\nseeds:\n  - name: s\n    config:\n      post_hook:\n        - sql: \"create or replace table s_copy as select * from {{ this }}\"\n          transaction: true\n",
        ),
    ]);
    let out = f.modelc(&["build"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        table(&f.query("select n, what from hook_log order by n")),
        "0 | pre\n1 | post \"shop\".\"main\".\"m\" 2"
    );
    assert_eq!(table(&f.query("select count(*) from s_copy")), "3");
    // The manifest keeps dbt's unrendered hook objects.
    let manifest = std::fs::read_to_string(f.path().join("target/manifest.json")).expect("manifest");
    assert!(
        manifest.contains(r#""sql":"create or replace table s_copy as select * from {{ this }}""#),
        "{manifest}"
    );
}

/// A hook that asks the database renders as it runs, on the node's connection,
/// as in dbt: dbt-utils' integration project drops a seed in its post-hook
/// (`adapter.drop_relation(this.incorporate(type='table'))`), and a model that
/// reads it later sees it gone. The drop runs inside the node's transaction,
/// where the new table is, and finds a view as well as a table. The hook's
/// `run_query` and `ref()` answer from what the run built.
#[test]
fn hooks_that_ask_the_database_render_as_they_run() {
    const PROJECT: &str = r#"name: shop
duckdb:
  path: shop.duckdb
seeds:
  shop:
    dropped:
      +post-hook: "{% do adapter.drop_relation(this.incorporate(type='table')) %}"
models:
  shop:
    v:
      +materialized: view
      +post-hook:
        - "{% do adapter.drop_relation(this) %}"
        - "{% set kept = ref('kept') %}create table log as select {{ run_query('select count(*) from ' ~ kept).columns[0].values()[0] if execute else 0 }} as n"
"#;
    let f = Fixture::new(&[
        ("project.yml", PROJECT),
        ("seeds/dropped.csv", "field\na\nb\n"),
        ("seeds/kept.csv", "field\nc\n"),
        (
            "models/gone.sql",
            "{% set rel = load_relation(ref('dropped')) %}\nselect '{{ 'gone' if rel is none else 'there' }}' as state",
        ),
        ("models/v.sql", "select 1 as x"),
    ]);
    let out = f.modelc(&["compile"]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = f.modelc(&["build", "--threads", "1"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(table(&f.query("select state from gone")), "gone");
    assert_eq!(
        table(&f.query("select table_name from information_schema.tables where table_catalog = 'shop' order by 1")),
        "gone\nkept\nlog"
    );
    assert_eq!(table(&f.query("select n from log")), "1");
    // The view's hook refs `kept`: it was built first.
    let manifest = std::fs::read_to_string(f.path().join("target/manifest.json")).expect("manifest");
    let manifest: serde_json::Value = serde_json::from_str(&manifest).expect("json");
    assert_eq!(
        manifest["nodes"]["model.shop.v"]["depends_on"]["nodes"],
        serde_json::json!(["seed.shop.kept"])
    );
}

/// Hooks share the node's transaction unless told otherwise (dbt's
/// `transaction: true` default): a failing post-hook rolls the build and the
/// earlier hooks back, so the previous table stays. `before_begin()` and
/// `after_commit()` hooks run outside it. A `ref()` in a hook makes the node
/// depend on what it names, as in dbt.
#[test]
fn hooks_share_the_nodes_transaction_unless_told_otherwise() {
    let model = |post_in: &str, post_out: &str, value: u32| {
        format!(
            "{{{{ config(materialized='table',\n\
               pre_hook=[before_begin('create table if not exists log (what varchar)'),\n\
                         \"insert into log values ('pre {value}')\"],\n\
               post_hook=[\"{post_in}\", after_commit(\"{post_out}\")]) }}}}\n\
             select {value} as a\n"
        )
    };
    let reads_z = "insert into log select 'post reads ' || count(*) from {{ ref('z') }}";
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        (
            "models/m.sql",
            &model(reads_z, "insert into log values ('after commit')", 1),
        ),
        (
            "models/z.sql",
            "{{ config(materialized='table') }}\nselect 1 as id union all select 2",
        ),
    ]);
    let out = f.modelc(&["build", "--threads", "1"]);
    assert_eq!(out.code, 0, "{out:?}");
    // `z` sorts after `m`, but the post-hook's ref makes it a parent: it was built first.
    assert_eq!(
        table(&f.query("select * from log")),
        "pre 1\npost reads 2\nafter commit"
    );
    let manifest = std::fs::read_to_string(f.path().join("target/manifest.json")).expect("manifest");
    let manifest: serde_json::Value = serde_json::from_str(&manifest).expect("json");
    let m = &manifest["nodes"]["model.shop.m"];
    assert_eq!(m["depends_on"]["nodes"], serde_json::json!(["model.shop.z"]));
    let transactions: Vec<Option<bool>> = ["pre-hook", "post-hook"]
        .iter()
        .flat_map(|k| m["config"][k].as_array().into_iter().flatten())
        .map(|h| h["transaction"].as_bool())
        .collect();
    assert_eq!(transactions, [Some(false), Some(true), Some(true), Some(false)]);

    // A post-hook inside the transaction fails: the table and the log are as they were.
    f.write(
        "models/m.sql",
        &model("select * from no_such_table", "insert into log values ('never')", 2),
    );
    let out = f.modelc(&["run", "-s", "m"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("post_hook failed, so the build was rolled back"),
        "{}",
        out.stdout
    );
    assert_eq!(table(&f.query("select a from m")), "1");
    assert_eq!(
        table(&f.query("select count(*) from log")),
        "3",
        "the pre-hook's insert is rolled back too"
    );

    // One after the commit fails: the node was built, and says so.
    f.write("models/m.sql", &model("select 1", "select * from no_such_table", 3));
    let out = f.modelc(&["run", "-s", "m"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("post_hook failed (the node was built)"),
        "{}",
        out.stdout
    );
    assert_eq!(table(&f.query("select a from m")), "3");
}

/// An enforced contract is checked against the model's query when it runs, before
/// anything is built, with each declared type as the engine spells it (`int` is
/// `INTEGER`): a type the compile-time check cannot see fails the model and keeps
/// the previous table.
#[test]
fn an_enforced_contract_checks_types_before_building() {
    let yml = "models:\n  - name: m\n    config:\n      contract: {enforced: true}\n    columns:\n      - name: id\n        data_type: int\n      - name: name\n        data_type: varchar\n";
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        (
            "models/m.sql",
            "{{ config(materialized='table') }}\nselect 1 as id, 'a' as name\n",
        ),
        ("models/_m.yml", yml),
    ]);
    let out = f.modelc(&["run"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    f.write("models/_m.yml", &yml.replace("data_type: int", "data_type: date"));
    // A list element: its type is one modelc does not infer.
    f.write(
        "models/m.sql",
        "{{ config(materialized='table') }}\nselect [2][1] as id, 'b' as name\n",
    );
    let out = f.modelc(&["run"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("This model has an enforced contract that failed.")
            && out
                .stdout
                .contains("| id          | INTEGER         | DATE          | data type mismatch |"),
        "{}",
        out.stdout
    );
    assert_eq!(
        f.query("select id, name from main.m"),
        vec![vec!["1".to_string(), "a".to_string()]]
    );
}

/// The contract of the constraints tests: `m` with column and model-level
/// constraints, in another column order than its SQL returns.
const CONSTRAINED_YML: &str = "models:
  - name: m
    config:
      contract: {enforced: true}
    constraints:
      - type: check
        name: positive_amount
        expression: amount > 0
      - type: unique
        columns: [name, amount]
    columns:
      - name: id
        data_type: integer
        constraints:
          - type: not_null
          - type: primary_key
      - name: name
        data_type: varchar
      - name: amount
        data_type: integer
";

/// An enforced contract's constraints go in the table's DDL (dbt's
/// `get_table_columns_and_constraints`), where DuckDB enforces them: rows that
/// break one fail the model, and the previous table stays as it was.
#[test]
fn contract_constraints_are_enforced_by_the_table() {
    let rows = |values: &str| {
        format!("{{{{ config(materialized='table') }}}}\nselect amount, id, name from (values {values}) t(id, amount, name)\n")
    };
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("models/m.sql", &rows("(1, 10, 'a'), (2, 20, 'b')")),
        ("models/_m.yml", CONSTRAINED_YML),
    ]);
    let out = f.modelc(&["run"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("CREATE TABLE (2 rows)"), "{}", out.stdout);
    insta::assert_snapshot!(
        "contract_constraints_ddl",
        table(&f.query("select sql from duckdb_tables() where table_name = 'm'"))
    );
    // The columns are in the contract's order, whatever the select's.
    assert_eq!(
        table(&f.query("select * from main.m order by id")),
        "1 | a | 10\n2 | b | 20"
    );

    for (values, error) in [
        ("(1, 10, 'a'), (null, 20, 'b')", "NOT NULL constraint failed: m.id"),
        (
            "(1, 10, 'a'), (1, 20, 'b')",
            "PRIMARY KEY or UNIQUE constraint violation: duplicate key \"1\"",
        ),
        (
            "(1, 10, 'a'), (2, 10, 'a')",
            "PRIMARY KEY or UNIQUE constraint violation: duplicate key \"a, 10\"",
        ),
        ("(1, 10, 'a'), (2, -5, 'b')", "CHECK constraint failed"),
    ] {
        f.write("models/m.sql", &rows(values));
        let out = f.modelc(&["run"]);
        assert_eq!(out.code, 1, "{values}: {}\n{}", out.stdout, out.stderr);
        assert!(out.stdout.contains(error), "{values}: {}", out.stdout);
        assert_eq!(
            table(&f.query("select * from main.m order by id")),
            "1 | a | 10\n2 | b | 20",
            "{values}: the previous table must stay"
        );
    }
}

/// A foreign key's `to: ref(...)` names the referenced table in the DDL and
/// makes it a dependency (built first, though the SQL never refs it), as in dbt
/// 1.9; the manifest shows the resolved constraint.
#[test]
fn foreign_keys_reference_the_model_they_name() {
    let yml = "models:
  - name: parents
    config:
      contract: {enforced: true}
    columns:
      - name: id
        data_type: integer
        constraints:
          - type: primary_key
  - name: children
    config:
      contract: {enforced: true}
    columns:
      - name: id
        data_type: integer
      - name: parent_id
        data_type: integer
        constraints:
          - type: foreign_key
            to: ref('parents')
            to_columns: [id]
";
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        (
            "models/parents.sql",
            "{{ config(materialized='table') }}\nselect 1 as id\n",
        ),
        (
            "models/children.sql",
            "{{ config(materialized='table') }}\nselect 10 as id, 2 as parent_id\n",
        ),
        ("models/_m.yml", yml),
    ]);
    let out = f.modelc(&["run", "--threads", "4"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("Violates foreign key constraint because key \"id: 2\" does not exist"),
        "{}",
        out.stdout
    );
    assert_eq!(table(&f.query("select id from main.parents")), "1");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.path().join("target/manifest.json")).unwrap()).unwrap();
    let child = &manifest["nodes"]["model.shop.children"];
    assert_eq!(child["depends_on"]["nodes"], serde_json::json!(["model.shop.parents"]));
    assert_eq!(
        child["columns"]["parent_id"]["constraints"],
        serde_json::json!([{"type": "foreign_key", "name": null, "expression": null,
            "warn_unenforced": true, "warn_unsupported": true,
            "to": "\"main\".\"parents\"", "to_columns": ["id"]}])
    );
}
