//! dbt node selection: parsing of `--select` / `--exclude` criteria and their
//! evaluation over a [`Dag`], following dbt-core's `NodeSelector`.
//!
//! * Space-separated criteria are a union, comma-separated parts of one
//!   criterion an intersection; excludes are subtracted afterwards.
//! * A criterion is `[@][N+][method[.arg]:]value[+N]`. Without a method the
//!   value is a path when it holds a `/`, a file name when it ends in `.sql`,
//!   `.py`, `.csv`, `.yml` or `.yaml`, and else a dotted fqn or node name.
//! * Values may use the glob wildcards `*`, `?` and `[...]`.
//! * Tests are selected indirectly when their parents are, according to
//!   [`IndirectSelection`] (excludes always use `Eager`, as in dbt).
//!
//! Sources are matched by `source:`, `resource_type:source` and the methods
//! dbt applies to every node (`tag:`, `path:`, `file:`, `package:`,
//! `config.X:`), and reached by graph operators (`+model` includes the
//! sources it reads); never by bare names or `fqn:`, and not by an empty
//! selection. Callers filter them out of execution.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use petgraph::graph::NodeIndex;
use petgraph::Direction;

use crate::{Dag, DagNode, NodeSet, ParseKindError, ResourceKind, TestKind};

/// How tests are added when their parents are selected (dbt's
/// `--indirect-selection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IndirectSelection {
    /// Add tests with at least one selected parent (dbt's default).
    #[default]
    Eager,
    /// Add tests whose parents are all selected.
    Cautious,
    /// Add tests whose parents are all selected or ancestors of selected nodes.
    Buildable,
    /// Add no tests: only explicitly selected tests run.
    Empty,
}

impl IndirectSelection {
    /// The CLI spelling: `eager`, `cautious`, `buildable` or `empty`.
    pub fn as_str(self) -> &'static str {
        match self {
            IndirectSelection::Eager => "eager",
            IndirectSelection::Cautious => "cautious",
            IndirectSelection::Buildable => "buildable",
            IndirectSelection::Empty => "empty",
        }
    }
}

impl fmt::Display for IndirectSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IndirectSelection {
    type Err = ParseKindError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            IndirectSelection::Eager,
            IndirectSelection::Cautious,
            IndirectSelection::Buildable,
            IndirectSelection::Empty,
        ]
        .into_iter()
        .find(|mode| mode.as_str() == s)
        .ok_or_else(|| ParseKindError {
            kind: "indirect selection mode",
            value: s.to_string(),
        })
    }
}

/// The outcome of [`Dag::select`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    /// Selected unique ids (may include sources; see the module docs).
    pub ids: BTreeSet<String>,
    /// One warning per criterion that matches nothing.
    pub warnings: Vec<String>,
}

/// A selection criterion that cannot be parsed or evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorError {
    /// The offending criterion, as written.
    pub criterion: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid selector '{}': {}", self.criterion, self.message)
    }
}

impl std::error::Error for SelectorError {}

/// Selection method of one criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Method {
    Fqn,
    Tag,
    Path,
    File,
    ResourceType,
    Source,
    Config(String),
    TestType,
    TestName,
    Package,
    Group,
    Access,
    State,
    Result,
    SourceStatus,
    Exposure,
}

/// One parsed criterion, e.g. `2+tag:nightly+`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Criterion {
    /// `@` prefix.
    childrens_parents: bool,
    /// `N+` prefix: `Some(depth)`, where `None` depth means unlimited.
    parents: Option<Option<usize>>,
    /// `+N` suffix.
    children: Option<Option<usize>>,
    method: Method,
    value: String,
}

/// Directly and indirectly (pending tests) selected nodes.
struct Bundle {
    direct: NodeSet,
    indirect: NodeSet,
}

#[derive(Clone, Copy)]
enum SetOp {
    Union,
    Intersection,
}

fn err(criterion: &str, message: impl Into<String>) -> SelectorError {
    SelectorError {
        criterion: criterion.to_string(),
        message: message.into(),
    }
}

