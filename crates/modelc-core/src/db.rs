//! The database a project runs against.

use serde::{Deserialize, Serialize};

/// Where and how to connect: resolved from `--db`, `profiles.yml` and the project file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbConfig {
    /// The database file (absolute), or `:memory:`.
    pub path: String,
    /// The catalog name DuckDB gives the file (its stem), used in relation names.
    pub database: String,
    /// The target schema (default `main`).
    pub schema: String,
    /// Worker threads (connections) for the runner.
    pub threads: usize,
    /// Extensions to load on each connection.
    pub extensions: Vec<String>,
    /// `SET name = value` on each connection.
    pub settings: Vec<(String, String)>,
    /// dbt's `target.name`.
    pub target_name: String,
}
