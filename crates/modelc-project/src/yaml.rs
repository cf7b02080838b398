//! YAML helpers: parse with located errors, convert to JSON, find the line of a key.
//!
//! serde_yaml does not keep positions of values, so warnings about a key are
//! located by searching the text for `key:` from the line of the enclosing entry.
//! That is exact for ordinary property files and never worse than the file name.

use modelc_core::{Diagnostic, JsonMap};
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

/// Files at least this large are parsed a part at a time, in parallel, when their
/// shape allows it (see [`parse_split`]).
const SPLIT_AT: usize = 64 * 1024;

/// Parses YAML text; a syntax error becomes a diagnostic at its line and column.
pub fn parse(path: &str, text: &str) -> Result<Yaml, Diagnostic> {
    if text.trim().is_empty() {
        return Ok(Yaml::Null);
    }
    if text.len() >= SPLIT_AT {
        if let Some(doc) = parse_split(text) {
            return Ok(doc);
        }
    }
    serde_yaml::from_str::<Yaml>(text).map_err(|e| {
        let (line, col) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
        let message = e.to_string();
        // serde_yaml appends " at line X column Y"; the location is shown separately.
        let message = match message.find(" at line ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        // serde_yaml places a duplicate key at the start of its mapping: point at the
        // second occurrence of the key instead.
        let (line, col) = duplicate_key(&message)
            .and_then(|key| second_key(text, key, line))
            .unwrap_or((line, col));
        Diagnostic::error("yaml-syntax", format!("invalid YAML: {message}")).at(path, line, col)
    })
}

/// The key of serde_yaml's `duplicate entry with key "k"` message.
fn duplicate_key(message: &str) -> Option<&str> {
    let rest = &message[message.find("duplicate entry with key \"")? + 26..];
    rest.get(..rest.rfind('"')?)
}

/// The line and column of the second `key:` at one indentation, searching from
/// `from` (the mapping's first line).
fn second_key(text: &str, key: &str, from: usize) -> Option<(usize, usize)> {
    let mut first: Option<usize> = None;
    for (i, line) in text.lines().enumerate().skip(from.saturating_sub(1)) {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let (body, col) = match trimmed.strip_prefix("- ") {
            Some(rest) => (rest.trim_start(), indent + 2 + (rest.len() - rest.trim_start().len())),
            None => (trimmed, indent),
        };
        let unquoted = body
            .strip_prefix(['"', '\''])
            .and_then(|b| b.strip_prefix(key))
            .and_then(|b| b.strip_prefix(['"', '\'']))
            .or_else(|| body.strip_prefix(key));
        if !unquoted.is_some_and(|r| r.trim_start().starts_with(':')) {
            continue;
        }
        match first {
            None => first = Some(col),
            Some(c) if c == col => return Some((i + 1, col + 1)),
            Some(_) => {}
        }
    }
    None
}

/// The kind of value a YAML key takes, to reject a list where text belongs (which
/// would otherwise be read as nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A string, number or boolean.
    Scalar,
    /// `true` or `false`.
    Bool,
    /// A whole number.
    Integer,
    /// A mapping.
    Mapping,
    /// A list.
    List,
    /// A scalar, or a list of scalars.
    ScalarOrList,
    /// Text, or a list of texts (folder paths).
    TextOrList,
}

