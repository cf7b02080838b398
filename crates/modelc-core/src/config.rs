//! Node configuration: dbt's config dictionary with typed accessors.
//!
//! dbt merges configs from the project file (folder levels), YAML property files
//! and the model's own `config(...)` call, later levels winning, with `tags`
//! accumulating, `meta` merging and hooks concatenating. Keeping the config as a
//! JSON map preserves every key a user wrote (for `config.get` in Jinja and for the
//! manifest) while the accessors give the runner typed values.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Hook, JsonMap};

/// Every config key modelc knows (dbt's, dbt-duckdb's and modelc's own).
/// A key outside this list is reported as a warning with the nearest known key.
pub const KNOWN_CONFIG_KEYS: &[&str] = &[
    "enabled",
    "materialized",
    "schema",
    "database",
    "alias",
    "tags",
    "meta",
    "pre_hook",
    "post_hook",
    "persist_docs",
    "full_refresh",
    "grants",
    "contract",
    "docs",
    "group",
    "access",
    "sql_header",
    "static_analysis",
    "on_configuration_change",
    "unique_key",
    "incremental_strategy",
    "on_schema_change",
    "incremental_predicates",
    "batch_size",
    "lookback",
    "begin",
    "event_time",
    "concurrent_batches",
    "column_types",
    "quote_columns",
    "delimiter",
    "severity",
    "where",
    "limit",
    "warn_if",
    "error_if",
    "fail_calc",
    "store_failures",
    "store_failures_as",
    "strategy",
    "updated_at",
    "check_cols",
    "hard_deletes",
    "invalidate_hard_deletes",
    "dbt_valid_to_current",
    "snapshot_meta_column_names",
    "target_schema",
    "target_database",
    "quoting",
    "freshness",
    "loaded_at_field",
    "loaded_at_query",
    "loader",
    "labels",
    "packages",
    "location",
    "format",
    "options",
    "external_location",
    "plugin",
    "partition_by",
    "file_format",
    "overwrite",
    "column_name",
];

/// The merged config of one node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeConfig(pub JsonMap);

/// Normalizes a config key as written by a user to the key stored: `pre-hook`
/// becomes `pre_hook`, a leading `+` is dropped.
pub fn normalize_key(key: &str) -> String {
    key.trim_start_matches('+').replace('-', "_")
}

/// Merges `overlay` into `base` the way dbt does: `tags` accumulate (unique, in
/// order), `meta` and `column_types` merge key by key, hooks concatenate, and every
/// other key is replaced.
pub fn merge_config(base: &mut JsonMap, overlay: &JsonMap) {
    for (key, value) in overlay {
        let key = normalize_key(key);
        match key.as_str() {
            "tags" => {
                let mut items = string_list(base.get(&key));
                for item in string_list(Some(value)) {
                    if !items.contains(&item) {
                        items.push(item);
                    }
                }
                base.insert(key, Value::from(items));
            }
            "pre_hook" | "post_hook" => {
                // Taken out and put back in place: the key keeps its position.
                let mut items = match base.get_mut(&key).map(Value::take) {
                    Some(Value::Array(items)) => items,
                    None | Some(Value::Null) => Vec::new(),
                    Some(other) => vec![other],
                };
                let added: Vec<&Value> = match value {
                    Value::Array(a) => a.iter().collect(),
                    Value::Null => Vec::new(),
                    other => vec![other],
                };
                items.extend(added.into_iter().map(|v| Hook::from_config(v).to_config()));
                base.insert(key, Value::Array(items));
            }
            "meta" | "column_types" | "docs" => match (base.get_mut(&key), value) {
                (Some(Value::Object(existing)), Value::Object(new)) => {
                    for (k, v) in new {
                        existing.insert(k.clone(), v.clone());
                    }
                }
                _ => {
                    base.insert(key, value.clone());
                }
            },
            _ => {
                base.insert(key, value.clone());
            }
        }
    }
}

/// A string or list of strings as a list (`None`/null gives an empty list).
fn string_list(value: Option<&Value>) -> Vec<String> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(value_to_string).collect(),
        Some(other) => vec![value_to_string(other)],
    }
}

