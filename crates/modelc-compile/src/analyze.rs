//! SQL analysis of compiled nodes: parse, warn about parser gaps and tables named
//! directly, and compute column-level lineage, in parallel within each topological wave.

use std::collections::{BTreeMap, HashMap, HashSet};

use modelc_core::{Diagnostic, Node, Relation, ResourceType, SourceTable};
use modelc_sql::{parse, OutputColumn};
use rayon::prelude::*;

use crate::cache::{hash, AnalysisEntry, Cache, Cached, Recorder};
use crate::resolve::locate_word;

/// Column lineage of every analyzed node, by unique id.
pub type Lineage = BTreeMap<String, Vec<OutputColumn>>;

fn key(parts: &[&str]) -> String {
    parts.iter().map(|p| p.to_lowercase()).collect::<Vec<_>>().join(".")
}

/// A node's analysis: warnings, lineage, and where it came from.
type Analyzed<'a> = (
    &'a Node,
    Vec<Diagnostic>,
    Option<Vec<OutputColumn>>,
    Cached<AnalysisEntry>,
);

/// The relations the project knows, every node's and every source's, as lowercase
/// dotted keys with and without the database.
pub(crate) fn known_relations(
    nodes: &BTreeMap<String, Node>,
    sources: &BTreeMap<String, SourceTable>,
) -> HashSet<String> {
    let relations: Vec<&Relation> = nodes
        .values()
        .filter_map(|n| n.relation.as_ref())
        .chain(sources.values().map(|s| &s.relation))
        .collect();
    relations
        .par_iter()
        .flat_map_iter(|r| {
            [
                key(&[&r.database, &r.schema, &r.identifier]),
                key(&[&r.schema, &r.identifier]),
            ]
        })
        .collect()
}

/// Analyzes nodes wave by wave (`waves`: topological layers); returns lineage and
/// pushes warnings. The nodes of a wave are parsed and analyzed in parallel, and each
/// syntax tree is dropped as soon as its lineage is known: only one wave's trees are
/// alive at a time, and a node's lineage can read the columns of every upstream node.
pub fn analyze(
    waves: &[Vec<String>],
    nodes: &BTreeMap<String, Node>,
    sources: &BTreeMap<String, SourceTable>,
    cache: &mut Cache,
    with_lineage: bool,
    diags: &mut Vec<Diagnostic>,
) -> Lineage {
    let known = known_relations(nodes, sources);
    let mut catalog: HashMap<String, Vec<String>> = HashMap::new();
    for n in nodes.values() {
        if let Some(r) = &n.relation {
            if !n.columns.is_empty() && n.resource_type == ResourceType::Seed {
                let cols: Vec<String> = n.columns.iter().map(|c| c.name.clone()).collect();
                catalog.insert(key(&[&r.database, &r.schema, &r.identifier]), cols.clone());
                catalog.insert(key(&[&r.schema, &r.identifier]), cols);
            }
        }
    }
    for s in sources.values() {
        let r = &s.relation;
        if !s.columns.is_empty() {
            let cols: Vec<String> = s.columns.iter().map(|c| c.name.clone()).collect();
            catalog.insert(key(&[&r.database, &r.schema, &r.identifier]), cols.clone());
            catalog.insert(key(&[&r.schema, &r.identifier]), cols);
        }
    }

    let is_known = |k: &str| known.contains(k);
    let mut lineage = Lineage::new();
    for wave in waves {
        let cached = &*cache;
        let analyzed: Vec<Analyzed<'_>> = wave
            .par_iter()
            .filter_map(|id| nodes.get(id))
            .filter(|n| matches!(n.resource_type, ResourceType::Model | ResourceType::Snapshot))
            .filter_map(|n| n.compiled_code.as_deref().map(|sql| (n, sql)))
            .map(|(n, sql)| {
                // Keyed by everything the analysis reads from the node itself.
                let key = cached.enabled().then(|| {
                    hash(&[
                        sql.as_bytes(),
                        n.raw_code.as_bytes(),
                        n.original_file_path.as_bytes(),
                        &(n.defined_at_line as u64).to_le_bytes(),
                        n.name.as_bytes(),
                        n.resource_type.as_str().as_bytes(),
                        &[u8::from(with_lineage)],
                    ])
                });
                if let Some(e) = key.and_then(|k| cached.analysis(&n.unique_id, k, &known, &catalog)) {
                    return (n, e.warnings(), e.columns.clone(), Cached::Reused);
                }
                let recorder = Recorder::new(&is_known, &catalog, key.is_some());
                let (warnings, cols) = analyze_node(n, sql, &recorder, with_lineage);
                let entry = key.map(|k| recorder.entry(k, &warnings, cols.clone()));
                (n, warnings, cols, Cached::New(entry))
            })
            .collect();
        for (n, warnings, cols, entry) in analyzed {
            cache.keep_analysis(&n.unique_id, entry);
            diags.extend(warnings);
            let Some(cols) = cols else { continue };
            if let Some(r) = &n.relation {
                let names: Vec<String> = cols.iter().filter(|c| c.name != "*").map(|c| c.name.clone()).collect();
                if !names.is_empty() {
                    catalog.insert(key(&[&r.database, &r.schema, &r.identifier]), names.clone());
                    catalog.insert(key(&[&r.schema, &r.identifier]), names);
                }
            }
            lineage.insert(n.unique_id.clone(), cols);
        }
    }
    lineage
}

