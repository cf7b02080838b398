//! Tests of graph construction, cycle detection, traversal and ordering.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::fixture::{lending, lending_parts, short};
use crate::{Dag, DagError, DagNode, IndirectSelection, ResourceKind};

/// A query against a graph, rendered into the snapshot.
enum Q<'a> {
    Parents(&'a str),
    Children(&'a str),
    Ancestors(&'a str, Option<usize>),
    Descendants(&'a str, Option<usize>),
    /// Topological order of a subset (empty = all nodes).
    Topo(&'a [&'a str]),
    /// Waves of a subset (empty = all nodes).
    Waves(&'a [&'a str]),
}

/// A graph of models named by their ids.
fn tiny(ids: &[&str], edges: &[(&str, &str)]) -> Result<Dag, DagError> {
    let nodes = ids
        .iter()
        .map(|id| DagNode::new(*id, *id, ResourceKind::Model))
        .collect();
    let edges = edges.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect();
    Dag::new(nodes, edges)
}

fn subset(dag: &Dag, ids: &[&str]) -> BTreeSet<String> {
    if ids.is_empty() {
        dag.nodes().map(|n| n.unique_id.clone()).collect()
    } else {
        ids.iter().map(|s| s.to_string()).collect()
    }
}

fn list<S: AsRef<str>>(ids: impl IntoIterator<Item = S>) -> String {
    let ids: Vec<String> = ids.into_iter().map(|s| short(s.as_ref())).collect();
    format!("[{}]", ids.join(", "))
}

fn check(name: &str, dag: Result<Dag, DagError>, queries: &[Q]) {
    let mut out = String::new();
    match dag {
        Err(e) => {
            let _ = writeln!(out, "error: {e}");
            let _ = writeln!(out, "{e:?}");
        }
        Ok(dag) => {
            for q in queries {
                let _ = match q {
                    Q::Parents(id) => {
                        writeln!(out, "parents({}) = {}", short(id), list(dag.parents(id)))
                    }
                    Q::Children(id) => {
                        writeln!(out, "children({}) = {}", short(id), list(dag.children(id)))
                    }
                    Q::Ancestors(id, d) => {
                        writeln!(out, "ancestors({}, {d:?}) = {}", short(id), list(dag.ancestors(id, *d)))
                    }
                    Q::Descendants(id, d) => {
                        writeln!(
                            out,
                            "descendants({}, {d:?}) = {}",
                            short(id),
                            list(dag.descendants(id, *d))
                        )
                    }
                    Q::Topo(ids) => {
                        let order = dag.topo_order(&subset(&dag, ids));
                        writeln!(out, "topo_order({}) =", list(ids.iter()))
                            .and_then(|_| order.iter().try_for_each(|id| writeln!(out, "  {}", short(id))))
                    }
                    Q::Waves(ids) => {
                        let waves = dag.waves(&subset(&dag, ids));
                        writeln!(out, "waves({}) =", list(ids.iter())).and_then(|_| {
                            waves
                                .iter()
                                .enumerate()
                                .try_for_each(|(i, w)| writeln!(out, "  {i}: {}", list(w)))
                        })
                    }
                };
            }
        }
    }
    insta::assert_snapshot!(name, out);
}

const STG_LOANS: &str = "model.lending.stg_loans";
const FCT_LOANS: &str = "model.lending.fct_loans";
const INT: &str = "model.lending.int_loan_rates";
const RAW_RATES: &str = "seed.lending.raw_rates";
const SUMMARY: &str = "model.lending.loan_summary";

#[test]
fn fixture_neighbours() {
    check(
        "fixture_neighbours",
        Ok(lending()),
        &[
            Q::Parents(FCT_LOANS),
            Q::Children(FCT_LOANS),
            Q::Parents(RAW_RATES),
            Q::Children("source.lending.raw.applicants"),
            Q::Parents("model.nope"),
            Q::Ancestors(FCT_LOANS, None),
            Q::Ancestors(FCT_LOANS, Some(1)),
            Q::Ancestors(FCT_LOANS, Some(2)),
            Q::Ancestors(FCT_LOANS, Some(0)),
            Q::Descendants(STG_LOANS, None),
            Q::Descendants(STG_LOANS, Some(1)),
            Q::Descendants("model.nope", None),
        ],
    );
}

#[test]
fn fixture_order() {
    check("fixture_order", Ok(lending()), &[Q::Topo(&[]), Q::Waves(&[])]);
}

#[test]
fn subset_order_through_outside_nodes() {
    // raw_rates -> stg_rates -> int_loan_rates -> fct_loans -> loan_summary:
    // with only the ends selected the order must still follow the chain.
    check(
        "subset_order_through_outside_nodes",
        Ok(lending()),
        &[
            Q::Topo(&[
                SUMMARY,
                RAW_RATES,
                "model.lending.dim_applicants",
                "model.utils.util_calendar",
            ]),
            Q::Waves(&[
                SUMMARY,
                RAW_RATES,
                "model.lending.dim_applicants",
                "model.utils.util_calendar",
            ]),
            Q::Topo(&[FCT_LOANS, INT, "model.nope"]),
            Q::Waves(&[FCT_LOANS, INT, "model.nope"]),
        ],
    );
}

#[test]
fn tie_breaking_by_id() {
    // z has no parents but must come after a, b; c waits for z.
    check(
        "tie_breaking_by_id",
        tiny(&["z", "c", "b", "a"], &[("z", "c"), ("b", "c")]),
        &[Q::Topo(&[]), Q::Waves(&[]), Q::Topo(&["c", "a"]), Q::Waves(&["c", "a"])],
    );
}

#[test]
fn duplicate_edges_are_ignored() {
    check(
        "duplicate_edges_are_ignored",
        tiny(&["a", "b"], &[("a", "b"), ("a", "b")]),
        &[Q::Children("a"), Q::Parents("b"), Q::Topo(&[])],
    );
}

#[test]
fn cycle_self_loop() {
    check("cycle_self_loop", tiny(&["a", "b"], &[("a", "b"), ("b", "b")]), &[]);
}

#[test]
fn cycle_two_nodes() {
    check(
        "cycle_two_nodes",
        tiny(&["x", "b", "a", "y"], &[("x", "b"), ("b", "a"), ("a", "b"), ("a", "y")]),
        &[],
    );
}

#[test]
fn cycle_inside_bigger_scc() {
    // SCC {a, b, c, d, e}; the shortest cycle through its smallest id `a`
    // is a -> b -> c -> d; the detours via e and the 2-cycle b <-> c are not
    // reported. z and y are acyclic neighbours.
    check(
        "cycle_inside_bigger_scc",
        tiny(
            &["z", "e", "d", "c", "b", "a", "y"],
            &[
                ("z", "a"),
                ("a", "b"),
                ("b", "e"),
                ("e", "c"),
                ("b", "c"),
                ("c", "b"),
                ("c", "d"),
                ("d", "a"),
                ("d", "y"),
            ],
        ),
        &[],
    );
}

#[test]
fn cycle_reports_smallest_cyclic_node() {
    // Two disjoint cycles; the one holding the smallest id on a cycle wins.
    check(
        "cycle_reports_smallest_cyclic_node",
        tiny(
            &["a", "m", "n", "p", "q", "r"],
            &[("a", "q"), ("q", "r"), ("r", "q"), ("m", "n"), ("n", "p"), ("p", "m")],
        ),
        &[],
    );
}

#[test]
fn unknown_edge_endpoint() {
    check("unknown_edge_endpoint", tiny(&["a"], &[("a", "ghost")]), &[]);
}

#[test]
fn duplicate_node() {
    check("duplicate_node", tiny(&["a", "b", "a"], &[]), &[]);
}

#[test]
fn resource_kind_round_trip() {
    for kind in ResourceKind::ALL {
        assert_eq!(kind.as_str().parse::<ResourceKind>(), Ok(kind));
    }
    assert!("metric".parse::<ResourceKind>().is_err());
    for mode in ["eager", "cautious", "buildable", "empty"] {
        assert_eq!(mode.parse::<IndirectSelection>().map(|m| m.as_str()), Ok(mode));
    }
    assert_eq!(IndirectSelection::default(), IndirectSelection::Eager);
}

#[test]
fn edges_round_trip() {
    let (nodes, edges) = lending_parts();
    let dag = lending();
    let mut got: Vec<(String, String)> = dag.edges().map(|(p, c)| (p.to_string(), c.to_string())).collect();
    let mut want = edges;
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(dag.len(), nodes.len());
    assert_eq!(dag.nodes().count(), nodes.len());
    assert!(dag.contains(FCT_LOANS) && !dag.is_empty());
}

/// A layered project of `n` nodes: every model reads two models of the
/// previous layer, every model has a test.
fn big(n: usize) -> Dag {
    let width = 100;
    let mut nodes = Vec::with_capacity(n);
    let mut edges = Vec::new();
    for i in 0..n {
        let layer = i / width;
        let id = format!("model.big.m{i:05}");
        let mut node = DagNode::new(id.clone(), format!("m{i:05}"), ResourceKind::Model);
        node.package = "big".into();
        node.path = format!("models/layer{layer}/m{i:05}.sql");
        node.fqn = vec!["big".into(), format!("layer{layer}"), format!("m{i:05}")];
        node.tags = vec![format!("t{}", i % 7)];
        nodes.push(node);
        if layer > 0 {
            let prev = (layer - 1) * width;
            edges.push((format!("model.big.m{:05}", prev + i % width), id.clone()));
            edges.push((
                format!("model.big.m{:05}", prev + (i.wrapping_mul(2_654_435_761) >> 7) % width),
                id.clone(),
            ));
        }
        if i % 2 == 0 {
            let test = format!("test.big.not_null_m{i:05}");
            let mut t = DagNode::new(test.clone(), format!("not_null_m{i:05}"), ResourceKind::Test);
            t.package = "big".into();
            nodes.push(t);
            edges.push((id, test));
        }
    }
    match Dag::new(nodes, edges) {
        Ok(dag) => dag,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn large_graph_operations_complete() {
    let dag = big(20_000);
    assert_eq!(dag.len(), 30_000);
    let all = dag.select(&[], &[], IndirectSelection::Eager);
    let sel = dag.select(
        &["+m10050+ tag:t3,layer7 @m00005".to_string()],
        &["m10051".to_string()],
        IndirectSelection::Buildable,
    );
    let (Ok(all), Ok(sel)) = (all, sel) else {
        panic!("selection failed");
    };
    let order = dag.topo_order(&all.ids);
    let waves = dag.waves(&sel.ids);
    assert_eq!(order.len(), 30_000);
    assert!(waves.len() >= 200, "{}", waves.len());
    assert!(sel.ids.len() > 10_000, "{}", sel.ids.len());
    // Generous bound for unoptimised builds; a quadratic step would blow it.

    // A 20,000-deep chain: no recursion anywhere.
    let ids: Vec<String> = (0..20_000).map(|i| format!("m{i:05}")).collect();
    let mut chain_edges: Vec<(String, String)> = ids.windows(2).map(|w| (w[0].clone(), w[1].clone())).collect();
    let nodes: Vec<DagNode> = ids
        .iter()
        .map(|id| DagNode::new(id.clone(), id.clone(), ResourceKind::Model))
        .collect();
    let chain = Dag::new(nodes.clone(), chain_edges.clone());
    assert!(chain.is_ok_and(|d| d.ancestors("m19999", None).len() == 19_999));
    chain_edges.push(("m19999".into(), "m00000".into()));
    match Dag::new(nodes, chain_edges) {
        Err(DagError::Cycle { path }) => assert_eq!(path.len(), 20_000),
        other => panic!("expected a cycle, got {other:?}"),
    }
}
