//! Compiles DuckDB's ICU extension, from the archive beside this file
//! (`scripts/vendor-duckdb-icu` makes it from the release the `duckdb` crate
//! bundles), against the headers of the DuckDB build modelc links, with the
//! flags libduckdb-sys compiles DuckDB with.

// A build script reports what is wrong by panicking, with the reason.
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::{env, fs};

const ARCHIVE: &str = "duckdb-icu-v2.0.0.tar.gz";
const DESCRIBE: &str = "src/describe.cpp";

fn main() {
    println!("cargo:rerun-if-changed={ARCHIVE}");
    println!("cargo:rerun-if-changed={DESCRIBE}");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let include = PathBuf::from(env::var_os("DEP_DUCKDB_INCLUDE").expect(
        "no DuckDB headers: build this crate with the workspace (`cargo build --release --workspace`, \
             or `-p modelc`), whose `duckdb` crate selects libduckdb-sys's bundled build",
    ));
    let duckdb_root = include
        .parent()
        .and_then(Path::parent)
        .expect("DuckDB's include directory is <root>/src/include");

    let sources = out.join("duckdb-icu");
    if sources.exists() {
        fs::remove_dir_all(&sources).expect("clearing the previous unpacked sources");
    }
    let archive = fs::File::open(ARCHIVE).expect("the vendored ICU archive");
    tar::Archive::new(flate2::read::GzDecoder::new(archive))
        .unpack(&sources)
        .expect("unpacking the vendored ICU archive");
    let icu = sources.join("extension/icu");

    let mut files = Vec::new();
    cpp_files(&icu, &mut files);
    files.sort();

    let mut build = cc::Build::new();
    build
        .cpp(true)
        .flag_if_supported("-std=c++17")
        .warnings(false)
        .flag_if_supported("-w")
        .includes(duckdb_include_dirs(duckdb_root))
        .include(icu.join("include"))
        .include(icu.join("collation/include"))
        .include(icu.join("datetime/include"))
        .files(&files)
        .file(DESCRIBE);
    // As libduckdb-sys: DuckDB's sources assume exactly one of DEBUG and
    // NDEBUG, and some of its classes differ between them.
    let debug = env::var("DEBUG").is_ok_and(|v| v != "false" && v != "0");
    build.define(if debug { "DEBUG" } else { "NDEBUG" }, None);
    build.compile("modelc_duckdb_icu");
}

/// The include directories libduckdb-sys compiles DuckDB with, from the
/// manifest of its unpacked sources (DuckDB's headers include its third-party
/// libraries' own).
fn duckdb_include_dirs(root: &Path) -> Vec<PathBuf> {
    let manifest = fs::read_to_string(root.join("manifest.json")).expect("libduckdb-sys's manifest.json");
    let manifest: serde_json::Value = serde_json::from_str(&manifest).expect("libduckdb-sys's manifest.json");
    manifest["base"]["include_dirs"]
        .as_array()
        .expect("the manifest lists include_dirs")
        .iter()
        .filter_map(serde_json::Value::as_str)
        .map(|dir| root.join(dir))
        .collect()
}

/// Every `.cpp` under `dir`: the extension's CMakeLists.txt lists them all.
fn cpp_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("reading the unpacked ICU sources") {
        let path = entry.expect("reading the unpacked ICU sources").path();
        if path.is_dir() {
            cpp_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "cpp") {
            files.push(path);
        }
    }
}
