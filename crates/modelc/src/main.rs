//! The `modelc` command: a thin layer over the library crates that maps results to
//! exit codes: 0 success, 1 a node failed, 2 usage or project errors (nothing ran).

mod cli;
mod freshness;
mod late;
mod operation;
mod progress;
mod report;
mod seed_types;
mod show;

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use modelc_compile::{artifacts, compile, state, CacheStats, CompileOptions, Project};
use modelc_core::{Diagnostics, JsonMap, ResourceType};
use modelc_docs::catalog::{Catalog, ColumnRow};
use modelc_docs::{ChartData, SiteInput};
use modelc_exec::{Adapter, ExecSettings, RunRequest, Status};
use modelc_graph::IndirectSelection;

use cli::{Cli, Command, Common, DepsArgs, DocsArgs, DocsFormat, Indirect, LsArgs, LsOutput, RunArgs};

/// mimalloc: compiling allocates many small strings and maps, and glibc's allocator
/// spent a third of a 10,000-model compile in malloc and free (perf).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit code: a node failed.
const FAILED: u8 = 1;
/// Exit code: usage or project error; nothing was executed.
const INVALID: u8 = 2;

/// Exit code: the run was cancelled with Ctrl-C (128 + SIGINT, as shells report it).
const CANCELLED: u8 = 130;

fn main() -> ExitCode {
    report_panics_as_bugs();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compile(c) => cmd_compile(&c),
        Command::Ls(a) => cmd_ls(&a),
        Command::Debug(c) => cmd_debug(&c),
        Command::Docs(a) => cmd_docs(&a),
        Command::Run(a) => execute(&a, Verb::Run),
        Command::Seed(a) => execute(&a, Verb::Seed),
        Command::Snapshot(a) => execute(&a, Verb::Snapshot),
        Command::Test(a) => execute(&a, Verb::Test),
        Command::Build(a) => execute(&a, Verb::Build),
        Command::Retry(a) => cmd_retry(&a),
        Command::Deps(a) => cmd_deps(&a),
        Command::Show(a) => show::cmd_show(&a),
        Command::Source(a) => match a.command {
            cli::SourceCommand::Freshness(f) => freshness::cmd_source_freshness(&f),
        },
        Command::RunOperation(a) => operation::cmd_run_operation(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => ExitCode::from(code),
    }
}

/// A panic is a bug in modelc, never the user's fault: after Rust's own message,
/// ask for a report. The process then exits with code 101 (a panic on a worker
/// thread reaches the main thread through its scope).
fn report_panics_as_bugs() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        eprintln!(
            "\nmodelc crashed: this is a bug in modelc, not in your project. Please report it to the \
             modelc developers with the command you ran and the message above (RUST_BACKTRACE=1 adds a backtrace)."
        );
    }));
}

/// Prints an error line and returns the "invalid" exit code.
fn invalid(msg: impl std::fmt::Display) -> u8 {
    eprintln!("error: {msg}");
    INVALID
}

fn parse_vars(vars: Option<&str>) -> Result<JsonMap, u8> {
    let Some(text) = vars else { return Ok(JsonMap::new()) };
    match serde_yaml::from_str::<serde_yaml::Value>(text) {
        Ok(v) if v.is_mapping() => Ok(modelc_project::yaml::to_json_map(&v)),
        Ok(_) => Err(invalid(format!(
            "--vars must be a YAML mapping like '{{key: value}}', got '{text}'"
        ))),
        Err(e) => Err(invalid(format!("--vars is not valid YAML: {e}"))),
    }
}

/// Compiles the project, printing diagnostics; errors stop here with exit code 2.
fn load(common: &Common, full_refresh: bool) -> Result<Project, u8> {
    compile_full(common, &options(common, full_refresh)?).map(|c| c.project)
}

/// Compiles the project for a run, seed, snapshot, test or build, with its flags.
fn load_for_run(args: &RunArgs) -> Result<Project, u8> {
    let opts = CompileOptions {
        empty: args.empty,
        ..options(&args.common, args.full_refresh)?
    };
    compile_full(&args.common, &opts).map(|c| c.project)
}

/// A project compiled in full, with what the compile cache saved and kept.
struct FullCompile {
    project: Project,
    cache: CacheStats,
    state: Option<state::Seed>,
    diagnostics: Diagnostics,
}

fn options(common: &Common, full_refresh: bool) -> Result<CompileOptions, u8> {
    Ok(CompileOptions {
        vars: parse_vars(common.vars.as_deref())?,
        target: common.target.clone(),
        profiles_dir: common.profiles_dir.clone(),
        db_path: common.db.clone(),
        threads: common.threads,
        target_path: common.target_path.clone(),
        full_refresh,
        cache: !common.no_partial_parse,
        // Column lineage is for the docs; every other command only checks the SQL.
        skip_lineage: true,
        empty: false,
        skip_static_analysis: common.static_analysis == "off",
        // Late renders answer from modelc's analysis at compile time; the run
        // renders them again against its database.
        database: None,
        seed_types: Some(std::sync::Arc::new(seed_types::CsvTypes::new(project_root(common)))),
    })
}

