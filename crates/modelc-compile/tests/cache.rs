//! The compile cache is never stale: after each kind of change (a model, a macro, a
//! var, a YAML file, an environment variable, an upstream model's columns), exactly
//! the nodes that depend on it are rendered or analyzed again, and the result equals
//! a compile without the cache.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use modelc_compile::{compile, CacheStats, CompileOptions, Project};

mod common;
use common::{cached, example_project, shop, write};

fn compile_ok(root: &Path, opts: &CompileOptions) -> (Project, CacheStats) {
    let out = compile(root, opts);
    let diags: Vec<String> = out.diagnostics.iter().map(|d| d.to_string()).collect();
    let project = out.project.unwrap_or_else(|| panic!("does not compile: {diags:#?}"));
    (project, out.cache)
}

/// Compiles with the cache, checks the result equals an uncached compile, and
/// returns the nodes rendered and analyzed anew (by name).
fn recompile(root: &Path) -> (Vec<String>, Vec<String>) {
    let (with_cache, stats) = compile_ok(root, &cached());
    let (without, _) = compile_ok(root, &CompileOptions::default());
    assert_same(&with_cache, &without);
    // `model.shop.name`, `test.shop.name.hash`: the name.
    let name = |id: &String| id.split('.').nth(2).unwrap_or_default().to_string();
    (
        stats.rendered.iter().map(name).collect(),
        stats.analyzed.iter().map(name).collect(),
    )
}

/// Everything compiling produces, equal with and without the cache.
fn assert_same(a: &Project, b: &Project) {
    assert_eq!(a.nodes.keys().collect::<Vec<_>>(), b.nodes.keys().collect::<Vec<_>>());
    for (id, n) in &a.nodes {
        let m = &b.nodes[id];
        assert_eq!(n.compiled_code, m.compiled_code, "{id}");
        assert_eq!(n.compiled_incremental_code, m.compiled_incremental_code, "{id}");
        assert_eq!(n.config, m.config, "{id}");
        assert_eq!(n.depends_on, m.depends_on, "{id}");
        assert_eq!(n.relation, m.relation, "{id}");
        assert_eq!(n.description, m.description, "{id}");
    }
    assert_eq!(a.lineage, b.lineage);
}

#[test]
fn an_unchanged_project_reuses_every_render_and_analysis() {
    let dir = shop();
    let (_, first) = compile_ok(dir.path(), &cached());
    assert!(first.renders_reused == 0 && first.rendered.len() > 5, "{first:?}");
    assert!(dir.path().join("target/compile_cache.msgpack").is_file());
    let (rendered, analyzed) = recompile(dir.path());
    assert_eq!((rendered, analyzed), (vec![], vec![]));
}

#[test]
fn a_changed_model_is_rendered_again_and_its_readers_analyzed_again_only_if_its_columns_changed() {
    let dir = shop();
    compile_ok(dir.path(), &cached());
    // Same columns: only the model itself.
    write(
        dir.path(),
        "models/stg_customers.sql",
        "select id, name from {{ ref('raw_customers') }} where id > 0\n",
    );
    assert_eq!(
        recompile(dir.path()),
        (vec!["stg_customers".into()], vec!["stg_customers".into()])
    );
    // A new column: `customers` reads `c.*` and is analyzed again; its lineage has it.
    write(
        dir.path(),
        "models/stg_customers.sql",
        "select id, name, upper(name) as shout from {{ ref('raw_customers') }}\n",
    );
    assert_eq!(
        recompile(dir.path()),
        (
            vec!["stg_customers".into()],
            vec!["customers".into(), "stg_customers".into()]
        )
    );
    let (p, _) = compile_ok(dir.path(), &cached());
    let cols: Vec<&str> = p.lineage["model.shop.customers"]
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(cols, ["id", "name", "shout", "region"]);
}

#[test]
fn a_changed_macro_re_renders_exactly_its_callers() {
    let dir = shop();
    compile_ok(dir.path(), &cached());
    write(
        dir.path(),
        "macros/cents.sql",
        "{% macro cents(col) %}round({{ col }} * 100){% endmacro %}\n",
    );
    let (rendered, analyzed) = recompile(dir.path());
    assert_eq!(rendered, ["stg_orders"]);
    assert_eq!(analyzed, ["stg_orders"]);
    // A macro nobody calls changes nothing.
    write(dir.path(), "macros/unused.sql", "{% macro unused() %}2{% endmacro %}\n");
    assert_eq!(recompile(dir.path()), (vec![], vec![]));
}

