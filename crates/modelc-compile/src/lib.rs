//! The compiler: from a project folder to a resolved, validated [`Project`].
//!
//! `load → build node shells → render (parallel) → resolve relations and refs →
//! graph (cycles) → substitute placeholders and inline ephemerals → analyze SQL`.
//! Nothing here touches a database. Every problem is collected as a diagnostic;
//! a project with errors is not returned for execution.

mod analyze;
pub mod artifacts;
mod cache;
pub mod compare;
mod configs;
mod contracts;
pub mod defer;
pub mod exposures;
mod hooks;
pub mod late;
mod manifest_node;
mod nodes;
mod resolve;
pub mod state;
mod unit_tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use modelc_core::{merge_config, DbConfig, Diagnostic, Diagnostics, JsonMap, Node, ResourceType, SourceTable};
use modelc_graph::{Dag, DagError, DagNode, ResourceKind, TestKind};
use modelc_project::{load_project, LoadOptions, ProjectInput};
use modelc_template::{Jinja, MacroFile, MacroInfo, NodeContext, ProjectContext, RenderOutput};
use rayon::prelude::*;

pub use cache::CacheStats;
use cache::Cached;

pub use analyze::{Lineage, SeedTypes};
pub use hooks::RenderedHook;
pub use resolve::{cte_name, inject_ctes};

/// Options that change what a compile produces.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// `--vars`, over the project's vars.
    pub vars: JsonMap,
    /// `--target` (profile output).
    pub target: Option<String>,
    /// `--profiles-dir`.
    pub profiles_dir: Option<PathBuf>,
    /// `--db`: the database file.
    pub db_path: Option<PathBuf>,
    /// `--threads`.
    pub threads: Option<usize>,
    /// `--target-path`: where artifacts go.
    pub target_path: Option<PathBuf>,
    /// `--full-refresh` (seen by `flags.FULL_REFRESH`).
    pub full_refresh: bool,
    /// Reuse and update the compile cache (`compile_cache.msgpack` in the target
    /// folder): renders and analyses whose inputs did not change are not redone.
    pub cache: bool,
    /// `--empty`: every `ref` and `source` reads no rows (see [`resolve::Empty`]).
    pub empty: bool,
    /// `--static-analysis off`: do not check that every column a model reads
    /// exists upstream (models can also opt out with `static_analysis: off`).
    pub skip_static_analysis: bool,
    /// Parse and check every model's SQL, but do not compute column lineage (only
    /// the docs show it; [`Project::lineage`] is then empty).
    pub skip_lineage: bool,
    /// The database late renders may ask at compile time (see [`late`]); without
    /// one they answer from modelc's analysis where they can.
    pub database: Option<std::sync::Arc<dyn late::External>>,
    /// Reads seeds' column types (DuckDB's CSV reader, lent by the CLI); without
    /// it, only the types seeds declare are known.
    pub seed_types: Option<std::sync::Arc<dyn analyze::SeedTypes>>,
}

/// A compiled project, ready to run.
#[derive(Debug)]
pub struct Project {
    /// Project root.
    pub root: PathBuf,
    /// Project name.
    pub name: String,
    /// Absolute artifact folder.
    pub target_dir: PathBuf,
    /// The database.
    pub db: DbConfig,
    /// Enabled nodes by unique id, compiled.
    pub nodes: BTreeMap<String, Node>,
    /// Source tables by unique id.
    pub sources: BTreeMap<String, SourceTable>,
    /// Macros by name.
    pub macros: BTreeMap<String, MacroInfo>,
    /// The dependency graph of nodes and sources.
    pub dag: Dag,
    /// Column-level lineage of models and snapshots, from the compiled SQL.
    pub lineage: Lineage,
    /// Rendered `on-run-start` hooks.
    pub on_run_start: Vec<String>,
    /// The `on-run-end` hooks as written, and the project file: rendered again
    /// when the run ends, with its `results` and `schemas`.
    pub on_run_end_templates: (String, Vec<String>),
    /// The template environment, for late renders.
    jinja: std::sync::Arc<Jinja>,
    /// Each node's resolved `ref` and `source` targets, for late renders.
    deps: HashMap<String, resolve::Deps>,
    /// dbt's `graph` for late renders, made at the first that needs it.
    graph: std::sync::OnceLock<std::sync::Arc<serde_json::Value>>,
    /// `--empty`: late renders read no rows of `ref`s and `source`s either.
    empty: Option<resolve::Empty>,
    /// Exposures, by unique id.
    pub exposures: BTreeMap<String, exposures::Exposure>,
}

impl Project {
    /// The `on-run-end` hooks rendered again when the run ends, seeing `globals`
    /// (dbt's `results`, `schemas`, `database_schemas`).
    pub fn render_on_run_end(&self, globals: JsonMap) -> Result<Vec<String>, Diagnostic> {
        let (file, templates) = &self.on_run_end_templates;
        let ctx = NodeContext {
            globals,
            ..NodeContext::default()
        };
        templates
            .iter()
            .map(|t| {
                self.jinja
                    .render(file, t, &ctx)
                    .map(|o| o.sql)
                    .map_err(|e| e.to_diagnostic(file))
            })
            .collect()
    }

    /// Renders a late node (see [`late`]) with `database` answering its questions:
    /// its compiled SQL and incremental variant, relations substituted. The
    /// relations of its refs are those of `nodes` (the project's own, or those
    /// `--defer` pointed at another environment: [`defer::defer`]).
    pub fn render_late(
        &self,
        id: &str,
        database: Option<std::sync::Arc<dyn late::External>>,
        nodes: Option<&BTreeMap<String, Node>>,
    ) -> Result<(String, Option<String>), Diagnostic> {
        let nodes = nodes.unwrap_or(&self.nodes);
        let (node, db) = self.node_db(id, database, nodes)?;
        let deps = self.deps.get(id);
        let (sql, incr) = late::render(
            &self.jinja,
            node,
            deps,
            nodes,
            &self.sources,
            std::sync::Arc::new(db),
            self.empty,
        )?;
        let inject = |sql: String| with_ephemeral_parents(sql, node, nodes);
        Ok((inject(sql), incr.map(inject)))
    }

    /// Renders a hook of node `id` that asks the database ([`modelc_core::Hook::late`])
    /// as it runs, `database` answering its questions: the relations its
    /// `adapter.drop_relation` calls drop, and its SQL, relations filled in from
    /// `nodes` (as [`Project::render_late`]). A hook compiled at compile time is returned as it is.
    pub fn render_late_hook(
        &self,
        id: &str,
        hook: &modelc_core::Hook,
        database: Option<std::sync::Arc<dyn late::External>>,
        nodes: Option<&BTreeMap<String, Node>>,
    ) -> Result<hooks::RenderedHook, Diagnostic> {
        let Some(late_hook) = &hook.late else {
            return Ok(hooks::RenderedHook {
                drops: Vec::new(),
                sql: hook.sql.clone(),
            });
        };
        let nodes = nodes.unwrap_or(&self.nodes);
        let (node, db) = self.node_db(id, database, nodes)?;
        let db = db.for_hook(late_hook);
        let no_deps = resolve::Deps::default();
        let deps = self.deps.get(id).unwrap_or(&no_deps);
        hooks::render_late(
            &self.jinja,
            node,
            late_hook,
            deps,
            nodes,
            &self.sources,
            std::sync::Arc::new(db),
        )
    }