fn project_root(common: &Common) -> std::path::PathBuf {
    common
        .project_dir
        .canonicalize()
        .unwrap_or_else(|_| common.project_dir.clone())
}

/// Compiles the project with `text` as one more analysis named `name` (inline SQL,
/// a macro call): `analysis.<project>.<name>`.
fn compile_with_analysis(common: &Common, name: &str, text: &str) -> Result<Project, u8> {
    let opts = options(common, false)?;
    let root = project_root(common);
    let load = modelc_project::LoadOptions {
        profiles_dir: opts.profiles_dir.clone(),
        target: opts.target.clone(),
    };
    let mut diags = Vec::new();
    let Some(mut input) = modelc_project::load_project(&common.project_dir, &load, &mut diags) else {
        report::print_all(&Diagnostics(diags), &root);
        return Err(INVALID);
    };
    input.analyses.push(modelc_project::SourceFile {
        path: format!("{name}.sql"),
        resource_path: format!("{name}.sql"),
        text: text.to_string(),
    });
    // The compile cache is keyed by the project's files: this text is not one.
    let opts = CompileOptions { cache: false, ..opts };
    let mut compiled = modelc_compile::compile_input(input, &opts, diags);
    // That this text asks the database is expected: it runs against it next.
    let late_note = format!("analysis '{name}' asks the database");
    compiled
        .diagnostics
        .0
        .retain(|d| !(d.code == "late-render" && d.message.starts_with(&late_note)));
    report::print_all(&compiled.diagnostics, &root);
    compiled.project.ok_or(INVALID)
}

