//! State comparison for `--state`: how each node and source of this project's
//! manifest differs from a previous manifest (dbt's `state:` selector), as the
//! marks `modelc_graph::DagNode::state` holds: `new`; or `old` and either
//! `unmodified` or `modified` with each kind that changed (`modified.body`,
//! `modified.configs`, `modified.relation`, `modified.persisted_descriptions`,
//! `modified.macros`, `modified.contract`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// The marks of every node and source of `current` against `previous` (both
/// `manifest.json` documents).
pub fn state_marks(current: &Value, previous: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for section in ["nodes", "sources", "seeds", "snapshots"] {
        let Some(nodes) = current.get(section).and_then(Value::as_object) else {
            continue;
        };
        for (id, node) in nodes {
            let prev = previous.get(section).and_then(|s| s.get(id));
            out.insert(id.clone(), marks(node, prev, current, previous));
        }
    }
    out
}

/// The SQL of macro `id` in `manifest`, if it has that macro.
fn macro_sql<'a>(manifest: &'a Value, id: &str) -> Option<&'a Value> {
    manifest.get("macros")?.get(id)?.get("macro_sql")
}

fn marks(node: &Value, prev: Option<&Value>, current: &Value, previous: &Value) -> BTreeSet<String> {
    let Some(prev) = prev else {
        return BTreeSet::from(["new".to_string()]);
    };
    let differs = |keys: &[&str]| keys.iter().any(|k| node.get(*k) != prev.get(*k));
    let column_field = |n: &Value, field: &str| -> Vec<(String, Value)> {
        n.get("columns")
            .and_then(Value::as_object)
            .map(|cols| {
                cols.iter()
                    .map(|(name, c)| (name.clone(), c.get(field).cloned().unwrap_or(Value::Null)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let macros_changed = node
        .pointer("/depends_on/macros")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .any(|m| macro_sql(current, m) != macro_sql(previous, m));
    let enforced = |n: &Value| n.pointer("/contract/enforced").and_then(Value::as_bool) == Some(true);
    let kinds = [
        ("body", differs(&["checksum"])),
        ("configs", differs(&["config"])),
        (
            "relation",
            differs(&["database", "schema", "alias", "identifier", "relation_name"]),
        ),
        (
            "persisted_descriptions",
            differs(&["description"]) || column_field(node, "description") != column_field(prev, "description"),
        ),
        ("macros", macros_changed),
        (
            "contract",
            differs(&["contract"])
                || (enforced(node) && column_field(node, "data_type") != column_field(prev, "data_type")),
        ),
    ];
    let mut out = BTreeSet::from(["old".to_string()]);
    let changed: Vec<&str> = kinds.iter().filter(|(_, c)| *c).map(|(k, _)| *k).collect();
    if changed.is_empty() {
        out.insert("unmodified".into());
    } else {
        out.insert("modified".into());
        out.extend(changed.iter().map(|k| format!("modified.{k}")));
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::state_marks;

    fn manifest(body: &str, materialized: &str, macro_sql: &str, description: &str) -> serde_json::Value {
        json!({
            "nodes": {
                "model.p.a": {"checksum": {"name": "xxh3", "checksum": body}, "config": {"materialized": materialized},
                    "database": "db", "schema": "main", "alias": "a", "description": description, "columns": {},
                    "depends_on": {"macros": ["macro.p.m"]}, "contract": {"enforced": false}},
                "model.p.b": {"checksum": {"name": "xxh3", "checksum": "same"}, "config": {}, "database": "db",
                    "schema": "main", "alias": "b", "description": "", "columns": {}, "depends_on": {"macros": []}},
            },
            "sources": {},
            "macros": {"macro.p.m": {"macro_sql": macro_sql}},
        })
    }

    fn marks_of(current: &serde_json::Value, previous: &serde_json::Value, id: &str) -> Vec<String> {
        state_marks(current, previous)
            .remove(id)
            .unwrap_or_default()
            .into_iter()
            .collect()
    }

    #[test]
    fn each_kind_of_change_is_its_own_mark() {
        let before = manifest("1", "view", "select 1", "");
        let cases = [
            (
                manifest("2", "view", "select 1", ""),
                vec!["modified", "modified.body", "old"],
            ),
            (
                manifest("1", "table", "select 1", ""),
                vec!["modified", "modified.configs", "old"],
            ),
            (
                manifest("1", "view", "select 2", ""),
                vec!["modified", "modified.macros", "old"],
            ),
            (
                manifest("1", "view", "select 1", "docs"),
                vec!["modified", "modified.persisted_descriptions", "old"],
            ),
            (manifest("1", "view", "select 1", ""), vec!["old", "unmodified"]),
        ];
        for (after, expected) in cases {
            assert_eq!(marks_of(&after, &before, "model.p.a"), expected);
            assert_eq!(marks_of(&after, &before, "model.p.b"), ["old", "unmodified"]);
        }
    }

    #[test]
    fn a_node_missing_from_the_state_is_new() {
        let before = json!({"nodes": {}, "sources": {}, "macros": {}});
        let after = manifest("1", "view", "select 1", "");
        assert_eq!(marks_of(&after, &before, "model.p.a"), ["new"]);
    }
}