    /// Node `id` of `nodes`, and the database its late render sees.
    fn node_db<'n>(
        &self,
        id: &str,
        database: Option<std::sync::Arc<dyn late::External>>,
        nodes: &'n BTreeMap<String, Node>,
    ) -> Result<(&'n Node, late::NodeDb), Diagnostic> {
        let node = nodes
            .get(id)
            .ok_or_else(|| Diagnostic::error("late-render", format!("no node '{id}'")))?;
        let known = std::sync::Arc::new(late::declared_columns(nodes, &self.sources));
        let graph = self
            .graph
            .get_or_init(|| std::sync::Arc::new(late::graph_json(&manifest_node::NodeCtx::of(self))))
            .clone();
        let db = late::NodeDb::new(node, self.deps.get(id), nodes, &self.sources, known, graph, database);
        Ok((node, db))
    }
}

/// Prepends the CTEs of the ephemeral models a late render reads (each one's
/// compiled SQL holds its own ephemeral parents).
fn with_ephemeral_parents(sql: String, node: &Node, nodes: &BTreeMap<String, Node>) -> String {
    let ctes: Vec<(String, String)> = node
        .depends_on
        .nodes
        .iter()
        .filter_map(|p| nodes.get(p))
        .filter(|p| p.is_ephemeral())
        .map(|p| (cte_name(&p.name), p.compiled_code.clone().unwrap_or_default()))
        .collect();
    if ctes.is_empty() {
        sql
    } else {
        resolve::inject_ctes(&sql, &ctes)
    }
}

/// The result of compiling: the project (unless there were errors) and every diagnostic.
#[derive(Debug)]
pub struct Compiled {
    /// `None` when any diagnostic is an error.
    pub project: Option<Project>,
    /// Errors and warnings, sorted.
    pub diagnostics: Diagnostics,
    /// Wall time of each phase, in order (for benchmarks).
    pub timings: Vec<(&'static str, std::time::Duration)>,
    /// What the compile cache saved.
    pub cache: CacheStats,
    /// What [`state::save`] keeps for the next compile (when the cache is on).
    pub state: Option<state::Seed>,
    /// When the only errors are the analysis's, each in the SQL or YAML of some
    /// nodes: the project, for a run that selects none of those nodes.
    pub blocked: Option<Blocked>,
}

/// A project compiled but for errors its analysis found in some nodes (a
/// type mismatch, an unknown column): as dbt compiles only what it runs, a
/// run that selects none of those nodes goes ahead.
#[derive(Debug)]
pub struct Blocked {
    /// The compiled project.
    pub project: Project,
    /// Each error, with the nodes of its file.
    errors: Vec<(Diagnostic, BTreeSet<String>)>,
}

impl Blocked {
    /// The project and every error concerning a node of its file, when every
    /// error does; `None` when one concerns the project as a whole.
    fn new(project: Project, errors: Vec<Diagnostic>) -> Option<Blocked> {
        let mut by_file: HashMap<&Path, BTreeSet<String>> = HashMap::new();
        for n in project.nodes.values() {
            let yaml = n
                .patch_path
                .as_deref()
                .and_then(|p| p.split_once("://"))
                .map(|(_, f)| f);
            for file in std::iter::once(n.original_file_path.as_str()).chain(yaml) {
                by_file.entry(Path::new(file)).or_default().insert(n.unique_id.clone());
            }
        }
        let errors = errors
            .into_iter()
            .map(|d| {
                let nodes = d.file.as_deref().and_then(|f| by_file.get(f)).cloned()?;
                Some((d, nodes))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Blocked { project, errors })
    }

    /// The project, when `selected` holds none of the nodes the errors concern:
    /// those errors become warnings that say so. `None` when it holds one.
    pub fn unblock(self, selected: &BTreeSet<String>, diagnostics: &mut Diagnostics) -> Option<Project> {
        if self.errors.iter().any(|(_, nodes)| !nodes.is_disjoint(selected)) {
            return None;
        }
        for d in diagnostics.0.iter_mut() {
            if self.errors.iter().any(|(e, _)| e == d) {
                d.severity = modelc_core::Severity::Warning;
                d.message
                    .push_str(" (in nodes not selected: this run goes ahead without them)");
            }
        }
        Some(self.project)
    }
}

/// Loads and compiles the project at `root`.
pub fn compile(root: &Path, opts: &CompileOptions) -> Compiled {
    let mut diags = Vec::new();
    let load = LoadOptions {
        profiles_dir: opts.profiles_dir.clone(),
        target: opts.target.clone(),
    };
    let started = std::time::Instant::now();
    match load_project(root, &load, &mut diags) {
        Some(input) => {
            let loaded = started.elapsed();
            let mut out = compile_input(input, opts, diags);
            out.timings.insert(0, ("load", loaded));
            out
        }
        None => finish(None, diags),
    }
}

fn finish(project: Option<Project>, diags: Vec<Diagnostic>) -> Compiled {
    let mut diagnostics = Diagnostics(diags);
    diagnostics.sort();
    let project = if diagnostics.has_errors() { None } else { project };
    Compiled {
        project,
        diagnostics,
        timings: Vec::new(),
        cache: CacheStats::default(),
        state: None,
        blocked: None,
    }
}

/// Records phase times.
struct Clock {
    last: std::time::Instant,
    timings: Vec<(&'static str, std::time::Duration)>,
}

impl Clock {
    fn new() -> Self {
        Clock {
            last: std::time::Instant::now(),
            timings: Vec::new(),
        }
    }

    fn lap(&mut self, phase: &'static str) {
        let now = std::time::Instant::now();
        self.timings.push((phase, now - self.last));
        self.last = now;
    }
}

/// Resolves the database settings: `--db` over the profile over the project file.
pub fn db_config(input: &ProjectInput, opts: &CompileOptions) -> DbConfig {
    // `--db` names a DuckDB file: with it, a server profile does not apply.
    let settings = match &input.profile {
        Some(p) if opts.db_path.is_none() || p.engine.is_none() => p.clone(),
        _ => input.config.duckdb.clone(),
    };
    let target_dir = target_dir(input, opts);
    let path = match (&opts.db_path, &settings.path) {
        (Some(p), _) => absolutize(&input.root, p),
        (None, Some(p)) if p == ":memory:" => PathBuf::from(":memory:"),
        (None, Some(p)) => absolutize(&input.root, Path::new(p)),
        (None, None) => target_dir.join("modelc.duckdb"),
    };
    let engine = settings.engine.clone().unwrap_or_else(|| "duckdb".into());
    let (path, database) = match &settings.dbname {
        // A server's database: no file (none at all on Spark: two-part names).
        dbname if engine != "duckdb" => (String::new(), dbname.clone().unwrap_or_default()),
        _ => {
            let path = path.to_string_lossy().into_owned();
            let database = modelc_core::catalog_name(&path);
            (path, database)
        }
    };
    DbConfig {
        engine,
        path,
        database,
        schema: settings.schema.clone().unwrap_or_else(|| "main".into()),
        threads: opts.threads.or(settings.threads).unwrap_or(4).max(1),
        extensions: settings.extensions.clone(),
        settings: settings
            .settings
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()),
                )
            })
            .collect(),
        attach: settings
            .attach
            .iter()
            .map(|(path, alias, read_only)| {
                let path = absolutize(&input.root, Path::new(path)).to_string_lossy().into_owned();
                modelc_core::Attach {
                    alias: alias.clone().unwrap_or_else(|| modelc_core::catalog_name(&path)),
                    path,
                    read_only: *read_only,
                }
            })
            .collect(),
        target_name: settings.target_name.clone().unwrap_or_else(|| "dev".into()),
        server: settings.server.clone(),
    }
}

