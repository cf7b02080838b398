//! The compile cache, `target/compile_cache.msgpack`: what rendering and analyzing
//! each node produced last time, with everything it depended on, so a compile after a
//! small change re-renders and re-parses only what the change can affect.
//!
//! An entry is reused only when its inputs are provably the same:
//! - a render, keyed by the node's template and its config before rendering, is
//!   valid while the files of the macros it called (transitively), the values of the
//!   vars and environment variables it read are unchanged. Anything project-wide
//!   that rendering can see (target, project name, `--full-refresh`, the set of
//!   macro names, which decides `adapter.dispatch`) is in a global key: a change
//!   there drops every render. Renders that read `invocation_id`, `run_started_at`
//!   or `modules` (time) are never cached.
//! - an analysis, keyed by the compiled SQL and the node's location, is valid while
//!   every catalog lookup it made (the columns of the relations it reads) and every
//!   "is this relation known" check answers the same.
//!
//! The file carries modelc's version; another version's cache, or an unreadable
//! one, is ignored. It is written atomically (temporary file, then rename).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use modelc_core::{Diagnostic, JsonMap};
use modelc_sql::{Catalog, OutputColumn, RelationName, Ty};

use crate::analyze::Columns;
use modelc_template::RenderOutput;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

const FILE: &str = "compile_cache.msgpack";
const FORMAT: &str = concat!("modelc-compile-cache-5/", env!("CARGO_PKG_VERSION"));
/// Template names whose value changes from one invocation to the next.
const VOLATILE: &[&str] = &["invocation_id", "run_started_at", "modules"];

/// A 128-bit content hash.
pub(crate) type Hash = (u64, u64);

/// Hashes parts, each length-prefixed so that `("ab", "c")` and `("a", "bc")` differ.
pub(crate) fn hash(parts: &[&[u8]]) -> Hash {
    let mut h = Xxh3::new();
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
    let v = h.digest128();
    ((v >> 64) as u64, v as u64)
}

/// Where a node's render or analysis came from.
pub(crate) enum Cached<T> {
    /// Nothing to cache (seeds, errors, or the cache is off).
    No,
    /// Last compile's, still valid.
    Reused,
    /// Computed now; `None` when it must not be cached or the cache is off.
    New(Option<T>),
}

/// Moves a reused entry from last compile's map to this one's, or puts a new one
/// there, counting either in `(reused, computed)`.
fn keep<T>(
    old: &mut HashMap<String, T>,
    new: &mut HashMap<String, T>,
    (reused, computed): (&mut usize, &mut Vec<String>),
    unique_id: &str,
    how: Cached<T>,
) {
    let entry = match how {
        Cached::No => return,
        Cached::Reused => {
            *reused += 1;
            old.remove(unique_id)
        }
        Cached::New(entry) => {
            computed.push(unique_id.to_string());
            entry
        }
    };
    if let Some(e) = entry {
        new.insert(unique_id.to_string(), e);
    }
}

/// What a render read besides its template and node config.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RenderDeps {
    /// Files of the macros called, with their content hashes.
    macro_files: Vec<(String, Hash)>,
    /// Vars read, with their values as JSON (`None`: not set).
    vars: Vec<(String, Option<String>)>,
    /// Environment variables read, with their values.
    env_vars: Vec<(String, Option<String>)>,
}

/// A cached render: the output and, for incremental models, the incremental variant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RenderEntry {
    key: Hash,
    deps: RenderDeps,
    pub output: RenderOutput,
    pub incremental: Option<String>,
}

/// A catalog lookup: the relation's name, and the columns it answered.
type Lookup = (RelationName, Option<Vec<String>>);

/// A lookup of column types: the relation's name, and the types it answered.
type TypeLookup = (RelationName, Option<Vec<Option<Ty>>>);

/// A cached analysis of one node's compiled SQL.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AnalysisEntry {
    key: Hash,
    /// `known` checks made, with their answers.
    known: Vec<(String, bool)>,
    /// Catalog lookups made, with their answers.
    lookups: Vec<Lookup>,
    /// Type lookups made, with their answers.
    type_lookups: Vec<TypeLookup>,
    warnings: Vec<Diagnostic>,
    pub columns: Option<Vec<OutputColumn>>,
}

impl AnalysisEntry {
    /// The warnings, as diagnostics.
    pub fn warnings(&self) -> Vec<Diagnostic> {
        self.warnings.clone()
    }
}

/// Records the catalog lookups and `known` checks an analysis makes.
pub(crate) struct Recorder<'a> {
    /// Whether to keep the log (only when the cache is on).
    record: bool,
    known: &'a (dyn Fn(&str) -> bool + Sync),
    columns: &'a Columns,
    known_log: std::cell::RefCell<Vec<(String, bool)>>,
    lookup_log: std::cell::RefCell<Vec<Lookup>>,
    type_log: std::cell::RefCell<Vec<TypeLookup>>,
}

