//! Artifacts under `target/`: compiled SQL files and `manifest.json` (dbt's v12 shape).

use std::collections::BTreeMap;
use std::path::Path;

use modelc_core::{ColumnInfo, Node, ResourceType};
use serde_json::{json, Map, Value};

use crate::Project;

fn columns_json(cols: &[ColumnInfo]) -> Value {
    let mut m = Map::new();
    for c in cols {
        m.insert(
            c.name.clone(),
            json!({
                "name": c.name, "description": c.description, "meta": c.meta, "data_type": c.data_type,
                "constraints": [], "quote": null, "tags": c.tags, "granularity": null, "config": {"meta": c.meta, "tags": c.tags},
            }),
        );
    }
    Value::Object(m)
}

fn node_json(project: &Project, n: &Node) -> Value {
    let rel = n.relation.as_ref();
    let config = {
        let mut c = n.config.0.clone();
        c.entry("enabled").or_insert(json!(true));
        c.entry("materialized").or_insert(json!(n.materialized()));
        c.entry("tags").or_insert(json!([]));
        c.entry("meta").or_insert(json!({}));
        c.entry("alias").or_insert(json!(rel.map(|r| r.identifier.clone())));
        c.entry("schema").or_insert(Value::Null);
        c.entry("database").or_insert(Value::Null);
        c.entry("persist_docs").or_insert(json!({}));
        c.entry("post-hook").or_insert(json!([]));
        c.entry("pre-hook").or_insert(json!([]));
        c.entry("quoting").or_insert(json!({}));
        c.entry("column_types").or_insert(json!({}));
        c.entry("full_refresh").or_insert(Value::Null);
        c.entry("on_schema_change").or_insert(json!("ignore"));
        c.entry("grants").or_insert(json!({}));
        c.entry("packages").or_insert(json!([]));
        c.entry("docs").or_insert(json!({"show": true, "node_color": null}));
        c.entry("contract")
            .or_insert(json!({"enforced": false, "alias_types": true}));
        c.entry("access").or_insert(json!("protected"));
        Value::Object(c)
    };
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
        "group": null,
        "docs": {"show": true, "node_color": null},
        "patch_path": n.patch_path,
        "build_path": null,
        "unrendered_config": {},
        "created_at": 0.0,
        "relation_name": rel.map(|r| r.to_string()),
        "raw_code": n.raw_code,
        "language": "sql",
        "refs": n.refs.iter().map(|r| json!({"name": r.name, "package": r.package, "version": r.version})).collect::<Vec<_>>(),
        "sources": n.sources.iter().map(|(s, t)| json!([s, t])).collect::<Vec<_>>(),
        "metrics": [],
        "depends_on": {"macros": n.depends_on.macros, "nodes": n.depends_on.nodes},
        "compiled_path": n.compiled_code.as_ref().map(|_| format!("target/{}", n.compiled_path())),
        "compiled": n.compiled_code.is_some(),
        "compiled_code": n.compiled_code,
        "extra_ctes_injected": true,
        "extra_ctes": [],
        "contract": {"enforced": false, "alias_types": true, "checksum": null},
        "access": "protected",
        "constraints": [],
        "version": null,
        "latest_version": null,
        "deprecation_date": null,
    });
    if let (Some(t), Value::Object(m)) = (&n.test, &mut v) {
        if let Some(name) = &t.name {
            m.insert(
                "test_metadata".into(),
                json!({"name": name, "kwargs": t.kwargs, "namespace": t.namespace}),
            );
        }
        m.insert("column_name".into(), json!(t.column_name));
        m.insert("attached_node".into(), json!(t.attached_node));
        m.insert(
            "file_key_name".into(),
            json!(t.attached_node.as_ref().map(|a| {
                let parts: Vec<&str> = a.split('.').collect();
                format!(
                    "{}.{}",
                    if a.starts_with("source.") { "sources" } else { "models" },
                    parts.get(2).unwrap_or(&"")
                )
            })),
        );
        for key in ["access", "version", "latest_version", "deprecation_date", "constraints"] {
            m.remove(key);
        }
    }
    v
}

