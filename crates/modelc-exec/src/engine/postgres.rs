//! PostgreSQL (`type: postgres` in `profiles.yml`, dbt-postgres's keys), through
//! the `postgres` client crate. DDL is transactional on PostgreSQL, so a table or
//! view is dropped and rebuilt in one transaction, as on DuckDB. Dropping cascades
//! to the views that read it, as dbt-postgres's does: in a run that rebuilds them
//! they come back; in one that does not, they are gone until the next.
//!
//! Seeds are read by an in-memory DuckDB (the same reader, types and errors as on
//! DuckDB) and sent with `COPY ... FROM STDIN`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use modelc_core::{quote_ident, DbConfig, Relation};
use postgres::error::ErrorPosition;
use postgres::types::Type;
use postgres::{NoTls, SimpleQueryMessage};

use crate::adapter::{Adapter, Connection, DbError, DbResult, Interrupt};
use crate::engine::Dialect;
use crate::materialize::{literal, strip_semicolons, RelKind};
use crate::seed::{SeedFile, TempFile};

/// PostgreSQL's statements.
pub struct PostgresDialect;

impl Dialect for PostgresDialect {
    /// A schema name cannot be qualified by its database on PostgreSQL.
    fn create_schema(&self, _database: &str, schema: &str) -> String {
        format!("create schema if not exists {}", quote_ident(schema))
    }

    fn drop_relation(&self, rel: &Relation, kind: RelKind) -> String {
        match kind {
            RelKind::Table => format!("drop table if exists {rel} cascade"),
            RelKind::View => format!("drop view if exists {rel} cascade"),
        }
    }

    /// `create or replace view` fails on PostgreSQL when a column changes name or
    /// type: the old relation is dropped first.
    fn replace_view(&self, rel: &Relation, select: &str, old: Option<RelKind>) -> Vec<String> {
        let mut steps: Vec<String> = old.map(|kind| self.drop_relation(rel, kind)).into_iter().collect();
        steps.push(format!("create view {rel} as (\n{}\n)", strip_semicolons(select)));
        steps
    }

    fn temp_relation(&self, name: &str) -> Relation {
        Relation::new("", "pg_temp", name)
    }

    fn relations_query(&self) -> String {
        "select table_catalog, table_schema, table_name, table_type from information_schema.tables \
         where table_schema not in ('pg_catalog', 'information_schema')"
            .into()
    }

    /// From the system catalog, for the types as DDL writes them
    /// (`numeric(14,2)`, not `information_schema`'s `numeric`).
    fn columns_query(&self, rel: &Relation) -> String {
        let schema = if rel.schema == "pg_temp" {
            "n.oid = pg_my_temp_schema()".to_string()
        } else {
            format!("lower(n.nspname) = lower({})", literal(&rel.schema))
        };
        format!(
            "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a \
             join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace \
             where {schema} and lower(c.relname) = lower({}) and a.attnum > 0 and not a.attisdropped \
             order by a.attnum",
            literal(&rel.identifier)
        )
    }

    fn now_query(&self) -> &'static str {
        "select to_char(now()::timestamp, 'YYYY-MM-DD HH24:MI:SS.US')"
    }

    fn catalog_query(&self) -> &'static str {
        "select current_database(), n.nspname, c.relname, \
         case when c.relkind in ('v', 'm') then 'VIEW' else 'BASE TABLE' end, \
         a.attname, a.attnum, format_type(a.atttypid, a.atttypmod) \
         from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_attribute a on a.attrelid = c.oid \
         where c.relkind in ('r', 'v', 'm', 'p', 'f') and a.attnum > 0 and not a.attisdropped \
         and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%' \
         order by 1, 2, 3, 6"
    }
}

/// A PostgreSQL database: each connection is a new session.
pub struct Postgres {
    config: postgres::Config,
    shown: String,
}

impl Postgres {
    /// Checks that the server of `db` takes a connection, so a wrong host, port or
    /// password fails before anything runs.
    pub fn open(db: &DbConfig) -> DbResult<Postgres> {
        let server = db
            .server
            .as_ref()
            .ok_or_else(|| DbError("a postgres target needs host, user and dbname".into()))?;
        let mut config = postgres::Config::new();
        config
            .host(&server.host)
            .port(server.port)
            .user(&server.user)
            .dbname(&db.database)
            .application_name("modelc")
            .connect_timeout(Duration::from_secs(server.connect_timeout.unwrap_or(10)));
        if let Some(p) = &server.password {
            config.password(p);
        }
        match server.sslmode.as_deref() {
            None | Some("disable" | "allow" | "prefer") => {
                config.ssl_mode(postgres::config::SslMode::Disable);
            }
            Some(mode) => {
                return Err(DbError(format!(
                    "sslmode '{mode}' needs TLS, which modelc's PostgreSQL engine does not have yet; use sslmode disable or prefer (over a trusted network or an SSH tunnel)"
                )))
            }
        }
        let pg = Postgres {
            config,
            shown: format!(
                "postgres://{}@{}:{}/{}",
                server.user, server.host, server.port, db.database
            ),
        };
        pg.connect()?;
        Ok(pg)
    }
}

