//! SQL analysis of compiled nodes: parse, warn about parser gaps and tables named
//! directly, and compute column-level lineage, in parallel within each topological wave.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use modelc_core::{Diagnostic, Node, Relation, ResourceType, SourceTable};
use modelc_sql::RelationName;
use modelc_sql::{parse, MissingColumn, OutputColumn, SetMismatch, Ty, TypeProblem};
use rayon::prelude::*;

use crate::cache::{hash, AnalysisEntry, Cache, Cached, Recorder};
use crate::resolve::locate_word;

/// Column lineage of every analyzed node, by unique id.
pub type Lineage = BTreeMap<String, Vec<OutputColumn>>;

/// The columns the analysis knows, by lowercase dotted relation key (with and
/// without the database): seeds', sources' (declared: `incomplete`) and every
/// analyzed model's output columns, with their types where known.
#[derive(Debug, Default, Clone)]
pub(crate) struct Columns {
    pub(crate) catalog: HashMap<String, Vec<String>>,
    /// The types of `catalog`'s columns, in its order, for relations with any known.
    pub(crate) types: HashMap<String, Vec<Option<Ty>>>,
    pub(crate) incomplete: HashSet<String>,
    /// Whether types are inferred and checked: DuckDB's typing rules are only
    /// true on DuckDB.
    pub(crate) typed: bool,
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

    /// Records `rel`'s columns and their types (kept when any is known).
    pub(crate) fn insert(&mut self, rel: &Relation, names: Vec<String>, types: Vec<Option<Ty>>, incomplete: bool) {
        let typed = self.typed && types.iter().any(Option::is_some);
        for k in Columns::keys(rel) {
            if incomplete {
                self.incomplete.insert(k.clone());
            }
            if typed {
                self.types.insert(k.clone(), types.clone());
            } else {
                self.types.remove(&k);
            }
            self.catalog.insert(k, names.clone());
        }
    }

    /// The types of a relation's columns, found as [`Catalog`] finds its columns
    /// (its longest dotted name the catalog has).
    pub(crate) fn types_of(&self, relation: &RelationName) -> Option<Vec<Option<Ty>>> {
        self.entry_key(relation).and_then(|k| self.types.get(&k).cloned())
    }

    /// Whether the column list of a relation is all it has.
    pub(crate) fn complete(&self, relation: &RelationName) -> bool {
        self.entry_key(relation).is_none_or(|k| !self.incomplete.contains(&k))
    }

    /// The key the catalog has `relation` under: its longest dotted name there.
    fn entry_key(&self, relation: &RelationName) -> Option<String> {
        let parts: Vec<String> = relation.parts.iter().map(|p| p.to_lowercase()).collect();
        (0..parts.len())
            .map(|start| parts[start..].join("."))
            .find(|key| self.catalog.contains_key(key))
    }

    /// The columns of `rel` with their types, as the analysis knows them.
    pub(crate) fn typed(&self, rel: &Relation) -> Option<Vec<(String, Option<Ty>)>> {
        let [k, _] = Columns::keys(rel);
        let names = self.catalog.get(&k)?;
        let types = self.types.get(&k);
        Some(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), types.and_then(|t| t.get(i).cloned().flatten())))
                .collect(),
        )
    }
}

/// The type a seed or source column is declared with: its `data_type`, else a
/// seed's `column_types` entry.
pub(crate) fn declared_type_name<'a>(
    c: &'a modelc_core::ColumnInfo,
    column_types: Option<&'a serde_json::Value>,
) -> Option<&'a str> {
    c.data_type.as_deref().or_else(|| column_types?.get(&c.name)?.as_str())
}

/// [`declared_type_name`], when modelc reasons about the type.
fn declared_type(c: &modelc_core::ColumnInfo, column_types: Option<&serde_json::Value>) -> Option<Ty> {
    Ty::parse(declared_type_name(c, column_types)?).filter(Ty::is_known)
}

fn key(parts: &[&str]) -> String {
    parts.iter().map(|p| p.to_lowercase()).collect::<Vec<_>>().join(".")
}

