//! Node hooks: the `pre_hook`/`post_hook` configs of models, seeds and snapshots
//! (from `config(...)`, YAML or the project file; merged into lists by
//! `modelc_core::merge_config`, each with dbt's `transaction` flag).
//!
//! Two steps, as dbt renders hooks at parse time to find their refs:
//! [`render_hooks`] renders them with the node's context once the project is
//! rendered, and their `ref()`/`source()` calls join the node's own, so the nodes
//! they read become its dependencies; [`resolve_hooks`] then fills in the relations
//! (`this`, refs, sources) with the node's SQL. modelc-exec runs them on the node's
//! connection around its materialization, inside or outside its transaction.

use std::collections::{BTreeMap, HashMap};

use modelc_core::{Diagnostic, Hook, LateHook, Node, ResourceType, SourceTable};
use modelc_template::placeholder::{self, Target};
use modelc_template::{Jinja, NodeContext, RenderOutput};

use crate::{configs, node_context, resolve};

/// Renders the hooks of every node that has some ([`render_hooks`]).
pub(crate) fn render_all(
    jinja: &Jinja,
    nodes: &mut BTreeMap<String, Node>,
    sites: &configs::Sites<'_>,
    diags: &mut Vec<Diagnostic>,
) {
    for node in nodes
        .values_mut()
        .filter(|n| n.config.get("pre_hook").is_some() || n.config.get("post_hook").is_some())
    {
        if let Err(d) = render_hooks(jinja, node, sites) {
            diags.push(d);
        }
    }
}

/// Fills in the relations of every node's hooks ([`resolve_hooks`]).
pub(crate) fn resolve_all(
    nodes: &mut BTreeMap<String, Node>,
    deps: &HashMap<String, resolve::Deps>,
    sources: &BTreeMap<String, SourceTable>,
) {
    let with_hooks: Vec<String> = nodes
        .values()
        .filter(|n| !n.pre_hooks.is_empty() || !n.post_hooks.is_empty())
        .map(|n| n.unique_id.clone())
        .collect();
    for id in with_hooks {
        let (Some(node), Some(d)) = (nodes.get(&id), deps.get(&id)) else {
            continue;
        };
        let (pre, post) = resolve_hooks(node, d, nodes, sources);
        if let Some(n) = nodes.get_mut(&id) {
            n.pre_hooks = pre;
            n.post_hooks = post;
        }
    }
}

/// Renders the node's pre- and post-hooks into `node.pre_hooks`/`node.post_hooks`,
/// with relation placeholders; their `ref()`/`source()` calls are appended to the
/// node's. A hook that fails to render is an error where it is configured: the
/// node's SQL, or else its YAML or the project file (`sites`).
fn render_hooks(jinja: &Jinja, node: &mut Node, sites: &configs::Sites<'_>) -> Result<(), Diagnostic> {
    if !matches!(
        node.resource_type,
        ResourceType::Model | ResourceType::Seed | ResourceType::Snapshot
    ) {
        return Ok(());
    }
    let ctx = node_context(node, false);
    let mut parse_ctx = node_context(node, false);
    parse_ctx.parse_only = true;
    let mut rendered = [Vec::new(), Vec::new()];
    for (key, out) in ["pre_hook", "post_hook"].into_iter().zip(&mut rendered) {
        for hook in node.config.hooks(key) {
            let located = |e: modelc_template::RenderError| hook_error(node, key, &e.message, sites);
            // A hook that asks the database (`adapter.drop_relation(this)`) renders
            // as dbt's parse phase does, to learn its refs, and again as it runs.
            let (result, transaction, late) = match render_hook(jinja, key, &hook.sql, &ctx) {
                Ok((result, transaction)) => (result, transaction, false),
                Err(e) if e.message.contains(modelc_template::database::NEEDS_DATABASE) => {
                    let (result, transaction) = render_hook(jinja, key, &hook.sql, &parse_ctx).map_err(located)?;
                    (result, transaction, true)
                }
                Err(e) => return Err(located(e)),
            };
            if result.sql.trim().is_empty() && !late {
                continue;
            }
            let (first_ref, first_source) = (node.refs.len(), node.sources.len());
            let sql = shift(&result.sql, first_ref, first_source);
            let late = late.then(|| LateHook {
                template: hook.sql.clone(),
                first_ref,
                ref_count: result.refs.len(),
                first_source,
                source_count: result.sources.len(),
            });
            node.refs.extend(result.refs);
            node.sources.extend(result.sources);
            out.push(Hook {
                sql,
                transaction: hook.transaction && transaction,
                late,
            });
        }
    }
    let [pre, post] = rendered;
    node.pre_hooks = pre;
    node.post_hooks = post;
    Ok(())
}

