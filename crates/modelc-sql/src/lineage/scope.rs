//! What a `SELECT`'s expressions can see: the `FROM` items ([`Source`]),
//! `USING` join columns, enclosing queries ([`Scope`]), and how a column
//! reference is resolved against them ([`resolve`]).

use std::rc::Rc;

use sqlparser::ast::{Ident, NamedWindowDefinition, ObjectName, TableAlias};

use super::value::{describe_all, Col, Lin, Name, Unknown};
use super::Transform;
use crate::relations::relation_name;
use crate::RelationName;

/// What a `FROM` item provides.
#[derive(Debug)]
pub(super) enum SourceKind {
    /// A real relation with columns from the catalog; `renamed` holds alias
    /// names (`t AS x(a, b)`) for the first columns.
    Table {
        rel: Rc<RelationName>,
        columns: Vec<Name>,
        /// The columns' types, where the catalog knows them.
        types: Vec<Option<crate::Ty>>,
        renamed: Vec<Name>,
        /// The columns are all the relation has (see [`crate::Catalog::complete`]).
        complete: bool,
    },
    /// A CTE, derived table, or table function with an alias column list.
    Derived(Rc<[Col]>),
    /// Columns unknown.
    Unknown(Unknown),
}

/// One `FROM` item in scope.
#[derive(Debug)]
pub(super) struct Source {
    /// The name usable to qualify its columns: alias, CTE or table name.
    pub(super) qualifier: Option<Rc<RelationName>>,
    pub(super) kind: SourceKind,
    /// The right side of a semi or anti join: not part of `*`.
    pub(super) hidden: bool,
}

/// Whether a source has a column, with the column's lineage if it may.
pub(super) enum Lookup {
    /// The source has the column.
    Found(Lin),
    /// The source's columns are (partly) unknown: it may have the column.
    Maybe(Lin),
    /// The source does not have the column.
    Missing,
}

impl Source {
    pub(super) fn qualified_by(&self, qualifier: &[Ident]) -> bool {
        self.qualifier
            .as_ref()
            .is_some_and(|q| crate::name::suffix_matches(&q.parts, qualifier.iter().map(|i| i.value.as_str())))
    }

    pub(super) fn lookup(&self, name: &str) -> Lookup {
        match &self.kind {
            SourceKind::Table {
                rel,
                columns,
                types,
                renamed,
                complete,
            } => match columns
                .iter()
                .enumerate()
                .find(|(i, c)| renamed.get(*i).unwrap_or(c).eq_ignore_ascii_case(name))
            {
                Some((i, c)) => Lookup::Found(Lin::direct(rel, c, types.get(i).and_then(Option::as_ref))),
                None if *complete => Lookup::Missing,
                None => Lookup::Maybe(Lin::direct(rel, &Name::from(name), None)),
            },
            SourceKind::Derived(cols) => {
                if let Some(col) = cols.iter().find(|c| !c.is_star() && c.name.eq_ignore_ascii_case(name)) {
                    return Lookup::Found(col.lin.clone());
                }
                let mut unknowns = cols.iter().flat_map(|c| &c.star);
                match (unknowns.next(), unknowns.next()) {
                    (None, _) => Lookup::Missing,
                    (Some(u), None) => Lookup::Maybe(u.column(name)),
                    (Some(_), Some(_)) => Lookup::Maybe(Lin::unresolved(format!(
                        "column {name} may come from any of {}",
                        describe_all(cols.iter().flat_map(|c| &c.star))
                    ))),
                }
            }
            SourceKind::Unknown(u) => Lookup::Maybe(u.column(name)),
        }
    }

    /// Its columns for `*`, in order.
    pub(super) fn columns(&self) -> Vec<Col> {
        match &self.kind {
            SourceKind::Table {
                rel,
                columns,
                types,
                renamed,
                ..
            } => columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let ty = types.get(i).and_then(Option::as_ref);
                    Col::new(Rc::clone(renamed.get(i).unwrap_or(c)), Lin::direct(rel, c, ty))
                })
                .collect(),
            SourceKind::Derived(cols) => cols.to_vec(),
            SourceKind::Unknown(u) => vec![Col::placeholder(u.clone())],
        }
    }

    pub(super) fn describe(&self) -> String {
        match (&self.qualifier, &self.kind) {
            (_, SourceKind::Unknown(u)) => u.describe(),
            (Some(q), _) => q.to_string(),
            (None, _) => "a subquery".to_owned(),
        }
    }

    /// [`Source::describe`], with the relation an alias stands for: `o (orders)`.
    fn describe_with_relation(&self) -> String {
        match (&self.qualifier, &self.kind) {
            (Some(q), SourceKind::Table { rel, .. }) if q.parts != rel.parts => format!("{q} ({rel})"),
            _ => self.describe(),
        }
    }
}

