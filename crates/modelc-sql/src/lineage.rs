//! Column-level lineage: the output columns of a query and, for each, the
//! upstream `(relation, column)` pairs that feed its value.
//!
//! The analysis is a single recursive pass over the AST ([`query`]). Each
//! `SELECT` builds a scope from its `FROM` clause (real tables, CTE
//! references, derived tables, table functions; [`scope`]), then evaluates
//! every select item in it ([`expr`]). A column read from a CTE or subquery
//! contributes that column's own lineage ([`value`]), so sources always name
//! real relations, through any depth of nesting.
//!
//! Decisions worth knowing:
//!
//! * Only the select list counts: columns used solely in `WHERE`, `JOIN ... ON`,
//!   `GROUP BY`, `HAVING`, `QUALIFY` or `ORDER BY` are not sources.
//! * Everything written inside a select item counts, including a window's
//!   `PARTITION BY`/`ORDER BY` (also through `WINDOW w AS (...)`), an
//!   aggregate's `FILTER (WHERE ...)`, and `CASE` conditions: they all decide
//!   the value. The select list of a scalar or `IN` subquery counts; the select
//!   list of an `EXISTS` subquery does not.
//! * The transform is the strongest of the expression's own kind and the
//!   kinds of the columns it reads (`Literal < Direct < Expression < Aggregate
//!   < Window`), so reading an aggregated CTE column is an aggregate too.
//! * Output names follow DuckDB for aliases and column references (the last
//!   name part, so `t.a` and struct access `s.f` give `a` and `f`). Other
//!   expressions are named by sqlparser's rendering of the expression (e.g.
//!   `x::INT`, `count(*)`), which often differs from DuckDB's (`CAST(x AS
//!   INTEGER)`, `count_star()`).
//! * An unqualified column is looked up in the `FROM` relations: the one
//!   relation known to have it wins; failing that an earlier select-list alias
//!   (DuckDB's lateral column aliases); failing that the only relation whose
//!   columns are unknown; then enclosing queries (correlated subqueries).
//!   Anything else is unresolved, never guessed.
//! * `*` over relations whose columns are unknown becomes one output column
//!   named `*` with `unresolved` set; a column later read through it by name
//!   is attributed to that relation when there is exactly one.
//! * A recursive CTE's reference to itself contributes no sources: its
//!   columns' sources come from the non-recursive branch.

use sqlparser::ast::Statement;

use crate::parse::ParsedQuery;
use crate::{Catalog, RelationName};

use query::Analyzer;
use value::Col;

/// One output column of a query, with its lineage.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutputColumn {
    /// The column's name (see the module docs for how it is derived).
    pub name: String,
    /// Upstream real-relation columns feeding the value, sorted, de-duplicated.
    pub sources: Vec<ColumnSource>,
    /// How the value is derived from `sources`.
    pub transform: Transform,
    /// Why the lineage is incomplete, if it is. `sources` then holds only the
    /// sources that are certain.
    pub unresolved: Option<String>,
    /// The column's type by DuckDB's rules, when modelc is certain of it.
    #[serde(default)]
    pub data_type: Option<crate::Ty>,
}

/// A column of a real relation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct ColumnSource {
    /// The relation, named as written in the SQL.
    pub relation: RelationName,
    /// The column, as written in the SQL or as known from the catalog.
    pub column: String,
}

/// How an output column's value is derived from its sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Transform {
    /// Passed through unchanged, possibly renamed.
    Direct,
    /// Computed: arithmetic, `CASE`, casts, scalar functions...
    Expression,
    /// Contains an aggregate function.
    Aggregate,
    /// Contains a window function.
    Window,
    /// Reads no column: a constant, or a function of constants.
    Literal,
}

