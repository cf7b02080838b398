//! Command-line arguments: dbt's verbs and flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// modelc: a dbt-style SQL model compiler and runner on embedded DuckDB.
#[derive(Debug, Parser)]
#[command(name = "modelc", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render every node and write target/compiled and target/manifest.json; with
    /// -s, also print the selected nodes' SQL to stdout.
    Compile(Common),
    /// Build the selected models in DAG order.
    Run(RunArgs),
    /// Load CSV seeds into tables.
    Seed(RunArgs),
    /// Take SCD2 snapshots.
    Snapshot(RunArgs),
    /// Run data tests.
    Test(RunArgs),
    /// Seeds, models, snapshots and tests in DAG order; a failing test skips its node's descendants.
    Build(RunArgs),
    /// Run again, with the last run/build's command and flags, the nodes that errored,
    /// failed or were skipped in it (from target/run_results.json), as dbt retry.
    Retry(RunArgs),
    /// List the selected nodes.
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Check that the project compiles and the database opens.
    Debug(Common),
    /// Emit the lineage graph (nodes, edges, column lineage): target/lineage.{json,dot,mmd},
    /// or one format on stdout with --format.
    Docs(DocsArgs),
    /// Preview rows of the selected models (or of `--inline` SQL) without building
    /// them: their compiled SQL runs against the database, as `dbt show`.
    Show(ShowArgs),
    /// Run a macro against the database (its `run_query` and `statement` calls
    /// execute), as `dbt run-operation`.
    RunOperation(RunOperationArgs),
    /// Source commands: `modelc source freshness`.
    Source(SourceArgs),
    /// Install the packages of packages.yml (or dependencies.yml) into dbt_packages/,
    /// pinned in package-lock.yml, as dbt deps does.
    Deps(DepsArgs),
}

/// Flags of `deps`.
#[derive(Debug, Args, Clone)]
pub struct DepsArgs {
    /// The project folder (with project.yml or dbt_project.yml).
    #[arg(long, default_value = ".", env = "DBT_PROJECT_DIR")]
    pub project_dir: PathBuf,
    /// Resolve the packages again even when package-lock.yml matches packages.yml.
    #[arg(long)]
    pub upgrade: bool,
    /// Only resolve the packages and write package-lock.yml; install nothing.
    #[arg(long)]
    pub lock: bool,
}

/// Lineage formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DocsFormat {
    /// JSON with column-level lineage.
    Json,
    /// Graphviz DOT.
    Dot,
    /// Mermaid flowchart.
    Mermaid,
}

/// Flags of `docs`.
#[derive(Debug, Args, Clone)]
pub struct DocsArgs {
    /// Shared flags.
    #[command(flatten)]
    pub common: Common,
    /// Print this format to stdout instead of writing files.
    #[arg(long, value_enum)]
    pub format: Option<DocsFormat>,
}

/// Flags every command takes.
#[derive(Debug, Args, Clone)]
pub struct Common {
    /// The project folder (with project.yml or dbt_project.yml).
    #[arg(long, default_value = ".", env = "DBT_PROJECT_DIR")]
    pub project_dir: PathBuf,
    /// Folder with profiles.yml.
    #[arg(long, env = "DBT_PROFILES_DIR")]
    pub profiles_dir: Option<PathBuf>,
    /// Profile target (output) name.
    #[arg(short = 't', long)]
    pub target: Option<String>,
    /// A folder with a previous invocation's manifest.json (and run_results.json),
    /// for `state:modified`, `state:new` and `result:error` selection.
    #[arg(long, env = "DBT_STATE")]
    pub state: Option<PathBuf>,
    /// Nodes to select (dbt syntax: name, +name, name+, tag:x, path:..., resource_type:seed, a,b intersections).
    #[arg(short = 's', long = "select", alias = "models", num_args = 1.., action = clap::ArgAction::Append)]
    pub select: Vec<String>,
    /// Nodes to leave out.
    #[arg(long, num_args = 1.., action = clap::ArgAction::Append)]
    pub exclude: Vec<String>,
    /// Variables as YAML, e.g. '{start_date: 2024-01-01}'.
    #[arg(long)]
    pub vars: Option<String>,
    /// Where artifacts go (default: target-path of the project, `target`).
    #[arg(long)]
    pub target_path: Option<PathBuf>,
    /// The DuckDB database file (default: the project's setting, or target/modelc.duckdb).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Worker threads (each with its own connection).
    #[arg(long)]
    pub threads: Option<usize>,
    /// How tests attached to selected nodes are added.
    #[arg(long, value_enum, default_value_t = Indirect::Eager)]
    pub indirect_selection: Indirect,
    /// Ignore the compile cache (target/compile_cache.msgpack) and render and parse every node again.
    #[arg(long)]
    pub no_partial_parse: bool,
    /// Check that every column a model reads exists upstream before anything
    /// runs (`off`: do not; a model can opt out with `static_analysis: off`).
    #[arg(long, value_name = "on|unsafe|off", default_value = "on", env = "DBT_STATIC_ANALYSIS",
          value_parser = ["on", "unsafe", "off"])]
    pub static_analysis: String,
}

