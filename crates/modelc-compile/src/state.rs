//! The compile state, `target/compile_state.msgpack` (with the compiled nodes in
//! `target/compile_nodes.msgpack`): what `modelc compile` needs to redo only the
//! models whose SQL files changed since the last compile, and to patch their
//! entries into the last `manifest.json` instead of rewriting it from scratch.
//!
//! The state stands in for a full compile only when that is provably the same:
//! - every file and folder the last load read is stamped (see
//!   [`modelc_project::stamp`]); only changed *model SQL files* are handled, any
//!   other change (YAML, macros, seeds, the project file, a file added or removed)
//!   means a full compile;
//! - the options and modelc's version are in a global key; the profile is read
//!   again and compared; the environment variables renders read keep their values;
//! - a changed model is rendered again; it must set the same config, `ref` and
//!   `source` the same relations as before (so the graph, every relation name and
//!   every other node's SQL are unchanged), must not be ephemeral nor read an
//!   ephemeral model (those are inlined as CTEs elsewhere), and neither it nor any
//!   other node may read what changes at every compile (`invocation_id`, time);
//! - the `manifest.json` patched is the one the state was saved with (size, time,
//!   inode), and only warnings the changed file's render and SQL analysis produce
//!   are located in it.
//!
//! Anything else returns an error saying why, and the caller compiles in full (with
//! the render and analysis cache), which saves a new state.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use modelc_core::{DbConfig, Diagnostic, Diagnostics, JsonMap, Node, ResourceType, SourceTable};
use modelc_project::stamp::{Changes, Stamps};
use modelc_project::ProjectInput;
use modelc_template::{Jinja, MacroFile};
use serde::{Deserialize, Serialize};

use crate::artifacts::{self, Layout};
use crate::cache::{hash, Hash, Recorder};
use crate::manifest_node::{node_json, NodeCtx};
use crate::{analyze, project_context, render_env, render_node, resolve, target_dir_in, CompileOptions, Project};

const STATE: &str = "compile_state.msgpack";
const NODES: &str = "compile_nodes.msgpack";
const FORMAT: &str = concat!("modelc-compile-state-4/", env!("CARGO_PKG_VERSION"));
/// Warnings a model's render and analysis produce, and the fast path reproduces.
const REDONE: &[&str] = &[
    "unknown-config",
    "sql-parse",
    "direct-reference",
    "unknown-column",
    "set-mismatch",
];

/// What a full compile gathers for [`save`].
#[derive(Debug, Default)]
pub struct Seed {
    stamps: Stamps,
    project_name: String,
    vars: String,
    target: String,
    /// The profile's settings, as read (env vars rendered).
    profile: String,
    /// Environment variables read by renders.
    pub(crate) env_vars: BTreeSet<String>,
    pub(crate) macro_files: Vec<String>,
    /// Some render could not be cached (it reads what changes at every compile).
    pub(crate) volatile: bool,
    /// Each model's config before rendering.
    pub(crate) shell_configs: HashMap<String, JsonMap>,
    /// Each node's resolved `ref` and `source` targets, in call order.
    pub(crate) deps: HashMap<String, resolve::Deps>,
    /// The columns the analysis knew, to check a model compiled again.
    pub(crate) columns: analyze::Columns,
}

impl Seed {
    /// Takes the input's stamps: the state is what they are kept for.
    pub(crate) fn new(input: &mut ProjectInput, vars: &JsonMap, target: &JsonMap) -> Seed {
        Seed {
            stamps: std::mem::take(&mut input.stamps),
            project_name: input.config.name.clone(),
            vars: serde_json::to_string(vars).unwrap_or_default(),
            target: serde_json::to_string(target).unwrap_or_default(),
            profile: format!("{:?}", input.profile),
            // The state keeps the root project's macro files only.
            volatile: !input.packages.is_empty(),
            ..Seed::default()
        }
    }
}

/// Identifies one version of a file modelc wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct FileId {
    len: u64,
    mtime: u128,
    inode: u64,
}

impl FileId {
    fn of(path: &Path) -> Option<FileId> {
        let m = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&m);
        #[cfg(not(unix))]
        let inode = 0;
        Some(FileId {
            len: m.len(),
            mtime: m
                .modified()
                .ok()?
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_nanos(),
            inode,
        })
    }
}