fn absolutize(root: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

fn target_dir(input: &ProjectInput, opts: &CompileOptions) -> PathBuf {
    target_dir_in(&input.root, &input.config, opts)
}

/// The artifact folder: `--target-path`, else the project file's `target-path`.
fn target_dir_in(root: &Path, config: &modelc_project::ProjectConfig, opts: &CompileOptions) -> PathBuf {
    match &opts.target_path {
        Some(p) => absolutize(root, p),
        None => root.join(&config.target_path),
    }
}

/// Effective vars of the root project's nodes: global project vars, then the
/// project's own scope, then `--vars`.
fn effective_vars(input: &ProjectInput, cli: &JsonMap) -> JsonMap {
    let mut vars = scoped_vars(&input.config.vars, &input.config.name, input);
    vars.extend(cli.clone());
    vars
}

/// The global entries of a project file's `vars:` (not the maps scoped to a
/// project or package), then the entries scoped to `scope`.
fn scoped_vars(vars: &JsonMap, scope: &str, input: &ProjectInput) -> JsonMap {
    let is_scope = |k: &str| k == input.config.name || input.packages.iter().any(|p| p.input.config.name == k);
    let mut out: JsonMap = vars
        .iter()
        .filter(|(k, v)| !(v.is_object() && is_scope(k)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(serde_json::Value::Object(scoped)) = vars.get(scope) {
        out.extend(scoped.clone());
    }
    out
}

/// Effective vars of each package's nodes, as dbt layers them: the package's own
/// project file, then the root project's global vars and its entries scoped to the
/// package, then `--vars`.
fn package_vars(input: &ProjectInput, cli: &JsonMap) -> BTreeMap<String, JsonMap> {
    input
        .packages
        .iter()
        .map(|p| {
            let name = &p.input.config.name;
            let mut vars = scoped_vars(&p.input.config.vars, name, input);
            vars.extend(scoped_vars(&input.config.vars, name, input));
            vars.extend(cli.clone());
            (name.clone(), vars)
        })
        .collect()
}

/// A map of large values built without sorting them: their keys are sorted, then
/// each value moves once (`collect` would sort the entries themselves, moving
/// every 1 kB node a dozen times).
fn sorted_map<T>(entries: Vec<(String, T)>) -> BTreeMap<String, T> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| entries[a].0.cmp(&entries[b].0));
    let mut slots: Vec<Option<(String, T)>> = entries.into_iter().map(Some).collect();
    // Already in order: the sort inside `collect` only checks that.
    order.into_iter().filter_map(|i| slots.get_mut(i)?.take()).collect()
}

/// A rendered node: its output and, for incremental models, the incremental variant.
type Rendered = Result<(RenderOutput, Option<String>), Diagnostic>;

pub(crate) fn node_context(node: &Node, is_incremental: bool) -> NodeContext {
    NodeContext {
        name: node.name.clone(),
        unique_id: node.unique_id.clone(),
        resource_type: node.resource_type.as_str().into(),
        original_file_path: node.original_file_path.clone(),
        config: node.config.0.clone(),
        is_incremental,
        package: node.package_name.clone(),
        ..NodeContext::default()
    }
}

/// The template context of a project.
fn project_context(project_name: &str, vars: JsonMap, target: JsonMap, full_refresh: bool) -> ProjectContext {
    ProjectContext {
        package_vars: BTreeMap::new(),
        dispatch: Vec::new(),
        docs: BTreeMap::new(),
        project_name: project_name.to_string(),
        vars,
        target,
        invocation_id: format!(
            "{:032x}",
            xxhash_rust::xxh3::xxh3_128(format!("{:?}", std::time::SystemTime::now()).as_bytes())
        ),
        run_started_at: chrono::Utc::now().to_rfc3339(),
        full_refresh,
    }
}

/// Renders a node's template, merging the config it sets into the node; incremental
/// models that ask `is_incremental()` are rendered a second time for incremental runs.
fn render_node(
    jinja: &Jinja,
    node: &mut Node,
    template: &str,
) -> Result<(RenderOutput, Option<RenderOutput>), Diagnostic> {
    let relocate = |e: modelc_template::RenderError, node: &Node| {
        let mut d = e.to_diagnostic(&node.original_file_path);
        if node.is_generic_test() && d.file.as_deref() == Some(Path::new(&node.original_file_path)) {
            d.line = node.defined_at_line;
            d.message = format!("in generic test '{}': {}", node.name, d.message);
        }
        d
    };
    let file = node.original_file_path.clone();
    // A template that asks the database is rendered as dbt's parse phase renders it
    // (to learn its refs and config) and again later, where answers are known.
    let render = |node: &Node, incremental: bool| {
        let mut ctx = node_context(node, incremental);
        ctx.parse_only = node.late_render;
        jinja.render(&file, template, &ctx)
    };
    // An error only `execute` reaches (a macro's `{% elif execute %}{% do
    // raise_compiler_error(...) %}`) is, as in dbt, the node's error when it runs:
    // the parse-phase render must succeed, and the node renders late.
    let out = match render(node, false) {
        Err(e) => {
            node.late_render = true;
            match render(node, false) {
                Ok(parsed) => Ok(parsed),
                Err(parse_error) => {
                    node.late_render = false;
                    let needs_db = e.message.contains(modelc_template::database::NEEDS_DATABASE);
                    Err(if needs_db { parse_error } else { e })
                }
            }
        }
        ok => ok,
    }
    .map_err(|e| relocate(e, node))?;
    merge_config(&mut node.config.0, &out.config);
    let incremental = if out.uses_is_incremental && node.config.materialized() == "incremental" {
        Some(render(node, true).map_err(|e| relocate(e, node))?)
    } else {
        None
    };
    Ok((out, incremental))
}

/// The `{% docs %}` blocks of the project's and the packages' docs files, by name,
/// their text trimmed as dbt trims it.
fn docs_blocks(input: &ProjectInput, diags: &mut Vec<Diagnostic>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let files = input
        .docs
        .iter()
        .chain(input.packages.iter().flat_map(|p| &p.input.docs));
    for f in files {
        match modelc_template::preprocess::extract_blocks(&f.text, "docs") {
            Ok(blocks) => out.extend(blocks.into_iter().map(|b| (b.name, b.body.trim().to_string()))),
            Err((line, msg)) => diags.push(Diagnostic::error("docs-block", msg).at(&f.path, line, 1)),
        }
    }
    out
}

/// Renders the Jinja of descriptions (`{{ doc('orders') }}`) of nodes, their
/// columns and sources, as dbt does when it parses them.
fn render_descriptions(jinja: &Jinja, root: &Path, built: &mut nodes::Shells, diags: &mut Vec<Diagnostic>) {
    let ctx = NodeContext::default();
    let mut render = |text: &mut String, file: &str| {
        if !(text.contains("{{") || text.contains("{%")) {
            return;
        }
        match jinja.render_str("<description>", text, &ctx) {
            Ok(out) => *text = out.sql,
            Err(e) => {
                let d = Diagnostic::error("jinja", format!("in a description: {}", e.message));
                // Where the description is written: its first line, in its YAML file.
                let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
                let yaml = std::fs::read_to_string(root.join(file)).unwrap_or_default();
                let at = yaml
                    .lines()
                    .enumerate()
                    .find_map(|(i, l)| l.find(first).map(|c| (i + 1, c + 1)));
                diags.push(match at {
                    Some((line, col)) if !first.is_empty() => d.at(file, line, col),
                    _ => d.in_file(file),
                });
            }
        }
    };
    for shell in &mut built.shells {
        let file = shell.node.patch_path.clone().unwrap_or_default();
        let file = file.split_once("://").map_or(file.as_str(), |(_, f)| f).to_string();
        render(&mut shell.node.description, &file);
        for c in &mut shell.node.columns {
            render(&mut c.description, &file);
        }
    }
    for s in built.sources.values_mut() {
        let file = s.original_file_path.clone();
        render(&mut s.description, &file);
        render(&mut s.source_description, &file);
        for c in &mut s.columns {
            render(&mut c.description, &file);
        }
    }
}

/// Renders the Jinja in config values from the project file and YAML
/// (`+materialized: "{{ 'view' if target.name == 'dev' else 'table' }}"`), as dbt
/// does when it parses them, with its native types: a rendered `True`, `False`,
/// `None` or number is that value. Hooks are left alone: they render when they run.
fn render_config_values(jinja: &Jinja, node: &mut Node) -> Result<(), Diagnostic> {
    fn has_jinja(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => s.contains("{{") || s.contains("{%"),
            serde_json::Value::Array(a) => a.iter().any(has_jinja),
            serde_json::Value::Object(m) => m.values().any(has_jinja),
            _ => false,
        }
    }
    fn render(jinja: &Jinja, ctx: &NodeContext, v: &mut serde_json::Value) -> Result<(), modelc_template::RenderError> {
        match v {
            serde_json::Value::String(s) if s.contains("{{") || s.contains("{%") => {
                let out = jinja.render_str("<config>", s, ctx)?.sql;
                *v = match out.trim() {
                    "True" | "true" => serde_json::Value::Bool(true),
                    "False" | "false" => serde_json::Value::Bool(false),
                    "None" | "none" => serde_json::Value::Null,
                    t => t
                        .parse::<i64>()
                        .map(serde_json::Value::from)
                        .or_else(|_| t.parse::<f64>().map(serde_json::Value::from))
                        .unwrap_or(serde_json::Value::String(out)),
                };
            }
            serde_json::Value::Array(a) => a.iter_mut().try_for_each(|x| render(jinja, ctx, x))?,
            serde_json::Value::Object(m) => m.values_mut().try_for_each(|x| render(jinja, ctx, x))?,
            _ => {}
        }
        Ok(())
    }
    let hooks = ["pre_hook", "post_hook", "pre-hook", "post-hook"];
    let keys: Vec<String> = node
        .config
        .0
        .iter()
        .filter(|(k, v)| !hooks.contains(&k.as_str()) && has_jinja(v))
        .map(|(k, _)| k.clone())
        .collect();
    if keys.is_empty() {
        return Ok(());
    }
    let ctx = node_context(node, false);
    for key in keys {
        if let Some(v) = node.config.0.get_mut(&key) {
            render(jinja, &ctx, v).map_err(|e| {
                Diagnostic::error(
                    "jinja",
                    format!(
                        "in config '{key}' of {} '{}': {}",
                        node.resource_type, node.name, e.message
                    ),
                )
                .in_file(&node.original_file_path)
            })?;
        }
    }
    Ok(())
}

