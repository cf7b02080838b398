//! Shared helpers for the integration tests: run the generator into a
//! temporary directory and read its CSV files back.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use lending_datagen::{generate, Config, Date, Summary};
use tempfile::TempDir;

/// Names of the five output files.
pub const FILES: [&str; 5] = [
    lending_datagen::APPLICANTS_FILE,
    lending_datagen::APPLICATIONS_FILE,
    lending_datagen::REPAYMENTS_FILE,
    lending_datagen::SNAPSHOTS_FILE,
    lending_datagen::OUTCOMES_FILE,
];

/// Generates `n` applications with `seed` into a fresh temp dir.
pub fn run(n: u64, seed: u64) -> (TempDir, Summary) {
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = generate(&Config::new(n, seed), dir.path()).expect("generate");
    (dir, summary)
}

/// A parsed CSV file.
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// Data rows.
    pub rows: Vec<Vec<String>>,
    index: HashMap<String, usize>,
}

impl Table {
    /// Column index by name (panics if absent).
    pub fn col(&self, name: &str) -> usize {
        *self.index.get(name).unwrap_or_else(|| panic!("no column {name}"))
    }

    /// Iterates the values of a column.
    pub fn column<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let c = self.col(name);
        self.rows.iter().map(move |r| r[c].as_str())
    }
}

/// Splits one CSV line, honouring RFC 4180 quotes.
pub fn split_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') if cur.is_empty() => quoted = true,
            (false, ',') => fields.push(std::mem::take(&mut cur)),
            (_, c) => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

/// Reads a generated CSV file (no embedded newlines are ever produced).
pub fn read_table(path: &Path) -> Table {
    let text = fs::read_to_string(path).expect("read csv");
    let mut lines = text.lines();
    let header = split_line(lines.next().expect("header"));
    let rows: Vec<Vec<String>> = lines.map(split_line).collect();
    for r in &rows {
        assert_eq!(r.len(), header.len(), "ragged row {r:?} in {}", path.display());
    }
    let index = header.iter().enumerate().map(|(i, h)| (h.clone(), i)).collect();
    Table { header, rows, index }
}

/// All five tables of an output directory.
pub struct Data {
    /// raw_applicants.csv
    pub applicants: Table,
    /// raw_loan_applications.csv
    pub applications: Table,
    /// raw_repayments.csv
    pub repayments: Table,
    /// raw_credit_score_snapshots.csv
    pub snapshots: Table,
    /// raw_loan_outcomes.csv
    pub outcomes: Table,
}

/// Loads all tables from `dir`.
pub fn load(dir: &Path) -> Data {
    Data {
        applicants: read_table(&dir.join(lending_datagen::APPLICANTS_FILE)),
        applications: read_table(&dir.join(lending_datagen::APPLICATIONS_FILE)),
        repayments: read_table(&dir.join(lending_datagen::REPAYMENTS_FILE)),
        snapshots: read_table(&dir.join(lending_datagen::SNAPSHOTS_FILE)),
        outcomes: read_table(&dir.join(lending_datagen::OUTCOMES_FILE)),
    }
}

/// Parses a money value with exactly two decimals into cents.
pub fn cents(s: &str) -> i64 {
    let (whole, frac) = s
        .split_once('.')
        .unwrap_or_else(|| panic!("money without decimals: {s}"));
    assert_eq!(frac.len(), 2, "money must have 2 decimals: {s}");
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    let w: i64 = whole.trim_start_matches('-').parse().unwrap();
    let f: i64 = frac.parse().unwrap();
    sign * (w * 100 + f)
}

/// Parses a rate with exactly four decimals.
pub fn rate(s: &str) -> f64 {
    let (_, frac) = s
        .split_once('.')
        .unwrap_or_else(|| panic!("rate without decimals: {s}"));
    assert_eq!(frac.len(), 4, "rate must have 4 decimals: {s}");
    s.parse().unwrap()
}

/// Parses a YYYY-MM-DD date.
pub fn date(s: &str) -> Date {
    Date::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

/// Risk band index (0 = A … 4 = E) of a score, with the documented cut-offs.
pub fn band(score: u16) -> usize {
    match score {
        740.. => 0,
        680..=739 => 1,
        620..=679 => 2,
        560..=619 => 3,
        _ => 4,
    }
}
