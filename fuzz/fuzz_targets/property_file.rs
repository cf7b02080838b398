//! Fuzzes the YAML property-file parser of `modelc-project`
//! (`modelc_project::parse_property_file`: `models:`, `sources:`, `seeds:`,
//! tests, columns, versions...), including its split parallel parse of large
//! files (`modelc_project::yaml::parse_split`), whose result must be what
//! parsing the whole text gives.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut diags = Vec::new();
    let _ = modelc_project::parse_property_file("models/schema.yml", text, &mut diags);
    // The split parser normally only sees files of 64 KiB or more.
    if let Some(split) = modelc_project::yaml::parse_split(text) {
        if let Ok(whole) = serde_yaml::from_str::<serde_yaml::Value>(text) {
            assert_eq!(split, whole, "parse_split differs from a whole parse");
        }
    }
});
