//! Materializations: the SQL that builds each kind of node, run atomically.
//!
//! Every change to a relation happens inside one transaction: the new version is
//! built under a temporary name and swapped in, so a failed or killed run leaves the
//! previous version in place.

use std::path::Path;

use modelc_core::{quote_ident, Node, Relation, ResourceType};

use crate::adapter::{Connection, DbError, DbResult};
use crate::snapshot;

/// How a node ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Built.
    Success,
    /// Failed with an error.
    Error,
    /// Not run because an upstream node failed.
    Skipped,
    /// A test found no failing rows.
    Pass,
    /// An error-severity test found failing rows.
    Fail,
    /// A test found failing rows at warn level.
    Warn,
}

impl Status {
    /// `true` for outcomes that let downstream nodes run.
    pub fn is_ok(self) -> bool {
        matches!(self, Status::Success | Status::Pass | Status::Warn)
    }
}

/// What executing one node produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Status.
    pub status: Status,
    /// A short message (`CREATE TABLE (42 rows)`, an error, a failure count).
    pub message: String,
    /// Rows inserted or changed, when known.
    pub rows_affected: Option<u64>,
    /// Failing rows of a test.
    pub failures: Option<u64>,
}

impl Outcome {
    fn ok(message: impl Into<String>, rows: Option<u64>) -> Self {
        Outcome {
            status: Status::Success,
            message: message.into(),
            rows_affected: rows,
            failures: None,
        }
    }

    /// An error outcome.
    pub fn error(message: impl Into<String>) -> Self {
        Outcome {
            status: Status::Error,
            message: message.into(),
            rows_affected: None,
            failures: None,
        }
    }
}

/// Settings of one execution.
#[derive(Debug, Clone, Default)]
pub struct ExecSettings {
    /// `--full-refresh`.
    pub full_refresh: bool,
    /// `--store-failures` (forces storing test failures).
    pub store_failures: bool,
    /// Project root, for seed paths.
    pub root: std::path::PathBuf,
}

/// The kind of an existing relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelKind {
    /// A base table.
    Table,
    /// A view.
    View,
}

/// SQL string literal.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// What exists at `rel`, if anything.
pub fn existing(conn: &dyn Connection, rel: &Relation) -> DbResult<Option<RelKind>> {
    let rows = conn.query(&format!(
        "select table_type from information_schema.tables where lower(table_catalog) = lower({}) and lower(table_schema) = lower({}) and lower(table_name) = lower({})",
        literal(&rel.database),
        literal(&rel.schema),
        literal(&rel.identifier)
    ))?;
    Ok(rows.first().and_then(|r| r.first().cloned().flatten()).map(|t| {
        if t == "VIEW" {
            RelKind::View
        } else {
            RelKind::Table
        }
    }))
}

/// Column names and types of a relation, in order.
pub fn columns(conn: &dyn Connection, rel: &Relation) -> DbResult<Vec<(String, String)>> {
    let rows = conn.query(&format!(
        "select column_name, data_type from information_schema.columns where lower(table_catalog) = lower({}) and lower(table_schema) = lower({}) and lower(table_name) = lower({}) order by ordinal_position",
        literal(&rel.database),
        literal(&rel.schema),
        literal(&rel.identifier)
    ))?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut it = r.into_iter();
            (
                it.next().flatten().unwrap_or_default(),
                it.next().flatten().unwrap_or_default(),
            )
        })
        .collect())
}

fn drop_sql(rel: &Relation, kind: RelKind) -> String {
    match kind {
        RelKind::Table => format!("drop table if exists {rel};\n"),
        RelKind::View => format!("drop view if exists {rel};\n"),
    }
}

/// The model SQL without trailing semicolons, so it can be wrapped.
pub fn strip_semicolons(sql: &str) -> &str {
    let mut s = sql.trim_end();
    while let Some(rest) = s.strip_suffix(';') {
        s = rest.trim_end();
    }
    s
}

/// Runs `steps` in one transaction; rolls back on error. Returns the value of the
/// step marked as the row count, if any.
pub fn in_transaction(conn: &dyn Connection, steps: &[(&str, bool)]) -> DbResult<Option<u64>> {
    conn.batch("begin transaction")?;
    let mut rows = None;
    for (sql, counts) in steps.iter().filter(|(sql, _)| !sql.trim().is_empty()) {
        let result = if *counts {
            conn.execute(sql).map(|n| Some(n as u64))
        } else {
            conn.batch(sql).map(|_| None)
        };
        match result {
            Ok(Some(n)) => rows = Some(n),
            Ok(None) => {}
            Err(e) => {
                let _ = conn.batch("rollback");
                return Err(e);
            }
        }
    }
    if let Err(e) = conn.batch("commit") {
        let _ = conn.batch("rollback");
        return Err(e);
    }
    Ok(rows)
}

/// The temporary name a relation is built under.
pub fn temp_relation(rel: &Relation) -> Relation {
    rel.with_identifier(&format!("{}__modelc_tmp", rel.identifier))
}

