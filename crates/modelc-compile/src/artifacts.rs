//! Artifacts under `target/`: compiled SQL files and `manifest.json` (dbt's v12 shape).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::Path;

use modelc_core::{ColumnInfo, DbConfig, Node, ResourceType, SourceTable};
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
fn test_model_kwarg(project: &NodeCtx<'_>, attached_node: &str) -> Option<String> {
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

/// What a node's manifest entry reads besides the node.
pub(crate) struct NodeCtx<'a> {
    pub root: &'a Path,
    pub db: &'a DbConfig,
    pub sources: &'a BTreeMap<String, SourceTable>,
    pub nodes: &'a BTreeMap<String, Node>,
}

impl<'a> NodeCtx<'a> {
    fn of(project: &'a Project) -> Self {
        NodeCtx {
            root: &project.root,
            db: &project.db,
            sources: &project.sources,
            nodes: &project.nodes,
        }
    }
}

/// A node's manifest entry; `primary_key` as [`primary_key`] infers it from its tests.
pub(crate) fn node_json(project: &NodeCtx<'_>, n: &Node, primary_key: Vec<String>) -> Value {
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
                "primary_key": primary_key,
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

/// Writes a JSON object from `(key, value)` pairs whose values are already JSON text.
fn write_object<W: Write>(w: &mut W, entries: impl IntoIterator<Item = (String, String)>) -> std::io::Result<()> {
    w.write_all(b"{")?;
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        serde_json::to_writer(&mut *w, &key)?;
        w.write_all(b":")?;
        w.write_all(value.as_bytes())?;
    }
    w.write_all(b"}")
}

