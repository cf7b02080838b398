//! The database boundary: an [`Adapter`] opens [`Connection`]s, and each connection
//! knows its engine's [`Dialect`]. Materializations are written against these
//! traits; each engine implements them in its module under `engine/`.

use std::fmt;

use modelc_core::Relation;

use crate::engine::Dialect;
use crate::materialize::RelKind;
use crate::seed::SeedFile;

/// A database error, with the engine's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbError(pub String);

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DbError {}

/// Result of a database call.
pub type DbResult<T> = Result<T, DbError>;

/// One connection: each runner worker has its own.
pub trait Connection: Send {
    /// Runs one or more statements.
    fn batch(&self, sql: &str) -> DbResult<()>;
    /// Runs one statement and returns the rows it changed, where the engine says.
    fn execute(&self, sql: &str) -> DbResult<Option<u64>>;
    /// Runs a query and returns every value as text (NULL as `None`, booleans as
    /// `true` and `false`).
    fn query(&self, sql: &str) -> DbResult<Vec<Vec<Option<String>>>>;
    /// The name and type of each column a query returns, without running it.
    fn describe(&self, sql: &str) -> DbResult<Vec<(String, String)>>;
    /// Loads a seed's file into the table `rel` atomically, replacing `old` (what
    /// exists there); returns the number of rows, where the engine counts them.
    fn load_seed(&self, seed: &SeedFile, rel: &Relation, old: Option<RelKind>) -> DbResult<Option<u64>>;
    /// The statements of this connection's engine.
    fn dialect(&self) -> &'static dyn Dialect;
    /// A handle that cancels what this connection is running, from another thread.
    fn interrupt_handle(&self) -> std::sync::Arc<dyn Interrupt>;
    /// Every table and view of the database.
    fn relations(&self) -> DbResult<Vec<(Relation, RelKind)>> {
        let rows = self.query(&self.dialect().relations_query())?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let cell = |i: usize| r.get(i).cloned().flatten();
                let kind = RelKind::from_table_type(&cell(3)?);
                Some((Relation::new(&cell(0)?, &cell(1)?, &cell(2)?), kind))
            })
            .collect())
    }
    /// What exists at `rel`, if anything.
    fn relation_kind(&self, rel: &Relation) -> DbResult<Option<RelKind>> {
        let rows = self.query(&self.dialect().relation_query(rel))?;
        Ok(rows
            .first()
            .and_then(|r| r.first().cloned().flatten())
            .map(|t| RelKind::from_table_type(&t)))
    }
    /// The columns of `rel` in order: name and type, as the engine writes them in DDL.
    fn columns(&self, rel: &Relation) -> DbResult<Vec<(String, String)>> {
        Ok(crate::materialize::pairs(
            self.query(&self.dialect().columns_query(rel))?,
        ))
    }
    /// Every column of every table and view, for `catalog.json`: rows of database,
    /// schema, table, table type, column, position, type.
    fn catalog(&self) -> DbResult<Vec<Vec<Option<String>>>> {
        self.query(self.dialect().catalog_query())
    }
    /// The flag a caller sets while it holds a transaction open on this connection
    /// (a node whose hooks share its transaction): [`crate::materialize::in_transaction`]
    /// then runs its steps in that transaction instead of beginning its own. `None`
    /// on an engine without transactions.
    fn joined_transaction(&self) -> Option<&std::cell::Cell<bool>> {
        None
    }
    /// Whether the connection is gone (the server closed it or went away), so
    /// nothing more can run on it. An embedded database never is.
    fn is_lost(&self) -> bool {
        false
    }
}

/// Cancels the statement a connection is running (from a signal handler's thread).
pub trait Interrupt: Send + Sync {
    /// Asks the engine to stop the running statement; it fails with an error.
    fn interrupt(&self);
}

/// Opens connections to one database.
pub trait Adapter: Send + Sync {
    /// A new connection.
    fn connect(&self) -> DbResult<Box<dyn Connection>>;
    /// The statements of the engine.
    fn dialect(&self) -> &'static dyn Dialect;
    /// Where the database is, for messages (`/path/lending.duckdb`,
    /// `postgres://user@host:5432/db`).
    fn describe_target(&self) -> String;
}
