//! Model contracts (`contract: {enforced: true}`) checked before anything runs,
//! where dbt checks them only when the table is built: every declared column has
//! a `data_type`, the model's SQL returns exactly the declared columns (by
//! name, from modelc's analysis; when its columns are all known), each of the
//! declared type where modelc infers the type (DuckDB only); and the
//! constraints such a model's table is created with: foreign keys' `to:`
//! resolved to relations (and made dependencies, as dbt does), and a warning
//! where the engine does not support them.

use std::collections::BTreeMap;

use modelc_core::{Diagnostic, Engine, Node, ResourceType, SourceTable};
use modelc_sql::Ty;

use crate::analyze::Columns;
use crate::exposures::{parse_call, Call};
use crate::nodes::YamlSite;
use crate::resolve::locate_word;

/// The contract errors of every model with an enforced contract; `yaml` says
/// where each node's YAML entry and declared columns are; `syntax` checks that
/// each declared type is one in DuckDB's grammar (on DuckDB targets).
pub(crate) fn check(
    nodes: &BTreeMap<String, Node>,
    yaml: &std::collections::HashMap<String, YamlSite>,
    columns: &Columns,
    syntax: bool,
) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for n in nodes
        .values()
        .filter(|n| n.resource_type == ResourceType::Model && enforced(n))
    {
        let site = yaml.get(&n.unique_id);
        let yaml_line = |column: &str| {
            site.and_then(|s| s.columns.iter().find(|(c, _)| c.eq_ignore_ascii_case(column)))
                .map_or_else(|| site.map_or(1, |s| s.line), |(_, line)| *line)
        };
        let yaml = site.map_or(n.original_file_path.as_str(), |s| s.file.as_str());
        let error = |message: String| {
            Diagnostic::error(
                "contract",
                format!("model '{}' has an enforced contract: {message}", n.name),
            )
        };
        for c in n
            .columns
            .iter()
            .filter(|c| c.data_type.as_deref().is_none_or(str::is_empty))
        {
            found.push(
                error(format!("column '{}' has no data_type", c.name))
                    .at(yaml, yaml_line(&c.name), 1)
                    .with_help("an enforced contract declares every column's data_type"),
            );
        }
        // A type DuckDB's grammar cannot read fails the build when it runs: say so now.
        for c in n.columns.iter().filter(|_| syntax) {
            let Some(declared) = c.data_type.as_deref().filter(|t| !t.trim().is_empty()) else {
                continue;
            };
            if let Err(e) = modelc_sql::parse(&format!("select cast(null as {declared})")) {
                found.push(
                    error(format!(
                        "column '{}' has data_type '{declared}', which is not a type",
                        c.name
                    ))
                    .at(yaml, yaml_line(&c.name), 1)
                    .with_help(format!("the SQL parser says: {}", e.message)),
                );
            }
        }
        let returned = n
            .relation
            .as_ref()
            .and_then(|r| columns.catalog.get(&Columns::keys(r)[0]));
        let Some(returned) = returned.filter(|_| !n.columns.is_empty()) else {
            continue;
        };
        for c in n
            .columns
            .iter()
            .filter(|c| !returned.iter().any(|r| r.eq_ignore_ascii_case(&c.name)))
        {
            found.push(
                error(format!(
                    "column '{}' is declared, but the SQL does not return it",
                    c.name
                ))
                .at(yaml, yaml_line(&c.name), 1)
                .with_help(format!("{} returns: {}", n.original_file_path, returned.join(", "))),
            );
        }
        let inferred = n.relation.as_ref().and_then(|r| columns.typed(r)).unwrap_or_default();
        for c in &n.columns {
            let Some(declared) = c.data_type.as_deref() else {
                continue;
            };
            let got = inferred
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(&c.name))
                .and_then(|(_, t)| t.as_ref());
            match (Ty::parse(declared).filter(Ty::is_known), got) {
                (Some(want), Some(got)) if want != *got => {
                    let (line, col) = locate_word(&n.raw_code, &c.name);
                    found.push(
                        error(format!(
                            "column '{}' is declared {declared} ({want}), but the SQL returns {got}",
                            c.name
                        ))
                        .at(yaml, yaml_line(&c.name), 1)
                        .with_help(format!(
                            "cast it in the select ({}:{}:{col}), or declare data_type: {}",
                            n.original_file_path,
                            line + n.defined_at_line.saturating_sub(1),
                            got.to_string().to_lowercase()
                        )),
                    );
                }
                _ => {}
            }
        }
        for r in returned
            .iter()
            .filter(|r| !n.columns.iter().any(|c| c.name.eq_ignore_ascii_case(r)))
        {
            let (line, col) = locate_word(&n.raw_code, r);
            found.push(
                error(format!(
                    "the SQL returns column '{r}', which the contract does not declare"
                ))
                .at(&n.original_file_path, line + n.defined_at_line.saturating_sub(1), col)
                .with_help(format!("declare it in {yaml}, or leave it out of the select")),
            );
        }
    }
    found
}

/// Whether `n` has an enforced contract.
pub(crate) fn enforced(n: &Node) -> bool {
    n.config
        .get("contract")
        .and_then(|c| c.get("enforced"))
        .and_then(serde_json::Value::as_bool)
        == Some(true)
}

