//! Fixture projects in temp folders, running the binary, and querying the database.

use std::path::{Path, PathBuf};
use std::process::Command;

use modelc_core::DbConfig;
use modelc_exec::{Adapter, Connection, DuckDb};

/// A project written into a temp folder.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

/// `project.yml` of most fixtures.
pub const PROJECT_YML: &str = "name: shop\nduckdb:\n  path: shop.duckdb\n";

impl Fixture {
    pub fn new(files: &[(&str, &str)]) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = Fixture { dir };
        for (p, t) in files {
            f.write(p, t);
        }
        f
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, path: &str, text: &str) {
        let p = self.dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    /// Runs `modelc <args> --project-dir <dir>`.
    pub fn modelc(&self, args: &[&str]) -> Output {
        run_modelc(self.path(), args)
    }

    pub fn db_path(&self) -> PathBuf {
        self.path().join("shop.duckdb")
    }

    /// Runs a query and returns rows of text values (NULL as "∅").
    pub fn query(&self, sql: &str) -> Vec<Vec<String>> {
        query(&self.db_path(), sql)
    }
}

/// Result of running the binary.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Exit code, stdout and stderr with temp paths and timings masked, for snapshots.
    pub fn redacted(&self, root: &Path) -> String {
        let mask = |s: &str| {
            let root = root.to_string_lossy();
            let s = s.replace(root.as_ref(), "<project>");
            let mut out = String::new();
            for line in s.lines() {
                out.push_str(&mask_times(line));
                out.push('\n');
            }
            out
        };
        format!(
            "exit code: {}\n--- stdout\n{}--- stderr\n{}",
            self.code,
            mask(&self.stdout),
            mask(&self.stderr)
        )
    }
}

/// Replaces `0.12s` style durations with `<t>s`.
fn mask_times(line: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_alphanumeric()) {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                j += 1;
            }
            if j < chars.len()
                && chars[j] == 's'
                && chars[i..j].contains(&'.')
                && (j + 1 == chars.len() || !chars[j + 1].is_ascii_alphanumeric())
            {
                out.push_str("<t>s");
                i = j + 1;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

pub fn run_modelc(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_modelc"))
        .args(args)
        .arg("--project-dir")
        .arg(dir)
        .env("NO_COLOR", "1")
        .env_remove("DBT_PROFILES_DIR")
        .env_remove("DBT_PROJECT_DIR")
        .output()
        .expect("run modelc");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn query(db: &Path, sql: &str) -> Vec<Vec<String>> {
    let (_db, conn) = connect(db);
    conn.query(sql)
        .unwrap_or_else(|e| panic!("query failed: {e}\n{sql}"))
        .into_iter()
        .map(|r| r.into_iter().map(|v| v.unwrap_or_else(|| "∅".into())).collect())
        .collect()
}

/// Opens the database file `db` (keep the first value alive while using the connection).
pub fn connect(db: &Path) -> (DuckDb, Box<dyn Connection>) {
    let cfg = DbConfig::duckdb(&db.to_string_lossy());
    let adapter = DuckDb::open(&cfg).expect("open db");
    let conn = adapter.connect().expect("connect");
    (adapter, conn)
}

/// Rows as one string per row, `|`-separated.
pub fn table(rows: &[Vec<String>]) -> String {
    rows.iter().map(|r| r.join(" | ")).collect::<Vec<_>>().join("\n")
}

/// What a database holds, to tell whether a command changed it: every relation of
/// the database's own catalog (schema, name, kind) with its columns and their
/// types, a view's definition, and a table's row count with an order-independent
/// hash of its rows (the sum of the rows' hashes: duplicate rows count). One line
/// per relation, sorted.
pub fn fingerprint(db: &Path) -> String {
    let (_db, conn) = connect(db);
    let text = |sql: &str| -> Vec<Vec<String>> {
        conn.query(sql)
            .unwrap_or_else(|e| panic!("query failed: {e}\n{sql}"))
            .into_iter()
            .map(|r| r.into_iter().map(|v| v.unwrap_or_else(|| "∅".into())).collect())
            .collect()
    };
    let relations = text(
        "select table_schema, table_name, table_type from information_schema.tables \
         where table_catalog = current_database() order by all",
    );
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let literal = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let mut lines = Vec::new();
    for r in relations {
        let (schema, name, kind) = (&r[0], &r[1], &r[2]);
        let content = if kind == "VIEW" {
            text(&format!(
                "select sql from duckdb_views() where database_name = current_database() \
                 and schema_name = {} and view_name = {}",
                literal(schema),
                literal(name)
            ))
            .concat()
            .concat()
        } else {
            let rel = format!("{}.{}", quote(schema), quote(name));
            text(&format!(
                "select count(*) || ' rows, hash ' || coalesce(sum(hash(t)::hugeint), 0) from {rel} as t"
            ))
            .concat()
            .concat()
        };
        let columns = text(&format!(
            "select string_agg(column_name || ' ' || data_type, ', ' order by ordinal_position) \
             from information_schema.columns where table_catalog = current_database() \
             and table_schema = {} and table_name = {}",
            literal(schema),
            literal(name)
        ))
        .concat()
        .concat();
        lines.push(format!("{schema}.{name} ({kind}; {columns}): {content}"));
    }
    lines.join("\n")
}