impl Shape {
    /// Whether `value` has this shape (null always has: an empty key is unset).
    pub fn accepts(self, value: &Yaml) -> bool {
        let scalar = |v: &Yaml| matches!(v, Yaml::String(_) | Yaml::Number(_) | Yaml::Bool(_));
        match (self, value) {
            (_, Yaml::Null) => true,
            (_, Yaml::Tagged(t)) => self.accepts(&t.value),
            (Shape::Scalar, v) => scalar(v),
            (Shape::Bool, Yaml::Bool(_)) => true,
            (Shape::Bool, Yaml::String(s)) => matches!(s.to_ascii_lowercase().as_str(), "true" | "false"),
            (Shape::Integer, Yaml::Number(n)) => n.is_i64() || n.is_u64(),
            (Shape::Mapping, Yaml::Mapping(_)) => true,
            (Shape::List, Yaml::Sequence(_)) => true,
            (Shape::ScalarOrList, Yaml::Sequence(items)) => items.iter().all(scalar),
            (Shape::ScalarOrList, v) => scalar(v),
            (Shape::TextOrList, Yaml::String(_)) => true,
            (Shape::TextOrList, Yaml::Sequence(items)) => items.iter().all(Yaml::is_string),
            _ => false,
        }
    }

    /// What the shape is, for messages.
    pub fn expected(self) -> &'static str {
        match self {
            Shape::Scalar => "a single value",
            Shape::Bool => "true or false",
            Shape::Integer => "a whole number",
            Shape::Mapping => "a mapping (key: value lines)",
            Shape::List => "a list",
            Shape::ScalarOrList => "a value or a list of values",
            Shape::TextOrList => "a text or a list of texts",
        }
    }
}

/// What a YAML value is, for messages.
pub fn kind_of(value: &Yaml) -> &'static str {
    match value {
        Yaml::Null => "empty",
        Yaml::Bool(_) => "a boolean",
        Yaml::Number(_) => "a number",
        Yaml::String(_) => "text",
        Yaml::Sequence(_) => "a list",
        Yaml::Mapping(_) => "a mapping",
        Yaml::Tagged(t) => kind_of(&t.value),
    }
}

/// An error for each key of `map` whose value does not have its shape in `shapes`,
/// at the key's line (searched from `from`): "'columns' of model 'x' must be a list,
/// not a number".
pub fn check_shapes(
    path: &str,
    lines: &Lines<'_>,
    map: &Yaml,
    shapes: &[(&str, Shape)],
    what: &str,
    from: usize,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (key, shape) in shapes {
        let Some(value) = map.get(*key) else { continue };
        if shape.accepts(value) {
            continue;
        }
        let (line, col) = lines.find_key(key, from);
        out.push(
            Diagnostic::error(
                "yaml-type",
                format!("'{key}' of {what} must be {}, not {}", shape.expected(), kind_of(value)),
            )
            .at(path, line, col),
        );
    }
    out
}

