//! Seeds: a CSV file is read by DuckDB, on every engine, with dbt's rules (a
//! header line, commas unless `delimiter` says otherwise, double quotes, every row
//! the header's width) and dbt's inferred types; the engine then loads the rows
//! ([`crate::Connection::load_seed`]). A malformed file fails the same way
//! everywhere, named by file and line.

use std::path::PathBuf;

use modelc_core::{quote_ident, Node};

use crate::adapter::{Connection, DbError};
use crate::materialize::literal;

/// A seed's file and how to read it.
#[derive(Debug, Clone)]
pub struct SeedFile {
    /// The file.
    pub path: PathBuf,
    /// Its path in the project, for messages.
    pub shown: String,
    /// The field delimiter (`,` unless configured).
    pub delimiter: String,
    /// `column_types`: column → the type asked for.
    pub column_types: Vec<(String, String)>,
}

impl SeedFile {
    /// The file of a seed node, under the project root `root`.
    pub fn of(node: &Node, root: &std::path::Path) -> SeedFile {
        SeedFile {
            path: root.join(&node.original_file_path),
            shown: node.original_file_path.clone(),
            delimiter: node.config.get_str("delimiter").unwrap_or_else(|| ",".into()),
            column_types: match node.config.get("column_types") {
                Some(serde_json::Value::Object(types)) => types
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect(),
                _ => Vec::new(),
            },
        }
    }

    /// The type asked for `column` in `column_types`.
    pub fn declared(&self, column: &str) -> Option<&str> {
        self.column_types
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(column))
            .map(|(_, t)| t.as_str())
    }

    /// The DuckDB query that reads the file, with dbt's types. With
    /// `declared_as_text`, the `column_types` columns are read as text, for an
    /// engine whose type names DuckDB may not know to convert; else DuckDB reads
    /// them as the type asked for.
    pub fn read_query(&self, reader: &dyn Connection, declared_as_text: bool) -> String {
        let select = self.sniffed_query(declared_as_text);
        dbt_seed_types(reader, &select, self).unwrap_or(select)
    }

    fn file_literal(&self) -> String {
        literal(&self.path.to_string_lossy())
    }

    /// DuckDB's `read_csv` of the file with dbt's rules, with the types its sniffer
    /// finds (and those `column_types` asks for).
    fn sniffed_query(&self, declared_as_text: bool) -> String {
        let mut opts = vec![
            "header = true".to_string(),
            "auto_detect = true".to_string(),
            // A row with a wrong number of fields is an error, as in dbt.
            "strict_mode = true".to_string(),
            "null_padding = false".to_string(),
        ];
        if !self.column_types.is_empty() {
            let entries: Vec<String> = self
                .column_types
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}: {}",
                        literal(k),
                        literal(if declared_as_text { "VARCHAR" } else { v })
                    )
                })
                .collect();
            opts.push(format!("types = {{{}}}", entries.join(", ")));
        }
        // dbt seeds are comma-separated unless `delimiter` says otherwise; letting the
        // sniffer choose would turn a malformed file into a one-column table.
        opts.push(format!("delim = {}", literal(&self.delimiter)));
        // The header is the first line: left to itself, the sniffer takes a file whose
        // rows disagree for one with leading junk and skips to its last line.
        opts.push("skip = 0".to_string());
        // Quotes as dbt's CSV reader (Python's) has them: left to itself, the sniffer
        // reads a file with an unclosed quote as one without quoting, and loads the
        // quote character into the data.
        opts.push("quote = '\"'".to_string());
        opts.push("escape = '\"'".to_string());
        format!("select * from read_csv({}, {})", self.file_literal(), opts.join(", "))
    }

    /// The type of each column as a seed run loads it (DuckDB's names), read
    /// with `reader`; `None` when the file cannot be read, or has no rows to tell
    /// the types by (DuckDB then reads every column as text).
    pub fn column_types(&self, reader: &dyn Connection) -> Option<Vec<String>> {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(std::fs::File::open(&self.path).ok()?).lines();
        lines.next();
        lines.map_while(Result::ok).find(|l| !l.trim().is_empty())?;
        let columns = reader.describe(&self.sniffed_query(false)).ok()?;
        Some(
            columns
                .into_iter()
                .map(|(name, ty)| dbt_type(self, &name, &ty).map_or(ty, str::to_owned))
                .collect(),
        )
    }

    /// A DuckDB error reading the file, as `cannot load file:line: what`.
    pub fn explain(&self, reader: &dyn Connection, e: DbError) -> DbError {
        let e = if e.0.contains("Error when sniffing file") {
            locate_bad_row(reader, &self.path, &self.file_literal(), &self.delimiter).unwrap_or(e)
        } else {
            e
        };
        if e.0.contains("Invalid unicode") {
            if let Some(at) = first_bad_utf8(&self.path) {
                return DbError(format!("cannot load {}:{at}; save the file as UTF-8", self.shown));
            }
        }
        DbError(format!("cannot load {}", csv_error(&self.shown, &e.0)))
    }
}

