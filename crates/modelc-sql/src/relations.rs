//! Which real relations a statement reads: every table factor anywhere in the
//! statement (`FROM`, joins, subqueries, CTE bodies, set-operation branches,
//! `IN (subquery)`, `EXISTS`, lateral joins...), minus CTE references, table
//! functions and file reads.
//!
//! One [`Visitor`] pass over the AST. CTE scoping follows SQL: the body of
//! the i-th CTE of a `WITH` sees only the CTEs before it (and itself when
//! `RECURSIVE`), so `WITH orders AS (SELECT * FROM orders)` reads the real
//! `orders` table; the main body sees all of them.

use std::ops::ControlFlow;

use sqlparser::ast::{Ident, ObjectName, ObjectNamePart, Query, TableFactor, Visit, Visitor};

use crate::parse::ParsedQuery;
use crate::RelationName;

/// A relation read by a query, with the position of its first occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationRef {
    /// The name as written.
    pub name: RelationName,
    /// 1-based line of the name's first part, 0 if unknown.
    pub line: u64,
    /// 1-based column of the name's first part, 0 if unknown.
    pub column: u64,
}

impl ParsedQuery {
    /// Real relations read by the statement, de-duplicated (case-insensitively,
    /// on the full name as written) and ordered by first appearance in the
    /// text, each with the position of that first appearance.
    ///
    /// Excludes names of CTEs in scope, table functions (`read_csv(...)`,
    /// `range(...)`, `unnest(...)`: any `name(args)` in `FROM`), file reads
    /// written as string literals (`FROM 'data.parquet'`) and aliases.
    /// For statements other than queries, every table factor counts, so e.g.
    /// the table of a `DELETE FROM t` is included but an `INSERT` target is not.
    pub fn relations(&self) -> Vec<RelationRef> {
        let mut collector = Collector::default();
        let _ = self.statement.visit(&mut collector);
        let mut found = collector.found;
        // The visitor walks fields in declaration order (the select list before
        // FROM); sort into textual order. The sort is stable, so references
        // without a position keep their relative order at the front.
        found.sort_by_key(|r| (r.line, r.column));
        let mut out: Vec<RelationRef> = Vec::with_capacity(found.len());
        for r in found {
            if !out.iter().any(|o| same_name(&o.name, &r.name)) {
                out.push(r);
            }
        }
        out
    }
}

fn same_name(a: &RelationName, b: &RelationName) -> bool {
    a.parts.len() == b.parts.len() && a.parts.iter().zip(&b.parts).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// CTE names introduced by one `WITH`.
struct Frame {
    /// The query owning the `WITH`.
    owner: *const Query,
    /// CTE names, in order.
    names: Vec<String>,
    /// The CTE bodies, in order, to notice when one starts or ends.
    bodies: Vec<*const Query>,
    recursive: bool,
    /// How many of `names` are in scope right now.
    visible: usize,
}

#[derive(Default)]
struct Collector {
    frames: Vec<Frame>,
    found: Vec<RelationRef>,
}

impl Collector {
    fn is_cte(&self, name: &str) -> bool {
        self.frames
            .iter()
            .any(|f| f.names[..f.visible].iter().any(|n| n.eq_ignore_ascii_case(name)))
    }
}

impl Visitor for Collector {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        let ptr: *const Query = query;
        // Entering the body of a CTE of the innermost WITH: it sees the CTEs
        // before it (and itself if recursive).
        if let Some(frame) = self.frames.last_mut() {
            if let Some(i) = frame.bodies.iter().position(|b| *b == ptr) {
                frame.visible = i + usize::from(frame.recursive);
            }
        }
        if let Some(with) = &query.with {
            self.frames.push(Frame {
                owner: ptr,
                names: with.cte_tables.iter().map(|c| c.alias.name.value.clone()).collect(),
                bodies: with.cte_tables.iter().map(|c| &*c.query as *const Query).collect(),
                recursive: with.recursive,
                visible: 0,
            });
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        let ptr: *const Query = query;
        if self.frames.last().is_some_and(|f| f.owner == ptr) {
            self.frames.pop();
        }
        // Leaving a CTE body: it is in scope for what follows.
        if let Some(frame) = self.frames.last_mut() {
            if let Some(i) = frame.bodies.iter().position(|b| *b == ptr) {
                frame.visible = i + 1;
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        let TableFactor::Table { name, args: None, .. } = factor else {
            return ControlFlow::Continue(());
        };
        if let [ObjectNamePart::Identifier(ident)] = name.0.as_slice() {
            if is_file_literal(ident) || self.is_cte(&ident.value) {
                return ControlFlow::Continue(());
            }
        }
        let (line, column) = name
            .0
            .first()
            .and_then(ObjectNamePart::as_ident)
            .map_or((0, 0), |i| (i.span.start.line, i.span.start.column));
        self.found.push(RelationRef {
            name: relation_name(name),
            line,
            column,
        });
        ControlFlow::Continue(())
    }
}

/// DuckDB reads `FROM 'file.csv'` as a file scan, not a table.
pub(crate) fn is_file_literal(ident: &Ident) -> bool {
    ident.quote_style == Some('\'')
}

/// The parts of an object name as written (unquoted).
pub(crate) fn relation_name(name: &ObjectName) -> RelationName {
    RelationName::new(
        name.0
            .iter()
            .map(|part| match part {
                ObjectNamePart::Identifier(ident) => ident.value.clone(),
                other => other.to_string(),
            })
            .collect(),
    )
}