/// Parses one criterion (no spaces, no commas), like dbt's
/// `SelectionCriteria.from_single_spec`.
fn parse_criterion(raw: &str) -> Result<Criterion, SelectorError> {
    let mut rest = raw;
    let childrens_parents = match rest.strip_prefix('@') {
        Some(r) => {
            rest = r;
            true
        }
        None => false,
    };
    let parse_depth = |digits: &str| -> Result<Option<usize>, SelectorError> {
        if digits.is_empty() {
            Ok(None)
        } else {
            digits
                .parse()
                .map(Some)
                .map_err(|_| err(raw, format!("graph depth '{digits}' is too large")))
        }
    };
    let digits_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let parents = if rest[digits_len..].starts_with('+') {
        let depth = parse_depth(&rest[..digits_len])?;
        rest = &rest[digits_len + 1..];
        Some(depth)
    } else {
        None
    };
    if childrens_parents && parents.is_some() {
        return Err(err(raw, "the \"@\" prefix and the \"+\" prefix are not compatible"));
    }
    let trailing_digits = rest.bytes().rev().take_while(u8::is_ascii_digit).count();
    let before_digits = &rest[..rest.len() - trailing_digits];
    let children = match before_digits.strip_suffix('+') {
        Some(value) => {
            let depth = parse_depth(&rest[rest.len() - trailing_digits..])?;
            rest = value;
            Some(depth)
        }
        None => None,
    };
    let (method, value) = match rest.split_once(':') {
        Some((method, value))
            if !method.is_empty() && method.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.') =>
        {
            (parse_method(raw, method)?, value)
        }
        _ => (default_method(rest), rest),
    };
    if value.is_empty() {
        return Err(err(raw, "the selector value is empty"));
    }
    Ok(Criterion {
        childrens_parents,
        parents,
        children,
        method,
        value: value.to_string(),
    })
}

/// The method of a value given without one (dbt's `default_method`).
fn default_method(value: &str) -> Method {
    let lower = value.to_ascii_lowercase();
    if value.contains('/') || value.contains('\\') {
        Method::Path
    } else if [".sql", ".py", ".csv", ".yml", ".yaml"]
        .iter()
        .any(|ext| lower.ends_with(ext))
    {
        Method::File
    } else {
        Method::Fqn
    }
}

fn parse_method(raw: &str, text: &str) -> Result<Method, SelectorError> {
    let (name, args) = match text.split_once('.') {
        Some((name, args)) => (name, Some(args)),
        None => (text, None),
    };
    let method = match name {
        "fqn" => Method::Fqn,
        "tag" => Method::Tag,
        "path" => Method::Path,
        "file" => Method::File,
        "resource_type" => Method::ResourceType,
        "source" => Method::Source,
        "test_type" => Method::TestType,
        "test_name" => Method::TestName,
        "package" => Method::Package,
        "group" => Method::Group,
        "access" => Method::Access,
        "config" => match args {
            Some(key) if !key.is_empty() && !key.split('.').any(str::is_empty) => {
                return Ok(Method::Config(key.to_string()))
            }
            _ => {
                return Err(err(
                    raw,
                    "the config method needs a key, e.g. 'config.materialized:table'",
                ))
            }
        },
        "state" => Method::State,
        "result" => Method::Result,
        "source_status" => Method::SourceStatus,
        "exposure" => Method::Exposure,
        "metric" | "version" | "semantic_model" | "saved_query" | "unit_test" | "wildcard" => {
            return Err(err(raw, format!("the '{name}' selection method is not supported yet")))
        }
        _ => return Err(err(raw, format!("'{name}' is not a valid method name"))),
    };
    match args {
        Some(args) => Err(err(
            raw,
            format!("the '{name}' method takes no argument (got '.{args}')"),
        )),
        None => Ok(method),
    }
}

/// Criteria of a `--select` / `--exclude` value list: space-separated
/// criteria, each a comma-separated intersection.
type Parsed = Vec<(String, Vec<Criterion>)>;