impl Adapter for Postgres {
    fn connect(&self) -> DbResult<Box<dyn Connection>> {
        let client = self
            .config
            .connect(NoTls)
            .map_err(|e| DbError(format!("cannot connect to {}: {}", self.shown, pg_message(&e, None))))?;
        let cancel = Arc::new(Cancel(client.cancel_token()));
        Ok(Box::new(PgConn {
            client: Mutex::new(client),
            cancel,
            lost: std::sync::atomic::AtomicBool::new(false),
            joined: Default::default(),
        }))
    }

    fn dialect(&self) -> &'static dyn Dialect {
        &PostgresDialect
    }

    fn describe_target(&self) -> String {
        self.shown.clone()
    }
}

struct Cancel(postgres::CancelToken);

impl Interrupt for Cancel {
    fn interrupt(&self) {
        // The server answers a cancel request on a connection of its own; an error
        // means there was nothing to cancel or the server is gone.
        let _ = self.0.cancel_query(NoTls);
    }
}

struct PgConn {
    client: Mutex<postgres::Client>,
    cancel: Arc<Cancel>,
    /// An error said the session is over (the server ended it or went away).
    lost: std::sync::atomic::AtomicBool,
    /// See [`Connection::joined_transaction`].
    joined: std::cell::Cell<bool>,
}

impl PgConn {
    fn with<T>(&self, f: impl FnOnce(&mut postgres::Client) -> Result<T, postgres::Error>, sql: &str) -> DbResult<T> {
        let mut client = self
            .client
            .lock()
            .map_err(|_| DbError("the connection is poisoned".into()))?;
        f(&mut client).map_err(|e| {
            // Whether the server's FATAL message arrives before the socket closes
            // is a race: either way, the session is over.
            let fatal = e
                .as_db_error()
                .is_some_and(|d| matches!(d.severity(), "FATAL" | "PANIC"));
            let message = pg_message(&e, Some(sql));
            if e.is_closed() || fatal || client.is_closed() {
                self.lost.store(true, std::sync::atomic::Ordering::SeqCst);
                return DbError(format!("the connection to PostgreSQL was lost: {message}"));
            }
            DbError(message)
        })
    }
}

impl Connection for PgConn {
    fn batch(&self, sql: &str) -> DbResult<()> {
        self.with(|c| c.batch_execute(sql), sql)
    }

    fn execute(&self, sql: &str) -> DbResult<Option<u64>> {
        self.with(|c| c.execute(sql, &[]), sql).map(Some)
    }

    fn query(&self, sql: &str) -> DbResult<Vec<Vec<Option<String>>>> {
        // The text protocol spells booleans `t` and `f`: the statement's column
        // types say which to spell `true` and `false`.
        let (booleans, messages) = self.with(
            |c| {
                let statement = c.prepare(sql)?;
                let booleans: Vec<bool> = statement.columns().iter().map(|c| *c.type_() == Type::BOOL).collect();
                Ok((booleans, c.simple_query(sql)?))
            },
            sql,
        )?;
        Ok(messages
            .into_iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| {
                            row.get(i).map(|v| match (booleans.get(i), v) {
                                (Some(true), "t") => "true".to_string(),
                                (Some(true), "f") => "false".to_string(),
                                _ => v.to_string(),
                            })
                        })
                        .collect(),
                ),
                _ => None,
            })
            .collect())
    }

    fn describe(&self, sql: &str) -> DbResult<Vec<(String, String)>> {
        let sql = strip_semicolons(sql);
        let statement = self.with(|c| c.prepare(sql), sql)?;
        Ok(statement
            .columns()
            .iter()
            .map(|c| (c.name().to_string(), c.type_().name().to_string()))
            .collect())
    }

    fn load_seed(&self, seed: &SeedFile, rel: &Relation, old: Option<RelKind>) -> DbResult<Option<u64>> {
        let reader = super::duckdb::in_memory()?;
        let reader = reader.as_ref();
        let select = seed.read_query(reader, true);
        let columns = reader.describe(&select).map_err(|e| seed.explain(reader, e))?;
        let file = TempFile::new("csv");
        reader
            .batch(&format!(
                "copy ({select}) to {} (format csv, header false)",
                literal(&file.0.to_string_lossy())
            ))
            .map_err(|e| seed.explain(reader, e))?;
        let definitions: Vec<String> = columns
            .iter()
            .map(|(name, ty)| {
                let ty = seed.declared(name).map_or_else(|| postgres_type(ty), str::to_string);
                format!("{} {ty}", quote_ident(name))
            })
            .collect();
        let names: Vec<String> = columns.iter().map(|(name, _)| quote_ident(name)).collect();
        // In a transaction the node's hooks share, that one; else its own.
        let own = !self.joined.get();
        let mut setup = String::from(if own { "begin;\n" } else { "" });
        if let Some(kind) = old {
            setup.push_str(&format!("{};\n", PostgresDialect.drop_relation(rel, kind)));
        }
        setup.push_str(&format!("create table {rel} ({});", definitions.join(", ")));
        let copy = format!("copy {rel} ({}) from stdin (format csv)", names.join(", "));
        let loaded = self.with(
            |c| {
                c.batch_execute(&setup)?;
                let mut writer = c.copy_in(copy.as_str())?;
                let sent = std::fs::File::open(&file.0).and_then(|mut f| std::io::copy(&mut f, &mut writer));
                if let Err(e) = sent {
                    drop(writer);
                    if own {
                        c.batch_execute("rollback")?;
                    }
                    return Ok(Err(DbError(format!("cannot send {}: {e}", seed.shown))));
                }
                let rows = writer.finish()?;
                if own {
                    c.batch_execute("commit")?;
                }
                Ok(Ok(rows))
            },
            &copy,
        );
        match loaded {
            Ok(result) => result.map(Some),
            Err(e) => {
                if own {
                    let _ = self.batch("rollback");
                }
                Err(DbError(format!("cannot load {}: {e}", seed.shown)))
            }
        }
    }

    fn dialect(&self) -> &'static dyn Dialect {
        &PostgresDialect
    }

    fn interrupt_handle(&self) -> Arc<dyn Interrupt> {
        self.cancel.clone()
    }

    fn is_lost(&self) -> bool {
        self.lost.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn joined_transaction(&self) -> Option<&std::cell::Cell<bool>> {
        Some(&self.joined)
    }
}