/// dbt's indirect selection modes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Indirect {
    /// Tests with any parent selected.
    Eager,
    /// Tests with all parents selected.
    Cautious,
    /// Tests whose parents are selected or ancestors of selected nodes.
    Buildable,
    /// No tests added.
    Empty,
}

/// Flags of commands that execute.
#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// Shared flags.
    #[command(flatten)]
    pub common: Common,
    /// Rebuild incremental models and seeds from scratch.
    #[arg(long, short = 'f')]
    pub full_refresh: bool,
    /// Store the failing rows of every test in the audit schema.
    #[arg(long)]
    pub store_failures: bool,
    /// Build every model with zero rows: each `ref` and `source` reads none, so the
    /// whole DAG's SQL and schemas are checked in seconds (seeds load in full).
    #[arg(long)]
    pub empty: bool,
    /// Seconds to wait for the database when another process has it open (a
    /// running build); 0 fails at once, naming that process.
    #[arg(long, default_value_t = 0, value_name = "SECONDS")]
    pub lock_timeout: u64,
    /// Refs to nodes left out of the selection read the relations of the
    /// environment whose manifest.json `--state` (or `--defer-state`) holds,
    /// where they are not built here.
    #[arg(long, env = "DBT_DEFER")]
    pub defer: bool,
    /// With --defer: the manifest to defer to, when it is not --state's.
    #[arg(long, env = "DBT_DEFER_STATE", value_name = "DIR")]
    pub defer_state: Option<PathBuf>,
    /// With --defer: read the state's relations even where this environment
    /// has built its own.
    #[arg(long, env = "DBT_FAVOR_STATE")]
    pub favor_state: bool,
}

/// Flags of `run-operation`.
#[derive(Debug, Args, Clone)]
pub struct RunOperationArgs {
    /// The macro: `name`, or `package.name`.
    pub macro_name: String,
    /// Its keyword arguments, a YAML mapping: `--args '{table: orders, days: 7}'`.
    #[arg(long)]
    pub args: Option<String>,
    /// Shared flags.
    #[command(flatten)]
    pub common: Common,
}

/// `source` subcommands.
#[derive(Debug, Args, Clone)]
pub struct SourceArgs {
    /// What to do with the sources.
    #[command(subcommand)]
    pub command: SourceCommand,
}

/// The `source` verbs.
#[derive(Debug, Subcommand, Clone)]
pub enum SourceCommand {
    /// Check each selected source's latest load time against its `freshness`
    /// (`warn_after`, `error_after`, `filter`); write target/sources.json.
    Freshness(FreshnessArgs),
}

/// Flags of `source freshness`.
#[derive(Debug, Args, Clone)]
pub struct FreshnessArgs {
    /// Shared flags (`-s source:raw` selects sources).
    #[command(flatten)]
    pub common: Common,
    /// Where to write the results (default target/sources.json).
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

/// Output formats of `show`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ShowOutput {
    /// A Markdown-style table.
    Text,
    /// `{"node": ..., "show": [rows as objects]}`.
    Json,
}

/// Flags of `show`.
#[derive(Debug, Args, Clone)]
pub struct ShowArgs {
    /// Shared flags.
    #[command(flatten)]
    pub common: Common,
    /// SQL (with Jinja: `ref`, `source`, macros) to preview instead of a model.
    #[arg(long, conflicts_with = "select")]
    pub inline: Option<String>,
    /// How many rows to print; a negative number prints every row.
    #[arg(long, default_value_t = 5, allow_negative_numbers = true)]
    pub limit: i64,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = ShowOutput::Text)]
    pub output: ShowOutput,
}

/// Output formats of `ls`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LsOutput {
    /// Aligned columns: resource type, materialization, name, path.
    Text,
    /// One JSON object per line.
    Json,
    /// Names only.
    Name,
    /// Paths only.
    Path,
}

/// Flags of `ls`.
#[derive(Debug, Args, Clone)]
pub struct LsArgs {
    /// Shared flags.
    #[command(flatten)]
    pub common: Common,
    /// Only these resource types.
    #[arg(long = "resource-type", num_args = 1.., action = clap::ArgAction::Append)]
    pub resource_types: Vec<String>,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = LsOutput::Text)]
    pub output: LsOutput,
}