/// A model the fast path can compile again on its own.
#[derive(Debug, Serialize, Deserialize)]
struct ModelState {
    /// The model file's absolute path.
    path: PathBuf,
    unique_id: String,
    /// Config before rendering, as JSON.
    shell_config: String,
    ref_ids: Vec<String>,
    source_ids: Vec<String>,
    /// Byte range of its entry in `manifest.json`.
    manifest: (u64, u64),
    primary_key: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct State {
    format: String,
    global: Hash,
    stamps: Stamps,
    project_name: String,
    vars: String,
    target: String,
    profile: String,
    /// Environment variables read by renders, with their values.
    env: Vec<(String, Option<String>)>,
    macro_files: Vec<String>,
    db: DbConfig,
    manifest: FileId,
    header_end: u64,
    nodes_file: FileId,
    /// Byte ranges of the compiled models, seeds and snapshots in the nodes file,
    /// sorted by unique id. (Vectors, not maps: loading 10,000 entries into hash
    /// maps was a tenth of a patched compile.)
    blobs: Vec<(String, (u64, u64))>,
    models: Vec<ModelState>,
    /// The relations the project knows, one per line: decoded only when a model is
    /// compiled again.
    known: String,
    sources: BTreeMap<String, SourceTable>,
    diagnostics: Vec<Diagnostic>,
    compiled: usize,
    /// The columns of every relation the analysis knew, by key, sorted, and the
    /// keys whose lists are only declared ones (sources').
    columns: Vec<(String, Vec<String>)>,
    /// The types of `columns`' columns, where known.
    types: Vec<(String, Vec<Option<modelc_sql::Ty>>)>,
    typed: bool,
    incomplete: Vec<String>,
}

/// The options a compile's result depends on, and modelc's version.
fn global_key(root: &Path, opts: &CompileOptions) -> Hash {
    let options = format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{}|{}|{}",
        serde_json::to_string(&opts.vars).unwrap_or_default(),
        opts.target,
        opts.profiles_dir,
        opts.db_path,
        opts.threads,
        opts.target_path,
        opts.full_refresh,
        opts.skip_lineage,
        opts.empty,
        opts.skip_static_analysis
    );
    hash(&[
        FORMAT.as_bytes(),
        root.as_os_str().as_encoded_bytes(),
        options.as_bytes(),
    ])
}

/// Environment variables with their current values.
fn env_values<'a>(names: impl Iterator<Item = &'a String>) -> Vec<(String, Option<String>)> {
    names.map(|n| (n.clone(), std::env::var(n).ok())).collect()
}

/// Appends each node, as MessagePack, to the nodes file at offset `start`; returns
/// their byte ranges.
fn write_blobs<'a>(
    w: &mut impl Write,
    start: u64,
    nodes: impl Iterator<Item = &'a Node>,
) -> std::io::Result<Vec<(String, (u64, u64))>> {
    let mut ranges = Vec::new();
    let mut pos = start;
    for n in nodes {
        let bytes = rmp_serde::to_vec(n).map_err(std::io::Error::other)?;
        w.write_all(&bytes)?;
        ranges.push((n.unique_id.clone(), (pos, pos + bytes.len() as u64)));
        pos += bytes.len() as u64;
    }
    Ok(ranges)
}

fn write_state(target_dir: &Path, state: &State) -> std::io::Result<()> {
    let bytes = rmp_serde::to_vec(state).map_err(std::io::Error::other)?;
    artifacts::replace_file(&target_dir.join(STATE), |w| w.write_all(&bytes))
}

/// Removes the state (a full compile that cannot save one makes it useless).
pub fn remove(target_dir: &Path) {
    let _ = std::fs::remove_file(target_dir.join(STATE));
    let _ = std::fs::remove_file(target_dir.join(NODES));
}

