//! `--defer`: the refs of selected nodes to nodes left out of the selection read
//! the relations of another environment, the one whose `manifest.json` `--state`
//! names (production, usually), as dbt defers them: when the node was never built
//! here, or always with `--favor-state`. That environment is a schema of the same
//! database, or another DuckDB file attached to this one (a profile's `attach:`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use modelc_core::{Node, Relation, ResourceType};
use serde_json::Value;

/// The relation each model, seed and snapshot has in a previous run's manifest:
/// unique id → its `database`, `schema` and `alias` there (nodes without a
/// `relation_name`, ephemeral ones, are left out).
pub fn state_relations(previous: &Value) -> HashMap<String, Relation> {
    previous["nodes"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, n)| matches!(n["resource_type"].as_str(), Some("model" | "seed" | "snapshot")))
        .filter(|(_, n)| n["relation_name"].is_string())
        .filter_map(|(id, n)| {
            let part = |k: &str| n[k].as_str().unwrap_or_default();
            let identifier = n["alias"].as_str().or_else(|| n["name"].as_str())?;
            Some((id.clone(), Relation::new(part("database"), part("schema"), identifier)))
        })
        .collect()
}

/// One ref that now reads the state's relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deferred {
    /// The unselected node.
    pub unique_id: String,
    /// Its relation here.
    pub here: Relation,
    /// Its relation in the state's environment.
    pub state: Relation,
}

/// Points the compiled SQL and hooks of every selected node at the state's
/// relations of the unselected nodes it reads (through ephemeral models too), where
/// `favor_state` is set or the node's relation does not `exist` here, and gives
/// those unselected nodes the state's relation, so that a node rendered at run time
/// reads (and asks the database about) the same ones. Nodes the state does not have
/// (new ones) are built here as usual. Returns what was deferred.
pub fn defer(
    nodes: &mut BTreeMap<String, Node>,
    selected: &BTreeSet<String>,
    state: &HashMap<String, Relation>,
    favor_state: bool,
    exists: &mut dyn FnMut(&Relation) -> bool,
) -> Vec<Deferred> {
    let mut deferred: Vec<Deferred> = Vec::new();
    for n in nodes.values().filter(|n| {
        matches!(
            n.resource_type,
            ResourceType::Model | ResourceType::Seed | ResourceType::Snapshot
        ) && !n.is_ephemeral()
            && !selected.contains(&n.unique_id)
    }) {
        let (Some(here), Some(there)) = (&n.relation, state.get(&n.unique_id)) else {
            continue;
        };
        // Built here, and the state not favoured: this environment's own is read.
        if there == here || (!favor_state && exists(here)) {
            continue;
        }
        deferred.push(Deferred {
            unique_id: n.unique_id.clone(),
            here: here.clone(),
            state: there.clone(),
        });
    }
    let mut used = BTreeSet::new();
    for id in selected {
        let Some(node) = nodes.get_mut(id) else { continue };
        let hooks = node
            .pre_hooks
            .iter_mut()
            .chain(&mut node.post_hooks)
            .map(|h| &mut h.sql);
        for code in [&mut node.compiled_code, &mut node.compiled_incremental_code]
            .into_iter()
            .flatten()
            .chain(hooks)
        {
            used.extend(repoint(code, &deferred));
        }
    }
    deferred.retain(|d| used.contains(&d.unique_id));
    for d in &deferred {
        if let Some(n) = nodes.get_mut(&d.unique_id) {
            n.relation = Some(d.state.clone());
        }
    }
    deferred
}

/// Replaces this environment's relation of each deferred node in `code` with the
/// state's; returns the ids of those it found.
pub fn repoint(code: &mut String, deferred: &[Deferred]) -> Vec<String> {
    let mut found = Vec::new();
    for d in deferred {
        let here = d.here.to_string();
        if code.contains(&here) {
            *code = code.replace(&here, &d.state.to_string());
            found.push(d.unique_id.clone());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, sql: &str) -> Node {
        let mut n: Node = serde_json::from_value(serde_json::json!({
            "unique_id": format!("model.p.{name}"), "name": name, "resource_type": "model",
            "package_name": "p", "path": "", "original_file_path": "", "fqn": [],
            "raw_code": "", "checksum": "", "config": {}, "description": "", "columns": [],
            "patch_path": null, "refs": [], "sources": [], "depends_on": {"nodes": [], "macros": []},
            "relation": null, "compiled_code": sql, "compiled_incremental_code": null, "test": null,
            "defined_at_line": 1
        }))
        .unwrap();
        n.relation = Some(Relation::new("dev", "main", name));
        n
    }

    /// Only unselected nodes the state has are deferred: when missing here, or
    /// with `favor_state`; `"orders"` is not mistaken for `"orders_v"`.
    #[test]
    fn unselected_refs_read_the_states_relations() {
        let mut nodes: BTreeMap<String, Node> = [
            model("orders", "select 1"),
            model("orders_v", "select 2"),
            model("new_parent", "select 3"),
            model(
                "child",
                r#"select * from "dev"."main"."orders" join "dev"."main"."orders_v" using (id) join "dev"."main"."new_parent" using (id)"#,
            ),
        ]
        .into_iter()
        .map(|n| (n.unique_id.clone(), n))
        .collect();
        let state: HashMap<String, Relation> = ["orders", "orders_v"]
            .into_iter()
            .map(|name| (format!("model.p.{name}"), Relation::new("prod", "main", name)))
            .collect();
        if let Some(child) = nodes.get_mut("model.p.child") {
            child.post_hooks = vec![modelc_core::Hook::new(
                r#"insert into log select count(*) from "dev"."main"."orders""#.into(),
                true,
            )];
        }
        let selected: BTreeSet<String> = ["model.p.child".to_string()].into();
        // `orders_v` exists here: only `orders` is deferred.
        let mut exists = |r: &Relation| r.identifier == "orders_v";
        let mut copy = nodes.clone();
        let done = defer(&mut copy, &selected, &state, false, &mut exists);
        assert_eq!(
            done.iter().map(|d| d.unique_id.as_str()).collect::<Vec<_>>(),
            ["model.p.orders"]
        );
        assert_eq!(
            copy["model.p.child"].compiled_code.as_deref(),
            Some(
                r#"select * from "prod"."main"."orders" join "dev"."main"."orders_v" using (id) join "dev"."main"."new_parent" using (id)"#
            )
        );
        // Its hooks too; and a late render of it would read the state's relation.
        assert_eq!(
            copy["model.p.child"].post_hooks[0].sql,
            r#"insert into log select count(*) from "prod"."main"."orders""#
        );
        assert_eq!(
            copy["model.p.orders"].relation,
            Some(Relation::new("prod", "main", "orders"))
        );
        assert_eq!(
            copy["model.p.orders_v"].relation,
            Some(Relation::new("dev", "main", "orders_v"))
        );
        // --favor-state: both, whatever exists here.
        let done = defer(&mut nodes, &selected, &state, true, &mut exists);
        assert_eq!(done.len(), 2);
        assert_eq!(
            nodes["model.p.child"].compiled_code.as_deref(),
            Some(
                r#"select * from "prod"."main"."orders" join "prod"."main"."orders_v" using (id) join "dev"."main"."new_parent" using (id)"#
            )
        );
    }
}
