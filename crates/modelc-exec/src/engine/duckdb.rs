//! Embedded DuckDB, the default engine: a database file (or `:memory:`) opened
//! in-process, one cloned connection per runner worker. Its statements are the
//! [`Dialect`] defaults.

use modelc_core::{DbConfig, Relation};

use crate::adapter::{Adapter, Connection, DbError, DbResult, Interrupt};
use crate::engine::Dialect;
use crate::materialize::{replace_table, RelKind, TableOptions};
use crate::seed::SeedFile;

impl From<duckdb::Error> for DbError {
    fn from(e: duckdb::Error) -> Self {
        DbError(e.to_string())
    }
}

/// Opens a DuckDB database with the extensions compiled into modelc beside
/// the `duckdb` crate's (ICU: time zones, as dbt-duckdb's DuckDB has them).
fn open(path: Option<&str>) -> Result<duckdb::Connection, duckdb::Error> {
    modelc_duckdb_icu::register();
    match path {
        None => duckdb::Connection::open_in_memory(),
        Some(path) => duckdb::Connection::open(path),
    }
}

impl Interrupt for duckdb::InterruptHandle {
    fn interrupt(&self) {
        duckdb::InterruptHandle::interrupt(self);
    }
}

/// DuckDB's statements: the defaults.
pub struct DuckDbDialect;

impl Dialect for DuckDbDialect {}

/// Embedded DuckDB.
pub struct DuckDb {
    // `duckdb::Connection` is Send but not Sync; new connections are cloned from it.
    root: std::sync::Mutex<duckdb::Connection>,
    setup: String,
    path: String,
}

impl DuckDb {
    /// Opens (or creates) the database file of `db`, loads its extensions and settings.
    /// A file another process holds open fails at once, naming that process.
    pub fn open(db: &DbConfig) -> DbResult<DuckDb> {
        Self::open_waiting(db, std::time::Duration::ZERO, &mut |_| {})
    }

    /// As [`DuckDb::open`], but while another process holds the file, waits up to
    /// `wait` for it, calling `on_wait` once with DuckDB's message (which names the
    /// process holding it).
    pub fn open_waiting(db: &DbConfig, wait: std::time::Duration, on_wait: &mut dyn FnMut(&str)) -> DbResult<DuckDb> {
        let root = if db.path == ":memory:" {
            open(None)?
        } else {
            if let Some(parent) = std::path::Path::new(&db.path).parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| DbError(format!("cannot create {}: {e}", parent.display())))?;
            }
            let started = std::time::Instant::now();
            let mut told = false;
            loop {
                match open(Some(&db.path)) {
                    Ok(conn) => break conn,
                    Err(e) => {
                        let msg = e.to_string();
                        if !msg.contains("lock") {
                            return Err(DbError(format!("cannot open the database {}: {msg}", db.path)));
                        }
                        if started.elapsed() >= wait {
                            let waited = if told {
                                format!(" (waited {}s, --lock-timeout)", wait.as_secs())
                            } else {
                                String::new()
                            };
                            return Err(DbError(format!(
                                "the database {} is in use by another process{waited}: {msg}",
                                db.path
                            )));
                        }
                        if !told {
                            on_wait(&msg);
                            told = true;
                        }
                        // DuckDB has no blocking lock: poll for the other process's exit.
                        std::thread::sleep(std::time::Duration::from_millis(100));
                    }
                }
            }
        };
        let mut setup = String::new();
        for ext in &db.extensions {
            setup.push_str(&format!("LOAD {};\n", modelc_core::quote_ident(ext)));
        }
        setup.push_str(&settings_sql(&db.settings));
        if !setup.is_empty() {
            root.execute_batch(&setup)?;
        }
        // Attached files belong to the database, so every connection sees them.
        for a in &db.attach {
            let mode = if a.read_only { " (READ_ONLY)" } else { "" };
            root.execute_batch(&format!(
                "ATTACH IF NOT EXISTS {} AS {}{mode}",
                crate::materialize::literal(&a.path),
                modelc_core::quote_ident(&a.alias)
            ))
            .map_err(|e| DbError(format!("cannot attach {} (attach: in the profile): {e}", a.path)))?;
        }
        Ok(DuckDb {
            root: std::sync::Mutex::new(root),
            setup,
            path: db.path.clone(),
        })
    }
}