/// Warnings for config keys set by `config(...)` in a node's SQL that modelc does not
/// know (keys from the project file and YAML are checked where they are written).
fn config_warnings(node: &Node, config: &JsonMap) -> Vec<Diagnostic> {
    modelc_core::unknown_config_keys(config)
        .into_iter()
        .map(|key| {
            // Lines of a node's SQL are lines of its file (snapshot blocks keep their
            // place); a generic test's SQL is its call, written at its YAML entry.
            let (line, col) = match &node.test {
                Some(t) if t.name.is_some() => (node.defined_at_line, 1),
                _ => resolve::locate_word(&node.raw_code, key),
            };
            let mut d = Diagnostic::warning(
                "unknown-config",
                format!("unknown config key '{key}' on {} '{}'", node.resource_type, node.name),
            )
            .at(&node.original_file_path, line, col);
            if let Some(s) = modelc_core::did_you_mean(key, modelc_core::KNOWN_CONFIG_KEYS.iter().copied()) {
                d = d.with_help(format!("did you mean '{s}'?"));
            }
            d
        })
        .collect()
}

/// Compiles already-loaded input.
pub fn compile_input(input: ProjectInput, opts: &CompileOptions, diags: Vec<Diagnostic>) -> Compiled {
    let mut clock = Clock::new();
    let mut out = compile_phases(input, opts, diags, &mut clock);
    out.timings = clock.timings;
    out
}

/// Seeds' column types: last compile's where a seed's file and config are as
/// then, the others being read on a thread of their own (DuckDB's CSV sniffer
/// takes tens of milliseconds a file) while the models render.
struct SeedTypesRead {
    /// By unique id.
    known: HashMap<String, SeedTypesEntry>,
    reading: Option<std::thread::JoinHandle<Vec<(String, SeedTypesEntry)>>>,
}

/// A seed's cache key and column types.
type SeedTypesEntry = (cache::Hash, Vec<String>);

impl SeedTypesRead {
    /// Starts reading. Only on DuckDB, whose types these are, and not for a seed
    /// whose config is a template (its options are known once rendered).
    fn start(shells: &[nodes::Shell], opts: &CompileOptions, db: &DbConfig, cache: &cache::Cache) -> SeedTypesRead {
        let mut read = SeedTypesRead {
            known: HashMap::new(),
            reading: None,
        };
        let Some(reader) = opts.seed_types.clone().filter(|_| db.engine == "duckdb") else {
            return read;
        };
        let mut unread = Vec::new();
        for n in shells.iter().map(|s| &s.node) {
            if n.resource_type != ResourceType::Seed || n.columns.is_empty() {
                continue;
            }
            let config = serde_json::to_string(&n.config.0).unwrap_or_default();
            if config.contains("{{") {
                continue;
            }
            let key = cache::hash(&[n.checksum.as_bytes(), config.as_bytes()]);
            match cache.seed_types(&n.unique_id, key) {
                Some(types) => {
                    read.known.insert(n.unique_id.clone(), (key, types.clone()));
                }
                None => unread.push((n.clone(), key)),
            }
        }
        if !unread.is_empty() {
            read.reading = Some(std::thread::spawn(move || {
                unread
                    .into_iter()
                    .filter_map(|(n, key)| Some((n.unique_id.clone(), (key, reader.types(&n)?))))
                    .collect()
            }));
        }
        read
    }

    /// Every seed's types, kept in the cache for the next compile.
    fn finish(self, cache: &mut cache::Cache) -> HashMap<String, Vec<String>> {
        let mut known = self.known;
        known.extend(self.reading.and_then(|r| r.join().ok()).unwrap_or_default());
        known
            .into_iter()
            .map(|(id, (key, types))| {
                cache.keep_seed_types(&id, key, types.clone());
                (id, types)
            })
            .collect()
    }
}

/// Nodes of different kinds that share a name (`ref` could not tell them apart) or
/// build the same relation (the second would replace the first: a model named like
/// a seed dropped the seed's table) are errors, as in dbt. Nodes of one kind with
/// one name are reported where they are built.
fn check_unique_relations(nodes: &BTreeMap<String, Node>, diags: &mut Vec<Diagnostic>) {
    let builds = |n: &Node| match n.resource_type {
        ResourceType::Model => !n.is_ephemeral(),
        ResourceType::Seed | ResourceType::Snapshot => true,
        _ => false,
    };
    let mut names: HashMap<(&str, &str), &Node> = HashMap::new();
    let mut relations: HashMap<String, &Node> = HashMap::new();
    for n in nodes.values() {
        if !matches!(
            n.resource_type,
            ResourceType::Model | ResourceType::Seed | ResourceType::Snapshot
        ) {
            continue;
        }
        let clash = |other: &Node, what: String| {
            Diagnostic::error(
                "duplicate-name",
                format!(
                    "{} '{}' and {} '{}' {what}",
                    other.resource_type, other.name, n.resource_type, n.name
                ),
            )
            .at(&n.original_file_path, n.defined_at_line, 1)
            .with_help(format!(
                "the {} is {}; rename one of them (or give it another alias or schema)",
                other.resource_type, other.original_file_path
            ))
        };
        if n.version.is_none() {
            if let Some(other) = names.get(&(n.package_name.as_str(), n.name.as_str())) {
                if other.resource_type != n.resource_type {
                    diags.push(clash(other, "have the same name: ref() cannot tell them apart".into()));
                    continue;
                }
            }
            names.insert((&n.package_name, &n.name), n);
        }
        if let Some(rel) = n.relation.as_ref().filter(|_| builds(n)) {
            let key = rel.to_string().to_lowercase();
            match relations.get(&key) {
                Some(other) => diags.push(clash(other, format!("both build {rel}"))),
                None => {
                    relations.insert(key, n);
                }
            }
        }
    }
}

