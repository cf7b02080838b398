//! Artifacts under `target/`: compiled SQL files and `manifest.json` (dbt's v12 shape).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use modelc_core::{ColumnInfo, Node, ResourceType, SourceTable};
use rayon::prelude::*;
use serde_json::{json, Map, Value};

use crate::Project;

fn columns_json(cols: &[ColumnInfo]) -> Value {
    let mut m = Map::new();
    for c in cols {
        m.insert(
            c.name.clone(),
            json!({
                "name": c.name, "description": c.description, "meta": c.meta, "data_type": c.data_type,
                "constraints": [], "quote": null, "tags": c.tags, "granularity": null,
                "config": {"meta": c.meta, "tags": c.tags}, "doc_blocks": [],
            }),
        );
    }
    Value::Object(m)
}

/// dbt's hooks: `{"sql", "transaction", "index"}` objects under `pre-hook`/`post-hook`
/// (modelc keeps them as SQL strings under `pre_hook`/`post_hook`).
fn hooks_json(config: &mut Map<String, Value>, key: &str, dbt_key: &str) {
    let sqls = match config.remove(key) {
        Some(Value::Array(items)) => items,
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other],
    };
    let hooks: Vec<Value> = sqls
        .into_iter()
        .map(|h| match h {
            Value::String(sql) => json!({"sql": sql, "transaction": true, "index": null}),
            Value::Object(_) => h,
            other => json!({"sql": other.to_string(), "transaction": true, "index": null}),
        })
        .collect();
    config.insert(dbt_key.into(), Value::Array(hooks));
}

/// The node's config as dbt writes it: every key the user set, and dbt's defaults for
/// the config class of the resource type (`ModelConfig`, `SeedConfig`, `SnapshotConfig`,
/// `TestConfig`, `NodeConfig`).
fn config_json(n: &Node) -> Map<String, Value> {
    let mut c = n.config.0.clone();
    let mut default = |key: &str, value: Value| {
        if !c.contains_key(key) {
            c.insert(key.into(), value);
        }
    };
    if n.resource_type == ResourceType::Test {
        // Tests go to `<schema>_dbt_test__audit` when they store failures.
        default("schema", json!("dbt_test__audit"));
    }
    default("enabled", json!(true));
    default("alias", Value::Null);
    default("schema", Value::Null);
    default("database", Value::Null);
    default("tags", json!([]));
    default("meta", json!({}));
    default("group", Value::Null);
    default("materialized", json!(n.materialized()));
    if n.resource_type == ResourceType::Test {
        default("severity", json!("ERROR"));
        default("store_failures", Value::Null);
        default("store_failures_as", Value::Null);
        default("where", Value::Null);
        default("limit", Value::Null);
        default("fail_calc", json!("count(*)"));
        default("warn_if", json!("!= 0"));
        default("error_if", json!("!= 0"));
    } else {
        default("incremental_strategy", Value::Null);
        default("batch_size", Value::Null);
        default("lookback", json!(1));
        default("begin", Value::Null);
        default("persist_docs", json!({}));
        default("quoting", json!({}));
        default("column_types", json!({}));
        default("full_refresh", Value::Null);
        default("unique_key", Value::Null);
        default("on_schema_change", json!("ignore"));
        default("on_configuration_change", json!("apply"));
        default("grants", json!({}));
        default("packages", json!([]));
        default("docs", json!({"show": true, "node_color": null}));
        default("contract", json!({"enforced": false, "alias_types": true}));
        default("event_time", Value::Null);
        default("concurrent_batches", Value::Null);
    }
    match n.resource_type {
        ResourceType::Model => {
            default("access", json!("protected"));
            default("freshness", Value::Null);
        }
        ResourceType::Seed => {
            default("delimiter", json!(","));
            default("quote_columns", Value::Null);
        }
        ResourceType::Snapshot => {
            for key in [
                "strategy",
                "target_schema",
                "target_database",
                "updated_at",
                "check_cols",
            ] {
                default(key, Value::Null);
            }
            default("snapshot_meta_column_names", json!({}));
            default("dbt_valid_to_current", Value::Null);
        }
        _ => {}
    }
    if n.resource_type != ResourceType::Test || c.contains_key("pre_hook") || c.contains_key("post_hook") {
        hooks_json(&mut c, "pre_hook", "pre-hook");
        hooks_json(&mut c, "post_hook", "post-hook");
    }
    c
}

