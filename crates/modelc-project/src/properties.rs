//! YAML property files: `models:`, `seeds:`, `snapshots:`, `sources:`, `macros:`.
//!
//! Each entry becomes a typed patch carrying its line, so later stages can point
//! at it. Unknown keys are warnings naming file, line and the nearest known key.

use modelc_core::{
    did_you_mean, normalize_key, ColumnInfo, Constraint, ConstraintKind, Diagnostic, JsonMap, KNOWN_CONFIG_KEYS,
};
use rayon::prelude::*;
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

use crate::yaml::{self, Lines, Shape};

/// A generic test attached to a model, column, seed, snapshot or source in YAML.
#[derive(Debug, Clone, PartialEq)]
pub struct TestEntry {
    /// 1-based line of the entry.
    pub line: usize,
    /// The generic test's name, possibly namespaced (`dbt_utils.expression_is_true`).
    pub test_name: String,
    /// Its arguments (`values`, `to`, `field`, ...).
    pub args: JsonMap,
    /// Its config (`severity`, `where`, `store_failures`, ...).
    pub config: JsonMap,
    /// The 1-based line and column of each config key, for errors about its value.
    pub config_lines: Vec<(String, usize, usize)>,
    /// A user-given name for the test node.
    pub custom_name: Option<String>,
}

/// A column entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnPatch {
    /// Name, description, type, meta, tags.
    pub info: ColumnInfo,
    /// 1-based line.
    pub line: usize,
    /// Column tests.
    pub tests: Vec<TestEntry>,
}

/// A `models:`, `seeds:` or `snapshots:` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct NodePatch {
    /// The node's name.
    pub name: String,
    /// 1-based line of the entry.
    pub line: usize,
    /// Description.
    pub description: String,
    /// `config:` plus legacy top-level `meta`/`tags`/`docs`.
    pub config: JsonMap,
    /// The 1-based line and column of each config key, for errors about its value.
    pub config_lines: Vec<(String, usize, usize)>,
    /// Columns.
    pub columns: Vec<ColumnPatch>,
    /// Model-level tests.
    pub tests: Vec<TestEntry>,
    /// Model-level `constraints:`.
    pub constraints: Vec<Constraint>,
    /// YAML snapshots: the `relation:` expression (`ref('x')` or `source('a','b')`).
    pub relation: Option<String>,
    /// `latest_version:`, as written.
    pub latest_version: Option<String>,
    /// `versions:` of a versioned model.
    pub versions: Vec<VersionPatch>,
}

/// One entry of a model's `versions:`.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionPatch {
    /// `v:`, as written (`1`, `2`, `"3.1"`).
    pub v: String,
    /// 1-based line of the entry.
    pub line: usize,
    /// `defined_in:`: the file stem of its SQL (default `<model>_v<v>`).
    pub defined_in: Option<String>,
    /// `config:` of this version, over the model's.
    pub config: JsonMap,
    /// Its own columns, over the model's.
    pub columns: Vec<ColumnPatch>,
    /// The model's columns it leaves out (`- include: all` / `exclude: [...]`).
    pub exclude: Vec<String>,
    /// Its own tests.
    pub tests: Vec<TestEntry>,
}

/// One table of a source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceTablePatch {
    /// Table name.
    pub name: String,
    /// 1-based line.
    pub line: usize,
    /// `identifier:` (the real table name), if different.
    pub identifier: Option<String>,
    /// Description.
    pub description: String,
    /// Columns.
    pub columns: Vec<ColumnPatch>,
    /// Table-level tests.
    pub tests: Vec<TestEntry>,
    /// Table config, including `meta`, `tags`, `external_location`.
    pub config: JsonMap,
}

/// A `sources:` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcePatch {
    /// Source name.
    pub name: String,
    /// 1-based line.
    pub line: usize,
    /// `schema:` (default: the source's name).
    pub schema: Option<String>,
    /// `database:`.
    pub database: Option<String>,
    /// Description.
    pub description: String,
    /// `loader:`.
    pub loader: String,
    /// Source-level config including `meta`, `tags`, `external_location`.
    pub config: JsonMap,
    /// Tables.
    pub tables: Vec<SourceTablePatch>,
}

/// A parsed property file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PropertyFile {
    /// Path relative to the project root.
    pub path: String,
    /// `models:`.
    pub models: Vec<NodePatch>,
    /// `seeds:`.
    pub seeds: Vec<NodePatch>,
    /// `snapshots:`.
    pub snapshots: Vec<NodePatch>,
    /// `analyses:`.
    pub analyses: Vec<NodePatch>,
    /// `sources:`.
    pub sources: Vec<SourcePatch>,
    /// `exposures:`.
    pub exposures: Vec<ExposurePatch>,
    /// `unit_tests:`.
    pub unit_tests: Vec<UnitTestPatch>,
}