/// `--state DIR`: marks every node of the graph with how it compares with the
/// manifest in DIR (and its status in DIR's run_results.json, when there), for
/// `state:` and `result:` selection, as dbt does.
fn apply_state(project: &mut Project, common: &Common) -> Result<(), u8> {
    let Some(dir) = &common.state else {
        let uses = common
            .select
            .iter()
            .chain(&common.exclude)
            .any(|s| s.contains("state:") || s.contains("result:") || s.contains("source_status:"));
        if uses {
            return Err(invalid(
                "state:, result: and source_status: selection compare with a previous run: give its artifacts with --state DIR",
            ));
        }
        return Ok(());
    };
    let read = |name: &str| read_json(&dir.join(name));
    let previous = read_manifest(dir).map_err(|e| invalid(format!("--state: {e}")))?;
    let current = artifacts::manifest(project, &invocation_id());
    for (id, marks) in modelc_compile::compare::state_marks(&current, &previous) {
        if let Some(node) = project.dag.node_mut(&id) {
            node.state = marks;
        }
    }
    let uses_source_status = common
        .select
        .iter()
        .chain(&common.exclude)
        .any(|s| s.contains("source_status:"));
    if uses_source_status {
        let previous = read("sources.json").map_err(|e| {
            invalid(format!(
                "--state: {e} (source_status: compares two runs of `modelc source freshness`)"
            ))
        })?;
        let current_path = project.target_dir.join("sources.json");
        let current: serde_json::Value = std::fs::read_to_string(&current_path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
            .map_err(|e| {
                invalid(format!(
                    "source_status: needs this run's freshness: cannot read {}: {e} (run `modelc source freshness` first)",
                    current_path.display()
                ))
            })?;
        for id in fresher_sources(&current, &previous) {
            if let Some(node) = project.dag.node_mut(&id) {
                node.source_status = Some("fresher".into());
            }
        }
    }
    if dir.join("run_results.json").exists() {
        let results = read("run_results.json").map_err(|e| invalid(format!("--state: {e}")))?;
        for r in results["results"].as_array().into_iter().flatten() {
            let (Some(id), Some(status)) = (r["unique_id"].as_str(), r["status"].as_str()) else {
                continue;
            };
            if let Some(node) = project.dag.node_mut(id) {
                node.result = Some(status.to_string());
            }
        }
    }
    Ok(())
}

/// A JSON artifact.
fn read_json(path: &std::path::Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not valid JSON: {e}", path.display()))
}

/// The `manifest.json` of a state folder; JSON that is not a manifest is an error.
fn read_manifest(dir: &std::path::Path) -> Result<serde_json::Value, String> {
    let path = dir.join("manifest.json");
    let manifest = read_json(&path)?;
    let schema = manifest["metadata"]["dbt_schema_version"].as_str().unwrap_or_default();
    if !schema.contains("/manifest/") || !manifest["nodes"].is_object() {
        return Err(format!(
            "{} is not a dbt manifest (no metadata.dbt_schema_version naming a manifest, or no nodes)",
            path.display()
        ));
    }
    Ok(manifest)
}

/// The nodes to run under `--defer`, and which of their parents were deferred.
type Deferral = (
    BTreeMap<String, modelc_core::Node>,
    Vec<modelc_compile::defer::Deferred>,
);

/// `--defer`: the nodes to run, the refs of the selected ones to unselected
/// nodes pointed at the state's relations where dbt would defer them, and which.
fn deferred_nodes(
    project: &Project,
    args: &RunArgs,
    selected: &BTreeSet<String>,
    adapter: &dyn Adapter,
) -> Result<Deferral, u8> {
    let Some(dir) = args.defer_state.as_ref().or(args.common.state.as_ref()) else {
        return Err(invalid(
            "--defer reads the relations of another environment: give its artifacts with --state DIR (or --defer-state DIR)",
        ));
    };
    let previous = read_manifest(dir).map_err(|e| invalid(format!("--defer: {e}")))?;
    let state = modelc_compile::defer::state_relations(&previous);
    let conn = adapter.connect().map_err(invalid)?;
    let mut exists = |r: &modelc_core::Relation| conn.relation_kind(r).ok().flatten().is_some();
    let mut nodes = project.nodes.clone();
    let done = modelc_compile::defer::defer(&mut nodes, selected, &state, args.favor_state, &mut exists);
    if !done.is_empty() {
        let names: Vec<String> = done.iter().map(|d| d.state.to_string()).collect();
        println!("Deferred to {}: {}", dir.display(), names.join(", "));
    }
    Ok((nodes, done))
}

/// The sources loaded since the previous `source freshness` (dbt's
/// `source_status:fresher`): a later `max_loaded_at` than in `previous`, or none
/// there; never one whose freshness check failed in either run.
fn fresher_sources(current: &serde_json::Value, previous: &serde_json::Value) -> Vec<String> {
    type Loaded = Option<chrono::DateTime<chrono::FixedOffset>>;
    let loaded = |v: &serde_json::Value| -> BTreeMap<String, Loaded> {
        v["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| {
                let id = r["unique_id"].as_str()?.to_string();
                let at = r["max_loaded_at"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
                Some((id, at))
            })
            .collect()
    };
    let (now, before) = (loaded(current), loaded(previous));
    now.into_iter()
        .filter_map(|(id, at)| {
            let at = at?;
            match before.get(&id) {
                None => Some(id),
                Some(Some(was)) if at > *was => Some(id),
                _ => None,
            }
        })
        .collect()
}

/// Compiles in full, printing diagnostics. Errors of the analysis in nodes `--select`/`--exclude` leave out do not stop
/// the command: dbt compiles only the nodes it runs.
fn compile_full(common: &Common, opts: &CompileOptions) -> Result<FullCompile, u8> {
    let mut compiled = compile(&common.project_dir, opts);
    let selects = !common.select.is_empty() || !common.exclude.is_empty();
    let project = match (compiled.project.take(), compiled.blocked.take()) {
        (Some(mut project), _) => {
            report::print_all(&compiled.diagnostics, &project_root(common));
            apply_state(&mut project, common)?;
            project
        }
        (None, Some(mut blocked)) if selects => {
            apply_state(&mut blocked.project, common)?;
            let selected =
                blocked
                    .project
                    .dag
                    .select(&common.select, &common.exclude, indirect(common.indirect_selection));
            let project = match selected {
                Ok(selected) => blocked.unblock(&selected.ids, &mut compiled.diagnostics),
                Err(e) => {
                    report::print_all(&compiled.diagnostics, &project_root(common));
                    return Err(invalid(e));
                }
            };
            report::print_all(&compiled.diagnostics, &project_root(common));
            // What the compile cache would keep holds the errors: nothing is kept.
            compiled.state = None;
            project.ok_or(INVALID)?
        }
        (None, _) => {
            report::print_all(&compiled.diagnostics, &project_root(common));
            return Err(INVALID);
        }
    };
    Ok(FullCompile {
        project,
        cache: compiled.cache,
        state: compiled.state,
        diagnostics: compiled.diagnostics,
    })
}

fn indirect(i: Indirect) -> IndirectSelection {
    match i {
        Indirect::Eager => IndirectSelection::Eager,
        Indirect::Cautious => IndirectSelection::Cautious,
        Indirect::Buildable => IndirectSelection::Buildable,
        Indirect::Empty => IndirectSelection::Empty,
    }
}

/// The selected unique ids (sources included), printing selector warnings.
fn selection(project: &Project, common: &Common) -> Result<BTreeSet<String>, u8> {
    let selection = project
        .dag
        .select(&common.select, &common.exclude, indirect(common.indirect_selection))
        .map_err(invalid)?;
    for w in &selection.warnings {
        eprintln!("warning: {w}");
    }
    Ok(selection.ids)
}

/// The selected node ids of the given resource types.
fn select(project: &Project, common: &Common, types: &[ResourceType]) -> Result<BTreeSet<String>, u8> {
    Ok(selection(project, common)?
        .into_iter()
        .filter(|id| project.nodes.get(id).is_some_and(|n| types.contains(&n.resource_type)))
        .collect())
}

fn write_artifacts(project: &Project) -> Result<artifacts::Layout, u8> {
    artifacts::write(project, &invocation_id()).map_err(|e| {
        invalid(format!(
            "cannot write artifacts under {}: {e}",
            project.target_dir.display()
        ))
    })
}

fn invocation_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:032x}", nanos ^ u128::from(std::process::id()) << 64)
}