/// The manifest as JSON.
pub fn manifest(project: &Project, invocation_id: &str) -> Value {
    let mut nodes = Map::new();
    for n in project.nodes.values() {
        nodes.insert(n.unique_id.clone(), node_json(project, n));
    }
    let mut sources = Map::new();
    for s in project.sources.values() {
        sources.insert(
            s.unique_id.clone(),
            json!({
                "database": s.relation.database, "schema": s.relation.schema, "name": s.name,
                "resource_type": "source", "package_name": s.package_name, "path": s.original_file_path,
                "original_file_path": s.original_file_path, "unique_id": s.unique_id, "fqn": s.fqn,
                "source_name": s.source_name, "source_description": s.source_description, "loader": s.loader,
                "identifier": s.relation.identifier, "quoting": {}, "loaded_at_field": null, "loaded_at_query": null,
                "freshness": {"warn_after": {"count": null, "period": null}, "error_after": {"count": null, "period": null}, "filter": null},
                "external": null, "description": s.description, "columns": columns_json(&s.columns),
                "meta": s.meta, "source_meta": {}, "tags": s.tags,
                "config": {"enabled": true, "event_time": null, "freshness": null, "meta": s.meta, "tags": s.tags, "loaded_at_field": null, "loaded_at_query": null},
                "patch_path": null, "unrendered_config": {}, "relation_name": s.render(), "created_at": 0.0, "unrendered_database": null, "unrendered_schema": null, "doc_blocks": [],
            }),
        );
    }
    let mut macros = Map::new();
    for m in project.macros.values() {
        let package = m.unique_id.split('.').nth(1).unwrap_or_default();
        macros.insert(
            m.unique_id.clone(),
            json!({
                "name": m.name, "resource_type": "macro", "package_name": package, "path": m.file,
                "original_file_path": m.file, "unique_id": m.unique_id, "macro_sql": "", "depends_on": {"macros": []},
                "description": "", "meta": {}, "docs": {"show": true, "node_color": null}, "patch_path": null,
                "arguments": [], "created_at": 0.0, "supported_languages": null,
            }),
        );
    }
    let mut parent_map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut child_map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for n in project.dag.nodes() {
        let mut parents: Vec<String> = project
            .dag
            .parents(&n.unique_id)
            .into_iter()
            .map(str::to_owned)
            .collect();
        parents.retain(|p| !p.starts_with("source.") || project.sources.contains_key(p));
        parent_map.insert(n.unique_id.clone(), parents);
        child_map.insert(
            n.unique_id.clone(),
            project
                .dag
                .children(&n.unique_id)
                .into_iter()
                .map(str::to_owned)
                .collect(),
        );
    }
    json!({
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
            "dbt_version": concat!("modelc-", env!("CARGO_PKG_VERSION")),
            "generated_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "invocation_id": invocation_id,
            "invocation_started_at": null,
            "env": {},
            "project_name": project.name,
            "project_id": format!("{:032x}", xxhash_rust::xxh3::xxh3_128(project.name.as_bytes())),
            "user_id": null,
            "send_anonymous_usage_stats": false,
            "adapter_type": "duckdb",
            "quoting": {"database": true, "schema": true, "identifier": true, "column": null},
        },
        "nodes": nodes,
        "sources": sources,
        "macros": macros,
        "docs": {},
        "exposures": {},
        "metrics": {},
        "groups": {},
        "selectors": {},
        "disabled": {},
        "parent_map": parent_map,
        "child_map": child_map,
        "group_map": {},
        "saved_queries": {},
        "semantic_models": {},
        "unit_tests": {},
    })
}

/// Writes every node's compiled SQL under `target/compiled/` and `target/manifest.json`.
pub fn write(project: &Project, invocation_id: &str) -> std::io::Result<()> {
    write_compiled(project, project.nodes.values())?;
    let path = project.target_dir.join("manifest.json");
    let text = serde_json::to_string(&manifest(project, invocation_id)).map_err(std::io::Error::other)?;
    write_file(&path, &text)
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