/// Saves the state of a full compile whose artifacts were just written (`layout`:
/// where the manifest put each model). Errors only cost the next compile time.
pub fn save(project: &Project, seed: Seed, layout: Layout, diagnostics: &Diagnostics, opts: &CompileOptions) {
    let dir = &project.target_dir;
    if seed.volatile {
        remove(dir);
        return;
    }
    let saved = (|| -> std::io::Result<()> {
        let refable = project.nodes.values().filter(|n| {
            matches!(
                n.resource_type,
                ResourceType::Model | ResourceType::Seed | ResourceType::Snapshot
            )
        });
        let mut blobs = Vec::new();
        artifacts::replace_file(&dir.join(NODES), |w| {
            blobs = write_blobs(w, 0, refable)?;
            Ok(())
        })?;
        blobs.sort_unstable();
        let mut models = Vec::new();
        for (id, (range, primary_key)) in layout.models {
            let Some(n) = project.nodes.get(&id) else { continue };
            let (ref_ids, source_ids) = seed.deps.get(&id).cloned().unwrap_or_default();
            let ephemeral_input = ref_ids
                .iter()
                .any(|p| project.nodes.get(p).is_some_and(Node::is_ephemeral));
            let Some(shell) = seed.shell_configs.get(&id) else {
                continue;
            };
            if n.is_ephemeral() || ephemeral_input {
                continue;
            }
            models.push(ModelState {
                path: project.root.join(&n.original_file_path),
                unique_id: id,
                shell_config: serde_json::to_string(shell).map_err(std::io::Error::other)?,
                ref_ids,
                source_ids,
                manifest: range,
                primary_key,
            });
        }
        let state = State {
            format: FORMAT.to_string(),
            global: global_key(&project.root, opts),
            stamps: seed.stamps,
            project_name: seed.project_name,
            vars: seed.vars,
            target: seed.target,
            profile: seed.profile,
            env: env_values(seed.env_vars.iter()),
            macro_files: seed.macro_files,
            db: project.db.clone(),
            manifest: FileId::of(&dir.join(artifacts::MANIFEST)).ok_or_else(|| std::io::Error::other("no manifest"))?,
            header_end: layout.header_end,
            nodes_file: FileId::of(&dir.join(NODES)).ok_or_else(|| std::io::Error::other("no nodes file"))?,
            blobs,
            models,
            known: {
                let mut known: Vec<String> = analyze::known_relations(&project.nodes, &project.sources)
                    .into_iter()
                    .collect();
                known.sort_unstable();
                known.join("\n")
            },
            sources: project.sources.clone(),
            diagnostics: diagnostics.0.clone(),
            compiled: project.nodes.values().filter(|n| n.compiled_code.is_some()).count(),
            columns: {
                let mut columns: Vec<(String, Vec<String>)> = seed.columns.catalog.into_iter().collect();
                columns.sort_unstable();
                columns
            },
            types: seed.columns.types.into_iter().collect(),
            typed: seed.columns.typed,
            incomplete: seed.columns.incomplete.into_iter().collect(),
        };
        write_state(dir, &state)
    })();
    if saved.is_err() {
        remove(dir);
    }
}

/// The result of a compile done from the state.
#[derive(Debug)]
pub struct Recompiled {
    /// Every diagnostic, as a full compile would report them.
    pub diagnostics: Diagnostics,
    /// Nodes with compiled SQL.
    pub compiled: usize,
    /// Models compiled again (unique ids, sorted).
    pub rendered: Vec<String>,
    /// The artifact folder.
    pub target_dir: PathBuf,
}

/// A changed model, compiled again.
struct Redone {
    node: Node,
    /// Environment variables its render read.
    env_vars: BTreeSet<String>,
    warnings: Vec<Diagnostic>,
    entry: String,
    old_range: (u64, u64),
}

fn read_blob(file: &mut std::fs::File, (start, end): (u64, u64)) -> Option<Node> {
    let mut buf = vec![0; usize::try_from(end.checked_sub(start)?).ok()?];
    file.seek(SeekFrom::Start(start)).ok()?;
    file.read_exact(&mut buf).ok()?;
    rmp_serde::from_slice(&buf).ok()
}

/// Why the state cannot stand in for a full compile.
pub type Fallback = String;

fn why<T, E>(r: Result<T, E>, what: &str) -> Result<T, Fallback> {
    r.map_err(|_| what.to_string())
}

impl State {
    /// The model whose file this is.
    fn model(&self, path: &Path) -> Option<&ModelState> {
        self.models.iter().find(|m| m.path == path)
    }
}

