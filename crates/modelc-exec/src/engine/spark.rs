//! Apache Spark (`type: spark`, `method: connect` in `profiles.yml`), through the
//! Apache Spark project's Spark Connect client (`apache-spark-connect-core`): every
//! statement is sent as SQL in a plan, results come back as Arrow batches.
//!
//! Spark has no transactions, and its plain (parquet, orc) tables no `UPDATE`,
//! `DELETE` or `MERGE`. So a table is built beside the old one and swapped in by
//! renaming ([`crate::materialize::swap_in`]; the rename is the window, named in
//! ARCHITECTURE.md), and a `merge`, `delete+insert` or snapshot builds the table's
//! next version as a query. Delta, Iceberg and Hudi tables merge with `MERGE INTO`,
//! as dbt-spark does.
//!
//! Names are two-part (`schema.table`, in the session catalog), double-quoted as on
//! every engine: each session sets `spark.sql.ansi.doubleQuotedIdentifiers`. Temp
//! tables are the session's temporary views. Seeds are read by an in-memory DuckDB
//! (the same reader, types and errors as on DuckDB) and sent in the plan as Arrow:
//! the file need not be on the server's disk.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use modelc_core::{quote_ident, DbConfig, Relation};
use spark_connect_core::{ChannelBuilder, SparkConnectClient};
use spark_connect_proto as pb;
use tokio::runtime::Runtime;

use crate::adapter::{Adapter, Connection, DbError, DbResult, Interrupt};
use crate::engine::Dialect;
use crate::materialize::{literal, replace_table, strip_semicolons, RelKind, TableOptions};
use crate::seed::SeedFile;

/// Spark's statements, for tables written in one format.
pub struct SparkDialect {
    /// The target's `file_format`.
    format: &'static str,
}

/// One dialect per table format (a dialect is `'static`).
static DIALECTS: [SparkDialect; 5] = [
    SparkDialect { format: "parquet" },
    SparkDialect { format: "orc" },
    SparkDialect { format: "delta" },
    SparkDialect { format: "iceberg" },
    SparkDialect { format: "hudi" },
];

impl SparkDialect {
    fn of(format: Option<&str>) -> &'static SparkDialect {
        let format = format.unwrap_or("parquet");
        DIALECTS
            .iter()
            .find(|d| d.format.eq_ignore_ascii_case(format))
            .unwrap_or(&DIALECTS[0])
    }

    fn format<'a>(&'a self, options: &'a TableOptions) -> &'a str {
        options.file_format.as_deref().unwrap_or(self.format)
    }
}

/// Whether a table format has `MERGE INTO` (and `CREATE OR REPLACE TABLE`).
fn mergeable(format: &str) -> bool {
    matches!(format, "delta" | "iceberg" | "hudi")
}

impl Dialect for SparkDialect {
    fn transactions(&self) -> bool {
        false
    }

    /// Names are two-part on Spark: the schema is a database of the session catalog.
    fn create_schema(&self, _database: &str, schema: &str) -> String {
        format!("create schema if not exists {}", quote_ident(schema))
    }