fn compile_phases(
    mut input: ProjectInput,
    opts: &CompileOptions,
    mut diags: Vec<Diagnostic>,
    clock: &mut Clock,
) -> Compiled {
    let db = db_config(&input, opts);
    let mut target = JsonMap::new();
    target.insert("name".into(), db.target_name.clone().into());
    target.insert("schema".into(), db.schema.clone().into());
    target.insert("database".into(), db.database.clone().into());
    target.insert("type".into(), db.engine.clone().into());
    target.insert("threads".into(), db.threads.into());
    match &db.server {
        None => {
            target.insert("path".into(), db.path.clone().into());
        }
        Some(server) => {
            // dbt-postgres's target: everything but the password.
            target.insert("host".into(), server.host.clone().into());
            target.insert("port".into(), server.port.into());
            target.insert("user".into(), server.user.clone().into());
            target.insert("dbname".into(), db.database.clone().into());
        }
    }
    target.insert(
        "profile_name".into(),
        input
            .config
            .profile
            .clone()
            .unwrap_or_else(|| input.config.name.clone())
            .into(),
    );
    let vars = effective_vars(&input, &opts.vars);
    let mut seed = opts.cache.then(|| state::Seed::new(&mut input, &vars, &target));
    let mut ctx = project_context(&input.config.name, vars.clone(), target, opts.full_refresh);
    ctx.package_vars = package_vars(&input, &opts.vars);
    ctx.dispatch = input.config.dispatch.clone();
    ctx.docs = docs_blocks(&input, &mut diags);
    let target_json = opts
        .cache
        .then(|| serde_json::to_string(&ctx.target).unwrap_or_default());
    let macro_files: Vec<MacroFile> = std::iter::once((&input, None))
        .chain(input.packages.iter().map(|p| (&p.input, Some(&p.input.config.name))))
        .flat_map(|(unit, package)| {
            unit.macros.iter().chain(&unit.generic_tests).map(move |f| MacroFile {
                path: f.path.clone(),
                text: f.text.clone(),
                package: package.cloned(),
            })
        })
        .collect();
    let (jinja, jdiags) = Jinja::new(ctx, &macro_files);
    diags.extend(jdiags);

    let render_env = render_env(&jinja, &macro_files, &vars, &db.engine);
    let mut cache = if let Some(target_json) = target_json {
        let mut names: Vec<String> = jinja
            .macros()
            .values()
            .map(|m| format!("{}@{}", m.name, m.file))
            .collect();
        names.sort();
        let global = cache::hash(&[
            input.config.name.as_bytes(),
            target_json.as_bytes(),
            &[u8::from(opts.full_refresh)],
            names.join("\n").as_bytes(),
        ]);
        cache::Cache::load(&target_dir(&input, opts), global)
    } else {
        cache::Cache::disabled()
    };

    let mut built = nodes::build(&input, &db, &mut diags);
    let seed_types = SeedTypesRead::start(&built.shells, opts, &db, &cache);
    render_descriptions(&jinja, &input.root, &mut built, &mut diags);
    let sources = built.sources;
    let yaml_sites: HashMap<String, nodes::YamlSite> = built
        .shells
        .iter_mut()
        .filter_map(|s| Some((s.node.unique_id.clone(), s.yaml.take()?)))
        .collect();
    // The nodes hold what they need of the files from here on.
    for files in [
        &mut input.models,
        &mut input.analyses,
        &mut input.snapshots,
        &mut input.singular_tests,
        &mut input.docs,
    ] {
        *files = Vec::new();
    }
    let exposure_files: Vec<(String, Vec<modelc_project::ExposurePatch>)> = input
        .properties
        .iter_mut()
        .filter(|f| !f.exposures.is_empty())
        .map(|f| (f.path.clone(), std::mem::take(&mut f.exposures)))
        .collect();
    let unit_test_files: Vec<(String, Vec<modelc_project::UnitTestPatch>)> = input
        .properties
        .iter_mut()
        .filter(|f| !f.unit_tests.is_empty())
        .map(|f| (f.path.clone(), std::mem::take(&mut f.unit_tests)))
        .collect();
    input.properties = Vec::new();

    // Render every node in parallel (or take last compile's render, when its inputs
    // are unchanged); incremental models that ask `is_incremental()` are rendered a
    // second time for incremental runs.
    let cached = &cache;
    let rendered: Vec<(Node, Rendered, Cached<cache::RenderEntry>, Option<JsonMap>)> = built
        .shells
        .into_par_iter()
        .map(|shell| {
            let mut node = shell.node;
            if let Err(d) = render_config_values(&jinja, &mut node) {
                return (node, Err(d), Cached::No, None);
            }
            if node.resource_type == ResourceType::Seed {
                return (node, Ok((RenderOutput::default(), None)), Cached::No, None);
            }
            // The config before rendering, kept for the compile state.
            let shell_config = (opts.cache && node.resource_type == ResourceType::Model).then(|| node.config.0.clone());
            // Keyed by the template and everything of the node it can see.
            let key = opts.cache.then(|| {
                cache::hash(&[
                    node.original_file_path.as_bytes(),
                    shell.template.as_bytes(),
                    node.name.as_bytes(),
                    node.unique_id.as_bytes(),
                    node.resource_type.as_str().as_bytes(),
                    serde_json::to_string(&node.config.0).unwrap_or_default().as_bytes(),
                ])
            });
            if let Some(e) = key.and_then(|k| cached.render(&node.unique_id, k, &render_env)) {
                merge_config(&mut node.config.0, &e.output.config);
                let out = (e.output.clone(), e.incremental.clone());
                return (node, Ok(out), Cached::Reused, shell_config);
            }
            // Built-in generic tests (most of a large project's nodes) skip the engine.
            let native = shell.generic.as_ref().and_then(|(test, model)| {
                let args = &node.test.as_ref()?.kwargs;
                jinja.render_builtin_test(test, model, args, &node.config.0)
            });
            let rendered = match native {
                Some(out) => Ok((out, None)),
                None => render_node(&jinja, &mut node, &shell.template),
            };
            match rendered {
                Err(d) => (node, Err(d), Cached::No, None),
                Ok((out, incremental)) => {
                    // Late renders are redone at every compile: not cached.
                    let entry = key
                        .filter(|_| !node.late_render)
                        .and_then(|k| render_env.entry(k, &shell.template, &out, incremental.as_ref()));
                    (
                        node,
                        Ok((out, incremental.map(|o| o.sql))),
                        Cached::New(entry),
                        shell_config,
                    )
                }
            }
        })
        .collect();

    clock.lap("render");
    // Collected first and built in one go (a bulk build beats 32,000 inserts).
    let mut kept: Vec<(String, Node)> = Vec::with_capacity(rendered.len());
    // Each node's rendered SQL (and incremental variant), to substitute.
    let mut outputs: Vec<(String, String, Option<String>)> = Vec::with_capacity(rendered.len());
    let mut disabled = Vec::new();
    // Disabled nodes still match the config paths that disable them.
    let mut disabled_fqns: Vec<(ResourceType, Vec<String>)> = Vec::new();
    let sites = configs::Sites {
        project_file: &input.config.file,
        project_text: &input.config.text,
        resource_configs: &input.config.resource_configs,
        yaml: &yaml_sites,
    };
    for (mut node, result, entry, shell_config) in rendered {
        if let Some(seed) = &mut seed {
            // A render that cannot be cached (it reads `invocation_id`, say) differs at
            // every compile: the compile state cannot stand in for it.
            seed.volatile |= matches!(entry, Cached::New(None));
            if let Some(config) = shell_config {
                seed.shell_configs.insert(node.unique_id.clone(), config);
            }
        }
        cache.keep_render(&node.unique_id, entry);
        if let Some(seed) = &mut seed {
            seed.env_vars.extend(cache.kept_env_vars(&node.unique_id).cloned());
        }
        match result {
            Err(d) => diags.push(d),
            Ok((out, incr)) => {
                if !node.config.enabled() {
                    disabled.push(node.name.clone());
                    disabled_fqns.push((node.resource_type, node.fqn));
                    continue;
                }
                diags.extend(config_warnings(&node, &out.config));
                configs::validate(&node, &out.config, &sites, &mut diags);
                node.refs = out.refs;
                node.sources = out.sources;
                node.depends_on.macros = out.macros.into_iter().collect();
                outputs.push((node.unique_id.clone(), out.sql, incr));
                kept.push((node.unique_id.clone(), node));
            }
        }
    }
    let mut nodes = sorted_map(kept);
    // Tests of disabled nodes are dropped with them.
    nodes.retain(|_, n| !(n.is_generic_test() && n.refs.iter().any(|r| disabled.contains(&r.name))));

    // Before refs resolve, as dbt renders hooks at parse time: what they `ref()` is a parent.
    hooks::render_all(&jinja, &mut nodes, &sites, &mut diags);

    for key in ["models", "seeds", "snapshots"] {
        if let Some(tree) = input.config.resource_configs.get(key) {
            let rt = match key {
                "models" => ResourceType::Model,
                "seeds" => ResourceType::Seed,
                _ => ResourceType::Snapshot,
            };
            let fqns: BTreeSet<Vec<String>> = nodes
                .values()
                .filter(|n| n.resource_type == rt)
                .map(|n| n.fqn.clone())
                .chain(disabled_fqns.iter().filter(|(t, _)| *t == rt).map(|(_, f)| f.clone()))
                .collect();
            configs::check_tree(&input.config.file, &input.config.text, key, tree, &fqns, &mut diags);
        }
    }

    let found: Vec<Vec<Diagnostic>> = nodes
        .par_iter_mut()
        .map(|(_, node)| {
            let mut found = Vec::new();
            node.relation = resolve::relation_for(node, &db, &jinja, &mut found);
            found
        })
        .collect();
    diags.extend(found.into_iter().flatten());
    check_unique_relations(&nodes, &mut diags);

    // Resolve refs and sources.
    let mut deps: HashMap<String, resolve::Deps> = HashMap::new();
    {
        let mut by_name: HashMap<&str, Vec<&Node>> = HashMap::new();
        for n in nodes.values().filter(|n| {
            matches!(
                n.resource_type,
                ResourceType::Model | ResourceType::Seed | ResourceType::Snapshot
            )
        }) {
            by_name.entry(n.name.as_str()).or_default().push(n);
        }
        let index = resolve::Index {
            by_name,
            disabled: &disabled,
            sources: sources
                .values()
                .map(|s| ((s.source_name.as_str(), s.name.as_str()), s))
                .collect(),
            project: &input.config.name,
        };
        let resolved: Vec<(&String, Option<resolve::Deps>, Vec<Diagnostic>)> = nodes
            .par_iter()
            .map(|(id, node)| {
                let mut found = Vec::new();
                let d = resolve::resolve_deps(node, &index, &mut found);
                (id, d, found)
            })
            .collect();
        for (id, d, found) in resolved {
            diags.extend(found);
            if let Some(d) = d {
                deps.insert(id.clone(), d);
            }
        }
    }
    for (id, (refs, srcs)) in &deps {
        if let Some(n) = nodes.get_mut(id) {
            let mut all: Vec<String> = refs.iter().chain(srcs).cloned().collect();
            all.sort();
            all.dedup();
            n.depends_on.nodes = all;
        }
    }
    if diags.iter().any(Diagnostic::is_error) {
        return finish(None, diags);
    }

    contracts::resolve_foreign_keys(&mut nodes, &sources, &yaml_sites, &mut diags);
    if let Some(engine) = modelc_core::engine(&db.engine) {
        diags.extend(contracts::unsupported_constraints(&nodes, &yaml_sites, engine));
    }
    clock.lap("resolve");
    let exposures = exposures::build(&input.config.name, &exposure_files, &nodes, &sources, &mut diags);
    unit_tests::build(
        &input.config.name,
        (&input.root, &input.config.test_paths),
        &unit_test_files,
        &mut nodes,
        &sources,
        &deps,
        &mut diags,
    );
    if diags.iter().any(Diagnostic::is_error) {
        return finish(None, diags);
    }
    let dag = match build_dag(&nodes, &sources, &exposures) {
        Ok(d) => d,
        Err(DagError::Cycle { path }) => {
            diags.push(cycle_diagnostic(&path, &nodes));
            return finish(None, diags);
        }
        Err(e) => {
            diags.push(Diagnostic::error("internal", format!("cannot build the graph: {e:?}")));
            return finish(None, diags);
        }
    };

    clock.lap("graph");
    let empty = empty_refs(opts, &db);
    // Substitute placeholders (every node's relation is known now), then inline the
    // ephemeral ancestors of each node as CTEs: both in parallel, each rendered SQL
    // consumed as it is substituted.
    let mut substituted: Vec<(String, String, Option<String>)> = outputs
        .into_par_iter()
        .filter_map(|(id, sql, incr)| {
            let node = nodes.get(&id).filter(|n| n.resource_type != ResourceType::Seed)?;
            let (refs, srcs) = deps
                .get(&id)
                .map(|(r, s)| (r.as_slice(), s.as_slice()))
                .unwrap_or_default();
            let sub = |sql: &str| resolve::substitute(sql, node, (refs, srcs), &nodes, &sources, empty);
            let base = sub(&sql);
            let incr = incr.as_deref().map(sub);
            Some((id, base, incr))
        })
        .collect();
    if let Some(seed) = &mut seed {
        seed.deps = deps.clone();
    }
    let with_ctes: Vec<(usize, String, Option<String>)> = {
        // The SQL of ephemeral models, before their own CTEs: what consumers inline.
        let ephemeral: HashMap<&str, &str> = substituted
            .iter()
            .filter(|(id, ..)| nodes.get(id).is_some_and(Node::is_ephemeral))
            .map(|(id, base, _)| (id.as_str(), base.as_str()))
            .collect();
        substituted
            .par_iter()
            .enumerate()
            .filter(|_| !ephemeral.is_empty())
            .filter_map(|(i, (id, base, incr))| {
                let ctes = ephemeral_ctes(id, &nodes, &ephemeral);
                (!ctes.is_empty()).then(|| {
                    let inject = |sql: &String| resolve::inject_ctes(sql, &ctes);
                    (i, inject(base), incr.as_ref().map(inject))
                })
            })
            .collect()
    };
    for (i, sql, incr) in with_ctes {
        if let Some(slot) = substituted.get_mut(i) {
            slot.1 = sql;
            slot.2 = incr;
        }
    }
    for (id, sql, incr) in substituted {
        if let Some(n) = nodes.get_mut(&id) {
            n.compiled_code = Some(sql);
            n.compiled_incremental_code = incr;
        }
    }
    hooks::resolve_all(&mut nodes, &deps, &sources);
    if diags.iter().any(Diagnostic::is_error) {
        return finish(None, diags);
    }

    clock.lap("substitute");
    // Lineage reads the columns of upstream models: analyzed wave by wave. Without
    // it, every node is analyzed in one parallel pass.
    let check = !opts.skip_static_analysis;
    let waves = if opts.skip_lineage && !check {
        vec![nodes.keys().cloned().collect()]
    } else {
        dag.waves(&nodes.keys().cloned().collect())
    };
    let unrendered = render_late_nodes(
        &jinja,
        (&input.root, &db),
        &mut nodes,
        &sources,
        &dag,
        &deps,
        opts,
        &mut diags,
    );
    let mut found = Vec::new();
    let seed_types = seed_types.finish(&mut cache);
    let (lineage, columns) = analyze::analyze(
        &waves,
        &nodes,
        &sources,
        &mut cache,
        &analyze::Wanted {
            lineage: !opts.skip_lineage,
            check,
            typed: db.engine == "duckdb",
            seed_types: &seed_types,
        },
        &unrendered,
        &mut found,
    );
    if check {
        found.extend(contracts::check(&nodes, &yaml_sites, &columns, db.engine == "duckdb"));
    }
    analyze::fill_types(&mut nodes, &columns);
    let renderer = unit_tests::Renderer {
        jinja: &jinja,
        deps: &deps,
        sources: &sources,
        empty,
    };
    unit_tests::finish(&mut nodes, &columns, &renderer, &mut found);
    if let Some(seed) = &mut seed {
        seed.columns = columns;
    }
    // The parse-phase SQL of a node rendered only when it runs is no SQL to check
    // (the analysis does not check its columns either).
    found.retain(|d| !(d.code == "sql-parse" && d.file.as_ref().is_some_and(|f| unrendered.contains(f))));
    let analysis_errors: Vec<Diagnostic> = found.iter().filter(|d| d.is_error()).cloned().collect();
    diags.extend(found);
    clock.lap("analyze");
    let cache_stats = cache.stats();
    cache.save();
    clock.lap("cache");

    let render_hook = |h: &String| {
        jinja
            .render(&input.config.file, h, &NodeContext::default())
            .map(|o| o.sql)
            .map_err(|e| e.to_diagnostic(&input.config.file))
    };
    // `on-run-end` hooks are rendered here for their errors, and again when the
    // run ends, with its results (`Project::render_on_run_end`).
    let mut on_run_start = Vec::new();
    for (hooks, out) in [
        (&input.config.on_run_start, &mut on_run_start),
        (&input.config.on_run_end, &mut Vec::new()),
    ] {
        for h in hooks {
            match render_hook(h) {
                Ok(s) => out.push(s),
                Err(d) => diags.push(d),
            }
        }
    }

    let project = Project {
        root: input.root.clone(),
        name: input.config.name.clone(),
        target_dir: target_dir(&input, opts),
        db,
        nodes,
        sources,
        macros: jinja.macros().clone(),
        dag,
        lineage,
        on_run_start,
        on_run_end_templates: (input.config.file.clone(), input.config.on_run_end.clone()),
        jinja: std::sync::Arc::new(jinja),
        deps,
        graph: std::sync::OnceLock::new(),
        empty,
        exposures,
    };
    if let Some(seed) = &mut seed {
        seed.macro_files = macro_files.iter().map(|f| f.path.clone()).collect();
    }
    let other_errors = diags.iter().filter(|d| d.is_error()).count() > analysis_errors.len();
    let mut out = if analysis_errors.is_empty() || other_errors {
        finish(Some(project), diags)
    } else {
        Compiled {
            blocked: Blocked::new(project, analysis_errors),
            ..finish(None, diags)
        }
    };
    out.cache = cache_stats;
    out.state = seed;
    out
}

