//! Fuzzes the pure front end of CSV seeds and their type hints: the header
//! of a seed file (`modelc_project::seed_header`, what project loading reads of
//! a CSV), a seed property file (`modelc_project::parse_property_file`, whose
//! `config: column_types:` are the type hints), and dbt's merge of those hints
//! over project-level ones (`modelc_core::merge_config`), then each header
//! column's declared type looked up as modelc does (exact name, then
//! case-insensitively) and quoted as an identifier (`modelc_core::quote_ident`).
//!
//! Loading the CSV itself is DuckDB's job (modelc-exec) and is not fuzzed here.
//!
//! Input: the CSV text; or, when it contains a NUL byte, the CSV text before it
//! and a seed property file after it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (csv, yml) = text.split_once('\0').unwrap_or((text, ""));
    let header = modelc_project::seed_header(csv);
    let mut diags = Vec::new();
    let props = modelc_project::parse_property_file("seeds/_seeds.yml", yml, &mut diags);
    let project_level = json!({"column_types": {"id": "integer"}, "+quote_columns": false});
    let Value::Object(project_level) = project_level else {
        return;
    };
    for seed in &props.seeds {
        let mut config = project_level.clone();
        modelc_core::merge_config(&mut config, &seed.config);
        let types = config.get("column_types");
        for column in &header {
            let declared = types.and_then(|t| t.get(column)).or_else(|| {
                types
                    .and_then(Value::as_object)
                    .and_then(|t| t.iter().find(|(k, _)| k.eq_ignore_ascii_case(column)).map(|(_, v)| v))
            });
            let _ = (modelc_core::quote_ident(column), declared.and_then(Value::as_str));
        }
    }
});
