//! The type of one expression by DuckDB's rules ([`Analyzer::type_of`]), and the
//! mistakes DuckDB's binder refuses that types reveal: an ordering comparison of
//! text with a number, `sum` of text, text in arithmetic, `CASE` branches of types
//! that do not mix. Anything not certain is unknown, and unknown is never an error.

use sqlparser::ast::{
    BinaryOperator, CastKind, CeilFloorKind, DataType, DateTimeField, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArguments, ObjectNamePart, Spanned, UnaryOperator, Value,
};

use super::expr::unnest_parens;
use super::query::Analyzer;
use super::scope::{resolve, Cx, Missing};
use crate::types::{arithmetic, common, incompatible, Arith, Family, Ty, Typed};
use crate::TypeProblem;

impl Analyzer<'_> {
    /// The type of `e`, recording the type errors it contains in `cx.missing`.
    /// Nested queries are not entered (the lineage walk analyzes them): a scalar
    /// subquery inside an expression is unknown.
    pub(super) fn type_of(&mut self, e: &Expr, cx: Cx<'_>) -> Typed {
        // Column references are resolved again here: quietly, as the lineage walk
        // has already reported those that name nothing.
        let quiet = Missing::default();
        let lookup = Cx { missing: &quiet, ..cx };
        Typer { cx, lookup }.expr(e)
    }
}

struct Typer<'a> {
    /// Where type errors are recorded.
    cx: Cx<'a>,
    /// Where columns are looked up.
    lookup: Cx<'a>,
}

