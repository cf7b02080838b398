//! YAML helpers: parse with located errors, convert to JSON, find the line of a key.
//!
//! serde_yaml does not keep positions of values, so warnings about a key are
//! located by searching the text for `key:` from the line of the enclosing entry.
//! That is exact for ordinary property files and never worse than the file name.

use modelc_core::{Diagnostic, JsonMap};
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

/// Parses YAML text; a syntax error becomes a diagnostic at its line and column.
pub fn parse(path: &str, text: &str) -> Result<Yaml, Diagnostic> {
    if text.trim().is_empty() {
        return Ok(Yaml::Null);
    }
    serde_yaml::from_str::<Yaml>(text).map_err(|e| {
        let (line, col) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
        let message = e.to_string();
        // serde_yaml appends " at line X column Y"; the location is shown separately.
        let message = match message.find(" at line ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        Diagnostic::error("yaml-syntax", format!("invalid YAML: {message}")).at(path, line, col)
    })
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

    #[test]
    fn syntax_errors_are_located() {
        let err = parse("models/x.yml", "models:\n  - name: a\n    description: [unclosed\n").unwrap_err();
        assert_eq!(err.file.as_deref(), Some(std::path::Path::new("models/x.yml")));
        assert!(err.line >= 3, "{err}");
        assert!(err.message.starts_with("invalid YAML"), "{err}");
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
