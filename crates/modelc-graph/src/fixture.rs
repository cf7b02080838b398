//! Test fixture: a small lending project (seeds -> staging -> marts, sources,
//! a snapshot, an analysis, generic and singular tests, a second package).

use crate::{Dag, DagNode, ResourceKind, TestKind};

/// Builds a node from a compact description.
#[allow(clippy::too_many_arguments)]
fn node(
    kind: ResourceKind,
    package: &str,
    name: &str,
    path: &str,
    fqn: &[&str],
    tags: &[&str],
    materialized: Option<&str>,
    config: &[(&str, &str)],
) -> DagNode {
    let unique_id = match kind {
        ResourceKind::Source => format!("source.{package}.{}", fqn[1..].join(".")),
        _ => format!("{}.{package}.{name}", kind.as_str()),
    };
    let mut node = DagNode::new(unique_id, name, kind);
    node.package = package.to_string();
    node.path = path.to_string();
    node.fqn = fqn.iter().map(|s| s.to_string()).collect();
    node.tags = tags.iter().map(|s| s.to_string()).collect();
    node.materialized = materialized.map(str::to_string);
    if let Some(m) = materialized {
        node.config.insert("materialized".into(), m.into());
    }
    for (k, v) in config {
        node.config.insert(k.to_string(), v.to_string());
    }
    if kind == ResourceKind::Source {
        node.source_name = Some(fqn[1].to_string());
    }
    node
}

fn test(name: &str, generic: Option<&str>, path: &str, fqn: &[&str], severity: &str) -> DagNode {
    let mut n = node(
        ResourceKind::Test,
        "lending",
        name,
        path,
        fqn,
        &[],
        Some("test"),
        &[("severity", severity)],
    );
    n.test_kind = Some(match generic {
        Some(g) => TestKind::Generic { name: g.into() },
        None => TestKind::Singular,
    });
    n
}