/// A `unit_tests:` entry (dbt 1.8+): a model's SQL run on fixed input rows, its
/// output compared with the rows expected.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitTestPatch {
    /// Name.
    pub name: String,
    /// 1-based line of the entry.
    pub line: usize,
    /// `model:`, the model tested.
    pub model: String,
    /// `given:`: the rows each input (`ref('x')`, `source('s', 't')`, `this`) holds.
    pub given: Vec<Rows>,
    /// `expect:`: the rows the model must return.
    pub expect: Rows,
    /// `overrides:` (`macros`, `vars`, `env_vars`).
    pub overrides: JsonMap,
    /// `config:` with `meta` and `tags`.
    pub config: JsonMap,
    /// `description:`.
    pub description: String,
}

/// Fixed rows: a unit test's input or expected output.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    /// For an input: what it stands for, as written (`ref('orders')`); empty for
    /// `expect`.
    pub input: String,
    /// 1-based line of the entry.
    pub line: usize,
    /// The rows, as written.
    pub data: RowData,
}

/// How fixed rows are written (`format:`).
#[derive(Debug, Clone, PartialEq)]
pub enum RowData {
    /// `format: dict` (the default): a list of mappings, column to value.
    Dict(Vec<JsonMap>),
    /// `format: csv`: a header line and rows.
    Csv(String),
    /// `format: sql`: a query that returns the rows.
    Sql(String),
    /// `fixture:` names a file under `<test-path>/fixtures/` (`.csv` or `.sql`, by
    /// `format`).
    Fixture {
        /// `csv` or `sql`.
        format: String,
        /// The file's name, without extension.
        name: String,
    },
}

const UNIT_TEST_KEYS: &[&str] = &[
    "name",
    "model",
    "given",
    "expect",
    "overrides",
    "description",
    "config",
    "versions",
];

const UNIT_TEST_SHAPES: &[(&str, Shape)] = &[
    ("name", Shape::Scalar),
    ("model", Shape::Scalar),
    ("given", Shape::List),
    ("expect", Shape::Mapping),
    ("overrides", Shape::Mapping),
    ("description", Shape::Scalar),
    ("config", Shape::Mapping),
];

const ROWS_KEYS: &[&str] = &["input", "rows", "format", "fixture"];

/// An `exposures:` entry: a dashboard, notebook, application... that uses models.
#[derive(Debug, Clone, PartialEq)]
pub struct ExposurePatch {
    /// Name.
    pub name: String,
    /// 1-based line of the entry.
    pub line: usize,
    /// `type:` (`dashboard`, `notebook`, `analysis`, `ml`, `application`).
    pub kind: String,
    /// `depends_on:` as written (`ref('orders')`, `source('raw', 'x')`), with the
    /// line of each.
    pub depends_on: Vec<(String, usize)>,
    /// The entry as JSON (owner, url, maturity, label, description, meta, tags...).
    pub properties: JsonMap,
    /// `config:` with the legacy top-level `meta` and `tags`.
    pub config: JsonMap,
}

const EXPOSURE_KEYS: &[&str] = &[
    "name",
    "type",
    "owner",
    "depends_on",
    "description",
    "url",
    "maturity",
    "label",
    "meta",
    "tags",
    "config",
];

const EXPOSURE_SHAPES: &[(&str, Shape)] = &[
    ("name", Shape::Scalar),
    ("type", Shape::Scalar),
    ("owner", Shape::Mapping),
    ("depends_on", Shape::List),
    ("description", Shape::Scalar),
    ("url", Shape::Scalar),
    ("maturity", Shape::Scalar),
    ("label", Shape::Scalar),
    ("meta", Shape::Mapping),
    ("tags", Shape::ScalarOrList),
    ("config", Shape::Mapping),
];

/// The types dbt allows an exposure.
const EXPOSURE_TYPES: &[&str] = &["dashboard", "notebook", "analysis", "ml", "application"];

