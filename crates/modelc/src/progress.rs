//! Progress output: one line per finished node, a progress bar on terminals, a summary.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use modelc_core::{Node, ResourceType};
use modelc_exec::{NodeResult, Reporter, Status};

/// Prints lines like `  3 of 24  OK     view   main.stg_applicants .... [CREATE VIEW in 0.02s]`.
pub struct Progress {
    bar: ProgressBar,
    failures: Mutex<Vec<String>>,
}

fn kind(node: &Node) -> String {
    match node.resource_type {
        ResourceType::Model => format!("{} model", node.materialized()),
        other => other.as_str().to_string(),
    }
}

fn label(node: &Node) -> String {
    match (&node.relation, node.resource_type) {
        (Some(r), ResourceType::Model | ResourceType::Seed | ResourceType::Snapshot) => {
            format!("{}.{}", r.schema, r.identifier)
        }
        // `model::test`, as dbt names a unit test.
        (_, ResourceType::UnitTest) => node.fqn.get(1..).map_or_else(|| node.name.clone(), |f| f.join("::")),
        _ => node.name.clone(),
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Success => "OK",
        Status::Error => "ERROR",
        Status::Skipped => "SKIP",
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::Warn => "WARN",
    }
}

impl Progress {
    /// A reporter for `total` nodes; the bar shows only on a terminal.
    pub fn new(total: usize) -> Self {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total as u64), target);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress {
            bar,
            failures: Mutex::new(Vec::new()),
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// Details of every error and failure, for the end of the run.
    pub fn failures(&self) -> Vec<String> {
        self.failures.lock().map(|f| f.clone()).unwrap_or_default()
    }
}

impl Reporter for Progress {
    fn started(&self, node: &Node, _index: usize, _total: usize) {
        self.bar.set_message(node.name.clone());
    }

    fn finished(&self, node: &Node, r: &NodeResult, index: usize, total: usize) {
        let width = total.to_string().len();
        let name = format!("{} {}", kind(node), label(node));
        let dots = ".".repeat(60usize.saturating_sub(name.len()).max(3));
        let detail = match r.status {
            Status::Skipped => "SKIP".to_string(),
            Status::Error => format!("ERROR in {:.2}s", r.execution_time),
            _ => format!(
                "{} in {:.2}s",
                r.message.lines().next().unwrap_or_default(),
                r.execution_time
            ),
        };
        let line = format!(
            "{index:>width$} of {total}  {:<5} {name} {dots} [{detail}]",
            status_word(r.status)
        );
        self.bar.suspend(|| println!("{line}"));
        self.bar.inc(1);
        if matches!(r.status, Status::Error | Status::Fail | Status::Warn) {
            let what = if r.status == Status::Warn { "Warning" } else { "Failure" };
            // A unit test is an entry of its YAML file.
            let at = match node.resource_type {
                ResourceType::UnitTest => format!("{}:{}", node.original_file_path, node.defined_at_line),
                _ => node.original_file_path.clone(),
            };
            let mut msg = format!(
                "{what} in {} {} ({at})\n  {}",
                node.resource_type,
                node.name,
                r.message.replace('\n', "\n  ")
            );
            if node.resource_type == ResourceType::Test {
                msg.push_str(&format!("\n  compiled SQL: target/{}", node.compiled_path()));
            }
            if let Ok(mut f) = self.failures.lock() {
                f.push(msg);
            }
        }
    }
}

/// The closing lines: what ran, then `Done. PASS=.. WARN=.. ERROR=.. SKIP=.. TOTAL=..`.
pub fn summary(results: &[NodeResult], nodes: &BTreeMap<String, Node>, seconds: f64) -> String {
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for r in results {
        if let Some(n) = nodes.get(&r.unique_id) {
            let k = match n.resource_type {
                ResourceType::Model => format!("{} model", n.materialized()),
                other => other.as_str().to_string(),
            };
            *kinds.entry(k).or_default() += 1;
        }
    }
    let what: Vec<String> = kinds
        .iter()
        .map(|(k, n)| format!("{n} {k}{}", if *n == 1 { "" } else { "s" }))
        .collect();
    let count = |s: &[Status]| results.iter().filter(|r| s.contains(&r.status)).count();
    format!(
        "Finished running {} in {seconds:.2}s.\nDone. PASS={} WARN={} ERROR={} SKIP={} TOTAL={}",
        if what.is_empty() {
            "nothing".to_string()
        } else {
            what.join(", ")
        },
        count(&[Status::Success, Status::Pass]),
        count(&[Status::Warn]),
        count(&[Status::Error, Status::Fail]),
        count(&[Status::Skipped]),
        results.len()
    )
}
