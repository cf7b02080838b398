//! Lineage of a compiled project, exported as JSON, Graphviz DOT or Mermaid, and
//! the static docs site ([`site`]).
//!
//! The graph holds every seed, source, model, snapshot and test with its edges; the
//! JSON export also carries column-level lineage from the SQL analysis.

pub mod catalog;
pub mod site;

pub use site::{chart_queries, chart_spec, write_site, ChartData, ChartKind, ChartSpec, SiteInput, SiteStats};

use std::collections::BTreeSet;
use std::fmt::Write as _;

use modelc_compile::Project;
use modelc_core::ResourceType;
use serde::Serialize;

/// One node of the lineage graph.
#[derive(Debug, Clone, Serialize)]
pub struct LineageNode {
    /// Unique id.
    pub id: String,
    /// Display name (`source.table` for sources).
    pub name: String,
    /// `model`, `seed`, `snapshot`, `test`, `source`, `exposure`.
    pub resource_type: String,
    /// Materialization, for models.
    pub materialized: Option<String>,
    /// Layer: the first folder under the resource path (`staging`, `core`, `marts`), or the resource type.
    pub layer: String,
    /// Relation, when materialized.
    pub relation: Option<String>,
    /// File.
    pub path: String,
    /// Output columns with their upstream columns.
    pub columns: Vec<LineageColumn>,
}

/// A column and what feeds it.
#[derive(Debug, Clone, Serialize)]
pub struct LineageColumn {
    /// Column name.
    pub name: String,
    /// Upstream columns as `unique_id.column`, or `relation.column` when the relation is not a node.
    pub sources: Vec<String>,
    /// `direct`, `expression`, `aggregate`, `window`, `literal`.
    pub transform: String,
    /// Why lineage is incomplete, if it is.
    pub unresolved: Option<String>,
    /// The type modelc inferred from the SQL, if it is certain of one.
    pub data_type: Option<String>,
}

/// The lineage graph of (a selection of) a project.
#[derive(Debug, Clone, Serialize)]
pub struct LineageGraph {
    /// Nodes, by unique id order.
    pub nodes: Vec<LineageNode>,
    /// Edges `(parent, child)`.
    pub edges: Vec<(String, String)>,
}

fn layer(rt: ResourceType, path: &str) -> String {
    match rt {
        ResourceType::Model => path
            .split('/')
            .nth(1)
            .filter(|p| !p.ends_with(".sql"))
            .unwrap_or("models")
            .to_string(),
        other => other.as_str().to_string(),
    }
}