fn parse_values(values: &[String]) -> Result<Parsed, SelectorError> {
    let mut out = Vec::new();
    for raw_spec in values.iter().flat_map(|v| v.split_whitespace()) {
        let parts = raw_spec
            .split(',')
            .map(|part| {
                if part.is_empty() {
                    Err(err(raw_spec, "empty criterion between commas"))
                } else {
                    parse_criterion(part)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push((raw_spec.to_string(), parts));
    }
    Ok(out)
}

/// Whether a value holds glob wildcards (dbt's check in fqn matching).
fn has_wildcard(value: &str) -> bool {
    value.contains(['*', '?', '[', ']'])
}

/// A compiled glob pattern with Python `fnmatch` semantics (case-sensitive):
/// `*` matches any run of characters (including `/` and `.`), `?` one
/// character, `[abc]` / `[a-z]` / `[!abc]` one character of a class.
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    tokens: Vec<Token>,
    literal: Option<String>,
}

#[derive(Debug, Clone)]
enum Token {
    Char(char),
    Any,
    Star,
    Class { negated: bool, ranges: Vec<(char, char)> },
}

impl Glob {
    pub(crate) fn new(pattern: &str) -> Glob {
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '*' => {
                    if !matches!(tokens.last(), Some(Token::Star)) {
                        tokens.push(Token::Star);
                    }
                    i += 1;
                }
                '?' => {
                    tokens.push(Token::Any);
                    i += 1;
                }
                '[' => match parse_class(&chars, i) {
                    Some((token, next)) => {
                        tokens.push(token);
                        i = next;
                    }
                    None => {
                        tokens.push(Token::Char('['));
                        i += 1;
                    }
                },
                c => {
                    tokens.push(Token::Char(c));
                    i += 1;
                }
            }
        }
        let literal = tokens
            .iter()
            .all(|t| matches!(t, Token::Char(_)))
            .then(|| pattern.to_string());
        Glob { tokens, literal }
    }

    pub(crate) fn is_match(&self, text: &str) -> bool {
        if let Some(literal) = &self.literal {
            return literal == text;
        }
        // `t` is a byte offset into `text`, always on a char boundary.
        let (mut t, mut p) = (0usize, 0usize);
        // Token after the last star, and the text offset it is retried at.
        let mut backtrack: Option<(usize, usize)> = None;
        loop {
            let current = text[t..].chars().next();
            if let Some(token) = self.tokens.get(p) {
                let step = match (token, current) {
                    (Token::Star, _) => {
                        backtrack = Some((p + 1, t));
                        p += 1;
                        continue;
                    }
                    (_, None) => false,
                    (Token::Char(c), Some(ch)) => *c == ch,
                    (Token::Any, Some(_)) => true,
                    (Token::Class { negated, ranges }, Some(ch)) => {
                        ranges.iter().any(|&(lo, hi)| lo <= ch && ch <= hi) != *negated
                    }
                };
                if let (true, Some(ch)) = (step, current) {
                    p += 1;
                    t += ch.len_utf8();
                    continue;
                }
            } else if current.is_none() {
                return true;
            }
            match backtrack {
                Some((bp, bt)) => match text[bt..].chars().next() {
                    Some(ch) => {
                        backtrack = Some((bp, bt + ch.len_utf8()));
                        p = bp;
                        t = bt + ch.len_utf8();
                    }
                    None => return false,
                },
                None => return false,
            }
        }
    }
}

/// Parses a `[...]` class starting at `chars[start] == '['`; `None` when it
/// is not closed (then `[` is a literal, as in `fnmatch`).
fn parse_class(chars: &[char], start: usize) -> Option<(Token, usize)> {
    let mut i = start + 1;
    let negated = chars.get(i) == Some(&'!');
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = *chars.get(i)?;
        if c == ']' && !first {
            return Some((Token::Class { negated, ranges }, i + 1));
        }
        first = false;
        if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|&h| h != ']') {
            let hi = chars[i + 2];
            ranges.push((c, hi));
            i += 3;
        } else {
            ranges.push((c, c));
            i += 1;
        }
    }
}

