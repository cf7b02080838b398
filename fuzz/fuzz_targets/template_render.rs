//! Fuzzes the Jinja front end of `modelc-template`: the preprocessor
//! (`preprocess::expressions`, `rewrite_macro_file`, `extract_blocks` for
//! `{% snapshot %}` and `{% docs %}`, `scan_tags`) and the rendering of a model
//! (`Jinja::render`) in an environment holding modelc's built-ins and the example
//! project's macros.
//!
//! Input: a model's SQL; or, when it contains a NUL byte, a macro file before
//! it and a model after it (the environment is then built with `Jinja::new`
//! from that macro file too).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use modelc_template::{preprocess, Jinja, MacroFile, NodeContext, ProjectContext};

fn context() -> ProjectContext {
    let mut vars = serde_json::Map::new();
    vars.insert("start_date".into(), "2020-01-01".into());
    let mut target = serde_json::Map::new();
    for (k, v) in [
        ("name", "dev"),
        ("schema", "main"),
        ("database", "memory"),
        ("type", "duckdb"),
    ] {
        target.insert(k.into(), v.into());
    }
    ProjectContext {
        project_name: "lending".into(),
        vars,
        target,
        invocation_id: "0".repeat(32),
        run_started_at: "2024-01-01T00:00:00+00:00".into(),
        ..ProjectContext::default()
    }
}

fn example_macros() -> Vec<MacroFile> {
    [
        ("macros/risk_band.sql", include_str!("../../macros/risk_band.sql")),
        ("macros/tests.sql", include_str!("../../macros/tests.sql")),
        ("macros/date_spine.sql", include_str!("../../macros/date_spine.sql")),
    ]
    .into_iter()
    .map(|(path, text)| MacroFile {
        path: path.into(),
        text: text.into(),
        package: None,
    })
    .collect()
}

fn shared() -> &'static Jinja {
    static JINJA: OnceLock<Jinja> = OnceLock::new();
    JINJA.get_or_init(|| Jinja::new(context(), &example_macros()).0)
}

fn node() -> NodeContext {
    let mut config = serde_json::Map::new();
    config.insert("materialized".into(), "view".into());
    NodeContext {
        name: "fuzz_model".into(),
        unique_id: "model.lending.fuzz_model".into(),
        resource_type: "model".into(),
        original_file_path: "models/fuzz_model.sql".into(),
        config,
        package: "lending".into(),
        ..NodeContext::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The rewrites keep every line break: error lines stay true.
    let rewritten = preprocess::expressions(text);
    assert_eq!(rewritten.matches('\n').count(), text.matches('\n').count());
    let _ = preprocess::scan_tags(text, &["macro", "endmacro", "test", "endtest"]);
    let _ = preprocess::extract_blocks(text, "snapshot");
    let _ = preprocess::extract_blocks(text, "docs");
    let node = node();
    match text.split_once('\0') {
        Some((macros, model)) => {
            let _ = preprocess::rewrite_macro_file(macros);
            let mut files = example_macros();
            files.push(MacroFile {
                path: "macros/fuzz.sql".into(),
                text: macros.into(),
                package: None,
            });
            let (jinja, _) = Jinja::new(context(), &files);
            let _ = jinja.render("models/fuzz_model.sql", model, &node);
        }
        None => {
            let _ = preprocess::rewrite_macro_file(text);
            let _ = shared().render("models/fuzz_model.sql", text, &node);
        }
    }
});
