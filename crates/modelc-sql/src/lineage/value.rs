//! The values lineage analysis computes: the lineage of one value ([`Lin`]),
//! a column under analysis ([`Col`]), and relations with unknown columns
//! ([`Unknown`]).

use std::rc::Rc;

use super::{ColumnSource, OutputColumn, Transform};
use crate::types::{Ty, Typed};
use crate::RelationName;

/// A name shared by reference counting: names are copied around a lot
/// (every `*` expansion, every read through a CTE), so avoid allocating.
pub(super) type Name = Rc<str>;

/// [`ColumnSource`] while analyzing, cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Src {
    pub(super) relation: Rc<RelationName>,
    pub(super) column: Name,
}

/// The lineage of a value: what it reads and how, and its type.
#[derive(Debug, Clone)]
pub(super) struct Lin {
    pub(super) sources: Vec<Src>,
    pub(super) transform: Transform,
    pub(super) unresolved: Option<String>,
    pub(super) typed: Typed,
}

impl Lin {
    pub(super) fn new(transform: Transform) -> Lin {
        Lin {
            sources: Vec::new(),
            transform,
            unresolved: None,
            typed: Typed::unknown(),
        }
    }

    /// A real relation's column, of type `ty` when known.
    pub(super) fn direct(relation: &Rc<RelationName>, column: &Name, ty: Option<&Ty>) -> Lin {
        Lin {
            sources: vec![Src {
                relation: Rc::clone(relation),
                column: Rc::clone(column),
            }],
            transform: Transform::Direct,
            unresolved: None,
            typed: ty.map_or_else(Typed::unknown, |t| Typed::of(t.clone())),
        }
    }

    pub(super) fn unresolved(reason: String) -> Lin {
        Lin {
            sources: Vec::new(),
            transform: Transform::Direct,
            unresolved: Some(reason),
            typed: Typed::unknown(),
        }
    }

    /// Adds `other`'s sources and reasons, keeping the stronger transform; the
    /// type stays only when both have it.
    pub(super) fn merge(&mut self, other: Lin) {
        if self.typed != other.typed {
            self.typed = Typed::unknown();
        }
        self.transform = self.transform.max(other.transform);
        self.add_sources(other.sources);
        if let Some(reason) = other.unresolved {
            self.add_reason(&reason);
        }
    }

    pub(super) fn add_sources(&mut self, sources: Vec<Src>) {
        if self.sources.is_empty() {
            self.sources = sources;
        } else if !sources.is_empty() {
            self.sources.extend(sources);
            self.sources.sort_unstable();
            self.sources.dedup();
        }
    }

    pub(super) fn add_reason(&mut self, reason: &str) {
        match &mut self.unresolved {
            None => self.unresolved = Some(reason.to_owned()),
            Some(existing) => {
                if !existing.split("; ").any(|r| r == reason) {
                    existing.push_str("; ");
                    existing.push_str(reason);
                }
            }
        }
    }
}

/// A relation (or relation-like thing) whose columns are not known.
#[derive(Debug, Clone)]
pub(super) enum Unknown {
    /// A real relation the catalog does not know.
    Relation(Rc<RelationName>),
    /// A table function, file read, `PIVOT`...: each of its columns has `lin`.
    Opaque { what: String, lin: Lin },
    /// A recursive CTE referring to itself.
    Recursive(String),
}

impl Unknown {
    /// The lineage of column `name` read from it.
    pub(super) fn column(&self, name: &str) -> Lin {
        match self {
            Unknown::Relation(rel) => Lin::direct(rel, &name.into(), None),
            Unknown::Opaque { lin, .. } => lin.clone(),
            Unknown::Recursive(_) => Lin::new(Transform::Literal),
        }
    }

    pub(super) fn describe(&self) -> String {
        match self {
            Unknown::Relation(rel) => rel.to_string(),
            Unknown::Opaque { what, .. } => what.clone(),
            Unknown::Recursive(name) => format!("recursive CTE {name}"),
        }
    }
}

