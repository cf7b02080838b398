//! Folder-level configs from the project file (`models:`, `seeds:`, ... trees).
//!
//! dbt applies a config written at `models: {<project>: {staging: {+materialized: view}}}`
//! to every node whose fqn starts with `<project>.staging`. Keys starting with `+`
//! are configs; other keys are configs when they are known config names and their
//! value is not a folder mapping; anything else names a folder or a node.

use std::collections::BTreeSet;

use modelc_core::{did_you_mean, merge_config, normalize_key, Diagnostic, JsonMap, KNOWN_CONFIG_KEYS};
use modelc_project::yaml::Lines;
use serde_json::Value;

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