/// The summary line of `compile`.
fn compiled_line(n: usize, rendered: usize, reused: usize, target_dir: &std::path::Path) -> String {
    let reused = if reused > 0 {
        format!(" ({rendered} rendered, {reused} from the compile cache)")
    } else {
        String::new()
    };
    format!(
        "Compiled {n} nodes{reused} into {}.",
        target_dir.join("compiled").display()
    )
}

fn cmd_compile(common: &Common) -> Result<(), u8> {
    let opts = options(common, false)?;
    if common.select.is_empty() && opts.cache {
        // Only model files changed since the last compile: patch its results.
        if let Ok(r) = state::recompile(&common.project_dir, &opts, &invocation_id()) {
            report::print_all(&r.diagnostics, &project_root(common));
            let reused = r.compiled.saturating_sub(r.rendered.len());
            eprintln!("{}", compiled_line(r.compiled, r.rendered.len(), reused, &r.target_dir));
            return Ok(());
        }
    }
    let mut full = compile_full(common, &opts)?;
    let seed = full.state.take();
    let project = &full.project;
    let layout = write_artifacts(project)?;
    match seed {
        Some(seed) => state::save(project, seed, layout, &full.diagnostics, &opts),
        None => state::remove(&project.target_dir),
    }
    if common.select.is_empty() {
        let n = project.nodes.values().filter(|n| n.compiled_code.is_some()).count();
        let cache = &full.cache;
        eprintln!(
            "{}",
            compiled_line(n, cache.rendered.len(), cache.renders_reused, &project.target_dir)
        );
        // The process ends here: freeing a large project node by node only costs time.
        std::mem::forget(full);
        return Ok(());
    }
    let ids = select(
        project,
        common,
        &[
            ResourceType::Model,
            ResourceType::Snapshot,
            ResourceType::Test,
            ResourceType::Analysis,
        ],
    )?;
    // Generic tests' files are written when asked for: here.
    artifacts::write_compiled(project, ids.iter().filter_map(|id| project.nodes.get(id))).map_err(|e| {
        invalid(format!(
            "cannot write compiled SQL under {}: {e}",
            project.target_dir.display()
        ))
    })?;
    let many = ids.len() > 1;
    for id in &ids {
        if let Some(sql) = project.nodes.get(id).and_then(|n| n.compiled_code.as_ref()) {
            if many {
                println!("-- {id}");
            }
            println!("{}", sql.trim_end());
        }
    }
    Ok(())
}