/// A column under analysis. `star` is non-empty for an unexpanded `*`
/// placeholder standing for all columns of those unknown relations.
#[derive(Debug, Clone)]
pub(super) struct Col {
    pub(super) name: Name,
    pub(super) lin: Lin,
    pub(super) star: Vec<Unknown>,
}

impl Col {
    pub(super) fn new(name: impl Into<Name>, lin: Lin) -> Col {
        Col {
            name: name.into(),
            lin,
            star: Vec::new(),
        }
    }

    /// A `*` standing for the columns of `unknown`. It keeps the sources of
    /// an opaque item (e.g. a table function's arguments); its reason is
    /// added by [`Col::finish`].
    pub(super) fn placeholder(unknown: Unknown) -> Col {
        let mut lin = Lin::new(Transform::Direct);
        if let Unknown::Opaque { lin: inner, .. } = &unknown {
            lin.sources.clone_from(&inner.sources);
        }
        Col {
            name: "*".into(),
            lin,
            star: vec![unknown],
        }
    }

    pub(super) fn is_star(&self) -> bool {
        !self.star.is_empty()
    }

    pub(super) fn finish(self) -> OutputColumn {
        let Col { name, mut lin, star } = self;
        lin.sources.sort_unstable();
        lin.sources.dedup();
        if !star.is_empty() {
            let list: Vec<String> = star.iter().map(Unknown::describe).collect();
            let reason = format!("columns of {} are unknown", list.join(", "));
            lin.unresolved = Some(match lin.unresolved {
                Some(rest) => format!("{reason}; {rest}"),
                None => reason,
            });
        }
        OutputColumn {
            name: name.to_string(),
            sources: lin
                .sources
                .into_iter()
                .map(|s| ColumnSource {
                    relation: RelationName::clone(&s.relation),
                    column: s.column.to_string(),
                })
                .collect(),
            transform: lin.transform,
            unresolved: lin.unresolved,
            data_type: lin.typed.ty.filter(|t| *t != Ty::Null),
        }
    }
}

/// Appends `col`, merging adjacent `*` placeholders into one.
pub(super) fn push_col(cols: &mut Vec<Col>, col: Col) {
    if col.is_star() {
        if let Some(last) = cols.last_mut().filter(|c| c.is_star()) {
            last.star.extend(col.star);
            last.lin.merge(col.lin);
            return;
        }
    }
    cols.push(col);
}

pub(super) fn describe_all<'a>(unknowns: impl Iterator<Item = &'a Unknown>) -> String {
    unknowns.map(Unknown::describe).collect::<Vec<_>>().join(", ")
}

/// Combines the columns of two set-operation branches: positionally, or by
/// name for DuckDB's `UNION [ALL] BY NAME`. Names come from the left branch.
/// If either branch has unknown columns, the result is a single `*`.
pub(super) fn combine(mut left: Vec<Col>, right: Vec<Col>, by_name: bool) -> Vec<Col> {
    if left.iter().chain(&right).any(Col::is_star) {
        let mut star: Option<Col> = None;
        for col in left.into_iter().chain(right) {
            match &mut star {
                None if col.is_star() => star = Some(col),
                Some(s) => {
                    s.star.extend(col.star);
                    s.lin.merge(col.lin);
                }
                None => {
                    // Keep the known columns' sources; they feed some column.
                    let mut lin = Lin::new(Transform::Direct);
                    lin.merge(col.lin);
                    star = Some(Col {
                        name: "*".into(),
                        lin,
                        star: Vec::new(),
                    });
                }
            }
        }
        return star.filter(Col::is_star).into_iter().collect();
    }
    if by_name {
        for col in right {
            match left.iter_mut().find(|c| c.name.eq_ignore_ascii_case(&col.name)) {
                Some(l) => l.lin.merge(col.lin),
                None => left.push(col),
            }
        }
    } else {
        for (l, r) in left.iter_mut().zip(right) {
            l.lin.merge(r.lin);
        }
    }
    left
}