/// A `JOIN ... USING (column)` (or `NATURAL JOIN`) column: one column for
/// `*` and unqualified references, fed by all `members`.
#[derive(Debug)]
pub(super) struct Using {
    pub(super) column: String,
    pub(super) members: Vec<usize>,
    /// Which left-side relation has the column could not be determined.
    pub(super) ambiguous: bool,
}

/// The relations visible to expressions of one `SELECT`, and (as `parent`)
/// those of enclosing queries.
pub(super) struct Scope<'s> {
    pub(super) sources: &'s [Source],
    pub(super) using: &'s [Using],
    pub(super) parent: Option<&'s Scope<'s>>,
}

/// Everything an expression in a select item can refer to.
#[derive(Clone, Copy)]
pub(super) struct Cx<'s> {
    pub(super) scope: &'s Scope<'s>,
    /// Select items before this one (DuckDB lateral column aliases).
    pub(super) aliases: &'s [Col],
    pub(super) windows: &'s [NamedWindowDefinition],
    /// Where references to columns no relation in scope has are recorded.
    pub(super) missing: &'s Missing,
}

/// Column references that resolve to nothing, though every relation they could
/// come from has known columns: the query is wrong.
#[derive(Debug, Default)]
pub(super) struct Missing(
    std::cell::RefCell<Vec<crate::MissingColumn>>,
    std::cell::RefCell<Vec<crate::SetMismatch>>,
    std::cell::RefCell<Vec<crate::TypeProblem>>,
);

impl Missing {
    /// Records a mistake the types reveal.
    pub(super) fn problem(&self, p: crate::TypeProblem) {
        self.2.borrow_mut().push(p);
    }

    /// Every type problem recorded, once each, in the order of the SQL.
    pub(super) fn take_problems(&self) -> Vec<crate::TypeProblem> {
        let mut all = std::mem::take(&mut *self.2.borrow_mut());
        all.sort_by(|a, b| (a.line, a.column_number, &a.message).cmp(&(b.line, b.column_number, &b.message)));
        all.dedup();
        all
    }

    /// Records a set operation whose sides have different numbers of columns.
    pub(super) fn mismatch(&self, m: crate::SetMismatch) {
        self.1.borrow_mut().push(m);
    }

    /// Every set operation recorded, in the order of the SQL.
    pub(super) fn take_mismatches(&self) -> Vec<crate::SetMismatch> {
        let mut all = std::mem::take(&mut *self.1.borrow_mut());
        all.sort_by_key(|m| (m.line, m.column_number));
        all
    }

    fn record(&self, ident: &Ident, searched: &[&Source]) {
        let candidates = searched
            .iter()
            .flat_map(|s| s.columns())
            .filter(|c| !c.is_star())
            .map(|c| c.name.to_string())
            .collect();
        let searched = searched.iter().map(|s| s.describe_with_relation()).collect::<Vec<_>>();
        self.push(ident, searched.join(", "), candidates);
    }

    /// Records `ident`, looked for in `searched`, which has `candidates`.
    pub(super) fn push(&self, ident: &Ident, searched: String, candidates: Vec<String>) {
        let start = ident.span.start;
        self.0.borrow_mut().push(crate::MissingColumn {
            column: ident.value.clone(),
            searched,
            candidates,
            line: start.line as usize,
            column_number: start.column as usize,
        });
    }

    /// Every reference recorded, once each, in the order of the SQL.
    pub(super) fn take(&self) -> Vec<crate::MissingColumn> {
        let mut all = std::mem::take(&mut *self.0.borrow_mut());
        all.sort_by(|a, b| (a.line, a.column_number, &a.column).cmp(&(b.line, b.column_number, &b.column)));
        all.dedup();
        all
    }
}

pub(super) fn function_source(name: &ObjectName, lin: Lin, alias: Option<&TableAlias>) -> Source {
    let rel = relation_name(name);
    opaque(rel.table(), format!("table function {rel}"), lin, alias)
}