const FILE_KEYS: &[&str] = &[
    "version",
    "models",
    "seeds",
    "snapshots",
    "sources",
    "macros",
    "analyses",
    "exposures",
    "metrics",
    "semantic_models",
    "saved_queries",
    "groups",
    "unit_tests",
    "data_tests",
];
const NODE_KEYS: &[&str] = &[
    "name",
    "description",
    "config",
    "columns",
    "tests",
    "data_tests",
    "docs",
    "meta",
    "tags",
    "relation",
    "latest_version",
    "versions",
    "access",
    "constraints",
    "group",
    "deprecation_date",
    "time_spine",
    "quote_columns",
    "column_types",
];
const COLUMN_KEYS: &[&str] = &[
    "name",
    "description",
    "data_type",
    "meta",
    "tags",
    "tests",
    "data_tests",
    "quote",
    "constraints",
    "policy_tags",
    "config",
    "granularity",
    "docs",
];
const SOURCE_KEYS: &[&str] = &[
    "name",
    "description",
    "database",
    "schema",
    "loader",
    "loaded_at_field",
    "loaded_at_query",
    "meta",
    "tags",
    "config",
    "overrides",
    "freshness",
    "quoting",
    "tables",
];
const TABLE_KEYS: &[&str] = &[
    "name",
    "description",
    "identifier",
    "meta",
    "tags",
    "config",
    "columns",
    "tests",
    "data_tests",
    "loaded_at_field",
    "loaded_at_query",
    "freshness",
    "quoting",
    "external",
    "loader",
    "docs",
];
/// What the keys of a model, seed, snapshot or analysis entry hold.
const NODE_SHAPES: &[(&str, Shape)] = &[
    ("name", Shape::Scalar),
    ("description", Shape::Scalar),
    ("config", Shape::Mapping),
    ("columns", Shape::List),
    ("docs", Shape::Mapping),
    ("meta", Shape::Mapping),
    ("tags", Shape::ScalarOrList),
    ("relation", Shape::Scalar),
    ("latest_version", Shape::Scalar),
    ("versions", Shape::List),
    ("access", Shape::Scalar),
    ("constraints", Shape::List),
    ("group", Shape::Scalar),
    ("column_types", Shape::Mapping),
];
/// What the keys of a column entry hold.
const COLUMN_SHAPES: &[(&str, Shape)] = &[
    ("name", Shape::Scalar),
    ("description", Shape::Scalar),
    ("data_type", Shape::Scalar),
    ("meta", Shape::Mapping),
    ("tags", Shape::ScalarOrList),
    ("quote", Shape::Bool),
    ("constraints", Shape::List),
    ("config", Shape::Mapping),
    ("docs", Shape::Mapping),
];
/// What the keys of a source entry hold.
const SOURCE_SHAPES: &[(&str, Shape)] = &[
    ("name", Shape::Scalar),
    ("description", Shape::Scalar),
    ("database", Shape::Scalar),
    ("schema", Shape::Scalar),
    ("loader", Shape::Scalar),
    ("meta", Shape::Mapping),
    ("tags", Shape::ScalarOrList),
    ("config", Shape::Mapping),
    ("freshness", Shape::Mapping),
    ("quoting", Shape::Mapping),
    ("tables", Shape::List),
];
/// What the keys of a source table entry hold.
const TABLE_SHAPES: &[(&str, Shape)] = &[
    ("name", Shape::Scalar),
    ("description", Shape::Scalar),
    ("identifier", Shape::Scalar),
    ("meta", Shape::Mapping),
    ("tags", Shape::ScalarOrList),
    ("config", Shape::Mapping),
    ("columns", Shape::List),
    ("freshness", Shape::Mapping),
    ("quoting", Shape::Mapping),
    ("external", Shape::Mapping),
];

/// Keys of a generic test entry that are config, not arguments (dbt's legacy form).
const TEST_CONFIG_KEYS: &[&str] = &[
    "severity",
    "where",
    "limit",
    "warn_if",
    "error_if",
    "fail_calc",
    "store_failures",
    "store_failures_as",
    "enabled",
    "tags",
    "meta",
    "alias",
    "schema",
    "database",
];

struct Ctx<'a> {
    path: &'a str,
    lines: &'a Lines<'a>,
    diags: &'a mut Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn check_keys(&mut self, entry: &Yaml, known: &[&str], what: &str, from_line: usize) {
        let Some(map) = entry.as_mapping() else { return };
        for key in map.keys().map(yaml::key_string) {
            if known.contains(&key.as_str()) {
                continue;
            }
            let (line, col) = self.lines.find_key(&key, from_line);
            let mut d =
                Diagnostic::warning("unknown-key", format!("unknown key '{key}' in {what}")).at(self.path, line, col);
            if let Some(s) = did_you_mean(&key, known.iter().copied()) {
                d = d.with_help(format!("did you mean '{s}'?"));
            }
            self.diags.push(d);
        }
    }

    fn check_config(&mut self, config: &JsonMap, from_line: usize) {
        for key in config.keys() {
            let norm = normalize_key(key);
            if KNOWN_CONFIG_KEYS.contains(&norm.as_str()) {
                continue;
            }
            let (line, col) = self.lines.find_key(key, from_line);
            let mut d =
                Diagnostic::warning("unknown-config", format!("unknown config key '{key}'")).at(self.path, line, col);
            if let Some(s) = did_you_mean(&norm, KNOWN_CONFIG_KEYS.iter().copied()) {
                d = d.with_help(format!("did you mean '{s}'?"));
            }
            self.diags.push(d);
        }
    }

    /// Type errors for the keys of `entry` with a known shape.
    fn check_shapes(&mut self, entry: &Yaml, shapes: &[(&str, Shape)], what: &str, from: usize) {
        let found = yaml::check_shapes(self.path, self.lines, entry, shapes, what, from);
        self.diags.extend(found);
    }

    fn error(&mut self, message: String, line: usize) {
        self.diags
            .push(Diagnostic::error("yaml-schema", message).at(self.path, line, 1));
    }
}