/// Resolves each foreign key's `to:` (`ref('x')`, `source('a', 'b')`) to the
/// relation it names, schema-qualified (DuckDB and PostgreSQL refuse a foreign
/// key that names a database), and makes that node a dependency of the model, so the
/// referenced table exists before the model's is created; for models with an
/// enforced contract, whose tables get the constraints. An unknown target is an
/// error at the constraint's model entry.
pub(crate) fn resolve_foreign_keys(
    nodes: &mut BTreeMap<String, Node>,
    sources: &BTreeMap<String, SourceTable>,
    yaml: &std::collections::HashMap<String, YamlSite>,
    diags: &mut Vec<Diagnostic>,
) {
    // Only enforced contracts put constraints in DDL (and the compile state's
    // fast path leaves such models to a full compile).
    let ids: Vec<String> = nodes
        .values()
        .filter(|n| {
            enforced(n)
                && n.constraints
                    .iter()
                    .chain(n.columns.iter().flat_map(|c| &c.constraints))
                    .any(|c| c.to.is_some())
        })
        .map(|n| n.unique_id.clone())
        .collect();
    for id in ids {
        let mut targets = Vec::new();
        let mut errors = Vec::new();
        let Some(node) = nodes.get(&id) else { continue };
        let tos = node
            .constraints
            .iter()
            .chain(node.columns.iter().flat_map(|c| &c.constraints))
            .filter_map(|c| c.to.clone());
        for to in tos {
            let target = match parse_call(&to) {
                Some(Call::Ref(package, name)) => nodes
                    .values()
                    .filter(|n| {
                        n.name == name
                            && n.relation.is_some()
                            && package.as_ref().is_none_or(|p| *p == n.package_name)
                            && n.version == n.latest_version
                    })
                    .find_map(|n| Some((n.unique_id.clone(), n.relation.as_ref()?.schema_qualified()))),
                Some(Call::Source(source, table)) => sources
                    .values()
                    .find(|s| s.source_name == source && s.name == table)
                    .map(|s| (s.unique_id.clone(), s.relation.schema_qualified())),
                None => None,
            };
            match target {
                Some((uid, relation)) => targets.push((to, uid, relation)),
                None => errors.push(to),
            }
        }
        let site = yaml.get(&id);
        for to in errors {
            diags.push(
                Diagnostic::error(
                    "constraint",
                    format!(
                        "model '{}' has a foreign key to {to}, which names no model, seed, snapshot or source",
                        node.name
                    ),
                )
                .at(
                    site.map_or(node.original_file_path.as_str(), |s| s.file.as_str()),
                    site.map_or(1, |s| s.line),
                    1,
                )
                .with_help("write to: ref('model') or to: source('source', 'table')"),
            );
        }
        let Some(node) = nodes.get_mut(&id) else { continue };
        for c in node
            .constraints
            .iter_mut()
            .chain(node.columns.iter_mut().flat_map(|c| &mut c.constraints))
        {
            if let Some((_, _, relation)) = targets.iter().find(|(to, _, _)| Some(to) == c.to.as_ref()) {
                c.to = Some(relation.clone());
            }
        }
        for (_, uid, _) in targets {
            if uid != node.unique_id && !node.depends_on.nodes.contains(&uid) {
                node.depends_on.nodes.push(uid);
            }
        }
        node.depends_on.nodes.sort();
    }
}

/// Warnings for the constraints of enforced contracts on an engine that does not
/// put constraints in its tables' DDL, as dbt words them (a constraint's
/// `warn_unsupported: false` silences its warning).
pub(crate) fn unsupported_constraints(
    nodes: &BTreeMap<String, Node>,
    yaml: &std::collections::HashMap<String, YamlSite>,
    engine: &Engine,
) -> Vec<Diagnostic> {
    if engine.constraints {
        return Vec::new();
    }
    let mut found = Vec::new();
    for n in nodes
        .values()
        .filter(|n| n.resource_type == ResourceType::Model && enforced(n))
    {
        let site = yaml.get(&n.unique_id);
        let at = |column: Option<&str>| {
            site.and_then(|s| column.and_then(|c| s.columns.iter().find(|(name, _)| name.eq_ignore_ascii_case(c))))
                .map_or_else(|| site.map_or(1, |s| s.line), |(_, line)| *line)
        };
        let file = site.map_or(n.original_file_path.as_str(), |s| s.file.as_str());
        let all = n.constraints.iter().map(|c| (c, None)).chain(
            n.columns
                .iter()
                .flat_map(|col| col.constraints.iter().map(|c| (c, Some(col.name.as_str())))),
        );
        for (c, column) in all.filter(|(c, _)| c.warn_unsupported) {
            found.push(
                Diagnostic::warning(
                    "constraint",
                    format!(
                        "model '{}': the constraint type {} is not supported by {}, and will be ignored. Set 'warn_unsupported: false' on this constraint to ignore this warning.",
                        n.name,
                        c.kind.as_str(),
                        engine.name
                    ),
                )
                .at(file, at(column), 1),
            );
        }
    }
    found
}