/// Builds a table from a query atomically: create under a temporary name, drop the
/// old relation, rename.
pub fn replace_table(conn: &dyn Connection, rel: &Relation, select_sql: &str) -> DbResult<Option<u64>> {
    let tmp = temp_relation(rel);
    let old = existing(conn, rel)?;
    let create = format!("create table {tmp} as (\n{}\n)", strip_semicolons(select_sql));
    let mut swap = String::new();
    if let Some(kind) = old {
        swap.push_str(&drop_sql(rel, kind));
    }
    swap.push_str(&format!(
        "alter table {tmp} rename to {};",
        quote_ident(&rel.identifier)
    ));
    in_transaction(
        conn,
        &[
            (&format!("drop table if exists {tmp}"), false),
            (&create, true),
            (&swap, false),
        ],
    )
}

/// Executes one node.
pub fn run_node(conn: &dyn Connection, node: &Node, settings: &ExecSettings) -> Outcome {
    let result = match node.resource_type {
        ResourceType::Seed => seed(conn, node, &settings.root),
        ResourceType::Test => return crate::test::run_test(conn, node, settings),
        ResourceType::Snapshot => snapshot::run_snapshot(conn, node),
        ResourceType::Model => match node.config.materialized().as_str() {
            "view" => view(conn, node),
            "table" => table(conn, node),
            "incremental" => crate::incremental::run_incremental(conn, node, settings.full_refresh),
            "ephemeral" => Ok(Outcome::ok("EPHEMERAL", None)),
            other => Err(DbError(format!(
                "unknown materialization '{other}' (modelc knows view, table, incremental, ephemeral)"
            ))),
        },
        ResourceType::Source | ResourceType::Analysis => Ok(Outcome::ok("OK", None)),
    };
    result.unwrap_or_else(|e| Outcome::error(describe_error(node, &e)))
}

/// A database error located in the node's compiled SQL.
pub fn describe_error(node: &Node, e: &DbError) -> String {
    let mut msg = e.0.trim().to_string();
    // DuckDB reports `LINE n:` of the statement; models are wrapped after one line.
    if let Some(i) = msg.find("LINE ") {
        let digits: String = msg[i + 5..].chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse::<usize>() {
            msg.push_str(&format!(
                "\n  compiled SQL: target/{}:{}",
                node.compiled_path(),
                n.saturating_sub(1).max(1)
            ));
        }
    }
    msg
}

fn compiled(node: &Node) -> DbResult<&str> {
    node.compiled_code
        .as_deref()
        .ok_or_else(|| DbError(format!("{} has no compiled SQL", node.unique_id)))
}

fn relation(node: &Node) -> DbResult<&Relation> {
    node.relation
        .as_ref()
        .ok_or_else(|| DbError(format!("{} has no relation", node.unique_id)))
}

fn view(conn: &dyn Connection, node: &Node) -> DbResult<Outcome> {
    let rel = relation(node)?;
    let mut steps = String::new();
    if existing(conn, rel)? == Some(RelKind::Table) {
        steps.push_str(&drop_sql(rel, RelKind::Table));
    }
    let create = format!(
        "create or replace view {rel} as (\n{}\n)",
        strip_semicolons(compiled(node)?)
    );
    in_transaction(conn, &[(&steps, false), (&create, false)])?;
    Ok(Outcome::ok("CREATE VIEW", None))
}

fn table(conn: &dyn Connection, node: &Node) -> DbResult<Outcome> {
    let rows = replace_table(conn, relation(node)?, compiled(node)?)?;
    Ok(Outcome::ok(format!("CREATE TABLE ({} rows)", rows.unwrap_or(0)), rows))
}

fn seed(conn: &dyn Connection, node: &Node, root: &Path) -> DbResult<Outcome> {
    let rel = relation(node)?;
    let path = root.join(&node.original_file_path);
    let mut opts = vec![
        "header = true".to_string(),
        "auto_detect = true".to_string(),
        // A row with a wrong number of fields is an error, as in dbt.
        "strict_mode = true".to_string(),
        "null_padding = false".to_string(),
    ];
    if let Some(serde_json::Value::Object(types)) = node.config.get("column_types") {
        let entries: Vec<String> = types
            .iter()
            .map(|(k, v)| format!("{}: {}", literal(k), literal(v.as_str().unwrap_or_default())))
            .collect();
        opts.push(format!("types = {{{}}}", entries.join(", ")));
    }
    // dbt seeds are comma-separated unless `delimiter` says otherwise; letting the
    // sniffer choose would turn a malformed file into a one-column table.
    let delim = node.config.get_str("delimiter").unwrap_or_else(|| ",".into());
    opts.push(format!("delim = {}", literal(&delim)));
    let select = format!(
        "select * from read_csv({}, {})",
        literal(&path.to_string_lossy()),
        opts.join(", ")
    );
    let rows = replace_table(conn, rel, &select)
        .map_err(|e| DbError(format!("cannot load {}: {}", node.original_file_path, e.0)))?;
    Ok(Outcome::ok(format!("INSERT {}", rows.unwrap_or(0)), rows))
}
