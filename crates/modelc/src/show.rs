//! `modelc show`: runs the compiled SQL of the selected nodes (or of `--inline`
//! SQL, compiled as a node of the project) against the database and prints the
//! first rows, as `dbt show` does. Nothing is built and no artifact is written.

use modelc_core::{Node, ResourceType};
use modelc_exec::{query_table, LateRender, QueryResult};
use serde_json::Value;

use crate::cli::{ShowArgs, ShowOutput};
use crate::{invalid, late, select, FAILED};

/// The name dbt gives an inline query's node.
const INLINE: &str = "inline_query";

pub fn cmd_show(args: &ShowArgs) -> Result<(), u8> {
    let project = match &args.inline {
        Some(sql) => crate::compile_with_analysis(&args.common, INLINE, sql)?,
        None => crate::load(&args.common, false)?,
    };
    let ids: Vec<String> = match &args.inline {
        Some(_) => vec![format!("analysis.{}.{INLINE}", project.name)],
        None => {
            if args.common.select.is_empty() {
                return Err(invalid("show needs --select (a model) or --inline \"select ...\""));
            }
            let kinds = [
                ResourceType::Model,
                ResourceType::Seed,
                ResourceType::Snapshot,
                ResourceType::Analysis,
            ];
            select(&project, &args.common, &kinds)?.into_iter().collect()
        }
    };
    let adapter = modelc_exec::open(&project.db).map_err(invalid)?;
    let conn = adapter.connect().map_err(invalid)?;
    let late = late::RunTimeRender {
        project: &project,
        adapter: adapter.as_ref(),
        deferred: None,
    };
    let mut failed = false;
    for node in ids.iter().filter_map(|id| project.nodes.get(id)) {
        let title = if args.inline.is_some() {
            "inline node".to_string()
        } else {
            format!("node '{}'", node.name)
        };
        let shown = compiled_sql(node, &late).and_then(|sql| {
            let limited = if args.limit < 0 {
                format!("select * from (\n{sql}\n) as modelc_show")
            } else {
                format!("select * from (\n{sql}\n) as modelc_show limit {}", args.limit)
            };
            query_table(conn.as_ref(), &limited).map_err(|e| e.to_string())
        });
        match shown {
            Ok(result) => match args.output {
                ShowOutput::Text => println!("Previewing {title}:\n{}", text_table(&result)),
                ShowOutput::Json => println!("{}", json_rows(&node.name, &result)),
            },
            Err(e) => {
                eprintln!("error: cannot preview {title} ({}): {e}", node.original_file_path);
                failed = true;
            }
        }
    }
    if failed {
        Err(FAILED)
    } else {
        Ok(())
    }
}

/// The node's SQL: rendered again against the database when its template asks it.
fn compiled_sql(node: &Node, late: &dyn LateRender) -> Result<String, String> {
    if node.late_render {
        return late.render(node).map(|(sql, _)| sql);
    }
    node.compiled_code
        .as_deref()
        .map(|sql| modelc_exec::strip_semicolons(sql).to_string())
        .ok_or_else(|| format!("{} has no SQL to preview", node.name))
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// dbt's preview table: `| a | b |`, a rule, then rows; numbers right-aligned.
fn text_table(result: &QueryResult) -> String {
    let names: Vec<&str> = result.columns.iter().map(|(n, _)| n.as_str()).collect();
    let cells: Vec<Vec<String>> = result.rows.iter().map(|r| r.iter().map(cell).collect()).collect();
    let widths: Vec<usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            cells
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .chain([n.chars().count(), 3])
                .max()
                .unwrap_or(3)
        })
        .collect();
    let numeric: Vec<bool> = (0..names.len())
        .map(|i| {
            result
                .rows
                .iter()
                .filter_map(|r| r.get(i))
                .all(|v| v.is_number() || v.is_null())
        })
        .collect();
    let line = |values: Vec<String>, right: &[bool]| {
        let parts: Vec<String> = values
            .iter()
            .zip(&widths)
            .zip(right)
            .map(|((v, w), r)| if *r { format!("{v:>w$}") } else { format!("{v:<w$}") })
            .collect();
        format!("| {} |", parts.join(" | "))
    };
    let mut out = vec![
        line(names.iter().map(|n| n.to_string()).collect(), &vec![false; names.len()]),
        line(
            widths.iter().map(|w| "-".repeat(*w)).collect(),
            &vec![false; names.len()],
        ),
    ];
    out.extend(cells.into_iter().map(|r| line(r, &numeric)));
    out.join("\n")
}

/// `{"node": name, "show": [{column: value}, ...]}`, as `dbt show --output json`.
fn json_rows(name: &str, result: &QueryResult) -> Value {
    let rows: Vec<Value> = result
        .rows
        .iter()
        .map(|r| {
            Value::Object(
                result
                    .columns
                    .iter()
                    .map(|(n, _)| n.clone())
                    .zip(r.iter().cloned())
                    .collect(),
            )
        })
        .collect();
    serde_json::json!({"node": name, "show": rows})
}
