//! Folder-level configs from the project file (`models:`, `seeds:`, ... trees), and
//! the check of config values that have a fixed set of choices.
//!
//! dbt applies a config written at `models: {<project>: {staging: {+materialized: view}}}`
//! to every node whose fqn starts with `<project>.staging`. Keys starting with `+`
//! are configs; other keys are configs when they are known config names and their
//! value is not a folder mapping; anything else names a folder or a node.

use std::collections::{BTreeSet, HashMap};

use modelc_core::{
    did_you_mean, merge_config, normalize_key, Diagnostic, JsonMap, Node, ResourceType, KNOWN_CONFIG_KEYS,
};
use modelc_project::yaml::Lines;
use serde_json::Value;

use crate::nodes::YamlSite;

/// Config keys whose value is itself a mapping.
const MAP_CONFIGS: &[&str] = &[
    "meta",
    "column_types",
    "docs",
    "persist_docs",
    "grants",
    "quoting",
    "contract",
    "options",
    "freshness",
];

fn is_config_key(key: &str, value: &Value) -> bool {
    if key.starts_with('+') {
        return true;
    }
    let norm = normalize_key(key);
    KNOWN_CONFIG_KEYS.contains(&norm.as_str()) && (!value.is_object() || MAP_CONFIGS.contains(&norm.as_str()))
}

/// The configs of one level of the tree.
fn level_config(level: &Value) -> JsonMap {
    let mut out = JsonMap::new();
    if let Value::Object(m) = level {
        let configs: JsonMap = m
            .iter()
            .filter(|(k, v)| is_config_key(k, v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        merge_config(&mut out, &configs);
    }
    out
}

/// The merged folder config for a node with this fqn.
pub fn folder_config(tree: Option<&Value>, fqn: &[String]) -> JsonMap {
    let mut out = JsonMap::new();
    let Some(mut level) = tree else { return out };
    merge_config(&mut out, &level_config(level));
    for part in fqn {
        match level.get(part.as_str()) {
            Some(next) if next.is_object() => {
                level = next;
                merge_config(&mut out, &level_config(level));
            }
            _ => break,
        }
    }
    out
}

/// Warns about unknown `+keys` and folder paths that match no node, like dbt's
/// "Configuration paths exist in your dbt_project.yml file which do not apply to any resources".
pub fn check_tree(
    file: &str,
    text: &str,
    resource: &str,
    tree: &Value,
    fqns: &BTreeSet<Vec<String>>,
    diags: &mut Vec<Diagnostic>,
) {
    let lines = Lines::new(text);
    let start = lines.find_key(resource, 1).0;
    let mut prefixes: BTreeSet<&[String]> = BTreeSet::new();
    for fqn in fqns {
        for i in 1..=fqn.len() {
            prefixes.insert(&fqn[..i]);
        }
    }
    walk(&lines, file, start, tree, &mut Vec::new(), &prefixes, diags);
}

fn walk(
    lines: &Lines<'_>,
    file: &str,
    from: usize,
    level: &Value,
    path: &mut Vec<String>,
    prefixes: &BTreeSet<&[String]>,
    diags: &mut Vec<Diagnostic>,
) {
    let Value::Object(m) = level else { return };
    for (key, value) in m {
        let (line, col) = lines.find_key(key, from);
        if is_config_key(key, value) {
            let norm = normalize_key(key);
            if !KNOWN_CONFIG_KEYS.contains(&norm.as_str()) {
                let mut d =
                    Diagnostic::warning("unknown-config", format!("unknown config key '{key}'")).at(file, line, col);
                if let Some(s) = did_you_mean(&norm, KNOWN_CONFIG_KEYS.iter().copied()) {
                    d = d.with_help(format!("did you mean '+{s}'?"));
                }
                diags.push(d);
            }
            continue;
        }
        path.push(key.clone());
        if !value.is_object() {
            let mut d =
                Diagnostic::warning("unknown-config", format!("unknown config key '{key}'")).at(file, line, col);
            if let Some(s) = did_you_mean(&normalize_key(key), KNOWN_CONFIG_KEYS.iter().copied()) {
                d = d.with_help(format!("did you mean '+{s}'?"));
            }
            diags.push(d);
        } else if !prefixes.contains(path.as_slice()) {
            diags.push(
                Diagnostic::warning(
                    "unused-config-path",
                    format!("the config path '{}' matches no resource", path.join(".")),
                )
                .at(file, line, col)
                .with_help("the first level under 'models:' is the project name, then folders, then node names"),
            );
        } else {
            walk(lines, file, line, value, path, prefixes, diags);
        }
        path.pop();
    }
}

/// A config whose value is one of a fixed set: checked after rendering, before
/// anything runs (dbt rejects them when it parses the project).
struct Choice {
    key: &'static str,
    /// The resource type that reads it.
    resource: ResourceType,
    /// Read only by this materialization (`None`: by every node of the type).
    materialized: Option<&'static str>,
    /// The values modelc implements (in `modelc-exec`).
    values: &'static [&'static str],
    ignore_case: bool,
}

const CHOICES: &[Choice] = &[
    Choice {
        key: "materialized",
        resource: ResourceType::Model,
        materialized: None,
        values: &["view", "table", "incremental", "ephemeral"],
        ignore_case: false,
    },
    Choice {
        key: "incremental_strategy",
        resource: ResourceType::Model,
        materialized: Some("incremental"),
        values: &["append", "merge", "delete+insert", "insert_overwrite"],
        ignore_case: false,
    },
    Choice {
        key: "on_schema_change",
        resource: ResourceType::Model,
        materialized: Some("incremental"),
        values: &["ignore", "fail", "append_new_columns", "sync_all_columns"],
        ignore_case: false,
    },
    Choice {
        key: "file_format",
        resource: ResourceType::Model,
        materialized: None,
        values: modelc_core::FILE_FORMATS,
        ignore_case: true,
    },
    Choice {
        key: "static_analysis",
        resource: ResourceType::Model,
        materialized: None,
        values: &["on", "unsafe", "off"],
        ignore_case: false,
    },
    Choice {
        key: "strategy",
        resource: ResourceType::Snapshot,
        materialized: None,
        values: &["timestamp", "check"],
        ignore_case: false,
    },
    Choice {
        key: "hard_deletes",
        resource: ResourceType::Snapshot,
        materialized: None,
        values: &["ignore", "invalidate", "new_record"],
        ignore_case: false,
    },
    Choice {
        key: "severity",
        resource: ResourceType::Test,
        materialized: None,
        values: &["error", "warn"],
        ignore_case: true,
    },
];

/// The kind of value a config takes.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// `true` or `false` (also as text, as dbt reads `enabled: "false"`).
    Bool,
    /// A mapping.
    Map,
    /// Text (or a number or boolean, written as text).
    Scalar,
    /// A whole number.
    Integer,
    /// A value or a list of values.
    ScalarOrList,
}

