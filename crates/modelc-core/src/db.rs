//! The database a project runs against.

use serde::{Deserialize, Serialize};

/// What the compiler knows of an engine modelc runs on; the rest of an engine is
/// its module in modelc-exec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Engine {
    /// Its name: a profile's `type:`, dbt's `target.type`.
    pub name: &'static str,
    /// Whether a subquery in `FROM` needs an alias (dbt's `require_alias`): with
    /// `--empty`, a `ref` renders as `(select ... limit 0) _dbt_limit_subq_<name>`.
    pub subquery_alias: bool,
    /// Whether an enforced contract's constraints go in its table's DDL (and the
    /// engine enforces them); where not, they are ignored with a warning.
    pub constraints: bool,
}

/// The engines modelc runs on; `duckdb`, embedded, is the default.
pub const ENGINES: &[Engine] = &[
    Engine {
        name: "duckdb",
        subquery_alias: false,
        constraints: true,
    },
    Engine {
        name: "postgres",
        subquery_alias: true,
        constraints: true,
    },
    Engine {
        name: "spark",
        subquery_alias: true,
        constraints: false,
    },
];

/// The table formats a Spark target writes (`file_format`): plain files, or a
/// table format with `MERGE INTO`.
pub const FILE_FORMATS: &[&str] = &["parquet", "orc", "delta", "iceberg", "hudi"];

/// The engine named `name`.
pub fn engine(name: &str) -> Option<&'static Engine> {
    ENGINES.iter().find(|e| e.name == name)
}

/// The names of the engines, for messages: `duckdb, postgres, spark`.
pub fn engine_names() -> String {
    ENGINES.iter().map(|e| e.name).collect::<Vec<_>>().join(", ")
}

/// Where and how to connect: resolved from `--db`, `profiles.yml` and the project file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbConfig {
    /// The engine (one of [`ENGINES`]): dbt's `target.type`.
    pub engine: String,
    /// The database file (absolute), or `:memory:` (DuckDB only).
    pub path: String,
    /// The database relations are named in: the catalog name DuckDB gives the file
    /// ([`catalog_name`]), or a server's database (`dbname`).
    pub database: String,
    /// The target schema (default `main`).
    pub schema: String,
    /// Worker threads (connections) for the runner.
    pub threads: usize,
    /// Extensions to load on each connection.
    pub extensions: Vec<String>,
    /// `SET name = value` on each connection.
    pub settings: Vec<(String, String)>,
    /// Other DuckDB files attached to the database (dbt-duckdb's `attach:`).
    #[serde(default)]
    pub attach: Vec<Attach>,
    /// dbt's `target.name`.
    pub target_name: String,
    /// How to reach a database server (every engine but embedded DuckDB).
    pub server: Option<ServerConfig>,
}

impl DbConfig {
    /// Embedded DuckDB on `path` (absolute, or `:memory:`), schema `main`.
    pub fn duckdb(path: &str) -> DbConfig {
        DbConfig {
            engine: "duckdb".into(),
            path: path.to_string(),
            database: catalog_name(path),
            schema: "main".into(),
            threads: 1,
            extensions: Vec::new(),
            settings: Vec::new(),
            attach: Vec::new(),
            target_name: "dev".into(),
            server: None,
        }
    }
}

/// A DuckDB file attached to the target's database (an entry of dbt-duckdb's
/// `attach:`): its relations are named `"<alias>"."schema"."table"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attach {
    /// The file (absolute).
    pub path: String,
    /// The catalog name (`alias:`, else the file's name up to its first dot).
    pub alias: String,
    /// Attached read-only (`read_only: true`).
    pub read_only: bool,
}

/// A database server's address and credentials, with dbt-postgres's keys.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerConfig {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// User name.
    pub user: String,
    /// Password; never written to disk with the rest (the compile state keeps
    /// the config).
    #[serde(skip)]
    pub password: Option<String>,
    /// `sslmode` (`disable`, `prefer`, `require`, ...).
    pub sslmode: Option<String>,
    /// Seconds to wait for a connection.
    pub connect_timeout: Option<u64>,
    /// Spark: the format tables are written in (`parquet` unless the profile or a
    /// model's `file_format` says otherwise).
    #[serde(default)]
    pub file_format: Option<String>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("sslmode", &self.sslmode)
            .field("connect_timeout", &self.connect_timeout)
            .field("file_format", &self.file_format)
            .finish()
    }
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