/// Parses one property file. Syntax errors and structural errors are diagnostics.
pub fn parse_property_file(path: &str, text: &str, diags: &mut Vec<Diagnostic>) -> PropertyFile {
    let mut out = PropertyFile {
        path: path.to_string(),
        ..PropertyFile::default()
    };
    let doc = match yaml::parse(path, text) {
        Ok(d) => d,
        Err(d) => {
            diags.push(d);
            return out;
        }
    };
    if doc.is_null() {
        return out;
    }
    let lines = Lines::new(text);
    let mut ctx = Ctx {
        path,
        lines: &lines,
        diags,
    };
    if !doc.is_mapping() {
        ctx.error(
            "a property file must be a YAML mapping with keys like 'models:' or 'sources:'".into(),
            1,
        );
        return out;
    }
    ctx.check_keys(&doc, FILE_KEYS, "a property file", 1);
    for (key, list) in [
        ("models", &mut out.models),
        ("seeds", &mut out.seeds),
        ("snapshots", &mut out.snapshots),
        ("analyses", &mut out.analyses),
    ] {
        // Entries are in file order: each search resumes after the previous entry
        // (from the list's start it would be quadratic in the number of entries).
        let mut from = ctx.lines.find_key(key, 1).0;
        // Each entry's line is found in file order; then the entries are read in
        // parallel (a large project's schema.yml has thousands), warnings kept in order.
        let mut located = Vec::new();
        for entry in entries(&mut ctx, &doc, key) {
            if let Some((name, line)) = entry_name(&mut ctx, entry, key, from) {
                from = line + 1;
                located.push((entry, name, line));
            }
        }
        let read: Vec<(NodePatch, Vec<Diagnostic>)> = located
            .into_par_iter()
            .map(|(entry, name, line)| {
                let mut found = Vec::new();
                let mut entry_ctx = Ctx {
                    path,
                    lines: &lines,
                    diags: &mut found,
                };
                (node_patch(&mut entry_ctx, entry, key, name, line), found)
            })
            .collect();
        for (p, found) in read {
            ctx.diags.extend(found);
            list.push(p);
        }
    }
    let mut from = ctx.lines.find_key("sources", 1).0;
    for entry in entries(&mut ctx, &doc, "sources") {
        if let Some(s) = source_patch(&mut ctx, entry, from) {
            from = s.line + 1;
            out.sources.push(s);
        }
    }
    let mut from = ctx.lines.find_key("exposures", 1).0;
    for entry in entries(&mut ctx, &doc, "exposures") {
        if let Some(e) = exposure_patch(&mut ctx, entry, from) {
            from = e.line + 1;
            out.exposures.push(e);
        }
    }
    let mut from = ctx.lines.find_key("unit_tests", 1).0;
    for entry in entries(&mut ctx, &doc, "unit_tests") {
        if let Some(u) = unit_test_patch(&mut ctx, entry, from) {
            from = u.line + 1;
            out.unit_tests.push(u);
        }
    }
    out
}

fn unit_test_patch(ctx: &mut Ctx<'_>, entry: &Yaml, from: usize) -> Option<UnitTestPatch> {
    let (name, line) = entry_name(ctx, entry, "unit_tests", from)?;
    let what = format!("unit test '{name}'");
    ctx.check_keys(entry, UNIT_TEST_KEYS, &what, line);
    ctx.check_shapes(entry, UNIT_TEST_SHAPES, &what, line);
    let Some(model) = yaml::get_str(entry, "model") else {
        ctx.error(format!("{what} has no 'model:' (the model it tests)"), line);
        return None;
    };
    let mut given = Vec::new();
    let mut at = ctx.lines.find_key("given", line).0;
    if let Some(Yaml::Sequence(items)) = entry.get("given") {
        for item in items {
            let input = yaml::get_str(item, "input").unwrap_or_default();
            at = if input.is_empty() {
                ctx.lines.find_text("- ", at + 1)
            } else {
                ctx.lines.find_text(&input, at)
            };
            if input.is_empty() {
                ctx.error(
                    format!("an entry of {what}'s 'given:' has no 'input:' (ref('...'), source('...', '...') or this)"),
                    at,
                );
                continue;
            }
            given.push(rows(ctx, item, input, at, &what)?);
        }
    }
    let expect_line = ctx.lines.find_key("expect", line).0;
    let Some(expect) = entry.get("expect") else {
        ctx.error(
            format!("{what} has no 'expect:' (the rows the model must return)"),
            line,
        );
        return None;
    };
    let expect = rows(ctx, expect, String::new(), expect_line, &what)?;
    Some(UnitTestPatch {
        model,
        given,
        expect,
        overrides: entry.get("overrides").map(yaml::to_json_map).unwrap_or_default(),
        config: entry_config(ctx, entry, line, &[]),
        description: yaml::get_str(entry, "description").unwrap_or_default(),
        name,
        line,
    })
}