/// The PostgreSQL type of a column DuckDB read from a seed: dbt-postgres's
/// (integers `integer`, other numbers `float8`, text `text`).
fn postgres_type(duckdb_type: &str) -> String {
    let ty = duckdb_type.to_ascii_uppercase();
    match ty.as_str() {
        "INTEGER" => "integer".into(),
        "BIGINT" => "bigint".into(),
        "SMALLINT" | "TINYINT" => "smallint".into(),
        "DOUBLE" => "float8".into(),
        "FLOAT" => "real".into(),
        "BOOLEAN" => "boolean".into(),
        "DATE" => "date".into(),
        "TIMESTAMP" => "timestamp without time zone".into(),
        "TIMESTAMP WITH TIME ZONE" => "timestamp with time zone".into(),
        "TIME" => "time".into(),
        "UUID" => "uuid".into(),
        t if t.starts_with("DECIMAL") => format!("numeric{}", &t["DECIMAL".len()..]),
        _ => "text".into(),
    }
}

/// A PostgreSQL error as the server words it (`ERROR: ...`, with its detail and
/// hint), and where the statement points, as `LINE n:` with a caret under the
/// column (the form materializations locate in a model's file).
fn pg_message(e: &postgres::Error, sql: Option<&str>) -> String {
    let Some(db) = e.as_db_error() else {
        return e.to_string();
    };
    let mut msg = format!("{}: {}", db.severity(), db.message());
    if let Some(d) = db.detail() {
        msg.push_str(&format!("\nDETAIL: {d}"));
    }
    if let Some(h) = db.hint() {
        msg.push_str(&format!("\nHINT: {h}"));
    }
    if let (Some(ErrorPosition::Original(position)), Some(sql)) = (db.position(), sql) {
        // A 1-based character position.
        let before: String = sql.chars().take((*position as usize).saturating_sub(1)).collect();
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count());
        msg.push_str(&super::caret_excerpt(sql, line, column).unwrap_or_default());
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_columns_get_dbt_postgres_types() {
        for (duck, pg) in [
            ("INTEGER", "integer"),
            ("DOUBLE", "float8"),
            ("VARCHAR", "text"),
            ("DECIMAL(14,2)", "numeric(14,2)"),
            ("TIMESTAMP", "timestamp without time zone"),
            ("DATE", "date"),
            ("BOOLEAN", "boolean"),
        ] {
            assert_eq!(postgres_type(duck), pg, "{duck}");
        }
    }

    #[test]
    fn temp_tables_live_in_the_sessions_schema() {
        let d = PostgresDialect;
        assert_eq!(d.temp_relation("t").to_string(), r#""pg_temp"."t""#);
        assert!(d.columns_query(&d.temp_relation("t")).contains("pg_my_temp_schema()"));
        assert_eq!(d.create_schema("db", "s"), r#"create schema if not exists "s""#);
    }
}
