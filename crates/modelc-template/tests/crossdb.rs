//! dbt's cross-database and type macros render the SQL dbt-duckdb 1.10 renders,
//! and on a postgres target the SQL dbt-postgres 1.10 renders.
//!
//! `data/crossdb.json` holds each sample call with what dbt-core 1.10 + dbt-duckdb
//! 1.10 compiled it to, and what dbt-postgres compiled it to or the error it gave
//! (`scripts/crossdb_reference.py` records those), whitespace collapsed. Samples
//! whose value dbt computes with a database query (`get_intervals_between`,
//! `date_spine`) must fail clearly until modelc can run the query.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use modelc_template::{Jinja, NodeContext, ProjectContext};

#[derive(serde::Deserialize)]
struct Sample {
    id: String,
    call: String,
    dbt_duckdb: String,
    dbt_postgres: Option<String>,
    dbt_postgres_error: Option<String>,
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Renders every sample on `engine`; `expected` says what each must give: the SQL,
/// or an error containing the text (`None`: skipped).
fn check(engine: &str, expected: impl Fn(&Sample) -> Option<Result<String, String>>) {
    let samples: Vec<Sample> = serde_json::from_str(include_str!("data/crossdb.json")).expect("samples");
    assert!(samples.len() > 60);
    let mut target = modelc_core::JsonMap::new();
    target.insert("type".into(), engine.into());
    let (j, diags) = Jinja::new(
        ProjectContext {
            project_name: "p".into(),
            target,
            ..Default::default()
        },
        &[],
    );
    assert!(diags.is_empty(), "{diags:?}");
    let node = NodeContext {
        name: "m".into(),
        unique_id: "model.p.m".into(),
        resource_type: "model".into(),
        original_file_path: "models/m.sql".into(),
        package: "p".into(),
        ..Default::default()
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for s in &samples {
        let Some(want) = expected(s) else { continue };
        checked += 1;
        let got = j.render("models/m.sql", &s.call, &node);
        match (&got, &want) {
            (Ok(out), Ok(sql)) if collapse(&out.sql) == *sql => {}
            (Err(e), Err(text)) if e.message.contains(text.as_str()) => {}
            _ => failures.push(format!(
                "{}: {}\n  want: {:?}\n  got:  {:?}",
                s.id,
                s.call,
                want,
                got.map(|o| collapse(&o.sql)).map_err(|e| e.message)
            )),
        }
    }
    assert!(checked > 60, "{checked} samples on {engine}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn cross_database_macros_render_as_dbt_duckdb() {
    check("duckdb", |s| {
        let needs_query = s.id.starts_with("get_intervals_between") || s.id.starts_with("date_spine");
        Some(if needs_query {
            Err("run_query".into())
        } else {
            Ok(s.dbt_duckdb.clone())
        })
    });
}

#[test]
fn cross_database_macros_render_as_dbt_postgres() {
    check("postgres", |s| match (&s.dbt_postgres, &s.dbt_postgres_error) {
        (Some(sql), _) => Some(Ok(sql.clone())),
        (None, Some(e)) => Some(Err(e.clone())),
        (None, None) => None,
    });
}
