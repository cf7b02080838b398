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

/// mimalloc: compiling allocates many small strings and maps, and glibc's allocator
/// spent a third of a 10,000-model compile in malloc and free (perf).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Time seeding a large CSV against DuckDB's own `read_csv` into a table.
    Seed {
        /// Rows of the CSV.
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Repetitions (the best is reported).
        #[arg(long, default_value_t = 3)]
        iterations: usize,
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

/// Resets the peak resident memory (Linux), so the next [`peak_mb`] measures what follows.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

fn project_dir(dir: &Path, models: usize) -> Result<PathBuf, String> {
    let p = dir.join(format!("layered-{models}"));
    if !p.join("dbt_project.yml").is_file() {
        let tests = gen::generate(&p, gen::Shape::for_models(models))
            .map_err(|e| format!("cannot generate {}: {e}", p.display()))?;
        eprintln!("generated {} ({models} models, {tests} tests)", p.display());
    }
    // Absolute: database paths given to the compiler are relative to the project.
    p.canonicalize().map_err(|e| format!("{}: {e}", p.display()))
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

/// Runs the same project through dbt (`parse`, `compile`, `seed`, `run`, `build`)
/// when a `dbt` with the duckdb adapter is on PATH, and prints each time with its
/// ratio to modelc's (`modelc`: the same five, in order).
fn dbt_comparison(path: &Path, threads: usize, modelc: &[Duration]) -> Result<(), String> {
    let Ok(version) = std::process::Command::new("dbt").arg("--version").output() else {
        println!("  dbt: not on PATH; BENCHMARKS.md says how to install dbt-core and dbt-duckdb for a comparison");
        return Ok(());
    };
    if !String::from_utf8_lossy(&version.stdout).contains("duckdb") {
        println!("  dbt: found, but without the duckdb adapter (pip install dbt-duckdb)");
        return Ok(());
    }
    let db = path.join("target/bench.duckdb");
    for (args, m) in [
        vec!["parse", "--no-partial-parse"],
        vec!["compile", "--no-partial-parse"],
        vec!["seed"],
        vec!["run"],
        vec!["build"],
    ]
    .into_iter()
    .zip(modelc)
    {
        if args[0] == "seed" || args[0] == "build" {
            let _ = std::fs::remove_file(&db);
        }
        let start = Instant::now();
        let out = std::process::Command::new("dbt")
            .args(&args)
            .args(["--threads", &threads.to_string(), "--profiles-dir"])
            .arg(path)
            .current_dir(path)
            .env("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
            .output()
            .map_err(|e| format!("cannot run dbt: {e}"))?;
        let t = start.elapsed();
        if !out.status.success() {
            return Err(format!(
                "dbt {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout)
            ));
        }
        println!(
            "  dbt {:<41} {} = {:.1}x modelc",
            args.join(" "),
            secs(t),
            t.as_secs_f64() / m.as_secs_f64()
        );
    }
    Ok(())
}

/// Compiles with the cache, changes one model file, and times compiling again: in
/// this process, and as `modelc compile` when that binary is next to this one.
/// Compiles as `modelc compile` does after a full compile: artifacts written and
/// the compile state saved.
fn compile_and_save(path: &Path, opts: &CompileOptions) -> Result<(), String> {
    let out = compile(path, opts);
    let project = out.project.ok_or("the generated project does not compile")?;
    let layout = modelc_compile::artifacts::write(&project, "bench").map_err(|e| e.to_string())?;
    if let Some(seed) = out.state {
        modelc_compile::state::save(&project, seed, layout, &out.diagnostics, opts);
    }
    Ok(())
}

/// A second compile after one model file changed: in process (from the compile
/// state, as `modelc compile` does) and as the `modelc` binary next to this one.
fn recompile_after_one_change(path: &Path, models: usize) -> Result<(Duration, Option<Duration>), String> {
    let opts = CompileOptions {
        cache: true,
        skip_lineage: true,
        ..CompileOptions::default()
    };
    let file = path.join(format!("models/layer_{}/m_{}.sql", (models / 2) / 100, models / 2 - 10));
    let original = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let modelc = modelc_binary();
    let mut best = Duration::MAX;
    let mut best_cli: Option<Duration> = None;
    std::fs::write(&file, &original).map_err(|e| e.to_string())?;
    compile_and_save(path, &opts)?;
    for i in 0..3 {
        std::fs::write(&file, format!("{original}-- changed {i}\n")).map_err(|e| e.to_string())?;
        let start = Instant::now();
        let out = modelc_compile::state::recompile(path, &opts, "bench")
            .map_err(|why| format!("the compile state was not used: {why}"))?;
        best = best.min(start.elapsed());
        if out.rendered.len() != 1 {
            return Err(format!("expected 1 model compiled again, got {:?}", out.rendered));
        }
        if let Some(bin) = &modelc {
            std::fs::write(&file, format!("{original}-- changed by the CLI {i}\n")).map_err(|e| e.to_string())?;
            let start = Instant::now();
            let stderr = run_cli(bin, path)?;
            let t = start.elapsed();
            if !stderr.contains("(1 rendered,") {
                return Err(format!("modelc compile did not use the compile state: {stderr}"));
            }
            best_cli = Some(best_cli.map_or(t, |b| b.min(t)));
        }
    }
    std::fs::write(&file, &original).map_err(|e| e.to_string())?;
    Ok((best, best_cli))
}

/// The `modelc` binary next to this one, if it was built.
fn modelc_binary() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()
        .map(|p| p.with_file_name("modelc"))
        .filter(|p| p.is_file())
}

/// A wall time and a peak resident memory (MB, when it could be read).
type Measured = (Duration, Option<f64>);

/// `modelc compile --no-partial-parse` as a user runs it, with the `modelc` binary
/// next to this one (`None` without it): into a `--target-path` never used (cold:
/// a fresh clone's first compile, every file created) and into the same one again
/// (warm: the files are there, compared, unchanged ones not rewritten). The median
/// of `iterations` runs of each.
fn cli_cold_and_warm(path: &Path, iterations: usize) -> Result<Option<(Measured, Measured)>, String> {
    let Some(bin) = modelc_binary() else {
        return Ok(None);
    };
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let (mut cold, mut warm, mut dirs) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..iterations.max(1) {
        let target = path.join(format!("target-cold-{stamp}-{i}"));
        cold.push(cli_compile(&bin, path, &target)?);
        warm.push(cli_compile(&bin, path, &target)?);
        dirs.push(target);
    }
    // Removed only now: on these disks a removal slows the next cold run 2-6x.
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
    Ok(Some((median(&cold), median(&warm))))
}

/// The median wall time and the median peak memory.
fn median(runs: &[Measured]) -> Measured {
    let mut times: Vec<Duration> = runs.iter().map(|r| r.0).collect();
    times.sort();
    let mut mbs: Vec<f64> = runs.iter().filter_map(|r| r.1).collect();
    mbs.sort_by(f64::total_cmp);
    (
        times.get(times.len() / 2).copied().unwrap_or_default(),
        mbs.get(mbs.len() / 2).copied(),
    )
}

/// One `modelc compile --no-partial-parse` into `target`: its wall time, and its
/// peak resident memory as GNU time reports it (when `/usr/bin/time` is there).
fn cli_compile(bin: &Path, project: &Path, target: &Path) -> Result<Measured, String> {
    let gnu_time = Path::new("/usr/bin/time");
    let maxrss = target.with_extension("maxrss");
    let mut cmd = if gnu_time.is_file() {
        let mut c = std::process::Command::new(gnu_time);
        c.args(["-f", "%M", "-o"]).arg(&maxrss).arg(bin);
        c
    } else {
        std::process::Command::new(bin)
    };
    cmd.args(["compile", "--no-partial-parse", "--project-dir"])
        .arg(project)
        .arg("--target-path")
        .arg(target);
    let start = Instant::now();
    let out = cmd.output().map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let elapsed = start.elapsed();
    if !out.status.success() {
        return Err(format!(
            "modelc compile failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mb = std::fs::read_to_string(&maxrss)
        .ok()
        .and_then(|s| s.lines().last()?.trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0);
    let _ = std::fs::remove_file(&maxrss);
    Ok((elapsed, mb))
}

/// Runs `modelc compile`; returns what it printed on stderr.
fn run_cli(bin: &Path, project: &Path) -> Result<String, String> {
    let out = std::process::Command::new(bin)
        .arg("compile")
        .arg("--project-dir")
        .arg(project)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!(
            "modelc compile failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Seeds a generated CSV of `rows` rows with modelc and with DuckDB's `read_csv` alone.
fn seed_bench(dir: &Path, rows: usize, iterations: usize) -> Result<(), String> {
    let root = dir.join(format!("seed-{rows}"));
    let csv = root.join("seeds/big.csv");
    if !csv.is_file() {
        gen::big_seed(&root, rows).map_err(|e| format!("cannot write {}: {e}", csv.display()))?;
    }
    let root = root.canonicalize().map_err(|e| format!("{}: {e}", root.display()))?;
    let csv = root.join("seeds/big.csv");
    let size = std::fs::metadata(&csv).map(|m| m.len()).unwrap_or(0);
    let db = root.join("target/seed.duckdb");
    let fresh = || {
        let _ = std::fs::remove_file(&db);
        let _ = std::fs::remove_file(db.with_extension("duckdb.wal"));
    };
    let mut alone = Duration::MAX;
    let mut modelc = Duration::MAX;
    for _ in 0..iterations.max(1) {
        fresh();
        let project = compiled(&root, Some(db.clone()), 1)?;
        let adapter = DuckDb::open(&project.db).map_err(|e| e.to_string())?;
        let conn = adapter.connect().map_err(|e| e.to_string())?;
        let start = Instant::now();
        conn.batch(&format!(
            "create table big as select * from read_csv('{}', header = true, auto_detect = true)",
            csv.display()
        ))
        .map_err(|e| e.to_string())?;
        alone = alone.min(start.elapsed());
        drop(conn);
        drop(adapter);

        fresh();
        let start = Instant::now();
        let project = compiled(&root, Some(db.clone()), 1)?;
        let adapter = DuckDb::open(&project.db).map_err(|e| e.to_string())?;
        let results = execute(&adapter, &project, &[ResourceType::Seed], false, 1)?;
        if results != 1 {
            return Err(format!("expected 1 seed, ran {results}"));
        }
        modelc = modelc.min(start.elapsed());
    }
    println!(
        "seed of {rows} rows ({:.1} MB CSV): duckdb read_csv alone {}, modelc seed (incl. compile) {} = {:.2}x",
        size as f64 / 1e6,
        secs(alone),
        secs(modelc),
        modelc.as_secs_f64() / alone.as_secs_f64()
    );
    Ok(())
}

/// Runs the nodes of `types` with modelc's runner; returns how many ran.
fn execute(
    adapter: &DuckDb,
    project: &Project,
    types: &[ResourceType],
    tests_gate_children: bool,
    threads: usize,
) -> Result<usize, String> {
    let req = RunRequest {
        nodes: &project.nodes,
        dag: &project.dag,
        selected: project
            .nodes
            .values()
            .filter(|n| types.contains(&n.resource_type))
            .map(|n| n.unique_id.clone())
            .collect(),
        tests_gate_children,
        threads,
        settings: ExecSettings {
            root: project.root.clone(),
            ..ExecSettings::default()
        },
        // The bench projects ask no database while rendering.
        late: None,
        cancel: None,
    };
    let results = modelc_exec::run(adapter, &req, &Quiet).map_err(|e| e.to_string())?;
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| !r.status.is_ok())
        .map(|r| r.unique_id.as_str())
        .collect();
    if !failed.is_empty() {
        return Err(format!("{} nodes failed: {}", failed.len(), failed.join(", ")));
    }
    Ok(results.len())
}

/// A compile's total time and its phases.
type Timings = (Duration, Vec<(&'static str, Duration)>);

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
                "{:>7}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7}  {:>8}  {:>7}  {:>7}  {:>10}  {:>7}  {:>9}  {:>10}",
                "models",
                "load",
                "render",
                "resolve",
                "graph",
                "subst",
                "analyze",
                "manifest",
                "total",
                "files",
                "with files",
                "peak MB",
                "recompile",
                "CLI recomp"
            );
            for &n in &models {
                let path = project_dir(&dir, n)?;
                for f in [
                    "compile_cache.msgpack",
                    "compile_state.msgpack",
                    "compile_nodes.msgpack",
                ] {
                    let _ = std::fs::remove_file(path.join("target").join(f));
                }
                reset_peak();
                let mut best: Option<Timings> = None;
                for _ in 0..iterations.max(1) {
                    let start = Instant::now();
                    // As `modelc compile`: every model parsed and checked; lineage is for `docs`.
                    let opts = CompileOptions {
                        skip_lineage: true,
                        ..CompileOptions::default()
                    };
                    let out = compile(&path, &opts);
                    let Some(p) = out.project else {
                        return Err(format!(
                            "the generated project does not compile: {:?}",
                            out.diagnostics.iter().next()
                        ));
                    };
                    let mut timings = out.timings;
                    let lap = Instant::now();
                    modelc_compile::artifacts::write_manifest_file(&p, "bench").map_err(|e| e.to_string())?;
                    timings.push(("manifest", lap.elapsed()));
                    let through_manifest = start.elapsed();
                    let lap = Instant::now();
                    modelc_compile::artifacts::write_compiled_files(&p).map_err(|e| e.to_string())?;
                    timings.push(("compiled files", lap.elapsed()));
                    timings.push(("with files", start.elapsed()));
                    let total = through_manifest;
                    // Dropped inside the timing, as a process exiting would not free it.
                    drop(p);
                    if best.as_ref().is_none_or(|(t, _)| total < *t) {
                        best = Some((total, timings));
                    }
                }
                let peak = peak_mb();
                let (recompile, cli) = recompile_after_one_change(&path, n)?;
                let (total, timings) = best.unwrap_or_default();
                let phase = |name: &str| {
                    timings
                        .iter()
                        .find(|(p, _)| *p == name)
                        .map(|(_, d)| secs(*d))
                        .unwrap_or_default()
                };
                println!(
                    "{n:>7}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7}  {:>8}  {:>7}  {:>7}  {:>10}  {:>7.0}  {:>9}  {:>10}",
                    phase("load"),
                    phase("render"),
                    phase("resolve"),
                    phase("graph"),
                    phase("substitute"),
                    phase("analyze"),
                    phase("manifest"),
                    secs(total),
                    phase("compiled files"),
                    phase("with files"),
                    peak,
                    secs(recompile),
                    cli.map(secs).unwrap_or_else(|| "-".into()),
                );
            }
            println!(
                "(total: load through manifest.json written, no database, no cache; files: then writing the \
                 compiled SQL files under target/compiled that `modelc compile` writes (generic tests' on demand); with files: both; peak: of all that; recompile: `modelc compile` after one model file changed, from the compile state, in \
                 process; CLI recomp: the same as the `modelc` binary next to this one, process start included)"
            );
            println!(
                "\n{:>7}  {:>9}  {:>8}  {:>9}  {:>8}",
                "models", "CLI cold", "cold MB", "CLI warm", "warm MB"
            );
            for &n in &models {
                let path = project_dir(&dir, n)?;
                let Some(((cold, cold_mb), (warm, warm_mb))) = cli_cold_and_warm(&path, iterations)? else {
                    println!("(no modelc binary next to this one: build it with `cargo build --release -p modelc`)");
                    break;
                };
                let mb = |m: Option<f64>| m.map_or_else(|| "-".into(), |m| format!("{m:.0}"));
                println!(
                    "{n:>7}  {:>9}  {:>8}  {:>9}  {:>8}",
                    secs(cold),
                    mb(cold_mb),
                    secs(warm),
                    mb(warm_mb)
                );
            }
            println!(
                "(`modelc compile --no-partial-parse`, process start to exit, median of the iterations: cold into a \
                 --target-path never used, as in a fresh clone; warm into the same one again; MB: peak RSS by GNU time)"
            );
        }
        Cmd::Seed { rows, iterations, dir } => seed_bench(&dir, rows, iterations)?,
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

            let mut modelc_t = Vec::new();
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
                reset_peak();
                let start = Instant::now();
                let project = compiled(&path, Some(db), threads)?;
                let adapter = DuckDb::open(&project.db).map_err(|e| e.to_string())?;
                execute(&adapter, &project, &types, verb.starts_with("build"), threads)?;
                let t = start.elapsed();
                rows.push((
                    format!(
                        "modelc {verb} --threads {threads} (incl. compile), peak {:.0} MB",
                        peak_mb()
                    ),
                    t,
                ));
                modelc_t.push(t);
            }
            let start = Instant::now();
            compiled(&path, None, threads)?;
            let compile_t = start.elapsed();
            rows.push(("modelc compile".to_string(), compile_t));
            println!("{models} models, {threads} threads");
            for (name, t) in rows {
                println!("  {name:<62} {}", secs(t));
            }
            println!(
                "  run / duckdb alone (models): {:.2}x; build / duckdb alone (all, sequential): {:.2}x",
                modelc_t[1].as_secs_f64() / model_t.as_secs_f64(),
                modelc_t[2].as_secs_f64() / (seed_t + model_t + test_t).as_secs_f64()
            );
            println!("  peak memory of the whole bench process: {:.1} MB", peak_mb());
            dbt_comparison(
                &path,
                threads,
                &[compile_t, compile_t, modelc_t[0], modelc_t[1], modelc_t[2]],
            )?;
        }
        Cmd::Project { path, threads } => {
            let start = Instant::now();
            let project = compiled(&path, None, threads)?;
            let compile_t = start.elapsed();
            let adapter = DuckDb::open(&project.db).map_err(|e| e.to_string())?;
            let types = [
                ResourceType::Seed,
                ResourceType::Model,
                ResourceType::Snapshot,
                ResourceType::Test,
            ];
            let ran = execute(&adapter, &project, &types, true, threads)?;
            println!(
                "{}: compile {}, build {} ({ran} nodes), peak {:.1} MB",
                path.display(),
                secs(compile_t),
                secs(start.elapsed()),
                peak_mb()
            );
        }
    }
    Ok(())
}
