//! JSON as Python's `json.dumps` writes it (`, ` and `: ` separators, ASCII
//! escapes, Python's float text): dbt hashes it (`package-lock.yml`'s `sha1_hash`)
//! and templates print it (`tojson`).

use serde_json::Value as Json;

/// `json.dumps(value, sort_keys=sort_keys)`.
pub fn python_json(v: &Json, sort_keys: bool) -> String {
    let mut out = String::new();
    write_py_json(v, sort_keys, &mut out);
    out
}

fn write_py_json(v: &Json, sort_keys: bool, out: &mut String) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) if n.is_f64() => out.push_str(&py_float(n.as_f64().unwrap_or_default())),
        Json::Number(n) => out.push_str(&n.to_string()),
        Json::String(s) => write_py_str(s, out),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_py_json(item, sort_keys, out);
            }
            out.push(']');
        }
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            if sort_keys {
                keys.sort();
            }
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_py_str(k, out);
                out.push_str(": ");
                if let Some(v) = m.get(k) {
                    write_py_json(v, sort_keys, out);
                }
            }
            out.push('}');
        }
    }
}

/// A JSON string as Python writes it with `ensure_ascii=True`.
fn write_py_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// Python's `repr()` of a float.
/// A float as Python's `repr` writes it (`1.0`, `1e+20`, `NaN`).
pub fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let s = format!("{f:?}");
    match s.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => s,
    }
}
