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
    /// Runs one statement and returns the rows it changed.
    fn execute(&self, sql: &str) -> DbResult<usize>;
    /// Runs a query and returns every value as text (NULL as `None`, booleans as
    /// `true` and `false`).
    fn query(&self, sql: &str) -> DbResult<Vec<Vec<Option<String>>>>;
    /// The name and type of each column a query returns, without running it.
    fn describe(&self, sql: &str) -> DbResult<Vec<(String, String)>>;
    /// Loads a seed's file into the table `rel` atomically, replacing `old` (what
    /// exists there); returns the number of rows.
    fn load_seed(&self, seed: &SeedFile, rel: &Relation, old: Option<RelKind>) -> DbResult<u64>;
    /// The statements of this connection's engine.
    fn dialect(&self) -> &'static dyn Dialect;
    /// A handle that cancels what this connection is running, from another thread.
    fn interrupt_handle(&self) -> std::sync::Arc<dyn Interrupt>;
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
