//! The recursive analysis of queries: `WITH`, set operations, `SELECT`
//! lists with `*` expansion, and `FROM` items.

use std::rc::Rc;

use sqlparser::ast::{
    ExcludeSelectItem, Expr, FunctionArg, FunctionArgExpr, GroupByExpr, Ident, JoinConstraint, JoinOperator,
    NamedWindowDefinition, ObjectName, ObjectNamePart, OrderByExpr, OrderByKind, Query, RenameSelectItem, Select,
    SelectFlavor, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, SetQuantifier, TableAlias, TableFactor,
    TableWithJoins, Values, WildcardAdditionalOptions,
};

use sqlparser::ast::Spanned;
use sqlparser::tokenizer::Span;

use super::expr::output_name;
use super::scope::{
    add_using, function_source, opaque, rename, using_lin, with_alias, Cx, Lookup, Missing, Scope, Source, SourceKind,
    Using,
};
use super::value::{combine, push_col, Col, Lin, Name, Unknown};
use super::Transform;
use crate::relations::{is_file_literal, relation_name};
use crate::types::{common, incompatible, Typed};
use crate::{Catalog, RelationName};

/// A CTE in scope.
pub(super) enum Cte {
    Cols(Rc<[Col]>),
    /// A recursive CTE while its own body is analyzed.
    Recursive,
}

/// Lineage analysis of one statement: the catalog, and the CTEs in scope at
/// the point being analyzed.
pub(super) struct Analyzer<'c> {
    catalog: &'c dyn Catalog,
    /// CTEs in scope, innermost last.
    ctes: Vec<(String, Cte)>,
    /// Column references found in no relation that could have them.
    pub(super) missing: &'c Missing,
}

impl<'c> Analyzer<'c> {
    pub(super) fn new(catalog: &'c dyn Catalog, missing: &'c Missing) -> Self {
        Analyzer {
            catalog,
            ctes: Vec::new(),
            missing,
        }
    }
}

