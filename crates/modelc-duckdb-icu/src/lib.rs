//! DuckDB's ICU extension (time zones: `TIMESTAMPTZ` arithmetic and date parts,
//! `AT TIME ZONE`, ICU collations), compiled into modelc as dbt-duckdb's Python
//! DuckDB has it. The `duckdb` crate's bundled build leaves ICU out, and DuckDB
//! would otherwise download it on first use from extensions.duckdb.org.
//!
//! [`register`] hands it to DuckDB's registry of statically linked extensions:
//! every database opened afterwards has it loaded.

use std::sync::Once;

/// DuckDB's `duckdb_extension_descriptor`, which only the C++ side reads.
#[repr(C)]
struct Descriptor {
    _private: [u8; 0],
}

extern "C" {
    /// `duckdb_static_extension.h`: registers what `describe` describes for
    /// every database opened afterwards; 0 on success.
    fn duckdb_register_static_extension(describe: unsafe extern "C" fn(*mut Descriptor) -> i32) -> i32;
    /// `src/describe.cpp`: fills DuckDB's descriptor in for ICU.
    fn modelc_duckdb_icu_describe(descriptor: *mut Descriptor) -> i32;
}

/// Registers ICU with DuckDB, once per process; call it before opening a
/// database. Were DuckDB to refuse it, the databases opened afterwards would
/// fail to open, with DuckDB's reason: nothing to report here.
pub fn register() {
    static REGISTERED: Once = Once::new();
    // SAFETY: the describe function has the signature DuckDB's header declares
    // and only fills in the descriptor DuckDB hands it.
    #[allow(unsafe_code)]
    REGISTERED.call_once(|| {
        unsafe { duckdb_register_static_extension(modelc_duckdb_icu_describe) };
    });
}
