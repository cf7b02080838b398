//! The kill harness: `modelc build` of a generated project of a few hundred models,
//! killed with SIGKILL at 50 seeded random moments. After each kill the database
//! opens; every table holds exactly its content before the build or its complete
//! new content, and every view its old or new definition; nothing else is left
//! behind; every snapshot has at most one current row per key; and a following
//! build succeeds with the same relations as an uninterrupted build.
//!
//! Ignored by default (about three minutes); `.ci/run` runs it on its own:
//! `cargo test --release --workspace --test it -- --ignored kill_harness --nocapture`.
//! `MODELC_KILLS` and `MODELC_KILL_SEED` change the number of kills and the seed.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use modelc_exec::Connection;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::support::{connect, Fixture};

/// The harness must be reproducible: a seeded generator.
struct Rng(ChaCha8Rng);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0.random_range(0..n.max(1))
    }
}

const MODELS: usize = 300;

/// Seeds, a snapshot, and `MODELS` models over them: tables, views and merge
/// incrementals, each reading one to three earlier ones, every one of them
/// different when `var('v')` changes.
fn generate(rng: &mut Rng) -> Vec<(String, String)> {
    let mut files = vec![(
        "project.yml".to_string(),
        "name: killed\nduckdb:\n  path: killed.duckdb\n  threads: 4\n".to_string(),
    )];
    let mut csv = String::from("id,name,score,updated_at\n");
    for id in 1..=200 {
        csv.push_str(&format!(
            "{id},n{},{},2024-01-{:02} 00:00:00\n",
            rng.below(1000),
            rng.below(100),
            1 + rng.below(28)
        ));
    }
    files.push(("seeds/customers.csv".into(), csv));
    files.push((
        "snapshots/customers_snapshot.sql".into(),
        "{% snapshot customers_snapshot %}\n\
         {{ config(unique_key='id', strategy='timestamp', updated_at='updated_at') }}\n\
         select id, name, score + {{ var('v') }} as score,\n\
         updated_at + to_days({{ var('v') }}) as updated_at\n\
         from {{ ref('customers') }}\n\
         {% endsnapshot %}\n"
            .into(),
    ));
    files.push((
        "models/m0.sql".into(),
        "{{ config(materialized='table') }}\n\
         select id, score * {{ var('v') }} as score from {{ ref('customers') }}"
            .into(),
    ));
    for i in 1..MODELS {
        let ups: Vec<usize> = (0..1 + rng.below(3)).map(|_| rng.below(i as u64) as usize).collect();
        let config = match rng.below(10) {
            0..=4 => "{{ config(materialized='table') }}".to_string(),
            5..=7 => "{{ config(materialized='view') }}".to_string(),
            _ => "{{ config(materialized='incremental', unique_key='id', incremental_strategy='merge') }}".to_string(),
        };
        let mut sql = format!("{config}\nselect u0.id, (u0.score");
        for k in 1..ups.len() {
            sql.push_str(&format!(" + u{k}.score"));
        }
        sql.push_str(&format!(
            ") % 100000 + {{{{ var('v') }}}} * {i} as score\nfrom {{{{ ref('m{}') }}}} u0",
            ups[0]
        ));
        for (k, up) in ups.iter().enumerate().skip(1) {
            sql.push_str(&format!(" join {{{{ ref('m{up}') }}}} u{k} using (id)"));
        }
        files.push((format!("models/m{i}.sql"), sql));
    }
    files.push((
        "models/schema.yml".into(),
        "version: 2\nmodels:\n  - name: m1\n    columns:\n      - name: id\n        tests: [unique, not_null]\n".into(),
    ));
    files
}

/// What a relation holds: a table's rows (sorted), or a view's definition.
type Contents = BTreeMap<String, String>;

