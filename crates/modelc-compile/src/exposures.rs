//! Exposures (`exposures:` in YAML): the dashboards, notebooks and applications
//! that use the project's models. They are never run; they are nodes of the graph
//! (`+exposure:weekly_kpis` selects what feeds one), entries of the manifest and
//! of `modelc ls`.

use std::collections::{BTreeMap, BTreeSet};

use modelc_core::{did_you_mean, Diagnostic, JsonMap, Node, ResourceType, SourceTable};
use modelc_graph::{DagNode, ResourceKind};
use modelc_project::ExposurePatch;
use serde_json::{json, Value};

/// An exposure with its dependencies resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    /// `exposure.<project>.<name>`.
    pub unique_id: String,
    /// Name.
    pub name: String,
    /// Package (the root project).
    pub package: String,
    /// The YAML file that declares it.
    pub original_file_path: String,
    /// `type:`.
    pub kind: String,
    /// The YAML entry as written.
    pub properties: JsonMap,
    /// `config:` (with `meta` and `tags`).
    pub config: JsonMap,
    /// Unique ids of the nodes and sources it uses, in order.
    pub depends_on: Vec<String>,
    /// `ref(...)` calls: (package, name).
    pub refs: Vec<(Option<String>, String)>,
    /// `source(...)` calls: (source, table).
    pub sources: Vec<(String, String)>,
}

/// A `depends_on` entry: `ref('m')`, `ref('pkg', 'm')`, `source('s', 't')`.
pub(crate) enum Call {
    Ref(Option<String>, String),
    Source(String, String),
}

pub(crate) fn parse_call(text: &str) -> Option<Call> {
    let text = text.trim();
    let (func, rest) = text.split_once('(')?;
    let args: Vec<String> = rest
        .strip_suffix(')')?
        .split(',')
        .map(str::trim)
        .filter(|a| !a.contains('='))
        .map(|a| a.trim_matches(['\'', '"']).to_string())
        .collect();
    match (func.trim(), args.as_slice()) {
        ("ref", [name]) => Some(Call::Ref(None, name.clone())),
        ("ref", [package, name]) => Some(Call::Ref(Some(package.clone()), name.clone())),
        ("source", [source, table]) => Some(Call::Source(source.clone(), table.clone())),
        _ => None,
    }
}

/// Resolves the exposures of `files` ((property file, its exposures)) against the
/// project's nodes and sources; an unknown or malformed dependency is an error at
/// its line.
pub(crate) fn build(
    project: &str,
    files: &[(String, Vec<ExposurePatch>)],
    nodes: &BTreeMap<String, Node>,
    sources: &BTreeMap<String, SourceTable>,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Exposure> {
    let refable = |n: &&Node| {
        matches!(
            n.resource_type,
            ResourceType::Model | ResourceType::Seed | ResourceType::Snapshot
        )
    };
    let mut out = BTreeMap::new();
    for (file, patches) in files {
        for p in patches {
            let unique_id = format!("exposure.{project}.{}", p.name);
            if out.contains_key(&unique_id) {
                diags.push(
                    Diagnostic::error("duplicate-exposure", format!("exposure '{}' is defined twice", p.name))
                        .at(file, p.line, 1),
                );
                continue;
            }
            let mut e = Exposure {
                unique_id: unique_id.clone(),
                name: p.name.clone(),
                package: project.to_string(),
                original_file_path: file.clone(),
                kind: p.kind.clone(),
                properties: p.properties.clone(),
                config: p.config.clone(),
                depends_on: Vec::new(),
                refs: Vec::new(),
                sources: Vec::new(),
            };
            for (text, line) in &p.depends_on {
                let found = match parse_call(text) {
                    Some(Call::Ref(package, name)) => {
                        let id = nodes
                            .values()
                            .filter(refable)
                            .find(|n| n.name == name && package.as_ref().is_none_or(|pk| *pk == n.package_name))
                            .map(|n| n.unique_id.clone());
                        let hint = did_you_mean(&name, nodes.values().filter(refable).map(|n| n.name.as_str()))
                            .map(|s| format!("did you mean ref('{s}')?"));
                        e.refs.push((package, name));
                        id.ok_or(hint)
                    }
                    Some(Call::Source(source, table)) => {
                        let id = sources
                            .values()
                            .find(|s| s.source_name == source && s.name == table)
                            .map(|s| s.unique_id.clone());
                        e.sources.push((source, table));
                        id.ok_or(None)
                    }
                    None => {
                        diags.push(
                            Diagnostic::error(
                                "exposure",
                                format!("exposure '{}' depends on '{text}': write ref('model') or source('source', 'table')", p.name),
                            )
                            .at(file, *line, 1),
                        );
                        continue;
                    }
                };
                match found {
                    Ok(id) => e.depends_on.push(id),
                    Err(hint) => {
                        let mut d = Diagnostic::error(
                            "exposure",
                            format!("exposure '{}' depends on {text}, which does not exist", p.name),
                        )
                        .at(file, *line, 1);
                        if let Some(h) = hint {
                            d = d.with_help(h);
                        }
                        diags.push(d);
                    }
                }
            }
            out.insert(unique_id, e);
        }
    }
    out
}

impl Exposure {
    /// Its node in the project graph, and the edges from what it uses.
    pub(crate) fn dag_node(&self) -> (DagNode, Vec<(String, String)>) {
        let mut node = DagNode::new(&self.unique_id, &self.name, ResourceKind::Exposure);
        node.package = self.package.clone();
        node.path = self.original_file_path.clone();
        node.fqn = vec![self.package.clone(), self.name.clone()];
        node.tags = self.tags();
        let edges = self
            .depends_on
            .iter()
            .map(|p| (p.clone(), self.unique_id.clone()))
            .collect();
        (node, edges)
    }

    fn tags(&self) -> Vec<String> {
        let tags = self.config.get("tags").or_else(|| self.properties.get("tags"));
        match tags {
            Some(Value::String(t)) => vec![t.clone()],
            Some(Value::Array(a)) => a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        }
    }

    /// Its `exposures` entry in `manifest.json`, in dbt's shape.
    pub fn manifest_json(&self) -> Value {
        let get = |k: &str| self.properties.get(k).cloned().unwrap_or(Value::Null);
        let meta = self.config.get("meta").cloned().unwrap_or_else(|| json!({}));
        let nodes: BTreeSet<&String> = self.depends_on.iter().collect();
        json!({
            "name": self.name,
            "resource_type": "exposure",
            "package_name": self.package,
            "path": self.original_file_path,
            "original_file_path": self.original_file_path,
            "unique_id": self.unique_id,
            "fqn": [self.package, self.name],
            "type": self.kind,
            "owner": get("owner"),
            "description": self.properties.get("description").cloned().unwrap_or_else(|| json!("")),
            "label": get("label"),
            "maturity": get("maturity"),
            "meta": meta,
            "tags": self.tags(),
            "config": {"enabled": true, "tags": self.tags(), "meta": meta},
            "unrendered_config": {},
            "url": get("url"),
            "depends_on": {"macros": [], "nodes": nodes},
            "refs": self.refs.iter().map(|(p, n)| json!({"name": n, "package": p, "version": null})).collect::<Vec<_>>(),
            "sources": self.sources.iter().map(|(s, t)| json!([s, t])).collect::<Vec<_>>(),
            "metrics": [],
            "created_at": 0.0,
        })
    }
}