    fn create_table_as(&self, rel: &Relation, select: &str, options: &TableOptions) -> String {
        let partitions = if options.partition_by.is_empty() {
            String::new()
        } else {
            format!(
                "\npartitioned by ({})",
                options
                    .partition_by
                    .iter()
                    .map(|p| quote_ident(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        format!(
            "create table {rel}\nusing {}{partitions}\nas\n{}",
            self.format(options),
            strip_semicolons(select)
        )
    }

    /// A contract's constraints are not put in a Spark table's DDL (compile warns
    /// that Spark does not support them, as dbt-spark does for parquet tables):
    /// the table is created from its query.
    fn create_table(&self, rel: &Relation, select: &str, options: &TableOptions) -> Vec<String> {
        vec![self.create_table_as(rel, select, options)]
    }

    /// The new name is qualified by the schema: Spark would take a bare name as
    /// one in the session's current schema.
    fn rename_relation(&self, from: &Relation, to: &Relation, kind: RelKind) -> String {
        let what = match kind {
            RelKind::Table => "table",
            RelKind::View => "view",
        };
        format!("alter {what} {from} rename to {to}")
    }

    /// A renamed partitioned table keeps its partitions' old locations in Spark's
    /// in-memory catalog (it reads as empty): they are listed again from its folder.
    fn after_rename(&self, rel: &Relation, options: &TableOptions) -> Option<String> {
        (!options.partition_by.is_empty()).then(|| format!("msck repair table {rel} sync partitions"))
    }

    fn add_column(&self, rel: &Relation, column: &str, data_type: &str) -> String {
        format!("alter table {rel} add columns ({} {data_type})", quote_ident(column))
    }

    fn merge_into(&self, rel: &Relation, source: &Relation, keys: &[String], options: &TableOptions) -> Option<String> {
        if !mergeable(self.format(options)) {
            return None;
        }
        let on = keys
            .iter()
            .map(|k| format!("t.{q} = s.{q}", q = quote_ident(k)))
            .collect::<Vec<_>>()
            .join(" and ");
        Some(format!(
            "merge into {rel} as t using {source} as s on {on}\nwhen matched then update set *\nwhen not matched then insert *"
        ))
    }

    /// A session's temporary view, named alone.
    fn temp_relation(&self, name: &str) -> Relation {
        Relation::new("", "", name)
    }

    fn create_temp_table(&self, name: &str, select: &str) -> String {
        format!(
            "create or replace temporary view {} as\n{}",
            quote_ident(name),
            strip_semicolons(select)
        )
    }

    fn drop_temp_table(&self, name: &str) -> String {
        format!("drop view if exists {}", quote_ident(name))
    }

    fn now_query(&self) -> &'static str {
        "select date_format(current_timestamp(), 'yyyy-MM-dd HH:mm:ss.SSSSSS')"
    }

    fn string_type(&self) -> &'static str {
        "string"
    }

    /// `version()` is the number and the commit.
    fn version_query(&self) -> &'static str {
        "select concat('Spark ', split(version(), ' ')[0])"
    }
}

/// A Spark Connect server: each connection is a session of its own.
pub struct Spark {
    runtime: Arc<Runtime>,
    client: SparkConnectClient,
    dialect: &'static SparkDialect,
    shown: String,
}

impl Spark {
    /// Checks that the server answers, so a wrong host or port fails before
    /// anything runs.
    pub fn open(db: &DbConfig) -> DbResult<Spark> {
        let server = db
            .server
            .as_ref()
            .ok_or_else(|| DbError("a spark target needs host and schema".into()))?;
        let user = if server.user.is_empty() {
            "modelc"
        } else {
            server.user.as_str()
        };
        let shown = format!("sc://{}:{}", server.host, server.port);
        let url = format!("{shown}/;user_id={user}");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| DbError(format!("cannot start the Spark Connect client: {e}")))?;
        let builder = ChannelBuilder::parse(&url).map_err(|e| DbError(format!("{shown}: {}", e.message())))?;
        let mut client = runtime
            .block_on(SparkConnectClient::connect(&builder))
            .map_err(|e| DbError(format!("cannot connect to {shown}: {}", e.message())))?;
        // A server that does not answer fails at once, as on other engines, rather
        // than after the client's minutes of backing off.
        client.set_retry_policy(spark_connect_core::RetryPolicy::no_retries());
        let spark = Spark {
            runtime: Arc::new(runtime),
            client,
            dialect: SparkDialect::of(server.file_format.as_deref()),
            shown,
        };
        // Setting up a session is the first call to the server.
        spark
            .session()
            .map_err(|e| DbError(format!("cannot connect to {}: {e}", spark.shown)))?;
        Ok(spark)
    }

    fn session(&self) -> DbResult<SparkConn> {
        let conn = SparkConn {
            runtime: self.runtime.clone(),
            client: Arc::new(self.client.with_new_session_id()),
            dialect: self.dialect,
            shown: self.shown.clone(),
            lost: std::sync::atomic::AtomicBool::new(false),
        };
        for (key, value) in [
            // `"name"` is a name, as on every other engine.
            ("spark.sql.ansi.doubleQuotedIdentifiers", "true"),
            // `insert_overwrite` replaces the partitions its rows are in, as in dbt-spark.
            ("spark.sql.sources.partitionOverwriteMode", "dynamic"),
        ] {
            conn.runtime
                .block_on(conn.client.set_config(key, value))
                .map_err(|e| DbError(e.message()))?;
        }
        Ok(conn)
    }
}