/// A compiled fqn selector: dbt's `is_selected_node`.
struct FqnSelector<'a> {
    selector: &'a str,
    /// The dotted parts before the first part holding a wildcard.
    exact: Vec<&'a str>,
    /// Number of dotted parts.
    len: usize,
    /// Glob over the remaining parts (joined by dots), from the first part
    /// holding a wildcard.
    rest: Option<Glob>,
}

impl<'a> FqnSelector<'a> {
    fn new(selector: &'a str) -> FqnSelector<'a> {
        let parts: Vec<&str> = selector.split('.').collect();
        let wild = parts.iter().position(|p| has_wildcard(p));
        let exact = parts[..wild.unwrap_or(parts.len())].to_vec();
        let rest = wild.map(|w| Glob::new(&parts[w..].join(".")));
        FqnSelector {
            selector,
            exact,
            len: parts.len(),
            rest,
        }
    }

    /// Whether the fqn (possibly without its package) matches.
    fn matches(&self, fqn: &[String]) -> bool {
        let Some(last) = fqn.last() else {
            return false;
        };
        if last == self.selector {
            return true;
        }
        // Dots inside fqn segments act as separators too.
        let mut flat = fqn.iter().flat_map(|s| s.split('.'));
        let flat_len = fqn.iter().map(|s| s.split('.').count()).sum::<usize>();
        if flat_len < self.len {
            return false;
        }
        for part in &self.exact {
            if flat.next() != Some(*part) {
                return false;
            }
        }
        match &self.rest {
            None => true,
            Some(glob) => glob.is_match(&flat.collect::<Vec<_>>().join(".")),
        }
    }
}

/// Splits a `/`-separated path into its non-empty segments, dropping `.`.
fn segments(path: &str) -> Vec<&str> {
    path.split(['/', '\\']).filter(|s| !s.is_empty() && *s != ".").collect()
}

/// A `path:` pattern, matched like dbt: globbed against the project tree, a
/// node matches when its file or one of its parent directories matches.
struct PathPattern {
    segments: Vec<PathSegment>,
}

enum PathSegment {
    /// `**`: any number of directories.
    AnyDirs,
    Glob(Glob),
}

impl PathPattern {
    fn new(pattern: &str) -> PathPattern {
        PathPattern {
            segments: segments(pattern)
                .into_iter()
                .map(|s| {
                    if s == "**" {
                        PathSegment::AnyDirs
                    } else {
                        PathSegment::Glob(Glob::new(s))
                    }
                })
                .collect(),
        }
    }

