//! Fuzzes the project-level YAML front end of `modelc-project`: the input is
//! parsed as a project file (`modelc_project::parse_project_text`, what
//! `read_project_file` does with `project.yml`) and as a `packages.yml`
//! (`modelc_project::deps::parse_spec_doc`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut diags = Vec::new();
    let _ = modelc_project::parse_project_text("project.yml", text, &mut diags);
    if let Ok(doc) = modelc_project::yaml::parse("packages.yml", text) {
        let _ = modelc_project::deps::parse_spec_doc("packages.yml", text, &doc);
    }
});