impl Adapter for Spark {
    fn connect(&self) -> DbResult<Box<dyn Connection>> {
        Ok(Box::new(self.session()?))
    }

    fn dialect(&self) -> &'static dyn Dialect {
        self.dialect
    }

    fn describe_target(&self) -> String {
        self.shown.clone()
    }
}

struct SparkConn {
    runtime: Arc<Runtime>,
    client: Arc<SparkConnectClient>,
    dialect: &'static SparkDialect,
    shown: String,
    lost: std::sync::atomic::AtomicBool,
}

/// What a plan returned: Arrow batches.
type Batches = Vec<RecordBatch>;

impl SparkConn {
    /// Runs `sql`: a query as a relation (its rows come back), anything else as a
    /// command (executed at once, as `spark.sql` does).
    fn run(&self, sql: &str, query: bool) -> DbResult<Batches> {
        let relation = pb::Relation {
            rel_type: Some(pb::relation::RelType::Sql(pb::Sql {
                query: sql.to_string(),
                ..Default::default()
            })),
            ..Default::default()
        };
        let op = if query {
            pb::plan::OpType::Root(relation)
        } else {
            pb::plan::OpType::Command(pb::Command {
                command_type: Some(pb::command::CommandType::SqlCommand(pb::SqlCommand {
                    input: Some(relation),
                    ..Default::default()
                })),
            })
        };
        self.plan(op, sql)
    }

