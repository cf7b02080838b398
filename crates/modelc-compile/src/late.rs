//! Late renders: nodes whose templates ask the database (`run_query`,
//! `adapter.get_columns_in_relation`, ...), rendered again once the answers are known.
//!
//! The first render of such a node fails with the template crate's
//! `NEEDS_DATABASE` marker; the compiler renders it as dbt's parse phase does
//! (`execute` false) to learn its refs and config, and marks it
//! [`Node::late_render`]. After the project is resolved, [`NodeDb`] answers its
//! questions for `modelc compile`: columns of the project's relations from the
//! database when an [`External`] one is given and has the relation, otherwise from
//! modelc's own analysis of the upstream SQL (seeds: their header, sources: their
//! declared columns); queries only from the database. The runner renders the node
//! once more just before it runs ([`crate::Project::render_late`]), with the database
//! the run has built: the answers are then those dbt would get.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use modelc_core::{Diagnostic, Node, Relation, ResourceType, SourceTable};
use modelc_template::database::{Database, RelationArg};
pub use modelc_template::database::{DbColumn, QueryTable};
use modelc_template::placeholder::{self, Part, Target};

use crate::resolve::{self, Deps};

/// A database with the project's relations named in full.
pub trait External: Send + Sync + std::fmt::Debug {
    /// The columns of a relation, `Ok(None)` when it does not exist.
    fn columns(&self, relation: &Relation) -> Result<Option<Vec<DbColumn>>, String>;
    /// Whether a relation exists, with its names as the database spells them.
    fn relation(&self, relation: &Relation) -> Result<Option<Relation>, String>;
    /// Runs a query (relations already substituted).
    fn query(&self, sql: &str) -> Result<QueryTable, String>;
    /// Drops the relation if it exists, whatever its kind.
    fn drop_relation(&self, relation: &Relation) -> Result<(), String>;
}

/// Columns modelc knows without a database, by lowercase `database.schema.identifier`.
pub type KnownColumns = HashMap<String, Vec<DbColumn>>;

pub(crate) fn key(r: &Relation) -> String {
    format!("{}.{}.{}", r.database, r.schema, r.identifier).to_lowercase()
}

/// The columns of seeds (header, `column_types`, YAML types) and sources (YAML).
pub(crate) fn declared_columns(
    nodes: &BTreeMap<String, Node>,
    sources: &BTreeMap<String, SourceTable>,
) -> KnownColumns {
    let mut known = KnownColumns::new();
    let as_db = |cols: &[modelc_core::ColumnInfo], types: Option<&serde_json::Value>| -> Vec<DbColumn> {
        cols.iter()
            .map(|c| DbColumn {
                name: c.name.clone(),
                data_type: crate::analyze::declared_type_name(c, types).map(str::to_owned),
            })
            .collect()
    };
    for n in nodes.values().filter(|n| n.resource_type == ResourceType::Seed) {
        if let (Some(r), false) = (&n.relation, n.columns.is_empty()) {
            known.insert(key(r), as_db(&n.columns, n.config.0.get("column_types")));
        }
    }
    for s in sources.values().filter(|s| !s.columns.is_empty()) {
        known.insert(key(&s.relation), as_db(&s.columns, None));
    }
    known
}

/// dbt's `graph`: every node's and source's manifest entry.
pub(crate) fn graph_json(ctx: &crate::manifest_node::NodeCtx<'_>) -> serde_json::Value {
    let nodes: serde_json::Map<String, serde_json::Value> = ctx
        .nodes
        .values()
        .map(|n| {
            let entry = crate::manifest_node::node_json(ctx, n, &[]);
            (n.unique_id.clone(), serde_json::from_str(&entry).unwrap_or_default())
        })
        .collect();
    let sources: serde_json::Map<String, serde_json::Value> = ctx
        .sources
        .values()
        .map(|s| (s.unique_id.clone(), crate::artifacts::source_json(s)))
        .collect();
    serde_json::json!({
        "nodes": nodes, "sources": sources, "exposures": {}, "metrics": {}, "groups": {},
        "semantic_models": {}, "saved_queries": {},
    })
}

/// Answers one node's render: its `ref`/`source`/`this` resolved to relations.
#[derive(Debug)]
pub struct NodeDb {
    refs: Vec<Option<Relation>>,
    sources: Vec<Relation>,
    this: Option<Relation>,
    known: Arc<KnownColumns>,
    graph: Arc<serde_json::Value>,
    external: Option<Arc<dyn External>>,
    /// A hook's render: the relations its `adapter.drop_relation` calls drop.
    drops: Option<std::sync::Mutex<Vec<Relation>>>,
}

impl NodeDb {
    /// For `node`, whose refs and sources resolved to `deps`.
    pub(crate) fn new(
        node: &Node,
        deps: Option<&Deps>,
        nodes: &BTreeMap<String, Node>,
        sources: &BTreeMap<String, SourceTable>,
        known: Arc<KnownColumns>,
        graph: Arc<serde_json::Value>,
        external: Option<Arc<dyn External>>,
    ) -> NodeDb {
        let (ref_ids, source_ids) = deps.map(|(r, s)| (r.as_slice(), s.as_slice())).unwrap_or_default();
        NodeDb {
            refs: ref_ids
                .iter()
                .map(|id| nodes.get(id).and_then(|n| n.relation.clone()))
                .collect(),
            sources: source_ids
                .iter()
                .filter_map(|id| sources.get(id).map(|s| s.relation.clone()))
                .collect(),
            this: node.relation.clone(),
            known,
            graph,
            external,
            drops: None,
        }
    }