/// Compiles the project from the state of the last compile, when only model SQL
/// files changed in ways that cannot affect any other node; writes the changed
/// models' compiled SQL, the patched `manifest.json` and the new state. An error
/// says why a full compile is needed; nothing was written then.
pub fn recompile(root: &Path, opts: &CompileOptions, invocation_id: &str) -> Result<Recompiled, Fallback> {
    let root = why(root.canonicalize(), "no project folder")?;
    let mut diags = Vec::new();
    let config = modelc_project::read_project_file(&root, &mut diags).ok_or("no project file")?;
    let target_dir = target_dir_in(&root, &config, opts);
    let bytes = why(std::fs::read(target_dir.join(STATE)), "no compile state")?;
    let mut state: State = why(rmp_serde::from_slice(&bytes), "an unreadable compile state")?;
    let manifest_path = target_dir.join(artifacts::MANIFEST);
    let nodes_path = target_dir.join(NODES);
    if state.format != FORMAT {
        return Err("a compile state of another modelc version".into());
    }
    if state.global != global_key(&root, opts) {
        return Err("other options".into());
    }
    if state.env.iter().any(|(name, value)| std::env::var(name).ok() != *value) {
        return Err("an environment variable read by a model changed".into());
    }
    let profile = modelc_project::read_profile(
        &root,
        opts.profiles_dir.as_deref(),
        config.profile.as_deref().unwrap_or(&config.name),
        opts.target.as_deref(),
        &mut diags,
    );
    if format!("{profile:?}") != state.profile {
        return Err("the profile changed".into());
    }
    if FileId::of(&manifest_path) != Some(state.manifest) || FileId::of(&nodes_path) != Some(state.nodes_file) {
        return Err("manifest.json was written by another command".into());
    }
    let Changes::Files(changed) = state.stamps.changes() else {
        return Err("files were added, removed or changed beyond their text".into());
    };
    if let Some(c) = changed.iter().find(|c| state.model(&c.path).is_none()) {
        return Err(format!("{} changed", c.path.display()));
    }
    // A unit test holds its model's compiled SQL.
    for m in changed.iter().filter_map(|c| state.model(&c.path)) {
        let prefix = format!(
            "unit_test.{}.",
            m.unique_id.split_once('.').map_or("", |(_, rest)| rest)
        );
        if state.blobs.iter().any(|(id, _)| id.starts_with(&prefix)) {
            return Err(format!("{}, which has unit tests, changed", m.path.display()));
        }
    }

    let redone = if changed.is_empty() {
        Vec::new()
    } else {
        redo(&root, &state, &nodes_path, &changed, !opts.skip_static_analysis)?
    };

    // Warnings: last compile's, with those of the changed files made again.
    let redone_files: HashSet<PathBuf> = redone
        .iter()
        .map(|r| PathBuf::from(&r.node.original_file_path))
        .collect();
    let mut diagnostics = Vec::new();
    for d in &state.diagnostics {
        match &d.file {
            Some(f) if redone_files.contains(f) => {
                if !REDONE.contains(&d.code.as_ref()) {
                    return Err(format!("a {} warning in {}", d.code, f.display()));
                }
            }
            _ => diagnostics.push(d.clone()),
        }
    }
    diagnostics.extend(redone.iter().flat_map(|r| r.warnings.iter().cloned()));
    let mut diagnostics = Diagnostics(diagnostics);
    diagnostics.sort();

    // From here on files are written: each write is atomic, and the state is saved
    // last, naming the manifest and nodes file it matches.
    let written = "the artifacts could not be written";
    why(
        artifacts::write_compiled_to(&target_dir, redone.iter().map(|r| &r.node)),
        written,
    )?;
    let header = format!(
        "{{\"metadata\":{}",
        artifacts::metadata_json(&state.project_name, &state.db.engine, invocation_id)
    );
    let mut pieces: Vec<&Redone> = redone.iter().collect();
    pieces.sort_by_key(|r| r.old_range.0);
    let mut old = why(std::fs::File::open(&manifest_path), written)?;
    let spliced = artifacts::replace_file(&manifest_path, |w| {
        w.write_all(header.as_bytes())?;
        let mut pos = state.header_end;
        for r in &pieces {
            let before = r
                .old_range
                .0
                .checked_sub(pos)
                .ok_or_else(|| std::io::Error::other("overlapping entries"))?;
            old.seek(SeekFrom::Start(pos))?;
            std::io::copy(&mut (&mut old).take(before), w)?;
            w.write_all(r.entry.as_bytes())?;
            pos = r.old_range.1;
        }
        old.seek(SeekFrom::Start(pos))?;
        std::io::copy(&mut old, w)?;
        Ok(())
    });
    why(spliced, written)?;

    // The new offsets: everything moves by the header's change, and by the change of
    // each entry before it.
    let header_delta = header.len() as i64 - state.header_end as i64;
    let deltas: Vec<(u64, i64)> = pieces
        .iter()
        .map(|r| {
            (
                r.old_range.0,
                r.entry.len() as i64 - (r.old_range.1 - r.old_range.0) as i64,
            )
        })
        .collect();
    let new_ids: HashMap<&str, &Redone> = redone.iter().map(|r| (r.node.unique_id.as_str(), r)).collect();
    for m in &mut state.models {
        let shift: i64 = header_delta
            + deltas
                .iter()
                .filter(|(start, _)| *start < m.manifest.0)
                .map(|(_, d)| d)
                .sum::<i64>();
        let start = (m.manifest.0 as i64 + shift) as u64;
        let len = match new_ids.get(m.unique_id.as_str()) {
            Some(r) => r.entry.len() as u64,
            None => m.manifest.1 - m.manifest.0,
        };
        m.manifest = (start, start + len);
    }
    state.header_end = header.len() as u64;

    // New nodes appended to the nodes file.
    let end = state.nodes_file.len;
    // The manifest is written: from here on a failure only drops the state.
    let saved = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new().append(true).open(&nodes_path)?;
        let ranges = write_blobs(&mut f, end, redone.iter().map(|r| &r.node))?;
        f.flush()?;
        drop(f);
        for (id, range) in ranges {
            match state.blobs.binary_search_by(|(b, _)| b.as_str().cmp(&id)) {
                Ok(i) => state.blobs[i].1 = range,
                Err(i) => state.blobs.insert(i, (id, range)),
            }
        }
        for c in &changed {
            state.stamps.update(c);
        }
        let known: BTreeSet<String> = state.env.iter().map(|(n, _)| n.clone()).collect();
        let new: BTreeSet<&String> = redone
            .iter()
            .flat_map(|r| &r.env_vars)
            .filter(|n| !known.contains(*n))
            .collect();
        state.env.extend(env_values(new.into_iter()));
        let missing = || std::io::Error::other("missing");
        state.manifest = FileId::of(&manifest_path).ok_or_else(missing)?;
        state.nodes_file = FileId::of(&nodes_path).ok_or_else(missing)?;
        state.diagnostics = diagnostics.0.clone();
        write_state(&target_dir, &state)
    })();
    if saved.is_err() {
        remove(&target_dir);
    }
    let mut rendered: Vec<String> = redone.into_iter().map(|r| r.node.unique_id).collect();
    rendered.sort();
    Ok(Recompiled {
        diagnostics,
        compiled: state.compiled,
        rendered,
        target_dir,
    })
}