impl Analyzer<'_> {
    pub(super) fn query(&mut self, query: &Query, outer: Option<&Scope<'_>>) -> Vec<Col> {
        let mark = self.ctes.len();
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                let name = &cte.alias.name.value;
                if with.recursive {
                    let entry = if cte.alias.columns.is_empty() {
                        Cte::Recursive
                    } else {
                        Cte::Cols(
                            cte.alias
                                .columns
                                .iter()
                                .map(|c| Col::new(c.name.value.clone(), Lin::new(Transform::Literal)))
                                .collect(),
                        )
                    };
                    self.ctes.push((name.clone(), entry));
                }
                let mut cols = self.query(&cte.query, outer);
                rename(&mut cols, &cte.alias);
                let entry = Cte::Cols(cols.into());
                match self.ctes.last_mut() {
                    Some(last) if with.recursive => last.1 = entry,
                    _ => self.ctes.push((name.clone(), entry)),
                }
            }
        }
        let order: &[OrderByExpr] = match query.order_by.as_ref().map(|o| &o.kind) {
            Some(OrderByKind::Expressions(exprs)) => exprs,
            _ => &[],
        };
        let mut cols = match &*query.body {
            // ORDER BY of a SELECT sees its FROM items and its aliases.
            SetExpr::Select(select) => self.select(select, outer, order),
            // ORDER BY of a set operation names its output columns.
            body => {
                let cols = self.set_expr(body, outer);
                if !cols.iter().any(Col::is_star) {
                    for o in order {
                        if let Expr::Identifier(ident) = &o.expr {
                            if !cols.iter().any(|c| c.name.eq_ignore_ascii_case(&ident.value)) {
                                let names = cols.iter().map(|c| c.name.to_string()).collect();
                                self.missing
                                    .push(ident, "the columns of the set operation".into(), names);
                            }
                        }
                    }
                }
                cols
            }
        };
        self.ctes.truncate(mark);
        // Outside its query a value is a column, no longer a literal.
        for col in &mut cols {
            col.lin.typed.literal = false;
        }
        cols
    }

    pub(super) fn set_expr(&mut self, body: &SetExpr, outer: Option<&Scope<'_>>) -> Vec<Col> {
        match body {
            SetExpr::Select(select) => self.select(select, outer, &[]),
            SetExpr::Query(query) => self.query(query, outer),
            SetExpr::SetOperation {
                left,
                right,
                set_quantifier,
                op,
            } => {
                let right_span = right.span();
                let right_at = right_span.start;
                let left = self.set_expr(left, outer);
                let right = self.set_expr(right, outer);
                let by_name = matches!(
                    set_quantifier,
                    SetQuantifier::ByName | SetQuantifier::AllByName | SetQuantifier::DistinctByName
                );
                let known = |cols: &[Col]| !cols.iter().any(Col::is_star);
                if !by_name && known(&left) && known(&right) && left.len() != right.len() {
                    self.missing.mismatch(crate::SetMismatch {
                        operator: format!("{op} {set_quantifier}").trim().to_lowercase(),
                        left: left.len(),
                        right: right.len(),
                        line: right_at.line as usize,
                        column_number: right_at.column as usize,
                    });
                }
                let types = (!by_name && known(&left) && known(&right))
                    .then(|| self.set_types((&left, &right), op, right_span));
                let mut cols = combine(left, right, by_name);
                for (col, typed) in cols.iter_mut().zip(types.into_iter().flatten()) {
                    col.lin.typed = typed;
                }
                cols
            }
            SetExpr::Values(values) => self.values(values, outer),
            SetExpr::Table(table) => {
                let parts = [&table.schema_name, &table.table_name]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect();
                self.table_source(RelationName::new(parts), None).columns()
            }
            _ => Vec::new(),
        }
    }

    /// The types of a set operation's columns, side by side: DuckDB's common
    /// type, and a warning where it silently casts a number or a date to text
    /// (or a number to a date).
    fn set_types(&self, (left, right): (&[Col], &[Col]), op: &sqlparser::ast::SetOperator, at: Span) -> Vec<Typed> {
        left.iter()
            .zip(right)
            .enumerate()
            .map(|(i, (l, r))| {
                // Each side is a query of its own: its literals are columns by now.
                let column = |t: &Typed| Typed {
                    literal: false,
                    ..t.clone()
                };
                let (a, b) = (&column(&l.lin.typed), &column(&r.lin.typed));
                if let Some((x, y)) = incompatible(a, b) {
                    let message = format!(
                        "{} column {} ({}) is {x} on the left and {y} on the right: DuckDB casts them to one type without a word",
                        op.to_string().to_lowercase(),
                        i + 1,
                        l.name
                    );
                    self.missing.problem(crate::TypeProblem::at(at, message, false));
                }
                Typed {
                    ty: common(a, b),
                    literal: false,
                }
            })
            .collect()
    }

    /// `VALUES` columns are named `col0`, `col1`... like DuckDB's.
    pub(super) fn values(&mut self, values: &Values, outer: Option<&Scope<'_>>) -> Vec<Col> {
        let scope = Scope {
            sources: &[],
            using: &[],
            parent: outer,
        };
        let cx = Cx {
            scope: &scope,
            aliases: &[],
            windows: &[],
            missing: self.missing,
        };
        let mut cols: Vec<Col> = Vec::new();
        for row in &values.rows {
            for (i, e) in row.content.iter().enumerate() {
                let lin = self.expr(e, cx);
                match cols.get_mut(i) {
                    Some(col) => {
                        let typed = Typed {
                            ty: common(&col.lin.typed, &lin.typed),
                            literal: col.lin.typed.literal && lin.typed.literal,
                        };
                        col.lin.merge(lin);
                        col.lin.typed = typed;
                    }
                    None => cols.push(Col::new(format!("col{i}"), lin)),
                }
            }
        }
        cols
    }

    pub(super) fn select(&mut self, select: &Select, outer: Option<&Scope<'_>>, order: &[OrderByExpr]) -> Vec<Col> {
        let mut sources = Vec::new();
        let mut using = Vec::new();
        for item in &select.from {
            self.table_with_joins(item, &mut sources, &mut using, outer);
        }
        let scope = Scope {
            sources: &sources,
            using: &using,
            parent: outer,
        };
        let mut out: Vec<Col> = Vec::with_capacity(select.projection.len());
        if select.projection.is_empty() && select.flavor == SelectFlavor::FromFirstNoSelect {
            // DuckDB's `FROM t` means `SELECT * FROM t`.
            let opts = WildcardAdditionalOptions::default();
            let cols = self.wildcard(&scope, None, &opts, &select.named_window);
            for col in cols {
                push_col(&mut out, col);
            }
        }
        for item in &select.projection {
            let cx = Cx {
                scope: &scope,
                aliases: &out,
                windows: &select.named_window,
                missing: self.missing,
            };
            match item {
                SelectItem::UnnamedExpr(e) => {
                    let lin = self.expr(e, cx);
                    out.push(Col::new(output_name(e), lin));
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let lin = self.expr(expr, cx);
                    out.push(Col::new(alias.value.clone(), lin));
                }
                SelectItem::ExprWithAliases { expr, aliases } => {
                    let lin = self.expr(expr, cx);
                    for alias in aliases {
                        out.push(Col::new(alias.value.clone(), lin.clone()));
                    }
                }
                SelectItem::Wildcard(opts) => {
                    let cols = self.wildcard(&scope, None, opts, &select.named_window);
                    for col in cols {
                        push_col(&mut out, col);
                    }
                }
                SelectItem::QualifiedWildcard(kind, opts) => {
                    let cols = match kind {
                        SelectItemQualifiedWildcardKind::ObjectName(name) => {
                            self.wildcard(&scope, Some(name), opts, &select.named_window)
                        }
                        SelectItemQualifiedWildcardKind::Expr(e) => {
                            let lin = self.expr(e, cx);
                            vec![Col::placeholder(Unknown::Opaque {
                                what: format!("{e}.*"),
                                lin,
                            })]
                        }
                    };
                    for col in cols {
                        push_col(&mut out, col);
                    }
                }
            }
        }
        self.check_clauses(select, &scope, &out, order);
        if let Some(exclude) = &select.exclude {
            out.retain(|c| c.is_star() || !excluded(exclude, &c.name));
        }
        out
    }

    /// Resolves the column references of the clauses that do not make output
    /// columns (join conditions, `WHERE`, `GROUP BY`, `HAVING`, `QUALIFY`, the
    /// query's `ORDER BY`), only to record those that name no column; select-list
    /// aliases are visible to all but the joins, as in DuckDB.
    fn check_clauses(&mut self, select: &Select, scope: &Scope<'_>, out: &[Col], order: &[OrderByExpr]) {
        let cx = |aliases| Cx {
            scope,
            aliases,
            windows: &select.named_window,
            missing: self.missing,
        };
        for item in &select.from {
            for join in &item.joins {
                if let Some(JoinConstraint::On(e)) = join_constraint(&join.join_operator) {
                    self.expr(e, cx(&[]));
                }
            }
        }
        let group_by = match &select.group_by {
            GroupByExpr::Expressions(exprs, _) => exprs.as_slice(),
            GroupByExpr::All(_) => &[],
        };
        let clauses = select
            .selection
            .iter()
            .chain(group_by)
            .chain(&select.having)
            .chain(&select.qualify)
            .chain(order.iter().map(|o| &o.expr));
        for e in clauses {
            self.expr(e, cx(out));
        }
    }

    /// Expands `*` or `qualifier.*` with its DuckDB modifiers.
    pub(super) fn wildcard(
        &mut self,
        scope: &Scope<'_>,
        qualifier: Option<&ObjectName>,
        opts: &WildcardAdditionalOptions,
        windows: &[NamedWindowDefinition],
    ) -> Vec<Col> {
        let mut cols = Vec::new();
        match qualifier {
            None => {
                for (i, source) in scope.sources.iter().enumerate() {
                    if source.hidden {
                        continue;
                    }
                    for col in source.columns() {
                        if col.is_star() {
                            push_col(&mut cols, col);
                            continue;
                        }
                        match scope.using.iter().find(|u| u.column.eq_ignore_ascii_case(&col.name)) {
                            // Shown once, at its first relation, fed by all.
                            Some(u) if u.members.first() == Some(&i) => {
                                let lin = using_lin(scope, u);
                                push_col(&mut cols, Col::new(col.name, lin));
                            }
                            Some(u) if u.members.contains(&i) => {}
                            _ => push_col(&mut cols, col),
                        }
                    }
                }
            }
            Some(name) => {
                let parts: Vec<Ident> = name.0.iter().filter_map(ObjectNamePart::as_ident).cloned().collect();
                match scope.sources.iter().find(|s| s.qualified_by(&parts)) {
                    Some(source) => {
                        for col in source.columns() {
                            push_col(&mut cols, col);
                        }
                    }
                    None => cols.push(Col::placeholder(Unknown::Opaque {
                        what: format!("{name}.*"),
                        lin: Lin::unresolved(format!("{name} is not a relation in scope")),
                    })),
                }
            }
        }
        self.apply_modifiers(&mut cols, scope, opts, windows);
        cols
    }

    /// Applies `ILIKE`, `EXCLUDE`/`EXCEPT`, `REPLACE` and `RENAME` to expanded
    /// columns. They cannot apply to unknown columns behind a `*`
    /// placeholder; a `REPLACE` of a column not found is appended instead.
    pub(super) fn apply_modifiers(
        &mut self,
        cols: &mut Vec<Col>,
        scope: &Scope<'_>,
        opts: &WildcardAdditionalOptions,
        windows: &[NamedWindowDefinition],
    ) {
        if let Some(ilike) = &opts.opt_ilike {
            cols.retain(|c| c.is_star() || ilike_matches(&ilike.pattern, &c.name));
        }
        if let Some(exclude) = &opts.opt_exclude {
            cols.retain(|c| c.is_star() || !excluded(exclude, &c.name));
        }
        if let Some(except) = &opts.opt_except {
            cols.retain(|c| {
                c.is_star()
                    || !std::iter::once(&except.first_element)
                        .chain(&except.additional_elements)
                        .any(|e| e.value.eq_ignore_ascii_case(&c.name))
            });
        }
        if let Some(replace) = &opts.opt_replace {
            let cx = Cx {
                scope,
                aliases: &[],
                windows,
                missing: self.missing,
            };
            for element in &replace.items {
                let lin = self.expr(&element.expr, cx);
                let name = &element.column_name.value;
                let has_star = cols.iter().any(Col::is_star);
                match cols
                    .iter_mut()
                    .find(|c| !c.is_star() && c.name.eq_ignore_ascii_case(name))
                {
                    Some(col) => col.lin = lin,
                    None if has_star => cols.push(Col::new(name.clone(), lin)),
                    None => {}
                }
            }
        }
        if let Some(rename) = &opts.opt_rename {
            let renames = match rename {
                RenameSelectItem::Single(r) => std::slice::from_ref(r),
                RenameSelectItem::Multiple(rs) => rs.as_slice(),
            };
            for r in renames {
                if let Some(col) = cols
                    .iter_mut()
                    .find(|c| !c.is_star() && c.name.eq_ignore_ascii_case(&r.ident.value))
                {
                    col.name = r.alias.value.as_str().into();
                }
            }
        }
    }

    pub(super) fn table_with_joins(
        &mut self,
        item: &TableWithJoins,
        sources: &mut Vec<Source>,
        using: &mut Vec<Using>,
        outer: Option<&Scope<'_>>,
    ) {
        let start = sources.len();
        self.factor(&item.relation, sources, using, outer);
        for join in &item.joins {
            let left = start..sources.len();
            self.factor(&join.relation, sources, using, outer);
            let right = left.end..sources.len();
            if matches!(
                join.join_operator,
                JoinOperator::Semi(_)
                    | JoinOperator::LeftSemi(_)
                    | JoinOperator::RightSemi(_)
                    | JoinOperator::Anti(_)
                    | JoinOperator::LeftAnti(_)
                    | JoinOperator::RightAnti(_)
            ) {
                for source in &mut sources[right.clone()] {
                    source.hidden = true;
                }
            }
            match join_constraint(&join.join_operator) {
                Some(JoinConstraint::Using(columns)) => {
                    for column in columns {
                        if let Some(ObjectNamePart::Identifier(ident)) = column.0.last() {
                            add_using(&ident.value, sources, using, left.clone(), right.clone());
                        }
                    }
                }
                Some(JoinConstraint::Natural) => {
                    let mut common = Vec::new();
                    for source in &sources[right.clone()] {
                        for col in source.columns() {
                            let on_left = sources[left.clone()]
                                .iter()
                                .any(|s| matches!(s.lookup(&col.name), Lookup::Found(_)));
                            if !col.is_star() && on_left {
                                common.push(col.name);
                            }
                        }
                    }
                    for name in common {
                        add_using(&name, sources, using, left.clone(), right.clone());
                    }
                }
                _ => {}
            }
        }
    }

    pub(super) fn factor(
        &mut self,
        factor: &TableFactor,
        sources: &mut Vec<Source>,
        using: &mut Vec<Using>,
        outer: Option<&Scope<'_>>,
    ) {
        // What the factor's own expressions (function arguments, lateral
        // subqueries) may refer to: the items to its left, then outer queries.
        let source = match factor {
            TableFactor::Table {
                name,
                alias,
                args: Some(args),
                ..
            } => {
                let lin = self.args_lin(&args.args, sources, using, outer);
                function_source(name, lin, alias.as_ref())
            }
            TableFactor::Table { name, alias, .. } => {
                let rel = relation_name(name);
                if let [ObjectNamePart::Identifier(ident)] = name.0.as_slice() {
                    if is_file_literal(ident) {
                        let what = format!("file '{}'", ident.value);
                        let mut lin = Lin::new(Transform::Direct);
                        lin.add_reason(&format!("read from {what}"));
                        let unknown = Unknown::Opaque { what, lin };
                        sources.push(with_alias(SourceKind::Unknown(unknown), None, alias.as_ref()));
                        return;
                    }
                }
                self.table_source(rel, alias.as_ref())
            }
            TableFactor::Derived { subquery, alias, .. } => {
                let scope = Scope {
                    sources: sources.as_slice(),
                    using: using.as_slice(),
                    parent: outer,
                };
                let cols = self.query(subquery, Some(&scope));
                with_alias(SourceKind::Derived(cols.into()), None, alias.as_ref())
            }
            TableFactor::Function { name, args, alias, .. } => {
                let lin = self.args_lin(args, sources, using, outer);
                function_source(name, lin, alias.as_ref())
            }
            TableFactor::TableFunction { expr, alias } => {
                let lin = self.lateral_expr(expr, sources, using, outer);
                opaque("table_function", "a table function".to_owned(), lin, alias.as_ref())
            }
            TableFactor::UNNEST { alias, array_exprs, .. } => {
                let mut lin = Lin::new(Transform::Literal);
                for e in array_exprs {
                    lin.merge(self.lateral_expr(e, sources, using, outer));
                }
                opaque("unnest", "unnest".to_owned(), lin, alias.as_ref())
            }
            TableFactor::NestedJoin { table_with_joins, .. } => {
                self.table_with_joins(table_with_joins, sources, using, outer);
                return;
            }
            other => {
                let what = match other {
                    TableFactor::Pivot { .. } => "PIVOT",
                    TableFactor::Unpivot { .. } | TableFactor::UnpivotExpr { .. } => "UNPIVOT",
                    TableFactor::MatchRecognize { .. } => "MATCH_RECOGNIZE",
                    TableFactor::JsonTable { .. } => "JSON_TABLE",
                    TableFactor::OpenJsonTable { .. } => "OPENJSON",
                    TableFactor::XmlTable { .. } => "XMLTABLE",
                    _ => "an unsupported FROM item",
                };
                let lin = Lin::unresolved(format!("read from {what}"));
                let unknown = Unknown::Opaque {
                    what: what.to_owned(),
                    lin,
                };
                with_alias(SourceKind::Unknown(unknown), None, factor_alias(other))
            }
        };
        sources.push(source);
    }

    /// A real relation or a CTE reference.
    pub(super) fn table_source(&mut self, rel: RelationName, alias: Option<&TableAlias>) -> Source {
        if let [name] = rel.parts.as_slice() {
            if let Some((_, cte)) = self.ctes.iter().rev().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                let kind = match cte {
                    Cte::Cols(cols) => SourceKind::Derived(Rc::clone(cols)),
                    Cte::Recursive => SourceKind::Unknown(Unknown::Recursive(name.clone())),
                };
                return with_alias(kind, Some(Rc::new(rel)), alias);
            }
        }
        let columns = self.catalog.columns(&rel);
        let complete = self.catalog.complete(&rel);
        let rel = Rc::new(rel);
        let kind = match columns {
            Some(columns) => SourceKind::Table {
                types: self.catalog.types(&rel).unwrap_or_default(),
                rel: Rc::clone(&rel),
                columns: columns.into_iter().map(Name::from).collect(),
                renamed: Vec::new(),
                complete,
            },
            None => SourceKind::Unknown(Unknown::Relation(Rc::clone(&rel))),
        };
        with_alias(kind, Some(rel), alias)
    }

    pub(super) fn args_lin(
        &mut self,
        args: &[FunctionArg],
        sources: &[Source],
        using: &[Using],
        outer: Option<&Scope<'_>>,
    ) -> Lin {
        let mut lin = Lin::new(Transform::Literal);
        for arg in args {
            let (FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
            | FunctionArg::Named {
                arg: FunctionArgExpr::Expr(e),
                ..
            }
            | FunctionArg::ExprNamed {
                arg: FunctionArgExpr::Expr(e),
                ..
            }) = arg
            else {
                continue;
            };
            lin.merge(self.lateral_expr(e, sources, using, outer));
        }
        lin
    }

    /// Evaluates an expression of a `FROM` item, which sees the items to its left.
    pub(super) fn lateral_expr(
        &mut self,
        e: &Expr,
        sources: &[Source],
        using: &[Using],
        outer: Option<&Scope<'_>>,
    ) -> Lin {
        let scope = Scope {
            sources,
            using,
            parent: outer,
        };
        let cx = Cx {
            scope: &scope,
            aliases: &[],
            windows: &[],
            missing: self.missing,
        };
        self.expr(e, cx)
    }
}