/// A `given:` entry or `expect:`: its `rows:` in its `format:`, or its `fixture:`.
fn rows(ctx: &mut Ctx<'_>, entry: &Yaml, input: String, line: usize, what: &str) -> Option<Rows> {
    if !entry.is_mapping() {
        ctx.error(
            format!(
                "{what}: rows are a mapping with 'rows:' (or 'fixture:'), not {}",
                yaml::kind_of(entry)
            ),
            line,
        );
        return None;
    }
    ctx.check_keys(entry, ROWS_KEYS, what, line);
    let format = yaml::get_str(entry, "format").unwrap_or_else(|| "dict".into());
    let data = match (format.as_str(), yaml::get_str(entry, "fixture"), entry.get("rows")) {
        (_, Some(_), Some(_)) => {
            ctx.error(format!("{what}: give 'rows:' or 'fixture:', not both"), line);
            return None;
        }
        ("csv" | "sql", Some(name), None) => RowData::Fixture { format, name },
        ("dict", Some(_), None) => {
            ctx.error(
                format!("{what}: a fixture file is csv or sql; add 'format: csv' or 'format: sql'"),
                line,
            );
            return None;
        }
        (_, None, None) => {
            ctx.error(format!("{what}: no 'rows:' (nor 'fixture:')"), line);
            return None;
        }
        ("dict", None, Some(Yaml::Sequence(items))) => {
            let mut dicts = Vec::new();
            for item in items {
                match item {
                    Yaml::Mapping(_) => dicts.push(yaml::to_json_map(item)),
                    other => {
                        ctx.error(
                            format!(
                                "{what}: each row of 'format: dict' is a mapping of column to value, not {}",
                                yaml::kind_of(other)
                            ),
                            ctx.lines.find_key("rows", line).0,
                        );
                        return None;
                    }
                }
            }
            RowData::Dict(dicts)
        }
        ("dict", None, Some(other)) => {
            ctx.error(
                format!(
                    "{what}: 'rows:' of 'format: dict' is a list of mappings, not {}",
                    yaml::kind_of(other)
                ),
                ctx.lines.find_key("rows", line).0,
            );
            return None;
        }
        ("csv" | "sql", None, Some(Yaml::String(text))) => {
            if format == "csv" {
                RowData::Csv(text.clone())
            } else {
                RowData::Sql(text.clone())
            }
        }
        ("csv" | "sql", None, Some(other)) => {
            ctx.error(
                format!(
                    "{what}: 'rows:' of 'format: {format}' is text (a block: 'rows: |'), not {}",
                    yaml::kind_of(other)
                ),
                ctx.lines.find_key("rows", line).0,
            );
            return None;
        }
        (other, _, _) => {
            ctx.error(
                format!("{what}: format '{other}' is not one of dict, csv, sql"),
                ctx.lines.find_key("format", line).0,
            );
            return None;
        }
    };
    Some(Rows { input, line, data })
}

fn exposure_patch(ctx: &mut Ctx<'_>, entry: &Yaml, from: usize) -> Option<ExposurePatch> {
    let (name, line) = entry_name(ctx, entry, "exposures", from)?;
    let what = format!("exposure '{name}'");
    ctx.check_keys(entry, EXPOSURE_KEYS, &what, line);
    ctx.check_shapes(entry, EXPOSURE_SHAPES, &what, line);
    let kind = yaml::get_str(entry, "type").unwrap_or_default();
    if !EXPOSURE_TYPES.contains(&kind.as_str()) {
        let (at, _) = ctx.lines.find_key("type", line);
        ctx.error(
            format!(
                "{what} has type '{kind}'; an exposure's type is one of {}",
                EXPOSURE_TYPES.join(", ")
            ),
            if kind.is_empty() { line } else { at },
        );
    }
    let mut depends_on = Vec::new();
    if let Some(Yaml::Sequence(items)) = entry.get("depends_on") {
        let mut at = ctx.lines.find_key("depends_on", line).0;
        for item in items {
            let Some(text) = item.as_str() else { continue };
            at = ctx.lines.find_text(text, at);
            depends_on.push((text.to_string(), at));
        }
    }
    let config = entry_config(ctx, entry, line, &[]);
    Some(ExposurePatch {
        kind,
        depends_on,
        properties: yaml::to_json_map(entry),
        config,
        name,
        line,
    })
}

fn entries<'y>(ctx: &mut Ctx<'_>, doc: &'y Yaml, key: &str) -> Vec<&'y Yaml> {
    match doc.get(key) {
        None | Some(Yaml::Null) => Vec::new(),
        Some(Yaml::Sequence(items)) => items.iter().collect(),
        Some(_) => {
            let line = ctx.lines.find_key(key, 1).0;
            ctx.error(
                format!("'{key}:' must be a list of entries (each starting with '- name:')"),
                line,
            );
            Vec::new()
        }
    }
}

fn entry_name(ctx: &mut Ctx<'_>, entry: &Yaml, what: &str, from: usize) -> Option<(String, usize)> {
    if !entry.is_mapping() {
        ctx.error(
            format!(
                "an entry under '{what}:' must be a mapping with a 'name:', not {}",
                yaml::kind_of(entry)
            ),
            from,
        );
        return None;
    }
    match yaml::get_str(entry, "name") {
        Some(name) => {
            let line = ctx.lines.find_named_entry(&name, from);
            Some((name, line))
        }
        None => {
            ctx.error(format!("an entry under '{what}:' has no 'name'"), from);
            None
        }
    }
}