    /// For a hook of the node whose refs and sources start at `late`'s, among
    /// the node's; its `adapter.drop_relation` calls are kept for [`NodeDb::drops`].
    pub(crate) fn for_hook(mut self, late: &modelc_core::LateHook) -> NodeDb {
        fn window<T>(all: &mut Vec<T>, first: usize, count: usize) {
            all.truncate(first.saturating_add(count));
            all.drain(..first.min(all.len()));
        }
        window(&mut self.refs, late.first_ref, late.ref_count);
        window(&mut self.sources, late.first_source, late.source_count);
        self.drops = Some(std::sync::Mutex::new(Vec::new()));
        self
    }

    /// The relations dropped so far.
    pub(crate) fn drops(&self) -> Vec<Relation> {
        self.drops
            .as_ref()
            .map(|d| d.lock().unwrap_or_else(|p| p.into_inner()).clone())
            .unwrap_or_default()
    }

    fn resolve(&self, arg: &RelationArg) -> Result<Relation, String> {
        match arg {
            RelationArg::Target(t) => self.target(*t).ok_or_else(|| {
                format!(
                    "{} has no relation (an ephemeral model, or a ref first made when the database answered: dbt needs refs it can find while parsing)",
                    placeholder::placeholder(*t, Part::Whole)
                )
            }),
            RelationArg::Named {
                database,
                schema,
                identifier,
            } => {
                let this = self.this.clone().unwrap_or_else(|| Relation::new("", "main", ""));
                Ok(Relation::new(
                    database.as_deref().unwrap_or(&this.database),
                    schema.as_deref().unwrap_or(&this.schema),
                    identifier,
                ))
            }
        }
    }

    fn target(&self, t: Target) -> Option<Relation> {
        match t {
            Target::Ref(i) => self.refs.get(i).cloned().flatten(),
            Target::Source(i) => self.sources.get(i).cloned(),
            Target::This => self.this.clone(),
        }
    }
}

impl Database for NodeDb {
    fn columns(&self, arg: &RelationArg) -> Result<Option<Vec<DbColumn>>, String> {
        let rel = self.resolve(arg)?;
        if let Some(ext) = &self.external {
            if let Some(cols) = ext.columns(&rel)? {
                return Ok(Some(cols));
            }
        }
        match self.known.get(&key(&rel)) {
            Some(cols) => Ok(Some(cols.clone())),
            None => Err(format!(
                "the columns of {rel} are not known: it is not in the database and modelc cannot tell them from its SQL"
            )),
        }
    }

    fn relation(&self, arg: &RelationArg) -> Result<Option<(String, String, String)>, String> {
        let rel = self.resolve(arg)?;
        let found = match &self.external {
            Some(ext) => ext.relation(&rel)?,
            None => return Err(format!("whether {rel} exists is known only to the database")),
        };
        Ok(found.map(|r| (r.database, r.schema, r.identifier)))
    }

    fn graph(&self) -> Result<Arc<serde_json::Value>, String> {
        Ok(self.graph.clone())
    }

    fn drop_relation(&self, arg: &RelationArg) -> Result<(), String> {
        let rel = self.resolve(arg)?;
        // A hook's drops run where the hook runs; elsewhere (a macro of
        // `run-operation`, a node's SQL) at once, as in dbt.
        match (&self.drops, &self.external) {
            (Some(drops), _) => {
                drops.lock().unwrap_or_else(|p| p.into_inner()).push(rel);
                Ok(())
            }
            (None, Some(ext)) => ext.drop_relation(&rel),
            (None, None) => Err(format!(
                "adapter.drop_relation({rel}) {}",
                modelc_template::database::NEEDS_DATABASE
            )),
        }
    }

    fn query(&self, sql: &str) -> Result<QueryTable, String> {
        let Some(ext) = &self.external else {
            return Err("run_query needs the database".into());
        };
        let sql = placeholder::resolve(sql, |t, part| {
            let r = self.target(t)?;
            Some(match part {
                Part::Whole => r.to_string(),
                Part::Database => r.database,
                Part::Schema => r.schema,
                Part::Identifier => r.identifier,
            })
        });
        ext.query(&sql)
    }
}

/// Renders a late node with `db` answering, and substitutes its relations: the
/// compiled SQL and its incremental variant.
pub(crate) fn render(
    jinja: &modelc_template::Jinja,
    node: &Node,
    deps: Option<&Deps>,
    nodes: &BTreeMap<String, Node>,
    sources: &BTreeMap<String, SourceTable>,
    db: Arc<dyn Database>,
    empty: Option<resolve::Empty>,
) -> Result<(String, Option<String>), Diagnostic> {
    let render = |incremental: bool| {
        let mut ctx = crate::node_context(node, incremental);
        ctx.database = Some(db.clone());
        jinja
            .render(&node.original_file_path, &node.raw_code, &ctx)
            .map_err(|e| e.to_diagnostic(&node.original_file_path))
    };
    let out = render(false)?;
    let (ref_ids, source_ids) = deps.map(|(r, s)| (r.as_slice(), s.as_slice())).unwrap_or_default();
    if out.refs.len() > ref_ids.len() || out.sources.len() > source_ids.len() {
        return Err(Diagnostic::error(
            "late-ref",
            format!(
                "{} '{}' calls ref() or source() only when the database answers; dbt must find every ref while parsing",
                node.resource_type, node.name
            ),
        )
        .at(&node.original_file_path, node.defined_at_line, 1)
        .with_help(
            "move the ref() out of the `if execute` block, or add `-- depends_on: {{ ref('...') }}` to the model",
        ));
    }
    let sub = |sql: &str| resolve::substitute(sql, node, (ref_ids, source_ids), nodes, sources, empty);
    let incremental = if out.uses_is_incremental && node.config.materialized() == "incremental" {
        Some(sub(&render(true)?.sql))
    } else {
        None
    };
    Ok((sub(&out.sql), incremental))
}