/// Reads a seed's column types as a run will load them: the compiler itself
/// reads no CSV (DuckDB does, in the runner), so the CLI lends it DuckDB's reader.
pub trait SeedTypes: Send + Sync + std::fmt::Debug {
    /// The type of each of the seed's columns, in order, as DuckDB names it;
    /// `None` when the file cannot be read (loading it will say why).
    fn types(&self, seed: &Node) -> Option<Vec<String>>;
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

/// What an analysis computes and checks.
#[derive(Clone, Copy)]
pub(crate) struct Wanted<'a> {
    /// Column lineage (for the docs).
    pub lineage: bool,
    /// That every column read exists (and, when `typed`, the types' checks).
    pub check: bool,
    /// Types inferred and checked (DuckDB targets: these are its rules).
    pub typed: bool,
    /// Seeds' column types as read from their files (see [`SeedTypes`]), by unique id.
    pub seed_types: &'a HashMap<String, Vec<String>>,
}

/// Analyzes nodes wave by wave (`waves`: topological layers); returns lineage and
/// pushes warnings. The nodes of a wave are parsed and analyzed in parallel, and each
/// syntax tree is dropped as soon as its lineage is known: only one wave's trees are
/// alive at a time, and a node's lineage can read the columns of every upstream node.
pub(crate) fn analyze(
    waves: &[Vec<String>],
    nodes: &BTreeMap<String, Node>,
    sources: &BTreeMap<String, SourceTable>,
    cache: &mut Cache,
    wanted: &Wanted<'_>,
    unrendered: &BTreeSet<std::path::PathBuf>,
    diags: &mut Vec<Diagnostic>,
) -> (Lineage, Columns) {
    let Wanted {
        lineage: with_lineage,
        check,
        typed,
        seed_types,
    } = *wanted;
    // A node rendered only when it runs has no final SQL yet: it is not checked,
    // and its columns (like a snapshot's, which gains dbt's columns) are not all
    // known to the models that read it.
    let unsure = |n: &Node| {
        n.resource_type == ResourceType::Snapshot || unrendered.contains(std::path::Path::new(&n.original_file_path))
    };
    let known = known_relations(nodes, sources);
    let mut columns = Columns {
        typed,
        ..Columns::default()
    };
    for n in nodes.values() {
        if let (Some(r), ResourceType::Seed, false) = (&n.relation, n.resource_type, n.columns.is_empty()) {
            let names = n.columns.iter().map(|c| c.name.clone()).collect();
            let declared = n.columns.iter().map(|c| declared_type(c, n.config.get("column_types")));
            let read = seed_types.get(&n.unique_id);
            let types = declared
                .enumerate()
                .map(|(i, d)| d.or_else(|| read.and_then(|r| r.get(i)).and_then(|t| Ty::parse(t))))
                .collect();
            columns.insert(r, names, types, false);
        }
    }
    for s in sources.values().filter(|s| !s.columns.is_empty()) {
        // A source's columns are the declared ones: it may have more.
        let names = s.columns.iter().map(|c| c.name.clone()).collect();
        let types = s.columns.iter().map(|c| declared_type(c, None)).collect();
        columns.insert(&s.relation, names, types, true);
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
                        &[
                            u8::from(with_lineage),
                            u8::from(checks(n, check) && !unsure(n)),
                            u8::from(typed),
                        ],
                    ])
                });
                if let Some(e) = key.and_then(|k| cached.analysis(&n.unique_id, k, &known, &columns)) {
                    return (n, e.warnings(), e.columns.clone(), Cached::Reused);
                }
                let recorder = Recorder::new(&is_known, &columns, key.is_some());
                let (warnings, cols) = analyze_node(n, sql, &recorder, (with_lineage, checks(n, check) && !unsure(n)));
                let entry = key.map(|k| recorder.entry(k, &warnings, cols.clone()));
                (n, warnings, cols, Cached::New(entry))
            })
            .collect();
        for (n, warnings, cols, entry) in analyzed {
            cache.keep_analysis(&n.unique_id, entry);
            diags.extend(warnings);
            let Some(mut cols) = cols else { continue };
            if !typed {
                for c in &mut cols {
                    c.data_type = None;
                }
            }
            if let (Some(r), Some(names)) = (&n.relation, Columns::of(&cols)) {
                let types = cols
                    .iter()
                    .filter(|c| c.name != "*")
                    .map(|c| c.data_type.clone())
                    .collect();
                columns.insert(r, names, types, unsure(n));
            }
            if with_lineage {
                lineage.insert(n.unique_id.clone(), cols);
            }
        }
    }
    (lineage, columns)
}

