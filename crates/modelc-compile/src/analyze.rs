//! SQL analysis of compiled nodes: parse, warn about parser gaps and tables named
//! directly, and compute column-level lineage, in parallel within each topological wave.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use modelc_core::{Diagnostic, Node, Relation, ResourceType, SourceTable};
use modelc_sql::{parse, MissingColumn, OutputColumn, SetMismatch};
use rayon::prelude::*;

use crate::cache::{hash, AnalysisEntry, Cache, Cached, Recorder};
use crate::resolve::locate_word;

/// Column lineage of every analyzed node, by unique id.
pub type Lineage = BTreeMap<String, Vec<OutputColumn>>;

/// The columns the analysis knows, by lowercase dotted relation key (with and
/// without the database): seeds', sources' (declared: `incomplete`) and every
/// analyzed model's output columns.
#[derive(Debug, Default, Clone)]
pub(crate) struct Columns {
    pub(crate) catalog: HashMap<String, Vec<String>>,
    pub(crate) incomplete: HashSet<String>,
}

impl Columns {
    /// The output column names a model's analysis gives `catalog`: none when
    /// they are unknown (a `*` over an unknown relation).
    pub(crate) fn of(cols: &[OutputColumn]) -> Option<Vec<String>> {
        let names: Vec<String> = cols.iter().filter(|c| c.name != "*").map(|c| c.name.clone()).collect();
        (!names.is_empty()).then_some(names)
    }

    /// The relation keys the catalog has `rel` under.
    pub(crate) fn keys(rel: &Relation) -> [String; 2] {
        [
            key(&[&rel.database, &rel.schema, &rel.identifier]),
            key(&[&rel.schema, &rel.identifier]),
        ]
    }
}

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
    (with_lineage, check): (bool, bool),
    unrendered: &BTreeSet<std::path::PathBuf>,
    diags: &mut Vec<Diagnostic>,
) -> (Lineage, Columns) {
    // A node rendered only when it runs has no final SQL yet: it is not checked,
    // and its columns (like a snapshot's, which gains dbt's columns) are not all
    // known to the models that read it.
    let unsure = |n: &Node| {
        n.resource_type == ResourceType::Snapshot || unrendered.contains(std::path::Path::new(&n.original_file_path))
    };
    let known = known_relations(nodes, sources);
    let mut catalog: HashMap<String, Vec<String>> = HashMap::new();
    // A source's columns are the declared ones: it may have more.
    let mut incomplete: HashSet<String> = HashSet::new();
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
            for k in [
                key(&[&r.database, &r.schema, &r.identifier]),
                key(&[&r.schema, &r.identifier]),
            ] {
                catalog.insert(k.clone(), cols.clone());
                incomplete.insert(k);
            }
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
                        &[u8::from(with_lineage), u8::from(checks(n, check) && !unsure(n))],
                    ])
                });
                if let Some(e) = key.and_then(|k| cached.analysis(&n.unique_id, k, &known, &catalog)) {
                    return (n, e.warnings(), e.columns.clone(), Cached::Reused);
                }
                let recorder = Recorder::new(&is_known, &catalog, &incomplete, key.is_some());
                let (warnings, cols) = analyze_node(n, sql, &recorder, (with_lineage, checks(n, check) && !unsure(n)));
                let entry = key.map(|k| recorder.entry(k, &warnings, cols.clone()));
                (n, warnings, cols, Cached::New(entry))
            })
            .collect();
        for (n, warnings, cols, entry) in analyzed {
            cache.keep_analysis(&n.unique_id, entry);
            diags.extend(warnings);
            let Some(cols) = cols else { continue };
            if let (Some(r), Some(names)) = (&n.relation, Columns::of(&cols)) {
                for k in Columns::keys(r) {
                    if unsure(n) {
                        incomplete.insert(k.clone());
                    }
                    catalog.insert(k, names.clone());
                }
            }
            if with_lineage {
                lineage.insert(n.unique_id.clone(), cols);
            }
        }
    }
    (lineage, Columns { catalog, incomplete })
}

/// Whether a node's column references are checked: a model's, unless its
/// `static_analysis` config is `off`.
pub(crate) fn checks(n: &Node, check: bool) -> bool {
    check && n.resource_type == ResourceType::Model && n.config.get_str("static_analysis").as_deref() != Some("off")
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
    (with_lineage, check): (bool, bool),
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
    if !with_lineage && !check {
        return (diags, None);
    }
    let analysis = q.analyze(catalog);
    if check {
        diags.extend(analysis.missing.iter().map(|m| unknown_column(n, sql, m)));
        diags.extend(analysis.mismatched.iter().map(|m| set_mismatch(n, sql, m)));
    }
    (diags, Some(analysis.columns))
}

/// Where a position of a model's compiled SQL is in its file: the same line and
/// column when the template rendered that line as written, else where `word`
/// first appears in the file.
fn located(n: &Node, sql: &str, (line, column): (usize, usize), word: &str) -> (usize, usize) {
    source_position(n, sql, line, column)
        .filter(|(_, c)| *c > 1 || column <= 1)
        .unwrap_or_else(|| {
            let (line, col) = locate_word(&n.raw_code, word);
            (line + n.defined_at_line.saturating_sub(1), col)
        })
}

/// An error for a `union` (or `except`, `intersect`) of queries with different
/// numbers of columns, which DuckDB refuses.
fn set_mismatch(n: &Node, sql: &str, m: &SetMismatch) -> Diagnostic {
    let word = m.operator.split_whitespace().next().unwrap_or("union");
    let (line, col) = located(n, sql, (m.line, m.column_number), word);
    Diagnostic::error(
        "set-mismatch",
        format!(
            "{} '{}': the {} has {} column{} on the left and {} on the right",
            n.resource_type,
            n.name,
            m.operator,
            m.left,
            if m.left == 1 { "" } else { "s" },
            m.right
        ),
    )
    .at(&n.original_file_path, line, col)
    .with_help(format!(
        "both sides of a {} need the same number of columns (or use `{} by name`)",
        m.operator, m.operator
    ))
}

/// An error for a column reference that names no column: located in the model's
/// file, with the closest column name of the relations it reads.
fn unknown_column(n: &Node, sql: &str, m: &MissingColumn) -> Diagnostic {
    let (line, col) = located(n, sql, (m.line, m.column_number), &m.column);
    let mut d = Diagnostic::error(
        "unknown-column",
        format!(
            "{} '{}' reads column '{}', which {} does not have",
            n.resource_type, n.name, m.column, m.searched
        ),
    )
    .at(&n.original_file_path, line, col);
    if let Some(s) = modelc_core::did_you_mean(&m.column, m.candidates.iter().map(String::as_str)) {
        d = d.with_help(format!("did you mean '{s}'?"));
    }
    d
}