pub(super) fn factor_alias(factor: &TableFactor) -> Option<&TableAlias> {
    match factor {
        TableFactor::Table { alias, .. }
        | TableFactor::Derived { alias, .. }
        | TableFactor::TableFunction { alias, .. }
        | TableFactor::Function { alias, .. }
        | TableFactor::UNNEST { alias, .. }
        | TableFactor::JsonTable { alias, .. }
        | TableFactor::OpenJsonTable { alias, .. }
        | TableFactor::NestedJoin { alias, .. }
        | TableFactor::Pivot { alias, .. }
        | TableFactor::Unpivot { alias, .. }
        | TableFactor::MatchRecognize { alias, .. }
        | TableFactor::XmlTable { alias, .. }
        | TableFactor::SemanticView { alias, .. } => alias.as_ref(),
        TableFactor::UnpivotExpr { .. } => None,
    }
}

pub(super) fn join_constraint(op: &JoinOperator) -> Option<&JoinConstraint> {
    match op {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::FullOuter(c)
        | JoinOperator::CrossJoin(c)
        | JoinOperator::Semi(c)
        | JoinOperator::LeftSemi(c)
        | JoinOperator::RightSemi(c)
        | JoinOperator::Anti(c)
        | JoinOperator::LeftAnti(c)
        | JoinOperator::RightAnti(c)
        | JoinOperator::StraightJoin(c)
        | JoinOperator::AsOf { constraint: c, .. } => Some(c),
        _ => None,
    }
}

pub(super) fn excluded(exclude: &ExcludeSelectItem, name: &str) -> bool {
    let names = match exclude {
        ExcludeSelectItem::Single(n) => std::slice::from_ref(n),
        ExcludeSelectItem::Multiple(ns) => ns.as_slice(),
    };
    names.iter().any(|n| match n.0.last() {
        Some(ObjectNamePart::Identifier(ident)) => ident.value.eq_ignore_ascii_case(name),
        _ => false,
    })
}

/// SQL `ILIKE`: `%` matches any run, `_` any one character, case-insensitive.
pub(super) fn ilike_matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
    let t: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    // Iterative wildcard matching with backtracking to the last `%`.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('%') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '_' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '%')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn ilike() {
        assert!(ilike_matches("%id", "customer_ID"));
        assert!(ilike_matches("a_c", "abc"));
        assert!(ilike_matches("%", ""));
        assert!(ilike_matches("a%b%c", "aXXbYYc"));
        assert!(!ilike_matches("a%b", "ac"));
        assert!(!ilike_matches("abc", "abcd"));
    }
}
