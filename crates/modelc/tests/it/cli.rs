//! The CLI on the example project and on every kind of bad input: output, exit
//! codes, and the database left as it was.

use std::path::Path;

use crate::support::{query, run_modelc, table, Fixture, PROJECT_YML};

fn repo_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

#[test]
fn example_project_builds_end_to_end() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("lending.duckdb");
    let target = tmp.path().join("target");
    let db_arg = db.to_string_lossy().to_string();
    let target_arg = target.to_string_lossy().to_string();
    let out = run_modelc(
        &repo_root(),
        &["build", "--threads", "1", "--db", &db_arg, "--target-path", &target_arg],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    insta::assert_snapshot!(
        "example_build_output",
        out.redacted(&repo_root()).replace(&target_arg, "<target>")
    );

    let one = |sql: &str| query(&db, sql)[0][0].clone();
    assert_eq!(one("select count(*) from main.fact_loans"), "2000");
    assert_eq!(one("select count(*) from main.raw_loan_applications"), "2000");
    // Marts partition the same loans as the fact table.
    assert_eq!(
        one("select sum(applications) from main_finance.default_rate_by_risk_band"),
        one("select count(*) from main.fact_loans")
    );
    assert_eq!(
        one("select sum(approved_loans) from main_finance.default_rate_by_industry_risk_band"),
        one("select count(*) from main.fact_loans where status = 'approved'")
    );
    // Days without applications are in the time series.
    assert_eq!(
        one("select count(*) from main.fact_loans_over_time"),
        one("select count(*) from main.date_spine")
    );
    assert_eq!(
        one("select count(*) from main_finance.top_applicants_by_loan_volume"),
        "10"
    );
    // The snapshot holds one current row per applicant.
    assert_eq!(
        one("select count(*) from snapshots.credit_scores_snapshot where dbt_valid_to is null"),
        one("select count(distinct applicant_id) from main.raw_credit_score_snapshots")
    );
    for f in [
        "manifest.json",
        "run_results.json",
        "compiled/lending/models/core/fact_loans.sql",
    ] {
        assert!(target.join(f).is_file(), "{f} missing");
    }
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(target.join("run_results.json")).expect("read")).expect("json");
    let statuses: std::collections::BTreeSet<String> = results["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["status"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(statuses, ["pass", "success"].iter().map(|s| s.to_string()).collect());

    // A second build changes nothing in the snapshot.
    let before = one("select count(*) from snapshots.credit_scores_snapshot");
    let out = run_modelc(&repo_root(), &["build", "--db", &db_arg, "--target-path", &target_arg]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(one("select count(*) from snapshots.credit_scores_snapshot"), before);
}

#[test]
fn compile_select_prints_the_models_sql() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let target = tmp.path().join("target").to_string_lossy().to_string();
    let out = run_modelc(
        &repo_root(),
        &["compile", "-s", "fact_loan_performance", "--target-path", &target],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("compile_select_stdout", out.stdout);
    assert!(Path::new(&target)
        .join("compiled/lending/models/marts/finance/mart_loan_metrics_by_risk.sql")
        .is_file());
}

#[test]
fn ls_lists_selected_nodes() {
    let out = run_modelc(
        &repo_root(),
        &["ls", "-s", "+fact_loans", "--resource-type", "model", "seed", "source"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("ls_upstream_of_fact_loans", out.stdout);
    let out = run_modelc(
        &repo_root(),
        &[
            "ls",
            "-s",
            "tag:finance",
            "--output",
            "name",
            "--resource-type",
            "model",
        ],
    );
    insta::assert_snapshot!("ls_tag_finance", out.stdout);
}

/// A project with a table and a view, built once; each bad edit must leave them intact.
fn built_fixture() -> Fixture {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("seeds/orders.csv", "id,amount\n1,10\n2,20\n"),
        ("models/stg_orders.sql", "select id, amount from {{ ref('orders') }}"),
        (
            "models/order_totals.sql",
            "{{ config(materialized='table') }}\nselect sum(amount) as total from {{ ref('stg_orders') }}",
        ),
    ]);
    let out = f.modelc(&["build"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    f
}

fn assert_untouched(f: &Fixture) {
    assert_eq!(table(&f.query("select total from main.order_totals")), "30");
}

#[test]
fn bad_input_exits_2_and_leaves_the_database_as_it_was() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("cycle", &[("models/stg_orders.sql", "select * from {{ ref('order_totals') }}")]),
        ("unknown_ref", &[("models/order_totals.sql", "{{ config(materialized='table') }}\nselect sum(amount) as total\nfrom {{ ref('stg_order') }}")]),
        ("broken_yaml", &[("models/schema.yml", "version: 2\nmodels:\n  - name: stg_orders\n    columns:\n      - name: id\n        data_tests: [unique\n")]),
        ("broken_project_file", &[("project.yml", "name: shop\nmodels: [\n")]),
        ("jinja_syntax", &[("models/stg_orders.sql", "select id, amount from {{ ref('orders') }}\n{% if true %}\n")]),
    ];
    for (name, edits) in cases {
        let f = built_fixture();
        for (p, t) in *edits {
            f.write(p, t);
        }
        let out = f.modelc(&["build"]);
        assert_eq!(out.code, 2, "{name}: {}", out.stderr);
        insta::assert_snapshot!(format!("bad_input_{name}"), out.redacted(f.path()));
        assert_untouched(&f);
    }
}

#[test]
fn sql_errors_fail_the_model_keep_its_old_version_and_skip_only_descendants() {
    let f = built_fixture();
    f.write("models/order_totals.sql", "{{ config(materialized='table') }}\nselect sum(amount) as total,\n  max(no_such_function(amount)) as x\nfrom {{ ref('stg_orders') }}");
    f.write("models/downstream.sql", "select * from {{ ref('order_totals') }}");
    f.write(
        "models/sibling.sql",
        "{{ config(materialized='table') }}\nselect count(*) as n from {{ ref('stg_orders') }}",
    );
    let out = f.modelc(&["run", "--threads", "1"]);
    assert_eq!(out.code, 1);
    insta::assert_snapshot!("sql_error_run", out.redacted(f.path()));
    assert_untouched(&f);
    assert_eq!(table(&f.query("select n from main.sibling")), "2");
    assert_eq!(
        table(&f.query("select count(*) from information_schema.tables where table_name = 'downstream'")),
        "0"
    );
}

/// Config values with a fixed set of choices and the configs a snapshot needs are
/// checked before anything runs: exit 2, each error at the file and line that sets
/// the value, no node built (issue 13: a snapshot without a unique_key failed at
/// run time, exit 1, after the seeds and models had run).
#[test]
fn bad_config_values_exit_2_before_anything_runs() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("seeds/orders.csv", "id,amount\n1,10\n"),
        ("models/stg_orders.sql", "select id, amount from {{ ref('orders') }}"),
        (
            "models/order_log.sql",
            "{{ config(materialized='incremental', incremental_strategy='microbatch') }}\nselect * from {{ ref('orders') }}",
        ),
        (
            "snapshots/orders.sql",
            "{% snapshot orders_snapshot %}\n{{ config(target_schema='snapshots', strategy='check', check_cols='all') }}\nselect * from {{ ref('orders') }}\n{% endsnapshot %}\n",
        ),
    ]);
    let out = f.modelc(&["build"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    insta::assert_snapshot!("bad_config_values", out.redacted(f.path()));
    assert!(!f.db_path().exists(), "nothing ran, not even the seed");
}

#[test]
fn unknown_config_keys_warn_and_still_run() {
    let f = Fixture::new(&[
        (
            "project.yml",
            "name: shop\nduckdb:\n  path: shop.duckdb\nmodels:\n  shop:\n    +materialised: table\n",
        ),
        (
            "models/a.sql",
            "{{ config(tags=['x'], materialzed='table') }}\nselect 1 as id",
        ),
    ]);
    let out = f.modelc(&["run"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("unknown_config_warnings", out.redacted(f.path()));
}

#[test]
fn malformed_csv_is_an_error_naming_the_file() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("seeds/bad.csv", "id,amount\n1,10\n2,20,30,40\n3\n"),
    ]);
    let out = f.modelc(&["seed"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("seeds/bad.csv"), "{}", out.stdout);
    assert_eq!(
        table(&f.query("select count(*) from information_schema.tables where table_name = 'bad'")),
        "0"
    );
}

/// A seed whose rows do not all have the header's fields fails, naming the file and
/// the first bad line, and leaves the table of the last good load (issue 13: the
/// sniffer took the last row for the header and loaded nothing, exit 0).
#[test]
fn ragged_seed_fails_at_its_first_bad_line_and_keeps_the_old_table() {
    let f = Fixture::new(&[("project.yml", PROJECT_YML), ("seeds/ragged.csv", "a,b,c\n1,2,3\n")]);
    assert_eq!(f.modelc(&["seed"]).code, 0);
    for (text, line) in [
        ("a,b,c\n1,2,3\n4,5\n6,7,8,9,10\n", "seeds/ragged.csv:3: "),
        ("a,b,c\r\n1,2,3\r\n4,5,6\r\n7,8,9,10\r\n", "seeds/ragged.csv:4: "),
    ] {
        f.write("seeds/ragged.csv", text);
        let out = f.modelc(&["seed"]);
        assert_eq!(out.code, 1, "{}", out.stdout);
        assert!(out.stdout.contains(line), "{line} not in {}", out.stdout);
        assert!(!out.stdout.contains("ignore_errors"), "{}", out.stdout);
        assert_eq!(table(&f.query("select * from main.ragged")), "1 | 2 | 3");
    }
    // Past the rows the sniffer samples, the reader itself stops at the bad row.
    let mut long = String::from("a,b,c\n");
    for i in 0..30_000 {
        long.push_str(&format!("{i},{i},{i}\n"));
    }
    long.push_str("x,y\n");
    f.write("seeds/ragged.csv", &long);
    let out = f.modelc(&["seed"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("seeds/ragged.csv:30002: "), "{}", out.stdout);
    assert_eq!(table(&f.query("select count(*) from main.ragged")), "1");
}

/// A database file with dots in its name: DuckDB names its catalog after the part
/// before the first dot, and so must the relations (issue 13: `--db lending.v2.duckdb`
/// failed with `"lending.v2" is not a catalog or schema`).
#[test]
fn a_database_file_with_dots_in_its_name_builds() {
    let f = Fixture::new(&[
        ("project.yml", "name: shop\n"),
        ("seeds/orders.csv", "id,amount,updated_at\n1,10,2024-01-01\n2,20,2024-01-01\n"),
        ("models/stg_orders.sql", "select id, amount from {{ ref('orders') }}"),
        (
            "models/order_totals.sql",
            "{{ config(materialized='table') }}\nselect sum(amount) as total from {{ ref('stg_orders') }}",
        ),
        (
            "models/order_log.sql",
            "{{ config(materialized='incremental', unique_key='id') }}\nselect id, amount from {{ ref('orders') }}",
        ),
        (
            "models/schema.yml",
            "models:\n  - name: stg_orders\n    columns:\n      - name: id\n        data_tests: [unique, not_null]\n",
        ),
        (
            "snapshots/orders.sql",
            "{% snapshot orders_snapshot %}\n{{ config(target_schema='snapshots', unique_key='id', strategy='timestamp', updated_at='updated_at') }}\nselect * from {{ ref('orders') }}\n{% endsnapshot %}\n",
        ),
    ]);
    for _ in 0..2 {
        let out = f.modelc(&["build", "--db", "lending.v2.duckdb"]);
        assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    }
    let db = f.path().join("lending.v2.duckdb");
    assert_eq!(
        table(&query(
            &db,
            "select current_database(), (select total from lending.main.order_totals), (select count(*) from lending.main.order_log), (select count(*) from lending.snapshots.orders_snapshot)"
        )),
        "lending | 30 | 2 | 2"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.path().join("target/manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["nodes"]["model.shop.order_totals"]["database"], "lending");
}

#[test]
fn usage_errors_exit_2() {
    let f = Fixture::new(&[("project.yml", PROJECT_YML), ("models/a.sql", "select 1 as id")]);
    assert_eq!(f.modelc(&["run", "--vars", "[1, 2]"]).code, 2);
    assert_eq!(f.modelc(&["run", "-s", "state:modified"]).code, 2);
    assert_eq!(f.modelc(&["frobnicate"]).code, 2);
    let empty = tempfile::tempdir().expect("tempdir");
    let out = run_modelc(empty.path(), &["run"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("no project.yml or dbt_project.yml"),
        "{}",
        out.stderr
    );
}

#[test]
fn vars_and_dbt_project_files_work() {
    let f = Fixture::new(&[
        ("dbt_project.yml", "name: shop\nprofile: shop\nvars:\n  min_amount: 15\n"),
        ("profiles.yml", "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: \"{{ env_var('MODELC_TEST_UNSET', 'shop.duckdb') }}\"\n      threads: 2\n"),
        ("seeds/orders.csv", "id,amount\n1,10\n2,20\n"),
        ("models/big.sql", "{{ config(materialized='table') }}\nselect id from {{ ref('orders') }} where amount >= {{ var('min_amount') }}"),
    ]);
    assert_eq!(f.modelc(&["build"]).code, 0);
    assert_eq!(table(&f.query("select id from main.big")), "2");
    assert_eq!(f.modelc(&["run", "--vars", "{min_amount: 5}"]).code, 0);
    assert_eq!(table(&f.query("select id from main.big order by id")), "1\n2");
}

/// `compile` reuses the compile cache and says so; `--no-partial-parse` ignores it.
#[test]
fn compile_reuses_its_cache_unless_told_not_to() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("models/a.sql", "select 1 as id"),
        ("models/b.sql", "select id from {{ ref('a') }}"),
    ]);
    let first = f.modelc(&["compile"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(first.stderr.contains("Compiled 2 nodes into"), "{}", first.stderr);
    let second = f.modelc(&["compile"]);
    assert!(
        second
            .stderr
            .contains("Compiled 2 nodes (0 rendered, 2 from the compile cache)"),
        "{}",
        second.stderr
    );
    f.write("models/b.sql", "select id + 1 as id from {{ ref('a') }}");
    let third = f.modelc(&["compile"]);
    assert!(
        third.stderr.contains("(1 rendered, 1 from the compile cache)"),
        "{}",
        third.stderr
    );
    let compiled = std::fs::read_to_string(f.path().join("target/compiled/shop/models/b.sql")).expect("compiled b");
    assert!(compiled.contains("id + 1"), "{compiled}");
    let fresh = f.modelc(&["compile", "--no-partial-parse"]);
    assert!(fresh.stderr.contains("Compiled 2 nodes into"), "{}", fresh.stderr);
}

/// Docs never create the database; after a build they carry its column types
/// (`catalog.json`) and the charts declared in meta.
#[test]
fn docs_read_the_database_only_when_it_exists() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("seeds/orders.csv", "id,amount\n1,10\n2,20\n"),
        (
            "models/totals.sql",
            "{{ config(materialized='table', meta={'modelc_chart': {'type': 'bar', 'x': 'id', 'value': 'amount'}}) }}\nselect id, amount * 2 as amount from {{ ref('orders') }}",
        ),
        (
            "models/typo.sql",
            "{{ config(meta={'modelc_chart': {'type': 'bar', 'x': 'idd', 'value': 'amount'}}) }}\nselect id, amount from {{ ref('orders') }}",
        ),
    ]);
    let out = f.modelc(&["docs"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("No database at"), "{}", out.stderr);
    assert!(!f.db_path().exists(), "docs created the database");
    assert!(!f.path().join("target/catalog.json").exists());
    let totals_page =
        || std::fs::read_to_string(f.path().join("target/docs/nodes/model.shop.totals.html")).expect("page");
    assert!(!totals_page().contains("<svg class=\"chart"), "no chart without data");

    assert_eq!(f.modelc(&["build"]).code, 0);
    let out = f.modelc(&["docs"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("column types from the database"), "{}", out.stderr);
    // A chart naming a missing column is a warning that names the model and the error.
    assert!(
        out.stderr.contains("the chart of model.shop.typo could not be drawn") && out.stderr.contains("idd"),
        "{}",
        out.stderr
    );
    let catalog: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.path().join("target/catalog.json")).expect("catalog"))
            .expect("json");
    // An integer seed column is INTEGER, as dbt-duckdb types seeds.
    assert_eq!(
        catalog["nodes"]["model.shop.totals"]["columns"]["amount"]["type"],
        "INTEGER"
    );
    assert!(
        totals_page().contains("<svg class=\"chart"),
        "the chart is drawn from the table"
    );
}

/// A database docs cannot read (in use, or not DuckDB) is a warning: the site is
/// written without column types.
#[test]
fn docs_without_a_readable_database_still_write_the_site() {
    let f = Fixture::new(&[("project.yml", PROJECT_YML), ("models/a.sql", "select 1 as id")]);
    std::fs::write(f.db_path(), "not a DuckDB file").expect("write");
    let out = f.modelc(&["docs"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("warning: the docs have no column types or charts"),
        "{}",
        out.stderr
    );
    assert!(f.path().join("target/docs/index.html").is_file());
    assert_eq!(
        std::fs::read_to_string(f.db_path()).expect("read"),
        "not a DuckDB file",
        "the file is left as it was"
    );
}

#[test]
fn docs_writes_lineage_files_and_prints_formats() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let target = tmp.path().join("target");
    let target_arg = target.to_string_lossy().to_string();
    let out = run_modelc(&repo_root(), &["docs", "--target-path", &target_arg]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(target.join("lineage.json")).expect("lineage.json"))
            .expect("json");
    let nodes = json["nodes"].as_array().expect("nodes");
    assert!(nodes
        .iter()
        .any(|n| n["id"] == "source.lending.bureau.credit_score_snapshots"));
    assert!(target.join("lineage.dot").is_file() && target.join("lineage.mmd").is_file());
    let out = run_modelc(
        &repo_root(),
        &[
            "docs",
            "--format",
            "dot",
            "-s",
            "stg_applicants+1",
            "--target-path",
            &target_arg,
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("docs_dot_selection", out.stdout);
}