    /// Whether the file at `path` or one of its parent directories matches.
    fn matches_file_or_parent(&self, path: &str) -> bool {
        let path = segments(path);
        if self.segments.is_empty() {
            return true;
        }
        // reach[j]: the pattern prefix processed so far matches path[..j].
        let mut reach = vec![false; path.len() + 1];
        reach[0] = true;
        for segment in &self.segments {
            let mut next = vec![false; path.len() + 1];
            match segment {
                PathSegment::AnyDirs => {
                    let mut on = false;
                    for j in 0..=path.len() {
                        on |= reach[j];
                        next[j] = on;
                    }
                }
                PathSegment::Glob(glob) => {
                    for j in 0..path.len() {
                        if reach[j] && glob.is_match(path[j]) {
                            next[j + 1] = true;
                        }
                    }
                }
            }
            reach = next;
        }
        // Any non-empty prefix of the path (the file or a parent directory).
        reach.iter().skip(1).any(|&r| r)
    }
}

/// The file name of a `/`-separated path and its stem (before the last dot).
fn file_name_and_stem(path: &str) -> (&str, &str) {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let stem = match name.rfind('.') {
        Some(dot) if dot > 0 => &name[..dot],
        _ => name,
    };
    (name, stem)
}

/// Valid `resource_type:` values (dbt's `NodeType`); those this crate has
/// no nodes for match nothing.
const DBT_RESOURCE_TYPES: &[&str] = &[
    "model",
    "analysis",
    "test",
    "snapshot",
    "operation",
    "seed",
    "rpc",
    "sql_operation",
    "doc",
    "source",
    "macro",
    "exposure",
    "metric",
    "group",
    "saved_query",
    "semantic_model",
    "unit_test",
    "fixture",
    "function",
];

impl Dag {
    /// dbt node selection.
    ///
    /// `select` and `exclude` are the CLI values; each element may hold
    /// several space-separated criteria. An empty `select` selects every node
    /// except sources. Returns the selected unique ids and a warning for each
    /// space-separated criterion that matches nothing.
    pub fn select(
        &self,
        select: &[String],
        exclude: &[String],
        indirect: IndirectSelection,
    ) -> Result<Selection, SelectorError> {
        let included = parse_values(select)?;
        let excluded = parse_values(exclude)?;
        let mut warnings = Vec::new();
        let include = if included.is_empty() {
            let mut all = NodeSet::new(self.len());
            for ix in self.graph.node_indices() {
                if self.graph[ix].resource_type != ResourceKind::Source {
                    all.insert(ix);
                }
            }
            Bundle {
                direct: all,
                indirect: NodeSet::new(self.len()),
            }
        } else {
            self.eval_union(&included, indirect, &mut warnings)?
        };
        let exclude = if excluded.is_empty() {
            Bundle {
                direct: NodeSet::new(self.len()),
                indirect: NodeSet::new(self.len()),
            }
        } else {
            self.eval_union(&excluded, IndirectSelection::Eager, &mut warnings)?
        };
        // dbt's SelectionDifference.
        let mut direct = include.direct.clone();
        direct.difference_with(&exclude.direct);
        let mut pending = include.direct;
        pending.union_with(&include.indirect);
        let mut removed = exclude.direct;
        removed.union_with(&exclude.indirect);
        pending.difference_with(&removed);
        let direct = self.incorporate_indirect(direct, &pending, indirect);
        Ok(Selection {
            ids: self.to_ids(&direct),
            warnings,
        })
    }

    /// Union of the space-separated criteria, each an intersection.
    fn eval_union(
        &self,
        parsed: &Parsed,
        mode: IndirectSelection,
        warnings: &mut Vec<String>,
    ) -> Result<Bundle, SelectorError> {
        let mut bundles = Vec::with_capacity(parsed.len());
        for (raw, parts) in parsed {
            let mut inner = Vec::with_capacity(parts.len());
            for criterion in parts {
                inner.push(self.eval_criterion(raw, criterion, mode)?);
            }
            let bundle = self.combine(inner, SetOp::Intersection, mode);
            if bundle.direct.is_empty() {
                warnings.push(format!(
                    "The selection criterion '{raw}' does not match any enabled nodes"
                ));
            }
            bundles.push(bundle);
        }
        Ok(self.combine(bundles, SetOp::Union, mode))
    }

    /// dbt's set combination of component selections: direct sets combine,
    /// pending (indirect) sets combine with their direct sets, and pending
    /// tests whose parents are now selected are incorporated.
    fn combine(&self, bundles: Vec<Bundle>, op: SetOp, mode: IndirectSelection) -> Bundle {
        let mut direct: Option<NodeSet> = None;
        let mut indirect: Option<NodeSet> = None;
        for bundle in bundles {
            let mut all = bundle.indirect;
            all.union_with(&bundle.direct);
            match (&mut direct, &mut indirect) {
                (Some(d), Some(i)) => match op {
                    SetOp::Union => {
                        d.union_with(&bundle.direct);
                        i.union_with(&all);
                    }
                    SetOp::Intersection => {
                        d.intersect_with(&bundle.direct);
                        i.intersect_with(&all);
                    }
                },
                _ => {
                    direct = Some(bundle.direct);
                    indirect = Some(all);
                }
            }
        }
        let direct = direct.unwrap_or_else(|| NodeSet::new(self.len()));
        let indirect = indirect.unwrap_or_else(|| NodeSet::new(self.len()));
        let direct = self.incorporate_indirect(direct, &indirect, mode);
        Bundle { direct, indirect }
    }

