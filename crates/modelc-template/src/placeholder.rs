//! Placeholders for relations that are only known after the whole project is rendered.
//!
//! `ref()`, `source()` and `this` render to tokens like `__modelc_ref_0__` or
//! `__modelc_this_identifier__`. Once every node's config (and so its schema and
//! alias) is known, [`resolve`] replaces them with the real relation text. One
//! render per node is enough, where dbt renders twice (parse, then compile).

use std::fmt::Write;

/// What a placeholder stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The i-th `ref()` call of the node.
    Ref(usize),
    /// The i-th `source()` call of the node.
    Source(usize),
    /// `this`.
    This,
}

/// Which part of the relation is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The whole relation.
    Whole,
    /// `.database`.
    Database,
    /// `.schema`.
    Schema,
    /// `.identifier` / `.name` / `.table`.
    Identifier,
}

impl Part {
    fn suffix(self) -> &'static str {
        match self {
            Part::Whole => "",
            Part::Database => "_database",
            Part::Schema => "_schema",
            Part::Identifier => "_identifier",
        }
    }
}

/// The placeholder text for a target and part.
pub fn placeholder(target: Target, part: Part) -> String {
    let mut s = String::from("__modelc_");
    match target {
        Target::Ref(i) => {
            let _ = write!(s, "ref_{i}");
        }
        Target::Source(i) => {
            let _ = write!(s, "src_{i}");
        }
        Target::This => s.push_str("this"),
    }
    s.push_str(part.suffix());
    s.push_str("__");
    s
}

/// Replaces every placeholder in `sql` using `lookup`, which returns the text for a
/// target and part (or `None` to leave the placeholder, which the caller reports).
pub fn resolve(sql: &str, mut lookup: impl FnMut(Target, Part) -> Option<String>) -> String {
    const START: &str = "__modelc_";
    if !sql.contains(START) {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 64);
    let mut rest = sql;
    while let Some(i) = rest.find(START) {
        out.push_str(&rest[..i]);
        let tail = &rest[i + START.len()..];
        match parse(tail) {
            Some((target, part, len)) => match lookup(target, part) {
                Some(text) => {
                    out.push_str(&text);
                    rest = &tail[len..];
                }
                None => {
                    out.push_str(START);
                    rest = tail;
                }
            },
            None => {
                out.push_str(START);
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Parses `ref_3_schema__` (after the common prefix): target, part, bytes consumed.
fn parse(tail: &str) -> Option<(Target, Part, usize)> {
    let end = tail.find("__")?;
    let body = &tail[..end];
    let (head, part) = [
        ("_database", Part::Database),
        ("_schema", Part::Schema),
        ("_identifier", Part::Identifier),
    ]
    .into_iter()
    .find_map(|(suf, p)| body.strip_suffix(suf).map(|h| (h, p)))
    .unwrap_or((body, Part::Whole));
    let target = if head == "this" {
        Target::This
    } else if let Some(n) = head.strip_prefix("ref_") {
        Target::Ref(n.parse().ok()?)
    } else if let Some(n) = head.strip_prefix("src_") {
        Target::Source(n.parse().ok()?)
    } else {
        return None;
    };
    Some((target, part, end + 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let sql = format!(
            "select * from {} join {} on 1=1 -- {} {}",
            placeholder(Target::Ref(0), Part::Whole),
            placeholder(Target::Source(12), Part::Whole),
            placeholder(Target::This, Part::Identifier),
            placeholder(Target::Ref(1), Part::Schema),
        );
        let out = resolve(&sql, |t, p| match (t, p) {
            (Target::Ref(0), Part::Whole) => Some("\"db\".\"main\".\"a\"".into()),
            (Target::Source(12), Part::Whole) => Some("read_csv('x.csv')".into()),
            (Target::This, Part::Identifier) => Some("me".into()),
            _ => None,
        });
        assert_eq!(
            out,
            "select * from \"db\".\"main\".\"a\" join read_csv('x.csv') on 1=1 -- me __modelc_ref_1_schema__"
        );
        assert_eq!(resolve("__modelc_nope__ x", |_, _| None), "__modelc_nope__ x");
    }
}
