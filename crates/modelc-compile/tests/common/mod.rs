//! Projects shared by the compile cache and compile state tests.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use modelc_compile::{artifacts, compile, state, CompileOptions};
use serde_json::Value;

/// Compiles the project at `root`, which must compile: its project and diagnostics.
pub fn compile_ok(root: &Path) -> (modelc_compile::Project, Vec<String>) {
    let out = compile(root, &CompileOptions::default());
    let diags: Vec<String> = out.diagnostics.iter().map(|d| d.to_string()).collect();
    let project = out.project.unwrap_or_else(|| panic!("{diags:#?}"));
    (project, diags)
}

pub fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// A small project: models over two seeds, a macro used by one model, a var read by
/// one model, YAML with a test.
pub fn shop() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "project.yml",
        "name: shop\nduckdb:\n  path: shop.duckdb\nvars:\n  min_amount: 10\n  unused: 1\n",
    );
    write(root, "seeds/raw_orders.csv", "id,customer_id,amount\n1,1,10\n");
    write(root, "seeds/raw_customers.csv", "id,name\n1,ann\n");
    write(
        root,
        "models/stg_orders.sql",
        "select id, customer_id, {{ cents('amount') }} as amount_cents from {{ ref('raw_orders') }}\n",
    );
    write(
        root,
        "models/stg_customers.sql",
        "select id, name from {{ ref('raw_customers') }}\n",
    );
    write(
        root,
        "models/big_orders.sql",
        "select * from {{ ref('stg_orders') }} where amount_cents >= {{ var('min_amount') }} * 100\n",
    );
    write(
        root,
        "models/customers.sql",
        "select c.*, 'eu' as region from {{ ref('stg_customers') }} c\n",
    );
    write(
        root,
        "models/orders_per_customer.sql",
        "select customer_id, count(*) as orders from {{ ref('stg_orders') }} group by 1\n",
    );
    write(
        root,
        "models/_models.yml",
        "version: 2\nmodels:\n  - name: customers\n    description: One row per customer.\n    columns:\n      - name: id\n        data_tests: [unique]\n",
    );
    write(
        root,
        "macros/cents.sql",
        "{% macro cents(col) %}({{ col }} * 100){% endmacro %}\n",
    );
    write(root, "macros/unused.sql", "{% macro unused() %}1{% endmacro %}\n");
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A copy of the example project (incremental models, ephemerals, a snapshot,
/// custom schema names, generic tests with macros).
pub fn example_project() -> tempfile::TempDir {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(repo.join("project.yml"), dir.path().join("project.yml")).expect("copy");
    for d in ["models", "macros", "seeds", "snapshots", "tests"] {
        copy_dir(&repo.join(d), &dir.path().join(d));
    }
    dir
}

pub fn cached() -> CompileOptions {
    CompileOptions {
        cache: true,
        ..CompileOptions::default()
    }
}

/// What a compile leaves: the manifest without its metadata, the compiled SQL files,
/// the warnings.
#[derive(Debug, PartialEq)]
pub struct Outcome {
    pub manifest: Value,
    pub compiled: BTreeMap<String, String>,
    pub warnings: Vec<String>,
}

pub fn without_metadata(mut manifest: Value) -> Value {
    if let Value::Object(m) = &mut manifest {
        m.remove("metadata");
    }
    manifest
}

/// `modelc compile`: from the state when it can stand in, else in full (writing the
/// artifacts and a new state). Returns whether the state was used, and the outcome.
pub fn compile_like_the_cli(root: &Path, opts: &CompileOptions) -> (bool, Outcome) {
    let target = root.join("target");
    let (fast, warnings) = match state::recompile(root, opts, "test") {
        Ok(r) => (true, r.diagnostics),
        Err(why) => {
            eprintln!("full compile: {why}");
            let out = compile(root, opts);
            let Some(project) = out.project else {
                panic!("does not compile: {:?}", out.diagnostics)
            };
            let layout = artifacts::write(&project, "test").expect("artifacts");
            state::save(&project, out.state.expect("state seed"), layout, &out.diagnostics, opts);
            (false, out.diagnostics)
        }
    };
    let text = std::fs::read_to_string(target.join("manifest.json")).expect("manifest");
    let manifest = without_metadata(serde_json::from_str(&text).expect("manifest is JSON"));
    let nodes = manifest["nodes"].as_object().expect("nodes");
    let compiled = nodes
        .values()
        .filter_map(|n| n["compiled_path"].as_str())
        // A generic test's file is there once something asked for it.
        .filter(|p| root.join(p).exists())
        .map(|p| {
            let text = std::fs::read_to_string(root.join(p)).expect("compiled file");
            (p.to_string(), text)
        })
        .collect();
    let warnings = warnings.iter().map(|d| d.to_string()).collect();
    (
        fast,
        Outcome {
            manifest,
            compiled,
            warnings,
        },
    )
}

/// A compile without any cache, in memory.
pub fn reference(root: &Path, opts: &CompileOptions) -> Outcome {
    let out = compile(
        root,
        &CompileOptions {
            cache: false,
            ..opts.clone()
        },
    );
    let project = out.project.expect("compiles");
    let compiled = project
        .nodes
        .values()
        // What the manifest's nodes name (unit tests are in a map of their own).
        .filter(|n| {
            !matches!(
                n.resource_type,
                modelc_core::ResourceType::Seed | modelc_core::ResourceType::UnitTest
            )
        })
        // Generic tests' files are written on demand (and kept current once there).
        .filter(|n| !n.is_generic_test() || root.join("target").join(n.compiled_path()).exists())
        .filter_map(|n| Some((format!("target/{}", n.compiled_path()), n.compiled_code.clone()?)))
        .collect();
    Outcome {
        manifest: without_metadata(artifacts::manifest(&project, "test")),
        compiled,
        warnings: out.diagnostics.iter().map(|d| d.to_string()).collect(),
    }
}

/// Compiles like the CLI, checks the outcome equals a compile without any cache,
/// and returns whether the state was used.
pub fn recompile(root: &Path, opts: &CompileOptions) -> bool {
    let (fast, outcome) = compile_like_the_cli(root, opts);
    let expected = reference(root, opts);
    assert_eq!(outcome.compiled, expected.compiled, "compiled SQL (fast path: {fast})");
    assert_eq!(outcome.warnings, expected.warnings, "warnings (fast path: {fast})");
    if outcome.manifest != expected.manifest {
        let (a, b) = (&outcome.manifest["nodes"], &expected.manifest["nodes"]);
        let differing: Vec<&String> = a
            .as_object()
            .expect("nodes")
            .iter()
            .filter(|(id, n)| b.get(id.as_str()) != Some(n))
            .map(|(id, _)| id)
            .collect();
        panic!("manifest differs (fast path: {fast}) in {differing:?}");
    }
    fast
}