fn value_to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl NodeConfig {
    /// A config holding just `materialized`.
    pub fn with_materialized(materialized: &str) -> Self {
        let mut map = JsonMap::new();
        map.insert("materialized".into(), materialized.into());
        NodeConfig(map)
    }

    /// The raw value of a key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// A string value (numbers and booleans are rendered as text).
    pub fn get_str(&self, key: &str) -> Option<String> {
        self.get(key).map(value_to_string)
    }

    /// A boolean value; accepts `true`/`false` strings as dbt does.
    pub fn get_bool(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// A string-or-list value as a list.
    pub fn get_list(&self, key: &str) -> Vec<String> {
        string_list(self.get(key))
    }

    /// The `pre_hook` or `post_hook` list (`key`), each with its `transaction` flag.
    pub fn hooks(&self, key: &str) -> Vec<Hook> {
        match self.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items.iter().map(Hook::from_config).collect(),
            Some(other) => vec![Hook::from_config(other)],
        }
    }

    /// Sets a key.
    pub fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.0.insert(key.to_owned(), value.into());
    }

    /// `enabled`, default true.
    pub fn enabled(&self) -> bool {
        self.get_bool("enabled").unwrap_or(true)
    }

    /// `materialized`, default `view`.
    pub fn materialized(&self) -> String {
        self.get_str("materialized").unwrap_or_else(|| "view".into())
    }

    /// `tags`.
    pub fn tags(&self) -> Vec<String> {
        self.get_list("tags")
    }

    /// `unique_key`, as a list of column names (a comma list in one string is split).
    pub fn unique_key(&self) -> Vec<String> {
        self.get_list("unique_key")
            .iter()
            .flat_map(|k| k.split(','))
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .collect()
    }

    /// `meta`.
    pub fn meta(&self) -> JsonMap {
        match self.get("meta") {
            Some(Value::Object(m)) => m.clone(),
            _ => JsonMap::new(),
        }
    }
}

/// The keys of a config map that are not in [`KNOWN_CONFIG_KEYS`].
pub fn unknown_config_keys(config: &JsonMap) -> Vec<&str> {
    config
        .keys()
        .map(String::as_str)
        .filter(|k| !KNOWN_CONFIG_KEYS.contains(k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> JsonMap {
        match v {
            Value::Object(m) => m,
            _ => JsonMap::new(),
        }
    }

    #[test]
    fn merge_follows_dbt_rules() {
        let mut base = map(
            json!({"materialized": "view", "tags": ["a"], "meta": {"owner": "x", "tier": 1}, "+pre-hook": "select 1"}),
        );
        let mut normalized = JsonMap::new();
        merge_config(&mut normalized, &base);
        base = normalized;
        merge_config(
            &mut base,
            &map(json!({"materialized": "table", "tags": "b", "meta": {"tier": 2},
                "pre-hook": ["select 2", {"sql": "select 3", "transaction": false}],
                "post-hook": [{"sql": "select 4"}, "\n {\"sql\": \"select 5\", \"transaction\": false}\n"]})),
        );
        assert_eq!(
            Value::Object(base),
            json!({"materialized": "table", "tags": ["a", "b"], "meta": {"owner": "x", "tier": 2},
                "pre_hook": ["select 1", "select 2", {"sql": "select 3", "transaction": false}],
                "post_hook": ["select 4", {"sql": "select 5", "transaction": false}]})
        );
    }

    #[test]
    fn typed_accessors() {
        let c = NodeConfig(map(json!({"enabled": "false", "unique_key": "id, day", "tags": "t"})));
        assert!(!c.enabled());
        assert_eq!(c.unique_key(), vec!["id", "day"]);
        assert_eq!(c.tags(), vec!["t"]);
        assert_eq!(c.materialized(), "view");
        let c = NodeConfig(map(json!({"materialised": "table"})));
        assert_eq!(unknown_config_keys(&c.0), vec!["materialised"]);
    }
}
