//! Unit tests: a model's SQL run on fixed rows in a throw-away in-memory DuckDB,
//! without building anything upstream. Each input's rows are loaded as a table
//! (CSV rows with the seed reader's types; the input's other known columns null),
//! the model's SQL (compiled to read those tables) runs, and its output is compared
//! with the expected rows on the columns they name, as multisets, each expected
//! value cast to the type the model returns. A failure shows the rows that differ.

use modelc_core::{quote_ident, Fixture, FixtureRows, Node};

use crate::adapter::{Connection, DbError, DbResult};
use crate::engine::duckdb::in_memory_conn;
use crate::materialize::{strip_semicolons, Outcome, Status};
use crate::seed::{SeedFile, TempFile};

/// Runs a unit test node.
pub fn run_unit_test(node: &Node) -> Outcome {
    match check(node) {
        Ok(None) => Outcome {
            status: Status::Pass,
            message: "PASS".into(),
            rows_affected: None,
            failures: Some(0),
        },
        Ok(Some((count, diff))) => Outcome {
            status: Status::Fail,
            message: diff,
            rows_affected: None,
            failures: Some(count),
        },
        Err(e) => Outcome::error(e.0),
    }
}

/// `None` when the model returns the rows expected; else how many rows differ
/// and the table that shows them.
fn check(node: &Node) -> DbResult<Option<(u64, String)>> {
    let spec = node
        .unit_test
        .as_ref()
        .ok_or_else(|| DbError(format!("{} is not a unit test", node.unique_id)))?;
    if let Some(message) = &spec.render_error {
        return Err(DbError(message.clone()));
    }
    let conn = in_memory_conn()?;
    let at = |f: &Fixture| format!("{}:{}", node.original_file_path, f.line);
    for f in &spec.given {
        load(&conn, f).map_err(|e| DbError(format!("the rows of {} ({}): {e}", f.input, at(f))))?;
    }
    let sql = node.compiled_code.as_deref().unwrap_or_default();
    conn.batch(&format!(
        "create temp table __modelc_actual as (\n{}\n)",
        strip_semicolons(sql)
    ))
    .map_err(|e| DbError(format!("the model's SQL failed on the given rows: {e}")))?;

    let actual = conn.describe("select * from __modelc_actual")?;
    if no_rows(&spec.expect) {
        // `expect: {rows: []}`: no rows, whatever the columns.
        let all = actual
            .iter()
            .map(|(c, _)| quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        let extra = text_rows(&conn, &format!("select {all} from __modelc_actual"))?;
        if extra.is_empty() {
            return Ok(None);
        }
        let names: Vec<String> = actual.into_iter().map(|(c, _)| c).collect();
        let table = diff_table(&names, Vec::new(), extra);
        let count = table.lines().skip(4).count() as u64;
        return Ok(Some((count, table)));
    }
    load(&conn, &spec.expect).map_err(|e| DbError(format!("the expected rows ({}): {e}", at(&spec.expect))))?;
    let expected = conn.describe(&format!("select * from {}", quote_ident(&spec.expect.table)))?;
    let mut columns = Vec::new();
    for (name, _) in &expected {
        let Some((found, ty)) = actual.iter().find(|(a, _)| a.eq_ignore_ascii_case(name)) else {
            let returned: Vec<&str> = actual.iter().map(|(a, _)| a.as_str()).collect();
            return Err(DbError(format!(
                "expect names column '{name}', which the model does not return (it returns {}) ({})",
                returned.join(", "),
                at(&spec.expect)
            )));
        };
        columns.push((found.clone(), ty.clone(), name.clone()));
    }
    let actual_list = columns
        .iter()
        .map(|(c, ..)| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let expected_list = columns
        .iter()
        .map(|(c, ty, e)| format!("cast({} as {ty}) as {}", quote_ident(e), quote_ident(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let expected_rows = format!("select {expected_list} from {}", quote_ident(&spec.expect.table));
    let actual_rows = format!("select {actual_list} from __modelc_actual");
    let missing = text_rows(&conn, &format!("{expected_rows} except all {actual_rows}")).map_err(|e| {
        DbError(format!(
            "cannot compare with the expected rows ({}): {e}",
            at(&spec.expect)
        ))
    })?;
    let extra = text_rows(&conn, &format!("{actual_rows} except all {expected_rows}"))?;
    if missing.is_empty() && extra.is_empty() {
        return Ok(None);
    }
    let names: Vec<String> = columns.into_iter().map(|(c, ..)| c).collect();
    let table = diff_table(&names, missing, extra);
    let count = table.lines().skip(4).count() as u64;
    Ok(Some((count, table)))
}

/// A query's rows as text, `null` for NULL.
fn text_rows(conn: &dyn Connection, sql: &str) -> DbResult<Vec<Vec<String>>> {
    Ok(conn
        .query(sql)?
        .into_iter()
        .map(|r| r.into_iter().map(|v| v.unwrap_or_else(|| "null".into())).collect())
        .collect())
}

/// Whether a fixture gives no rows and names no column (`rows: []`).
fn no_rows(f: &Fixture) -> bool {
    matches!(&f.rows, FixtureRows::Csv(text) if text.trim().is_empty())
}

/// Loads a fixture's rows as the table `f.table`.
fn load(conn: &dyn Connection, f: &Fixture) -> DbResult<()> {
    let select = match &f.rows {
        FixtureRows::Sql(sql) => strip_semicolons(sql).to_string(),
        // No rows: the input's known columns, empty.
        FixtureRows::Csv(_) if no_rows(f) => {
            let known = f.columns.as_deref().unwrap_or_default();
            if known.is_empty() {
                return Err(DbError(
                    "no rows, and modelc does not know the input's columns: give a row, or the columns in YAML".into(),
                ));
            }
            let nulls: Vec<String> = known.iter().map(|c| format!("null as {}", quote_ident(c))).collect();
            format!("select {} where false", nulls.join(", "))
        }
        FixtureRows::Csv(text) => {
            let file = TempFile::new("csv");
            std::fs::write(&file.0, text).map_err(|e| DbError(format!("cannot write the rows: {e}")))?;
            let seed = SeedFile {
                path: file.0.clone(),
                shown: "the rows".into(),
                delimiter: ",".into(),
                column_types: Vec::new(),
            };
            let select = seed.read_query(conn, false);
            // Read now: the file goes when this scope ends.
            let table = format!("__modelc_read_{}", f.table);
            conn.batch(&format!("create temp table {} as {select}", quote_ident(&table)))
                .map_err(|e| seed.explain(conn, e))?;
            format!("select * from {}", quote_ident(&table))
        }
    };
    let given = conn.describe(&select)?;
    // The input's other columns, null: the model may read them.
    let nulls: Vec<String> = f
        .columns
        .iter()
        .flatten()
        .filter(|c| !given.iter().any(|(g, _)| g.eq_ignore_ascii_case(c)))
        .map(|c| format!(", null as {}", quote_ident(c)))
        .collect();
    conn.batch(&format!(
        "create temp table {} as select *{} from ({select})",
        quote_ident(&f.table),
        nulls.concat()
    ))
}

/// The rows that differ, as a table: `→` a row returned with other values than
/// expected (paired on the first column; each differing cell `expected → actual`),
/// `-` a row expected and not returned, `+` a row returned and not expected.
fn diff_table(names: &[String], mut missing: Vec<Vec<String>>, mut extra: Vec<Vec<String>>) -> String {
    let mut lines: Vec<(String, Vec<String>)> = Vec::new();
    let mut i = 0;
    while i < missing.len() {
        let key = missing[i].first().cloned();
        if let Some(j) = extra.iter().position(|row| row.first().cloned() == key) {
            let expected = missing.remove(i);
            let actual = extra.remove(j);
            let cells = expected
                .iter()
                .zip(&actual)
                .map(|(e, a)| if e == a { e.clone() } else { format!("{e} → {a}") })
                .collect();
            lines.push(("→".into(), cells));
        } else {
            i += 1;
        }
    }
    lines.extend(missing.into_iter().map(|r| ("-".to_string(), r)));
    lines.extend(extra.into_iter().map(|r| ("+".to_string(), r)));
    let mut widths: Vec<usize> = names.iter().map(|n| n.chars().count()).collect();
    for (_, cells) in &lines {
        for (w, c) in widths.iter_mut().zip(cells) {
            *w = (*w).max(c.chars().count());
        }
    }
    let row = |mark: &str, cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        format!("{mark} | {}", padded.join(" | ")).trim_end().to_string()
    };
    let count = lines.len();
    let mut out = format!(
        "actual differs from expected in {count} row{}\n(→ expected → actual, - expected but not returned, + returned but not expected)\n\n",
        if count == 1 { "" } else { "s" }
    );
    out.push_str(&row(" ", names));
    out.push('\n');
    out.push_str(&format!(
        "--+-{}\n",
        widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("-+-")
    ));
    for (mark, cells) in &lines {
        out.push_str(&row(mark, cells));
        out.push('\n');
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differing_rows_are_paired_on_their_first_column() {
        let names = vec!["id".to_string(), "status".to_string()];
        let row = |a: &str, b: &str| vec![a.to_string(), b.to_string()];
        let table = diff_table(
            &names,
            vec![row("1", "open"), row("3", "lost")],
            vec![row("1", "shipped"), row("4", "new")],
        );
        assert!(table.starts_with("actual differs from expected in 3 rows\n"), "{table}");
        assert_eq!(
            table.lines().skip(3).collect::<Vec<_>>(),
            vec![
                "  | id | status",
                "--+----+---------------",
                "→ | 1  | open → shipped",
                "- | 3  | lost",
                "+ | 4  | new",
            ]
        );
    }
}
