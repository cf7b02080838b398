//! Column types as DuckDB has them ([`Ty`]): parsed from what users declare
//! (`data_type`, `column_types`, casts), shown as DuckDB names them, and combined
//! by DuckDB's rules where they are certain (arithmetic, `CASE`, `UNION`). Every
//! rule here is checked against DuckDB itself by the data-driven test in
//! `crates/modelc/tests/it/types.rs`: a rule not known for sure gives no type.

use std::fmt;

/// A column type, as DuckDB has it: each variant is the DuckDB type of its name.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Ty {
    /// The type of a bare `NULL`.
    Null,
    Boolean,
    TinyInt,
    SmallInt,
    Integer,
    BigInt,
    HugeInt,
    UTinyInt,
    USmallInt,
    UInteger,
    UBigInt,
    UHugeInt,
    Float,
    Double,
    /// `DECIMAL(width, scale)`.
    Decimal(u8, u8),
    Varchar,
    Blob,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    /// Any other type, as declared or as DuckDB names it (lists, structs, maps,
    /// `JSON`, other engines' names): shown, never reasoned about.
    Other(String),
}

/// The broad kinds DuckDB's implicit-cast rules tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Boolean,
    Integer,
    /// Decimal and floating point.
    Fractional,
    Text,
    Temporal,
    Other,
}

impl Ty {
    /// Parses a type as a user writes it (`int`, `numeric(10,2)`, `timestamp with
    /// time zone`, `text`...), with DuckDB's aliases. Unknown names become
    /// [`Ty::Other`]; `None` for an empty string.
    pub fn parse(text: &str) -> Option<Ty> {
        let words: Vec<String> = text.split_whitespace().map(str::to_ascii_lowercase).collect();
        let norm = words.join(" ");
        if norm.is_empty() {
            return None;
        }
        let (base, args) = match norm.split_once('(') {
            Some((b, rest)) if rest.ends_with(')') => (b.trim(), Some(&rest[..rest.len() - 1])),
            _ => (norm.as_str(), None),
        };
        let other = || {
            Some(Ty::Other(
                text.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase(),
            ))
        };
        let ty = match (base, args) {
            ("decimal" | "numeric" | "dec", None) => Ty::Decimal(18, 3),
            ("decimal" | "numeric" | "dec", Some(args)) => {
                let nums: Vec<Option<u8>> = args.split(',').map(|a| a.trim().parse().ok()).collect();
                match nums.as_slice() {
                    [Some(w)] if (1..=38).contains(w) => Ty::Decimal(*w, 0),
                    [Some(w), Some(s)] if (1..=38).contains(w) && s <= w => Ty::Decimal(*w, *s),
                    _ => return other(),
                }
            }
            ("varchar" | "char" | "bpchar" | "character varying" | "character" | "nvarchar" | "string" | "text", _) => {
                Ty::Varchar
            }
            (_, Some(_)) => return other(),
            ("bool" | "boolean" | "logical", None) => Ty::Boolean,
            ("tinyint" | "int1", None) => Ty::TinyInt,
            ("smallint" | "int2" | "short", None) => Ty::SmallInt,
            ("integer" | "int" | "int4" | "signed", None) => Ty::Integer,
            ("bigint" | "int8" | "long", None) => Ty::BigInt,
            ("hugeint" | "int128", None) => Ty::HugeInt,
            ("utinyint", None) => Ty::UTinyInt,
            ("usmallint", None) => Ty::USmallInt,
            ("uinteger", None) => Ty::UInteger,
            ("ubigint", None) => Ty::UBigInt,
            ("uhugeint", None) => Ty::UHugeInt,
            ("float" | "float4" | "real", None) => Ty::Float,
            ("double" | "float8" | "double precision", None) => Ty::Double,
            ("blob" | "bytea" | "binary" | "varbinary", None) => Ty::Blob,
            ("date", None) => Ty::Date,
            ("time" | "time without time zone", None) => Ty::Time,
            ("timestamp" | "datetime" | "timestamp without time zone", None) => Ty::Timestamp,
            ("timestamptz" | "timestamp with time zone", None) => Ty::TimestampTz,
            ("interval", None) => Ty::Interval,
            ("uuid", None) => Ty::Uuid,
            ("null", None) => Ty::Null,
            _ => return other(),
        };
        Some(ty)
    }

    /// Whether modelc reasons about this type (it is not [`Ty::Other`]).
    pub fn is_known(&self) -> bool {
        !matches!(self, Ty::Other(_))
    }

    pub(crate) fn family(&self) -> Family {
        match self {
            Ty::Boolean => Family::Boolean,
            Ty::TinyInt
            | Ty::SmallInt
            | Ty::Integer
            | Ty::BigInt
            | Ty::HugeInt
            | Ty::UTinyInt
            | Ty::USmallInt
            | Ty::UInteger
            | Ty::UBigInt
            | Ty::UHugeInt => Family::Integer,
            Ty::Float | Ty::Double | Ty::Decimal(..) => Family::Fractional,
            Ty::Varchar => Family::Text,
            Ty::Date | Ty::Timestamp | Ty::TimestampTz => Family::Temporal,
            _ => Family::Other,
        }
    }

