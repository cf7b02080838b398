//! Materializations: the SQL that builds each kind of node, run atomically.
//!
//! Every change to a relation happens inside one transaction (DuckDB's DDL is
//! transactional: the old version is dropped and the new one built in it), so a
//! failed or killed run leaves the previous version in place.

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

    /// A node that did not run, and why.
    pub fn skipped(message: impl Into<String>) -> Self {
        Outcome {
            status: Status::Skipped,
            message: message.into(),
            rows_affected: None,
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
    /// The relations that existed when the run started (set by the runner): a node
    /// looks its own relation up here instead of querying the catalog, which costs a
    /// scan of every relation per node. Only the node itself changes its relation
    /// during a run, so the answer stays true. `None`: query.
    pub known: Option<std::sync::Arc<KnownRelations>>,
}

impl ExecSettings {
    /// What exists at `rel`: from [`ExecSettings::known`], else from the database.
    pub fn existing(&self, conn: &dyn Connection, rel: &Relation) -> DbResult<Option<RelKind>> {
        match &self.known {
            Some(k) => Ok(k.get(rel)),
            None => existing(conn, rel),
        }
    }
}

/// Every table and view of the database, by lowercase `database.schema.name`.
#[derive(Debug, Clone, Default)]
pub struct KnownRelations(std::collections::HashMap<String, RelKind>);

impl KnownRelations {
    /// Reads every relation with one catalog query.
    pub fn load(conn: &dyn Connection) -> DbResult<KnownRelations> {
        let rows =
            conn.query("select table_catalog, table_schema, table_name, table_type from information_schema.tables")?;
        Ok(KnownRelations(
            rows.into_iter()
                .filter_map(|r| {
                    let cell = |i: usize| r.get(i).cloned().flatten();
                    let kind = RelKind::from_table_type(&cell(3)?);
                    Some((Self::key(&cell(0)?, &cell(1)?, &cell(2)?), kind))
                })
                .collect(),
        ))
    }

    fn key(database: &str, schema: &str, name: &str) -> String {
        format!("{database}.{schema}.{name}").to_lowercase()
    }

    /// What exists at `rel`.
    pub fn get(&self, rel: &Relation) -> Option<RelKind> {
        self.0
            .get(&Self::key(&rel.database, &rel.schema, &rel.identifier))
            .copied()
    }
}

/// The kind of an existing relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelKind {
    /// A base table.
    Table,
    /// A view.
    View,
}

impl RelKind {
    /// The kind of an `information_schema.tables.table_type` (`VIEW`, `BASE TABLE`, ...).
    fn from_table_type(table_type: &str) -> RelKind {
        if table_type == "VIEW" {
            RelKind::View
        } else {
            RelKind::Table
        }
    }
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
    Ok(rows
        .first()
        .and_then(|r| r.first().cloned().flatten())
        .map(|t| RelKind::from_table_type(&t)))
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

/// A query's result with its column names and types, values as JSON (numbers and
/// booleans typed, everything else as text), for templates' `run_query`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResult {
    /// `(name, type)` of each column.
    pub columns: Vec<(String, String)>,
    /// The rows.
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// Whether `sql` returns rows (a query) rather than changing something (DDL, DML).
fn returns_rows(sql: &str) -> bool {
    let mut rest = sql;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r);
        } else {
            break;
        }
    }
    let word: String = rest
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(
        word.as_str(),
        "select" | "with" | "from" | "values" | "table" | "show" | "describe" | "summarize" | "pivot" | "unpivot"
    )
}

/// Runs SQL for a template (`run_query`, `statement`): a query's columns from
/// DuckDB's `describe`, and its values; a statement that returns no rows (DDL,
/// DML) is executed and gives an empty table, as in dbt.
pub fn query_table(conn: &dyn Connection, sql: &str) -> DbResult<QueryResult> {
    let sql = strip_semicolons(sql.trim());
    if !returns_rows(sql) {
        conn.batch(sql)?;
        return Ok(QueryResult {
            columns: Vec::new(),
            rows: Vec::new(),
        });
    }
    let columns: Vec<(String, String)> = conn
        .query(&format!("describe select * from (\n{sql}\n)"))?
        .into_iter()
        .map(|r| {
            let mut it = r.into_iter();
            (
                it.next().flatten().unwrap_or_default(),
                it.next().flatten().unwrap_or_default(),
            )
        })
        .collect();
    let typed = |v: Option<String>, ty: &str| -> serde_json::Value {
        let Some(v) = v else { return serde_json::Value::Null };
        let ty = ty.to_ascii_uppercase();
        let integer = [
            "TINYINT",
            "SMALLINT",
            "INTEGER",
            "BIGINT",
            "UTINYINT",
            "USMALLINT",
            "UINTEGER",
            "UBIGINT",
        ];
        if integer.contains(&ty.as_str()) {
            if let Ok(i) = v.parse::<i64>() {
                return i.into();
            }
        }
        if ["FLOAT", "DOUBLE", "REAL"].contains(&ty.as_str()) || ty.starts_with("DECIMAL") || ty == "HUGEINT" {
            if let Some(n) = v.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                return n.into();
            }
        }
        if ty == "BOOLEAN" {
            return (v == "true").into();
        }
        v.into()
    };
    let rows = conn
        .query(sql)?
        .into_iter()
        .map(|r| r.into_iter().zip(&columns).map(|(v, (_, ty))| typed(v, ty)).collect())
        .collect();
    Ok(QueryResult { columns, rows })
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