#[test]
fn a_changed_var_re_renders_exactly_its_readers() {
    let dir = shop();
    compile_ok(dir.path(), &cached());
    let project = std::fs::read_to_string(dir.path().join("project.yml")).expect("read");
    write(
        dir.path(),
        "project.yml",
        &project.replace("min_amount: 10", "min_amount: 20"),
    );
    assert_eq!(recompile(dir.path()).0, ["big_orders"]);
    write(dir.path(), "project.yml", &project.replace("unused: 1", "unused: 2"));
    assert_eq!(recompile(dir.path()).0, ["big_orders"], "back to 10: big_orders again");
    // `--vars` over the project's.
    let opts = CompileOptions {
        vars: serde_json::from_str(r#"{"min_amount": 30}"#).expect("json"),
        ..cached()
    };
    let (p, stats) = compile_ok(dir.path(), &opts);
    assert_eq!(stats.rendered, ["model.shop.big_orders"]);
    assert!(p.nodes["model.shop.big_orders"]
        .compiled_code
        .as_deref()
        .is_some_and(|s| s.contains("30 * 100")));
}

#[test]
fn a_changed_yaml_file_re_renders_exactly_the_nodes_whose_config_changed() {
    let dir = shop();
    compile_ok(dir.path(), &cached());
    let yml = std::fs::read_to_string(dir.path().join("models/_models.yml")).expect("read");
    // A description is not seen by rendering: nothing to redo, yet the project has it.
    write(
        dir.path(),
        "models/_models.yml",
        &yml.replace("One row per customer.", "Customers."),
    );
    assert_eq!(recompile(dir.path()), (vec![], vec![]));
    let (p, _) = compile_ok(dir.path(), &cached());
    assert_eq!(p.nodes["model.shop.customers"].description, "Customers.");
    // A config is: the model is rendered again, nothing else.
    let yml = yml.replace(
        "    description:",
        "    config:\n      materialized: table\n    description:",
    );
    write(dir.path(), "models/_models.yml", &yml);
    assert_eq!(recompile(dir.path()).0, ["customers"]);
    // A new test is rendered; the models are not.
    write(
        dir.path(),
        "models/_models.yml",
        &yml.replace("data_tests: [unique]", "data_tests: [unique, not_null]"),
    );
    assert_eq!(recompile(dir.path()).0, ["not_null_customers_id"]);
}

#[test]
fn a_changed_environment_variable_re_renders_its_readers() {
    let dir = shop();
    // Only this test's project reads this variable.
    write(
        dir.path(),
        "models/regional.sql",
        "select '{{ env_var('MODELC_CACHE_TEST_REGION', 'eu') }}' as region\n",
    );
    compile_ok(dir.path(), &cached());
    std::env::set_var("MODELC_CACHE_TEST_REGION", "us");
    let (p, stats) = compile_ok(dir.path(), &cached());
    std::env::remove_var("MODELC_CACHE_TEST_REGION");
    assert_eq!(stats.rendered, ["model.shop.regional"]);
    assert!(p.nodes["model.shop.regional"]
        .compiled_code
        .as_deref()
        .is_some_and(|s| s.contains("'us'")));
}

#[test]
fn renders_that_read_the_clock_or_the_invocation_are_never_reused() {
    let dir = shop();
    write(
        dir.path(),
        "models/stamped.sql",
        "select '{{ run_started_at }}' as at, '{{ invocation_id }}' as inv\n",
    );
    compile_ok(dir.path(), &cached());
    let (_, stats) = compile_ok(dir.path(), &cached());
    assert_eq!(stats.rendered, ["model.shop.stamped"]);
}

#[test]
fn an_unreadable_cache_is_ignored() {
    let dir = shop();
    compile_ok(dir.path(), &cached());
    write(dir.path(), "target/compile_cache.msgpack", "not a cache");
    let (_, stats) = compile_ok(dir.path(), &cached());
    assert_eq!(stats.renders_reused, 0);
    assert!(stats.rendered.len() > 5);
    assert_eq!(recompile(dir.path()), (vec![], vec![]));
}

/// The example project (incremental models, ephemerals, a snapshot, custom schema
/// names, generic tests with macros) compiles from the cache as without it.
#[test]
fn the_example_project_compiles_the_same_from_the_cache() {
    let dir = example_project();
    let (_, first) = compile_ok(dir.path(), &cached());
    assert!(first.rendered.len() > 50, "{first:?}");
    let (rendered, analyzed) = recompile(dir.path());
    assert_eq!((rendered, analyzed), (vec![], vec![]));
}

/// Reads every seed as two integer columns, counting the seeds it reads.
#[derive(Debug, Default)]
struct CountingReader(std::sync::Mutex<Vec<String>>);

impl modelc_compile::SeedTypes for CountingReader {
    fn types(&self, seed: &modelc_core::Node) -> Option<Vec<String>> {
        self.0.lock().unwrap().push(seed.name.clone());
        Some(seed.columns.iter().map(|_| "INTEGER".to_string()).collect())
    }
}

/// Seeds' files are read for their types once: the next compile reuses the
/// types while the file and the seed's config are unchanged, and they reach the
/// models that read the seed.
#[test]
fn seed_types_are_read_once_per_file_version() {
    let dir = shop();
    let root = dir.path();
    let reader = std::sync::Arc::new(CountingReader::default());
    let opts = CompileOptions {
        seed_types: Some(reader.clone()),
        ..cached()
    };
    let reads = || {
        let mut names = std::mem::take(&mut *reader.0.lock().unwrap());
        names.sort();
        names
    };
    let (project, _) = compile_ok(root, &opts);
    assert_eq!(reads(), ["raw_customers", "raw_orders"]);
    let types: Vec<String> = project.lineage["model.shop.stg_customers"]
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c.name,
                c.data_type.as_ref().map(ToString::to_string).unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(types, ["id INTEGER", "name INTEGER"]);
    compile_ok(root, &opts);
    assert_eq!(reads(), Vec::<String>::new());
    // A bigger file is another version of it.
    write(root, "seeds/raw_customers.csv", "id,name\n1,ann\n2,bo\n");
    compile_ok(root, &opts);
    assert_eq!(reads(), ["raw_customers"]);
}