/// What cached renders are checked against: macro files, vars, environment.
fn render_env<'a>(jinja: &Jinja, files: &'a [MacroFile], vars: &'a JsonMap, engine: &str) -> cache::RenderEnv<'a> {
    let mut macro_texts: HashMap<String, &'a str> = files.iter().map(|f| (f.path.clone(), f.text.as_str())).collect();
    macro_texts.insert(
        modelc_template::BUILTINS_NAME.to_string(),
        modelc_template::builtins(engine),
    );
    cache::RenderEnv {
        macro_files: macro_texts
            .iter()
            .map(|(path, text)| (path.clone(), cache::hash(&[text.as_bytes()])))
            .collect(),
        macro_file_of: jinja
            .macros()
            .values()
            .map(|m| (m.unique_id.clone(), m.file.clone()))
            .collect(),
        macro_texts,
        vars,
    }
}

/// How `--empty` renders `ref`s on the target's engine, when it is given.
fn empty_refs(opts: &CompileOptions, db: &DbConfig) -> Option<resolve::Empty> {
    opts.empty.then(|| resolve::Empty {
        alias: modelc_core::engine(&db.engine).is_some_and(|e| e.subquery_alias),
    })
}

/// Renders the late nodes (see [`late`]) in dependency order, for `modelc compile`:
/// their upstream columns from the database given, else from modelc's analysis of
/// the upstream SQL. What cannot be answered before the run is a warning: the runner
/// renders the node again when it runs.
#[allow(clippy::too_many_arguments)]
fn render_late_nodes(
    jinja: &Jinja,
    (root, db): (&Path, &DbConfig),
    nodes: &mut BTreeMap<String, Node>,
    sources: &BTreeMap<String, SourceTable>,
    dag: &Dag,
    deps: &HashMap<String, resolve::Deps>,
    opts: &CompileOptions,
    diags: &mut Vec<Diagnostic>,
) -> BTreeSet<PathBuf> {
    let empty = empty_refs(opts, db);
    let mut unrendered = BTreeSet::new();
    let late: BTreeSet<String> = nodes
        .values()
        .filter(|n| n.late_render)
        .map(|n| n.unique_id.clone())
        .collect();
    if late.is_empty() {
        return unrendered;
    }
    let mut graph: Option<std::sync::Arc<serde_json::Value>> = None;
    for id in dag.topo_order(&late) {
        // The columns of every upstream relation, from their SQL as it stands now.
        let ancestors = dag.ancestors(&id, None);
        let (lineage, _) = analyze::analyze(
            &dag.waves(&ancestors),
            nodes,
            sources,
            &mut cache::Cache::disabled(),
            &analyze::Wanted {
                lineage: true,
                check: false,
                typed: false,
                seed_types: &HashMap::new(),
            },
            &BTreeSet::new(),
            &mut Vec::new(),
        );
        let mut known = late::declared_columns(nodes, sources);
        for (up, cols) in &lineage {
            let Some(r) = nodes.get(up).and_then(|n| n.relation.as_ref()) else {
                continue;
            };
            // A `*` modelc could not expand: the columns are not known.
            if cols.iter().any(|c| c.name == "*") {
                continue;
            }
            let declared = nodes.get(up).map(|n| n.columns.as_slice()).unwrap_or_default();
            let columns = cols
                .iter()
                .map(|c| modelc_template::database::DbColumn {
                    name: c.name.clone(),
                    data_type: declared
                        .iter()
                        .find(|d| d.name.eq_ignore_ascii_case(&c.name))
                        .and_then(|d| d.data_type.clone()),
                })
                .collect();
            known.insert(late::key(r), columns);
        }
        let g = graph
            .get_or_insert_with(|| {
                std::sync::Arc::new(late::graph_json(&manifest_node::NodeCtx {
                    root,
                    db,
                    sources,
                    nodes,
                }))
            })
            .clone();
        let Some(node) = nodes.get(&id) else { continue };
        let db = late::NodeDb::new(
            node,
            deps.get(&id),
            nodes,
            sources,
            std::sync::Arc::new(known),
            g,
            opts.database.clone(),
        );
        let rendered = late::render(
            jinja,
            node,
            deps.get(&id),
            nodes,
            sources,
            std::sync::Arc::new(db),
            empty,
        );
        match rendered {
            Ok((sql, incr)) => {
                let sql = with_ephemeral_parents(sql, node, nodes);
                let incr = incr.map(|i| with_ephemeral_parents(i, node, nodes));
                if let Some(n) = nodes.get_mut(&id) {
                    n.compiled_code = Some(sql);
                    n.compiled_incremental_code = incr;
                }
            }
            Err(d) if d.code == "late-ref" => diags.push(d),
            Err(d) => {
                unrendered.insert(PathBuf::from(&node.original_file_path));
                diags.push(
                    Diagnostic::warning(
                        "late-render",
                        format!(
                            "{} '{}' asks the database while rendering; it is rendered when it runs: {}",
                            node.resource_type, node.name, d.message
                        ),
                    )
                    .at(
                        d.file
                            .clone()
                            .unwrap_or_else(|| PathBuf::from(&node.original_file_path)),
                        d.line.max(1),
                        1,
                    ),
                )
            }
        }
    }
    unrendered
}