/// Builds a table from a query atomically, replacing `old` (what exists at `rel`):
/// drop and create in one transaction. DuckDB's DDL is transactional, so other
/// connections see the old relation until the commit, and a failed or killed build
/// leaves it in place.
pub fn replace_table(
    conn: &dyn Connection,
    rel: &Relation,
    select_sql: &str,
    old: Option<RelKind>,
) -> DbResult<Option<u64>> {
    let drop = old.map(|kind| drop_sql(rel, kind)).unwrap_or_default();
    let create = format!("create table {rel} as (\n{}\n)", strip_semicolons(select_sql));
    in_transaction(conn, &[(&drop, false), (&create, true)])
}

/// Executes one node: its pre-hooks, its materialization, then its post-hooks, on
/// one connection. Hooks run outside the node's transaction (dbt's
/// `transaction: false`): a failing pre-hook stops the node before it changes
/// anything; a failing post-hook fails the node after it was built.
pub fn run_node(conn: &dyn Connection, node: &Node, settings: &ExecSettings) -> Outcome {
    if let Err(e) = run_hooks(conn, &node.pre_hooks) {
        return Outcome::error(format!("pre_hook failed: {e}"));
    }
    let outcome = materialize(conn, node, settings);
    if outcome.status != Status::Success {
        return outcome;
    }
    match run_hooks(conn, &node.post_hooks) {
        Ok(()) => outcome,
        Err(e) => Outcome::error(format!("post_hook failed (the node was built): {e}")),
    }
}

fn run_hooks(conn: &dyn Connection, hooks: &[String]) -> DbResult<()> {
    hooks.iter().try_for_each(|sql| conn.batch(sql))
}

/// Executes one node's materialization.
fn materialize(conn: &dyn Connection, node: &Node, settings: &ExecSettings) -> Outcome {
    let result = match node.resource_type {
        ResourceType::Seed => seed(conn, node, settings),
        ResourceType::Test => return crate::test::run_test(conn, node, settings),
        ResourceType::Snapshot => snapshot::run_snapshot(conn, node),
        ResourceType::Model => match node.config.materialized().as_str() {
            "view" => view(conn, node, settings),
            "table" => table(conn, node, settings),
            "incremental" => crate::incremental::run_incremental(conn, node, settings),
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
            let line = n.saturating_sub(1).max(1);
            if let Some(at) = source_position(node, line, &msg[i..]) {
                msg.push_str(&format!("\n  at {}:{at}", node.original_file_path));
            }
            msg.push_str(&format!("\n  compiled SQL: target/{}:{line}", node.compiled_path()));
        }
    }
    msg
}