    /// dbt's `incorporate_indirect_nodes`.
    fn incorporate_indirect(&self, mut direct: NodeSet, pending: &NodeSet, mode: IndirectSelection) -> NodeSet {
        let allowed = match mode {
            IndirectSelection::Eager | IndirectSelection::Empty => return direct,
            IndirectSelection::Cautious => direct.clone(),
            IndirectSelection::Buildable => {
                let mut allowed = self.reach(&direct, Direction::Incoming, None);
                allowed.union_with(&direct);
                allowed
            }
        };
        for ix in pending.iter() {
            if !direct.contains(ix) && self.parents_within(ix, &allowed) {
                direct.insert(ix);
            }
        }
        direct
    }

    fn parents_within(&self, ix: NodeIndex, set: &NodeSet) -> bool {
        self.graph
            .neighbors_directed(ix, Direction::Incoming)
            .all(|p| set.contains(p))
    }

    /// One criterion: method match, graph operators, indirect test expansion.
    fn eval_criterion(
        &self,
        raw: &str,
        criterion: &Criterion,
        mode: IndirectSelection,
    ) -> Result<Bundle, SelectorError> {
        let collected = self.collect(raw, criterion)?;
        let mut selected = collected.clone();
        if criterion.childrens_parents {
            let mut base = self.reach(&collected, Direction::Outgoing, None);
            base.union_with(&collected);
            let parents = self.reach(&base, Direction::Incoming, None);
            selected.union_with(&base);
            selected.union_with(&parents);
        }
        if let Some(depth) = criterion.parents {
            selected.union_with(&self.reach(&collected, Direction::Incoming, depth));
        }
        if let Some(depth) = criterion.children {
            selected.union_with(&self.reach(&collected, Direction::Outgoing, depth));
        }
        if mode == IndirectSelection::Empty {
            return Ok(Bundle {
                direct: selected,
                indirect: NodeSet::new(self.len()),
            });
        }
        Ok(self.expand_tests(selected, mode))
    }

    /// dbt's `expand_selection`: tests that are children of selected nodes.
    fn expand_tests(&self, selected: NodeSet, mode: IndirectSelection) -> Bundle {
        let buildable = (mode == IndirectSelection::Buildable).then(|| {
            let mut set = self.reach(&selected, Direction::Incoming, None);
            set.union_with(&selected);
            for ix in self.graph.node_indices() {
                if self.graph[ix].resource_type == ResourceKind::Source {
                    set.insert(ix);
                }
            }
            set
        });
        let mut direct = selected.clone();
        let mut indirect = NodeSet::new(self.len());
        let mut seen = NodeSet::new(self.len());
        for ix in selected.iter() {
            for child in self.graph.neighbors_directed(ix, Direction::Outgoing) {
                if seen.contains(child)
                    || selected.contains(child)
                    || !matches!(
                        self.graph[child].resource_type,
                        ResourceKind::Test | ResourceKind::UnitTest
                    )
                {
                    continue;
                }
                seen.insert(child);
                let add = mode == IndirectSelection::Eager
                    || self.parents_within(child, &selected)
                    || buildable.as_ref().is_some_and(|set| self.parents_within(child, set));
                if add {
                    direct.insert(child);
                } else {
                    indirect.insert(child);
                }
            }
        }
        Bundle { direct, indirect }
    }