/// Whether a line starts a sequence item at indentation `indent`.
fn is_item(line: &str, indent: usize) -> bool {
    let rest = line.get(indent..).unwrap_or_default();
    line.bytes().take(indent).all(|b| b == b' ')
        && rest.starts_with('-')
        && rest[1..].chars().next().is_none_or(char::is_whitespace)
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Blank or comment-only.
fn is_filler(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// Whether the text may tie separate entries together (anchors, aliases, tags,
/// directives, several documents): then it is parsed whole. Errs on the side of
/// "yes" (a `*` in plain text counts).
fn may_link_entries(text: &str) -> bool {
    text.starts_with('\u{feff}')
        || text
            .lines()
            .any(|l| l.starts_with("---") || l.starts_with("...") || l.starts_with('%'))
        || text.as_bytes().windows(2).enumerate().any(|(i, w)| {
            matches!(w[0], b'&' | b'*' | b'!')
                && !w[1].is_ascii_whitespace()
                && (i == 0 || matches!(text.as_bytes()[i - 1], b' ' | b'\t' | b'\n' | b'[' | b'{' | b','))
        })
}

/// Parses a large property file a part at a time: each top-level key whose value is
/// a block sequence (`models:`, `sources:`, ...) has its items parsed in parallel
/// chunks, everything else as one small document, and the parts are put together as
/// parsing the whole would. `None` when the text has another shape, or a part does
/// not parse (the caller parses the whole, for the exact error).
pub fn parse_split(text: &str) -> Option<Yaml> {
    use rayon::prelude::*;
    if may_link_entries(text) {
        return None;
    }
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut skeleton = String::new();
    // (key, the items' texts) of each top-level block sequence.
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if is_filler(line) {
            i += 1;
            continue;
        }
        if line.starts_with([' ', '\t', '-']) {
            return None;
        }
        let key = line.trim_end().strip_suffix(':').filter(|k| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        });
        let first = (i + 1..lines.len()).find(|&j| !is_filler(lines[j]));
        let items_indent = first
            .map(|j| indentation(lines[j]))
            .filter(|&n| first.is_some_and(|j| is_item(lines[j], n)));
        match (key, items_indent) {
            (Some(key), Some(indent)) => {
                let mut items: Vec<String> = Vec::new();
                let mut j = i + 1;
                while j < lines.len() {
                    let l = lines[j];
                    if is_filler(l) {
                        if let Some(last) = items.last_mut() {
                            last.push_str(l);
                        }
                    } else if is_item(l, indent) {
                        items.push(l.to_string());
                    } else if indentation(l) > indent {
                        items.last_mut()?.push_str(l);
                    } else if indentation(l) == 0 && !l.starts_with('-') {
                        break;
                    } else {
                        return None;
                    }
                    j += 1;
                }
                skeleton.push_str(key);
                skeleton.push_str(": []\n");
                sections.push((key.to_string(), items));
                i = j;
            }
            _ => {
                // Any other entry goes whole into the skeleton, with its indented lines.
                skeleton.push_str(line);
                i += 1;
                while i < lines.len() && (is_filler(lines[i]) || lines[i].starts_with([' ', '\t'])) {
                    skeleton.push_str(lines[i]);
                    i += 1;
                }
            }
        }
    }
    if sections.is_empty() {
        return None;
    }
    let Ok(Yaml::Mapping(mut doc)) = serde_yaml::from_str::<Yaml>(&skeleton) else {
        return None;
    };
    for (key, items) in sections {
        let chunk = items.len().div_ceil(32).max(64);
        let parts: Vec<Option<Vec<Yaml>>> = items
            .par_chunks(chunk)
            .map(|c| match serde_yaml::from_str::<Yaml>(&c.concat()) {
                Ok(Yaml::Sequence(s)) if s.len() == c.len() => Some(s),
                _ => None,
            })
            .collect();
        let mut all = Vec::with_capacity(items.len());
        for p in parts {
            all.extend(p?);
        }
        match doc.get_mut(key.as_str()) {
            Some(slot @ Yaml::Sequence(_)) => *slot = Yaml::Sequence(all),
            _ => return None,
        }
    }
    Some(Yaml::Mapping(doc))
}

/// Converts a YAML value to JSON (keys become strings; non-finite floats become null).
pub fn to_json(value: &Yaml) -> Json {
    match value {
        Yaml::Null => Json::Null,
        Yaml::Bool(b) => Json::Bool(*b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Json::from(i)
            } else if let Some(u) = n.as_u64() {
                Json::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Json::Number)
                    .unwrap_or(Json::Null)
            }
        }
        Yaml::String(s) => Json::String(s.clone()),
        Yaml::Sequence(items) => Json::Array(items.iter().map(to_json).collect()),
        Yaml::Mapping(m) => Json::Object(m.iter().map(|(k, v)| (key_string(k), to_json(v))).collect()),
        Yaml::Tagged(t) => to_json(&t.value),
    }
}

