//! `modelc-bench`: generates layered projects and prints wall time and peak memory
//! of each compile phase, of `run`/`build` on DuckDB, and of the same statements
//! executed by DuckDB alone.

mod gen;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use modelc_compile::{compile, CompileOptions, Project};
use modelc_core::{Node, ResourceType};
use modelc_exec::{Adapter, DuckDb, ExecSettings, NodeResult, Reporter, RunRequest};

/// Benchmarks of modelc.
#[derive(Debug, Parser)]
#[command(name = "modelc-bench")]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Write a generated project.
    Gen {
        /// Models.
        #[arg(long, default_value_t = 1000)]
        models: usize,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
    },
    /// Time compile phases (no database) at each N.
    Compile {
        /// Model counts.
        #[arg(long, value_delimiter = ',', default_value = "1000")]
        models: Vec<usize>,
        /// Repetitions (the best is reported).
        #[arg(long, default_value_t = 3)]
        iterations: usize,
        /// Where generated projects are kept.
        #[arg(long, default_value = "target/bench-projects")]
        dir: PathBuf,
    },
    /// Time `run` and `build` on DuckDB against DuckDB alone replaying the statements.
    Run {
        /// Models.
        #[arg(long, default_value_t = 1000)]
        models: usize,
        /// Worker threads.
        #[arg(long, default_value_t = 4)]
        threads: usize,
        /// Where generated projects are kept.
        #[arg(long, default_value = "target/bench-projects")]
        dir: PathBuf,
    },
    /// Time `modelc build` of an existing project folder (e.g. the example project).
    Project {
        /// The project folder.
        #[arg(long, default_value = ".")]
        path: PathBuf,
        /// Worker threads.
        #[arg(long, default_value_t = 4)]
        threads: usize,
    },
}

/// Peak resident memory of this process so far, in MB (Linux).
fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

fn project_dir(dir: &Path, models: usize) -> Result<PathBuf, String> {
    let p = dir.join(format!("layered-{models}"));
    if !p.join("project.yml").is_file() {
        let tests = gen::generate(&p, gen::Shape::for_models(models))
            .map_err(|e| format!("cannot generate {}: {e}", p.display()))?;
        eprintln!("generated {} ({models} models, {tests} tests)", p.display());
    }
    Ok(p)
}

