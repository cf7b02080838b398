//! The bad-input suite: broken projects, one table row each, run against a copy of
//! one small built project. Every case asserts the exit code (2: a project error,
//! nothing ran; 1: a node failed at run time; 0: not an error, e.g. what dbt only
//! warns about), that the message names the file (and `:line` or `:line:col` where
//! there is one), that nothing panicked, and that the database holds what it held
//! before (or, where the input is valid and changes it, what it should hold).
//!
//! All cases run in one test and every failing case is reported at once.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::support::{fingerprint, run_modelc, Fixture, Output};

/// The project every case starts from: a seed, a view and a table model, a
/// snapshot, a macro, generic tests in `schema.yml` and a singular test.
const BASE: &[(&str, &str)] = &[
    ("project.yml", "name: shop\nduckdb:\n  path: shop.duckdb\n"),
    (
        "seeds/orders.csv",
        "id,customer,amount,updated_at\n1,alice,10,2024-01-01\n2,bob,20,2024-01-02\n3,carol,30,2024-01-03\n",
    ),
    ("models/stg_orders.sql", "select id, customer, amount from {{ ref('orders') }}\n"),
    (
        "models/customer_totals.sql",
        "{{ config(materialized='table') }}\nselect customer, sum(amount) as total\nfrom {{ ref('stg_orders') }}\ngroup by customer\n",
    ),
    ("models/schema.yml", SCHEMA_YML),
    (
        "snapshots/orders_snapshot.sql",
        "{% snapshot orders_snapshot %}\n{{ config(target_schema='snapshots', unique_key='id', strategy='timestamp', updated_at='updated_at') }}\nselect * from {{ ref('orders') }}\n{% endsnapshot %}\n",
    ),
    ("macros/cents.sql", "{% macro cents(col) %}({{ col }} * 100){% endmacro %}\n"),
    ("tests/no_negative_totals.sql", "select * from {{ ref('customer_totals') }} where total < 0\n"),
];

const SCHEMA_YML: &str = "version: 2
models:
  - name: stg_orders
    columns:
      - name: id
        data_tests: [unique, not_null]
  - name: customer_totals
    columns:
      - name: customer
        data_tests:
          - unique
          - accepted_values:
              values: [alice, bob, carol]
";

/// A valid `profiles.yml` for the base project.
const PROFILES: &str = "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: shop.duckdb\n";

