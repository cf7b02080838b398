//! Node hooks: the `pre_hook`/`post_hook` configs of models, seeds and snapshots
//! (from `config(...)`, YAML or the project file; merged into lists of SQL by
//! `modelc_core::merge_config`), rendered once the node's relation is
//! known, with `this` and the node's context, as dbt renders them before the node
//! runs. modelc-exec runs them on the node's connection around its materialization.

use std::collections::BTreeMap;

use modelc_core::{Diagnostic, Node, ResourceType, SourceTable};
use modelc_template::Jinja;

use crate::{node_context, resolve};

/// Renders the node's pre- and post-hooks. A hook that fails to render, or that
/// reads another relation with `ref()`/`source()` (not supported yet), is an error
/// at the node's file.
pub(crate) fn render_hooks(
    jinja: &Jinja,
    node: &Node,
    nodes: &BTreeMap<String, Node>,
    sources: &BTreeMap<String, SourceTable>,
) -> Result<(Vec<String>, Vec<String>), Diagnostic> {
    if !matches!(
        node.resource_type,
        ResourceType::Model | ResourceType::Seed | ResourceType::Snapshot
    ) {
        return Ok((Vec::new(), Vec::new()));
    }
    let ctx = node_context(node, false);
    let render = |key: &str| -> Result<Vec<String>, Diagnostic> {
        let error = |message: String| {
            let (line, col) = resolve::locate_word(&node.raw_code, key);
            Diagnostic::error(
                "hook",
                format!("in the {key} of {} '{}': {message}", node.resource_type, node.name),
            )
            .at(&node.original_file_path, line, col)
        };
        node.config
            .get_list(key)
            .iter()
            .map(|sql| {
                let out = jinja.render_str(key, sql, &ctx).map_err(|e| error(e.message))?;
                if !out.refs.is_empty() || !out.sources.is_empty() {
                    return Err(error(
                        "ref() and source() in hooks are not supported yet; name the relation instead".into(),
                    ));
                }
                Ok(resolve::substitute(&out.sql, node, (&[], &[]), nodes, sources, None))
            })
            .filter(|r| r.as_ref().map_or(true, |sql| !sql.trim().is_empty()))
            .collect()
    };
    Ok((render("pre_hook")?, render("post_hook")?))
}