impl Adapter for DuckDb {
    fn connect(&self) -> DbResult<Box<dyn Connection>> {
        let conn = self
            .root
            .lock()
            .map_err(|_| DbError("the database handle is poisoned".into()))?
            .try_clone()?;
        if !self.setup.is_empty() {
            conn.execute_batch(&self.setup)?;
        }
        let interrupt = conn.interrupt_handle();
        Ok(Box::new(DuckConn {
            conn,
            interrupt,
            joined: Default::default(),
        }))
    }

    fn dialect(&self) -> &'static dyn Dialect {
        &DuckDbDialect
    }

    fn describe_target(&self) -> String {
        self.path.clone()
    }
}

/// A connection to embedded DuckDB.
pub(crate) struct DuckConn {
    conn: duckdb::Connection,
    interrupt: std::sync::Arc<duckdb::InterruptHandle>,
    /// See [`Connection::joined_transaction`].
    joined: std::cell::Cell<bool>,
}

impl Connection for DuckConn {
    fn batch(&self, sql: &str) -> DbResult<()> {
        Ok(self.conn.execute_batch(sql)?)
    }

    fn execute(&self, sql: &str) -> DbResult<Option<u64>> {
        Ok(Some(self.conn.execute(sql, [])? as u64))
    }

    fn query(&self, sql: &str) -> DbResult<Vec<Vec<Option<String>>>> {
        let wrapped = format!("select columns(*)::varchar from (\n{sql}\n)");
        let mut stmt = self.conn.prepare(&wrapped)?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let n = row.as_ref().column_count();
            let mut values = Vec::with_capacity(n);
            for i in 0..n {
                values.push(row.get::<_, Option<String>>(i)?);
            }
            out.push(values);
        }
        Ok(out)
    }

    fn describe(&self, sql: &str) -> DbResult<Vec<(String, String)>> {
        let rows = self.query(&format!(
            "describe select * from (\n{}\n)",
            crate::materialize::strip_semicolons(sql)
        ))?;
        Ok(crate::materialize::pairs(rows))
    }

    fn load_seed(&self, seed: &SeedFile, rel: &Relation, old: Option<RelKind>) -> DbResult<Option<u64>> {
        let select = seed.read_query(self, false);
        replace_table(self, rel, &select, old, &TableOptions::default()).map_err(|e| seed.explain(self, e))
    }

    fn dialect(&self) -> &'static dyn Dialect {
        &DuckDbDialect
    }

    fn interrupt_handle(&self) -> std::sync::Arc<dyn Interrupt> {
        self.interrupt.clone()
    }

    fn joined_transaction(&self) -> Option<&std::cell::Cell<bool>> {
        Some(&self.joined)
    }
}

/// A connection to a new in-memory database: the CSV reader of engines whose
/// server cannot read the client's files.
pub fn in_memory() -> DbResult<Box<dyn Connection>> {
    Ok(Box::new(in_memory_conn()?))
}

/// The statements that apply a profile's `settings`.
fn settings_sql(settings: &[(String, String)]) -> String {
    settings
        .iter()
        .map(|(k, v)| format!("SET {k} = '{}';\n", v.replace('\'', "''")))
        .collect()
}

/// As [`in_memory`], with DuckDB's own methods.
pub(crate) fn in_memory_conn() -> DbResult<DuckConn> {
    let conn = open(None)?;
    let interrupt = conn.interrupt_handle();
    Ok(DuckConn {
        conn,
        interrupt,
        joined: Default::default(),
    })
}

impl DuckConn {
    /// The rows of `sql` as an Arrow IPC stream (schema, then every batch), and
    /// how many there are.
    pub(crate) fn arrow_ipc(&self, sql: &str) -> DbResult<(Vec<u8>, u64)> {
        let mut stmt = self.conn.prepare(sql)?;
        let stream = stmt.stream_arrow([])?;
        let schema = stream.get_schema();
        let mut out = Vec::new();
        let ipc = |e: duckdb::arrow::error::ArrowError| DbError(format!("cannot encode rows as Arrow: {e}"));
        let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut out, &schema).map_err(ipc)?;
        let mut rows = 0;
        for batch in stream {
            let batch = batch?;
            rows += batch.num_rows() as u64;
            writer.write(&batch).map_err(ipc)?;
        }
        writer.finish().map_err(ipc)?;
        drop(writer);
        Ok((out, rows))
    }
}