impl Kind {
    fn accepts(self, v: &Value) -> bool {
        let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
        match (self, v) {
            (_, Value::Null) => true,
            (Kind::Bool, Value::Bool(_)) => true,
            (Kind::Bool, Value::String(s)) => matches!(s.to_ascii_lowercase().as_str(), "true" | "false"),
            (Kind::Map, Value::Object(_)) => true,
            (Kind::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
            (Kind::Scalar, v) => scalar(v),
            (Kind::ScalarOrList, Value::Array(items)) => items.iter().all(scalar),
            (Kind::ScalarOrList, v) => scalar(v),
            _ => false,
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Kind::Bool => "true or false",
            Kind::Map => "a mapping",
            Kind::Scalar => "a single value",
            Kind::Integer => "a whole number",
            Kind::ScalarOrList => "a value or a list of values",
        }
    }
}

/// Configs whose values modelc reads as one kind: any other kind would be read as
/// a default (`enabled: maybe` as enabled), so it is an error, as in dbt.
const KINDS: &[(&str, Kind)] = &[
    ("enabled", Kind::Bool),
    ("full_refresh", Kind::Bool),
    ("quote_columns", Kind::Bool),
    ("store_failures", Kind::Bool),
    ("invalidate_hard_deletes", Kind::Bool),
    ("meta", Kind::Map),
    ("column_types", Kind::Map),
    ("docs", Kind::Map),
    ("persist_docs", Kind::Map),
    ("grants", Kind::Map),
    ("contract", Kind::Map),
    ("quoting", Kind::Map),
    ("snapshot_meta_column_names", Kind::Map),
    ("materialized", Kind::Scalar),
    ("schema", Kind::Scalar),
    ("database", Kind::Scalar),
    ("alias", Kind::Scalar),
    ("incremental_strategy", Kind::Scalar),
    ("on_schema_change", Kind::Scalar),
    ("static_analysis", Kind::Scalar),
    ("strategy", Kind::Scalar),
    ("updated_at", Kind::Scalar),
    ("severity", Kind::Scalar),
    ("where", Kind::Scalar),
    ("delimiter", Kind::Scalar),
    ("target_schema", Kind::Scalar),
    ("target_database", Kind::Scalar),
    ("hard_deletes", Kind::Scalar),
    ("warn_if", Kind::Scalar),
    ("error_if", Kind::Scalar),
    ("fail_calc", Kind::Scalar),
    ("store_failures_as", Kind::Scalar),
    ("limit", Kind::Integer),
    ("unique_key", Kind::ScalarOrList),
    ("check_cols", Kind::ScalarOrList),
    ("tags", Kind::ScalarOrList),
];

/// What a JSON value is, for messages.
fn kind_of(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("'{s}'"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

/// What [`validate`] needs to point at where a config value was written.
pub struct Sites<'a> {
    /// The project file (folder configs).
    pub project_file: &'a str,
    /// The project file's text.
    pub project_text: &'a str,
    /// The project file's `models:`, `snapshots:`, ... trees.
    pub resource_configs: &'a JsonMap,
    /// Each node's YAML entry, by unique id.
    pub yaml: &'a HashMap<String, YamlSite>,
}

/// Checks the config values of a rendered node that have a fixed set of choices,
/// and the configs a snapshot cannot run without. Each error points where the value
/// is set: the `config()` call in the node's SQL (`sql_config`: what it set), else
/// the node's YAML entry, else the project file's folder config.
pub fn validate(node: &Node, sql_config: &JsonMap, sites: &Sites<'_>, diags: &mut Vec<Diagnostic>) {
    let materialized = node
        .config
        .get("materialized")
        .and_then(Value::as_str)
        .unwrap_or("view");
    let what = || format!("{} '{}'", node.resource_type, node.name);
    let mut wrong_kind = Vec::new();
    for (key, kind) in KINDS {
        let Some(value) = node.config.0.get(*key) else { continue };
        if kind.accepts(value) {
            continue;
        }
        wrong_kind.push(*key);
        let d = Diagnostic::error(
            "config-type",
            format!("{}: {key} must be {}, not {}", what(), kind.expected(), kind_of(value)),
        );
        diags.push(locate(d, node, key, sql_config, sites));
    }
    for c in CHOICES {
        if c.resource != node.resource_type
            || c.materialized.is_some_and(|m| m != materialized)
            || wrong_kind.contains(&c.key)
        {
            continue;
        }
        let Some(value) = node.config.get_str(c.key) else {
            continue;
        };
        let known = |v: &&str| {
            if c.ignore_case {
                v.eq_ignore_ascii_case(&value)
            } else {
                **v == value
            }
        };
        if c.values.iter().any(known) {
            continue;
        }
        let mut d = Diagnostic::error(
            "config-value",
            format!("{}: {} '{value}' is not one of {}", what(), c.key, c.values.join(", ")),
        );
        d = locate(d, node, c.key, sql_config, sites);
        if let Some(s) = did_you_mean(&value.to_lowercase(), c.values.iter().copied()) {
            d = d.with_help(format!("did you mean '{s}'?"));
        }
        diags.push(d);
    }
    if node.resource_type != ResourceType::Snapshot || !wrong_kind.is_empty() {
        return;
    }
    let cfg = &node.config;
    let mut missing = |message: String, help: &str, near: &str| {
        let d = Diagnostic::error("config-missing", message).with_help(help);
        diags.push(locate(d, node, near, sql_config, sites));
    };
    if cfg.unique_key().is_empty() {
        missing(
            format!("{} has no unique_key", what()),
            "set unique_key to the column (or list of columns) that identifies a row",
            "unique_key",
        );
    }
    match cfg.get_str("strategy").as_deref() {
        None | Some("timestamp") if cfg.get_str("updated_at").is_none() => missing(
            format!("{} uses strategy 'timestamp' and has no updated_at", what()),
            "set updated_at to the column that says when a row last changed, or use strategy 'check' with check_cols",
            "strategy",
        ),
        Some("check") if cfg.get_list("check_cols").is_empty() => missing(
            format!("{} uses strategy 'check' and has no check_cols", what()),
            "set check_cols to the list of columns to compare, or 'all'",
            "strategy",
        ),
        _ => {}
    }
}

/// Points a diagnostic about `key` of a node where the key's value was set; when it
/// is not set anywhere, at the node's `config()` call, else its YAML entry, else its
/// definition.
pub(crate) fn locate(d: Diagnostic, node: &Node, key: &str, sql_config: &JsonMap, sites: &Sites<'_>) -> Diagnostic {
    let in_sql = |key: &str| sql_config.keys().any(|k| normalize_key(k) == key);
    // Lines of a node's SQL are lines of its file (snapshot blocks keep their
    // place); a generic test's SQL is its call, written at its YAML entry.
    let in_file = |(line, col): (usize, usize)| match &node.test {
        Some(t) if t.name.is_some() => d.clone().at(&node.original_file_path, node.defined_at_line, 1),
        _ => d.clone().at(&node.original_file_path, line, col),
    };
    if in_sql(key) {
        return in_file(locate_assignment(&node.raw_code, key));
    }
    let yaml = sites.yaml.get(&node.unique_id);
    if let Some((site, line, col)) = yaml.and_then(|y| {
        y.keys
            .iter()
            .find(|(k, ..)| normalize_key(k) == key)
            .map(|(_, l, c)| (y, *l, *c))
    }) {
        return d.at(&site.file, line, col);
    }
    let tree = match node.resource_type {
        ResourceType::Model => "models",
        ResourceType::Seed => "seeds",
        ResourceType::Snapshot => "snapshots",
        ResourceType::Test => "data_tests",
        ResourceType::Source => "sources",
        ResourceType::Analysis => "analyses",
        ResourceType::UnitTest => "unit_tests",
    };
    if let Some(at) = sites
        .resource_configs
        .get(tree)
        .and_then(|t| folder_site(sites.project_text, tree, t, &node.fqn, key))
    {
        return d.at(sites.project_file, at.0, at.1);
    }
    if !sql_config.is_empty() {
        return in_file(locate_assignment(&node.raw_code, "config"));
    }
    match yaml {
        Some(y) => d.at(&y.file, y.line, 1),
        None => in_file((node.defined_at_line, 1)),
    }
}

/// The line and column of `key` as a whole word (`strategy`, not the end of
/// `incremental_strategy`) in a template; `(1, 1)` when it is not there.
fn locate_assignment(text: &str, key: &str) -> (usize, usize) {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let found = text.match_indices(key).find(|(i, _)| {
        !text[..*i].chars().next_back().is_some_and(is_word)
            && !text[i + key.len()..].chars().next().is_some_and(is_word)
    });
    match found {
        Some((i, _)) => {
            let before = &text[..i];
            (
                before.matches('\n').count() + 1,
                i - before.rfind('\n').map_or(0, |p| p + 1) + 1,
            )
        }
        None => (1, 1),
    }
}

/// The line and column in the project file of the folder config that gives a node
/// with this fqn its `key`: the deepest level of the tree that sets it.
fn folder_site(text: &str, resource: &str, tree: &Value, fqn: &[String], key: &str) -> Option<(usize, usize)> {
    let lines = Lines::new(text);
    let written = |level: &Value| match level {
        Value::Object(m) => m
            .iter()
            .find(|(k, v)| is_config_key(k, v) && normalize_key(k) == key)
            .map(|(k, _)| k.clone()),
        _ => None,
    };
    let mut from = lines.find_key(resource, 1).0;
    let mut found = written(tree).map(|k| lines.find_key(&k, from));
    let mut level = tree;
    for part in fqn {
        match level.get(part.as_str()) {
            Some(next) if next.is_object() => {
                from = lines.find_key(part, from).0;
                level = next;
                if let Some(k) = written(level) {
                    found = Some(lines.find_key(&k, from));
                }
            }
            _ => break,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn folder_levels_merge_down_the_fqn() {
        let tree = json!({
            "+materialized": "view",
            "lending": {
                "+tags": ["all"],
                "marts": {"+materialized": "table", "finance": {"+schema": "finance", "+tags": "fin"}},
                "staging": {"materialized": "view"}
            }
        });
        let fqn: Vec<String> = ["lending", "marts", "finance", "m"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            Value::Object(folder_config(Some(&tree), &fqn)),
            json!({"materialized": "table", "tags": ["all", "fin"], "schema": "finance"})
        );
        let mut fqns = BTreeSet::new();
        fqns.insert(fqn);
        let text = "models:\n  +materialized: view\n  lending:\n    +tags: [all]\n    marts:\n      +materialized: table\n      finance:\n        +schema: finance\n        +tags: fin\n    staging:\n      materialized: view\n";
        let mut diags = Vec::new();
        check_tree("dbt_project.yml", text, "models", &tree, &fqns, &mut diags);
        let shown: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        assert_eq!(shown, vec!["warning[unused-config-path] dbt_project.yml:10:5: the config path 'lending.staging' matches no resource\n  help: the first level under 'models:' is the project name, then folders, then node names"]);
    }
}