/// Builds the graph of the nodes in `ids` (all nodes, sources and exposures when
/// `None`).
pub fn lineage_graph(project: &Project, ids: Option<&BTreeSet<String>>) -> LineageGraph {
    let keep = |id: &str| ids.is_none_or(|s| s.contains(id));
    // Relation text (lowercase) -> unique id, to name column sources by node.
    let mut by_relation = std::collections::HashMap::new();
    for n in project.nodes.values() {
        if let Some(r) = &n.relation {
            by_relation.insert(r.to_string().to_lowercase(), n.unique_id.clone());
            by_relation.insert(r.schema_qualified().to_lowercase(), n.unique_id.clone());
        }
    }
    for s in project.sources.values() {
        by_relation.insert(s.relation.to_string().to_lowercase(), s.unique_id.clone());
        by_relation.insert(s.relation.schema_qualified().to_lowercase(), s.unique_id.clone());
    }
    let mut nodes = Vec::new();
    for n in project.nodes.values().filter(|n| keep(&n.unique_id)) {
        let columns = project
            .lineage
            .get(&n.unique_id)
            .map(|cols| {
                cols.iter()
                    .map(|c| LineageColumn {
                        name: c.name.clone(),
                        sources: c
                            .sources
                            .iter()
                            .map(|s| {
                                let quoted: Vec<String> =
                                    s.relation.parts.iter().map(|p| modelc_core::quote_ident(p)).collect();
                                let rel = by_relation
                                    .get(&quoted.join(".").to_lowercase())
                                    .cloned()
                                    .unwrap_or_else(|| {
                                        // Ephemeral CTEs are named after their model.
                                        match s.relation.table().strip_prefix("__dbt__cte__") {
                                            Some(name) => format!("model.{}.{name}", project.name),
                                            None => s.relation.to_string(),
                                        }
                                    });
                                format!("{rel}.{}", s.column)
                            })
                            .collect(),
                        transform: c.transform.as_str().to_string(),
                        unresolved: c.unresolved.clone(),
                        data_type: c.data_type.as_ref().map(ToString::to_string),
                    })
                    .collect()
            })
            .unwrap_or_default();
        nodes.push(LineageNode {
            id: n.unique_id.clone(),
            name: n.name.clone(),
            resource_type: n.resource_type.as_str().into(),
            materialized: (n.resource_type == ResourceType::Model).then(|| n.materialized()),
            layer: layer(n.resource_type, &n.original_file_path),
            relation: n.relation.as_ref().map(|r| r.to_string()),
            path: n.original_file_path.clone(),
            columns,
        });
    }
    for s in project.sources.values().filter(|s| keep(&s.unique_id)) {
        nodes.push(LineageNode {
            id: s.unique_id.clone(),
            name: format!("{}.{}", s.source_name, s.name),
            resource_type: "source".into(),
            materialized: None,
            layer: "source".into(),
            relation: Some(s.render()),
            path: s.original_file_path.clone(),
            columns: Vec::new(),
        });
    }
    for e in project.exposures.values().filter(|e| keep(&e.unique_id)) {
        nodes.push(LineageNode {
            id: e.unique_id.clone(),
            name: e.name.clone(),
            resource_type: "exposure".into(),
            materialized: None,
            layer: "exposure".into(),
            relation: None,
            path: e.original_file_path.clone(),
            columns: Vec::new(),
        });
    }
    nodes.sort_by(|a, b| a.id.cmp(&b.id));
    let present: BTreeSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    let mut edges: Vec<(String, String)> = project
        .dag
        .edges()
        .filter(|(a, b)| present.contains(a) && present.contains(b))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    edges.sort();
    LineageGraph { nodes, edges }
}

fn short(id: &str) -> String {
    id.replace(['.', '-'], "_")
}

impl LineageGraph {
    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Graphviz DOT, coloured by resource type.
    pub fn to_dot(&self) -> String {
        let mut out = String::from(
            "digraph lineage {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n",
        );
        for n in &self.nodes {
            let color = match n.resource_type.as_str() {
                "source" => "#d9f2d9",
                "seed" => "#e0e0e0",
                "snapshot" => "#f9e0c7",
                "test" => "#f5d0d0",
                "exposure" => "#efe0f7",
                _ => "#d0e2f5",
            };
            let _ = writeln!(
                out,
                "  {} [label=\"{}\", fillcolor=\"{color}\"];",
                short(&n.id),
                n.name.replace('"', "\\\"")
            );
        }
        for (a, b) in &self.edges {
            let _ = writeln!(out, "  {} -> {};", short(a), short(b));
        }
        out.push_str("}\n");
        out
    }

    /// Mermaid flowchart, with a class per resource type.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for n in &self.nodes {
            let (open, close) = match n.resource_type.as_str() {
                "source" | "seed" => ("[(", ")]"),
                "test" => ("{{", "}}"),
                "exposure" => ("([", "])"),
                _ => ("[", "]"),
            };
            let _ = writeln!(
                out,
                "  {}{open}\"{}\"{close}:::{}",
                short(&n.id),
                n.name.replace('"', "#quot;"),
                n.resource_type
            );
        }
        for (a, b) in &self.edges {
            let _ = writeln!(out, "  {} --> {}", short(a), short(b));
        }
        out.push_str("  classDef source fill:#d9f2d9\n  classDef seed fill:#e0e0e0\n  classDef model fill:#d0e2f5\n  classDef snapshot fill:#f9e0c7\n  classDef test fill:#f5d0d0\n  classDef exposure fill:#efe0f7\n");
        out
    }
}
