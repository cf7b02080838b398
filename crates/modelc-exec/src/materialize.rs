//! Materializations: the SQL that builds each kind of node, run atomically.
//!
//! Every change to a relation happens inside one transaction (DuckDB's DDL is
//! transactional: the old version is dropped and the new one built in it), so a
//! failed or killed run leaves the previous version in place.

use modelc_core::{Constraint, Hook, Node, Relation, ResourceType};

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
    /// Reads every relation (one catalog query on most engines).
    pub fn load(conn: &dyn Connection) -> DbResult<KnownRelations> {
        Ok(KnownRelations(
            conn.relations()?
                .into_iter()
                .map(|(rel, kind)| (Self::key(&rel.database, &rel.schema, &rel.identifier), kind))
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
    pub(crate) fn from_table_type(table_type: &str) -> RelKind {
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
    conn.relation_kind(rel)
}

/// Drops what exists at `rel`, table or view (dbt's `adapter.drop_relation`).
pub fn drop_if_exists(conn: &dyn Connection, rel: &Relation) -> DbResult<()> {
    match existing(conn, rel)? {
        Some(kind) => conn.batch(&conn.dialect().drop_relation(rel, kind)),
        None => Ok(()),
    }
}

/// Column names and types of a relation, in order.
pub fn columns(conn: &dyn Connection, rel: &Relation) -> DbResult<Vec<(String, String)>> {
    conn.columns(rel)
}

/// The first two values of each row, as `(name, type)` pairs.
pub(crate) fn pairs(rows: Vec<Vec<Option<String>>>) -> Vec<(String, String)> {
    rows.into_iter()
        .map(|r| {
            let mut it = r.into_iter();
            (
                it.next().flatten().unwrap_or_default(),
                it.next().flatten().unwrap_or_default(),
            )
        })
        .collect()
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

/// Runs SQL for a template (`run_query`, `statement`): a query's columns as the
/// engine describes them, and its values; a statement that returns no rows (DDL,
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
    let columns = conn.describe(sql)?;
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
            "INT2",
            "INT4",
            "INT8",
        ];
        if integer.contains(&ty.as_str()) {
            if let Ok(i) = v.parse::<i64>() {
                return i.into();
            }
        }
        let float = ["FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8", "HUGEINT"];
        if float.contains(&ty.as_str()) || ty.starts_with("DECIMAL") || ty.starts_with("NUMERIC") {
            if let Some(n) = v.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                return n.into();
            }
        }
        if ty == "BOOLEAN" || ty == "BOOL" {
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

/// The model SQL without trailing semicolons, so it can be wrapped.
pub fn strip_semicolons(sql: &str) -> &str {
    let mut s = sql.trim_end();
    while let Some(rest) = s.strip_suffix(';') {
        s = rest.trim_end();
    }
    s
}

/// Runs `steps` in one transaction; rolls back on error. Returns the value of the
/// step marked as the row count, if any. Inside a transaction the caller holds
/// open ([`Connection::joined_transaction`]), the steps join it, and an error is
/// left to that caller to roll back. On an engine without transactions the steps
/// run one by one: callers give such an engine only steps that are each safe to
/// stop after (see [`replace_table`]).
pub fn in_transaction(conn: &dyn Connection, steps: &[(&str, bool)]) -> DbResult<Option<u64>> {
    let joined = conn.joined_transaction().is_some_and(std::cell::Cell::get);
    let transactional = conn.dialect().transactions() && !joined;
    if transactional {
        conn.batch("begin transaction")?;
    }
    let mut rows = None;
    for (sql, counts) in steps.iter().filter(|(sql, _)| !sql.trim().is_empty()) {
        let result = if *counts {
            conn.execute(sql)
        } else {
            conn.batch(sql).map(|_| None)
        };
        match result {
            Ok(Some(n)) => rows = Some(n),
            Ok(None) => {}
            Err(e) => {
                if transactional {
                    let _ = conn.batch("rollback");
                }
                return Err(e);
            }
        }
    }
    if transactional {
        if let Err(e) = conn.batch("commit") {
            let _ = conn.batch("rollback");
            return Err(e);
        }
    }
    Ok(rows)
}

/// How a node's table is laid out where the engine has a say (Spark's
/// `file_format` and `partition_by`), and the shape an enforced contract gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableOptions {
    /// The table format (`parquet`, `delta`, ...): the node's `file_format`, else
    /// the target's.
    pub file_format: Option<String>,
    /// The partition columns.
    pub partition_by: Vec<String>,
    /// A model with an enforced contract: its declared columns and constraints,
    /// with which the table is created before its rows are inserted (dbt's
    /// `get_table_columns_and_constraints`).
    pub contract: Option<Contract>,
}

/// The declared shape of a table with an enforced contract.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contract {
    /// The columns in order: name, data type, constraints.
    pub columns: Vec<ContractColumn>,
    /// The model-level constraints.
    pub constraints: Vec<Constraint>,
}

/// One column of a [`Contract`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContractColumn {
    /// Its name.
    pub name: String,
    /// Its declared `data_type`.
    pub data_type: String,
    /// Its constraints.
    pub constraints: Vec<Constraint>,
}