/// A table function (or `UNNEST`) source named `name` (its default
/// qualifier), described as `what`. `unnest` is understood: its columns are
/// computed from its arguments' columns. Other functions are opaque: their
/// columns get the arguments' sources and are marked unresolved.
pub(super) fn opaque(name: &str, what: String, mut lin: Lin, alias: Option<&TableAlias>) -> Source {
    if name.eq_ignore_ascii_case("unnest") {
        if !lin.sources.is_empty() || lin.unresolved.is_some() {
            lin.transform = Transform::Expression;
        }
    } else {
        lin.transform = Transform::Direct;
        lin.add_reason(&format!("read from {what}"));
    }
    let qualifier = Rc::new(RelationName::new(vec![name.to_owned()]));
    with_alias(
        SourceKind::Unknown(Unknown::Opaque { what, lin }),
        Some(qualifier),
        alias,
    )
}

/// A source named by its alias if any (else `default`), with columns renamed
/// by an alias column list.
pub(super) fn with_alias(kind: SourceKind, default: Option<Rc<RelationName>>, alias: Option<&TableAlias>) -> Source {
    let Some(alias) = alias else {
        return Source {
            qualifier: default,
            kind,
            hidden: false,
        };
    };
    let kind = if alias.columns.is_empty() {
        kind
    } else {
        match kind {
            SourceKind::Table {
                rel,
                columns,
                types,
                complete,
                ..
            } => SourceKind::Table {
                rel,
                columns,
                types,
                renamed: alias.columns.iter().map(|c| c.name.value.as_str().into()).collect(),
                complete,
            },
            SourceKind::Derived(cols) => {
                let mut cols = cols.to_vec();
                rename(&mut cols, alias);
                SourceKind::Derived(cols.into())
            }
            SourceKind::Unknown(unknown) => {
                // The alias names the columns, but for a real relation with
                // unknown columns which underlying column each one renames is
                // unknown too.
                let lin = match &unknown {
                    Unknown::Relation(rel) => Lin::unresolved(format!(
                        "columns of {rel} are unknown, so its alias column list cannot be mapped"
                    )),
                    Unknown::Opaque { lin, .. } => lin.clone(),
                    Unknown::Recursive(_) => Lin::new(Transform::Literal),
                };
                SourceKind::Derived(
                    alias
                        .columns
                        .iter()
                        .map(|c| Col::new(c.name.value.clone(), lin.clone()))
                        .collect(),
                )
            }
        }
    };
    Source {
        qualifier: Some(Rc::new(RelationName::new(vec![alias.name.value.clone()]))),
        kind,
        hidden: false,
    }
}

/// Renames columns positionally by an alias column list (`x(a, b)`). Only
/// columns before any `*` placeholder can be renamed.
pub(super) fn rename(cols: &mut [Col], alias: &TableAlias) {
    for (col, new) in cols.iter_mut().take_while(|c| !c.is_star()).zip(&alias.columns) {
        col.name = new.name.value.as_str().into();
    }
}

/// Records that `column` of the `right` item(s) is joined by `USING` to the
/// same column on the `left`.
pub(super) fn add_using(
    column: &str,
    sources: &[Source],
    using: &mut Vec<Using>,
    left: std::ops::Range<usize>,
    right: std::ops::Range<usize>,
) {
    let (right_members, right_ambiguous) = candidates(sources, right, column);
    // An earlier USING on the same column already merged the left side.
    if let Some(existing) = using
        .iter_mut()
        .find(|u| u.column.eq_ignore_ascii_case(column) && u.members.iter().all(|m| left.contains(m)))
    {
        existing.members.extend(right_members);
        existing.ambiguous |= right_ambiguous;
        return;
    }
    let (mut members, left_ambiguous) = candidates(sources, left, column);
    members.extend(right_members);
    using.push(Using {
        column: column.to_owned(),
        members,
        ambiguous: left_ambiguous || right_ambiguous,
    });
}