/// Gives each documented column of a model, seed or snapshot whose YAML has no
/// `data_type` the type the analysis inferred, so the manifest (and what reads
/// it) has types before anything is built.
pub(crate) fn fill_types(nodes: &mut BTreeMap<String, Node>, columns: &Columns) {
    if columns.types.is_empty() {
        return;
    }
    for n in nodes.values_mut() {
        if n.columns.iter().all(|c| c.data_type.is_some()) {
            continue;
        }
        let Some(typed) = n.relation.as_ref().and_then(|r| columns.typed(r)) else {
            continue;
        };
        for c in n.columns.iter_mut().filter(|c| c.data_type.is_none()) {
            c.data_type = typed
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(&c.name))
                .and_then(|(_, t)| t.as_ref())
                .map(Ty::to_string);
        }
    }
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
        if catalog.typed() {
            diags.extend(analysis.problems.iter().map(|p| type_problem(n, sql, p)));
        }
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

/// A mistake the column types show (see [`TypeProblem`]), located in the
/// model's file.
fn type_problem(n: &Node, sql: &str, p: &TypeProblem) -> Diagnostic {
    let in_file = expression_in_file(n, sql, p);
    let (line, col) = in_file.unwrap_or_else(|| {
        let word = slice(sql, (p.line, p.column_number), p.end)
            .and_then(|text| {
                text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .find(|w| !w.is_empty())
            })
            .unwrap_or("select");
        located(n, sql, (p.line, p.column_number), word)
    });
    let mut message = format!("{} '{}': {}", n.resource_type, n.name, p.message);
    // A macro wrote the expression where the file's lines are not the compiled
    // SQL's: the file does not show it, so the message does.
    if in_file.is_none() && source_position(n, sql, p.line, p.column_number).is_none() {
        if let Some(text) = slice(sql, (p.line, p.column_number), p.end).map(str::trim) {
            let short: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let short = match short.char_indices().nth(80) {
                Some((at, _)) => format!("{}...", &short[..at]),
                None => short,
            };
            message = format!("{message} (`{short}`, line {} of its compiled SQL)", p.line);
        }
    }
    let d = if p.error {
        Diagnostic::error("type-mismatch", message)
            .with_help("DuckDB refuses this when the model runs; modelc found it from the column types")
    } else {
        Diagnostic::warning("type-mismatch", message).with_help("cast the columns to one type to say which you mean")
    };
    d.at(&n.original_file_path, line, col)
}

/// Where the expression of a type problem is in the model's file: its text as
/// compiled, found as written (templates rarely render inside an expression).
fn expression_in_file(n: &Node, sql: &str, p: &TypeProblem) -> Option<(usize, usize)> {
    if n.resource_type != ResourceType::Model {
        return None;
    }
    let text = slice(sql, (p.line, p.column_number), p.end)?.trim();
    let at = n.raw_code.find(text).filter(|_| !text.is_empty())?;
    let before = &n.raw_code[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Some((line + n.defined_at_line.saturating_sub(1), col))
}

/// The text of `sql` from `start` up to `end` (1-based lines and columns, in chars).
fn slice(sql: &str, start: (usize, usize), end: (usize, usize)) -> Option<&str> {
    let offset = |(line, col): (usize, usize)| -> Option<usize> {
        let line_start: usize = sql.split_inclusive('\n').take(line.checked_sub(1)?).map(str::len).sum();
        let rest = sql.get(line_start..)?;
        let within = rest
            .char_indices()
            .nth(col.checked_sub(1)?)
            .map_or(rest.len(), |(i, _)| i);
        Some(line_start + within)
    };
    let (from, to) = (offset(start)?, offset(end)?);
    sql.get(from..to)
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