/// `config:` merged with legacy top-level `meta`, `tags` and `docs`.
fn entry_config(ctx: &mut Ctx<'_>, entry: &Yaml, line: usize, extra_keys: &[&str]) -> JsonMap {
    let mut config = entry.get("config").map(yaml::to_json_map).unwrap_or_default();
    ctx.check_config(&config, line);
    for key in ["meta", "tags", "docs"].iter().chain(extra_keys) {
        if let Some(v) = entry.get(*key) {
            let mut overlay = JsonMap::new();
            overlay.insert((*key).to_string(), yaml::to_json(v));
            modelc_core::merge_config(&mut config, &overlay);
        }
    }
    config
}

/// Where each key of a config was written, searching from `from`.
fn key_lines(lines: &Lines<'_>, config: &JsonMap, from: usize) -> Vec<(String, usize, usize)> {
    config
        .keys()
        .map(|k| {
            let (line, col) = lines.find_key(k, from);
            (k.clone(), line, col)
        })
        .collect()
}

fn node_patch(ctx: &mut Ctx<'_>, entry: &Yaml, what: &str, name: String, line: usize) -> NodePatch {
    let label = format!("{} '{name}'", what.trim_end_matches('s'));
    ctx.check_keys(entry, NODE_KEYS, &label, line);
    ctx.check_shapes(entry, NODE_SHAPES, &label, line);
    let config = entry_config(ctx, entry, line, &["column_types", "quote_columns"]);
    let config_from = match entry.get("config") {
        Some(_) => ctx.lines.find_key("config", line).0,
        None => line,
    };
    NodePatch {
        description: yaml::get_str(entry, "description").unwrap_or_default(),
        config_lines: key_lines(ctx.lines, &config, config_from),
        config,
        columns: columns(ctx, entry, line),
        tests: tests(ctx, entry, line),
        constraints: constraints(ctx, entry, line, true),
        relation: yaml::get_str(entry, "relation"),
        latest_version: entry.get("latest_version").map(version_text),
        versions: versions(ctx, entry, line),
        name,
        line,
    }
}

/// A version number as dbt prints it: `2`, `2.1`, a string as it is.
fn version_text(v: &Yaml) -> String {
    match v {
        Yaml::String(s) => s.clone(),
        other => yaml::to_json(other).to_string(),
    }
}

/// A model's `versions:` entries.
fn versions(ctx: &mut Ctx<'_>, entry: &Yaml, from: usize) -> Vec<VersionPatch> {
    let Some(Yaml::Sequence(items)) = entry.get("versions") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut from = from;
    for item in items {
        let Some(v) = item.get("v").map(version_text) else {
            let (line, col) = ctx.lines.find_key("versions", from);
            ctx.diags.push(
                Diagnostic::error(
                    "yaml-versions",
                    "each entry of 'versions:' needs a 'v:' (its version number)",
                )
                .at(ctx.path, line, col),
            );
            continue;
        };
        let (line, _) = ctx.lines.find_key("v", from);
        from = line + 1;
        ctx.check_keys(item, VERSION_KEYS, &format!("version {v}"), line);
        // `columns:` mixes `- include: all` / `exclude: [...]` with columns of its own.
        let mut exclude = Vec::new();
        let mut own = Vec::new();
        if let Some(Yaml::Sequence(cols)) = item.get("columns") {
            for c in cols {
                if c.get("include").is_some() || c.get("exclude").is_some() {
                    if let Some(Yaml::Sequence(ex)) = c.get("exclude") {
                        exclude.extend(ex.iter().filter_map(|e| e.as_str().map(str::to_owned)));
                    }
                } else {
                    own.push(c.clone());
                }
            }
        }
        let mut columns_entry = serde_yaml::Mapping::new();
        columns_entry.insert(Yaml::from("columns"), Yaml::Sequence(own));
        out.push(VersionPatch {
            defined_in: yaml::get_str(item, "defined_in"),
            config: entry_config(ctx, item, line, &[]),
            columns: columns(ctx, &Yaml::Mapping(columns_entry), line),
            exclude,
            tests: tests(ctx, item, line),
            v,
            line,
        });
    }
    out
}

/// Keys of a `versions:` entry.
const VERSION_KEYS: &[&str] = &[
    "v",
    "defined_in",
    "description",
    "config",
    "columns",
    "tests",
    "data_tests",
    "docs",
    "meta",
    "tags",
    "access",
    "constraints",
    "deprecation_date",
];

fn columns(ctx: &mut Ctx<'_>, entry: &Yaml, from: usize) -> Vec<ColumnPatch> {
    let mut out = Vec::new();
    let Some(Yaml::Sequence(cols)) = entry.get("columns") else {
        return out;
    };
    let mut from = from;
    for col in cols {
        let Some((name, line)) = entry_name(ctx, col, "columns", from) else {
            continue;
        };
        from = line + 1;
        ctx.check_keys(col, COLUMN_KEYS, &format!("column '{name}'"), line);
        ctx.check_shapes(col, COLUMN_SHAPES, &format!("column '{name}'"), line);
        let meta = col
            .get("meta")
            .or_else(|| col.get("config").and_then(|c| c.get("meta")));
        let tags = col
            .get("tags")
            .or_else(|| col.get("config").and_then(|c| c.get("tags")));
        out.push(ColumnPatch {
            info: ColumnInfo {
                description: yaml::get_str(col, "description").unwrap_or_default(),
                data_type: yaml::get_str(col, "data_type"),
                meta: meta.map(yaml::to_json_map).unwrap_or_default(),
                tags: match tags.map(yaml::to_json) {
                    Some(Json::Array(a)) => a.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect(),
                    Some(Json::String(s)) => vec![s],
                    _ => Vec::new(),
                },
                constraints: constraints(ctx, col, line, false),
                name,
            },
            line,
            tests: tests(ctx, col, line),
        });
    }
    out
}

