//! Scheduler tests: simulated runs over the lending fixture.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::fixture::{lending, short};
use crate::Scheduler;

/// Simulates a run of `subset` (empty = every non-source node) in rounds:
/// each round takes every ready node, then completes them in order, failing
/// those listed in `fail`. The log is pinned in the snapshot `name`.
fn check(name: &str, subset: &[&str], fail: &[&str]) {
    let dag = lending();
    let subset: BTreeSet<String> = if subset.is_empty() {
        dag.nodes()
            .filter(|n| n.resource_type != crate::ResourceKind::Source)
            .map(|n| n.unique_id.clone())
            .collect()
    } else {
        subset.iter().map(|s| s.to_string()).collect()
    };
    let mut scheduler = Scheduler::new(&dag, &subset);
    let mut out = String::new();
    let _ = writeln!(out, "remaining at start: {}", scheduler.remaining());
    let mut round = 0;
    while !scheduler.is_finished() {
        round += 1;
        let mut batch = Vec::new();
        while let Some(id) = scheduler.pop_ready() {
            batch.push(id);
        }
        let _ = writeln!(out, "round {round}: running {}", scheduler.running());
        if batch.is_empty() {
            let _ = writeln!(out, "  stuck!");
            break;
        }
        for id in batch {
            let ok = !fail.contains(&id.as_str());
            let skipped = scheduler.complete(&id, ok);
            let _ = writeln!(out, "  {} {}", if ok { "ok  " } else { "FAIL" }, short(&id));
            for (skip, cause) in skipped {
                let _ = writeln!(out, "         skip {} (caused by {})", short(&skip), short(&cause));
            }
        }
    }
    let _ = writeln!(
        out,
        "finished: {}, running: {}, remaining: {}",
        scheduler.is_finished(),
        scheduler.running(),
        scheduler.remaining()
    );
    insta::assert_snapshot!(name, out);
}

#[test]
fn full_run() {
    check("full_run", &[], &[]);
}

#[test]
fn failure_skips_exactly_descendants() {
    check("failure_skips_descendants", &[], &["model.lending.stg_loans"]);
}

#[test]
fn two_failures_skip_once() {
    check(
        "two_failures",
        &[],
        &["model.lending.stg_applicants", "model.lending.stg_rates"],
    );
}

#[test]
fn dependencies_through_unselected_nodes() {
    // stg_rates and int_loan_rates are not selected: fct_loans still waits
    // for raw_rates, and is skipped when it fails; dim_applicants is
    // independent of it.
    check(
        "through_unselected",
        &[
            "seed.lending.raw_rates",
            "model.lending.fct_loans",
            "model.lending.dim_applicants",
            "model.lending.loan_summary",
        ],
        &["seed.lending.raw_rates"],
    );
}

#[test]
fn empty_subset() {
    check("empty_subset", &["model.nope"], &[]);
}

#[test]
fn misuse_is_ignored() {
    let dag = lending();
    let subset: BTreeSet<String> = ["seed.lending.raw_rates", "model.lending.stg_rates"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut s = Scheduler::new(&dag, &subset);
    // Not running yet / unknown / outside the subset: ignored.
    assert!(s.complete("model.lending.stg_rates", false).is_empty());
    assert!(s.complete("model.nope", true).is_empty());
    assert!(s.complete("model.lending.fct_loans", false).is_empty());
    assert_eq!(s.pop_ready().as_deref(), Some("seed.lending.raw_rates"));
    assert_eq!(s.pop_ready(), None);
    assert_eq!(s.running(), 1);
    assert!(s.complete("seed.lending.raw_rates", true).is_empty());
    // Completing twice is ignored.
    assert!(s.complete("seed.lending.raw_rates", false).is_empty());
    assert_eq!(s.pop_ready().as_deref(), Some("model.lending.stg_rates"));
    assert!(!s.is_finished());
    assert!(s.complete("model.lending.stg_rates", true).is_empty());
    assert!(s.is_finished());
    assert_eq!(s.running(), 0);
}
