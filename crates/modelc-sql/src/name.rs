//! [`RelationName`]: a possibly-qualified relation name as written in SQL, with
//! DuckDB's case-insensitive comparison rules and SQL-style display.

use std::fmt;

/// A possibly-qualified relation name as written: `["db", "schema", "table"]`,
/// `["schema", "table"]` or `["table"]`.
///
/// Parts are kept exactly as written (unquoted, not lowercased). DuckDB
/// identifiers are case-insensitive, so [`RelationName::matches`] compares
/// without regard to ASCII case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct RelationName {
    /// The name's parts, outermost first.
    pub parts: Vec<String>,
}

impl RelationName {
    /// Creates a name from its parts, outermost first.
    pub fn new(parts: Vec<String>) -> Self {
        RelationName { parts }
    }

    /// The last part: the table (or view) name itself. Empty if there are no parts.
    pub fn table(&self) -> &str {
        self.parts.last().map_or("", String::as_str)
    }

    /// Whether `self` and `other` may name the same relation: compared
    /// case-insensitively, part by part from the end, over the length of the
    /// shorter name. So `[t]` matches `[s, t]` (and vice versa), but `[a, t]`
    /// does not match `[b, t]`. Empty names match nothing.
    pub fn matches(&self, other: &RelationName) -> bool {
        suffix_matches(&self.parts, other.parts.iter().map(String::as_str))
    }
}

/// Whether `parts` and `other` agree case-insensitively over their common
/// suffix (the length of the shorter one). Either being empty means no match.
pub(crate) fn suffix_matches<'a, I>(parts: &[String], other: I) -> bool
where
    I: DoubleEndedIterator<Item = &'a str> + ExactSizeIterator,
{
    if parts.is_empty() || other.len() == 0 {
        return false;
    }
    parts
        .iter()
        .rev()
        .zip(other.rev())
        .all(|(a, b)| a.eq_ignore_ascii_case(b))
}

impl fmt::Display for RelationName {
    /// Parts joined by `.`, each double-quoted only if it needs quoting: it is
    /// empty, is not a plain identifier (`[A-Za-z_][A-Za-z0-9_$]*`), or is a
    /// DuckDB reserved keyword.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write_ident(f, part)?;
        }
        Ok(())
    }
}

/// Writes `ident`, double-quoted (with `"` doubled) if it needs quoting.
pub(crate) fn write_ident(f: &mut impl fmt::Write, ident: &str) -> fmt::Result {
    if !needs_quoting(ident) {
        return f.write_str(ident);
    }
    f.write_char('"')?;
    for c in ident.chars() {
        if c == '"' {
            f.write_char('"')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

fn needs_quoting(ident: &str) -> bool {
    let mut bytes = ident.bytes();
    let plain = match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' => {
            bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
        }
        _ => false,
    };
    !plain || is_reserved(ident)
}

/// DuckDB's reserved keywords (`duckdb_keywords()` with category `reserved`),
/// sorted. Only these need quoting when used as identifiers.
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "default",
    "deferrable",
    "desc",
    "describe",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "initially",
    "intersect",
    "into",
    "lateral",
    "leading",
    "limit",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "pivot",
    "pivot_longer",
    "pivot_wider",
    "placing",
    "primary",
    "qualify",
    "references",
    "returning",
    "select",
    "show",
    "some",
    "summarize",
    "symmetric",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "unpivot",
    "using",
    "variadic",
    "when",
    "where",
    "window",
    "with",
];

fn is_reserved(ident: &str) -> bool {
    RESERVED.binary_search_by(|k| cmp_lowercase(k, ident)).is_ok()
}

/// Compares an already-lowercase `a` with `b` as if `b` were lowercased,
/// without allocating.
pub(crate) fn cmp_lowercase(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes().cmp(b.bytes().map(|b| b.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(parts: &[&str]) -> RelationName {
        RelationName::new(parts.iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn reserved_list_is_sorted() {
        assert!(RESERVED.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn display_quotes_only_when_needed() {
        assert_eq!(name(&["main", "Orders"]).to_string(), "main.Orders");
        assert_eq!(name(&["my schema", "t"]).to_string(), "\"my schema\".t");
        assert_eq!(name(&["s", "Order"]).to_string(), "s.\"Order\"");
        assert_eq!(name(&["a\"b", "1t", ""]).to_string(), "\"a\"\"b\".\"1t\".\"\"");
        assert_eq!(name(&["_x$1"]).to_string(), "_x$1");
    }

    #[test]
    fn matches_by_suffix_ignoring_case() {
        assert!(name(&["t"]).matches(&name(&["s", "T"])));
        assert!(name(&["db", "s", "t"]).matches(&name(&["S", "t"])));
        assert!(!name(&["a", "t"]).matches(&name(&["b", "t"])));
        assert!(!name(&["t"]).matches(&name(&["u"])));
        assert!(!name(&[]).matches(&name(&["u"])));
        assert_eq!(name(&["s", "t"]).table(), "t");
        assert_eq!(name(&[]).table(), "");
    }
}