/// The types dbt-duckdb gives a seed's columns, over what DuckDB's CSV sniffer
/// found: dbt infers them with agate, whose integers are `integer` and other
/// numbers `double` (where the sniffer says BIGINT or DECIMAL), and which has no
/// time type (text). Columns in `column_types` keep the type asked for. `None`
/// when nothing changes or the file cannot be described (loading it then reports
/// why).
fn dbt_seed_types(conn: &dyn Connection, select: &str, seed: &SeedFile) -> Option<String> {
    let columns = conn.describe(select).ok()?;
    let mut changed = false;
    let list: Vec<String> = columns
        .iter()
        .map(|(name, ty)| {
            let quoted = quote_ident(name);
            match dbt_type(seed, name, ty) {
                Some(t) => {
                    changed = true;
                    format!("cast({quoted} as {t}) as {quoted}")
                }
                None => quoted,
            }
        })
        .collect();
    changed.then(|| format!("select {} from ({select})", list.join(", ")))
}

/// The type dbt-duckdb loads a column of sniffed type `ty` as, when it is not
/// that one (see [`dbt_seed_types`]).
fn dbt_type(seed: &SeedFile, name: &str, ty: &str) -> Option<&'static str> {
    if seed.declared(name).is_some() {
        return None;
    }
    match ty.to_ascii_uppercase().as_str() {
        "TINYINT" | "SMALLINT" | "BIGINT" | "HUGEINT" | "UTINYINT" | "USMALLINT" | "UINTEGER" | "UBIGINT" => {
            Some("INTEGER")
        }
        "FLOAT" => Some("DOUBLE"),
        "TIME" => Some("VARCHAR"),
        t if t.starts_with("DECIMAL") => Some("DOUBLE"),
        _ => None,
    }
}

/// When the sniffer finds no consistent dialect, the rows do not all have the
/// header's number of fields: reading the file with that many text columns makes
/// DuckDB name the first row that does not. `None` when that read succeeds.
fn locate_bad_row(conn: &dyn Connection, path: &std::path::Path, file: &str, delim: &str) -> Option<DbError> {
    use std::io::BufRead;
    let mut header = String::new();
    std::io::BufReader::new(std::fs::File::open(path).ok()?)
        .read_line(&mut header)
        .ok()?;
    let n = count_fields(
        header.trim_start_matches('\u{feff}').trim_end_matches(['\r', '\n']),
        delim,
    );
    let columns: Vec<String> = (1..=n).map(|i| format!("'c{i}': 'VARCHAR'")).collect();
    conn.query(&format!(
        "select count(*) from read_csv({file}, header = true, auto_detect = false, strict_mode = true, null_padding = false, delim = {}, quote = '\"', escape = '\"', columns = {{{}}})",
        literal(delim),
        columns.join(", ")
    ))
    .err()
}

/// `line:column: ...` of the first byte of a file that is not UTF-8 (DuckDB says
/// the file is not UTF-8, and shows the wrong line).
fn first_bad_utf8(path: &std::path::Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let e = std::str::from_utf8(&bytes).err()?;
    let valid = &bytes[..e.valid_up_to()];
    let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&valid[start..]).chars().count() + 1;
    let byte = bytes.get(e.valid_up_to()).copied().unwrap_or_default();
    Some(format!("{line}:{column}: not valid UTF-8 (byte 0x{byte:02X})"))
}

/// The number of fields of a CSV line, honouring double quotes.
fn count_fields(line: &str, delim: &str) -> usize {
    if delim.is_empty() {
        return 1;
    }
    let mut n = 1;
    let mut quoted = false;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if c == '"' {
            quoted = !quoted;
        } else if !quoted && rest.starts_with(delim) {
            n += 1;
            rest = &rest[delim.len()..];
            continue;
        }
        rest = &rest[c.len_utf8()..];
    }
    n
}

/// A CSV reader error as `file:line: what` when DuckDB names the line (`CSV Error
/// on Line: 3`), without its advice (which suggests skipping rows).
fn csv_error(file: &str, msg: &str) -> String {
    let Some(at) = msg.find("CSV Error on Line: ") else {
        return format!("{file}: {msg}");
    };
    let rest = &msg[at + "CSV Error on Line: ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let body = rest[digits.len()..].split("Possible fixes").next().unwrap_or_default();
    let mut parts: Vec<String> = Vec::new();
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match parts.last_mut() {
            Some(last) if last.ends_with(':') => {
                last.push(' ');
                last.push_str(line);
            }
            _ => parts.push(line.to_string()),
        }
    }
    format!("{file}:{digits}: {}", parts.join("; "))
}

/// A file in the temporary folder, removed when dropped.
pub(crate) struct TempFile(pub(crate) std::path::PathBuf);

impl TempFile {
    /// A new name, with the extension `ext`.
    pub(crate) fn new(ext: &str) -> TempFile {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        TempFile(std::env::temp_dir().join(format!("modelc-{}-{n}.{ext}", std::process::id())))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_counted_outside_quotes() {
        assert_eq!(count_fields("a,b,c", ","), 3);
        assert_eq!(count_fields(r#"id,"name, full",x"#, ","), 3);
        assert_eq!(count_fields("a||b", "||"), 2);
        assert_eq!(count_fields("", ","), 1);
    }

    #[test]
    fn csv_errors_name_the_file_and_line_without_the_advice() {
        let duckdb = "Invalid Input Error: CSV Error on Line: 3\nOriginal Line: \n4,5\nExpected Number of Columns: 3 Found: 2\nPossible fixes:\n* Enable ignore errors (ignore_errors=true) to skip this row\n\n  file = x.csv\n";
        assert_eq!(
            csv_error("seeds/x.csv", duckdb),
            "seeds/x.csv:3: Original Line: 4,5; Expected Number of Columns: 3 Found: 2"
        );
        assert_eq!(
            csv_error("seeds/x.csv", "IO Error: gone"),
            "seeds/x.csv: IO Error: gone"
        );
    }
}