/// Where line `line` of a model's (or singular test's) compiled SQL is in its file,
/// as `line` or `line:column`: when the template rendered line for line (as many
/// lines as the file: no loop or macro added lines, no block took any away), its
/// lines are the file's. The column, from DuckDB's caret under `LINE n: ...`
/// (`excerpt`), only when the compiled line is the file's line as written.
fn source_position(node: &Node, line: usize, excerpt: &str) -> Option<String> {
    let file_based = match node.resource_type {
        ResourceType::Model => true,
        ResourceType::Test => node.test.as_ref().is_some_and(|t| t.name.is_none()),
        _ => false,
    };
    let compiled = node.compiled_code.as_deref()?;
    if !file_based || compiled.lines().count() != node.raw_code.lines().count() {
        return None;
    }
    let compiled_line = compiled.lines().nth(line - 1)?;
    let raw_line = node.raw_code.lines().nth(line - 1)?;
    // `LINE 5: group by by customer` then a line with spaces and carets.
    let mut lines = excerpt.lines();
    let shown = lines.next()?;
    let prefix = shown.find(": ").map(|p| p + 2)?;
    let caret = lines.next().and_then(|l| l.find('^'));
    let column = caret
        .filter(|&c| c >= prefix && compiled_line == raw_line && compiled_line.starts_with(&shown[prefix..]))
        .map(|c| compiled_line[..].chars().take(c - prefix).count() + 1);
    Some(match column {
        Some(c) => format!("{line}:{c}"),
        None => line.to_string(),
    })
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

fn view(conn: &dyn Connection, node: &Node, settings: &ExecSettings) -> DbResult<Outcome> {
    let rel = relation(node)?;
    let mut steps = String::new();
    if settings.existing(conn, rel)? == Some(RelKind::Table) {
        steps.push_str(&drop_sql(rel, RelKind::Table));
    }
    let create = format!(
        "create or replace view {rel} as (\n{}\n)",
        strip_semicolons(compiled(node)?)
    );
    in_transaction(conn, &[(&steps, false), (&create, false)])?;
    Ok(Outcome::ok("CREATE VIEW", None))
}

fn table(conn: &dyn Connection, node: &Node, settings: &ExecSettings) -> DbResult<Outcome> {
    let rel = relation(node)?;
    let rows = replace_table(conn, rel, compiled(node)?, settings.existing(conn, rel)?)?;
    Ok(Outcome::ok(format!("CREATE TABLE ({} rows)", rows.unwrap_or(0)), rows))
}

fn seed(conn: &dyn Connection, node: &Node, settings: &ExecSettings) -> DbResult<Outcome> {
    let rel = relation(node)?;
    let path = settings.root.join(&node.original_file_path);
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
    // The header is the first line: left to itself, the sniffer takes a file whose
    // rows disagree for one with leading junk and skips to its last line.
    opts.push("skip = 0".to_string());
    // Quotes as dbt's CSV reader (Python's) has them: left to itself, the sniffer
    // reads a file with an unclosed quote as one without quoting, and loads the
    // quote character into the data.
    opts.push("quote = '\"'".to_string());
    opts.push("escape = '\"'".to_string());
    let file = literal(&path.to_string_lossy());
    let select = format!("select * from read_csv({file}, {})", opts.join(", "));
    let select = dbt_seed_types(conn, &select, node.config.get("column_types")).unwrap_or(select);
    let rows = replace_table(conn, rel, &select, settings.existing(conn, rel)?).map_err(|e| {
        let e = if e.0.contains("Error when sniffing file") {
            locate_bad_row(conn, &path, &file, &delim).unwrap_or(e)
        } else {
            e
        };
        if e.0.contains("Invalid unicode") {
            if let Some(at) = first_bad_utf8(&path) {
                return DbError(format!(
                    "cannot load {}:{at}; save the file as UTF-8",
                    node.original_file_path
                ));
            }
        }
        DbError(format!("cannot load {}", csv_error(&node.original_file_path, &e.0)))
    })?;
    Ok(Outcome::ok(format!("INSERT {}", rows.unwrap_or(0)), rows))
}

/// The types dbt-duckdb gives a seed's columns, over what DuckDB's CSV sniffer
/// found: dbt infers them with agate, whose integers are `integer` and other
/// numbers `double` (where the sniffer says BIGINT or DECIMAL), and which has no
/// time type (text). Columns in `column_types` keep the type asked for. `None`
/// when nothing changes or the file cannot be described (loading it then reports
/// why).
fn dbt_seed_types(conn: &dyn Connection, select: &str, declared: Option<&serde_json::Value>) -> Option<String> {
    let columns = conn.query(&format!("describe {select}")).ok()?;
    let mut changed = false;
    let list: Vec<String> = columns
        .iter()
        .filter_map(|r| Some((r.first()?.clone()?, r.get(1)?.clone()?)))
        .map(|(name, ty)| {
            let quoted = quote_ident(&name);
            let is_declared = declared
                .and_then(serde_json::Value::as_object)
                .is_some_and(|d| d.keys().any(|k| k.eq_ignore_ascii_case(&name)));
            let ty = ty.to_ascii_uppercase();
            let target = match ty.as_str() {
                _ if is_declared => None,
                "TINYINT" | "SMALLINT" | "BIGINT" | "HUGEINT" | "UTINYINT" | "USMALLINT" | "UINTEGER" | "UBIGINT" => {
                    Some("INTEGER")
                }
                "FLOAT" => Some("DOUBLE"),
                "TIME" => Some("VARCHAR"),
                t if t.starts_with("DECIMAL") => Some("DOUBLE"),
                _ => None,
            };
            match target {
                Some(t) => {
                    changed = true;
                    format!("cast({quoted} as {t}) as {quoted}")
                }
                None => quoted,
            }
        })
        .collect();
    changed.then(|| format!("select {} from ({select})", list.join(", ")))
}

/// When the sniffer finds no consistent dialect, the rows do not all have the
/// header's number of fields: reading the file with that many text columns makes
/// DuckDB name the first row that does not. `None` when that read succeeds.
fn locate_bad_row(conn: &dyn Connection, path: &std::path::Path, file: &str, delim: &str) -> Option<DbError> {
    use std::io::BufRead;
    let mut header = String::new();
    std::io::BufReader::new(std::fs::File::open(path).ok()?)
        .read_line(&mut header)
        .ok()?;
    let n = count_fields(
        header.trim_start_matches('\u{feff}').trim_end_matches(['\r', '\n']),
        delim,
    );
    let columns: Vec<String> = (1..=n).map(|i| format!("'c{i}': 'VARCHAR'")).collect();
    conn.query(&format!(
        "select count(*) from read_csv({file}, header = true, auto_detect = false, strict_mode = true, null_padding = false, delim = {}, quote = '\"', escape = '\"', columns = {{{}}})",
        literal(delim),
        columns.join(", ")
    ))
    .err()
}

/// `line:column: ...` of the first byte of a file that is not UTF-8 (DuckDB says
/// the file is not UTF-8, and shows the wrong line).
fn first_bad_utf8(path: &std::path::Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let e = std::str::from_utf8(&bytes).err()?;
    let valid = &bytes[..e.valid_up_to()];
    let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&valid[start..]).chars().count() + 1;
    let byte = bytes.get(e.valid_up_to()).copied().unwrap_or_default();
    Some(format!("{line}:{column}: not valid UTF-8 (byte 0x{byte:02X})"))
}