impl Transform {
    /// A lowercase name: `direct`, `expression`, `aggregate`, `window`, `literal`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transform::Direct => "direct",
            Transform::Expression => "expression",
            Transform::Aggregate => "aggregate",
            Transform::Window => "window",
            Transform::Literal => "literal",
        }
    }

    /// Strength when combining: `Literal < Direct < Expression < Aggregate < Window`.
    fn rank(self) -> u8 {
        match self {
            Transform::Literal => 0,
            Transform::Direct => 1,
            Transform::Expression => 2,
            Transform::Aggregate => 3,
            Transform::Window => 4,
        }
    }

    fn max(self, other: Transform) -> Transform {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }
}

impl std::fmt::Display for Transform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ParsedQuery {
    /// Output columns of the top-level query with their lineage, expanding
    /// `*` through `catalog` and through CTE and subquery columns.
    /// Statements other than queries have no output columns.
    pub fn lineage(&self, catalog: &dyn Catalog) -> Vec<OutputColumn> {
        self.analyze(catalog).columns
    }

    /// [`ParsedQuery::lineage`], and the column references that name no column
    /// of the relations they could come from, every one of them with columns
    /// the catalog knows in full ([`Catalog::complete`]): mistakes. Where a
    /// relation's columns are unknown or only partly known, nothing is reported.
    pub fn analyze(&self, catalog: &dyn Catalog) -> Analysis {
        let Statement::Query(query) = &self.statement else {
            return Analysis::default();
        };
        let missing = scope::Missing::default();
        let mut analyzer = Analyzer::new(catalog, &missing);
        let columns = analyzer.query(query, None).into_iter().map(Col::finish).collect();
        Analysis {
            columns,
            missing: missing.take(),
            mismatched: missing.take_mismatches(),
            problems: missing.take_problems(),
        }
    }
}

/// What [`ParsedQuery::analyze`] finds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    /// The output columns with their lineage.
    pub columns: Vec<OutputColumn>,
    /// Column references that name no column.
    pub missing: Vec<MissingColumn>,
    /// `union`, `except` and `intersect` of queries with different numbers of
    /// columns (both sides known; `by name` is exempt).
    pub mismatched: Vec<SetMismatch>,
    /// What the column types show to be wrong, in the order of the SQL.
    pub problems: Vec<TypeProblem>,
}

/// A mistake the types reveal: an error where DuckDB refuses the query, a
/// warning where it accepts it but likely not as meant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TypeProblem {
    /// What is wrong, in DuckDB's terms.
    pub message: String,
    /// Whether DuckDB refuses it (else a warning).
    pub error: bool,
    /// 1-based line in the SQL of the expression's start (0 when unknown).
    pub line: usize,
    /// 1-based column in the SQL of the expression's start (0 when unknown).
    pub column_number: usize,
    /// 1-based line and column in the SQL just past the expression's end.
    pub end: (usize, usize),
}

/// A set operation whose two sides have different numbers of columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetMismatch {
    /// `union`, `union all`, `except`, ...
    pub operator: String,
    /// Columns of the left side.
    pub left: usize,
    /// Columns of the right side.
    pub right: usize,
    /// 1-based line of the right side in the SQL (0 when unknown).
    pub line: usize,
    /// 1-based column of the right side in the SQL (0 when unknown).
    pub column_number: usize,
}

impl TypeProblem {
    pub(crate) fn at(span: sqlparser::tokenizer::Span, message: String, error: bool) -> TypeProblem {
        TypeProblem {
            message,
            error,
            line: span.start.line as usize,
            column_number: span.start.column as usize,
            end: (span.end.line as usize, span.end.column as usize),
        }
    }
}

/// A column reference that names no column of the relations in its scope.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MissingColumn {
    /// The name as written.
    pub column: String,
    /// The relations searched, as the SQL names them (`orders`, `o (orders)`).
    pub searched: String,
    /// The columns those relations have.
    pub candidates: Vec<String>,
    /// 1-based line of the reference in the SQL (0 when unknown).
    pub line: usize,
    /// 1-based column of the reference in the SQL (0 when unknown).
    pub column_number: usize,
}

mod expr;
mod query;
mod scope;
mod typing;
mod value;
