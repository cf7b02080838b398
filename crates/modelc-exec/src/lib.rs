//! Execution on a database: materializations (view, table, incremental, ephemeral),
//! seeds, data tests, SCD2 snapshots, and the parallel runner.
//!
//! The [`Adapter`] trait is the database boundary; [`DuckDb`] implements it.

mod adapter;
mod cancel;
mod incremental;
mod materialize;
mod results;
mod runner;
mod snapshot;
mod test;

pub use adapter::{Adapter, Connection, DbError, DbResult, DuckDb, Interrupt};
pub use cancel::Cancel;
pub use materialize::{
    columns, existing, literal, query_table, run_node, strip_semicolons, ExecSettings, KnownRelations, Outcome,
    QueryResult, RelKind, Status,
};
pub use results::{write_run_results, NodeResult};
pub use runner::{run, LateRender, Reporter, RunRequest, NOT_RUN_CANCELLED};