/// Renders one hook; `{{ after_commit("...") }}` in a project file renders to
/// dbt's `{sql, transaction}` JSON, whose SQL is rendered in its turn. The
/// rendered hook and whether it runs in the node's transaction.
fn render_hook(
    jinja: &Jinja,
    key: &str,
    template: &str,
    ctx: &NodeContext,
) -> Result<(RenderOutput, bool), modelc_template::RenderError> {
    let result = jinja.render_str(key, template, ctx)?;
    let rendered = Hook::from_config(&serde_json::Value::String(result.sql.clone()));
    if rendered.sql == result.sql {
        return Ok((result, true));
    }
    Ok((jinja.render_str(key, &rendered.sql, ctx)?, rendered.transaction))
}

/// A hook's relation placeholders numbered among the node's refs and sources,
/// where its own start.
fn shift(sql: &str, first_ref: usize, first_source: usize) -> String {
    placeholder::resolve(sql, |target, part| match target {
        Target::Ref(i) => Some(placeholder::placeholder(Target::Ref(first_ref + i), part)),
        Target::Source(i) => Some(placeholder::placeholder(Target::Source(first_source + i), part)),
        Target::This => None,
    })
}

/// A late hook rendered as it runs ([`crate::Project::render_late_hook`]): the
/// relations its `adapter.drop_relation` calls drop, and its SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedHook {
    /// Dropped (if they exist) before the hook's SQL runs, on the node's connection.
    pub drops: Vec<modelc_core::Relation>,
    /// The hook's statements, relations filled in.
    pub sql: String,
}

/// Renders a late hook of `node` with `db` answering: its drops and its SQL, its
/// relations those of `deps`.
pub(crate) fn render_late(
    jinja: &Jinja,
    node: &Node,
    late: &LateHook,
    deps: &resolve::Deps,
    nodes: &BTreeMap<String, Node>,
    sources: &BTreeMap<String, SourceTable>,
    db: std::sync::Arc<crate::late::NodeDb>,
) -> Result<RenderedHook, Diagnostic> {
    let mut ctx = node_context(node, false);
    ctx.database = Some(db.clone());
    let key = "hook";
    let (result, _) = render_hook(jinja, key, &late.template, &ctx).map_err(|e| {
        Diagnostic::error(
            "hook",
            format!("in a hook of {} '{}': {}", node.resource_type, node.name, e.message),
        )
        .at(&node.original_file_path, node.defined_at_line, 1)
    })?;
    if result.refs.len() > late.ref_count || result.sources.len() > late.source_count {
        return Err(Diagnostic::error(
            "late-ref",
            format!(
                "a hook of {} '{}' calls ref() or source() only when the database answers; dbt must find every ref while parsing",
                node.resource_type, node.name
            ),
        )
        .at(&node.original_file_path, node.defined_at_line, 1));
    }
    let sql = shift(&result.sql, late.first_ref, late.first_source);
    Ok(RenderedHook {
        drops: db.drops(),
        sql: resolve::substitute(&sql, node, (&deps.0, &deps.1), nodes, sources, None),
    })
}

/// A hook's render error where the hook is configured: the node's SQL when it
/// sets the key there, else its YAML or the project file.
fn hook_error(node: &Node, key: &str, message: &str, sites: &configs::Sites<'_>) -> Diagnostic {
    let d = Diagnostic::error(
        "hook",
        format!("in the {key} of {} '{}': {message}", node.resource_type, node.name),
    );
    if node.raw_code.contains(key) {
        let (line, col) = resolve::locate_word(&node.raw_code, key);
        d.at(&node.original_file_path, line, col)
    } else {
        configs::locate(d, node, key, &serde_json::Map::new(), sites)
    }
}

/// The node's hooks, pre and post, with their relations filled in: `this`, and the
/// refs and sources resolved to `deps`.
fn resolve_hooks(
    node: &Node,
    deps: &resolve::Deps,
    nodes: &BTreeMap<String, Node>,
    sources: &BTreeMap<String, SourceTable>,
) -> (Vec<Hook>, Vec<Hook>) {
    let resolved = |hooks: &[Hook]| -> Vec<Hook> {
        hooks
            .iter()
            .map(|h| Hook {
                sql: resolve::substitute(&h.sql, node, (&deps.0, &deps.1), nodes, sources, None),
                ..h.clone()
            })
            .collect()
    };
    (resolved(&node.pre_hooks), resolved(&node.post_hooks))
}
