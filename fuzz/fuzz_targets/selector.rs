//! Fuzzes dbt's node selection syntax in `modelc-graph`: `Dag::select`, which
//! parses the `--select`/`--exclude` values (`+model`, `tag:x`, `path:...`,
//! `config.materialized:table`, `@`, `1+x+2`, intersections...) and evaluates
//! them on a small graph shaped like the example project.
//!
//! Input: lines; those before the first empty line are `--select` values, those
//! after it `--exclude` values. The input's length picks the indirect selection
//! mode.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use modelc_graph::{Dag, DagNode, IndirectSelection, ResourceKind, TestKind};

fn node(kind: ResourceKind, name: &str, path: &str, fqn: &[&str], tags: &[&str], materialized: &str) -> DagNode {
    let package = if name.starts_with("pkg_") { "other" } else { "lending" };
    let unique_id = match kind {
        ResourceKind::Source => format!("source.{package}.{}", fqn[1..].join(".")),
        _ => format!("{}.{package}.{name}", kind.as_str()),
    };
    let mut n = DagNode::new(unique_id, name, kind);
    n.package = package.into();
    n.path = path.into();
    n.fqn = fqn.iter().map(|s| s.to_string()).collect();
    n.tags = tags.iter().map(|s| s.to_string()).collect();
    if !materialized.is_empty() {
        n.materialized = Some(materialized.into());
        n.config.insert("materialized".into(), materialized.into());
    }
    if kind == ResourceKind::Source {
        n.source_name = Some(fqn[1].into());
    }
    if kind == ResourceKind::Test {
        n.test_kind = Some(if name.starts_with("assert") {
            TestKind::Singular
        } else {
            TestKind::Generic {
                name: "not_null".into(),
            }
        });
        n.config.insert("severity".into(), "error".into());
    }
    n
}

fn dag() -> &'static Dag {
    static DAG: OnceLock<Dag> = OnceLock::new();
    DAG.get_or_init(|| {
        use ResourceKind::*;
        let nodes = vec![
            node(
                Seed,
                "raw_applicants",
                "seeds/raw_applicants.csv",
                &["lending", "raw_applicants"],
                &[],
                "seed",
            ),
            node(
                Source,
                "applicants",
                "models/staging/_sources.yml",
                &["lending", "raw", "applicants"],
                &["raw"],
                "",
            ),
            node(
                Model,
                "stg_applicants",
                "models/staging/stg_applicants.sql",
                &["lending", "staging", "stg_applicants"],
                &["staging", "daily"],
                "view",
            ),
            node(
                Model,
                "stg_loans",
                "models/staging/stg_loans.sql",
                &["lending", "staging", "stg_loans"],
                &["staging"],
                "view",
            ),
            node(
                Model,
                "dim_applicants",
                "models/core/dim_applicants.sql",
                &["lending", "core", "dim_applicants"],
                &["core"],
                "table",
            ),
            node(
                Model,
                "fact_loans",
                "models/core/fact_loans.sql",
                &["lending", "core", "fact_loans"],
                &["core"],
                "incremental",
            ),
            node(
                Model,
                "mart_metrics",
                "models/marts/finance/mart_metrics.sql",
                &["lending", "marts", "finance", "mart_metrics"],
                &["finance"],
                "table",
            ),
            node(
                Snapshot,
                "scores_snapshot",
                "snapshots/scores.sql",
                &["lending", "scores", "scores_snapshot"],
                &[],
                "snapshot",
            ),
            node(
                Analysis,
                "explore",
                "analyses/explore.sql",
                &["lending", "explore"],
                &[],
                "",
            ),
            node(
                Test,
                "not_null_stg_applicants_id",
                "models/staging/_staging.yml",
                &["lending", "staging", "not_null_stg_applicants_id"],
                &[],
                "test",
            ),
            node(
                Test,
                "assert_totals",
                "tests/assert_totals.sql",
                &["lending", "assert_totals"],
                &[],
                "test",
            ),
            node(
                Model,
                "pkg_helper",
                "models/pkg_helper.sql",
                &["other", "pkg_helper"],
                &[],
                "ephemeral",
            ),
        ];
        let edges = [
            ("seed.lending.raw_applicants", "model.lending.stg_applicants"),
            ("source.lending.raw.applicants", "model.lending.stg_loans"),
            ("model.lending.stg_applicants", "model.lending.dim_applicants"),
            ("model.lending.stg_loans", "model.lending.fact_loans"),
            ("model.other.pkg_helper", "model.lending.fact_loans"),
            ("model.lending.dim_applicants", "model.lending.mart_metrics"),
            ("model.lending.fact_loans", "model.lending.mart_metrics"),
            ("model.lending.stg_applicants", "snapshot.lending.scores_snapshot"),
            ("model.lending.mart_metrics", "analysis.lending.explore"),
            (
                "model.lending.stg_applicants",
                "test.lending.not_null_stg_applicants_id",
            ),
            ("model.lending.mart_metrics", "test.lending.assert_totals"),
            ("model.lending.fact_loans", "test.lending.assert_totals"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        match Dag::new(nodes, edges) {
            Ok(d) => d,
            Err(e) => panic!("fixture graph: {e}"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (select, exclude) = text.split_once("\n\n").unwrap_or((text, ""));
    let select: Vec<String> = select.lines().map(str::to_owned).collect();
    let exclude: Vec<String> = exclude.lines().map(str::to_owned).collect();
    let indirect = [
        IndirectSelection::Eager,
        IndirectSelection::Cautious,
        IndirectSelection::Buildable,
        IndirectSelection::Empty,
    ][data.len() % 4];
    let _ = dag().select(&select, &exclude, indirect);
});