fn cmd_ls(args: &LsArgs) -> Result<(), u8> {
    let project = load(&args.common, false)?;
    let all = [
        ResourceType::Model,
        ResourceType::Seed,
        ResourceType::Snapshot,
        ResourceType::Test,
        ResourceType::UnitTest,
        ResourceType::Analysis,
        ResourceType::Source,
    ];
    let mut types: Vec<ResourceType> = Vec::new();
    // Exposures are graph nodes, not nodes that compile.
    let mut exposures = args.resource_types.is_empty();
    for t in &args.resource_types {
        match t.as_str() {
            "exposure" => exposures = true,
            t => types.push(t.parse().map_err(invalid)?),
        }
    }
    if args.resource_types.is_empty() {
        types = all.to_vec();
    }
    let ids = selection(&project, &args.common)?;
    let mut rows: Vec<[String; 4]> = Vec::new();
    for id in &ids {
        if let Some(n) = project.nodes.get(id) {
            if types.contains(&n.resource_type) {
                rows.push([
                    n.resource_type.to_string(),
                    n.materialized(),
                    n.name.clone(),
                    n.original_file_path.clone(),
                ]);
            }
        } else if let Some(s) = project.sources.get(id) {
            if types.contains(&ResourceType::Source) {
                rows.push([
                    "source".into(),
                    "-".into(),
                    format!("{}.{}", s.source_name, s.name),
                    s.original_file_path.clone(),
                ]);
            }
        } else if let Some(e) = project.exposures.get(id).filter(|_| exposures) {
            rows.push([
                "exposure".into(),
                e.kind.clone(),
                e.name.clone(),
                e.original_file_path.clone(),
            ]);
        }
    }
    let widths: Vec<usize> = (0..3)
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    for r in &rows {
        match args.output {
            LsOutput::Text => println!(
                "{:<w0$}  {:<w1$}  {:<w2$}  {}",
                r[0],
                r[1],
                r[2],
                r[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            ),
            LsOutput::Name => println!("{}", r[2]),
            LsOutput::Path => println!("{}", r[3]),
            LsOutput::Json => println!(
                "{}",
                serde_json::json!({"resource_type": r[0], "materialized": r[1], "name": r[2], "original_file_path": r[3]})
            ),
        }
    }
    Ok(())
}

fn cmd_docs(args: &DocsArgs) -> Result<(), u8> {
    let opts = CompileOptions {
        skip_lineage: false,
        ..options(&args.common, false)?
    };
    let project = compile_full(&args.common, &opts)?.project;
    let ids = if args.common.select.is_empty() && args.common.exclude.is_empty() {
        None
    } else {
        Some(selection(&project, &args.common)?)
    };
    let graph = modelc_docs::lineage_graph(&project, ids.as_ref());
    match args.format {
        Some(DocsFormat::Json) => println!("{}", graph.to_json()),
        Some(DocsFormat::Dot) => print!("{}", graph.to_dot()),
        Some(DocsFormat::Mermaid) => print!("{}", graph.to_mermaid()),
        None => {
            let started = Instant::now();
            write_artifacts(&project)?;
            for (file, text) in [
                ("lineage.json", graph.to_json()),
                ("lineage.dot", graph.to_dot()),
                ("lineage.mmd", graph.to_mermaid()),
            ] {
                let path = project.target_dir.join(file);
                std::fs::write(&path, text).map_err(|e| invalid(format!("cannot write {}: {e}", path.display())))?;
            }
            let (catalog, charts) = read_database(&project)?;
            let site_dir = project.target_dir.join("docs");
            let stats = modelc_docs::write_site(
                &site_dir,
                &SiteInput {
                    project: &project,
                    catalog: catalog.as_ref(),
                    charts,
                    generated_at: artifacts::generated_at(),
                },
            )
            .map_err(|e| invalid(format!("cannot write the docs site under {}: {e}", site_dir.display())))?;
            eprintln!(
                "Wrote the lineage of {} nodes ({} edges) to {}/lineage.{{json,dot,mmd}}.",
                graph.nodes.len(),
                graph.edges.len(),
                project.target_dir.display()
            );
            eprintln!(
                "Wrote the docs site ({} pages{}) to {} in {:.2}s: open {}",
                stats.pages,
                if catalog.is_some() {
                    ", column types from the database"
                } else {
                    ""
                },
                site_dir.display(),
                started.elapsed().as_secs_f64(),
                site_dir.join("index.html").display()
            );
        }
    }
    Ok(())
}

/// What the docs take from a built database: the catalog (also written to
/// `target/catalog.json`) and the rows of the charts declared in meta. Nothing when
/// an embedded database's file does not exist yet: docs never create it.
fn read_database(project: &Project) -> Result<(Option<Catalog>, BTreeMap<String, ChartData>), u8> {
    let mut charts = BTreeMap::new();
    let embedded = project.db.server.is_none();
    if embedded && (project.db.path == ":memory:" || !std::path::Path::new(&project.db.path).exists()) {
        eprintln!(
            "No database at {}: the docs have no column types or charts. Run `modelc build` first.",
            project.db.path
        );
        return Ok((None, charts));
    }
    // A database in use by a running build is not a reason to fail the docs.
    let read = modelc_exec::open(&project.db).and_then(|adapter| {
        let conn = adapter.connect()?;
        let rows = conn.catalog()?;
        Ok((adapter, conn, rows))
    });
    let (_adapter, conn, rows) = match read {
        Ok(r) => r,
        Err(e) => {
            eprintln!("warning: the docs have no column types or charts: {e}");
            return Ok((None, charts));
        }
    };
    let rows: Vec<ColumnRow> = rows.iter().filter_map(|cells| ColumnRow::from_cells(cells)).collect();
    let catalog = Catalog::from_rows(project, &rows);
    let path = project.target_dir.join("catalog.json");
    let text = catalog
        .to_json(&invocation_id(), &artifacts::generated_at())
        .to_string();
    std::fs::write(&path, text).map_err(|e| invalid(format!("cannot write {}: {e}", path.display())))?;
    for (id, spec, sql) in modelc_docs::chart_queries(project) {
        // A chart of a model not built yet is left out; its page says so.
        if !catalog.nodes.contains_key(&id) {
            continue;
        }
        match conn.query(&sql) {
            Ok(rows) => {
                charts.insert(id, ChartData { spec, rows });
            }
            Err(e) => eprintln!("warning: the chart of {id} could not be drawn: {e}"),
        }
    }
    Ok((Some(catalog), charts))
}

/// `deps`: progress on stdout as dbt prints it; a malformed packages.yml exits 2
/// (nothing fetched), a package that cannot be fetched exits 1 (nothing changed).
fn cmd_deps(args: &DepsArgs) -> Result<(), u8> {
    use modelc_project::deps::{self, DepsError, DepsOptions, Event};
    let root = args
        .project_dir
        .canonicalize()
        .unwrap_or_else(|_| args.project_dir.clone());
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let opts = DepsOptions::from_env(args.upgrade, args.lock);
    let mut on = |e: Event| match e {
        Event::Info(line) => println!("{line}"),
        Event::Warning(d) => eprint!("{}", report::render(&d, &root, color)),
    };
    match deps::run(&root, &opts, &mut on) {
        Ok(_) => Ok(()),
        Err(DepsError::Invalid(diags)) => {
            report::print_all(&Diagnostics(diags), &root);
            Err(INVALID)
        }
        Err(DepsError::Failed(d)) => {
            eprint!("{}", report::render(&d, &root, color));
            eprintln!("Nothing was installed; the packages installed before are unchanged.");
            Err(FAILED)
        }
    }
}

fn cmd_debug(common: &Common) -> Result<(), u8> {
    let project = load(common, false)?;
    println!(
        "project: {} ({} nodes, {} sources, {} macros)",
        project.name,
        project.nodes.len(),
        project.sources.len(),
        project.macros.len()
    );
    let adapter = modelc_exec::open(&project.db).map_err(invalid)?;
    println!(
        "database: {} on {} (catalog '{}', schema '{}', {} threads)",
        adapter.describe_target(),
        project.db.engine,
        project.db.database,
        project.db.schema,
        project.db.threads
    );
    let conn = adapter.connect().map_err(invalid)?;
    let version = conn.query(adapter.dialect().version_query()).map_err(invalid)?;
    let version = version
        .first()
        .and_then(|r| r.first().cloned().flatten())
        .unwrap_or_default();
    // DuckDB's version() is the bare number.
    let version = if version.starts_with('v') {
        format!("DuckDB {version}")
    } else {
        version
    };
    println!("connection: OK, {version}");
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Run,
    Seed,
    Snapshot,
    Test,
    Build,
}

fn execute(args: &RunArgs, verb: Verb) -> Result<(), u8> {
    let started = Instant::now();
    let project = load_for_run(args)?;
    let selected = select(&project, &args.common, verb.resource_types())?;
    execute_selected(&project, args, verb, selected, started)
}

impl Verb {
    /// The resource types the verb executes.
    fn resource_types(self) -> &'static [ResourceType] {
        match self {
            Verb::Run => &[ResourceType::Model],
            Verb::Seed => &[ResourceType::Seed],
            Verb::Snapshot => &[ResourceType::Snapshot],
            Verb::Test => &[ResourceType::Test, ResourceType::UnitTest],
            Verb::Build => &[
                ResourceType::Model,
                ResourceType::Seed,
                ResourceType::Snapshot,
                ResourceType::Test,
                ResourceType::UnitTest,
            ],
        }
    }

    /// The verb of a `run_results.json`'s `args.which`.
    fn from_which(which: &str) -> Option<Verb> {
        Some(match which {
            "run" => Verb::Run,
            "seed" => Verb::Seed,
            "snapshot" => Verb::Snapshot,
            "test" => Verb::Test,
            "build" => Verb::Build,
            _ => return None,
        })
    }
}