    fn plan(&self, op: pb::plan::OpType, sql: &str) -> DbResult<Batches> {
        let request = pb::ExecutePlanRequest {
            session_id: self.client.session_id().to_string(),
            user_context: Some(pb::UserContext {
                user_id: self.client.user_id().unwrap_or("modelc").to_string(),
                ..Default::default()
            }),
            plan: Some(pb::Plan { op_type: Some(op) }),
            client_type: Some("modelc".into()),
            ..Default::default()
        };
        let received: Result<Vec<Vec<u8>>, (String, Option<i32>)> = self.runtime.block_on(async {
            let mut stream = self
                .client
                .execute_plan(request)
                .await
                .map_err(|e| (e.message(), e.grpc_code()))?;
            let mut data = Vec::new();
            loop {
                match stream.message().await {
                    Ok(Some(response)) => match response.response_type {
                        Some(pb::execute_plan_response::ResponseType::ArrowBatch(batch)) => {
                            data.push(batch.data.to_vec())
                        }
                        Some(pb::execute_plan_response::ResponseType::SqlCommandResult(result)) => {
                            if let Some(pb::relation::RelType::LocalRelation(local)) =
                                result.relation.and_then(|r| r.rel_type)
                            {
                                data.extend(local.data.map(|d| d.to_vec()));
                            }
                        }
                        _ => {}
                    },
                    Ok(None) => break,
                    Err(status) => return Err((status.message().to_string(), Some(status.code() as i32))),
                }
            }
            Ok(data)
        });
        let data = received.map_err(|(message, code)| self.located(self.fail(message, code), sql))?;
        let mut batches = Vec::new();
        for bytes in data {
            let reader = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)
                .map_err(|e| DbError(format!("cannot read Spark's answer: {e}")))?;
            for batch in reader {
                batches.push(batch.map_err(|e| DbError(format!("cannot read Spark's answer: {e}")))?);
            }
        }
        Ok(batches)
    }

    /// An error of the server, as Spark words it: its first part (the analysed plan
    /// or the `== SQL ==` excerpt it appends are not for users; the excerpt is made
    /// again from the statement, in the form every engine's errors take). A
    /// connection that failed is lost.
    fn fail(&self, message: impl Into<String>, code: Option<i32>) -> DbError {
        let mut message: String = message.into();
        // The client puts the condition before the server's message, which has it.
        if let Some(condition) = message
            .split_whitespace()
            .next()
            .filter(|c| c.starts_with('[') && c.ends_with(']'))
        {
            let twice = format!("{condition} {condition}");
            if message.starts_with(&twice) {
                message = message[condition.len() + 1..].to_string();
            }
        }
        let text = message.split("== SQL ==").next().unwrap_or_default();
        let text = text.split(";\n").next().unwrap_or_default();
        let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        // The condition alone, then again with its message: keep the second.
        let first = lines
            .iter()
            .enumerate()
            .filter(|(i, l)| !lines.get(i + 1).is_some_and(|next| next.starts_with(**l)))
            .map(|(_, l)| *l)
            .collect::<Vec<_>>()
            .join("\n");
        // gRPC's UNAVAILABLE (14): the server went away or never answered; a
        // server whose Spark context stopped (out of memory) answers nothing more.
        if code == Some(GRPC_UNAVAILABLE) || first.contains("stopped SparkContext") {
            self.lost.store(true, std::sync::atomic::Ordering::SeqCst);
            return DbError(format!("the connection to Spark at {} was lost: {first}", self.shown));
        }
        DbError(first)
    }

    /// Spark's `line N pos P` (0-based column) as the `LINE N:` excerpt with a
    /// caret that materializations locate in a model's file.
    fn located(&self, e: DbError, sql: &str) -> DbError {
        let Some(at) = e.0.rfind("line ") else { return e };
        let mut words = e.0[at + 5..].split_whitespace();
        let line = words
            .next()
            .and_then(|n| n.trim_end_matches([',', ';']).parse::<usize>().ok());
        let pos = match (words.next(), words.next()) {
            (Some("pos"), Some(p)) => p.trim_end_matches([',', ';', ')']).parse::<usize>().ok(),
            _ => None,
        };
        let (Some(line), Some(pos)) = (line, pos) else { return e };
        match super::caret_excerpt(sql, line, pos) {
            Some(excerpt) => DbError(format!("{}{excerpt}", e.0)),
            None => e,
        }
    }

    fn statements(sql: &str) -> Vec<&str> {
        split_statements(sql)
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .collect()
    }

    /// The schemas of the session catalog.
    fn schemas(&self) -> DbResult<Vec<String>> {
        Ok(self
            .query("show schemas")?
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect())
    }

    /// The tables and views of `schema` whose names match `pattern` (Spark's `LIKE`
    /// of `show table extended`: `*` for all).
    fn tables(&self, schema: &str, pattern: &str) -> DbResult<Vec<(Relation, RelKind)>> {
        let rows = self.query(&format!(
            "show table extended in {} like {}",
            quote_ident(schema),
            literal(pattern)
        ))?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let mut cells = r.into_iter();
                let (namespace, name, temporary, info) =
                    (cells.next()??, cells.next()??, cells.next()??, cells.next()??);
                if temporary == "true" {
                    return None;
                }
                let kind = if info.lines().any(|l| l.trim() == "Type: VIEW") {
                    RelKind::View
                } else {
                    RelKind::Table
                };
                Some((Relation::new("", &namespace, &name), kind))
            })
            .collect())
    }
}

impl Connection for SparkConn {
    fn batch(&self, sql: &str) -> DbResult<()> {
        for statement in Self::statements(sql) {
            self.run(statement, false)?;
        }
        Ok(())
    }

    /// Spark does not say how many rows a statement wrote.
    fn execute(&self, sql: &str) -> DbResult<Option<u64>> {
        self.batch(sql).map(|()| None)
    }

