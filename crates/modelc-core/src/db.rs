//! The database a project runs against.

use serde::{Deserialize, Serialize};

/// Where and how to connect: resolved from `--db`, `profiles.yml` and the project file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbConfig {
    /// The database file (absolute), or `:memory:`.
    pub path: String,
    /// The catalog name DuckDB gives the file ([`catalog_name`]), used in relation names.
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

/// The catalog name DuckDB gives an attached database file: the file name up to
/// its first dot (`lending` for `lending.v2.duckdb`, leading dots skipped), and
/// `_db` appended to the reserved names `main`, `temp` and `system`; `memory` for
/// `:memory:`. What DuckDB's `AttachedDatabase::ExtractDatabaseName` does.
pub fn catalog_name(path: &str) -> String {
    if path.is_empty() || path == ":memory:" {
        return "memory".into();
    }
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let first = |s: &str, sep: char| {
        s.split(sep)
            .find(|p| !p.is_empty())
            .map_or_else(|| s.to_string(), str::to_owned)
    };
    let name = first(&first(file, '.'), '?');
    if ["main", "temp", "system"].iter().any(|r| r.eq_ignore_ascii_case(&name)) {
        format!("{name}_db")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_names_are_duckdbs() {
        // Each checked against DuckDB 2.0's `select current_database()`.
        for (path, name) in [
            ("/data/lending.duckdb", "lending"),
            ("/data/lending.v2.duckdb", "lending"),
            ("my-db.x.y.duckdb", "my-db"),
            ("noext", "noext"),
            (".hidden.duckdb", "hidden"),
            ("x..y.duckdb", "x"),
            ("main.duckdb", "main_db"),
            ("Main.duckdb", "Main_db"),
            ("TEMP.x.duckdb", "TEMP_db"),
            ("system.duckdb", "system_db"),
            ("q?x.duckdb", "q"),
            (":memory:", "memory"),
        ] {
            assert_eq!(catalog_name(path), name, "{path}");
        }
    }
}
