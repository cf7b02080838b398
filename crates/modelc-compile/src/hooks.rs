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

use modelc_core::{Diagnostic, Hook, Node, ResourceType, SourceTable};
use modelc_template::placeholder::{self, Target};
use modelc_template::Jinja;

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
    let mut rendered = [Vec::new(), Vec::new()];
    for (key, out) in ["pre_hook", "post_hook"].into_iter().zip(&mut rendered) {
        let render = |sql: &str| jinja.render_str(key, sql, &ctx);
        for hook in node.config.hooks(key) {
            let located = |e: modelc_template::RenderError| hook_error(node, key, &e.message, sites);
            let mut result = render(&hook.sql).map_err(located)?;
            // `{{ after_commit("...") }}` in a project file renders to dbt's
            // `{sql, transaction}` JSON, whose SQL is rendered in its turn.
            let rendered = Hook::from_config(&serde_json::Value::String(result.sql.clone()));
            if rendered.sql != result.sql {
                result = render(&rendered.sql).map_err(located)?;
            }
            if result.sql.trim().is_empty() {
                continue;
            }
            let (ref_base, source_base) = (node.refs.len(), node.sources.len());
            let sql = placeholder::resolve(&result.sql, |target, part| match target {
                Target::Ref(i) => Some(placeholder::placeholder(Target::Ref(ref_base + i), part)),
                Target::Source(i) => Some(placeholder::placeholder(Target::Source(source_base + i), part)),
                Target::This => None,
            });
            node.refs.extend(result.refs);
            node.sources.extend(result.sources);
            out.push(Hook {
                sql,
                transaction: hook.transaction && rendered.transaction,
            });
        }
    }
    let [pre, post] = rendered;
    node.pre_hooks = pre;
    node.post_hooks = post;
    Ok(())
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
                transaction: h.transaction,
            })
            .collect()
    };
    (resolved(&node.pre_hooks), resolved(&node.post_hooks))
}