    /// The nodes a criterion's method matches, before graph operators.
    fn collect(&self, raw: &str, criterion: &Criterion) -> Result<NodeSet, SelectorError> {
        let value = criterion.value.as_str();
        let glob = Glob::new(value);
        let is_source = |n: &DagNode| n.resource_type == ResourceKind::Source;
        let matcher: Box<dyn Fn(&DagNode) -> bool + '_> = match &criterion.method {
            Method::Fqn => {
                let name_glob = has_wildcard(value) && !value.contains('.');
                let selector = FqnSelector::new(value);
                Box::new(move |n: &DagNode| {
                    !is_source(n)
                        && (n.name == value
                            || selector.matches(&n.fqn)
                            || selector.matches(n.fqn.get(1..).unwrap_or_default())
                            || (name_glob && glob.is_match(&n.name)))
                })
            }
            Method::Tag => Box::new(move |n: &DagNode| n.tags.iter().any(|t| glob.is_match(t))),
            Method::Path => {
                let pattern = PathPattern::new(value);
                Box::new(move |n: &DagNode| pattern.matches_file_or_parent(&n.path))
            }
            Method::File => Box::new(move |n: &DagNode| {
                let (name, stem) = file_name_and_stem(&n.path);
                glob.is_match(name) || glob.is_match(stem)
            }),
            Method::ResourceType => {
                if !DBT_RESOURCE_TYPES.contains(&value) {
                    return Err(err(
                        raw,
                        format!("invalid resource_type '{value}'; expected one of: model, seed, snapshot, test, source, analysis"),
                    ));
                }
                Box::new(move |n: &DagNode| n.resource_type.as_str() == value)
            }
            Method::Source => {
                let parts: Vec<&str> = value.split('.').collect();
                let (package, source, table) = match parts.as_slice() {
                    [source] => ("*", *source, "*"),
                    [source, table] => ("*", *source, *table),
                    [package, source, table] => (*package, *source, *table),
                    _ => {
                        return Err(err(
                            raw,
                            "sources must be selected as 'source:source_name', \
                             'source:source_name.table_name' or \
                             'source:package.source_name.table_name'",
                        ))
                    }
                };
                let (package, source, table) = (Glob::new(package), Glob::new(source), Glob::new(table));
                Box::new(move |n: &DagNode| {
                    is_source(n)
                        && package.is_match(&n.package)
                        && source.is_match(n.source_name.as_deref().unwrap_or_default())
                        && table.is_match(&n.name)
                })
            }
            Method::Config(key) => {
                let key = key.as_str();
                let case_insensitive = key == "severity";
                let boolean = value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false");
                Box::new(move |n: &DagNode| {
                    let found = n
                        .config
                        .get(key)
                        .map(String::as_str)
                        .or_else(|| (key == "materialized").then_some(n.materialized.as_deref()).flatten());
                    found
                        .is_some_and(|v| v == value || ((case_insensitive || boolean) && v.eq_ignore_ascii_case(value)))
                })
            }
            Method::TestType if value == "unit" => Box::new(|n: &DagNode| n.resource_type == ResourceKind::UnitTest),
            Method::TestType => {
                let (generic, singular) = match value {
                    "generic" | "schema" => (true, false),
                    "singular" => (false, true),
                    "data" => (true, true),
                    _ => {
                        return Err(err(
                            raw,
                            format!(
                            "invalid test type '{value}': expected \"generic\", \"singular\", \"unit\", or \"data\""
                        ),
                        ))
                    }
                };
                Box::new(move |n: &DagNode| {
                    n.resource_type == ResourceKind::Test
                        && match n.test_kind {
                            Some(TestKind::Generic { .. }) => generic,
                            Some(TestKind::Singular) => singular,
                            None => false,
                        }
                })
            }
            Method::TestName => Box::new(move |n: &DagNode| {
                n.resource_type == ResourceKind::Test
                    && matches!(&n.test_kind, Some(TestKind::Generic { name }) if glob.is_match(name))
            }),
            Method::Package => Box::new(move |n: &DagNode| glob.is_match(&n.package)),
            Method::Exposure => {
                Box::new(move |n: &DagNode| n.resource_type == ResourceKind::Exposure && glob.is_match(&n.name))
            }
            Method::Group => {
                Box::new(move |n: &DagNode| !is_source(n) && n.config.get("group").is_some_and(|g| g == value))
            }
            Method::Access => Box::new(move |n: &DagNode| {
                n.resource_type == ResourceKind::Model && n.config.get("access").is_some_and(|a| a == value)
            }),
            Method::State => Box::new(move |n: &DagNode| n.state.contains(value)),
            Method::Result => Box::new(move |n: &DagNode| n.result.as_deref() == Some(value)),
            Method::SourceStatus => Box::new(move |n: &DagNode| n.source_status.as_deref() == Some(value)),
        };
        let mut set = NodeSet::new(self.len());
        for ix in self.graph.node_indices() {
            if matcher(&self.graph[ix]) {
                set.insert(ix);
            }
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests;
