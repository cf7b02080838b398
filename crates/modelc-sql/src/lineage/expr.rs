//! The lineage of one expression: a column reference is resolved directly;
//! anything else is walked with a [`Visitor`] ([`Scan`]) that collects the
//! columns read and notices aggregates and window functions.

use std::ops::ControlFlow;

use sqlparser::ast::{
    AccessExpr, Expr, Function, FunctionArg, FunctionArguments, Ident, NamedWindowDefinition, NamedWindowExpr,
    ObjectName, ObjectNamePart, OneOrManyWithParens, Query, Visit, Visitor, WindowType,
};

use super::query::Analyzer;
use super::scope::{resolve, Cx};
use super::value::{describe_all, Col, Lin};
use super::Transform;
use crate::name::cmp_lowercase;

impl Analyzer<'_> {
    /// The lineage of one expression.
    pub(super) fn expr(&mut self, e: &Expr, cx: Cx<'_>) -> Lin {
        let e = unnest_parens(e);
        match e {
            Expr::Identifier(ident) => return resolve(std::slice::from_ref(ident), cx),
            Expr::CompoundIdentifier(parts) => return resolve(parts, cx),
            Expr::Subquery(query) => {
                let cols = self.query(query, Some(cx.scope));
                return subquery_lin(cols);
            }
            _ => {}
        }
        let mut scan = Scan {
            analyzer: self,
            cx,
            lin: Lin::new(Transform::Direct),
            refs: None,
            aggregate: false,
            window: false,
            depth: 0,
            skip: None,
            skip_next_query: false,
            opaque: Vec::new(),
            lambda: Vec::new(),
        };
        let _ = e.visit(&mut scan);
        let mut lin = scan.finish();
        lin.typed = self.type_of(e, cx);
        lin
    }
}

/// The lineage of a subquery used as a value: its (first) column's.
pub(super) fn subquery_lin(cols: Vec<Col>) -> Lin {
    let mut lin = Lin::new(Transform::Literal);
    for col in cols.into_iter().take(1) {
        let star = !col.star.is_empty();
        let unknowns = describe_all(col.star.iter());
        let typed = col.lin.typed.clone();
        lin.merge(col.lin);
        lin.typed = typed;
        if star {
            lin.add_reason(&format!("columns of {unknowns} are unknown"));
        }
    }
    lin
}

pub(super) fn unnest_parens(mut e: &Expr) -> &Expr {
    while let Expr::Nested(inner) = e {
        e = inner;
    }
    e
}

/// DuckDB's name for an unaliased select item: the column name for a column
/// reference, else (unlike DuckDB) sqlparser's rendering of the expression.
pub(super) fn output_name(e: &Expr) -> String {
    match unnest_parens(e) {
        Expr::Identifier(ident) => ident.value.clone(),
        Expr::CompoundIdentifier(parts) => parts.last().map_or_else(|| e.to_string(), |p| p.value.clone()),
        other => other.to_string(),
    }
}

/// DuckDB aggregate function names, lowercase and sorted.
pub(super) const AGGREGATES: &[&str] = &[
    "any_value",
    "approx_count_distinct",
    "approx_quantile",
    "approx_top_k",
    "arbitrary",
    "arg_max",
    "arg_max_null",
    "arg_min",
    "arg_min_null",
    "argmax",
    "argmin",
    "array_agg",
    "avg",
    "bit_and",
    "bit_or",
    "bit_xor",
    "bitstring_agg",
    "bool_and",
    "bool_or",
    "corr",
    "count",
    "count_if",
    "count_star",
    "countif",
    "covar_pop",
    "covar_samp",
    "entropy",
    "every",
    "favg",
    "first",
    "fsum",
    "geomean",
    "geometric_mean",
    "group_concat",
    "histogram",
    "histogram_exact",
    "kahan_sum",
    "kurtosis",
    "kurtosis_pop",
    "last",
    "list",
    "listagg",
    "mad",
    "max",
    "max_by",
    "mean",
    "median",
    "min",
    "min_by",
    "mode",
    "percentile_cont",
    "percentile_disc",
    "product",
    "quantile",
    "quantile_cont",
    "quantile_disc",
    "regr_avgx",
    "regr_avgy",
    "regr_count",
    "regr_intercept",
    "regr_r2",
    "regr_slope",
    "regr_sxx",
    "regr_sxy",
    "regr_syy",
    "reservoir_quantile",
    "sem",
    "skewness",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "string_agg",
    "sum",
    "sum_no_overflow",
    "sumkahan",
    "var_pop",
    "var_samp",
    "variance",
    "wavg",
    "weighted_avg",
];

pub(super) fn is_aggregate(name: &ObjectName) -> bool {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(ident)) => {
            AGGREGATES.binary_search_by(|k| cmp_lowercase(k, &ident.value)).is_ok()
        }
        _ => false,
    }
}

/// Walks one expression (not a bare column reference) collecting the
/// columns it reads and whether it aggregates or windows.
///
/// Nested queries are analyzed recursively by the [`Analyzer`] when first
/// met and skipped by this walk (`depth`). Sub-expressions that look like
/// column references but are not (field names after `.` in a field access,
/// `name => value` argument names) are skipped (`skip`), as are lambda
/// parameters.
pub(super) struct Scan<'a, 'c> {
    pub(super) analyzer: &'a mut Analyzer<'c>,
    pub(super) cx: Cx<'a>,
    pub(super) lin: Lin,
    /// The strongest transform among the columns read, if any were read.
    pub(super) refs: Option<Transform>,
    pub(super) aggregate: bool,
    pub(super) window: bool,
    /// Depth inside nested queries.
    pub(super) depth: usize,
    /// The expression being skipped, until its post-visit.
    pub(super) skip: Option<*const Expr>,
    /// The next query met is an `EXISTS` subquery: its select list is not a source.
    pub(super) skip_next_query: bool,
    /// Expressions to skip when met.
    pub(super) opaque: Vec<*const Expr>,
    /// Lambda parameters in scope.
    pub(super) lambda: Vec<String>,
}