/// Renders, substitutes and analyzes the changed models again; `None` when one of
/// them changed in a way only a full compile handles.
fn redo(
    root: &Path,
    state: &State,
    nodes_path: &Path,
    changed: &[modelc_project::stamp::ChangedFile],
    check: bool,
) -> Result<Vec<Redone>, Fallback> {
    let macro_files = state
        .macro_files
        .iter()
        .map(|p| {
            Some(MacroFile {
                path: p.clone(),
                text: std::fs::read_to_string(root.join(p)).ok().map(|mut t| {
                    modelc_project::strip_bom(&mut t);
                    t
                })?,
                package: None,
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or("a macro file cannot be read")?;
    let vars: JsonMap = why(serde_json::from_str(&state.vars), "unreadable vars")?;
    let target: JsonMap = why(serde_json::from_str(&state.target), "an unreadable target")?;
    let ctx = project_context(&state.project_name, vars.clone(), target, false);
    let (jinja, _) = Jinja::new(ctx, &macro_files);
    let env = render_env(&jinja, &macro_files, &vars, &state.db.engine);
    let mut blobs = why(std::fs::File::open(nodes_path), "no compiled nodes")?;
    let mut node_of = |id: &str| {
        state
            .blobs
            .binary_search_by(|(b, _)| b.as_str().cmp(id))
            .ok()
            .and_then(|i| read_blob(&mut blobs, state.blobs[i].1))
            .ok_or_else(|| format!("{id} is not in the compiled nodes"))
    };
    // Sorted when saved: looked up by binary search, without building a set.
    let known: Vec<&str> = state.known.lines().collect();
    let is_known = |k: &str| known.binary_search(&k).is_ok();
    let columns = analyze::Columns {
        catalog: state.columns.iter().cloned().collect(),
        types: state.types.iter().cloned().collect(),
        incomplete: state.incomplete.iter().cloned().collect(),
        typed: state.typed,
    };
    let no_nodes = BTreeMap::new();
    let ctx = NodeCtx {
        root,
        db: &state.db,
        sources: &state.sources,
        nodes: &no_nodes,
    };
    let mut out = Vec::new();
    for c in changed {
        let m = state.model(&c.path).ok_or("not a model")?;
        if c.text.trim().is_empty() || c.text.contains('\0') {
            // An empty model is no node, a NUL byte an error: a full compile says so.
            return Err("a model file is empty or has a NUL byte".into());
        }
        let old = node_of(&m.unique_id)?;
        let mut node = old.clone();
        node.config.0 = why(serde_json::from_str(&m.shell_config), "an unreadable config")?;
        let file = c.path.display();
        let (rendered, incremental) = why(
            render_node(&jinja, &mut node, &c.text),
            &format!("{file} does not render"),
        )?;
        // Volatile renders, or macros the render cache cannot follow: full compile.
        env.entry((0, 0), &c.text, &rendered, incremental.as_ref())
            .ok_or_else(|| format!("{file} reads what changes at every compile"))?;
        if node.config != old.config || rendered.refs != old.refs || rendered.sources != old.sources {
            return Err(format!("{file} changed its config, refs or sources"));
        }
        let mut parents = BTreeMap::new();
        for id in &m.ref_ids {
            let p = node_of(id)?;
            if p.is_ephemeral() {
                return Err(format!("{file} reads an ephemeral model"));
            }
            parents.insert(id.clone(), p);
        }
        node.raw_code = c.text.clone();
        node.checksum = crate::nodes::checksum(&c.text);
        node.depends_on.macros = rendered.macros.iter().cloned().collect();
        let sub =
            |sql: &str| resolve::substitute(sql, &node, (&m.ref_ids, &m.source_ids), &parents, &state.sources, None);
        let compiled = sub(&rendered.sql);
        let compiled_incremental = incremental.as_ref().map(|o| sub(&o.sql));
        node.compiled_code = Some(compiled);
        node.compiled_incremental_code = compiled_incremental;
        let mut warnings = crate::config_warnings(&node, &rendered.config);
        if let Some(sql) = &node.compiled_code {
            let recorder = Recorder::new(&is_known, &columns, false);
            let (found, cols) = analyze::analyze_node(&node, sql, &recorder, (false, analyze::checks(&node, check)));
            if found.iter().any(Diagnostic::is_error) {
                return Err("a model compiled again has errors".into());
            }
            if check && crate::contracts::enforced(&node) {
                return Err(format!("{} has an enforced contract", node.unique_id));
            }
            // Models downstream were checked against this model's columns: when
            // they change, only a full compile checks them again.
            if let (Some(cols), Some(rel)) = (cols, &node.relation) {
                let [k, _] = analyze::Columns::keys(rel);
                let read = || state.models.iter().any(|d| d.ref_ids.contains(&node.unique_id));
                let types: Vec<Option<modelc_sql::Ty>> = cols
                    .iter()
                    .filter(|c| c.name != "*")
                    .map(|c| c.data_type.clone())
                    .collect();
                if analyze::Columns::of(&cols).as_ref() != columns.catalog.get(&k) && read() {
                    return Err(format!("the columns of {} changed", node.unique_id));
                }
                // The types are checked downstream too, and are in the manifest
                // entries of its documented columns (see `analyze::fill_types`).
                let retyped = columns
                    .types
                    .get(&k)
                    .map_or(types.iter().any(Option::is_some), |t| *t != types);
                if retyped && (!node.columns.is_empty() || read()) {
                    return Err(format!("the types of {} changed", node.unique_id));
                }
            }
            warnings.extend(found);
        }
        let entry = node_json(&ctx, &node, &m.primary_key);
        let mut env_vars = rendered.env_vars;
        env_vars.extend(incremental.into_iter().flat_map(|o| o.env_vars));
        out.push(Redone {
            node,
            env_vars,
            warnings,
            entry,
            old_range: m.manifest,
        });
    }
    Ok(out)
}