    pub(crate) fn is_numeric(&self) -> bool {
        matches!(self.family(), Family::Integer | Family::Fractional)
    }

    /// A signed integer's rank (wider is greater), `None` for other types.
    fn int_rank(&self) -> Option<u8> {
        match self {
            Ty::TinyInt => Some(1),
            Ty::SmallInt => Some(2),
            Ty::Integer => Some(3),
            Ty::BigInt => Some(4),
            Ty::HugeInt => Some(5),
            _ => None,
        }
    }

    /// The decimal a signed integer or decimal is widened to in decimal arithmetic.
    fn as_decimal(&self) -> Option<(u8, u8)> {
        match self {
            Ty::TinyInt => Some((3, 0)),
            Ty::SmallInt => Some((5, 0)),
            Ty::Integer => Some((10, 0)),
            Ty::BigInt => Some((18, 0)),
            Ty::HugeInt => Some((38, 0)),
            Ty::Decimal(w, s) => Some((*w, *s)),
            _ => None,
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Ty::Null => "NULL",
            Ty::Boolean => "BOOLEAN",
            Ty::TinyInt => "TINYINT",
            Ty::SmallInt => "SMALLINT",
            Ty::Integer => "INTEGER",
            Ty::BigInt => "BIGINT",
            Ty::HugeInt => "HUGEINT",
            Ty::UTinyInt => "UTINYINT",
            Ty::USmallInt => "USMALLINT",
            Ty::UInteger => "UINTEGER",
            Ty::UBigInt => "UBIGINT",
            Ty::UHugeInt => "UHUGEINT",
            Ty::Float => "FLOAT",
            Ty::Double => "DOUBLE",
            Ty::Decimal(w, s) => return write!(f, "DECIMAL({w},{s})"),
            Ty::Varchar => "VARCHAR",
            Ty::Blob => "BLOB",
            Ty::Date => "DATE",
            Ty::Time => "TIME",
            Ty::Timestamp => "TIMESTAMP",
            Ty::TimestampTz => "TIMESTAMP WITH TIME ZONE",
            Ty::Interval => "INTERVAL",
            Ty::Uuid => "UUID",
            Ty::Other(name) => name,
        };
        f.write_str(name)
    }
}

/// A typed value while analyzing: its type, and whether it is a literal
/// constant, which DuckDB lets adapt to the other side (`'2024-01-01'` compares
/// with a date, `1` adds to a `SMALLINT` as a `SMALLINT`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Typed {
    pub(crate) ty: Option<Ty>,
    pub(crate) literal: bool,
}

impl Typed {
    pub(crate) fn of(ty: Ty) -> Typed {
        Typed {
            ty: Some(ty),
            literal: false,
        }
    }

    pub(crate) fn unknown() -> Typed {
        Typed::default()
    }

    pub(crate) fn literal(ty: Ty) -> Typed {
        Typed {
            ty: Some(ty),
            literal: true,
        }
    }

    /// The type, unless it is unknown or one modelc does not reason about.
    pub(crate) fn known(&self) -> Option<&Ty> {
        self.ty.as_ref().filter(|t| t.is_known())
    }

    pub(crate) fn is_null(&self) -> bool {
        self.ty == Some(Ty::Null)
    }

    /// Whether this is a string literal: it casts to whatever it meets.
    pub(crate) fn is_string_literal(&self) -> bool {
        self.literal && self.ty == Some(Ty::Varchar)
    }
}

/// The type DuckDB gives values of types `a` and `b` combined in a `CASE`,
/// `COALESCE`, `UNION` or `VALUES` (its "max logical type"), where certain.
/// Literals adapt to the other side; `NULL` gives way.
pub(crate) fn common(a: &Typed, b: &Typed) -> Option<Ty> {
    if a.is_null() {
        return b.ty.clone();
    }
    if b.is_null() {
        return a.ty.clone();
    }
    let (x, y) = (a.known()?, b.known()?);
    if x == y {
        return Some(x.clone());
    }
    if a.is_string_literal() {
        return Some(y.clone());
    }
    if b.is_string_literal() {
        return Some(x.clone());
    }
    if let (Some(rx), Some(ry)) = (x.int_rank(), y.int_rank()) {
        // An integer literal takes the other side's type.
        return Some(match (a.literal, b.literal) {
            (true, false) => y.clone(),
            (false, true) => x.clone(),
            _ if rx >= ry => x.clone(),
            _ => y.clone(),
        });
    }
    match (x, y) {
        (Ty::Double, t) | (t, Ty::Double) if t.is_numeric() => Some(Ty::Double),
        (Ty::Decimal(..), _) | (_, Ty::Decimal(..)) => {
            let ((w1, s1), (w2, s2)) = (x.as_decimal()?, y.as_decimal()?);
            let scale = s1.max(s2);
            let width = (w1 - s1).max(w2 - s2) + scale;
            Some(Ty::Decimal(width.min(38), scale))
        }
        (Ty::Date, Ty::Timestamp) | (Ty::Timestamp, Ty::Date) => Some(Ty::Timestamp),
        _ => None,
    }
}