impl Scan<'_, '_> {
    pub(super) fn read(&mut self, lin: Lin) {
        self.refs = Some(match self.refs {
            Some(t) => t.max(lin.transform),
            None => lin.transform,
        });
        let transform = self.lin.transform;
        self.lin.merge(lin);
        self.lin.transform = transform;
    }

    pub(super) fn function(&mut self, f: &Function) {
        if let Some(over) = &f.over {
            self.window = true;
            if let WindowType::NamedWindow(name) = over {
                self.named_window(name);
            }
        } else if is_aggregate(&f.name) {
            self.aggregate = true;
        }
        if let [ObjectNamePart::Identifier(ident)] = f.name.0.as_slice() {
            if ident.value.eq_ignore_ascii_case("columns") {
                self.lin.add_reason("DuckDB COLUMNS(...) expressions are not expanded");
            }
        }
        if let FunctionArguments::List(list) = &f.args {
            for arg in &list.args {
                if let FunctionArg::ExprNamed { name, .. } = arg {
                    self.opaque.push(name);
                }
            }
        }
    }

    /// Walks the definition of `OVER name` from the `WINDOW` clause
    /// (following `WINDOW w2 AS w1` chains a bounded number of times).
    pub(super) fn named_window(&mut self, name: &Ident) {
        let windows = self.cx.windows;
        let mut name = name;
        for _ in 0..windows.len() {
            let Some(NamedWindowDefinition(_, def)) =
                windows.iter().find(|w| w.0.value.eq_ignore_ascii_case(&name.value))
            else {
                return;
            };
            match def {
                NamedWindowExpr::WindowSpec(spec) => {
                    let _ = spec.visit(self);
                    return;
                }
                NamedWindowExpr::NamedWindow(next) => name = next,
            }
        }
    }

    pub(super) fn finish(self) -> Lin {
        let own = if self.window {
            Transform::Window
        } else if self.aggregate {
            Transform::Aggregate
        } else if self.refs.is_none() && self.lin.unresolved.is_none() {
            Transform::Literal
        } else {
            Transform::Expression
        };
        let mut lin = self.lin;
        lin.transform = match (own, self.refs) {
            (Transform::Expression, Some(Transform::Literal)) => Transform::Literal,
            (own, Some(refs)) => own.max(refs),
            (own, None) => own,
        };
        lin
    }
}

impl Visitor for Scan<'_, '_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if self.depth == 0 && self.skip.is_none() {
            if std::mem::take(&mut self.skip_next_query) {
                // EXISTS: only whether rows exist matters, but its column
                // references are checked.
                self.analyzer.query(query, Some(self.cx.scope));
            } else {
                let cols = self.analyzer.query(query, Some(self.cx.scope));
                let lin = subquery_lin(cols);
                self.read(lin);
            }
        }
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.depth = self.depth.saturating_sub(1);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if self.depth > 0 || self.skip.is_some() {
            return ControlFlow::Continue(());
        }
        let ptr: *const Expr = e;
        if self.opaque.contains(&ptr) {
            self.skip = Some(ptr);
            return ControlFlow::Continue(());
        }
        match e {
            Expr::Identifier(ident) if !self.is_lambda_param(ident) => {
                let lin = resolve(std::slice::from_ref(ident), self.cx);
                self.read(lin);
            }
            Expr::CompoundIdentifier(parts) if !parts.first().is_some_and(|p| self.is_lambda_param(p)) => {
                let lin = resolve(parts, self.cx);
                self.read(lin);
            }
            Expr::Function(f) => self.function(f),
            Expr::CompoundFieldAccess { access_chain, .. } => {
                for access in access_chain {
                    if let AccessExpr::Dot(field) = access {
                        self.opaque.push(field);
                    }
                }
            }
            Expr::Exists { .. } => self.skip_next_query = true,
            Expr::Lambda(lambda) => match &lambda.params {
                OneOrManyWithParens::One(p) => self.lambda.push(p.name.value.clone()),
                OneOrManyWithParens::Many(ps) => {
                    self.lambda.extend(ps.iter().map(|p| p.name.value.clone()));
                }
            },
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        let ptr: *const Expr = e;
        if self.skip == Some(ptr) {
            self.skip = None;
            return ControlFlow::Continue(());
        }
        if self.depth > 0 || self.skip.is_some() {
            return ControlFlow::Continue(());
        }
        if let Expr::Lambda(lambda) = e {
            let n = match &lambda.params {
                OneOrManyWithParens::One(_) => 1,
                OneOrManyWithParens::Many(ps) => ps.len(),
            };
            self.lambda.truncate(self.lambda.len().saturating_sub(n));
        }
        ControlFlow::Continue(())
    }
}

impl Scan<'_, '_> {
    pub(super) fn is_lambda_param(&self, ident: &Ident) -> bool {
        self.lambda.iter().any(|p| p.eq_ignore_ascii_case(&ident.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn aggregates_are_sorted() {
        assert!(AGGREGATES.windows(2).all(|w| w[0] < w[1]));
    }
}
