//! The runner under cancellation and crashes, on compiled fixture projects and
//! embedded DuckDB: a cancel stops a run and rolls back what was running; a panic
//! on a worker reaches the caller instead of hanging the run.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use modelc_compile::{compile, CompileOptions, Project};
use modelc_core::Node;
use modelc_exec::{
    Adapter, Cancel, DuckDb, ExecSettings, LateRender, NodeResult, Reporter, RunRequest, Status, NOT_RUN_CANCELLED,
};

struct Quiet;

impl Reporter for Quiet {
    fn started(&self, _: &Node, _: usize, _: usize) {}
    fn finished(&self, _: &Node, _: &NodeResult, _: usize, _: usize) {}
}

/// A chain of table models `a -> b -> c -> d`, compiled, with a database.
fn chain(dir: &std::path::Path) -> Project {
    std::fs::write(dir.join("project.yml"), "name: chain\nduckdb:\n  path: chain.duckdb\n").unwrap();
    std::fs::create_dir_all(dir.join("models")).unwrap();
    let table = "{{ config(materialized='table') }}\n";
    std::fs::write(dir.join("models/a.sql"), format!("{table}select 1 as v")).unwrap();
    for (name, up) in [("b", "a"), ("c", "b"), ("d", "c")] {
        std::fs::write(
            dir.join(format!("models/{name}.sql")),
            format!("{table}select v + 1 as v from {{{{ ref('{up}') }}}}"),
        )
        .unwrap();
    }
    let compiled = compile(dir, &CompileOptions::default());
    compiled.project.unwrap_or_else(|| panic!("{:?}", compiled.diagnostics))
}

type Render<'a> = dyn Fn(&Node) -> Result<(String, Option<String>), String> + Sync + 'a;

/// Renders every node "late" through a closure, to act in the middle of a run.
struct OnRender<'a>(&'a Render<'a>);

impl LateRender for OnRender<'_> {
    fn render(&self, node: &Node) -> Result<(String, Option<String>), String> {
        (self.0)(node)
    }

    /// The projects here have no hooks that ask the database: their SQL as compiled.
    fn render_hook(
        &self,
        _node: &Node,
        hook: &modelc_core::Hook,
    ) -> Result<(Vec<modelc_core::Relation>, String), String> {
        Ok((Vec::new(), hook.sql.clone()))
    }
}

/// The node's own SQL.
fn as_compiled(n: &Node) -> Result<(String, Option<String>), String> {
    Ok((n.compiled_code.clone().unwrap_or_default(), None))
}

/// Runs every node of `project` on one worker, each rendered by `render`.
fn run_with(
    project: &Project,
    adapter: &DuckDb,
    cancel: &Cancel,
    render: &Render<'_>,
) -> Result<Vec<NodeResult>, modelc_exec::DbError> {
    let nodes: BTreeMap<String, Node> = project
        .nodes
        .iter()
        .map(|(id, n)| {
            let mut n = n.clone();
            n.late_render = true;
            (id.clone(), n)
        })
        .collect();
    let req = RunRequest {
        nodes: &nodes,
        dag: &project.dag,
        selected: nodes.keys().cloned().collect(),
        tests_gate_children: false,
        threads: 1,
        settings: ExecSettings {
            root: project.root.clone(),
            ..ExecSettings::default()
        },
        late: Some(&OnRender(render)),
        cancel: Some(cancel),
    };
    modelc_exec::run(adapter, &req, &Quiet)
}

fn result_of<'r>(results: &'r [NodeResult], name: &str) -> &'r NodeResult {
    results
        .iter()
        .find(|r| r.unique_id == format!("model.chain.{name}"))
        .unwrap_or_else(|| panic!("no result for {name}: {results:?}"))
}

fn tables(adapter: &DuckDb) -> Vec<Vec<Option<String>>> {
    let conn = adapter.connect().unwrap();
    conn.query("select table_name from information_schema.tables order by 1")
        .unwrap()
}

#[test]
fn a_cancel_interrupts_the_running_statement_and_skips_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let project = chain(dir.path());
    let adapter = DuckDb::open(&project.db).unwrap();
    let cancel = Arc::new(Cancel::new());
    // First build: every table exists with its first version.
    let results = run_with(&project, &adapter, &cancel, &as_compiled).unwrap();
    assert!(results.iter().all(|r| r.status == Status::Success), "{results:?}");

    // Second build: `b` runs for hours unless interrupted; Ctrl-C comes while it runs.
    let slow = |n: &Node| {
        if n.name != "b" {
            return as_compiled(n);
        }
        let cancel = Arc::clone(&cancel);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            cancel.cancel();
        });
        Ok(("select count(*) + 2 as v from range(100000000000)".to_string(), None))
    };
    let results = run_with(&project, &adapter, &cancel, &slow).unwrap();
    assert_eq!(result_of(&results, "a").status, Status::Success);
    let b = result_of(&results, "b");
    assert_eq!(b.status, Status::Error, "{b:?}");
    assert!(b.message.starts_with("cancelled: "), "{}", b.message);
    for later in ["c", "d"] {
        assert_eq!(result_of(&results, later).status, Status::Skipped);
    }
    assert_eq!(results.len(), 4, "every selected node has a result: {results:?}");
    // `b` kept its first version (1 + 1): its transaction rolled back.
    let conn = adapter.connect().unwrap();
    assert_eq!(
        conn.query("select v from b").unwrap(),
        vec![vec![Some("2".to_string())]]
    );
}

#[test]
fn nodes_not_started_when_the_run_is_cancelled_are_reported_as_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let project = chain(dir.path());
    let adapter = DuckDb::open(&project.db).unwrap();
    let cancel = Cancel::new();
    // Ctrl-C while `a` renders: `a` still completes, nothing after it starts.
    let render = |n: &Node| {
        if n.name == "a" {
            cancel.cancel();
        }
        as_compiled(n)
    };
    let results = run_with(&project, &adapter, &cancel, &render).unwrap();
    assert_eq!(result_of(&results, "a").status, Status::Success);
    for later in ["b", "c", "d"] {
        let r = result_of(&results, later);
        assert_eq!(
            (r.status, r.message.as_str()),
            (Status::Skipped, NOT_RUN_CANCELLED),
            "{later}"
        );
    }
    assert_eq!(tables(&adapter), vec![vec![Some("a".to_string())]]);
}

#[test]
fn a_panic_on_a_worker_reaches_the_caller_and_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let project = chain(dir.path());
    let adapter = DuckDb::open(&project.db).unwrap();
    let cancel = Cancel::new();
    let render = |n: &Node| {
        if n.name == "b" {
            panic!("a bug in rendering b");
        }
        as_compiled(n)
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_with(&project, &adapter, &cancel, &render)
    }));
    let payload = outcome.expect_err("the worker's panic must reach the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"a bug in rendering b"));
    // Nothing after `b` ran.
    assert_eq!(tables(&adapter), vec![vec![Some("a".to_string())]]);
}