impl TableOptions {
    /// The options a node's config asks for.
    pub fn of(node: &Node) -> TableOptions {
        let contract = (node.resource_type == ResourceType::Model && contract_enforced(node)).then(|| Contract {
            columns: node
                .columns
                .iter()
                .map(|c| ContractColumn {
                    name: c.name.clone(),
                    data_type: c.data_type.clone().unwrap_or_default(),
                    constraints: c.constraints.clone(),
                })
                .collect(),
            constraints: node.constraints.clone(),
        });
        TableOptions {
            file_format: node.config.get_str("file_format").map(|f| f.to_ascii_lowercase()),
            partition_by: node.config.get_list("partition_by"),
            contract: contract.filter(|c| !c.columns.is_empty()),
        }
    }
}

/// Builds a table from a query atomically, replacing `old` (what exists at `rel`).
/// Where DDL is transactional (DuckDB, PostgreSQL), drop and create run in one
/// transaction: other connections see the old relation until the commit, and a
/// failed or killed build leaves it in place. Elsewhere (Spark) the new table is
/// built beside the old one and swapped in by renaming ([`swap_in`]).
pub fn replace_table(
    conn: &dyn Connection,
    rel: &Relation,
    select_sql: &str,
    old: Option<RelKind>,
    options: &TableOptions,
) -> DbResult<Option<u64>> {
    let dialect = conn.dialect();
    if !dialect.transactions() {
        return swap_in(
            conn,
            rel,
            old,
            &dialect.create_table(&staging(rel), select_sql, options),
            options,
        );
    }
    let drop = old.map(|kind| dialect.drop_relation(rel, kind)).unwrap_or_default();
    let create = dialect.create_table(rel, select_sql, options);
    let mut steps = vec![(drop.as_str(), false)];
    steps.extend(
        create
            .iter()
            .enumerate()
            .map(|(i, sql)| (sql.as_str(), i + 1 == create.len())),
    );
    in_transaction(conn, &steps)
}

/// Where [`swap_in`] builds the new version of `rel`.
fn staging(rel: &Relation) -> Relation {
    rel.with_identifier(&format!("{}__modelc_new", rel.identifier))
}

/// On an engine without transactional DDL: runs `build` (statements that create
/// the table [`staging`]`(rel)`; the last one's row count is the result), then renames `old` away, the new table to `rel`, and drops
/// the old one. A failed build leaves the old relation untouched; between the two
/// renames (two catalog operations) `rel` does not exist, and a run killed there
/// leaves the old version as `<name>__modelc_old`, where the next build finds and
/// replaces it.
pub fn swap_in(
    conn: &dyn Connection,
    rel: &Relation,
    old: Option<RelKind>,
    build: &[String],
    options: &TableOptions,
) -> DbResult<Option<u64>> {
    let d = conn.dialect();
    let new = staging(rel);
    let backup = rel.with_identifier(&format!("{}__modelc_old", rel.identifier));
    for leftover in [&new, &backup] {
        if let Some(kind) = conn.relation_kind(leftover)? {
            conn.batch(&d.drop_relation(leftover, kind))?;
        }
    }
    let mut rows = None;
    for sql in build {
        rows = conn.execute(sql)?;
    }
    let renamed = |conn: &dyn Connection| match d.after_rename(rel, options) {
        Some(sql) => conn.batch(&sql),
        None => Ok(()),
    };
    let Some(kind) = old else {
        conn.batch(&d.rename_relation(&new, rel, RelKind::Table))?;
        renamed(conn)?;
        return Ok(rows);
    };
    if let Err(e) = conn.batch(&d.rename_relation(rel, &backup, kind)) {
        let _ = conn.batch(&d.drop_relation(&new, RelKind::Table));
        return Err(e);
    }
    if let Err(e) = conn.batch(&d.rename_relation(&new, rel, RelKind::Table)) {
        // Put the old version back where it was.
        let _ = conn.batch(&d.rename_relation(&backup, rel, kind));
        return Err(e);
    }
    renamed(conn)?;
    conn.batch(&d.drop_relation(&backup, kind))?;
    Ok(rows)
}

