//! Artifacts under `target/`: compiled SQL files and `manifest.json` (dbt's v12 shape).

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::Path;

use modelc_core::{Node, ResourceType, SourceTable};
use rayon::prelude::*;
use serde_json::{json, Value};

use crate::manifest_node::{columns, node_json, NodeCtx};
use crate::Project;

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

pub(crate) fn source_json(s: &SourceTable) -> Value {
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
        "freshness": freshness, "external": null, "description": s.description, "columns": serde_json::to_value(columns(&s.columns)).unwrap_or_default(),
        "meta": s.meta, "source_meta": {}, "tags": s.tags, "config": config,
        "patch_path": null, "unrendered_config": {}, "relation_name": s.render(), "created_at": 0.0,
        "unrendered_database": null, "unrendered_schema": null, "doc_blocks": [],
    })
}

/// The manifest's file name in the target folder.
pub(crate) const MANIFEST: &str = "manifest.json";

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
pub(crate) fn metadata_json(project_name: &str, adapter_type: &str, invocation_id: &str) -> Value {
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
        "adapter_type": adapter_type,
        "quoting": {"database": true, "schema": true, "identifier": true, "column": null},
    })
}

/// Writes the manifest as JSON. Nodes are serialized in parallel and streamed, a
/// chunk at a time: at 10,000 models the manifest is 70 MB, and its JSON tree would
/// take a gigabyte.
pub fn write_manifest<W: Write + Send>(project: &Project, invocation_id: &str, w: W) -> std::io::Result<Layout> {
    const CHUNK: usize = 1024;
    let mut w = Counting { inner: w, pos: 0 };
    let mut layout = Layout::default();
    let mut tests_of: HashMap<&str, Vec<&Node>> = HashMap::new();
    for n in project.nodes.values() {
        if let Some(attached) = n.test.as_ref().and_then(|t| t.attached_node.as_deref()) {
            tests_of.entry(attached).or_default().push(n);
        }
    }
    w.write_all(b"{\"metadata\":")?;
    serde_json::to_writer(&mut w, &metadata_json(&project.name, &project.db.engine, invocation_id))?;
    layout.header_end = w.pos;
    w.write_all(b",\"nodes\":{")?;
    let ctx = NodeCtx::of(project);
    // Unit tests have a map of their own.
    let nodes: Vec<(&String, &Node)> = project
        .nodes
        .iter()
        .filter(|(_, n)| n.resource_type != ResourceType::UnitTest)
        .collect();
    let serialize = |chunk: &[(&String, &Node)]| -> Vec<(String, Vec<String>)> {
        chunk
            .par_iter()
            .map(|(id, n)| {
                let tests = tests_of.get(id.as_str()).map(Vec::as_slice).unwrap_or_default();
                let pk = primary_key(tests);
                (node_json(&ctx, n, &pk), pk)
            })
            .collect()
    };
    // Each chunk is written while the next one is serialized.
    let mut chunks = nodes.chunks(CHUNK).enumerate().peekable();
    let mut texts = chunks.peek().map(|(_, c)| serialize(c)).unwrap_or_default();
    while let Some((c, chunk)) = chunks.next() {
        let next = chunks.peek().map(|(_, c)| *c);
        let current = std::mem::take(&mut texts);
        let layout = &mut layout;
        let w = &mut w;
        let write = move || -> std::io::Result<()> {
            for (i, ((id, n), (text, pk))) in chunk.iter().zip(current).enumerate() {
                if c > 0 || i > 0 {
                    w.write_all(b",")?;
                }
                serde_json::to_writer(&mut *w, id)?;
                w.write_all(b":")?;
                let start = w.pos;
                w.write_all(text.as_bytes())?;
                if n.resource_type == ResourceType::Model {
                    layout.models.insert(id.to_string(), ((start, w.pos), pk));
                }
            }
            Ok(())
        };
        let (written, serialized) = rayon::join(write, || next.map(serialize));
        written?;
        texts = serialized.unwrap_or_default();
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
    w.write_all(b",\"exposures\":")?;
    write_object(
        &mut w,
        project
            .exposures
            .values()
            .map(|e| (e.unique_id.clone(), e.manifest_json().to_string())),
    )?;
    for key in ["docs", "metrics", "groups", "selectors", "disabled"] {
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
    w.write_all(b",\"unit_tests\":")?;
    write_object(
        &mut w,
        project
            .nodes
            .values()
            .filter_map(|n| Some((n, n.unit_test.as_ref()?)))
            .map(|(n, spec)| {
                (
                    n.unique_id.clone(),
                    crate::unit_tests::manifest_json(n, spec).to_string(),
                )
            }),
    )?;
    for key in ["group_map", "saved_queries", "semantic_models", "functions"] {
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

/// Writes the compiled SQL files users open (see [`write_compiled_to`]) and
/// `target/manifest.json`; returns where the manifest put each model.
///
/// The files are written while the manifest streams: creating thousands of small
/// files waits on the file system more than it works the CPU.
pub fn write(project: &Project, invocation_id: &str) -> std::io::Result<Layout> {
    std::thread::scope(|s| {
        let files = s.spawn(|| write_compiled_files(project));
        let layout = write_manifest_file(project, invocation_id);
        files
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("writing the compiled SQL failed")))?;
        layout
    })
}

/// Writes `target/manifest.json` (atomically); returns where it put each model.
pub fn write_manifest_file(project: &Project, invocation_id: &str) -> std::io::Result<Layout> {
    let mut layout = Layout::default();
    replace_file(&project.target_dir.join(MANIFEST), |w| {
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

/// Writes the compiled SQL files of the project's nodes that users open (see
/// [`write_compiled_to`]).
pub fn write_compiled_files(project: &Project) -> std::io::Result<()> {
    write_compiled_to(&project.target_dir, project.nodes.values())
}

/// Writes the compiled SQL of some nodes, each one: what `compile -s` selects, a
/// test that failed.
pub fn write_compiled<'a>(project: &Project, nodes: impl Iterator<Item = &'a Node>) -> std::io::Result<()> {
    write_files(&project.target_dir, nodes.collect())
}

/// Writes the compiled SQL of some nodes under `target_dir`, in parallel: every one
/// but generic data tests, whose file is written when it is asked for
/// ([`write_compiled`]) and kept current once it is there. They are most nodes of a
/// project (70% of a large one's files) and nobody opens them unless they fail;
/// their SQL is in `manifest.json` all the same.
pub(crate) fn write_compiled_to<'a>(target_dir: &Path, nodes: impl Iterator<Item = &'a Node>) -> std::io::Result<()> {
    let (tests, mut written): (Vec<&Node>, Vec<&Node>) = nodes.partition(|n| n.is_generic_test());
    // The files already there, one directory listing per YAML file's folder.
    let mut present: HashMap<std::path::PathBuf, BTreeSet<std::ffi::OsString>> = HashMap::new();
    for t in tests {
        let path = target_dir.join(t.compiled_path());
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            continue;
        };
        let names = present.entry(dir.to_path_buf()).or_insert_with(|| {
            std::fs::read_dir(dir)
                .map(|entries| entries.filter_map(|e| Some(e.ok()?.file_name())).collect())
                .unwrap_or_default()
        });
        if names.contains(name) {
            written.push(t);
        }
    }
    write_files(target_dir, written)
}

/// Writes each node's compiled SQL to its file, unless the file already has it.
fn write_files(target_dir: &Path, nodes: Vec<&Node>) -> std::io::Result<()> {
    let files: Vec<(std::path::PathBuf, &str)> = nodes
        .into_iter()
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