/// The ephemeral ancestors of a node reachable through ephemeral nodes, in dependency
/// order, with their SQL (`ephemeral`: each ephemeral model's SQL before CTE injection).
fn ephemeral_ctes(id: &str, nodes: &BTreeMap<String, Node>, ephemeral: &HashMap<&str, &str>) -> Vec<(String, String)> {
    fn visit(
        id: &str,
        nodes: &BTreeMap<String, Node>,
        ephemeral: &HashMap<&str, &str>,
        seen: &mut BTreeSet<String>,
        out: &mut Vec<String>,
    ) {
        let Some(n) = nodes.get(id) else { return };
        for p in &n.depends_on.nodes {
            if ephemeral.contains_key(p.as_str()) && seen.insert(p.clone()) {
                visit(p, nodes, ephemeral, seen, out);
                out.push(p.clone());
            }
        }
    }
    let mut seen = BTreeSet::new();
    let mut order = Vec::new();
    visit(id, nodes, ephemeral, &mut seen, &mut order);
    order
        .into_iter()
        .filter_map(|p| Some((cte_name(&nodes.get(&p)?.name), ephemeral.get(p.as_str())?.to_string())))
        .collect()
}

fn resource_kind(rt: ResourceType) -> ResourceKind {
    match rt {
        ResourceType::Model => ResourceKind::Model,
        ResourceType::Seed => ResourceKind::Seed,
        ResourceType::Snapshot => ResourceKind::Snapshot,
        ResourceType::Test => ResourceKind::Test,
        ResourceType::Source => ResourceKind::Source,
        ResourceType::Analysis => ResourceKind::Analysis,
        ResourceType::UnitTest => ResourceKind::UnitTest,
    }
}