/// Where line `line`, column `col` of a model's (or singular test's) compiled SQL
/// is in its file: when the template rendered line for line (as many lines as the
/// file), the same line; the column too when that line is the file's as written.
fn source_position(n: &Node, sql: &str, line: usize, col: usize) -> Option<(usize, usize)> {
    let file_based = match n.resource_type {
        ResourceType::Model => true,
        ResourceType::Test => n.test.as_ref().is_some_and(|t| t.name.is_none()),
        _ => false,
    };
    if !file_based || line == 0 || sql.lines().count() != n.raw_code.lines().count() {
        return None;
    }
    let same = sql.lines().nth(line - 1) == n.raw_code.lines().nth(line - 1);
    Some((line, if same { col.max(1) } else { 1 }))
}

/// Parses one node's compiled SQL: warnings for parser gaps and direct table reads,
/// and the lineage of its output columns (`None` when it cannot be parsed or is
/// not wanted).
pub(crate) fn analyze_node(
    n: &Node,
    sql: &str,
    catalog: &Recorder<'_>,
    with_lineage: bool,
) -> (Vec<Diagnostic>, Option<Vec<OutputColumn>>) {
    let mut diags = Vec::new();
    let q = match parse(sql) {
        Ok(q) => q,
        Err(e) => {
            let (line, col) =
                source_position(n, sql, e.line as usize, e.column as usize).unwrap_or((n.defined_at_line, 1));
            diags.push(
                Diagnostic::warning("sql-parse", format!("modelc's SQL parser cannot read {} '{}' ({}); lineage is not available for it, the run is not affected", n.resource_type, n.name, e.message))
                    .at(&n.original_file_path, line, col)
                    .with_help(format!("the position refers to the compiled SQL: target/{} line {}", n.compiled_path(), e.line)),
            );
            return (diags, None);
        }
    };
    for r in q.relations() {
        let parts: Vec<&str> = r.name.parts.iter().map(String::as_str).collect();
        if parts.len() >= 2 && catalog.is_known(&key(&parts)) {
            continue;
        }
        if parts.len() == 1 && parts[0].starts_with("__dbt__cte__") {
            continue;
        }
        let (line, col) = locate_word(&n.raw_code, r.name.table());
        diags.push(
            Diagnostic::warning("direct-reference", format!("{} '{}' reads '{}' directly, not through ref() or source()", n.resource_type, n.name, r.name))
                .at(&n.original_file_path, line + n.defined_at_line.saturating_sub(1), col)
                .with_help("modelc cannot order or document a dependency it does not know; declare it as a source or ref the model that builds it"),
        );
    }
    let cols = with_lineage.then(|| q.lineage(catalog));
    (diags, cols)
}
