//! Node results and `target/run_results.json` in dbt's format (schema v6).

use std::path::Path;

use chrono::{DateTime, Utc};
use modelc_core::Node;
use serde_json::json;

use crate::materialize::{Outcome, Status};

/// The result of one node.
#[derive(Debug, Clone)]
pub struct NodeResult {
    /// The node.
    pub unique_id: String,
    /// How it ended.
    pub status: Status,
    /// Message (`CREATE TABLE (10 rows)`, an error...).
    pub message: String,
    /// Seconds.
    pub execution_time: f64,
    /// Rows inserted or changed.
    pub rows_affected: Option<u64>,
    /// Failing rows of a test.
    pub failures: Option<u64>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Worker index.
    pub thread: usize,
}

impl NodeResult {
    /// Builds a result from an outcome.
    pub fn new(node: &Node, outcome: Outcome, started_at: DateTime<Utc>, seconds: f64, thread: usize) -> Self {
        NodeResult {
            unique_id: node.unique_id.clone(),
            status: outcome.status,
            message: outcome.message,
            execution_time: seconds,
            rows_affected: outcome.rows_affected,
            failures: outcome.failures,
            started_at,
            thread,
        }
    }
}

/// Writes `run_results.json` with dbt's field names.
pub fn write_run_results(
    path: &Path,
    results: &[NodeResult],
    nodes: &std::collections::BTreeMap<String, Node>,
    elapsed: f64,
    invocation_id: &str,
    args: serde_json::Value,
) -> std::io::Result<()> {
    let fmt = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let items: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let node = nodes.get(&r.unique_id);
            let completed = r.started_at + chrono::Duration::microseconds((r.execution_time * 1e6) as i64);
            json!({
                "status": r.status,
                "timing": if r.status == Status::Skipped { json!([]) } else { json!([{"name": "execute", "started_at": fmt(&r.started_at), "completed_at": fmt(&completed)}]) },
                "thread_id": format!("Thread-{}", r.thread + 1),
                "execution_time": r.execution_time,
                "adapter_response": match r.rows_affected { Some(n) => json!({"_message": r.message, "rows_affected": n}), None => json!({}) },
                "message": r.message,
                "failures": r.failures,
                "unique_id": r.unique_id,
                "compiled": node.map(|n| n.compiled_code.is_some()),
                "compiled_code": node.and_then(|n| n.compiled_code.clone()),
                "relation_name": node.and_then(|n| n.relation.as_ref().map(|r| r.to_string())),
                "batch_results": null,
            })
        })
        .collect();
    let doc = json!({
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json",
            "dbt_version": concat!("modelc-", env!("CARGO_PKG_VERSION")),
            "generated_at": fmt(&Utc::now()),
            "invocation_id": invocation_id,
            "env": {},
        },
        "results": items,
        "elapsed_time": elapsed,
        "args": args,
    });
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(&doc).map_err(std::io::Error::other)?;
    std::fs::write(path, text)
}