/// The fixture's nodes and edges.
#[rustfmt::skip]
pub(crate) fn lending_parts() -> (Vec<DagNode>, Vec<(String, String)>) {
    use ResourceKind::*;
    let mut nodes = vec![
        node(Seed, "lending", "raw_rates", "seeds/raw_rates.csv", &["lending", "raw_rates"], &[], Some("seed"), &[]),
        node(Seed, "lending", "country_codes", "seeds/reference/country_codes.csv", &["lending", "reference", "country_codes"], &["reference"], Some("seed"), &[]),
        node(Source, "lending", "applicants", "models/staging/sources.yml", &["lending", "raw", "applicants"], &["pii"], None, &[]),
        node(Source, "lending", "loans", "models/staging/sources.yml", &["lending", "raw", "loans"], &[], None, &[]),
        node(Model, "lending", "stg_applicants", "models/staging/stg_applicants.sql", &["lending", "staging", "stg_applicants"], &["staging", "pii"], Some("view"), &[]),
        node(Model, "lending", "stg_loans", "models/staging/stg_loans.sql", &["lending", "staging", "stg_loans"], &["staging", "finance"], Some("view"), &[]),
        node(Model, "lending", "stg_rates", "models/staging/stg_rates.sql", &["lending", "staging", "stg_rates"], &["staging"], Some("view"), &[]),
        node(Model, "lending", "int_loan_rates", "models/intermediate/int_loan_rates.sql", &["lending", "intermediate", "int_loan_rates"], &[], Some("ephemeral"), &[]),
        node(Model, "lending", "dim_applicants", "models/marts/dim_applicants.sql", &["lending", "marts", "dim_applicants"], &["nightly"], Some("table"), &[("access", "public"), ("group", "core")]),
        node(Model, "lending", "fct_loans", "models/marts/finance/fct_loans.sql", &["lending", "marts", "finance", "fct_loans"], &["finance", "nightly"], Some("table"), &[("group", "core")]),
        node(Model, "lending", "loan_summary", "models/marts/finance/loan_summary.sql", &["lending", "marts", "finance", "loan_summary"], &["finance_reporting"], Some("incremental"), &[("access", "protected")]),
        node(Model, "utils", "util_calendar", "models/util_calendar.sql", &["utils", "util_calendar"], &[], Some("table"), &[]),
        node(Snapshot, "lending", "applicants_snapshot", "snapshots/applicants_snapshot.sql", &["lending", "applicants_snapshot"], &[], Some("snapshot"), &[]),
        node(Analysis, "lending", "loan_analysis", "analyses/loan_analysis.sql", &["lending", "analysis", "loan_analysis"], &[], None, &[]),
        test("not_null_stg_applicants_applicant_id", Some("not_null"), "models/staging/schema.yml", &["lending", "staging", "not_null_stg_applicants_applicant_id"], "error"),
        test("unique_stg_loans_loan_id", Some("unique"), "models/staging/schema.yml", &["lending", "staging", "unique_stg_loans_loan_id"], "error"),
        test("relationships_stg_applicants_id__raw_applicants", Some("relationships"), "models/staging/schema.yml", &["lending", "staging", "relationships_stg_applicants_id__raw_applicants"], "error"),
        test("source_not_null_raw_applicants_id", Some("not_null"), "models/staging/sources.yml", &["lending", "staging", "source_not_null_raw_applicants_id"], "error"),
        test("relationships_fct_loans_applicant_id", Some("relationships"), "models/marts/schema.yml", &["lending", "marts", "relationships_fct_loans_applicant_id"], "warn"),
        test("accepted_values_loan_summary_status", Some("accepted_values"), "models/marts/finance/schema.yml", &["lending", "marts", "finance", "accepted_values_loan_summary_status"], "WARN"),
        test("assert_positive_amounts", None, "tests/assert_positive_amounts.sql", &["lending", "assert_positive_amounts"], "error"),
    ];
    nodes
        .iter_mut()
        .filter(|n| n.unique_id == "test.lending.assert_positive_amounts")
        .for_each(|n| n.tags.push("finance".into()));
    let edges = [
        ("source.lending.raw.applicants", "model.lending.stg_applicants"),
        ("source.lending.raw.loans", "model.lending.stg_loans"),
        ("seed.lending.raw_rates", "model.lending.stg_rates"),
        ("model.lending.stg_loans", "model.lending.int_loan_rates"),
        ("model.lending.stg_rates", "model.lending.int_loan_rates"),
        ("model.lending.int_loan_rates", "model.lending.fct_loans"),
        ("model.lending.stg_applicants", "model.lending.fct_loans"),
        ("model.lending.stg_applicants", "model.lending.dim_applicants"),
        ("seed.lending.country_codes", "model.lending.dim_applicants"),
        ("model.lending.fct_loans", "model.lending.loan_summary"),
        ("model.utils.util_calendar", "model.lending.loan_summary"),
        ("source.lending.raw.applicants", "snapshot.lending.applicants_snapshot"),
        ("model.lending.fct_loans", "analysis.lending.loan_analysis"),
        ("model.lending.stg_applicants", "test.lending.not_null_stg_applicants_applicant_id"),
        ("model.lending.stg_loans", "test.lending.unique_stg_loans_loan_id"),
        ("source.lending.raw.applicants", "test.lending.source_not_null_raw_applicants_id"),
        ("model.lending.stg_applicants", "test.lending.relationships_stg_applicants_id__raw_applicants"),
        ("source.lending.raw.applicants", "test.lending.relationships_stg_applicants_id__raw_applicants"),
        ("model.lending.fct_loans", "test.lending.relationships_fct_loans_applicant_id"),
        ("model.lending.dim_applicants", "test.lending.relationships_fct_loans_applicant_id"),
        ("model.lending.loan_summary", "test.lending.accepted_values_loan_summary_status"),
        ("model.lending.fct_loans", "test.lending.assert_positive_amounts"),
        ("model.lending.stg_loans", "test.lending.assert_positive_amounts"),
    ];
    let edges = edges
        .iter()
        .map(|(p, c)| (p.to_string(), c.to_string()))
        .collect();
    (nodes, edges)
}

/// The fixture graph.
pub(crate) fn lending() -> Dag {
    let (nodes, edges) = lending_parts();
    match Dag::new(nodes, edges) {
        Ok(dag) => dag,
        Err(e) => panic!("fixture graph is invalid: {e}"),
    }
}

/// Shortens fixture ids for snapshots: `model.lending.stg_loans` -> `model.stg_loans`.
pub(crate) fn short(id: &str) -> String {
    id.replacen(".lending.", ".", 1)
}