/// `retry`: runs again, with the previous invocation's command and flags, the
/// nodes that errored, failed or were skipped in it (`target/run_results.json`).
fn cmd_retry(args: &RunArgs) -> Result<(), u8> {
    let started = Instant::now();
    if !args.common.select.is_empty() || !args.common.exclude.is_empty() {
        return Err(invalid(
            "retry re-runs what the last invocation left undone; it takes no --select or --exclude",
        ));
    }
    let mut project = load_for_run(args)?;
    let path = project.target_dir.join("run_results.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| invalid(format!("nothing to retry: cannot read {}: {e}", path.display())))?;
    let previous: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| invalid(format!("{} is not valid JSON: {e}", path.display())))?;
    let which = previous["args"]["which"].as_str().unwrap_or_default();
    let Some(verb) = Verb::from_which(which) else {
        return Err(invalid(format!(
            "{} records no run, seed, snapshot, test or build to retry (args.which is '{which}')",
            path.display()
        )));
    };
    let redo: BTreeSet<String> = previous["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| matches!(r["status"].as_str(), Some("error" | "fail" | "skipped")))
        .filter_map(|r| r["unique_id"].as_str().map(str::to_string))
        .filter(|id| project.nodes.contains_key(id))
        .collect();
    if redo.is_empty() {
        println!("Nothing to retry: the last {which} had no errors, failures or skipped nodes.");
        return Ok(());
    }
    let mut args = args.clone();
    let compiled_with = (args.full_refresh, args.empty);
    args.full_refresh |= previous["args"]["full_refresh"].as_bool().unwrap_or(false);
    args.store_failures |= previous["args"]["store_failures"].as_bool().unwrap_or(false);
    args.empty |= previous["args"]["empty"].as_bool().unwrap_or(false);
    args.defer |= previous["args"]["defer"].as_bool().unwrap_or(false);
    args.favor_state |= previous["args"]["favor_state"].as_bool().unwrap_or(false);
    let dir = |key: &str| previous["args"][key].as_str().map(std::path::PathBuf::from);
    args.common.state = args.common.state.take().or_else(|| dir("state"));
    args.defer_state = args.defer_state.take().or_else(|| dir("defer_state"));
    for key in ["select", "exclude"] {
        let values = previous["args"][key].as_array().into_iter().flatten();
        let values = values.filter_map(|v| v.as_str().map(str::to_string));
        match key {
            "select" => args.common.select = values.collect(),
            _ => args.common.exclude = values.collect(),
        }
    }
    if (args.full_refresh, args.empty) != compiled_with {
        project = load_for_run(&args)?;
    }
    println!("Retrying {} node(s) of the last {which}.", redo.len());
    execute_selected(&project, &args, verb, redo, started)
}

fn execute_selected(
    project: &Project,
    args: &RunArgs,
    verb: Verb,
    selected: BTreeSet<String>,
    started: Instant,
) -> Result<(), u8> {
    // The database first: while another build holds it, this one must not
    // overwrite that build's artifacts.
    let wait = std::time::Duration::from_secs(args.lock_timeout);
    let adapter = modelc_exec::open_waiting(&project.db, wait, &mut |msg| {
        eprintln!(
            "The database {} is in use by another process; waiting up to {}s for it (--lock-timeout). {msg}",
            project.db.path,
            wait.as_secs()
        )
    })
    .map_err(invalid)?;
    let deferred = if args.defer {
        Some(deferred_nodes(project, args, &selected, adapter.as_ref())?)
    } else {
        None
    };
    write_artifacts(project)?;
    run_hooks(adapter.as_ref(), &project.root, &project.on_run_start, "on-run-start")?;
    let cancel = cancel_on_ctrl_c();
    let req = RunRequest {
        nodes: deferred.as_ref().map_or(&project.nodes, |(nodes, _)| nodes),
        dag: &project.dag,
        selected,
        tests_gate_children: verb == Verb::Build,
        threads: project.db.threads,
        settings: ExecSettings {
            full_refresh: args.full_refresh,
            store_failures: args.store_failures,
            root: project.root.clone(),
            known: None,
        },
        late: Some(&late::RunTimeRender {
            project,
            adapter: adapter.as_ref(),
            deferred: deferred.as_ref().map(|(nodes, done)| (nodes, done.as_slice())),
        }),
        cancel: Some(&cancel),
    };
    let total = req
        .selected
        .iter()
        .filter(|id| project.nodes.get(*id).is_some_and(|n| !n.is_ephemeral()))
        .count();
    let progress = progress::Progress::new(total);
    let results = modelc_exec::run(adapter.as_ref(), &req, &progress).map_err(invalid)?;
    // The failure messages point at these tests' compiled SQL, which compile does
    // not write for generic tests (see `artifacts::write_compiled_to`).
    let failed = results
        .iter()
        .filter(|r| matches!(r.status, Status::Error | Status::Fail | Status::Warn))
        .filter_map(|r| req.nodes.get(&r.unique_id))
        .filter(|n| n.resource_type == ResourceType::Test);
    if let Err(e) = artifacts::write_compiled(project, failed) {
        eprintln!("warning: cannot write the failed tests' compiled SQL: {e}");
    }
    progress.finish();
    // A failing on-run-end hook fails the run, which is still reported; a
    // cancelled run skips the hooks.
    let end_hooks = if cancel.is_cancelled() {
        Ok(())
    } else {
        on_run_end(
            project,
            &results,
            deferred.as_ref().map_or(&project.nodes, |(nodes, _)| nodes),
        )
        .and_then(|hooks| run_hooks(adapter.as_ref(), &project.root, &hooks, "on-run-end"))
    };
    let elapsed = started.elapsed().as_secs_f64();
    let args_json = serde_json::json!({"which": format!("{verb:?}").to_lowercase(), "select": args.common.select, "exclude": args.common.exclude, "full_refresh": args.full_refresh, "store_failures": args.store_failures, "empty": args.empty, "defer": args.defer, "favor_state": args.favor_state, "state": args.common.state, "defer_state": args.defer_state});
    if let Err(e) = modelc_exec::write_run_results(
        &project.target_dir.join("run_results.json"),
        &results,
        &project.nodes,
        elapsed,
        &invocation_id(),
        args_json,
    ) {
        eprintln!("warning: cannot write run_results.json: {e}");
    }
    let failures = progress.failures();
    if !failures.is_empty() {
        println!();
        for f in &failures {
            println!("{f}\n");
        }
    }
    println!("{}", progress::summary(&results, &project.nodes, elapsed));
    if cancel.is_cancelled() {
        println!("Cancelled (Ctrl-C): nodes that were running were rolled back; the rest did not run.");
        return Err(CANCELLED);
    }
    if results.iter().any(|r| matches!(r.status, Status::Error | Status::Fail)) || end_hooks.is_err() {
        Err(FAILED)
    } else {
        Ok(())
    }
}

/// The first Ctrl-C cancels the run (running statements are interrupted and roll
/// back, the summary is printed, exit 130); a second one exits at once.
fn cancel_on_ctrl_c() -> std::sync::Arc<modelc_exec::Cancel> {
    let cancel = std::sync::Arc::new(modelc_exec::Cancel::new());
    let token = std::sync::Arc::clone(&cancel);
    let installed = ctrlc::set_handler(move || {
        if token.is_cancelled() {
            eprintln!("Interrupted again: exiting now.");
            std::process::exit(i32::from(CANCELLED));
        }
        eprintln!("Cancelling: interrupting the running statements (Ctrl-C again exits at once).");
        token.cancel();
    });
    if let Err(e) = installed {
        eprintln!("warning: Ctrl-C will stop modelc without a summary: {e}");
    }
    cancel
}

/// The `on-run-end` hooks rendered with dbt's `results` (one per node run: its
/// `node`, `status`, `message`, `execution_time`, `failures`,
/// `adapter_response`) and `schemas` / `database_schemas` (where the run built).
fn on_run_end(
    project: &Project,
    results: &[modelc_exec::NodeResult],
    nodes: &BTreeMap<String, modelc_core::Node>,
) -> Result<Vec<String>, u8> {
    let mut schemas = BTreeSet::new();
    let listed: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let node = nodes.get(&r.unique_id);
            let rel = node.and_then(|n| n.relation.as_ref());
            if let Some(rel) = rel.filter(|_| r.status != Status::Skipped) {
                schemas.insert((rel.database.clone(), rel.schema.clone()));
            }
            serde_json::json!({
                "node": {
                    "unique_id": r.unique_id,
                    "name": node.map(|n| n.name.as_str()),
                    "resource_type": node.map(|n| n.resource_type.as_str()),
                    "database": rel.map(|r| r.database.as_str()),
                    "schema": rel.map(|r| r.schema.as_str()),
                    "alias": rel.map(|r| r.identifier.as_str()),
                    "relation_name": rel.map(ToString::to_string),
                    "config": node.map(|n| &n.config.0),
                    "tags": node.map(|n| n.config.tags()),
                },
                "status": r.status,
                "message": r.message,
                "execution_time": r.execution_time,
                "failures": r.failures,
                "adapter_response": {"rows_affected": r.rows_affected},
                "thread_id": format!("Thread-{}", r.thread),
            })
        })
        .collect();
    let mut globals = JsonMap::new();
    globals.insert("results".into(), serde_json::Value::from(listed));
    globals.insert(
        "schemas".into(),
        schemas
            .iter()
            .map(|(_, s)| s.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    );
    globals.insert(
        "database_schemas".into(),
        schemas.iter().map(|(d, s)| serde_json::json!([d, s])).collect(),
    );
    project.render_on_run_end(globals).map_err(|d| {
        report::print_all(&Diagnostics(vec![d]), &project.root);
        FAILED
    })
}