impl<'a> Recorder<'a> {
    pub fn new(known: &'a (dyn Fn(&str) -> bool + Sync), columns: &'a Columns, record: bool) -> Self {
        Recorder {
            record,
            known,
            columns,
            known_log: Default::default(),
            lookup_log: Default::default(),
            type_log: Default::default(),
        }
    }

    /// Whether the project knows the relation with this lowercase dotted key.
    pub fn is_known(&self, key: &str) -> bool {
        let answer = (self.known)(key);
        if self.record {
            self.known_log.borrow_mut().push((key.to_string(), answer));
        }
        answer
    }

    /// Whether column types are inferred and checked (see [`Columns::typed`]).
    pub fn typed(&self) -> bool {
        self.columns.typed
    }

    /// The entry for what was analyzed, with what the analysis read.
    pub fn entry(self, key: Hash, warnings: &[Diagnostic], columns: Option<Vec<OutputColumn>>) -> AnalysisEntry {
        AnalysisEntry {
            key,
            known: self.known_log.into_inner(),
            lookups: self.lookup_log.into_inner(),
            type_lookups: self.type_log.into_inner(),
            warnings: warnings.to_vec(),
            columns,
        }
    }
}

impl Catalog for Recorder<'_> {
    fn columns(&self, relation: &RelationName) -> Option<Vec<String>> {
        let answer = self.columns.catalog.columns(relation);
        if self.record {
            self.lookup_log.borrow_mut().push((relation.clone(), answer.clone()));
        }
        answer
    }

    /// As the catalog finds a relation (its longest dotted name it has), whether
    /// that entry is a complete column list.
    fn complete(&self, relation: &RelationName) -> bool {
        self.columns.complete(relation)
    }

    fn types(&self, relation: &RelationName) -> Option<Vec<Option<Ty>>> {
        let answer = self.columns.types_of(relation);
        if self.record {
            self.type_log.borrow_mut().push((relation.clone(), answer.clone()));
        }
        answer
    }
}

/// What render validation compares against.
pub(crate) struct RenderEnv<'a> {
    /// Content hash of every macro file, by path.
    pub macro_files: HashMap<String, Hash>,
    /// Macro file by macro unique id.
    pub macro_file_of: HashMap<String, String>,
    /// Source text of every macro file, by path (for the volatility check).
    pub macro_texts: HashMap<String, &'a str>,
    /// Effective vars.
    pub vars: &'a JsonMap,
}

impl RenderEnv<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).map(|v| v.to_string())
    }

    /// The entry for a render, or `None` when the render must not be cached.
    pub fn entry(
        &self,
        key: Hash,
        template: &str,
        output: &RenderOutput,
        incremental: Option<&RenderOutput>,
    ) -> Option<RenderEntry> {
        let mut macros = output.macros.clone();
        let mut vars = output.vars.clone();
        let mut env_vars = output.env_vars.clone();
        if let Some(out) = incremental {
            macros.extend(out.macros.iter().cloned());
            vars.extend(out.vars.iter().cloned());
            env_vars.extend(out.env_vars.iter().cloned());
        }
        let mut files: Vec<String> = Vec::new();
        for m in &macros {
            let file = self.macro_file_of.get(m)?;
            if !files.contains(file) {
                files.push(file.clone());
            }
        }
        let volatile = |text: &str| VOLATILE.iter().any(|w| text.contains(w));
        if volatile(template)
            || files
                .iter()
                .any(|f| self.macro_texts.get(f.as_str()).is_none_or(|t| volatile(t)))
        {
            return None;
        }
        let macro_files = files
            .into_iter()
            .map(|f| {
                let h = self.macro_files.get(&f).copied()?;
                Some((f, h))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(RenderEntry {
            key,
            deps: RenderDeps {
                macro_files,
                vars: vars.into_iter().map(|v| (v.clone(), self.var(&v))).collect(),
                env_vars: env_vars
                    .into_iter()
                    .map(|v| (v.clone(), std::env::var(&v).ok()))
                    .collect(),
            },
            output: output.clone(),
            incremental: incremental.map(|o| o.sql.clone()),
        })
    }

    fn still_valid(&self, deps: &RenderDeps) -> bool {
        deps.macro_files.iter().all(|(f, h)| self.macro_files.get(f) == Some(h))
            && deps.vars.iter().all(|(v, val)| &self.var(v) == val)
            && deps.env_vars.iter().all(|(v, val)| &std::env::var(v).ok() == val)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    format: String,
    global: Hash,
    renders: HashMap<String, RenderEntry>,
    analyses: HashMap<String, AnalysisEntry>,
    /// Seeds' column types as read from their files, keyed by the file's stamp and
    /// the seed's config.
    seed_types: HashMap<String, (Hash, Vec<String>)>,
}

/// The cache of one compile: last compile's entries, and this one's.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    path: Option<PathBuf>,
    old: CacheFile,
    new: CacheFile,
    stats: CacheStats,
}

/// What the cache saved: how many renders and analyses were reused, and which
/// nodes were rendered and analyzed anew (by unique id, sorted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Renders reused.
    pub renders_reused: usize,
    /// Analyses reused.
    pub analyses_reused: usize,
    /// Nodes rendered.
    pub rendered: Vec<String>,
    /// Nodes analyzed.
    pub analyzed: Vec<String>,
}

