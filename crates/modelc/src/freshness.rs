//! `modelc source freshness`: for each selected source table with a freshness
//! criterion and a `loaded_at_field` (or `loaded_at_query`), asks the database for
//! its latest load time and compares its age with `warn_after` / `error_after`;
//! writes `target/sources.json` in dbt's schema (v3). Exit 1 when a source is
//! stale past `error_after` or cannot be queried, as in dbt.

use std::time::Instant;

use modelc_core::SourceTable;
use modelc_exec::{query_table, Connection};
use serde_json::{json, Value};

use crate::cli::FreshnessArgs;
use crate::{invalid, invocation_id, load, selection, FAILED};

/// A `warn_after` / `error_after` criterion: `count` periods.
fn limit_seconds(criterion: Option<&Value>) -> Option<f64> {
    let c = criterion?;
    let count = c.get("count")?.as_f64()?;
    let unit = match c.get("period")?.as_str()? {
        "minute" => 60.0,
        "hour" => 3600.0,
        "day" => 86400.0,
        _ => return None,
    };
    Some(count * unit)
}

/// The freshness criteria of a source table, if it has any and a way to measure.
fn criteria(s: &SourceTable) -> Option<Value> {
    let f = s.config.get("freshness").filter(|f| f.is_object())?;
    let has_limit = limit_seconds(f.get("warn_after")).is_some() || limit_seconds(f.get("error_after")).is_some();
    let measurable = s.config.get_str("loaded_at_field").is_some() || s.config.get_str("loaded_at_query").is_some();
    if !(has_limit && measurable) {
        return None;
    }
    // dbt's shape: both criteria and the filter, null where not set.
    let none = json!({"count": null, "period": null});
    Some(json!({
        "warn_after": f.get("warn_after").cloned().unwrap_or_else(|| none.clone()),
        "error_after": f.get("error_after").cloned().unwrap_or(none),
        "filter": f.get("filter").cloned().unwrap_or(Value::Null),
    }))
}

/// The query for the latest load time, as UTC text.
fn freshness_query(s: &SourceTable, criteria: &Value) -> String {
    if let Some(q) = s.config.get_str("loaded_at_query") {
        return format!(
            "select cast(max_loaded_at as timestamp)::varchar as max_loaded_at from ({}) as q(max_loaded_at)",
            modelc_exec::strip_semicolons(&q)
        );
    }
    let field = s.config.get_str("loaded_at_field").unwrap_or_default();
    let filter = criteria
        .get("filter")
        .and_then(Value::as_str)
        .map(|f| format!(" where {f}"))
        .unwrap_or_default();
    format!(
        "select cast(max({field}) as timestamp)::varchar as max_loaded_at from {}{filter}",
        s.render()
    )
}

/// One source's outcome: status and the `sources.json` entry.
fn check(conn: &dyn Connection, s: &SourceTable, criteria: &Value) -> (&'static str, Value, String) {
    let started = chrono::Utc::now();
    let clock = Instant::now();
    let measured = query_table(conn, &freshness_query(s, criteria))
        .map_err(|e| e.to_string())
        .and_then(|r| {
            let text = r
                .rows
                .first()
                .and_then(|row| row.first())
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| "the source has no rows with a load time".to_string())?;
            chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f")
                .map(|t| t.and_utc())
                .map_err(|e| format!("cannot read the load time '{text}': {e}"))
        });
    let elapsed = clock.elapsed().as_secs_f64();
    let timing = json!([{"name": "execute", "started_at": started.to_rfc3339(), "completed_at": chrono::Utc::now().to_rfc3339()}]);
    match measured {
        Ok(max_loaded_at) => {
            let now = chrono::Utc::now();
            let age = (now - max_loaded_at).num_milliseconds() as f64 / 1000.0;
            let over = |key: &str| limit_seconds(criteria.get(key)).is_some_and(|limit| age > limit);
            let status = if over("error_after") {
                "error"
            } else if over("warn_after") {
                "warn"
            } else {
                "pass"
            };
            let entry = json!({
                "unique_id": s.unique_id, "max_loaded_at": max_loaded_at.to_rfc3339(),
                "snapshotted_at": now.to_rfc3339(), "max_loaded_at_time_ago_in_s": age,
                "status": status, "criteria": criteria, "adapter_response": {}, "timing": timing,
                "thread_id": "Thread-1", "execution_time": elapsed,
            });
            (status, entry, format!("{age:.0}s since the last load"))
        }
        Err(e) => {
            let entry = json!({
                "unique_id": s.unique_id, "error": e, "status": "runtime error",
                "adapter_response": {}, "timing": timing, "thread_id": "Thread-1", "execution_time": elapsed,
            });
            ("runtime error", entry, e)
        }
    }
}

pub fn cmd_source_freshness(args: &FreshnessArgs) -> Result<(), u8> {
    let started = Instant::now();
    let project = load(&args.common, false)?;
    // As dbt: with no --select, every source.
    let mut common = args.common.clone();
    if common.select.is_empty() {
        common.select = vec!["resource_type:source".to_string()];
    }
    let selected = selection(&project, &common)?;
    let sources: Vec<(&SourceTable, Value)> = project
        .sources
        .values()
        .filter(|s| selected.contains(&s.unique_id))
        .filter_map(|s| criteria(s).map(|c| (s, c)))
        .collect();
    if sources.is_empty() {
        println!("Nothing to do: no selected source has a freshness criterion and a loaded_at_field.");
        return Ok(());
    }
    let adapter = modelc_exec::open(&project.db).map_err(invalid)?;
    let conn = adapter.connect().map_err(invalid)?;
    let total = sources.len();
    let mut results = Vec::with_capacity(total);
    let mut failed = false;
    for (i, (s, criteria)) in sources.iter().enumerate() {
        let (status, entry, detail) = check(conn.as_ref(), s, criteria);
        let word = match status {
            "pass" => "PASS",
            "warn" => "WARN",
            "error" => "ERROR STALE",
            _ => "ERROR",
        };
        failed |= matches!(status, "error" | "runtime error");
        println!(
            "{:>w$} of {total}  {word:<5} freshness of {}.{} [{}]",
            i + 1,
            s.source_name,
            s.name,
            detail.lines().next().unwrap_or_default(),
            w = total.to_string().len()
        );
        if status == "runtime error" {
            eprintln!(
                "error: freshness of {}.{} ({}): {detail}",
                s.source_name, s.name, s.original_file_path
            );
        }
        results.push(entry);
    }
    let doc = json!({
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/sources/v3.json",
            "dbt_version": modelc_core::DBT_VERSION,
            "generated_at": modelc_compile::artifacts::generated_at(),
            "invocation_id": invocation_id(),
            "env": {},
        },
        "results": results,
        "elapsed_time": started.elapsed().as_secs_f64(),
    });
    let path = args
        .output
        .clone()
        .unwrap_or_else(|| project.target_dir.join("sources.json"));
    std::fs::write(&path, doc.to_string()).map_err(|e| invalid(format!("cannot write {}: {e}", path.display())))?;
    if failed {
        Err(FAILED)
    } else {
        Ok(())
    }
}