impl Typer<'_> {
    fn expr(&self, e: &Expr) -> Typed {
        let e = unnest_parens(e);
        match e {
            Expr::Identifier(ident) => resolve(std::slice::from_ref(ident), self.lookup).typed,
            Expr::CompoundIdentifier(parts) => resolve(parts, self.lookup).typed,
            Expr::Value(v) => literal(&v.value),
            Expr::TypedString(t) => data_type(&t.data_type).map_or_else(Typed::unknown, Typed::literal),
            Expr::Cast {
                kind,
                expr,
                data_type: to,
                ..
            } => {
                self.expr(expr);
                match kind {
                    CastKind::Cast | CastKind::TryCast | CastKind::SafeCast | CastKind::DoubleColon => {
                        data_type(to).map_or_else(Typed::unknown, Typed::of)
                    }
                }
            }
            Expr::AtTimeZone { timestamp, time_zone } => {
                self.expr(timestamp);
                self.expr(time_zone);
                Typed::unknown()
            }
            Expr::BinaryOp { .. } => self.chain(e),
            Expr::UnaryOp { op, expr } => {
                let inner = self.expr(expr);
                match op {
                    UnaryOperator::Not => Typed::of(Ty::Boolean),
                    UnaryOperator::Minus | UnaryOperator::Plus if inner.known().is_some_and(Ty::is_numeric) => inner,
                    _ => Typed::unknown(),
                }
            }
            Expr::IsNull(x)
            | Expr::IsNotNull(x)
            | Expr::IsTrue(x)
            | Expr::IsNotTrue(x)
            | Expr::IsFalse(x)
            | Expr::IsNotFalse(x)
            | Expr::IsUnknown(x)
            | Expr::IsNotUnknown(x) => {
                self.expr(x);
                Typed::of(Ty::Boolean)
            }
            Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => {
                self.expr(a);
                self.expr(b);
                Typed::of(Ty::Boolean)
            }
            Expr::InList { expr, list, .. } => {
                self.expr(expr);
                for x in list {
                    self.expr(x);
                }
                Typed::of(Ty::Boolean)
            }
            Expr::InSubquery { expr, .. } | Expr::InUnnest { expr, .. } => {
                self.expr(expr);
                Typed::of(Ty::Boolean)
            }
            Expr::Exists { .. } => Typed::of(Ty::Boolean),
            Expr::Between { expr, low, high, .. } => {
                let x = self.expr(expr);
                for bound in [low, high] {
                    let b = self.expr(bound);
                    if let Some((l, r)) = incompatible(&x, &b) {
                        self.error(
                            e,
                            format!("cannot mix values of type {l} and {r} in BETWEEN without an explicit cast"),
                        );
                        break;
                    }
                }
                Typed::of(Ty::Boolean)
            }
            Expr::Like { expr, pattern, .. } | Expr::ILike { expr, pattern, .. } => {
                let x = self.expr(expr);
                self.expr(pattern);
                if let Some(t) = x.known().filter(|t| t.is_numeric() || is_temporal(t)) {
                    self.error(e, format!("LIKE needs text, not {t}: cast it to VARCHAR first"));
                }
                Typed::of(Ty::Boolean)
            }
            Expr::SimilarTo { expr, pattern, .. } | Expr::RLike { expr, pattern, .. } => {
                self.expr(expr);
                self.expr(pattern);
                Typed::of(Ty::Boolean)
            }
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                if let Some(op) = operand {
                    self.expr(op);
                }
                let results: Vec<(&Expr, Typed)> = conditions
                    .iter()
                    .map(|w| {
                        self.expr(&w.condition);
                        (&w.result, self.expr(&w.result))
                    })
                    .chain(else_result.iter().map(|x| (&**x, self.expr(x))))
                    .collect();
                let mut ty = match else_result {
                    Some(_) => None,
                    None => Some(Typed::literal(Ty::Null)),
                };
                self.combine(e, "CASE", results.into_iter().map(|(_, t)| t), &mut ty);
                ty.map_or_else(Typed::unknown, |t| Typed { literal: false, ..t })
            }
            Expr::Extract { expr, .. } => {
                self.expr(expr);
                Typed::of(Ty::BigInt)
            }
            Expr::Substring { expr, .. } | Expr::Trim { expr, .. } => {
                self.expr(expr);
                Typed::of(Ty::Varchar)
            }
            Expr::Position { expr, r#in } => {
                self.expr(expr);
                self.expr(r#in);
                Typed::of(Ty::BigInt)
            }
            Expr::Interval(_) => Typed::literal(Ty::Interval),
            Expr::Ceil {
                expr,
                field: CeilFloorKind::DateTimeField(DateTimeField::NoDateTime),
            }
            | Expr::Floor {
                expr,
                field: CeilFloorKind::DateTimeField(DateTimeField::NoDateTime),
            } => {
                let x = self.expr(expr);
                x.known().and_then(rounded).map_or_else(Typed::unknown, Typed::of)
            }
            Expr::Function(f) => self.function(f),
            _ => Typed::unknown(),
        }
    }

    /// A chain of binary operators, walked down its left spine without recursion:
    /// `a + b + c ...` is as deep as it is long.
    fn chain(&self, e: &Expr) -> Typed {
        let mut spine = Vec::new();
        let mut left = e;
        while let Expr::BinaryOp { left: l, op, right } = unnest_parens(left) {
            spine.push((unnest_parens(left), op, &**right));
            left = l;
        }
        let mut acc = self.expr(left);
        for (whole, op, right) in spine.into_iter().rev() {
            let r = self.expr(right);
            acc = self.binary(whole, op, &acc, &r);
        }
        acc
    }

    fn binary(&self, e: &Expr, op: &BinaryOperator, a: &Typed, b: &Typed) -> Typed {
        // ICU's rules for time zones, not modelled: unknown.
        if matches!(op, BinaryOperator::Plus | BinaryOperator::Minus) && (is_tz(a) || is_tz(b)) {
            return Typed::unknown();
        }
        let arith = match op {
            BinaryOperator::Plus => Arith::Add,
            BinaryOperator::Minus => Arith::Sub,
            BinaryOperator::Multiply => Arith::Mul,
            BinaryOperator::Divide => Arith::Div,
            BinaryOperator::DuckIntegerDivide | BinaryOperator::MyIntegerDivide => Arith::IntDiv,
            BinaryOperator::Modulo => Arith::Mod,
            BinaryOperator::Lt | BinaryOperator::LtEq | BinaryOperator::Gt | BinaryOperator::GtEq => {
                if let Some((l, r)) = incompatible(a, b) {
                    self.error(
                        e,
                        format!("cannot compare values of type {l} and type {r} without an explicit cast"),
                    );
                }
                return Typed::of(Ty::Boolean);
            }
            BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Spaceship
            | BinaryOperator::And
            | BinaryOperator::Or => return Typed::of(Ty::Boolean),
            BinaryOperator::StringConcat => {
                // Lists concatenate too (unknown types here); blobs stay blobs.
                let plain = |t: &Typed| t.known().is_some_and(|t| !matches!(t, Ty::Blob | Ty::Null));
                return if plain(a) && plain(b) {
                    Typed::of(Ty::Varchar)
                } else {
                    Typed::unknown()
                };
            }
            _ => return Typed::unknown(),
        };
        match arithmetic(arith, a, b) {
            Ok(ty) => ty.map_or_else(Typed::unknown, |ty| Typed {
                ty: Some(ty),
                literal: a.literal && b.literal,
            }),
            Err(()) => {
                let name = |t: &Typed| t.ty.as_ref().map_or_else(String::new, Ty::to_string);
                self.error(
                    e,
                    format!(
                        "no operator {op}({}, {}): cast the text to a number or date first",
                        name(a),
                        name(b)
                    ),
                );
                Typed::unknown()
            }
        }
    }

    fn function(&self, f: &Function) -> Typed {
        let name = match f.name.0.as_slice() {
            [ObjectNamePart::Identifier(i)] => i.value.to_ascii_lowercase(),
            _ => return Typed::unknown(),
        };
        let args: Vec<Option<&Expr>> = match &f.args {
            FunctionArguments::List(list) => list
                .args
                .iter()
                .map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Some(x),
                    _ => None,
                })
                .collect(),
            FunctionArguments::None => Vec::new(),
            FunctionArguments::Subquery(_) => return Typed::unknown(),
        };
        let typed: Vec<Typed> = args
            .iter()
            .map(|a| a.map_or_else(Typed::unknown, |x| self.expr(x)))
            .collect();
        if args.iter().any(Option::is_none) && name != "count" {
            return Typed::unknown();
        }
        // `timezone(zone, ts)` is what AT TIME ZONE calls.
        let zone_call = name == "timezone" && typed.len() == 2;
        if ICU_FUNCTIONS.contains(&name.as_str()) && typed.iter().any(is_tz) || zone_call {
            return Typed::unknown();
        }
        let first = typed.first().cloned().unwrap_or_default();
        let arg = first.known().cloned();
        let of = Typed::of;
        let same = || Typed {
            literal: false,
            ..first.clone()
        };
        let n = typed.len();
        let number = arg.as_ref().is_some_and(Ty::is_numeric);
        match (name.as_str(), n) {
            ("count" | "count_star", _) => of(Ty::BigInt),
            ("count_if" | "countif", 1) => of(Ty::HugeInt),
            ("sum", 1) => match &arg {
                Some(Ty::Double | Ty::Float) => of(Ty::Double),
                Some(Ty::Decimal(_, s)) => of(Ty::Decimal(38, *s)),
                Some(t) if t.family() == Family::Integer && !is_unsigned(t) || *t == Ty::Boolean => of(Ty::HugeInt),
                Some(t @ (Ty::Varchar | Ty::Date | Ty::Timestamp)) => {
                    self.no_function(f, &name, t);
                    Typed::unknown()
                }
                _ => Typed::unknown(),
            },
            ("avg" | "mean", 1) => match &arg {
                Some(t) if t.is_numeric() => of(Ty::Double),
                Some(Ty::Varchar) => {
                    self.no_function(f, &name, &Ty::Varchar);
                    Typed::unknown()
                }
                _ => Typed::unknown(),
            },
            ("min" | "max" | "any_value" | "arbitrary" | "first" | "last" | "mode", 1) => same(),
            ("lag" | "lead" | "first_value" | "last_value", 1..=2) if f.over.is_some() => same(),
            ("nth_value", 2) if f.over.is_some() => same(),
            ("median", 1) => match &arg {
                Some(Ty::Decimal(..)) => same(),
                Some(t) if t.is_numeric() => of(Ty::Double),
                _ => Typed::unknown(),
            },
            ("stddev" | "stddev_samp" | "stddev_pop" | "variance" | "var_samp" | "var_pop", 1) if number => {
                of(Ty::Double)
            }
            ("corr" | "covar_pop" | "covar_samp", 2) => of(Ty::Double),
            ("string_agg" | "group_concat" | "listagg", 1..=2) => of(Ty::Varchar),
            ("bool_and" | "bool_or" | "every", 1) => of(Ty::Boolean),
            ("row_number" | "rank" | "dense_rank", 0) if f.over.is_some() => of(Ty::BigInt),
            ("ntile", 1) if f.over.is_some() => of(Ty::BigInt),
            ("percent_rank" | "cume_dist", 0) if f.over.is_some() => of(Ty::Double),
            ("current_date" | "today", 0) => of(Ty::Date),
            ("now" | "current_timestamp" | "get_current_timestamp" | "transaction_timestamp", 0) => of(Ty::TimestampTz),
            ("date_trunc" | "datetrunc", 2) => match typed.get(1).and_then(Typed::known) {
                Some(Ty::Date | Ty::Timestamp) => of(Ty::Timestamp),
                _ => Typed::unknown(),
            },
            ("date_part" | "datepart", 2) if is_plain_temporal(typed.get(1)) && first.is_string_literal() => {
                of(Ty::BigInt)
            }
            (
                "year" | "month" | "day" | "quarter" | "week" | "dayofweek" | "dayofyear" | "dayofmonth" | "isodow"
                | "yearweek",
                1,
            ) if is_plain_temporal(Some(&first)) => of(Ty::BigInt),
            ("date_diff" | "datediff" | "date_sub" | "datesub", 3) if is_plain_temporal(typed.get(1)) => of(Ty::BigInt),
            ("epoch", 1) if is_plain_temporal(Some(&first)) => of(Ty::Double),
            ("strftime", 2) if is_plain_temporal(Some(&first)) => of(Ty::Varchar),
            ("make_date", 3) => of(Ty::Date),
            ("last_day", 1) if is_plain_temporal(Some(&first)) => of(Ty::Date),
            ("to_timestamp", 1) if number => of(Ty::TimestampTz),
            ("lower" | "upper" | "lcase" | "ucase", 1) => self.text_function(f, &name, &first, Ty::Varchar),
            ("length" | "char_length" | "character_length" | "strlen", 1) => {
                self.text_function(f, &name, &first, Ty::BigInt)
            }
            ("ltrim" | "rtrim" | "reverse" | "md5" | "sha256" | "initcap", 1)
            | ("replace" | "translate" | "regexp_replace", 3)
            | ("substr" | "substring", 2..=3)
            | ("left" | "right" | "repeat" | "split_part" | "lpad" | "rpad" | "regexp_extract", 2..=3)
                if first.ty == Some(Ty::Varchar) =>
            {
                of(Ty::Varchar)
            }
            ("concat" | "concat_ws", 1..) => of(Ty::Varchar),
            ("strpos" | "instr" | "position", 2) if first.ty == Some(Ty::Varchar) => of(Ty::BigInt),
            ("contains" | "starts_with" | "ends_with" | "regexp_matches" | "prefix" | "suffix", 2)
                if first.ty == Some(Ty::Varchar) =>
            {
                of(Ty::Boolean)
            }
            ("hash", 1..) => of(Ty::UBigInt),
            ("uuid" | "gen_random_uuid", 0) => of(Ty::Uuid),
            ("abs", 1) if number && !first.literal => same(),
            ("round", 1..=2) => match &arg {
                Some(Ty::Decimal(w, _)) => match typed.get(1) {
                    None => of(Ty::Decimal(*w, 0)),
                    Some(_) => match args.get(1).copied().flatten().map(unnest_parens) {
                        Some(Expr::Value(v)) => match &v.value {
                            Value::Number(digits, _) => match digits.parse::<u8>() {
                                Ok(s) if s <= *w => of(Ty::Decimal(*w, s)),
                                _ => Typed::unknown(),
                            },
                            _ => Typed::unknown(),
                        },
                        _ => Typed::unknown(),
                    },
                },
                Some(Ty::Double) => of(Ty::Double),
                Some(t) if t.family() == Family::Integer && !first.literal => same(),
                _ => Typed::unknown(),
            },
            ("floor" | "ceil" | "ceiling", 1) => arg.as_ref().and_then(rounded).map_or_else(Typed::unknown, of),
            (
                "sqrt" | "ln" | "log" | "log10" | "log2" | "exp" | "power" | "pow" | "cbrt" | "sin" | "cos" | "tan"
                | "atan" | "radians" | "degrees",
                _,
            ) if typed.iter().all(|t| t.known().is_some_and(Ty::is_numeric)) => of(Ty::Double),
            ("coalesce" | "ifnull", 1..) | ("greatest" | "least", 1..) => {
                let mut ty = None;
                self.combine(f, &name.to_uppercase(), typed.into_iter(), &mut ty);
                ty.map_or_else(Typed::unknown, |t| Typed { literal: false, ..t })
            }
            ("nullif", 2) => same(),
            _ => Typed::unknown(),
        }
    }

    /// `lower`, `length`...: text in, `out` out; an error for a number or a date.
    fn text_function(&self, f: &Function, name: &str, arg: &Typed, out: Ty) -> Typed {
        match arg.known() {
            Some(Ty::Varchar) => Typed::of(out),
            Some(t) if t.is_numeric() || is_temporal(t) => {
                self.no_function(f, name, t);
                Typed::unknown()
            }
            _ => Typed::unknown(),
        }
    }

    /// Folds the types of `CASE` results or `COALESCE` arguments into `ty`,
    /// recording the first pair DuckDB refuses to mix.
    fn combine(&self, at: &dyn Spanned, what: &str, types: impl Iterator<Item = Typed>, ty: &mut Option<Typed>) {
        let mut seen: Vec<Typed> = Vec::new();
        let mut unknown = false;
        for t in types {
            if let Some((l, r)) = seen.iter().find_map(|s| incompatible(s, &t)) {
                self.error(
                    at,
                    format!("cannot mix values of type {l} and {r} in {what} without an explicit cast"),
                );
                *ty = None;
                return;
            }
            unknown |= t.ty.is_none();
            *ty = match ty.take() {
                None if seen.is_empty() => Some(t.clone()),
                None => None,
                Some(acc) => common(&acc, &t).map(|c| Typed {
                    literal: acc.literal && t.literal,
                    ty: Some(c),
                }),
            };
            seen.push(t);
        }
        if unknown {
            *ty = None;
        }
    }

    fn no_function(&self, f: &Function, name: &str, arg: &Ty) {
        self.error(f, format!("no function {name}({arg}): cast the argument first"));
    }

    fn error(&self, at: &dyn Spanned, message: String) {
        self.cx.missing.problem(TypeProblem::at(at.span(), message, true));
    }
}