/// Executes one node on one connection, in dbt's order: the pre-hooks that run
/// outside the transaction (`transaction: false`); then, in one transaction, the
/// pre-hooks inside it, the materialization and the post-hooks inside it, committed
/// together, so that a failing hook rolls the build back and the previous version
/// stays; then the post-hooks outside it. On an engine without transactions
/// (Spark) they run in the same order, one by one. A hook that asks the
/// database is rendered by `late` as its turn comes.
pub fn run_node(
    conn: &dyn Connection,
    node: &Node,
    settings: &ExecSettings,
    late: Option<&dyn crate::LateRender>,
) -> Outcome {
    let run_hooks = |hooks: &[&Hook]| run_hooks(conn, node, hooks, late);
    let (pre_in, pre_out): (Vec<&Hook>, Vec<&Hook>) = node.pre_hooks.iter().partition(|h| h.transaction);
    let (post_in, post_out): (Vec<&Hook>, Vec<&Hook>) = node.post_hooks.iter().partition(|h| h.transaction);
    if let Err(e) = run_hooks(&pre_out) {
        return Outcome::error(format!("pre_hook failed: {e}"));
    }
    let shared = (!pre_in.is_empty() || !post_in.is_empty()) && conn.dialect().transactions();
    let joined = conn.joined_transaction().filter(|_| shared);
    if let Some(flag) = joined {
        if let Err(e) = conn.batch("begin transaction") {
            return Outcome::error(describe_error(node, &e));
        }
        flag.set(true);
    }
    let failed_after_build = |e: DbError| Outcome::error(format!("post_hook failed (the node was built): {e}"));
    let built = || {
        if let Err(e) = run_hooks(&pre_in) {
            return Outcome::error(format!("pre_hook failed: {e}"));
        }
        let outcome = materialize(conn, node, settings);
        if outcome.status != Status::Success {
            return outcome;
        }
        match run_hooks(&post_in) {
            Ok(()) => outcome,
            Err(e) if joined.is_some() => Outcome::error(format!(
                "post_hook failed, so the build was rolled back (the previous version stays): {e}"
            )),
            Err(e) => failed_after_build(e),
        }
    };
    let mut outcome = built();
    if let Some(flag) = joined {
        flag.set(false);
        if outcome.status == Status::Success {
            if let Err(e) = conn.batch("commit") {
                let _ = conn.batch("rollback");
                return Outcome::error(describe_error(node, &e));
            }
        } else {
            let _ = conn.batch("rollback");
        }
    }
    if outcome.status == Status::Success {
        if let Err(e) = run_hooks(&post_out) {
            outcome = failed_after_build(e);
        }
    }
    outcome
}

/// Runs hooks in order. A late hook's drops run on this connection, which sees
/// the node's own build before it commits, as dbt's `adapter.drop_relation` does.
fn run_hooks(
    conn: &dyn Connection,
    node: &Node,
    hooks: &[&Hook],
    late: Option<&dyn crate::LateRender>,
) -> DbResult<()> {
    for hook in hooks {
        if hook.late.is_none() {
            conn.batch(&hook.sql)?;
            continue;
        }
        let Some(late) = late else {
            return Err(DbError(
                "this hook asks the database, so it renders as it runs, and this run cannot render it".into(),
            ));
        };
        let (drops, sql) = late.render_hook(node, hook).map_err(DbError)?;
        for rel in drops {
            drop_if_exists(conn, &rel)?;
        }
        if !sql.trim().is_empty() {
            conn.batch(&sql)?;
        }
    }
    Ok(())
}

/// Executes one node's materialization.
fn materialize(conn: &dyn Connection, node: &Node, settings: &ExecSettings) -> Outcome {
    let result = match node.resource_type {
        ResourceType::Seed => seed(conn, node, settings),
        ResourceType::Test => return crate::test::run_test(conn, node, settings),
        ResourceType::UnitTest => return crate::unit_test::run_unit_test(node),
        ResourceType::Snapshot => snapshot::run_snapshot(conn, node),
        ResourceType::Model if !node.is_ephemeral() && contract_enforced(node) => {
            check_contract(conn, node).and_then(|()| model(conn, node, settings))
        }
        ResourceType::Model => model(conn, node, settings),
        ResourceType::Source | ResourceType::Analysis => Ok(Outcome::ok("OK", None)),
    };
    result.unwrap_or_else(|e| Outcome::error(describe_error(node, &e)))
}