/// The items in `range` that have `column`: the one known to have it, else
/// the one that may have it; several means ambiguous (all are returned).
pub(super) fn candidates(sources: &[Source], range: std::ops::Range<usize>, column: &str) -> (Vec<usize>, bool) {
    let mut found = Vec::new();
    let mut maybe = Vec::new();
    for i in range {
        match sources.get(i).map(|s| s.lookup(column)) {
            Some(Lookup::Found(_)) => found.push(i),
            Some(Lookup::Maybe(_)) => maybe.push(i),
            _ => {}
        }
    }
    let chosen = if found.is_empty() { maybe } else { found };
    let ambiguous = chosen.len() != 1;
    (chosen, ambiguous)
}

pub(super) fn using_lin(scope: &Scope<'_>, using: &Using) -> Lin {
    let mut lin = Lin::new(Transform::Direct);
    for &m in &using.members {
        if let Some(Lookup::Found(l) | Lookup::Maybe(l)) = scope.sources.get(m).map(|s| s.lookup(&using.column)) {
            lin.merge(l);
        }
    }
    if using.ambiguous {
        lin.add_reason(&format!(
            "USING column {} could not be matched to one relation per side",
            using.column
        ));
    }
    lin
}

/// Resolves a column reference (`a`, `t.a`, `s.t.a`, `db.s.t.a`, or a struct
/// field access `a.f`, `t.a.f`).
pub(super) fn resolve(parts: &[Ident], cx: Cx<'_>) -> Lin {
    let Some(first) = parts.first() else {
        return Lin::unresolved("empty column reference".to_owned());
    };
    let n = parts.len();
    let mut lin = None;
    if n > 1 {
        // Longest qualifier first, innermost query first.
        let mut scope = Some(cx.scope);
        'levels: while let Some(sc) = scope {
            for k in (1..n).rev() {
                if let Some(source) = sc.sources.iter().find(|s| s.qualified_by(&parts[..k])) {
                    let column = &parts[k].value;
                    let found = match source.lookup(column) {
                        Lookup::Found(l) | Lookup::Maybe(l) => l,
                        Lookup::Missing => {
                            cx.missing.record(&parts[k], &[source]);
                            Lin::unresolved(format!("column {column} not found in {}", source.describe()))
                        }
                    };
                    lin = Some((found, k + 1 < n));
                    break 'levels;
                }
            }
            scope = sc.parent;
        }
    }
    let (mut lin, field) = lin.unwrap_or_else(|| (unqualified(first, cx), n > 1));
    if field {
        lin.transform = lin.transform.max(Transform::Expression);
        lin.typed = crate::types::Typed::unknown();
    }
    lin
}

pub(super) fn unqualified(ident: &Ident, cx: Cx<'_>) -> Lin {
    let name = ident.value.as_str();
    let mut searched: Vec<&Source> = Vec::new();
    let mut scope = Some(cx.scope);
    let mut innermost = true;
    while let Some(sc) = scope {
        if let Some(u) = sc.using.iter().find(|u| u.column.eq_ignore_ascii_case(name)) {
            return using_lin(sc, u);
        }
        let mut found = Vec::new();
        let mut maybe = Vec::new();
        for source in sc.sources {
            match source.lookup(name) {
                Lookup::Found(l) => found.push((source, l)),
                Lookup::Maybe(l) => maybe.push((source, l)),
                Lookup::Missing => searched.push(source),
            }
        }
        if found.len() > 1 {
            return Lin::unresolved(format!("column {name} is ambiguous: {}", describe_sources(&found)));
        }
        if let Some((_, lin)) = found.pop() {
            return lin;
        }
        if innermost {
            if let Some(col) = cx
                .aliases
                .iter()
                .rev()
                .find(|c| !c.is_star() && c.name.eq_ignore_ascii_case(name))
            {
                return col.lin.clone();
            }
        }
        if maybe.len() > 1 {
            return Lin::unresolved(format!(
                "column {name} may come from any of {}",
                describe_sources(&maybe)
            ));
        }
        if let Some((_, lin)) = maybe.pop() {
            return lin;
        }
        innermost = false;
        scope = sc.parent;
    }
    // Only a query that reads relations can miss a column: with nothing in
    // scope, the name may be one the parser took for a column (a keyword).
    if !searched.is_empty() {
        cx.missing.record(ident, &searched);
    }
    Lin::unresolved(format!("column {name} not found"))
}

pub(super) fn describe_sources(candidates: &[(&Source, Lin)]) -> String {
    candidates
        .iter()
        .map(|(s, _)| s.describe())
        .collect::<Vec<_>>()
        .join(", ")
}