/// A writer that counts the bytes written.
struct Counting<W> {
    inner: W,
    pos: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.pos += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Where the manifest written put what the compile state patches later: the end of
/// `metadata`, and each model's entry (byte ranges of the JSON value) with its
/// primary key.
#[derive(Debug, Default)]
pub struct Layout {
    /// Offset just after the metadata object.
    pub header_end: u64,
    /// By model unique id: the byte range of its entry, and its primary key.
    pub models: HashMap<String, ((u64, u64), Vec<String>)>,
}

/// The manifest's `metadata` object.
pub(crate) fn metadata_json(project_name: &str, invocation_id: &str) -> Value {
    json!({
        "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
        "dbt_version": concat!("modelc-", env!("CARGO_PKG_VERSION")),
        "generated_at": generated_at(),
        "invocation_id": invocation_id,
        "invocation_started_at": null,
        "env": {},
        "project_name": project_name,
        "project_id": format!("{:032x}", xxhash_rust::xxh3::xxh3_128(project_name.as_bytes())),
        "user_id": null,
        "send_anonymous_usage_stats": false,
        "adapter_type": "duckdb",
        "quoting": {"database": true, "schema": true, "identifier": true, "column": null},
    })
}

/// Writes the manifest as JSON. Nodes are serialized in parallel and streamed, a
/// chunk at a time: at 10,000 models the manifest is 70 MB, and its JSON tree would
/// take a gigabyte.
pub fn write_manifest<W: Write>(project: &Project, invocation_id: &str, w: W) -> std::io::Result<Layout> {
    const CHUNK: usize = 2048;
    let mut w = Counting { inner: w, pos: 0 };
    let mut layout = Layout::default();
    let mut tests_of: HashMap<&str, Vec<&Node>> = HashMap::new();
    for n in project.nodes.values() {
        if let Some(attached) = n.test.as_ref().and_then(|t| t.attached_node.as_deref()) {
            tests_of.entry(attached).or_default().push(n);
        }
    }
    w.write_all(b"{\"metadata\":")?;
    serde_json::to_writer(&mut w, &metadata_json(&project.name, invocation_id))?;
    layout.header_end = w.pos;
    w.write_all(b",\"nodes\":{")?;
    let ctx = NodeCtx::of(project);
    let nodes: Vec<(&String, &Node)> = project.nodes.iter().collect();
    for (c, chunk) in nodes.chunks(CHUNK).enumerate() {
        let texts: Vec<(String, Vec<String>)> = chunk
            .par_iter()
            .map(|(id, n)| {
                let tests = tests_of.get(id.as_str()).map(Vec::as_slice).unwrap_or_default();
                let pk = primary_key(tests);
                (node_json(&ctx, n, pk.clone()).to_string(), pk)
            })
            .collect();
        for (i, ((id, n), (text, pk))) in chunk.iter().zip(texts).enumerate() {
            if c > 0 || i > 0 {
                w.write_all(b",")?;
            }
            serde_json::to_writer(&mut w, id)?;
            w.write_all(b":")?;
            let start = w.pos;
            w.write_all(text.as_bytes())?;
            if n.resource_type == ResourceType::Model {
                layout.models.insert(id.to_string(), ((start, w.pos), pk));
            }
        }
    }
    w.write_all(b"},\"sources\":")?;
    write_object(
        &mut w,
        project
            .sources
            .values()
            .map(|s| (s.unique_id.clone(), source_json(s).to_string())),
    )?;
    w.write_all(b",\"macros\":")?;
    write_object(
        &mut w,
        project.macros.values().map(|m| {
            let package = m.unique_id.split('.').nth(1).unwrap_or_default();
            let v = json!({
                "name": m.name, "resource_type": "macro", "package_name": package, "path": m.file,
                "original_file_path": m.file, "unique_id": m.unique_id, "macro_sql": m.sql, "depends_on": {"macros": []},
                "description": "", "meta": {}, "docs": {"show": true, "node_color": null}, "patch_path": null,
                "arguments": [], "created_at": 0.0, "supported_languages": null,
            });
            (m.unique_id.clone(), v.to_string())
        }),
    )?;
    for key in ["docs", "exposures", "metrics", "groups", "selectors", "disabled"] {
        write!(w, ",\"{key}\":{{}}")?;
    }
    let mut ids: Vec<&str> = project.dag.nodes().map(|n| n.unique_id.as_str()).collect();
    ids.sort_unstable();
    let maps: Vec<(String, String)> = ids
        .par_iter()
        .map(|id| {
            let parents: Vec<&str> = project
                .dag
                .parents(id)
                .into_iter()
                .filter(|p| !p.starts_with("source.") || project.sources.contains_key(*p))
                .collect();
            (json!(parents).to_string(), json!(project.dag.children(id)).to_string())
        })
        .collect();
    w.write_all(b",\"parent_map\":")?;
    write_object(
        &mut w,
        ids.iter().zip(&maps).map(|(id, (p, _))| (id.to_string(), p.clone())),
    )?;
    w.write_all(b",\"child_map\":")?;
    write_object(&mut w, ids.iter().zip(maps).map(|(id, (_, c))| (id.to_string(), c)))?;
    for key in [
        "group_map",
        "saved_queries",
        "semantic_models",
        "unit_tests",
        "functions",
    ] {
        write!(w, ",\"{key}\":{{}}")?;
    }
    w.write_all(b"}")?;
    w.flush()?;
    Ok(layout)
}

/// The manifest as JSON text (see [`write_manifest`]).
pub fn manifest_text(project: &Project, invocation_id: &str) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail, and the JSON is UTF-8.
    let _ = write_manifest(project, invocation_id, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// The manifest as a JSON value (see [`write_manifest`]).
pub fn manifest(project: &Project, invocation_id: &str) -> Value {
    serde_json::from_str(&manifest_text(project, invocation_id)).unwrap_or(Value::Null)
}

/// Writes every node's compiled SQL under `target/compiled/` and `target/manifest.json`;
/// returns where the manifest put each model.
pub fn write(project: &Project, invocation_id: &str) -> std::io::Result<Layout> {
    write_compiled(project, project.nodes.values())?;
    let mut layout = Layout::default();
    replace_file(&project.target_dir.join("manifest.json"), |w| {
        layout = write_manifest(project, invocation_id, w)?;
        Ok(())
    })?;
    Ok(layout)
}

/// Writes a file through a temporary one renamed over it: a killed process leaves
/// the previous file, never half of one.
pub(crate) fn replace_file(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = std::fs::File::create(&tmp).and_then(|f| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        write(&mut w)?;
        w.flush()
    });
    match written.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Now, as dbt writes `generated_at` (RFC 3339, microseconds, `Z`).
pub fn generated_at() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Writes the compiled SQL of some nodes.
pub fn write_compiled<'a>(project: &Project, nodes: impl Iterator<Item = &'a Node>) -> std::io::Result<()> {
    write_compiled_to(&project.target_dir, nodes)
}

/// Writes the compiled SQL of some nodes under `target_dir`, in parallel.
pub(crate) fn write_compiled_to<'a>(target_dir: &Path, nodes: impl Iterator<Item = &'a Node>) -> std::io::Result<()> {
    let files: Vec<(std::path::PathBuf, &str)> = nodes
        .filter(|n| n.resource_type != ResourceType::Seed)
        .filter_map(|n| Some((target_dir.join(n.compiled_path()), n.compiled_code.as_deref()?)))
        .collect();
    let dirs: BTreeSet<&Path> = files.iter().filter_map(|(p, _)| p.parent()).collect();
    for d in dirs {
        std::fs::create_dir_all(d)?;
    }
    files.par_iter().try_for_each(|(path, sql)| write_file(path, sql))
}

/// Writes a file unless it already has this content: compile is often re-run on a
/// mostly unchanged project, and unchanged files keep their modification times.
fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    let same_size = std::fs::metadata(path).is_ok_and(|m| m.len() == text.len() as u64);
    if same_size && std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    std::fs::write(path, text)
}
