//! Execution on a database: materializations (view, table, incremental, ephemeral),
//! seeds, data tests, SCD2 snapshots, and the parallel runner.
//!
//! The [`Adapter`] trait is the database boundary; each engine implements it in a
//! module of [`engine`], with the [`Dialect`] of the statements it writes.

mod adapter;
mod cancel;
pub mod engine;
mod incremental;
mod materialize;
mod results;
mod runner;
mod seed;
mod snapshot;
mod test;
mod unit_test;

pub use adapter::{Adapter, Connection, DbError, DbResult, Interrupt};
pub use cancel::Cancel;
pub use engine::duckdb::DuckDb;
pub use engine::{open, open_waiting, Dialect};
pub use materialize::{
    columns, drop_if_exists, existing, literal, query_table, run_node, strip_semicolons, ExecSettings, KnownRelations,
    Outcome, QueryResult, RelKind, Status,
};
pub use results::{write_run_results, NodeResult};
pub use runner::{run, LateRender, Reporter, RunRequest, NOT_RUN_CANCELLED, NOT_RUN_CONNECTION_LOST};
pub use seed::SeedFile;
