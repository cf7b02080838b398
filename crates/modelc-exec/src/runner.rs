//! The parallel runner: N workers, each on its own connection, fed by the graph's
//! scheduler. A failed node skips its descendants, never its siblings.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use modelc_core::{Node, ResourceType};
use modelc_graph::{Dag, DagNode, Scheduler};

use crate::adapter::{Adapter, Connection, DbResult};
use crate::cancel::Cancel;
use crate::materialize::{run_node, ExecSettings, Outcome, Status};
use crate::results::NodeResult;

/// Receives progress as nodes start and finish (called from the coordinating thread).
pub trait Reporter {
    /// A node was handed to a worker.
    fn started(&self, node: &Node, index: usize, total: usize);
    /// A node finished, failed or was skipped.
    fn finished(&self, node: &Node, result: &NodeResult, index: usize, total: usize);
}

/// Renders a node whose template asks the database (`Node::late_render`) just
/// before it runs, when its upstream relations are built: its compiled SQL and
/// incremental variant, or the error to report for it.
pub trait LateRender: Sync {
    /// Renders `node` against the database.
    fn render(&self, node: &Node) -> Result<(String, Option<String>), String>;
    /// Renders a hook of `node` that asks the database ([`modelc_core::Hook::late`])
    /// just before it runs: the relations its `adapter.drop_relation` calls drop
    /// (the caller drops them on the node's connection, where the node's own
    /// uncommitted build is), and its SQL.
    fn render_hook(
        &self,
        node: &Node,
        hook: &modelc_core::Hook,
    ) -> Result<(Vec<modelc_core::Relation>, String), String>;
}

/// What to execute.
pub struct RunRequest<'a> {
    /// All compiled nodes.
    pub nodes: &'a BTreeMap<String, Node>,
    /// The project graph.
    pub dag: &'a Dag,
    /// The nodes to execute (others are taken as already built).
    pub selected: BTreeSet<String>,
    /// `build` semantics: a failing test skips the children of the node it tests.
    pub tests_gate_children: bool,
    /// Worker threads.
    pub threads: usize,
    /// Settings passed to materializations.
    pub settings: ExecSettings,
    /// Renders late nodes; without it they run with the SQL they were compiled to.
    pub late: Option<&'a dyn LateRender>,
    /// Stops the run when cancelled (Ctrl-C): nodes not started are skipped, and
    /// running statements are interrupted and roll back.
    pub cancel: Option<&'a Cancel>,
}

/// The message of nodes a cancelled run did not start.
pub const NOT_RUN_CANCELLED: &str = "not run: the run was cancelled";

/// The message of nodes not started after the connection to the database was lost.
pub const NOT_RUN_CONNECTION_LOST: &str = "not run: the connection to the database was lost";

/// Nodes that execute: selected, and neither sources, analyses nor ephemeral models.
fn executable(nodes: &BTreeMap<String, Node>, selected: &BTreeSet<String>) -> BTreeSet<String> {
    selected
        .iter()
        .filter(|id| {
            nodes.get(*id).is_some_and(|n| {
                !matches!(n.resource_type, ResourceType::Analysis | ResourceType::Source) && !n.is_ephemeral()
            })
        })
        .cloned()
        .collect()
}