    fn query(&self, sql: &str) -> DbResult<Vec<Vec<Option<String>>>> {
        let sql = strip_semicolons(sql.trim());
        // `show` and `describe` are commands that answer with rows.
        let command = matches!(
            sql.split_whitespace().next().map(str::to_ascii_lowercase).as_deref(),
            Some("show" | "describe" | "desc")
        );
        let batches = self.run(sql, !command)?;
        // Timestamps as DuckDB and PostgreSQL write them (Spark's `timestamp` is in
        // the session's time zone, which its Arrow batches carry).
        let options = FormatOptions::default()
            .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.f"))
            .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S%.f"))
            .with_datetime_format(Some("%Y-%m-%d %H:%M:%S%.f"));
        let mut rows = Vec::new();
        for batch in &batches {
            let formatters = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| DbError(format!("cannot read Spark's answer: {e}")))?;
            for row in 0..batch.num_rows() {
                rows.push(
                    batch
                        .columns()
                        .iter()
                        .zip(&formatters)
                        .map(|(column, f)| (!column.is_null(row)).then(|| f.value(row).to_string()))
                        .collect(),
                );
            }
        }
        Ok(rows)
    }

    fn describe(&self, sql: &str) -> DbResult<Vec<(String, String)>> {
        Ok(crate::materialize::pairs(
            self.query(&format!("describe query {}", strip_semicolons(sql)))?,
        ))
    }

    fn load_seed(&self, seed: &SeedFile, rel: &Relation, old: Option<RelKind>) -> DbResult<Option<u64>> {
        let reader = super::duckdb::in_memory_conn()?;
        let select = seed.read_query(&reader, true);
        let columns = reader.describe(&select).map_err(|e| seed.explain(&reader, e))?;
        let (data, rows) = reader.arrow_ipc(&select).map_err(|e| seed.explain(&reader, e))?;
        let view = format!("__modelc_seed_{}", rel.identifier);
        self.plan(
            pb::plan::OpType::Command(pb::Command {
                command_type: Some(pb::command::CommandType::CreateDataframeView(
                    pb::CreateDataFrameViewCommand {
                        input: Some(pb::Relation {
                            rel_type: Some(pb::relation::RelType::LocalRelation(pb::LocalRelation {
                                data: Some(data.into()),
                                schema: None,
                            })),
                            ..Default::default()
                        }),
                        name: view.clone(),
                        is_global: false,
                        replace: true,
                    },
                )),
            }),
            "",
        )
        .map_err(|e| DbError(format!("cannot send {}: {e}", seed.shown)))?;
        // Declared types are read as text and cast by Spark; a timestamp read by
        // DuckDB arrives without a time zone and is stored as Spark's `timestamp`.
        let select: Vec<String> = columns
            .iter()
            .map(|(name, ty)| {
                let q = quote_ident(name);
                match (seed.declared(name), ty.to_ascii_uppercase().as_str()) {
                    (Some(declared), _) => format!("cast({q} as {declared}) as {q}"),
                    (None, "TIMESTAMP") => format!("cast({q} as timestamp) as {q}"),
                    _ => q,
                }
            })
            .collect();
        let built = replace_table(
            self,
            rel,
            &format!("select {} from {}", select.join(", "), quote_ident(&view)),
            old,
            &TableOptions::default(),
        );
        let _ = self.batch(&self.dialect.drop_temp_table(&view));
        built.map_err(|e| DbError(format!("cannot load {}: {e}", seed.shown)))?;
        Ok(Some(rows))
    }

    /// Spark does not list the columns of a session's temporary views in a query:
    /// they are described, as every relation is.
    fn columns(&self, rel: &Relation) -> DbResult<Vec<(String, String)>> {
        self.describe(&format!("select * from {rel}"))
    }

    /// Other sessions may drop a schema or table while it is listed: what vanished
    /// is left out (listed again once, since one vanished table fails the listing
    /// of its whole schema).
    fn relations(&self) -> DbResult<Vec<(Relation, RelKind)>> {
        let mut all = Vec::new();
        for schema in self.schemas()? {
            match self.tables(&schema, "*").or_else(|e| {
                if vanished(&e) {
                    self.tables(&schema, "*")
                } else {
                    Err(e)
                }
            }) {
                Ok(tables) => all.extend(tables),
                Err(e) if vanished(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(all)
    }

    fn relation_kind(&self, rel: &Relation) -> DbResult<Option<RelKind>> {
        if !self.schemas()?.iter().any(|s| s.eq_ignore_ascii_case(&rel.schema)) {
            return Ok(None);
        }
        Ok(self
            .tables(&rel.schema, &rel.identifier)?
            .into_iter()
            .find(|(r, _)| r.identifier.eq_ignore_ascii_case(&rel.identifier))
            .map(|(_, kind)| kind))
    }

    fn catalog(&self) -> DbResult<Vec<Vec<Option<String>>>> {
        let mut rows = Vec::new();
        for (rel, kind) in self.relations()? {
            let table_type = match kind {
                RelKind::Table => "BASE TABLE",
                RelKind::View => "VIEW",
            };
            let columns = match self.columns(&rel) {
                Ok(columns) => columns,
                Err(e) if vanished(&e) => continue,
                Err(e) => return Err(e),
            };
            for (i, (column, ty)) in columns.into_iter().enumerate() {
                rows.push(vec![
                    Some(String::new()),
                    Some(rel.schema.clone()),
                    Some(rel.identifier.clone()),
                    Some(table_type.into()),
                    Some(column),
                    Some((i + 1).to_string()),
                    Some(ty),
                ]);
            }
        }
        Ok(rows)
    }

    fn dialect(&self) -> &'static dyn Dialect {
        self.dialect
    }

    fn interrupt_handle(&self) -> Arc<dyn Interrupt> {
        Arc::new(Cancel {
            runtime: self.runtime.clone(),
            client: self.client.clone(),
        })
    }

    fn is_lost(&self) -> bool {
        self.lost.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Whether an error says a schema or relation does not exist (another session
/// dropped it).
fn vanished(e: &DbError) -> bool {
    [
        "TABLE_OR_VIEW_NOT_FOUND",
        "SCHEMA_NOT_FOUND",
        "NO_SUCH_TABLE",
        "NoSuchTable",
        "NoSuchDatabase",
    ]
    .iter()
    .any(|condition| e.0.contains(condition))
}

/// gRPC's `UNAVAILABLE` status code.
const GRPC_UNAVAILABLE: i32 = 14;

struct Cancel {
    runtime: Arc<Runtime>,
    client: Arc<SparkConnectClient>,
}

impl Interrupt for Cancel {
    fn interrupt(&self) {
        // Interrupts what the session runs; an error means there was nothing to stop
        // or the server is gone.
        let _ = self.runtime.block_on(self.client.interrupt_all());
    }
}

/// Splits SQL into statements at the semicolons outside quotes and comments
/// (Spark runs one statement per command).
fn split_statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b';' => {
                out.push(&sql[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&sql[start.min(sql.len())..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_at_semicolons_outside_quotes_and_comments() {
        let sql = "drop view if exists \"a;b\"; create view v as select ';' as x -- ;\n, 1 /* ; */; ";
        let parts: Vec<&str> = split_statements(sql)
            .into_iter()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        assert_eq!(
            parts,
            vec![
                "drop view if exists \"a;b\"",
                "create view v as select ';' as x -- ;\n, 1 /* ; */"
            ]
        );
    }

    #[test]
    fn tables_are_written_in_the_format_asked_for() {
        let rel = Relation::new("", "s", "t");
        let parquet = SparkDialect::of(None);
        let options = TableOptions {
            file_format: None,
            partition_by: vec!["day".into()],
            contract: None,
        };
        assert_eq!(
            parquet.create_table_as(&rel, "select 1;", &options),
            "create table \"s\".\"t\"\nusing parquet\npartitioned by (\"day\")\nas\nselect 1"
        );
        assert!(parquet
            .merge_into(&rel, &Relation::new("", "", "n"), &["id".into()], &options)
            .is_none());
        let delta = TableOptions {
            file_format: Some("delta".into()),
            partition_by: Vec::new(),
            contract: None,
        };
        assert_eq!(
            parquet.merge_into(&rel, &Relation::new("", "", "n"), &["id".into()], &delta).as_deref(),
            Some("merge into \"s\".\"t\" as t using \"n\" as s on t.\"id\" = s.\"id\"\nwhen matched then update set *\nwhen not matched then insert *")
        );
        assert_eq!(SparkDialect::of(Some("delta")).format, "delta");
    }
}