/// Keys of a `constraints:` entry.
const CONSTRAINT_KEYS: &[&str] = &[
    "type",
    "name",
    "expression",
    "columns",
    "to",
    "to_columns",
    "warn_unenforced",
    "warn_unsupported",
];

/// The `constraints:` of a model (`model_level`) or of a column, as dbt reads
/// them: a `type:` of [`ConstraintKind::ALL`], a `check` with its `expression`,
/// a model-level `primary_key`, `unique` or `foreign_key` with its `columns`.
fn constraints(ctx: &mut Ctx<'_>, entry: &Yaml, from: usize, model_level: bool) -> Vec<Constraint> {
    let Some(Yaml::Sequence(items)) = entry.get("constraints") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut from = ctx.lines.find_key("constraints", from).0;
    for item in items {
        let (line, _) = ctx.lines.find_key("type", from);
        from = line + 1;
        ctx.check_keys(item, CONSTRAINT_KEYS, "constraint", line);
        let kind_name = yaml::get_str(item, "type").unwrap_or_default();
        let Some(kind) = ConstraintKind::ALL
            .iter()
            .find(|(_, name)| *name == kind_name)
            .map(|(k, _)| *k)
        else {
            let kinds: Vec<&str> = ConstraintKind::ALL.iter().map(|(_, n)| *n).collect();
            ctx.error(
                format!(
                    "unknown constraint type '{kind_name}' (dbt's types are {})",
                    kinds.join(", ")
                ),
                line,
            );
            continue;
        };
        let list = |key: &str| -> Vec<String> {
            match item.get(key) {
                Some(Yaml::Sequence(v)) => v.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect(),
                Some(Yaml::String(c)) => vec![c.clone()],
                _ => Vec::new(),
            }
        };
        let flag = |key: &str| item.get(key).and_then(Yaml::as_bool).unwrap_or(true);
        let c = Constraint {
            kind,
            name: yaml::get_str(item, "name"),
            expression: yaml::get_str(item, "expression"),
            columns: list("columns"),
            to: yaml::get_str(item, "to"),
            to_columns: list("to_columns"),
            warn_unenforced: flag("warn_unenforced"),
            warn_unsupported: flag("warn_unsupported"),
        };
        let needs_expression = matches!(kind, ConstraintKind::Check | ConstraintKind::Custom)
            || (kind == ConstraintKind::ForeignKey && c.to.is_none());
        if needs_expression && c.expression.as_deref().is_none_or(|e| e.trim().is_empty()) {
            let what = if kind == ConstraintKind::ForeignKey {
                "an 'expression:' (the referenced `table (column)`) or 'to:' with 'to_columns:'"
            } else {
                "an 'expression:'"
            };
            ctx.error(format!("a '{kind_name}' constraint needs {what}"), line);
            continue;
        }
        let needs_columns = matches!(
            kind,
            ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::ForeignKey
        );
        if model_level && needs_columns && c.columns.is_empty() {
            ctx.error(
                format!("a model-level '{kind_name}' constraint needs 'columns:' (the columns it constrains)"),
                line,
            );
            continue;
        }
        out.push(c);
    }
    out
}

fn tests(ctx: &mut Ctx<'_>, entry: &Yaml, from: usize) -> Vec<TestEntry> {
    let mut out = Vec::new();
    for key in ["data_tests", "tests"] {
        let Some(list) = entry.get(key) else { continue };
        let key_line = ctx.lines.find_key(key, from).0;
        let Some(items) = list.as_sequence() else {
            ctx.error(format!("'{key}:' must be a list"), key_line);
            continue;
        };
        // Tests written inline (`data_tests: [unique, not_null]`) are all on the key's line.
        let inline = ctx.lines.line(key_line).is_some_and(|l| {
            l.split_once(':')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('['))
        });
        let mut search_from = key_line;
        for item in items {
            let parsed = match item {
                Yaml::String(name) => Some((name.clone(), JsonMap::new())),
                Yaml::Mapping(m) if m.len() == 1 => m
                    .iter()
                    .next()
                    .map(|(k, v)| (yaml::key_string(k), yaml::to_json_map(v))),
                Yaml::Mapping(_) => {
                    // `- name: my_test\n  test_name: unique\n  ...` form.
                    let mut body = yaml::to_json_map(item);
                    body.remove("test_name")
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .map(|t| (t, body))
                }
                _ => None,
            };
            let Some((test_name, mut body)) = parsed else {
                ctx.error(
                    format!("cannot read this entry of '{key}:': expected a test name or a mapping with one test"),
                    search_from,
                );
                continue;
            };
            let line = if inline {
                key_line
            } else {
                let (line, _) = ctx
                    .lines
                    .find_key(test_name.rsplit('.').next().unwrap_or(&test_name), search_from);
                search_from = line + 1;
                line
            };
            let mut config = match body.remove("config") {
                Some(Json::Object(c)) => c,
                _ => JsonMap::new(),
            };
            ctx.check_config(&config, line);
            let custom_name = body.remove("name").and_then(|v| v.as_str().map(str::to_owned));
            let mut args = match body.remove("arguments") {
                Some(Json::Object(a)) => a,
                _ => JsonMap::new(),
            };
            for (k, v) in body {
                if TEST_CONFIG_KEYS.contains(&k.as_str()) {
                    config.insert(k, v);
                } else {
                    args.insert(k, v);
                }
            }
            out.push(TestEntry {
                line,
                test_name,
                args,
                config_lines: key_lines(ctx.lines, &config, line),
                config,
                custom_name,
            });
        }
    }
    out
}