/// One change to the base project.
enum Edit {
    /// Writes (or overwrites) a file.
    Write(&'static str, Vec<u8>),
    /// Removes a file.
    Remove(&'static str),
    /// Creates a symbolic link at `.0` pointing to `.1`.
    Symlink(&'static str, &'static str),
    /// Takes every permission away from a file or folder (the case is skipped where
    /// that does not stop reads: as root).
    Unreadable(&'static str),
    /// Writes a file whose name is these bytes (not necessarily UTF-8).
    RawName(&'static [u8], Vec<u8>),
    /// Replaces a folder with an empty file of its name.
    FolderToFile(&'static str),
}

/// What the database must hold after the command.
enum Db {
    /// Exactly what it held before.
    Unchanged,
    /// Not a database (the case broke it): its bytes as the edits left them.
    BytesUnchanged,
    /// Each query's rows (`|`-separated, one row per line).
    Holds(Vec<(&'static str, &'static str)>),
}

struct Case {
    kind: &'static str,
    name: &'static str,
    edits: Vec<Edit>,
    /// The command line; `{dir}` stands for the case's project folder.
    args: Vec<String>,
    code: i32,
    /// Strings the message must contain: in stderr, or for exit code 1 (a node failed
    /// at run time, reported with the run on stdout, as dbt does) in either.
    expect: Vec<String>,
    /// Strings stdout must contain (what ran, for the cases that must pass).
    stdout: Vec<&'static str>,
    db: Db,
}

fn case(kind: &'static str, name: &'static str, command: &str, code: i32) -> Case {
    Case {
        kind,
        name,
        edits: Vec::new(),
        args: command.split_whitespace().map(str::to_owned).collect(),
        code,
        expect: Vec::new(),
        stdout: Vec::new(),
        db: Db::Unchanged,
    }
}

impl Case {
    fn write(mut self, path: &'static str, text: impl Into<Vec<u8>>) -> Self {
        self.edits.push(Edit::Write(path, text.into()));
        self
    }

    fn remove(mut self, path: &'static str) -> Self {
        self.edits.push(Edit::Remove(path));
        self
    }

    fn symlink(mut self, link: &'static str, target: &'static str) -> Self {
        self.edits.push(Edit::Symlink(link, target));
        self
    }

    fn unreadable(mut self, path: &'static str) -> Self {
        self.edits.push(Edit::Unreadable(path));
        self
    }

    fn raw_name(mut self, name: &'static [u8], text: &str) -> Self {
        self.edits.push(Edit::RawName(name, text.into()));
        self
    }

    fn folder_to_file(mut self, path: &'static str) -> Self {
        self.edits.push(Edit::FolderToFile(path));
        self
    }

    /// One more argument (for those with spaces).
    fn arg(mut self, a: &str) -> Self {
        self.args.push(a.to_owned());
        self
    }

    fn expect(mut self, found: &[&str]) -> Self {
        self.expect.extend(found.iter().map(|s| (*s).to_owned()));
        self
    }

    fn stdout(mut self, found: &[&'static str]) -> Self {
        self.stdout.extend(found);
        self
    }

    fn expect_owned(mut self, found: String) -> Self {
        self.expect.push(found);
        self
    }

    fn bytes_unchanged(mut self) -> Self {
        self.db = Db::BytesUnchanged;
        self
    }

    fn holds(mut self, checks: &[(&'static str, &'static str)]) -> Self {
        self.db = Db::Holds(checks.to_vec());
        self
    }
}

/// The base schema.yml with one text replaced.
fn schema_with(from: &str, to: &str) -> String {
    assert!(SCHEMA_YML.contains(from), "{from}");
    SCHEMA_YML.replacen(from, to, 1)
}

/// The base snapshot with one text replaced.
fn snapshot_with(from: &str, to: &str) -> String {
    let base = BASE[5].1;
    assert!(base.contains(from), "{from}");
    base.replacen(from, to, 1)
}

/// A 50 MB seed whose last row is broken; the message must name its line.
fn enormous_seed() -> (Vec<u8>, usize) {
    let mut text = String::from("id,customer,amount,updated_at\n");
    let mut lines = 1;
    let mut i = 0;
    while text.len() < 50_000_000 {
        text.push_str(&format!("{i},c{i},{},2024-01-01\n", i % 100));
        i += 1;
        lines += 1;
    }
    text.push_str("x,y\n");
    (text.into_bytes(), lines + 1)
}

/// A 50 MB model with a ref to a model that does not exist on its last line.
fn enormous_model() -> (Vec<u8>, usize) {
    let mut text = String::from("select 1 as id\n");
    let mut lines = 1;
    while text.len() < 50_000_000 {
        text.push_str("union all select 1 as id -- padding padding padding padding\n");
        lines += 1;
    }
    text.push_str("union all select * from {{ ref('nope') }}\n");
    (text.into_bytes(), lines + 1)
}

/// A YAML "billion laughs": ten aliases of ten aliases, nine levels deep.
fn alias_bomb() -> String {
    let mut text = format!("a: &a [{}]\n", ["x"; 10].join(", "));
    let mut prev = "a".to_owned();
    for i in 1..10 {
        text.push_str(&format!("b{i}: &b{i} [{}]\n", vec![format!("*{prev}"); 10].join(", ")));
        prev = format!("b{i}");
    }
    text
}

/// 100,000 `union all`s: deeper than a thread's stack can walk as a tree.
fn deep_union() -> Vec<u8> {
    let mut text = String::from("select 1 as id\n");
    for _ in 0..100_000 {
        text.push_str("union all select 1 as id\n");
    }
    text.into_bytes()
}

fn cases() -> Vec<Case> {
    let (seed_50mb, seed_lines) = enormous_seed();
    let (model_50mb, model_lines) = enormous_model();
    vec![
        // ---- YAML property files
        case("yaml", "tab_indentation", "build", 2)
            .write("models/schema.yml", "version: 2\nmodels:\n\t- name: stg_orders\n")
            .expect(&["models/schema.yml:3:1", "invalid YAML"]),
        case("yaml", "bad_indentation", "build", 2)
            .write("models/schema.yml", "version: 2\nmodels:\n  - name: stg_orders\n   columns:\n      - name: id\n")
            .expect(&["models/schema.yml:4:4", "invalid YAML"]),
        case("yaml", "duplicate_key", "build", 2)
            .write("models/schema.yml", "version: 2\nmodels:\n  - name: stg_orders\n    description: a\n    description: b\n")
            .expect(&["models/schema.yml:5:5", "duplicate entry with key \"description\""]),
        case("yaml", "unclosed_flow_list", "build", 2)
            .write("models/schema.yml", schema_with("[unique, not_null]", "[unique, not_null\n"))
            .expect(&["models/schema.yml:", "invalid YAML"]),
        case("yaml", "columns_not_a_list", "build", 2)
            .write("models/schema.yml", "version: 2\nmodels:\n  - name: stg_orders\n    columns: 5\n")
            .expect(&["models/schema.yml:4:5", "'columns' of model 'stg_orders' must be a list"]),
        case("yaml", "config_not_a_mapping", "build", 2)
            .write("seeds/props.yml", "version: 2\nseeds:\n  - name: orders\n    config: [a, b]\n")
            .expect(&["seeds/props.yml:4:5", "'config' of seed 'orders' must be a mapping"]),
        case("yaml", "description_a_list", "build", 2)
            .write("seeds/props.yml", "version: 2\nseeds:\n  - name: orders\n    description: [a, b]\n")
            .expect(&["seeds/props.yml:4:5", "'description' of seed 'orders'"]),
        case("yaml", "entry_not_a_mapping", "build", 2)
            .write("seeds/props.yml", "version: 2\nseeds:\n  - orders\n")
            .expect(&["seeds/props.yml:", "must be a mapping with a 'name:'"]),
        case("yaml", "entry_without_name", "build", 2)
            .write("seeds/props.yml", "version: 2\nseeds:\n  - description: the orders\n")
            .expect(&["seeds/props.yml:", "has no 'name'"]),
        case("yaml", "tests_not_a_list", "build", 2)
            .write("models/schema.yml", schema_with("[unique, not_null]", "unique"))
            .expect(&["models/schema.yml:6:", "'data_tests:' must be a list"]),
        case("yaml", "unknown_constraint_type", "build", 2)
            .write(
                "models/schema.yml",
                schema_with("        data_tests: [unique, not_null]", "        constraints:\n          - type: not_nul"),
            )
            .expect(&["models/schema.yml:7:", "unknown constraint type 'not_nul'", "not_null"]),
        case("yaml", "check_constraint_without_expression", "build", 2)
            .write(
                "models/schema.yml",
                schema_with("        data_tests: [unique, not_null]", "        constraints:\n          - type: check"),
            )
            .expect(&["models/schema.yml:7:", "a 'check' constraint needs an 'expression:'"]),
        case("yaml", "model_primary_key_without_columns", "build", 2)
            .write(
                "models/schema.yml",
                schema_with("  - name: stg_orders\n", "  - name: stg_orders\n    constraints:\n      - type: primary_key\n"),
            )
            .expect(&["models/schema.yml:5:", "a model-level 'primary_key' constraint needs 'columns:'"]),
        case("yaml", "foreign_key_to_unknown_model", "build", 2)
            .write(
                "models/schema.yml",
                schema_with(
                    "  - name: stg_orders\n",
                    "  - name: stg_orders\n    config:\n      contract: {enforced: true}\n    constraints:\n      - type: foreign_key\n        columns: [id]\n        to: ref('no_such_model')\n        to_columns: [id]\n",
                ),
            )
            .expect(&["models/schema.yml:3:", "foreign key to ref('no_such_model'), which names no model"]),
        case("yaml", "unparsable_contract_type", "build", 2)
            .write(
                "models/schema.yml",
                "version: 2\nmodels:\n  - name: customer_totals\n    config:\n      contract: {enforced: true}\n    columns:\n      - name: customer\n        data_type: varchar\n      - name: total\n        data_type: decimal((\n",
            )
            .expect(&["models/schema.yml:9:", "column 'total' has data_type 'decimal(('"]),
        case("yaml", "source_tables_not_a_list", "build", 2)
            .write("models/sources.yml", "version: 2\nsources:\n  - name: raw\n    tables: orders\n")
            .expect(&["models/sources.yml:4:5", "'tables' of source 'raw' must be a list"]),
        case("yaml", "document_not_a_mapping", "build", 2)
            .write("models/other.yml", "- a\n- b\n")
            .expect(&["models/other.yml:1:1", "must be a YAML mapping"]),
        case("yaml", "unknown_test", "build", 2)
            .write("models/schema.yml", schema_with("[unique, not_null]", "[unique, not_a_test]"))
            .expect(&["models/schema.yml:6:", "test_not_a_test"]),
        case("yaml", "relationships_to_missing_model", "build", 2)
            .write(
                "models/schema.yml",
                schema_with("- unique\n", "- relationships:\n              to: ref('nope')\n              field: id\n"),
            )
            .expect(&["models/schema.yml:11:", "refers to 'nope'"]),
        // dbt ignores unknown top-level keys; modelc warns, with the nearest known one.
        case("yaml", "unknown_top_level_key", "compile", 0)
            .write("models/other.yml", "modles:\n  - name: x\n")
            .expect(&["models/other.yml:1:1", "unknown key 'modles'", "did you mean 'models'?"]),
        // Windows editors write a byte order mark: it must pass.
        case("yaml", "byte_order_mark_passes", "build", 0)
            .write("models/schema.yml", format!("\u{feff}{SCHEMA_YML}"))
            .stdout(&["PASS=9 WARN=0 ERROR=0 SKIP=0 TOTAL=9"]),
        case("yaml", "empty_file_passes", "compile", 0).write("models/schema.yml", ""),
        case("yaml", "doc_block_missing", "build", 2)
            .write(
                "models/schema.yml",
                schema_with("  - name: stg_orders\n", "  - name: stg_orders\n    description: \"{{ doc('nope') }}\"\n"),
            )
            .expect(&["models/schema.yml:4:19", "doc('nope')"]),
        case("yaml", "docs_block_unclosed", "build", 2)
            .write("models/docs.md", "{% docs orders %}\nThe orders.\n")
            .expect(&["models/docs.md:1:1", "never closed"]),
        // KNOWN: serde_yaml reports no position for its repetition limit, so the
        // message names the file only.
        case("yaml", "alias_bomb", "build", 2)
            .write("models/bomb.yml", alias_bomb())
            .expect(&["models/bomb.yml", "repetition limit exceeded"]),
        case("yaml", "nested_twenty_thousand_deep", "build", 2)
            .write("models/deep.yml", format!("models: {}{}\n", "[".repeat(20_000), "]".repeat(20_000)))
            .expect(&["models/deep.yml:1:", "recursion limit exceeded"]),
        case("yaml", "not_utf8", "build", 2)
            .write("models/schema.yml", b"version: 2\nmodels:\n  - name: stg_orders\n    description: caf\xe9\n".to_vec())
            .expect(&["models/schema.yml:4:21", "not valid UTF-8"]),
        // ---- the project file
        case("project", "syntax_error", "build", 2)
            .write("project.yml", "name: shop\nmodels: [\n")
            .expect(&["project.yml:", "invalid YAML"]),
        case("project", "missing_name", "build", 2)
            .write("project.yml", "duckdb:\n  path: shop.duckdb\n")
            .expect(&["project.yml:1:1", "no 'name'"]),
        case("project", "empty", "build", 2)
            .write("project.yml", "")
            .expect(&["project.yml:1:1", "must be a YAML mapping"]),
        case("project", "paths_a_number", "build", 2)
            .write("project.yml", "name: shop\nduckdb:\n  path: shop.duckdb\nmodel-paths: 5\n")
            .expect(&["project.yml:4:1", "'model-paths' of the project file must be a text or a list of texts"]),
        case("project", "vars_a_list", "build", 2)
            .write("project.yml", "name: shop\nduckdb:\n  path: shop.duckdb\nvars: [1, 2]\n")
            .expect(&["project.yml:4:1", "'vars' of the project file must be a mapping"]),
        case("project", "models_a_scalar", "build", 2)
            .write("project.yml", "name: shop\nduckdb:\n  path: shop.duckdb\nmodels: table\n")
            .expect(&["project.yml:4:1", "'models' of the project file must be a mapping"]),
        case("project", "duckdb_threads_not_a_number", "build", 2)
            .write("project.yml", "name: shop\nduckdb:\n  path: shop.duckdb\n  threads: many\n")
            .expect(&["project.yml:4:3", "'threads' of 'duckdb:' must be a whole number"]),
        // Hooks run SQL: a failing one is a failure at run time (exit 1).
        case("project", "on_run_start_hook_fails", "run", 1)
            .write(
                "project.yml",
                "name: shop\nduckdb:\n  path: shop.duckdb\non-run-start:\n  - \"select * from no_such_table\"\n",
            )
            .expect(&["on-run-start hook failed at project.yml:5", "no_such_table"]),
        case("project", "on_run_end_hook_fails", "run", 1)
            .write(
                "project.yml",
                "name: shop\nduckdb:\n  path: shop.duckdb\non-run-end:\n  - \"select * from no_such_table\"\n",
            )
            .expect(&["on-run-end hook failed at project.yml:5", "PASS=2"]),
        case("project", "missing", "build", 2)
            .remove("project.yml")
            .expect(&["no project.yml or dbt_project.yml"]),
        // ---- Jinja
        case("jinja", "unclosed_if", "build", 2)
            .write("models/j.sql", "select 1 as x\n{% if true %}\nselect 2\n")
            .expect(&["models/j.sql:2:", "unexpected end of input"]),
        case("jinja", "unclosed_expression", "build", 2)
            .write("models/j.sql", "select 1 as x,\n  {{ ref('orders' \n")
            .expect(&["models/j.sql:2:", "syntax error"]),
        case("jinja", "unknown_macro", "build", 2)
            .write("models/j.sql", "select 1 as x,\n  {{ no_such_macro(1) }} as y\n")
            .expect(&["models/j.sql:2:", "no_such_macro is unknown"]),
        case("jinja", "unknown_filter", "build", 2)
            .write("models/j.sql", "select 1 as x,\n  {{ 'a' | no_such_filter }} as y\n")
            .expect(&["models/j.sql:2:", "filter no_such_filter is unknown"]),
        case("jinja", "endless_recursion", "build", 2)
            .write("macros/rec.sql", "{% macro loop_forever(n) %}{{ loop_forever(n + 1) }}{% endmacro %}\n")
            .write("models/j.sql", "select 1 as x,\n  {{ loop_forever(1) }} as y\n")
            .expect(&["macros/rec.sql:1:", "nested more than"]),
        case("jinja", "broken_macro_file", "build", 2)
            .write("macros/cents.sql", "{% macro cents(col) %}({{ col * 100){% endmacro %}\n")
            .expect(&["macros/cents.sql:1:", "syntax error"]),
        case("jinja", "ref_to_missing_model", "build", 2)
            .write("models/j.sql", "select * from {{ ref('nope') }}\n")
            .expect(&["models/j.sql:1:18", "refers to 'nope'"]),
        case("jinja", "ref_without_arguments", "build", 2)
            .write("models/j.sql", "select * from {{ ref() }}\n")
            .expect(&["models/j.sql:1:", "ref() takes a model name"]),
        case("jinja", "source_not_defined", "build", 2)
            .write("models/j.sql", "select * from {{ source('raw', 'nope') }}\n")
            .expect(&["models/j.sql:1:18", "source('raw', 'nope'), which is not defined"]),
        case("jinja", "var_not_set", "build", 2)
            .write("models/j.sql", "select {{ var('nope') }} as x\n")
            .expect(&["models/j.sql:1:", "required var 'nope' not found"]),
        case("jinja", "raise_compiler_error", "build", 2)
            .write("models/j.sql", "select 1 as x\n{{ exceptions.raise_compiler_error('boom') }}\n")
            .expect(&["models/j.sql:2:", "boom"]),
        // Once a crash: minijinja compiles a chain of operators recursively.
        case("jinja", "ten_thousand_concatenations", "build", 2)
            .write("models/j.sql", format!("select 1 as x\n{{{{ {} }}}}\n", vec!["'a'"; 10_000].join(" ~ ")))
            .expect(&["models/j.sql:2:", "too many to compile"]),
        case("jinja", "ten_thousand_filters_in_a_macro", "build", 2)
            .write("macros/long.sql", format!("{{% macro long(x) %}}\n{{{{ x{} }}}}\n{{% endmacro %}}\n", "|lower".repeat(10_000)))
            .expect(&["macros/long.sql:2:", "too many to compile"]),
        case("jinja", "five_thousand_nested_ifs", "build", 2)
            .write("models/j.sql", format!("select 1 as x\n{}x{}\n", "{% if true %}".repeat(5_000), "{% endif %}".repeat(5_000)))
            .expect(&["models/j.sql:2:", "recursion limits"]),
        case("jinja", "unclosed_snapshot_block", "build", 2)
            .write("snapshots/orders_snapshot.sql", snapshot_with("{% endsnapshot %}\n", ""))
            .expect(&["snapshots/orders_snapshot.sql:1:"]),
        // ---- SQL: DuckDB judges it at run time (as the warehouse does for dbt); the
        // node fails, its old relation stays, its descendants are skipped.
        case("sql", "syntax_error_in_table_model", "build", 1)
            .write(
                "models/customer_totals.sql",
                "{{ config(materialized='table') }}\nselect customer, sum(amount) as total\nfrom {{ ref('stg_orders') }}\ngroup by by customer\n",
            )
            .expect(&["Failure in model customer_totals (models/customer_totals.sql)", "models/customer_totals.sql:4:13"]),
        case("sql", "syntax_error_in_new_view", "run", 1)
            .write("models/bad_sql.sql", "select id,\n  amount +\nfrom {{ ref('orders') }}\n")
            .expect(&["Failure in model bad_sql (models/bad_sql.sql)", "models/bad_sql.sql:3:1"]),
        // Caught by the column check before anything runs...
        case("sql", "unknown_column", "run", 2)
            .write(
                "models/customer_totals.sql",
                "{{ config(materialized='table') }}\nselect customer, sum(amount) as total\nfrom {{ ref('stg_orders') }}\nwhere no_col > 1 group by customer\n",
            )
            .expect(&["models/customer_totals.sql:4:7", "reads column 'no_col'", "nothing was run"]),
        case("sql", "misspelled_column", "build", 2)
            .write("models/stg_orders.sql", "select id, custmer, amount from {{ ref('orders') }}\n")
            .expect(&["models/stg_orders.sql:1:12", "did you mean 'customer'?"]),
        case("sql", "text_compared_with_number", "build", 2)
            .write("models/stg_orders.sql", "select id, customer, amount from {{ ref('orders') }}\nwhere customer >= amount\n")
            .expect(&["models/stg_orders.sql:2:7", "cannot compare values of type VARCHAR and type INTEGER", "nothing was run"]),
        // ...and by DuckDB when the check is off.
        case("sql", "unknown_column_unchecked", "run --static-analysis off", 1)
            .write(
                "models/customer_totals.sql",
                "{{ config(materialized='table') }}\nselect customer, sum(amount) as total\nfrom {{ ref('stg_orders') }}\nwhere no_col > 1 group by customer\n",
            )
            .expect(&["models/customer_totals.sql:4:7", "no_col"]),
        case("sql", "two_statements", "run", 1)
            .write("models/two.sql", "select 1 as x;\nselect 2 as y\n")
            .expect(&["Failure in model two (models/two.sql)", "models/two.sql:1:"]),
        case("sql", "snapshot_updated_at_not_a_column", "snapshot", 1)
            .write("snapshots/orders_snapshot.sql", snapshot_with("updated_at='updated_at'", "updated_at='changed_at'"))
            .expect(&["no column 'changed_at'", "snapshots/orders_snapshot.sql:2:89"]),
        case("sql", "broken_singular_test", "test", 1)
            .write("tests/no_negative_totals.sql", "select * from {{ ref('customer_totals') }} where total <\n")
            .expect(&["tests/no_negative_totals.sql"]),
        // dbt leaves empty models out of every selection; modelc too, with a warning.
        case("sql", "empty_model", "build", 0)
            .write("models/empty.sql", "")
            .expect(&["models/empty.sql is empty"])
            .stdout(&["PASS=9 WARN=0 ERROR=0 SKIP=0 TOTAL=9"]),
        case("sql", "whitespace_only_model", "build", 0)
            .write("models/empty.sql", "\n  \n\t\n")
            .expect(&["models/empty.sql is empty"]),
        case("sql", "empty_singular_test", "test", 0)
            .write("tests/no_negative_totals.sql", "")
            .expect(&["tests/no_negative_totals.sql is empty"]),
        // Deeper than a stack can walk: once a crash (stack overflow, exit 134).
        case("sql", "hundred_thousand_unions", "compile", 0)
            .write("models/deep.sql", deep_union())
            .expect(&["models/deep.sql:1002:1", "too many to analyze"]),
        // ---- CSV seeds
        case("csv", "ragged_row", "seed", 1)
            .write("seeds/orders.csv", "id,customer,amount,updated_at\n1,alice,10,2024-01-01\n2,bob,20\n")
            .expect(&["seeds/orders.csv:3:", "Expected Number of Columns: 4 Found: 3"]),
        case("csv", "empty_file", "build", 2)
            .write("seeds/orders.csv", "")
            .expect(&["seeds/orders.csv:1:1", "has no header"]),
        // A header alone is an empty table, as in dbt.
        case("csv", "header_only", "seed", 0)
            .write("seeds/orders.csv", "id,customer,amount,updated_at\n")
            .holds(&[("select count(*) from main.orders", "0")]),
        case("csv", "not_utf8_row", "seed", 1)
            .write("seeds/orders.csv", b"id,customer,amount,updated_at\n1,caf\xe9,10,2024-01-01\n".to_vec())
            .expect(&["seeds/orders.csv:2:6: not valid UTF-8 (byte 0xE9)"]),
        case("csv", "not_utf8_header", "build", 2)
            .write("seeds/orders.csv", b"id,kund\xe9,amount\n1,a,2\n".to_vec())
            .expect(&["seeds/orders.csv:1:8", "not valid UTF-8"]),
        case("csv", "utf16", "build", 2)
            .write("seeds/orders.csv", b"\xff\xfei\x00d\x00\n\x001\x00\n\x00".to_vec())
            .expect(&["seeds/orders.csv:1:1", "UTF-16"]),
        case("csv", "unterminated_quote", "seed", 1)
            .write("seeds/orders.csv", "id,customer,amount,updated_at\n1,\"alice,10,2024-01-01\n2,bob,20,2024-01-02\n")
            .expect(&["seeds/orders.csv:2:", "unterminated quote"]),
        // KNOWN: the type is DuckDB's to judge when the seed loads, so this fails at
        // run time (as in dbt) naming the seed and the type, not the YAML line that
        // sets it: the runner does not know where configs were written.
        case("csv", "unknown_column_type", "seed", 1)
            .write("seeds/props.yml", "version: 2\nseeds:\n  - name: orders\n    config:\n      column_types:\n        amount: not_a_type\n")
            .expect(&["seeds/orders.csv", "not_a_type"]),
        case("csv", "column_types_not_a_mapping", "seed", 2)
            .write("seeds/props.yml", "version: 2\nseeds:\n  - name: orders\n    config:\n      column_types: [amount]\n")
            .expect(&["seeds/props.yml:5:7", "column_types must be a mapping"]),
        case("csv", "value_not_of_column_type", "seed", 1)
            .write("seeds/props.yml", "version: 2\nseeds:\n  - name: orders\n    config:\n      column_types:\n        customer: integer\n")
            .expect(&["seeds/orders.csv:2:", "Could not convert string \"alice\""]),
        case("csv", "byte_order_mark_passes", "seed", 0).write(
            "seeds/orders.csv",
            "\u{feff}id,customer,amount,updated_at\r\n1,alice,10,2024-01-01\r\n2,bob,20,2024-01-02\r\n3,carol,30,2024-01-03\r\n",
        )
        .stdout(&["INSERT 3"]),
        case("csv", "enormous_with_a_bad_last_row", "seed", 1)
            .write("seeds/orders.csv", seed_50mb)
            .expect_owned(format!("seeds/orders.csv:{seed_lines}:")),
        // ---- config values
        case("config", "unknown_materialized", "build", 2)
            .write(
                "models/customer_totals.sql",
                "{{ config(materialized='tabel') }}\nselect customer, sum(amount) as total\nfrom {{ ref('stg_orders') }}\ngroup by customer\n",
            )
            .expect(&["models/customer_totals.sql:1:11", "materialized 'tabel' is not one of", "did you mean 'table'?"]),
        case("config", "unknown_materialized_in_project_file", "build", 2)
            .write("project.yml", "name: shop\nduckdb:\n  path: shop.duckdb\nmodels:\n  shop:\n    +materialized: tabel\n")
            .expect(&["project.yml:6:5", "materialized 'tabel'"]),
        case("config", "bad_incremental_strategy", "build", 2)
            .write("models/inc.sql", "{{ config(materialized='incremental', incremental_strategy='upsert') }}\nselect 1 as id\n")
            .expect(&["models/inc.sql:1:39", "incremental_strategy 'upsert'"]),
        case("config", "bad_on_schema_change", "build", 2)
            .write("models/inc.sql", "{{ config(materialized='incremental', on_schema_change='explode') }}\nselect 1 as id\n")
            .expect(&["models/inc.sql:1:39", "on_schema_change 'explode'"]),
        case("config", "bad_snapshot_strategy", "build", 2)
            .write("snapshots/orders_snapshot.sql", snapshot_with("strategy='timestamp'", "strategy='timestmp'"))
            .expect(&["snapshots/orders_snapshot.sql:2:55", "strategy 'timestmp'"]),
        case("config", "snapshot_without_unique_key", "build", 2)
            .write("snapshots/orders_snapshot.sql", snapshot_with("unique_key='id', ", ""))
            .expect(&["snapshots/orders_snapshot.sql:2:", "has no unique_key"]),
        case("config", "bad_hard_deletes", "build", 2)
            .write("snapshots/orders_snapshot.sql", snapshot_with("strategy=", "hard_deletes='purge', strategy="))
            .expect(&["snapshots/orders_snapshot.sql:2:", "hard_deletes 'purge'"]),
        case("config", "bad_severity", "build", 2)
            .write("models/schema.yml", schema_with("- unique\n", "- unique:\n              config:\n                severity: fatal\n"))
            .expect(&["models/schema.yml:13:17", "severity 'fatal'"]),
        case("config", "enabled_not_a_boolean", "build", 2)
            .write("seeds/props.yml", "version: 2\nseeds:\n  - name: orders\n    config:\n      enabled: maybe\n")
            .expect(&["seeds/props.yml:5:7", "enabled must be true or false, not 'maybe'"]),
        // A failing pre-hook stops its node before the node changes anything.
        case("config", "pre_hook_fails", "run -s customer_totals", 1)
            .write(
                "models/customer_totals.sql",
                "{{ config(materialized='table', pre_hook='select * from no_such_table') }}\nselect customer, sum(amount) as total\nfrom {{ ref('stg_orders') }}\ngroup by customer\n",
            )
            .expect(&["models/customer_totals.sql", "pre_hook failed", "no_such_table"]),
        case("config", "pre_hook_bad_jinja", "run -s customer_totals", 2)
            .write(
                "models/customer_totals.sql",
                "{{ config(materialized='table', pre_hook='analyze {{ this ') }}\nselect customer, sum(amount) as total\nfrom {{ ref('stg_orders') }}\ngroup by customer\n",
            )
            .expect(&["models/customer_totals.sql:1:33", "in the pre_hook of model 'customer_totals'"]),
        // A hook set in the project file is an error there.
        case("config", "seed_post_hook_unsupported", "build", 2)
            .write(
                "project.yml",
                "name: shop\nduckdb:\n  path: shop.duckdb\nseeds:\n  shop:\n    orders:\n      +post-hook: \"{% do adapter.rename_relation(this, this) %}\"\n",
            )
            .expect(&["project.yml:7:", "in the post_hook of seed 'orders'", "adapter.rename_relation", "nothing was run"]),
        case("config", "meta_not_a_mapping", "build", 2)
            .write("models/j.sql", "{{ config(meta='owner') }}\nselect 1 as x\n")
            .expect(&["models/j.sql:1:11", "meta must be a mapping"]),
        // ---- profiles
        case("profile", "missing_target", "compile -t prod", 2)
            .write("profiles.yml", PROFILES)
            .expect(&["profiles.yml:1:1", "no output named 'prod'"]),
        case("profile", "default_target_missing", "compile", 2)
            .write("profiles.yml", PROFILES.replace("target: dev", "target: prod"))
            .expect(&["profiles.yml:2:3", "no output named 'prod'"]),
        case("profile", "unknown_engine", "compile", 2)
            .write("profiles.yml", PROFILES.replace("type: duckdb", "type: snowflake"))
            .expect(&["profiles.yml:5:7", "has type 'snowflake', an engine modelc does not have", "duckdb, postgres, spark"]),
        case("profile", "postgres_without_host", "compile", 2)
            .write("profiles.yml", PROFILES.replace("type: duckdb", "type: postgres"))
            .expect(&["profiles.yml:5:7", "a 'postgres' target needs host, user, dbname, schema"]),
        case("profile", "postgres_port_not_a_number", "compile", 2)
            .write(
                "profiles.yml",
                PROFILES.replace(
                    "type: duckdb",
                    "type: postgres\n      host: h\n      user: u\n      dbname: d\n      schema: s\n      port: fifty",
                ),
            )
            .expect(&["profiles.yml:10:7", "'port' must be a whole number"]),
        case("profile", "syntax_error", "compile", 2)
            .write("profiles.yml", PROFILES.replace("    dev:", "\tdev:"))
            .expect(&["profiles.yml:4:", "invalid YAML"]),
        case("profile", "env_var_not_set", "compile", 2)
            .write(
                "profiles.yml",
                PROFILES.replace("path: shop.duckdb", "path: \"{{ env_var('MODELC_BAD_INPUT_UNSET') }}\""),
            )
            .expect(&["profiles.yml:6:", "MODELC_BAD_INPUT_UNSET"]),
        case("profile", "settings_not_a_mapping", "compile", 2)
            .write("profiles.yml", format!("{PROFILES}      settings: [threads]\n"))
            .expect(&["profiles.yml:7:7", "'settings' of target 'dev' must be a mapping"]),
        case("profile", "profiles_dir_without_profiles_file", "compile --profiles-dir {dir}/nowhere", 2)
            .expect(&["no profiles.yml in", "nowhere"]),
        case("profile", "profiles_dir_without_the_profile", "compile --profiles-dir {dir}/elsewhere", 2)
            .write("elsewhere/profiles.yml", PROFILES.replace("shop:", "other:"))
            .expect(&["elsewhere/profiles.yml:1:1", "has no profile named 'shop'"]),
        // ---- selectors and other arguments. dbt warns about a selector that matches
        // nothing and does nothing (exit 0).
        case("selector", "unknown_node", "run -s no_such_model", 0)
            .expect(&["'no_such_model' does not match any enabled nodes"])
            .stdout(&["TOTAL=0"]),
        case("selector", "unknown_node_excluded", "ls --exclude no_such_model", 0)
            .expect(&["'no_such_model' does not match any enabled nodes"]),
        case("selector", "unknown_method", "run -s tagg:x", 2).expect(&["'tagg' is not a valid method name"]),
        case("selector", "at_and_plus", "run -s @+stg_orders", 2).expect(&["not compatible"]),
        case("selector", "empty_value", "run -s tag:", 2).expect(&["the selector value is empty"]),
        case("selector", "empty_between_commas", "run -s stg_orders,,orders", 2)
            .expect(&["empty criterion between commas"]),
        case("selector", "bad_resource_type", "ls --resource-type frob", 2).expect(&["frob"]),
        case("arguments", "vars_not_yaml", "run", 2)
            .arg("--vars")
            .arg("{a: [1")
            .expect(&["--vars is not valid YAML"]),
        case("arguments", "vars_not_a_mapping", "run --vars 5", 2).expect(&["--vars must be a YAML mapping"]),
        case("arguments", "threads_not_a_number", "run --threads many", 2).expect(&["many"]),
        case("arguments", "unknown_flag", "build --frobnicate", 2).expect(&["--frobnicate"]),
        // ---- the graph
        case("graph", "cycle", "build", 2)
            .write("models/stg_orders.sql", "select * from {{ ref('customer_totals') }}\n")
            .expect(&["models/customer_totals.sql:3:9", "dependency cycle", "stg_orders.sql"]),
        case("graph", "model_refs_itself", "build", 2)
            .write("models/j.sql", "select * from {{ ref('j') }}\n")
            .expect(&["models/j.sql:1:"]),
        case("graph", "two_models_one_name", "build", 2)
            .write("models/sub/stg_orders.sql", "select 1 as id\n")
            .expect(&["models/sub/stg_orders.sql:1:1", "two models are named 'stg_orders'", "models/stg_orders.sql"]),
        // A model named like a seed replaced the seed's table with a view.
        case("graph", "model_named_like_a_seed", "build", 2)
            .write("models/orders.sql", "select 1 as id\n")
            .expect(&["model 'orders' and seed 'orders'", "models/orders.sql", "seeds/orders.csv:1:1"]),
        case("graph", "two_models_one_relation", "build", 2)
            .write("models/copy.sql", "{{ config(alias='stg_orders') }}\nselect 1 as id\n")
            .expect(&["models/stg_orders.sql:1:1", "both build \"shop\".\"main\".\"stg_orders\""]),
        // ---- the file system
        case("files", "symlink_loop", "build", 2)
            .symlink("models/loop", "../models")
            .expect(&["models/loop", "a loop"]),
        case("files", "dangling_symlink", "build", 2)
            .symlink("models/dangling.sql", "/nonexistent/modelc/x.sql")
            .expect(&["models/dangling.sql", "No such file"]),
        case("files", "symlink_to_itself", "build", 2)
            .symlink("models/self.sql", "self.sql")
            .expect(&["models/self.sql", "symbolic links"]),
        // A linked folder is read, as dbt reads it.
        case("files", "symlinked_folder_is_read", "ls -s linked_model", 0)
            .write("outside/linked_model.sql", "select 1 as id\n")
            .symlink("models/linked", "../outside")
            .stdout(&["models/linked/linked_model.sql"]),
        case("files", "unreadable_file", "build", 2)
            .write("models/locked.sql", "select 1 as id\n")
            .unreadable("models/locked.sql")
            .expect(&["models/locked.sql", "Permission denied"]),
        case("files", "unreadable_folder", "build", 2)
            .write("models/locked/x.sql", "select 1 as id\n")
            .unreadable("models/locked")
            .expect(&["models/locked", "Permission denied"]),
        case("files", "file_name_not_utf8", "build", 2)
            .raw_name(b"models/caf\xe9.sql", "select 1 as id\n")
            .expect(&["models/caf\\xE9.sql", "not valid UTF-8"]),
        case("files", "sql_not_utf8", "build", 2)
            .write("models/latin.sql", b"select 1 as id, 'caf\xe9' as name\n".to_vec())
            .expect(&["models/latin.sql:1:21", "byte 0xE9"]),
        case("files", "sql_with_a_nul_byte", "build", 2)
            .write("models/nul.sql", "select 1 as a\0, 2 as b\n")
            .expect(&["models/nul.sql:1:14", "NUL byte"]),
        case("files", "sql_in_utf16", "build", 2)
            .write("models/wide.sql", b"\xff\xfes\x00e\x00l\x00".to_vec())
            .expect(&["models/wide.sql:1:1", "UTF-16"]),
        case("files", "models_folder_is_a_file", "build", 2)
            .folder_to_file("models")
            .expect(&["cannot read folder models"]),
        case("files", "database_not_duckdb", "build", 2)
            .write("shop.duckdb", vec![0x5a; 100_000])
            .expect(&["shop.duckdb", "not a valid DuckDB database file"])
            .bytes_unchanged(),
        case("files", "database_path_is_a_folder", "build --db models", 2).expect(&["models", "Is a directory"]),
        case("files", "target_path_is_a_file", "build", 2)
            .write("project.yml", "name: shop\nduckdb:\n  path: shop.duckdb\ntarget-path: project.yml\n")
            .expect(&["cannot write artifacts", "project.yml: Not a directory"]),
        case("files", "enormous_model", "build", 2)
            .write("models/big.sql", model_50mb)
            .expect_owned(format!("models/big.sql:{model_lines}:28")),
    ]
}

/// Copies a folder tree (files and folders; the base project has no links).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(e.file_name());
        if e.file_type().expect("file type").is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

/// Applies the edits; `Err` with a reason when the case cannot be run here.
fn apply(dir: &Path, edits: &[Edit]) -> Result<(), String> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    let write = |p: &Path, bytes: &[u8]| {
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, bytes).expect("write");
    };
    for e in edits {
        match e {
            Edit::Write(path, bytes) => write(&dir.join(path), bytes),
            Edit::Remove(path) => std::fs::remove_file(dir.join(path)).expect("remove"),
            Edit::Symlink(link, target) => {
                let link = dir.join(link);
                std::fs::create_dir_all(link.parent().expect("parent")).expect("mkdir");
                std::os::unix::fs::symlink(target, link).expect("symlink");
            }
            Edit::Unreadable(path) => {
                let p = dir.join(path);
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).expect("chmod");
                let readable = if p.is_dir() {
                    std::fs::read_dir(&p).is_ok()
                } else {
                    std::fs::read(&p).is_ok()
                };
                if readable {
                    return Err(format!(
                        "{path} is still readable with mode 000 (running as root?): skipped"
                    ));
                }
            }
            Edit::RawName(name, bytes) => write(&dir.join(std::ffi::OsStr::from_bytes(name)), bytes),
            Edit::FolderToFile(path) => {
                std::fs::remove_dir_all(dir.join(path)).expect("rm -r");
                write(&dir.join(path), b"");
            }
        }
    }
    Ok(())
}

/// Gives back the permissions taken, so the folder can be removed.
fn restore(dir: &Path, edits: &[Edit]) {
    use std::os::unix::fs::PermissionsExt;
    for e in edits {
        if let Edit::Unreadable(path) = e {
            let _ = std::fs::set_permissions(dir.join(path), std::fs::Permissions::from_mode(0o755));
        }
    }
}

/// Runs one case on a copy of the built base project; the problems found.
fn run_case(base: &Path, before: &str, c: &Case) -> Result<Vec<String>, String> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("project");
    copy_tree(base, &dir);
    if let Err(skip) = apply(&dir, &c.edits) {
        restore(&dir, &c.edits);
        return Err(skip);
    }
    let dir_text = dir.to_string_lossy().into_owned();
    let args: Vec<String> = c.args.iter().map(|a| a.replace("{dir}", &dir_text)).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let bytes = std::fs::read(dir.join("shop.duckdb")).unwrap_or_default();
    let out = run_modelc(&dir, &args);
    restore(&dir, &c.edits);
    Ok(check(c, &dir, before, &bytes, &out))
}

fn check(c: &Case, dir: &Path, before: &str, bytes: &[u8], out: &Output) -> Vec<String> {
    let mut problems = Vec::new();
    let both = format!("{}\n{}", out.stdout, out.stderr);
    for bad in [
        "panicked",
        "RUST_BACKTRACE",
        "overflowed its stack",
        "fatal runtime error",
    ] {
        if both.contains(bad) {
            problems.push(format!("the output has '{bad}'"));
        }
    }
    if out.code != c.code {
        problems.push(format!("exit code {} instead of {}", out.code, c.code));
    }
    let searched = if c.code == 1 { &both } else { &out.stderr };
    for e in &c.expect {
        if !searched.contains(e.as_str()) {
            problems.push(format!("the message lacks {e:?}"));
        }
    }
    for e in &c.stdout {
        if !out.stdout.contains(e) {
            problems.push(format!("stdout lacks {e:?}"));
        }
    }
    let db = dir.join("shop.duckdb");
    match &c.db {
        Db::Unchanged => {
            let after = fingerprint(&db);
            if after != before {
                problems.push(format!(
                    "the database changed:\n--- before\n{before}\n--- after\n{after}"
                ));
            }
        }
        Db::BytesUnchanged => {
            if std::fs::read(&db).unwrap_or_default() != bytes {
                problems.push("the database file changed".to_owned());
            }
        }
        Db::Holds(checks) => {
            for (sql, want) in checks {
                let got = crate::support::table(&crate::support::query(&db, sql));
                if got != *want {
                    problems.push(format!("{sql} gives {got:?}, not {want:?}"));
                }
            }
        }
    }
    if !problems.is_empty() {
        let cut = |s: &str| s.chars().take(3000).collect::<String>();
        problems.push(format!(
            "--- stdout\n{}\n--- stderr\n{}",
            cut(&out.stdout),
            cut(&out.stderr)
        ));
    }
    problems
}

#[test]
fn bad_inputs_fail_cleanly_and_leave_the_database_as_it_was() {
    let base = Fixture::new(BASE);
    let out = base.modelc(&["build"]);
    assert_eq!(out.code, 0, "the base project builds\n{}\n{}", out.stdout, out.stderr);
    let before = fingerprint(&base.db_path());
    for relation in [
        "main.orders (BASE TABLE; id INTEGER, customer VARCHAR, amount INTEGER, updated_at DATE): 3 rows",
        "main.customer_totals (BASE TABLE; customer VARCHAR, total HUGEINT): 3 rows",
        "main.stg_orders (VIEW; ",
        "snapshots.orders_snapshot (BASE TABLE; ",
    ] {
        assert!(before.contains(relation), "{relation} not in\n{before}");
    }

    let cases = cases();
    let next = AtomicUsize::new(0);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let skipped: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let base_dir: PathBuf = base.path().to_path_buf();
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(c) = cases.get(i) else { break };
                match run_case(&base_dir, &before, c) {
                    Ok(problems) if problems.is_empty() => {}
                    Ok(problems) => failures.lock().expect("lock").push(format!(
                        "{}/{}:\n  {}",
                        c.kind,
                        c.name,
                        problems.join("\n  ")
                    )),
                    Err(skip) => skipped
                        .lock()
                        .expect("lock")
                        .push(format!("{}/{}: {skip}", c.kind, c.name)),
                }
            });
        }
    });

    let mut kinds: Vec<(&str, usize)> = Vec::new();
    for c in &cases {
        match kinds.iter_mut().find(|(k, _)| *k == c.kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((c.kind, 1)),
        }
    }
    let skipped = skipped.into_inner().expect("lock");
    let failures = failures.into_inner().expect("lock");
    let by_kind: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!(
        "{} bad-input cases ({}); {} skipped, {} failed",
        cases.len(),
        by_kind.join(", "),
        skipped.len(),
        failures.len()
    );
    for s in &skipped {
        println!("note: {s}");
    }
    assert!(cases.len() >= 60, "{} cases", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