/// The families DuckDB cannot mix without an explicit cast in an ordering
/// comparison (`<`, `BETWEEN`), a `CASE` or a `COALESCE`, as a pair of names,
/// or `None` when it can (or modelc is not sure it cannot).
pub(crate) fn incompatible(a: &Typed, b: &Typed) -> Option<(Ty, Ty)> {
    if a.is_string_literal() || b.is_string_literal() {
        return None;
    }
    let (x, y) = (a.known()?, b.known()?);
    let clash = |f: Family, g: Family| {
        matches!(
            (f, g),
            (Family::Text, Family::Integer | Family::Fractional | Family::Temporal)
                | (Family::Integer | Family::Fractional, Family::Temporal)
        )
    };
    let (f, g) = (x.family(), y.family());
    (clash(f, g) || clash(g, f)).then(|| (x.clone(), y.clone()))
}

/// The arithmetic operators DuckDB types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    IntDiv,
    Mod,
}

/// The type of `a op b`: `Ok(None)` when not certain, `Err` when DuckDB has no
/// such operator (text in arithmetic).
pub(crate) fn arithmetic(op: Arith, a: &Typed, b: &Typed) -> Result<Option<Ty>, ()> {
    let (Some(x), Some(y)) = (a.known(), b.known()) else {
        return Ok(None);
    };
    let text = |t: &Typed| t.ty == Some(Ty::Varchar) && !t.literal;
    if text(a) && (y.is_numeric() || *y == Ty::Varchar || y.family() == Family::Temporal)
        || text(b) && (x.is_numeric() || x.family() == Family::Temporal)
    {
        return Err(());
    }
    if x.is_numeric() && y.is_numeric() {
        return Ok(numeric(op, a, b));
    }
    Ok(match (op, x, y) {
        (Arith::Add | Arith::Sub, Ty::Date, t) if t.int_rank().is_some() => Some(Ty::Date),
        (Arith::Add, t, Ty::Date) if t.int_rank().is_some() => Some(Ty::Date),
        (Arith::Sub, Ty::Date, Ty::Date) => Some(Ty::BigInt),
        (Arith::Sub, Ty::Timestamp, Ty::Timestamp) => Some(Ty::Interval),
        (Arith::Add | Arith::Sub, Ty::Date | Ty::Timestamp, Ty::Interval) => Some(Ty::Timestamp),
        (Arith::Add, Ty::Interval, Ty::Date | Ty::Timestamp) => Some(Ty::Timestamp),
        (Arith::Add | Arith::Sub, Ty::Interval, Ty::Interval) => Some(Ty::Interval),
        _ => None,
    })
}

/// Arithmetic on two numbers.
fn numeric(op: Arith, a: &Typed, b: &Typed) -> Option<Ty> {
    let (x, y) = (a.known()?, b.known()?);
    if op == Arith::Div {
        return matches!(x.family(), Family::Integer | Family::Fractional)
            .then_some(())
            .and_then(|()| (*x != Ty::Float && *y != Ty::Float).then_some(Ty::Double));
    }
    if x.int_rank().is_some() && y.int_rank().is_some() {
        return common(a, b);
    }
    if op == Arith::IntDiv {
        return None;
    }
    match (x, y) {
        (Ty::Double, _) | (_, Ty::Double) => return Some(Ty::Double),
        (Ty::Float, t) | (t, Ty::Float) if t.int_rank().is_some() => return Some(Ty::Float),
        (Ty::Float, _) | (_, Ty::Float) => return None,
        _ => {}
    }
    let ((w1, s1), (w2, s2)) = (decimal_operand(a)?, decimal_operand(b)?);
    let (w, s) = match op {
        Arith::Add | Arith::Sub => {
            let s = s1.max(s2);
            ((w1 - s1).max(w2 - s2) + s + 1, s)
        }
        Arith::Mod => {
            let s = s1.max(s2);
            ((w1 - s1).max(w2 - s2) + s, s)
        }
        Arith::Mul => {
            let (w, s) = (u16::from(w1) + u16::from(w2), s1 + s2);
            if s > 38 {
                return None;
            }
            let w = if w > 18 && w1.max(w2) <= 18 && s < 18 {
                18
            } else {
                w.min(38)
            };
            (w as u8, s)
        }
        Arith::Div | Arith::IntDiv => return None,
    };
    Some(Ty::Decimal(w.min(38), s))
}

/// An operand of decimal arithmetic: an integer literal counts as an `INTEGER`.
fn decimal_operand(t: &Typed) -> Option<(u8, u8)> {
    match t.known()? {
        ty if t.literal && ty.int_rank().is_some() => Some((10, 0)),
        ty => ty.as_decimal(),
    }
}