/// Builds a model by its materialization.
fn model(conn: &dyn Connection, node: &Node, settings: &ExecSettings) -> DbResult<Outcome> {
    match node.config.materialized().as_str() {
        "view" => view(conn, node, settings),
        "table" => table(conn, node, settings),
        "incremental" => crate::incremental::run_incremental(conn, node, settings),
        "ephemeral" => Ok(Outcome::ok("EPHEMERAL", None)),
        other => Err(DbError(format!(
            "unknown materialization '{other}' (modelc knows view, table, incremental, ephemeral)"
        ))),
    }
}

/// `contract: {enforced: true}`.
fn contract_enforced(node: &Node) -> bool {
    node.config
        .get("contract")
        .and_then(|c| c.get("enforced"))
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

/// dbt's run-time contract check, before anything is built (a broken contract
/// leaves the relation as it was): the model's query returns the declared columns,
/// each of the declared type as the engine spells it (each declared type is
/// described by the engine itself, so `int` and `INTEGER` are the same).
fn check_contract(conn: &dyn Connection, node: &Node) -> DbResult<()> {
    let returned = conn.describe(compiled(node)?)?;
    let declared: Vec<(&str, &str)> = node
        .columns
        .iter()
        .filter_map(|c| Some((c.name.as_str(), c.data_type.as_deref()?)))
        .collect();
    if declared.is_empty() {
        return Ok(());
    }
    let casts: Vec<String> = declared
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| format!("cast(null as {ty}) as c{i}"))
        .collect();
    let spelled = conn.describe(&format!("select {}", casts.join(", ")))?;
    let mut rows: Vec<[String; 4]> = Vec::new();
    for ((name, ty), (_, contract_type)) in declared.iter().zip(&spelled) {
        match returned.iter().find(|(r, _)| r.eq_ignore_ascii_case(name)) {
            None => rows.push([
                name.to_string(),
                String::new(),
                ty.to_string(),
                "missing in definition".into(),
            ]),
            Some((_, found)) if !found.eq_ignore_ascii_case(contract_type) => {
                rows.push([
                    name.to_string(),
                    found.clone(),
                    contract_type.clone(),
                    "data type mismatch".into(),
                ]);
            }
            Some(_) => {}
        }
    }
    for (name, found) in &returned {
        if !declared.iter().any(|(d, _)| d.eq_ignore_ascii_case(name)) {
            rows.push([name.clone(), found.clone(), String::new(), "missing in contract".into()]);
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    let header = ["column_name", "definition_type", "contract_type", "mismatch_reason"];
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 4]| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        format!("| {} |", padded.join(" | "))
    };
    let rule = widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join(" | ");
    let mut table = vec![line(header), format!("| {rule} |")];
    table.extend(rows.iter().map(|r| line([&r[0], &r[1], &r[2], &r[3]])));
    Err(DbError(format!(
        "This model has an enforced contract that failed.\nPlease ensure the name, data_type, and number of columns in your contract match the columns in your model's definition.\n\n{}",
        table.join("\n")
    )))
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
    let steps = conn
        .dialect()
        .replace_view(rel, compiled(node)?, settings.existing(conn, rel)?);
    let steps: Vec<(&str, bool)> = steps.iter().map(|s| (s.as_str(), false)).collect();
    in_transaction(conn, &steps)?;
    Ok(Outcome::ok("CREATE VIEW", None))
}

fn table(conn: &dyn Connection, node: &Node, settings: &ExecSettings) -> DbResult<Outcome> {
    let rel = relation(node)?;
    let rows = replace_table(
        conn,
        rel,
        compiled(node)?,
        settings.existing(conn, rel)?,
        &TableOptions::of(node),
    )?;
    Ok(Outcome::ok(with_rows("CREATE TABLE", rows), rows))
}

/// `CREATE TABLE (42 rows)`, or `CREATE TABLE` where the engine does not count.
pub(crate) fn with_rows(what: &str, rows: Option<u64>) -> String {
    match rows {
        Some(n) => format!("{what} ({n} rows)"),
        None => what.to_string(),
    }
}

fn seed(conn: &dyn Connection, node: &Node, settings: &ExecSettings) -> DbResult<Outcome> {
    let rel = relation(node)?;
    let file = crate::seed::SeedFile::of(node, &settings.root);
    let rows = conn.load_seed(&file, rel, settings.existing(conn, rel)?)?;
    Ok(Outcome::ok(
        rows.map_or_else(|| "INSERT".to_string(), |n| format!("INSERT {n}")),
        rows,
    ))
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
}