/// Runs the project's `on-run-start` or `on-run-end` hooks. A hook that fails is a
/// failure at run time (exit 1), named by the project file and line that hold it.
fn run_hooks(adapter: &dyn Adapter, root: &std::path::Path, hooks: &[String], what: &str) -> Result<(), u8> {
    if hooks.is_empty() {
        return Ok(());
    }
    let conn = adapter.connect().map_err(invalid)?;
    for h in hooks {
        if let Err(e) = conn.batch(h) {
            eprintln!("error: {what} hook failed at {}: {e}", hook_site(root, what, h));
            return Err(FAILED);
        }
    }
    Ok(())
}

/// `project.yml:4` for a hook: the project file, and the line of the hook's first
/// line (else of the `on-run-start:` key).
fn hook_site(root: &std::path::Path, what: &str, hook: &str) -> String {
    let file = ["project.yml", "dbt_project.yml"]
        .into_iter()
        .find(|f| root.join(f).is_file())
        .unwrap_or("dbt_project.yml");
    let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
    let first = hook.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    let key = text
        .lines()
        .position(|l| l.trim_start().starts_with(&format!("{what}:")));
    let line = text
        .lines()
        .enumerate()
        .skip(key.unwrap_or(0))
        .find(|(_, l)| !first.is_empty() && l.contains(first))
        .map(|(i, _)| i)
        .or(key);
    match line {
        Some(i) => format!("{file}:{}", i + 1),
        None => file.to_string(),
    }
}