impl Cache {
    /// A cache that reuses nothing and saves nothing.
    pub fn disabled() -> Cache {
        Cache::default()
    }

    /// Loads the cache of `target_dir`; entries made under another global key are dropped.
    pub fn load(target_dir: &Path, global: Hash) -> Cache {
        let path = target_dir.join(FILE);
        let old = std::fs::read(&path)
            .ok()
            .and_then(|bytes| rmp_serde::from_slice::<CacheFile>(&bytes).ok())
            .filter(|f| f.format == FORMAT)
            .map(|mut f| {
                if f.global != global {
                    f.renders.clear();
                }
                f
            })
            .unwrap_or_default();
        Cache {
            path: Some(path),
            old,
            new: CacheFile {
                format: FORMAT.to_string(),
                global,
                ..CacheFile::default()
            },
            stats: CacheStats::default(),
        }
    }

    /// Whether entries are looked up and saved.
    pub fn enabled(&self) -> bool {
        self.path.is_some()
    }

    /// The cached render of a node, if still valid.
    pub fn render(&self, unique_id: &str, key: Hash, env: &RenderEnv<'_>) -> Option<&RenderEntry> {
        self.old
            .renders
            .get(unique_id)
            .filter(|e| e.key == key && env.still_valid(&e.deps))
    }

    /// The cached analysis of a node, if still valid.
    pub fn analysis(
        &self,
        unique_id: &str,
        key: Hash,
        known: &HashSet<String>,
        columns: &Columns,
    ) -> Option<&AnalysisEntry> {
        self.old.analyses.get(unique_id).filter(|e| {
            e.key == key
                && e.known.iter().all(|(k, b)| known.contains(k) == *b)
                && e.lookups
                    .iter()
                    .all(|(name, cols)| &columns.catalog.columns(name) == cols)
                && e.type_lookups
                    .iter()
                    .all(|(name, types)| &columns.types_of(name) == types)
        })
    }

    /// Keeps a node's render for the next compile: last compile's, found valid by
    /// [`Cache::render`], or a new one.
    pub fn keep_render(&mut self, unique_id: &str, how: Cached<RenderEntry>) {
        keep(
            &mut self.old.renders,
            &mut self.new.renders,
            (&mut self.stats.renders_reused, &mut self.stats.rendered),
            unique_id,
            how,
        );
    }

    /// The environment variables read by a node's render kept by [`Cache::keep_render`].
    pub fn kept_env_vars(&self, unique_id: &str) -> impl Iterator<Item = &String> {
        self.new
            .renders
            .get(unique_id)
            .into_iter()
            .flat_map(|e| e.deps.env_vars.iter().map(|(name, _)| name))
    }

    /// Keeps a node's analysis for the next compile, as [`Cache::keep_render`].
    pub fn keep_analysis(&mut self, unique_id: &str, how: Cached<AnalysisEntry>) {
        keep(
            &mut self.old.analyses,
            &mut self.new.analyses,
            (&mut self.stats.analyses_reused, &mut self.stats.analyzed),
            unique_id,
            how,
        );
    }

    /// A seed's column types as last read, if its file and config are as then.
    pub fn seed_types(&self, unique_id: &str, key: Hash) -> Option<&Vec<String>> {
        self.old
            .seed_types
            .get(unique_id)
            .filter(|(k, _)| *k == key)
            .map(|(_, t)| t)
    }

    /// Keeps a seed's column types for the next compile.
    pub fn keep_seed_types(&mut self, unique_id: &str, key: Hash, types: Vec<String>) {
        if self.enabled() {
            self.new.seed_types.insert(unique_id.to_string(), (key, types));
        }
    }

    /// What was reused and computed so far.
    pub fn stats(&self) -> CacheStats {
        let mut s = self.stats.clone();
        s.rendered.sort();
        s.analyzed.sort();
        s
    }

    /// Writes this compile's entries (atomically); errors are ignored: a missing
    /// cache only costs time.
    pub fn save(self) {
        let Some(path) = self.path else { return };
        let Ok(bytes) = rmp_serde::to_vec(&self.new) else {
            return;
        };
        let _ = crate::artifacts::replace_file(&path, |w| std::io::Write::write_all(w, &bytes));
    }
}
