//! Seed column types for the compiler: it reads no CSV itself, so the CLI lends
//! it DuckDB's reader, the one a seed run loads the file with, so the types the
//! analysis sees are the types the table gets.

use std::path::PathBuf;
use std::sync::Mutex;

use modelc_compile::SeedTypes;
use modelc_core::Node;
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