/// Every relation of the database, by `schema.name`: tables by their sorted rows,
/// views by their SQL.
fn contents(conn: &dyn Connection) -> Contents {
    let mut out = Contents::new();
    let rels = conn
        .query(
            "select schema_name, table_name, 'table' from duckdb_tables() where not temporary and database_name = current_database() \
             union all select schema_name, view_name, sql from duckdb_views() where not internal and not temporary \
             and database_name = current_database()",
        )
        .expect("list relations");
    for rel in rels {
        let cell = |i: usize| rel.get(i).cloned().flatten().unwrap_or_default();
        let (schema, name, what) = (cell(0), cell(1), cell(2));
        let key = format!("{schema}.{name}");
        let value = if what == "table" {
            let sql = format!("select t::varchar as row from \"{schema}\".\"{name}\" t order by 1");
            let rows = conn.query(&sql).unwrap_or_else(|e| panic!("read {key}: {e}"));
            rows.into_iter()
                .map(|r| r.into_iter().next().flatten().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            format!("view: {what}")
        };
        out.insert(key, value);
    }
    out
}

fn read_contents(db: &Path) -> Contents {
    let (_db, conn) = connect(db);
    contents(conn.as_ref())
}

/// Snapshot rows that are current (no `dbt_valid_to`), more than one per key.
fn duplicate_current_rows(db: &Path) -> Vec<Vec<Option<String>>> {
    let (_db, conn) = connect(db);
    conn.query(
        "select id, count(*) from main.customers_snapshot where dbt_valid_to is null group by id having count(*) > 1",
    )
    .expect("the snapshot exists")
}

fn copy_db(from: &Path, to: &Path) {
    std::fs::copy(from, to).expect("copy database");
    let _ = std::fs::remove_file(to.with_extension("duckdb.wal"));
}

fn build_v2(dir: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_modelc"))
        .args(["build", "--vars", "{v: 2}", "--project-dir"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start modelc")
}

fn build(f: &Fixture, v: u32) {
    let out = f.modelc(&["build", "--vars", &format!("{{v: {v}}}")]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
#[ignore = "the kill harness: about three minutes; .ci/run runs it on its own"]
fn kill_harness() {
    let kills: usize = std::env::var("MODELC_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let seed: u64 = std::env::var("MODELC_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20261201);
    let mut rng = Rng(ChaCha8Rng::seed_from_u64(seed));
    let files = generate(&mut rng);
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let f = Fixture::new(&refs);
    let db = f.path().join("killed.duckdb");
    let before_db = f.path().join("before.duckdb");
    let after_db = f.path().join("after.duckdb");

    // The state before the build (v = 1), and the state an uninterrupted build
    // (v = 2) leaves from it.
    build(&f, 1);
    copy_db(&db, &before_db);
    let before = read_contents(&before_db);
    let started = Instant::now();
    build(&f, 2);
    let full = started.elapsed();
    copy_db(&db, &after_db);
    let after = read_contents(&after_db);
    assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>());
    let changed = before.iter().filter(|(k, v)| after.get(*k) != Some(*v)).count();
    assert!(
        changed > MODELS / 2,
        "the second build changes most relations ({changed})"
    );
    println!(
        "kill harness: {} relations ({changed} change), an uninterrupted build takes {:.2}s",
        before.len(),
        full.as_secs_f64()
    );

    let (mut untouched, mut mixed, mut complete) = (0, 0, 0);
    for kill in 0..kills {
        copy_db(&before_db, &db);
        let at = Duration::from_micros(rng.below(full.as_micros() as u64 * 11 / 10));
        let mut child = build_v2(f.path());
        std::thread::sleep(at);
        let _ = child.kill();
        let _ = child.wait();

        let now = read_contents(&db);
        let mut new = 0;
        for (rel, value) in &now {
            let (old, done) = (before.get(rel), after.get(rel));
            assert!(
                old == Some(value) || done == Some(value),
                "kill {kill} at {at:?}: {rel} is neither its old nor its new version:\n{value}"
            );
            if old != done && done == Some(value) {
                new += 1;
            }
        }
        let missing: Vec<&String> = before.keys().filter(|k| !now.contains_key(*k)).collect();
        assert!(missing.is_empty(), "kill {kill} at {at:?}: relations lost: {missing:?}");
        assert!(
            duplicate_current_rows(&db).is_empty(),
            "kill {kill}: two current snapshot rows for a key"
        );
        match new {
            0 => untouched += 1,
            n if n == changed => complete += 1,
            _ => mixed += 1,
        }

        // A following build finishes the job.
        build(&f, 2);
        let rebuilt = read_contents(&db);
        for (rel, value) in &after {
            assert_eq!(
                rebuilt.get(rel),
                Some(value),
                "kill {kill}: {rel} after the following build"
            );
        }
        assert_eq!(
            rebuilt.len(),
            after.len(),
            "kill {kill}: relations after the following build"
        );
    }
    println!(
        "kill harness: {kills} kills survived (seed {seed}): {untouched} before any change, \
         {mixed} part-way, {complete} after every change"
    );
    assert!(
        mixed > 0,
        "no kill landed part-way through the build: the harness tests nothing"
    );
}