/// `file_key_name` of a generic test: the YAML section and name of what it tests
/// (`models.dim_applicants`, `sources.bureau`, `seeds.raw_applicants`).
fn file_key_name(attached_node: &str) -> String {
    let parts: Vec<&str> = attached_node.split('.').collect();
    let section = match parts.first().copied().unwrap_or_default() {
        "source" => "sources",
        "seed" => "seeds",
        "snapshot" => "snapshots",
        "analysis" => "analyses",
        _ => "models",
    };
    format!("{section}.{}", parts.get(2).copied().unwrap_or_default())
}

/// What a generic test is called on, as dbt records it in `test_metadata.kwargs.model`.
fn test_model_kwarg(project: &Project, attached_node: &str) -> Option<String> {
    if let Some(s) = project.sources.get(attached_node) {
        return Some(format!(
            "{{{{ get_where_subquery(source('{}', '{}')) }}}}",
            s.source_name, s.name
        ));
    }
    let n = project.nodes.get(attached_node)?;
    Some(format!("{{{{ get_where_subquery(ref('{}')) }}}}", n.name))
}

/// dbt's primary key inference: the columns with both a `unique` and a `not_null`
/// test, else the columns with a `unique` test (or in a `unique_combination_of_columns`).
fn primary_key(tests: &[&Node]) -> Vec<String> {
    let mut unique = BTreeSet::new();
    let mut not_null = BTreeSet::new();
    for t in tests {
        let Some(info) = &t.test else { continue };
        let columns: Vec<String> = match (
            info.kwargs.get("column_name"),
            info.kwargs.get("combination_of_columns"),
        ) {
            (Some(Value::String(c)), _) => vec![c.clone()],
            (_, Some(Value::Array(cols))) => cols.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect(),
            _ => Vec::new(),
        };
        match info.name.as_deref() {
            Some("unique" | "unique_combination_of_columns") => unique.extend(columns),
            Some("not_null") => not_null.extend(columns),
            _ => {}
        }
    }
    let both: Vec<String> = not_null.intersection(&unique).cloned().collect();
    if both.is_empty() {
        unique.into_iter().collect()
    } else {
        both
    }
}

fn node_json(project: &Project, n: &Node, tests: &[&Node]) -> Value {
    let rel = n.relation.as_ref();
    let config = config_json(n);
    let docs = match config.get("docs") {
        Some(Value::Object(d)) => json!({
            "show": d.get("show").and_then(Value::as_bool).unwrap_or(true),
            "node_color": d.get("node_color").cloned().unwrap_or(Value::Null),
        }),
        _ => json!({"show": true, "node_color": null}),
    };
    let enforced = matches!(config.get("contract"), Some(Value::Object(c)) if c.get("enforced") == Some(&json!(true)));
    let group = config.get("group").cloned().unwrap_or(Value::Null);
    let access = config.get("access").cloned().unwrap_or_else(|| json!("protected"));
    let mut v = json!({
        "database": rel.map(|r| r.database.clone()).unwrap_or_else(|| project.db.database.clone()),
        "schema": rel.map(|r| r.schema.clone()).unwrap_or_else(|| project.db.schema.clone()),
        "name": n.name,
        "resource_type": n.resource_type.as_str(),
        "package_name": n.package_name,
        "path": n.path,
        "original_file_path": n.original_file_path,
        "unique_id": n.unique_id,
        "fqn": n.fqn,
        "alias": rel.map(|r| r.identifier.clone()).unwrap_or_else(|| n.name.clone()),
        "checksum": {"name": "xxh3", "checksum": n.checksum},
        "config": config,
        "tags": n.config.tags(),
        "description": n.description,
        "columns": columns_json(&n.columns),
        "meta": n.config.meta(),
        "group": group,
        "docs": docs,
        "patch_path": n.patch_path,
        "build_path": null,
        "unrendered_config": {},
        "created_at": 0.0,
        "config_call_dict": {},
        "unrendered_config_call_dict": {},
        "relation_name": rel.map(|r| r.to_string()),
        "raw_code": n.raw_code,
        "doc_blocks": [],
    });
    let Value::Object(m) = &mut v else { return v };
    if n.resource_type == ResourceType::Seed {
        // A seed has no SQL: no refs, no compiled code, only macro dependencies.
        m.insert("root_path".into(), json!(project.root.to_string_lossy()));
        m.insert("depends_on".into(), json!({"macros": n.depends_on.macros}));
        return v;
    }
    let sql = json!({
        "language": "sql",
        "refs": n.refs.iter().map(|r| json!({"name": r.name, "package": r.package, "version": r.version})).collect::<Vec<_>>(),
        "sources": n.sources.iter().map(|(s, t)| json!([s, t])).collect::<Vec<_>>(),
        "metrics": [],
        "functions": [],
        "depends_on": {"macros": n.depends_on.macros, "nodes": n.depends_on.nodes},
        "compiled_path": n.compiled_code.as_ref().map(|_| format!("target/{}", n.compiled_path())),
        "compiled": n.compiled_code.is_some(),
        "compiled_code": n.compiled_code,
        "extra_ctes_injected": true,
        "extra_ctes": [],
        "contract": {"enforced": enforced, "alias_types": true, "checksum": null},
    });
    if let Value::Object(sql) = sql {
        m.extend(sql);
    }
    match n.resource_type {
        ResourceType::Model => {
            let model = json!({
                "access": access,
                "constraints": [],
                "version": null,
                "latest_version": null,
                "deprecation_date": null,
                "primary_key": primary_key(tests),
                "time_spine": null,
            });
            if let Value::Object(model) = model {
                m.extend(model);
            }
        }
        ResourceType::Test => {
            // Generic tests (from YAML) say what they test; singular tests (SQL files) don't.
            if let Some(t) = n.test.as_ref().filter(|t| t.name.is_some()) {
                let mut kwargs = t.kwargs.clone();
                if let Some(model) = t.attached_node.as_deref().and_then(|a| test_model_kwarg(project, a)) {
                    kwargs.entry("model").or_insert(json!(model));
                }
                m.insert(
                    "test_metadata".into(),
                    json!({"name": t.name, "kwargs": kwargs, "namespace": t.namespace}),
                );
                m.insert("column_name".into(), json!(t.column_name));
                m.insert("attached_node".into(), json!(t.attached_node));
                m.insert(
                    "file_key_name".into(),
                    json!(t.attached_node.as_deref().map(file_key_name)),
                );
            }
        }
        _ => {}
    }
    v
}