/// The order nodes run in. A unit test needs nothing built (it runs on its own
/// rows), so it does not wait for its model; with `build` semantics (`gate`) the
/// model waits for it, as in dbt, and a test gates the children of the nodes it
/// tests (unless that would create a cycle, as with a `relationships` test
/// pointing at a child). `None` when the order is the graph's (no unit test
/// among the nodes to run, `todo`, and no gating).
fn execution_dag(dag: &Dag, nodes: &BTreeMap<String, Node>, gate: bool, todo: &BTreeSet<String>) -> Option<Dag> {
    let is_unit = |id: &str| nodes.get(id).is_some_and(|n| n.resource_type == ResourceType::UnitTest);
    if !gate && !todo.iter().any(|id| is_unit(id)) {
        return None;
    }
    let mut edges: Vec<(String, String)> = dag
        .edges()
        .filter(|(_, b)| !is_unit(b))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    if gate {
        for n in nodes.values() {
            match n.resource_type {
                ResourceType::UnitTest => {
                    edges.extend(
                        n.depends_on
                            .nodes
                            .iter()
                            .map(|model| (n.unique_id.clone(), model.clone())),
                    );
                }
                ResourceType::Test => {
                    let ancestors = dag.ancestors(&n.unique_id, None);
                    for parent in dag.parents(&n.unique_id) {
                        for child in dag.children(parent) {
                            let is_test = nodes.get(child).is_some_and(|c| {
                                matches!(c.resource_type, ResourceType::Test | ResourceType::UnitTest)
                            });
                            if !is_test && child != n.unique_id && !ancestors.contains(child) {
                                edges.push((n.unique_id.clone(), child.to_string()));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let dag_nodes: Vec<DagNode> = dag.nodes().cloned().collect();
    Dag::new(dag_nodes, edges).ok()
}

/// Creates every schema the run writes to, in one transaction before workers start
/// (concurrent `CREATE SCHEMA` would conflict).
fn create_schemas(adapter: &dyn Adapter, nodes: &BTreeMap<String, Node>, ids: &BTreeSet<String>) -> DbResult<()> {
    let schemas: BTreeSet<(String, String)> = ids
        .iter()
        .filter_map(|id| nodes.get(id))
        .filter(|n| !matches!(n.resource_type, ResourceType::Test | ResourceType::UnitTest))
        .filter_map(|n| n.relation.as_ref().map(|r| (r.database.clone(), r.schema.clone())))
        .collect();
    if schemas.is_empty() {
        return Ok(());
    }
    let conn = adapter.connect()?;
    let sql: String = schemas
        .iter()
        .map(|(d, s)| format!("{};\n", adapter.dialect().create_schema(d, s)))
        .collect();
    conn.batch(&sql)
}

/// Executes the request and returns one result per executed or skipped node, in
/// completion order.
pub fn run(adapter: &dyn Adapter, req: &RunRequest<'_>, reporter: &dyn Reporter) -> DbResult<Vec<NodeResult>> {
    let todo = executable(req.nodes, &req.selected);
    create_schemas(adapter, req.nodes, &todo)?;
    let mut settings = req.settings.clone();
    if settings.known.is_none() {
        let conn = adapter.connect()?;
        settings.known = Some(Arc::new(crate::KnownRelations::load(conn.as_ref())?));
    }
    let ordered = execution_dag(req.dag, req.nodes, req.tests_gate_children, &todo);
    let dag = ordered.as_ref().unwrap_or(req.dag);
    let mut scheduler = Scheduler::new(dag, &todo);
    let total = todo.len();
    let threads = req.threads.clamp(1, total.max(1));

    let (task_tx, task_rx) = mpsc::channel::<(String, usize)>();
    let task_rx = Arc::new(Mutex::new(task_rx));
    let (done_tx, done_rx) = mpsc::channel::<(String, usize, NodeResult)>();
    let mut results = Vec::with_capacity(total);

    // All connections first: a failure here must not leave spawned workers waiting.
    let conns = (0..threads).map(|_| adapter.connect()).collect::<DbResult<Vec<_>>>()?;
    let cancel = req.cancel;
    if let Some(c) = cancel {
        for conn in &conns {
            c.register(conn.interrupt_handle());
        }
    }
    let crashed: Mutex<Option<Box<dyn std::any::Any + Send>>> = Mutex::new(None);
    let has_crashed = || crashed.lock().map_or(true, |c| c.is_some());
    // A server that went away fails the nodes running on it; the others do not start.
    let lost = std::sync::atomic::AtomicBool::new(false);
    let is_lost = || lost.load(std::sync::atomic::Ordering::SeqCst);
    let cancelled = || cancel.is_some_and(Cancel::is_cancelled) || has_crashed() || is_lost();
    let not_run = || {
        if is_lost() {
            NOT_RUN_CONNECTION_LOST
        } else {
            NOT_RUN_CANCELLED
        }
    };
    std::thread::scope(|scope| {
        for (worker, conn) in conns.into_iter().enumerate() {
            let task_rx = Arc::clone(&task_rx);
            let done_tx = done_tx.clone();
            let nodes = req.nodes;
            let settings = &settings;
            let late = req.late;
            let crashed = &crashed;
            let lost = &lost;
            scope.spawn(move || loop {
                let next = task_rx.lock().ok().and_then(|rx| rx.recv().ok());
                let Some((id, index)) = next else { break };
                let Some(node) = nodes.get(&id) else { continue };
                let started = chrono::Utc::now();
                let clock = Instant::now();
                if cancelled() {
                    let outcome = Outcome::skipped(not_run());
                    let result = NodeResult::new(node, outcome, started, 0.0, worker);
                    if done_tx.send((id, index, result)).is_err() {
                        break;
                    }
                    continue;
                }
                let run = std::panic::AssertUnwindSafe(|| execute_one(conn.as_ref(), node, settings, late));
                let mut outcome = match std::panic::catch_unwind(run) {
                    Ok(outcome) => outcome,
                    Err(payload) => {
                        // A bug: stop the run like a cancel, then re-raise on the
                        // caller's thread, so the process ends as a panic does.
                        if let Ok(mut slot) = crashed.lock() {
                            slot.get_or_insert(payload);
                        }
                        Outcome::error("modelc crashed while running this node (see the message above)")
                    }
                };
                if outcome.status == Status::Error && cancel.is_some_and(Cancel::is_cancelled) {
                    outcome.message = format!("cancelled: {}", outcome.message);
                }
                if outcome.status == Status::Error && conn.is_lost() {
                    lost.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                let result = NodeResult::new(node, outcome, started, clock.elapsed().as_secs_f64(), worker);
                if done_tx.send((id, index, result)).is_err() {
                    break;
                }
            });
        }
        drop(done_tx);
        let mut index = 0;
        let mut in_flight = 0;
        loop {
            while in_flight < threads && !cancelled() {
                let Some(id) = scheduler.pop_ready() else { break };
                index += 1;
                if let Some(node) = req.nodes.get(&id) {
                    reporter.started(node, index, total);
                }
                if task_tx.send((id, index)).is_err() {
                    break;
                }
                in_flight += 1;
            }
            if in_flight == 0 {
                break;
            }
            let (id, idx, result) = match done_rx.recv_timeout(CANCEL_POLL) {
                Ok(done) => done,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    // A cancel may have reached a connection between two statements
                    // of a node: interrupt again until the node stops.
                    if let Some(c) = cancel.filter(|c| c.is_cancelled()) {
                        c.interrupt_all();
                    }
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            in_flight -= 1;
            let ok = result.status.is_ok();
            if let Some(node) = req.nodes.get(&id) {
                reporter.finished(node, &result, idx, total);
            }
            results.push(result);
            for (skipped, cause) in scheduler.complete(&id, ok) {
                let Some(node) = req.nodes.get(&skipped) else { continue };
                index += 1;
                let cause_name = req.nodes.get(&cause).map(|n| n.name.clone()).unwrap_or(cause);
                let outcome = Outcome::skipped(format!("skipped because {cause_name} failed"));
                let r = NodeResult::new(node, outcome, chrono::Utc::now(), 0.0, 0);
                reporter.finished(node, &r, index, total);
                results.push(r);
            }
        }
        drop(task_tx);
    });
    if let Some(payload) = crashed.lock().ok().and_then(|mut c| c.take()) {
        std::panic::resume_unwind(payload);
    }
    if cancelled() {
        let done: BTreeSet<&str> = results.iter().map(|r| r.unique_id.as_str()).collect();
        let not_run: Vec<NodeResult> = todo
            .iter()
            .filter(|id| !done.contains(id.as_str()))
            .filter_map(|id| req.nodes.get(id))
            .map(|node| {
                let outcome = Outcome::skipped(not_run());
                NodeResult::new(node, outcome, chrono::Utc::now(), 0.0, 0)
            })
            .collect();
        results.extend(not_run);
    }
    Ok(results)
}

/// Runs one node, rendering it first when its template asks the database.
fn execute_one(conn: &dyn Connection, node: &Node, settings: &ExecSettings, late: Option<&dyn LateRender>) -> Outcome {
    match late.filter(|_| node.late_render).map(|l| l.render(node)) {
        None => run_node(conn, node, settings, late),
        Some(Ok((sql, incremental))) => {
            let rendered = Node {
                compiled_code: Some(sql),
                compiled_incremental_code: incremental,
                ..node.clone()
            };
            run_node(conn, &rendered, settings, late)
        }
        Some(Err(message)) => Outcome::error(message),
    }
}

/// How often the coordinator repeats an interrupt while a cancelled run stops.
const CANCEL_POLL: std::time::Duration = std::time::Duration::from_millis(100);