fn build_dag(
    nodes: &BTreeMap<String, Node>,
    sources: &BTreeMap<String, SourceTable>,
    exposures: &BTreeMap<String, exposures::Exposure>,
) -> Result<Dag, DagError> {
    // The graph's copies of the nodes are made in parallel; the graph itself in order.
    let dag_node = |n: &Node| {
        let config: BTreeMap<String, String> = n
            .config
            .0
            .iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k.clone(), s.clone())),
                serde_json::Value::Bool(_) | serde_json::Value::Number(_) => Some((k.clone(), v.to_string())),
                _ => None,
            })
            .collect();
        DagNode {
            unique_id: n.unique_id.clone(),
            name: n.name.clone(),
            resource_type: resource_kind(n.resource_type),
            package: n.package_name.clone(),
            path: n.original_file_path.clone(),
            fqn: n.fqn.clone(),
            tags: n.config.tags(),
            materialized: Some(n.materialized()),
            source_name: None,
            test_kind: n.test.as_ref().map(|t| match &t.name {
                Some(name) => TestKind::Generic { name: name.clone() },
                None => TestKind::Singular,
            }),
            config,
            state: BTreeSet::new(),
            result: None,
            source_status: None,
        }
    };
    let all: Vec<&Node> = nodes.values().collect();
    let mut dag_nodes: Vec<DagNode> = all.par_iter().map(|n| dag_node(n)).collect();
    dag_nodes.reserve(sources.len());
    let mut edges = Vec::new();
    for n in all {
        for p in &n.depends_on.nodes {
            edges.push((p.clone(), n.unique_id.clone()));
        }
    }
    // A source that names a relation the project itself builds (a seed landing raw
    // data, say) depends on that node, so `build` orders them correctly.
    let reads_tables = sources.values().any(|s| s.external_location.is_none());
    let built: HashMap<(String, String), &str> = nodes
        .values()
        .filter(|_| reads_tables)
        .filter_map(|n| {
            n.relation.as_ref().map(|r| {
                (
                    (r.schema.to_lowercase(), r.identifier.to_lowercase()),
                    n.unique_id.as_str(),
                )
            })
        })
        .collect();
    for s in sources.values() {
        if s.external_location.is_none() {
            let key = (s.relation.schema.to_lowercase(), s.relation.identifier.to_lowercase());
            if let Some(id) = built.get(&key) {
                edges.push((id.to_string(), s.unique_id.clone()));
            }
        }
        dag_nodes.push(DagNode {
            unique_id: s.unique_id.clone(),
            name: s.name.clone(),
            resource_type: ResourceKind::Source,
            package: s.package_name.clone(),
            path: s.original_file_path.clone(),
            fqn: s.fqn.clone(),
            tags: s.tags.clone(),
            materialized: None,
            source_name: Some(s.source_name.clone()),
            test_kind: None,
            config: BTreeMap::new(),
            state: BTreeSet::new(),
            result: None,
            source_status: None,
        });
    }
    for e in exposures.values() {
        let (node, from) = e.dag_node();
        dag_nodes.push(node);
        edges.extend(from);
    }
    Dag::new(dag_nodes, edges)
}

fn cycle_diagnostic(path: &[String], nodes: &BTreeMap<String, Node>) -> Diagnostic {
    let describe = |id: &String| match nodes.get(id) {
        Some(n) => format!("{} ({})", n.name, n.original_file_path),
        None => id.clone(),
    };
    let mut chain: Vec<String> = path.iter().map(describe).collect();
    if let Some(first) = path.first() {
        chain.push(describe(first));
    }
    let mut d = Diagnostic::error("cycle", format!("dependency cycle: {}", chain.join(" -> ")));
    if let (Some(first), Some(last)) = (path.first(), path.last()) {
        if let Some(n) = nodes.get(first) {
            // Point at the first node's ref to the last node of the cycle... which is its parent.
            let parent = nodes.get(last).map(|p| p.name.clone()).unwrap_or_default();
            let (line, col) = resolve::locate_call(&n.raw_code, "ref(", &parent);
            d = d.at(&n.original_file_path, line.max(1), col.max(1));
        }
    }
    d.with_help("a model cannot depend on itself, directly or through other models")
}