fn compiled(path: &Path, db: Option<PathBuf>, threads: usize) -> Result<Project, String> {
    let opts = CompileOptions {
        db_path: db,
        threads: Some(threads),
        ..CompileOptions::default()
    };
    let out = compile(path, &opts);
    out.project.ok_or_else(|| {
        out.diagnostics
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

struct Quiet;

impl Reporter for Quiet {
    fn started(&self, _: &Node, _: usize, _: usize) {}
    fn finished(&self, _: &Node, _: &NodeResult, _: usize, _: usize) {}
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("modelc-bench: {e}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<(), String> {
    match Args::parse().command {
        Cmd::Gen { models, out } => {
            let tests = gen::generate(&out, gen::Shape::for_models(models)).map_err(|e| e.to_string())?;
            println!("wrote {} ({models} models, {tests} tests)", out.display());
        }
        Cmd::Compile {
            models,
            iterations,
            dir,
        } => {
            println!(
                "{:>7}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>9}",
                "models", "load", "render", "resolve", "graph", "subst", "analyze", "total", "peak MB"
            );
            for n in models {
                let path = project_dir(&dir, n)?;
                let mut best: Option<(Duration, Vec<(&'static str, Duration)>)> = None;
                for _ in 0..iterations.max(1) {
                    let start = Instant::now();
                    let out = compile(&path, &CompileOptions::default());
                    let total = start.elapsed();
                    if out.project.is_none() {
                        return Err(format!(
                            "the generated project does not compile: {:?}",
                            out.diagnostics.iter().next()
                        ));
                    }
                    if best.as_ref().is_none_or(|(t, _)| total < *t) {
                        best = Some((total, out.timings));
                    }
                }
                let (total, timings) = best.unwrap_or_default();
                let phase = |name: &str| {
                    timings
                        .iter()
                        .find(|(p, _)| *p == name)
                        .map(|(_, d)| secs(*d))
                        .unwrap_or_default()
                };
                println!(
                    "{n:>7}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>9.1}",
                    phase("load"),
                    phase("render"),
                    phase("resolve"),
                    phase("graph"),
                    phase("substitute"),
                    phase("analyze"),
                    secs(total),
                    peak_mb()
                );
            }
        }
        Cmd::Run { models, threads, dir } => {
            let path = project_dir(&dir, models)?;
            let tmp = path.join("target");
            let mut rows = Vec::new();
            // DuckDB alone: seeds, then every model statement in order, on one connection.
            let db = tmp.join("replay.duckdb");
            let _ = std::fs::remove_file(&db);
            let project = compiled(&path, Some(db.clone()), threads)?;
            let adapter = DuckDb::open(&project.db).map_err(|e| e.to_string())?;
            let conn = adapter.connect().map_err(|e| e.to_string())?;
            let all = project.nodes.keys().cloned().collect();
            let order = project.dag.topo_order(&all);
            let mut seed_t = Duration::ZERO;
            let mut model_t = Duration::ZERO;
            let mut test_t = Duration::ZERO;
            for id in &order {
                let Some(n) = project.nodes.get(id) else { continue };
                let sql = match (n.resource_type, &n.relation, &n.compiled_code) {
                    (ResourceType::Seed, Some(r), _) => format!(
                        "create table {r} as select * from read_csv('{}', header = true, auto_detect = true)",
                        path.join(&n.original_file_path).display()
                    ),
                    (ResourceType::Model, Some(r), Some(c)) if n.materialized() == "table" => {
                        format!("create table {r} as (\n{c}\n)")
                    }
                    (ResourceType::Model, Some(r), Some(c)) => format!("create view {r} as (\n{c}\n)"),
                    (ResourceType::Test, _, Some(c)) => format!("select count(*) from (\n{c}\n)"),
                    _ => continue,
                };
                let start = Instant::now();
                if n.resource_type == ResourceType::Test {
                    conn.query(&sql).map_err(|e| format!("{id}: {e}"))?;
                } else {
                    conn.batch(&sql).map_err(|e| format!("{id}: {e}"))?;
                }
                let t = start.elapsed();
                match n.resource_type {
                    ResourceType::Seed => seed_t += t,
                    ResourceType::Test => test_t += t,
                    _ => model_t += t,
                }
            }
            drop(conn);
            drop(adapter);
            rows.push(("duckdb alone: seeds".to_string(), seed_t));
            rows.push(("duckdb alone: models".to_string(), model_t));
            rows.push(("duckdb alone: tests".to_string(), test_t));
            rows.push(("duckdb alone: all".to_string(), seed_t + model_t + test_t));

            for (verb, types) in [
                ("seed", vec![ResourceType::Seed]),
                ("run", vec![ResourceType::Model]),
                (
                    "build (fresh db)",
                    vec![ResourceType::Seed, ResourceType::Model, ResourceType::Test],
                ),
            ] {
                let db = tmp.join("modelc.duckdb");
                if verb != "run" {
                    let _ = std::fs::remove_file(&db);
                }
                let start = Instant::now();
                let project = compiled(&path, Some(db), threads)?;
                let adapter = DuckDb::open(&project.db).map_err(|e| e.to_string())?;
                let selected = project
                    .nodes
                    .values()
                    .filter(|n| types.contains(&n.resource_type))
                    .map(|n| n.unique_id.clone())
                    .collect();
                let req = RunRequest {
                    nodes: &project.nodes,
                    dag: &project.dag,
                    selected,
                    tests_gate_children: verb.starts_with("build"),
                    threads,
                    settings: ExecSettings {
                        root: project.root.clone(),
                        ..ExecSettings::default()
                    },
                };
                let results = modelc_exec::run(&adapter, &req, &Quiet).map_err(|e| e.to_string())?;
                let failed = results.iter().filter(|r| !r.status.is_ok()).count();
                if failed > 0 {
                    return Err(format!("{failed} nodes failed in {verb}"));
                }
                rows.push((
                    format!("modelc {verb} --threads {threads} (incl. compile)"),
                    start.elapsed(),
                ));
            }
            println!("{models} models, {threads} threads");
            for (name, t) in rows {
                println!("  {name:<45} {}", secs(t));
            }
            println!("  peak memory: {:.1} MB", peak_mb());
        }
        Cmd::Project { path, threads } => {
            let start = Instant::now();
            let project = compiled(&path, None, threads)?;
            let compile_t = start.elapsed();
            let adapter = DuckDb::open(&project.db).map_err(|e| e.to_string())?;
            let req = RunRequest {
                nodes: &project.nodes,
                dag: &project.dag,
                selected: project.nodes.keys().cloned().collect(),
                tests_gate_children: true,
                threads,
                settings: ExecSettings {
                    root: project.root.clone(),
                    ..ExecSettings::default()
                },
            };
            let results = modelc_exec::run(&adapter, &req, &Quiet).map_err(|e| e.to_string())?;
            println!(
                "{}: compile {}, build {} ({} nodes), peak {:.1} MB",
                path.display(),
                secs(compile_t),
                secs(start.elapsed()),
                results.len(),
                peak_mb()
            );
        }
    }
    Ok(())
}