fn source_json(s: &SourceTable) -> Value {
    let mut config = s.config.0.clone();
    config.insert("enabled".into(), json!(true));
    config.insert("meta".into(), json!(s.meta));
    config.insert("tags".into(), json!(s.tags));
    for key in ["event_time", "freshness", "loaded_at_field", "loaded_at_query"] {
        config.entry(key).or_insert(Value::Null);
    }
    let freshness = match config.get("freshness") {
        Some(f @ Value::Object(_)) => f.clone(),
        _ => {
            json!({"warn_after": {"count": null, "period": null}, "error_after": {"count": null, "period": null}, "filter": null})
        }
    };
    let quoting = {
        let mut q = json!({"database": null, "schema": null, "identifier": null, "column": null});
        if let (Value::Object(q), Some(Value::Object(set))) = (&mut q, config.get("quoting")) {
            q.extend(set.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        q
    };
    json!({
        "database": s.relation.database, "schema": s.relation.schema, "name": s.name,
        "resource_type": "source", "package_name": s.package_name, "path": s.original_file_path,
        "original_file_path": s.original_file_path, "unique_id": s.unique_id, "fqn": s.fqn,
        "source_name": s.source_name, "source_description": s.source_description, "loader": s.loader,
        "identifier": s.relation.identifier, "quoting": quoting,
        "loaded_at_field": config.get("loaded_at_field"), "loaded_at_query": config.get("loaded_at_query"),
        "freshness": freshness, "external": null, "description": s.description, "columns": columns_json(&s.columns),
        "meta": s.meta, "source_meta": {}, "tags": s.tags, "config": config,
        "patch_path": null, "unrendered_config": {}, "relation_name": s.render(), "created_at": 0.0,
        "unrendered_database": null, "unrendered_schema": null, "doc_blocks": [],
    })
}

/// `{"key":value,...}` from entries already written as `"key":value`.
fn object(entries: &[String]) -> String {
    let mut out = String::with_capacity(entries.iter().map(|e| e.len() + 1).sum::<usize>() + 2);
    out.push('{');
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(e);
    }
    out.push('}');
    out
}

/// One `"key":value` entry of a JSON object.
fn entry(key: &str, value: &Value) -> String {
    format!("{}:{value}", Value::from(key))
}

/// The manifest as JSON text. Each node is built and serialized in parallel and its
/// JSON tree dropped at once: at 10,000 models the whole tree would take a gigabyte.
pub fn manifest_text(project: &Project, invocation_id: &str) -> String {
    let mut tests_of: HashMap<&str, Vec<&Node>> = HashMap::new();
    for n in project.nodes.values() {
        if let Some(attached) = n.test.as_ref().and_then(|t| t.attached_node.as_deref()) {
            tests_of.entry(attached).or_default().push(n);
        }
    }
    let nodes: Vec<String> = project
        .nodes
        .par_iter()
        .map(|(id, n)| {
            let tests = tests_of.get(id.as_str()).map(Vec::as_slice).unwrap_or_default();
            entry(id, &node_json(project, n, tests))
        })
        .collect();
    let sources: Vec<String> = project
        .sources
        .values()
        .map(|s| entry(&s.unique_id, &source_json(s)))
        .collect();
    let macros: Vec<String> = project
        .macros
        .values()
        .map(|m| {
            let package = m.unique_id.split('.').nth(1).unwrap_or_default();
            entry(
                &m.unique_id,
                &json!({
                    "name": m.name, "resource_type": "macro", "package_name": package, "path": m.file,
                    "original_file_path": m.file, "unique_id": m.unique_id, "macro_sql": m.sql, "depends_on": {"macros": []},
                    "description": "", "meta": {}, "docs": {"show": true, "node_color": null}, "patch_path": null,
                    "arguments": [], "created_at": 0.0, "supported_languages": null,
                }),
            )
        })
        .collect();
    let mut ids: Vec<&str> = project.dag.nodes().map(|n| n.unique_id.as_str()).collect();
    ids.sort_unstable();
    let (parent_map, child_map): (Vec<String>, Vec<String>) = ids
        .par_iter()
        .map(|id| {
            let parents: Vec<&str> = project
                .dag
                .parents(id)
                .into_iter()
                .filter(|p| !p.starts_with("source.") || project.sources.contains_key(*p))
                .collect();
            (entry(id, &json!(parents)), entry(id, &json!(project.dag.children(id))))
        })
        .unzip();
    let metadata = json!({
        "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
        "dbt_version": concat!("modelc-", env!("CARGO_PKG_VERSION")),
        "generated_at": generated_at(),
        "invocation_id": invocation_id,
        "invocation_started_at": null,
        "env": {},
        "project_name": project.name,
        "project_id": format!("{:032x}", xxhash_rust::xxh3::xxh3_128(project.name.as_bytes())),
        "user_id": null,
        "send_anonymous_usage_stats": false,
        "adapter_type": "duckdb",
        "quoting": {"database": true, "schema": true, "identifier": true, "column": null},
    });
    let empty = "{}".to_string();
    let parts = [
        ("metadata", metadata.to_string()),
        ("nodes", object(&nodes)),
        ("sources", object(&sources)),
        ("macros", object(&macros)),
        ("docs", empty.clone()),
        ("exposures", empty.clone()),
        ("metrics", empty.clone()),
        ("groups", empty.clone()),
        ("selectors", empty.clone()),
        ("disabled", empty.clone()),
        ("parent_map", object(&parent_map)),
        ("child_map", object(&child_map)),
        ("group_map", empty.clone()),
        ("saved_queries", empty.clone()),
        ("semantic_models", empty.clone()),
        ("unit_tests", empty.clone()),
        ("functions", empty),
    ];
    let entries: Vec<String> = parts.iter().map(|(k, v)| format!("{}:{v}", Value::from(*k))).collect();
    object(&entries)
}

/// The manifest as a JSON value (see [`manifest_text`]).
pub fn manifest(project: &Project, invocation_id: &str) -> Value {
    serde_json::from_str(&manifest_text(project, invocation_id)).unwrap_or(Value::Null)
}

/// Writes every node's compiled SQL under `target/compiled/` and `target/manifest.json`.
pub fn write(project: &Project, invocation_id: &str) -> std::io::Result<()> {
    write_compiled(project, project.nodes.values())?;
    let path = project.target_dir.join("manifest.json");
    // Never the same as before (`generated_at`): written without comparing.
    std::fs::create_dir_all(&project.target_dir)?;
    std::fs::write(&path, manifest_text(project, invocation_id))
}

/// Now, as dbt writes `generated_at` (RFC 3339, microseconds, `Z`).
pub fn generated_at() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Writes the compiled SQL of some nodes.
pub fn write_compiled<'a>(project: &Project, nodes: impl Iterator<Item = &'a Node>) -> std::io::Result<()> {
    for n in nodes {
        if let (Some(sql), false) = (&n.compiled_code, n.resource_type == ResourceType::Seed) {
            write_file(&project.target_dir.join(n.compiled_path()), sql)?;
        }
    }
    Ok(())
}

fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Skip unchanged files: compile is often re-run on a mostly unchanged project.
    if std::fs::read(path).map(|old| old == text.as_bytes()).unwrap_or(false) {
        return Ok(());
    }
    std::fs::write(path, text)
}