/// Source and source table properties that are config in dbt.
const SOURCE_CONFIG_PROPERTIES: &[&str] = &["loaded_at_field", "loaded_at_query", "freshness", "quoting"];

fn source_patch(ctx: &mut Ctx<'_>, entry: &Yaml, from: usize) -> Option<SourcePatch> {
    let (name, line) = entry_name(ctx, entry, "sources", from)?;
    ctx.check_keys(entry, SOURCE_KEYS, &format!("source '{name}'"), line);
    ctx.check_shapes(entry, SOURCE_SHAPES, &format!("source '{name}'"), line);
    // dbt reads these source properties as config too (and a table's override its source's).
    let config = entry_config(ctx, entry, line, SOURCE_CONFIG_PROPERTIES);
    let mut tables = Vec::new();
    if let Some(Yaml::Sequence(items)) = entry.get("tables") {
        let mut from = line;
        for t in items {
            let Some((tname, tline)) = entry_name(ctx, t, "tables", from) else {
                continue;
            };
            from = tline + 1;
            ctx.check_keys(t, TABLE_KEYS, &format!("source table '{name}.{tname}'"), tline);
            ctx.check_shapes(t, TABLE_SHAPES, &format!("source table '{name}.{tname}'"), tline);
            let tconfig = entry_config(ctx, t, tline, SOURCE_CONFIG_PROPERTIES);
            tables.push(SourceTablePatch {
                identifier: yaml::get_str(t, "identifier"),
                description: yaml::get_str(t, "description").unwrap_or_default(),
                columns: columns(ctx, t, tline),
                tests: tests(ctx, t, tline),
                config: tconfig,
                name: tname,
                line: tline,
            });
        }
    }
    Some(SourcePatch {
        schema: yaml::get_str(entry, "schema"),
        database: yaml::get_str(entry, "database"),
        description: yaml::get_str(entry, "description").unwrap_or_default(),
        loader: yaml::get_str(entry, "loader").unwrap_or_default(),
        config,
        tables,
        name,
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Constraints of a column and of a model are read as dbt reads them, with
    /// `warn_*` true unless set; each broken one is an error at its own line.
    #[test]
    fn constraints_are_read_with_their_lines() {
        let yml = "models:
  - name: m
    constraints:
      - type: foreign_key
        name: fk_parent
        columns: [parent_id]
        to: ref('parents')
        to_columns: [id]
      - type: primary_key
    columns:
      - name: id
        constraints:
          - type: not_null
            warn_unenforced: false
          - type: check
          - type: nope
";
        let mut diags = Vec::new();
        let file = parse_property_file("models/m.yml", yml, &mut diags);
        let m = &file.models[0];
        assert_eq!(m.constraints.len(), 1);
        let fk = &m.constraints[0];
        assert_eq!(
            (fk.kind, fk.name.as_deref(), fk.to.as_deref()),
            (ConstraintKind::ForeignKey, Some("fk_parent"), Some("ref('parents')"))
        );
        assert_eq!(
            (fk.columns.clone(), fk.to_columns.clone()),
            (vec!["parent_id".to_string()], vec!["id".to_string()])
        );
        let id = &m.columns[0].info;
        assert_eq!(id.constraints.len(), 1);
        assert_eq!(
            (
                id.constraints[0].kind,
                id.constraints[0].warn_unenforced,
                id.constraints[0].warn_unsupported
            ),
            (ConstraintKind::NotNull, false, true)
        );
        let mut errors: Vec<(usize, &str)> = diags.iter().map(|d| (d.line, d.message.as_str())).collect();
        errors.sort_unstable();
        assert_eq!(
            errors,
            [
                (9, "a model-level 'primary_key' constraint needs 'columns:' (the columns it constrains)"),
                (15, "a 'check' constraint needs an 'expression:'"),
                (16, "unknown constraint type 'nope' (dbt's types are check, not_null, unique, primary_key, foreign_key, custom)"),
            ]
        );
    }
}
