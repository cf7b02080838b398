//! Incremental models: `append`, `merge` and `delete+insert` on `unique_key`,
//! with `on_schema_change` and `--full-refresh`.

use modelc_core::{quote_ident, Node, Relation};

use crate::adapter::{Connection, DbError, DbResult};
use crate::materialize::{columns, in_transaction, replace_table, ExecSettings, Outcome, RelKind};

/// Runs an incremental model.
pub fn run_incremental(conn: &dyn Connection, node: &Node, settings: &ExecSettings) -> DbResult<Outcome> {
    let rel = node
        .relation
        .as_ref()
        .ok_or_else(|| DbError(format!("{} has no relation", node.unique_id)))?;
    let full_refresh = settings.full_refresh && node.config.get_bool("full_refresh") != Some(false);
    let exists = settings.existing(conn, rel)?;
    if full_refresh || exists != Some(RelKind::Table) {
        let sql = node.compiled_code.as_deref().unwrap_or_default();
        let rows = replace_table(conn, rel, sql, exists)?;
        return Ok(Outcome {
            status: crate::Status::Success,
            message: format!("CREATE TABLE ({} rows)", rows.unwrap_or(0)),
            rows_affected: rows,
            failures: None,
        });
    }
    let sql = node
        .compiled_incremental_code
        .as_deref()
        .or(node.compiled_code.as_deref())
        .unwrap_or_default();
    let strategy = node.config.get_str("incremental_strategy").unwrap_or_else(|| {
        if node.config.unique_key().is_empty() {
            "append".into()
        } else {
            "merge".into()
        }
    });
    let keys = node.config.unique_key();
    let dialect = conn.dialect();
    let tmp = format!("__modelc_incr_{}", rel.identifier);
    let tmp_rel = dialect.temp_relation(&tmp);
    conn.batch(&dialect.create_temp_table(&tmp, sql))?;
    let result = apply(conn, node, rel, &tmp_rel, &strategy, &keys);
    let _ = conn.batch(&dialect.drop_temp_table(&tmp));
    result
}

fn apply(
    conn: &dyn Connection,
    node: &Node,
    rel: &Relation,
    tmp_rel: &Relation,
    strategy: &str,
    keys: &[String],
) -> DbResult<Outcome> {
    let target_cols = columns(conn, rel)?;
    let new_cols = columns(conn, tmp_rel)?;
    let has = |cols: &[(String, String)], name: &str| cols.iter().any(|(c, _)| c.eq_ignore_ascii_case(name));
    let added: Vec<&(String, String)> = new_cols.iter().filter(|(c, _)| !has(&target_cols, c)).collect();
    let removed: Vec<&(String, String)> = target_cols.iter().filter(|(c, _)| !has(&new_cols, c)).collect();
    let on_change = node
        .config
        .get_str("on_schema_change")
        .unwrap_or_else(|| "ignore".into());
    let mut alter = String::new();
    if !added.is_empty() || !removed.is_empty() {
        match on_change.as_str() {
            "fail" => {
                return Err(DbError(format!(
                    "the schema of {} changed (added: [{}], removed: [{}]) and on_schema_change is 'fail'; run with --full-refresh or set on_schema_change",
                    rel,
                    added.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join(", "),
                    removed.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join(", ")
                )))
            }
            "append_new_columns" | "sync_all_columns" => {
                for (c, t) in &added {
                    alter.push_str(&format!("alter table {rel} add column {} {t};\n", quote_ident(c)));
                }
                if on_change == "sync_all_columns" {
                    for (c, _) in &removed {
                        alter.push_str(&format!("alter table {rel} drop column {};\n", quote_ident(c)));
                    }
                }
            }
            "ignore" => {}
            other => return Err(DbError(format!("unknown on_schema_change '{other}' (ignore, append_new_columns, sync_all_columns, fail)"))),
        }
    }
    // Columns written: those of the target (after the alter) that the new rows have.
    let mut cols: Vec<String> = target_cols
        .iter()
        .filter(|(c, _)| has(&new_cols, c))
        .map(|(c, _)| c.clone())
        .collect();
    if matches!(on_change.as_str(), "append_new_columns" | "sync_all_columns") {
        cols.extend(added.iter().map(|(c, _)| c.clone()));
    }
    let col_list = cols.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
    let insert = format!("insert into {rel} ({col_list}) select {col_list} from {tmp_rel}");
    let mut steps: Vec<(String, bool)> = Vec::new();
    if !alter.is_empty() {
        steps.push((alter, false));
    }
    match strategy {
        "append" => {}
        "merge" | "delete+insert" => {
            if keys.is_empty() {
                return Err(DbError(format!("incremental_strategy '{strategy}' needs a unique_key")));
            }
            let cond = keys
                .iter()
                .map(|k| format!("{rel}.{q} = s.{q}", q = quote_ident(k)))
                .collect::<Vec<_>>()
                .join(" and ");
            steps.push((
                format!("delete from {rel} where exists (select 1 from {tmp_rel} as s where {cond})"),
                false,
            ));
        }
        other => {
            return Err(DbError(format!(
                "unknown incremental_strategy '{other}' (append, merge, delete+insert)"
            )))
        }
    }
    steps.push((insert, true));
    let refs: Vec<(&str, bool)> = steps.iter().map(|(s, c)| (s.as_str(), *c)).collect();
    let rows = in_transaction(conn, &refs)?;
    Ok(Outcome {
        status: crate::Status::Success,
        message: format!("{} ({} rows)", strategy.to_uppercase(), rows.unwrap_or(0)),
        rows_affected: rows,
        failures: None,
    })
}