/// A mapping key as a string.
pub fn key_string(k: &Yaml) -> String {
    match k {
        Yaml::String(s) => s.clone(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => n.to_string(),
        Yaml::Null => "null".into(),
        other => format!("{other:?}"),
    }
}

/// A JSON object from a YAML mapping (empty for anything else).
pub fn to_json_map(value: &Yaml) -> JsonMap {
    match to_json(value) {
        Json::Object(m) => m,
        _ => JsonMap::new(),
    }
}

/// A string field of a mapping.
pub fn get_str(map: &Yaml, key: &str) -> Option<String> {
    match map.get(key)? {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Line numbers of a text, to locate keys.
#[derive(Debug)]
pub struct Lines<'a> {
    lines: Vec<&'a str>,
}

impl<'a> Lines<'a> {
    /// Splits the text into lines.
    pub fn new(text: &'a str) -> Self {
        Lines {
            lines: text.lines().collect(),
        }
    }

    /// The 1-based line and column of the first `key:` (or `- key:` / `- key`
    /// list item) at or after `from_line`, or `(from_line, 1)` when not found.
    pub fn find_key(&self, key: &str, from_line: usize) -> (usize, usize) {
        let start = from_line.saturating_sub(1);
        for (i, line) in self.lines.iter().enumerate().skip(start) {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            let (body, offset) = match trimmed.strip_prefix("- ") {
                Some(rest) => (rest.trim_start(), indent + 2 + (rest.len() - rest.trim_start().len())),
                None => (trimmed, indent),
            };
            let unquoted = body
                .strip_prefix('"')
                .and_then(|b| b.strip_prefix(key).and_then(|r| r.strip_prefix('"')))
                .or_else(|| body.strip_prefix(key));
            if let Some(rest) = unquoted {
                let rest = rest.trim_start();
                if rest.starts_with(':') || (rest.is_empty() && trimmed.starts_with('-')) {
                    return (i + 1, offset + 1);
                }
            }
        }
        (from_line.max(1), 1)
    }

    /// The text of a 1-based line.
    pub fn line(&self, line: usize) -> Option<&'a str> {
        self.lines.get(line.checked_sub(1)?).copied()
    }

    /// The 1-based line holding `text`, at or after `from_line` (else `from_line`).
    pub fn find_text(&self, text: &str, from_line: usize) -> usize {
        let start = from_line.saturating_sub(1);
        self.lines
            .iter()
            .enumerate()
            .skip(start)
            .find(|(_, l)| l.contains(text))
            .map_or(from_line.max(1), |(i, _)| i + 1)
    }

    /// The line of the list entry whose `name:` is `name`, at or after `from_line`.
    pub fn find_named_entry(&self, name: &str, from_line: usize) -> usize {
        let start = from_line.saturating_sub(1);
        for (i, line) in self.lines.iter().enumerate().skip(start) {
            let t = line.trim_start().trim_start_matches("- ").trim_start();
            if let Some(rest) = t.strip_prefix("name:") {
                let v = rest.trim().trim_matches(|c| c == '"' || c == '\'');
                if v == name {
                    return i + 1;
                }
            }
        }
        from_line.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A property file in the shapes dbt projects use: sequences under top-level
    /// keys (indented or not), comments, block and flow values, nested tables.
    fn property_file(models: usize) -> String {
        let mut t = String::from("# generated\nversion: 2\n\nmodels:\n");
        for i in 0..models {
            t.push_str(&format!(
                "  - name: m_{i}  # model {i}\n    description: |\n      Line one of {i}.\n\n      Line: two, with 'quotes' and a & b.\n    config:\n      tags: [a, \"b\"]\n      meta: {{owner: x}}\n    columns:\n      - name: id\n        data_tests: [unique, not_null]\n      - name: amount\n        description: >\n          folded\n          text\n\n"
            ));
        }
        t.push_str("sources:\n- name: raw\n  tables:\n  - name: a\n  - name: b\n    description: \"x: y\"\n");
        t.push_str("seeds:\n  - name: s\n    config:\n      column_types: {id: integer}\n");
        t
    }

    #[test]
    fn split_parse_equals_whole_parse() {
        for models in [1, 3, 64, 65, 500] {
            let text = property_file(models);
            let whole: Yaml = serde_yaml::from_str(&text).unwrap();
            assert_eq!(parse_split(&text), Some(whole.clone()), "{models} models");
            let crlf = text.replace('\n', "\r\n");
            assert_eq!(parse_split(&crlf), Some(serde_yaml::from_str(&crlf).unwrap()), "CRLF");
        }
        // Large enough for `parse` to split it.
        let text = property_file(300);
        assert!(text.len() >= SPLIT_AT);
        assert_eq!(
            parse("x.yml", &text).unwrap(),
            serde_yaml::from_str::<Yaml>(&text).unwrap()
        );
    }

    #[test]
    fn split_parse_declines_what_it_cannot_split_exactly() {
        let anchors = "models:\n  - &base\n    name: a\n  - <<: *base\n    name: b\n";
        assert_eq!(parse_split(anchors), None);
        assert_eq!(parse_split("version: 2\nmodels: []\n"), None);
        assert_eq!(parse_split("---\nmodels:\n  - name: a\n"), None);
        // A broken item: the whole is parsed, so the error has the file's line.
        let broken = format!("{}models2:\n  - name: [unclosed\n", property_file(70));
        assert_eq!(parse_split(&broken), None);
        let err = parse("x.yml", &broken).unwrap_err();
        assert!(err.message.starts_with("invalid YAML"), "{err}");
        // Duplicate top-level keys are an error, as in a whole parse.
        let twice = format!("{}{}", property_file(70), "models:\n  - name: z\n");
        assert_eq!(parse_split(&twice), None);
        assert!(serde_yaml::from_str::<Yaml>(&twice).is_err());
    }

    #[test]
    fn split_parse_of_the_example_project_equals_whole_parse() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        let mut stack = vec![root];
        let mut checked = 0;
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "yml") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    if let Some(split) = parse_split(&text) {
                        assert_eq!(split, serde_yaml::from_str::<Yaml>(&text).unwrap(), "{}", p.display());
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 3, "{checked} files split");
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = parse("models/x.yml", "models:\n  - name: a\n    description: [unclosed\n").unwrap_err();
        assert_eq!(err.file.as_deref(), Some(std::path::Path::new("models/x.yml")));
        assert!(err.line >= 3, "{err}");
        assert!(err.message.starts_with("invalid YAML"), "{err}");
    }

    #[test]
    fn a_duplicate_key_is_located_at_its_second_occurrence() {
        let text = "models:\n  - name: a\n    description: x\n    columns: []\n    description: y\n";
        let err = parse("m.yml", text).unwrap_err();
        assert!(
            err.message.contains("duplicate entry with key \"description\""),
            "{err}"
        );
        assert_eq!((err.line, err.column), (5, 5));
    }

    #[test]
    fn shapes_accept_what_their_keys_take() {
        let doc: Yaml = serde_yaml::from_str("a: [x]\nb: 5\nc: {k: v}\nd: maybe\ne:\n").unwrap();
        let lines = Lines::new("a: [x]\nb: 5\nc: {k: v}\nd: maybe\ne:\n");
        let shapes = [
            ("a", Shape::TextOrList),
            ("b", Shape::List),
            ("c", Shape::Mapping),
            ("d", Shape::Bool),
            ("e", Shape::Mapping),
        ];
        let found: Vec<String> = check_shapes("f.yml", &lines, &doc, &shapes, "x", 1)
            .iter()
            .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
            .collect();
        assert_eq!(
            found,
            [
                "2:1 'b' of x must be a list, not a number",
                "4:1 'd' of x must be true or false, not text"
            ]
        );
    }

    #[test]
    fn keys_are_found_after_their_entry() {
        let text = "models:\n  - name: a\n    materialised: x\n  - name: b\n    materialised: y\n";
        let lines = Lines::new(text);
        let b = lines.find_named_entry("b", 1);
        assert_eq!(b, 4);
        assert_eq!(lines.find_key("materialised", b), (5, 5));
        assert_eq!(lines.find_key("name", 1), (2, 5));
    }
}
