//! Model contracts (`contract: {enforced: true}`) checked before anything runs,
//! where dbt checks them only when the table is built: every declared column has
//! a `data_type`, the model's SQL returns exactly the declared columns (by
//! name, from modelc's analysis; when its columns are all known), each of the
//! declared type where modelc infers the type (DuckDB only).

use std::collections::BTreeMap;

use modelc_core::{Diagnostic, Node, ResourceType};
use modelc_sql::Ty;

use crate::analyze::Columns;
use crate::nodes::YamlSite;
use crate::resolve::locate_word;

/// The contract errors of every model with an enforced contract; `yaml` says
/// where each node's YAML entry and declared columns are.
pub(crate) fn check(
    nodes: &BTreeMap<String, Node>,
    yaml: &std::collections::HashMap<String, YamlSite>,
    columns: &Columns,
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
