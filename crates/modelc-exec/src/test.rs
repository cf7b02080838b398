//! Data tests: count failing rows, compare with `warn_if`/`error_if`, store failures.

use modelc_core::Node;

use crate::adapter::Connection;
use crate::materialize::{
    describe_error, replace_table, strip_semicolons, ExecSettings, Outcome, Status, TableOptions,
};

/// Runs a test node.
pub fn run_test(conn: &dyn Connection, node: &Node, settings: &ExecSettings) -> Outcome {
    let cfg = &node.config;
    let Some(sql) = node.compiled_code.as_deref() else {
        return Outcome::error("no compiled SQL");
    };
    let fail_calc = cfg.get_str("fail_calc").unwrap_or_else(|| "count(*)".into());
    let warn_if = cfg.get_str("warn_if").unwrap_or_else(|| "!= 0".into());
    let error_if = cfg.get_str("error_if").unwrap_or_else(|| "!= 0".into());
    let limit = cfg
        .get("limit")
        .and_then(serde_json::Value::as_u64)
        .map(|l| format!("\nlimit {l}"))
        .unwrap_or_default();
    let store = settings.store_failures || cfg.get_bool("store_failures").unwrap_or(false);
    let inner = if store {
        let Some(rel) = node.relation.as_ref() else {
            return Outcome::error("store_failures needs a relation");
        };
        if let Err(e) = conn.batch(&conn.dialect().create_schema(&rel.database, &rel.schema)) {
            return Outcome::error(describe_error(node, &e));
        }
        let replaced = settings.existing(conn, rel).and_then(|old| {
            replace_table(
                conn,
                rel,
                &format!("{}{limit}", strip_semicolons(sql)),
                old,
                &TableOptions::default(),
            )
        });
        if let Err(e) = replaced {
            return Outcome::error(describe_error(node, &e));
        }
        format!("select * from {rel}")
    } else {
        format!("{}{limit}", strip_semicolons(sql))
    };
    let query = format!(
        "select {fail_calc} as failures, ({fail_calc}) {warn_if} as should_warn, ({fail_calc}) {error_if} as should_error from (\n{inner}\n) dbt_internal_test"
    );
    let rows = match conn.query(&query) {
        Ok(r) => r,
        Err(e) => return Outcome::error(describe_error(node, &e)),
    };
    let row = rows.into_iter().next().unwrap_or_default();
    let get = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
    let failures: u64 = get(0).parse::<f64>().map(|f| f as u64).unwrap_or(0);
    let should_warn = get(1) == "true";
    let should_error = get(2) == "true";
    let severity = cfg.get_str("severity").unwrap_or_else(|| "error".into()).to_lowercase();
    let status = if should_error && severity == "error" {
        Status::Fail
    } else if should_warn || should_error {
        Status::Warn
    } else {
        Status::Pass
    };
    let message = match status {
        Status::Pass => "PASS".to_string(),
        _ => format!(
            "Got {failures} result{}, configured to {} if {}",
            if failures == 1 { "" } else { "s" },
            if status == Status::Fail { "fail" } else { "warn" },
            if status == Status::Fail { &error_if } else { &warn_if }
        ),
    };
    Outcome {
        status,
        message,
        rows_affected: None,
        failures: Some(failures),
    }
}
