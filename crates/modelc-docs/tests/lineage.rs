//! Lineage of the example project: exports and the column lineage of every finance mart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

use modelc_compile::{compile, CompileOptions, Project};

fn example() -> Project {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    compile(&root, &CompileOptions::default())
        .project
        .expect("example compiles")
}

#[test]
fn column_lineage_of_finance_marts() {
    let p = example();
    let g = modelc_docs::lineage_graph(&p, None);
    for n in g
        .nodes
        .iter()
        .filter(|n| n.resource_type == "model" && n.path.starts_with("models/marts/finance/"))
    {
        let text: Vec<String> = n
            .columns
            .iter()
            .map(|c| {
                let mut line = format!("{} <- [{}] {}", c.name, c.transform, c.sources.join(", "));
                if let Some(u) = &c.unresolved {
                    line.push_str(&format!(" (unresolved: {u})"));
                }
                line
            })
            .collect();
        insta::assert_snapshot!(format!("mart_{}", n.name), text.join("\n"));
    }
}

#[test]
fn exports_of_a_selection() {
    let p = example();
    let sel = p
        .dag
        .select(
            &["+fact_loan_performance".to_string()],
            &[],
            modelc_graph::IndirectSelection::Empty,
        )
        .expect("select");
    let ids: BTreeSet<String> = sel.ids;
    let g = modelc_docs::lineage_graph(&p, Some(&ids));
    insta::assert_snapshot!("dot", g.to_dot());
    insta::assert_snapshot!("mermaid", g.to_mermaid());
    let json: serde_json::Value = serde_json::from_str(&g.to_json()).expect("json");
    let edges = json["edges"].as_array().expect("edges").len();
    assert_eq!(edges, g.edges.len());
    insta::assert_json_snapshot!(
        "json_nodes",
        json["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["id"].clone())
            .collect::<Vec<_>>()
    );
}