/// The number of fields of a CSV line, honouring double quotes.
fn count_fields(line: &str, delim: &str) -> usize {
    if delim.is_empty() {
        return 1;
    }
    let mut n = 1;
    let mut quoted = false;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if c == '"' {
            quoted = !quoted;
        } else if !quoted && rest.starts_with(delim) {
            n += 1;
            rest = &rest[delim.len()..];
            continue;
        }
        rest = &rest[c.len_utf8()..];
    }
    n
}

/// A CSV reader error as `file:line: what` when DuckDB names the line (`CSV Error
/// on Line: 3`), without its advice (which suggests skipping rows).
fn csv_error(file: &str, msg: &str) -> String {
    let Some(at) = msg.find("CSV Error on Line: ") else {
        return format!("{file}: {msg}");
    };
    let rest = &msg[at + "CSV Error on Line: ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let body = rest[digits.len()..].split("Possible fixes").next().unwrap_or_default();
    let mut parts: Vec<String> = Vec::new();
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match parts.last_mut() {
            Some(last) if last.ends_with(':') => {
                last.push(' ');
                last.push_str(line);
            }
            _ => parts.push(line.to_string()),
        }
    }
    format!("{file}:{digits}: {}", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_told_from_statements_after_comments_and_parentheses() {
        for q in [
            "select 1",
            "  (select 1)",
            "-- note\nwith a as (select 1) select * from a",
            "/* x */ from t",
            "VALUES (1)",
        ] {
            assert!(returns_rows(q), "{q}");
        }
        for s in [
            "create table t as select 1",
            "insert into t select 1",
            "-- select\ndrop table t",
            "grant select on t to x",
        ] {
            assert!(!returns_rows(s), "{s}");
        }
    }

    #[test]
    fn fields_are_counted_outside_quotes() {
        assert_eq!(count_fields("a,b,c", ","), 3);
        assert_eq!(count_fields(r#"id,"name, full",x"#, ","), 3);
        assert_eq!(count_fields("a||b", "||"), 2);
        assert_eq!(count_fields("", ","), 1);
    }

    #[test]
    fn csv_errors_name_the_file_and_line_without_the_advice() {
        let duckdb = "Invalid Input Error: CSV Error on Line: 3\nOriginal Line: \n4,5\nExpected Number of Columns: 3 Found: 2\nPossible fixes:\n* Enable ignore errors (ignore_errors=true) to skip this row\n\n  file = x.csv\n";
        assert_eq!(
            csv_error("seeds/x.csv", duckdb),
            "seeds/x.csv:3: Original Line: 4,5; Expected Number of Columns: 3 Found: 2"
        );
        assert_eq!(
            csv_error("seeds/x.csv", "IO Error: gone"),
            "seeds/x.csv: IO Error: gone"
        );
    }
}
