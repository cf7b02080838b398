//! Seed column types for the compiler: it reads no CSV itself, so the CLI lends
//! it DuckDB's reader, the one a seed run loads the file with, so the types the
//! analysis sees are the types the table gets. The same DuckDB tells which
//! extensions it has (ICU: time zones), for SQL only an extension runs.

use std::path::PathBuf;
use std::sync::Mutex;

use modelc_compile::{Extensions, SeedTypes};
use modelc_core::{DbConfig, Node};
use modelc_exec::{Connection, SeedFile};

/// Reads seeds under the project root with one in-memory DuckDB, opened at the
/// first seed.
pub struct CsvTypes {
    root: PathBuf,
    reader: Mutex<Option<Box<dyn Connection>>>,
}

impl CsvTypes {
    pub fn new(root: PathBuf) -> CsvTypes {
        CsvTypes {
            root,
            reader: Mutex::new(None),
        }
    }
}

impl std::fmt::Debug for CsvTypes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CsvTypes({})", self.root.display())
    }
}

impl CsvTypes {
    /// Runs `f` on the in-memory DuckDB, opened on first use.
    fn with<T>(&self, f: impl FnOnce(&dyn Connection) -> Option<T>) -> Option<T> {
        let mut reader = self.reader.lock().ok()?;
        if reader.is_none() {
            *reader = Some(modelc_exec::engine::duckdb::in_memory().ok()?);
        }
        f(reader.as_deref()?)
    }
}

impl SeedTypes for CsvTypes {
    fn types(&self, seed: &Node) -> Option<Vec<String>> {
        self.with(|conn| SeedFile::of(seed, &self.root).column_types(conn))
    }
}

impl Extensions for CsvTypes {
    /// Installed already, or now: DuckDB downloads it where it can reach
    /// extensions.duckdb.org, as it would when the model runs. Asked of a DuckDB
    /// with the profile's `settings` (`extension_directory`,
    /// `custom_extension_repository`), which the run's connections have too.
    fn has(&self, name: &str, db: &DbConfig) -> bool {
        let name = name.replace('\'', "''");
        let sql = format!(
            "select count(*) from duckdb_extensions() where extension_name = '{name}' and (installed or loaded)"
        );
        let check = |conn: &dyn Connection| {
            let installed = conn.query(&sql).ok()?.first()?.first()?.as_deref() != Some("0");
            Some(installed || conn.batch(&format!("install '{name}'")).is_ok())
        };
        if db.settings.is_empty() {
            return self.with(check).unwrap_or(false);
        }
        let Ok(conn) = modelc_exec::engine::duckdb::in_memory() else {
            return false;
        };
        let settings = modelc_exec::engine::duckdb::settings_sql(&db.settings);
        conn.batch(&settings).is_ok() && check(conn.as_ref()).unwrap_or(false)
    }
}