/// The date-part and date-difference functions DuckDB's ICU extension implements
/// for `TIMESTAMPTZ`, by time-zone rules this typer does not model: of a
/// `TIMESTAMPTZ`, their type is unknown.
const ICU_FUNCTIONS: &[&str] = &[
    "age",
    "century",
    "date_diff",
    "date_part",
    "date_sub",
    "date_trunc",
    "datediff",
    "datepart",
    "datesub",
    "datetrunc",
    "day",
    "dayname",
    "dayofmonth",
    "dayofweek",
    "dayofyear",
    "decade",
    "epoch",
    "epoch_ms",
    "epoch_ns",
    "epoch_us",
    "era",
    "hour",
    "isodow",
    "isoyear",
    "julian",
    "last_day",
    "microsecond",
    "millennium",
    "millisecond",
    "minute",
    "month",
    "monthname",
    "quarter",
    "second",
    "time_bucket",
    "timezone",
    "timezone_hour",
    "timezone_minute",
    "week",
    "weekday",
    "weekofyear",
    "year",
    "yearweek",
];

/// A value known to be a `TIMESTAMPTZ`.
fn is_tz(t: &Typed) -> bool {
    matches!(t.known(), Some(Ty::TimestampTz))
}

/// A literal's type, as DuckDB types it.
fn literal(v: &Value) -> Typed {
    match v {
        Value::Number(digits, _) => {
            let ty = if digits.contains(['e', 'E']) {
                Some(Ty::Double)
            } else if let Some((int, frac)) = digits.split_once('.') {
                // Every digit as written counts, leading zeros too.
                u8::try_from(int.len() + frac.len())
                    .ok()
                    .filter(|w| (1..=38).contains(w))
                    .and_then(|w| Some(Ty::Decimal(w, u8::try_from(frac.len()).ok()?)))
            } else {
                match digits.parse::<i128>() {
                    Ok(n) if i32::try_from(n).is_ok() => Some(Ty::Integer),
                    Ok(n) if i64::try_from(n).is_ok() => Some(Ty::BigInt),
                    _ => None,
                }
            };
            ty.map_or_else(Typed::unknown, Typed::literal)
        }
        Value::SingleQuotedString(_) | Value::DollarQuotedString(_) | Value::EscapedStringLiteral(_) => {
            Typed::literal(Ty::Varchar)
        }
        Value::Boolean(_) => Typed::literal(Ty::Boolean),
        Value::Null => Typed::literal(Ty::Null),
        _ => Typed::unknown(),
    }
}

/// A declared type (a cast's target), when modelc reasons about it.
pub(super) fn data_type(t: &DataType) -> Option<Ty> {
    Ty::parse(&t.to_string()).filter(Ty::is_known)
}

/// The type of `floor` or `ceil` of a value of type `t`.
fn rounded(t: &Ty) -> Option<Ty> {
    match t {
        Ty::Decimal(w, _) => Some(Ty::Decimal(*w, 0)),
        Ty::Double | Ty::Integer | Ty::BigInt => Some(Ty::Double),
        _ => None,
    }
}

fn is_temporal(t: &Ty) -> bool {
    matches!(t, Ty::Date | Ty::Timestamp | Ty::TimestampTz)
}

/// A `DATE` or `TIMESTAMP` (not `TIMESTAMPTZ`, whose functions follow ICU's rules).
fn is_plain_temporal(t: Option<&Typed>) -> bool {
    matches!(t.and_then(Typed::known), Some(Ty::Date | Ty::Timestamp))
}

fn is_unsigned(t: &Ty) -> bool {
    matches!(
        t,
        Ty::UTinyInt | Ty::USmallInt | Ty::UInteger | Ty::UBigInt | Ty::UHugeInt
    )
}
