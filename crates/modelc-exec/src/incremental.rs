//! Incremental models: `append`, `merge`, `delete+insert` (on `unique_key`) and
//! `insert_overwrite` (of the partitions in `partition_by`, else of every row), with
//! `on_schema_change` and `--full-refresh`.
//!
//! Where the engine has transactions, the new rows are staged in a temp table and
//! the change (alter, delete, insert) runs in one transaction. Where it has not
//! (Spark), `append` and `insert_overwrite` are one statement each, a `merge` is
//! the table format's `MERGE INTO` where it has one, and otherwise the merged
//! table is built beside the old one and swapped in.

use modelc_core::{quote_ident, Node, Relation};

use crate::adapter::{Connection, DbError, DbResult};
use crate::materialize::{
    columns, in_transaction, replace_table, with_rows, ExecSettings, Outcome, RelKind, TableOptions,
};

/// Runs an incremental model.
pub fn run_incremental(conn: &dyn Connection, node: &Node, settings: &ExecSettings) -> DbResult<Outcome> {
    let rel = node
        .relation
        .as_ref()
        .ok_or_else(|| DbError(format!("{} has no relation", node.unique_id)))?;
    let full_refresh = settings.full_refresh && node.config.get_bool("full_refresh") != Some(false);
    let exists = settings.existing(conn, rel)?;
    let options = TableOptions::of(node);
    if full_refresh || exists != Some(RelKind::Table) {
        let sql = node.compiled_code.as_deref().unwrap_or_default();
        let rows = replace_table(conn, rel, sql, exists, &options)?;
        return Ok(Outcome {
            status: crate::Status::Success,
            message: with_rows("CREATE TABLE", rows),
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
    let change = Change {
        rel,
        keys: node.config.unique_key(),
        strategy,
        on_schema_change: node
            .config
            .get_str("on_schema_change")
            .unwrap_or_else(|| "ignore".into()),
        options,
    };
    let dialect = conn.dialect();
    let tmp = format!("__modelc_incr_{}", rel.identifier);
    let tmp_rel = dialect.temp_relation(&tmp);
    conn.batch(&dialect.create_temp_table(&tmp, sql))?;
    let result = change.apply(conn, &tmp_rel);
    let _ = conn.batch(&dialect.drop_temp_table(&tmp));
    let rows = result?;
    Ok(Outcome {
        status: crate::Status::Success,
        message: with_rows(&change.strategy.to_uppercase(), rows),
        rows_affected: rows,
        failures: None,
    })
}

/// One incremental run's change to its table.
struct Change<'a> {
    rel: &'a Relation,
    keys: Vec<String>,
    strategy: String,
    on_schema_change: String,
    options: TableOptions,
}

impl Change<'_> {
    fn apply(&self, conn: &dyn Connection, tmp_rel: &Relation) -> DbResult<Option<u64>> {
        let rel = self.rel;
        let target_cols = columns(conn, rel)?;
        let new_cols = columns(conn, tmp_rel)?;
        let has = |cols: &[(String, String)], name: &str| cols.iter().any(|(c, _)| c.eq_ignore_ascii_case(name));
        let added: Vec<&(String, String)> = new_cols.iter().filter(|(c, _)| !has(&target_cols, c)).collect();
        let removed: Vec<&(String, String)> = target_cols.iter().filter(|(c, _)| !has(&new_cols, c)).collect();
        let on_change = self.on_schema_change.as_str();
        let evolve = matches!(on_change, "append_new_columns" | "sync_all_columns");
        let changed = !added.is_empty() || !removed.is_empty();
        if changed {
            match on_change {
                "fail" => {
                    return Err(DbError(format!(
                        "the schema of {} changed (added: [{}], removed: [{}]) and on_schema_change is 'fail'; run with --full-refresh or set on_schema_change",
                        rel,
                        added.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join(", "),
                        removed.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join(", ")
                    )))
                }
                "append_new_columns" | "sync_all_columns" | "ignore" => {}
                other => return Err(DbError(format!("unknown on_schema_change '{other}' (ignore, append_new_columns, sync_all_columns, fail)"))),
            }
        }
        let dropped =
            |c: &str| on_change == "sync_all_columns" && removed.iter().any(|(r, _)| r.eq_ignore_ascii_case(c));
        // The table's columns after the change, in order: the target's (less those
        // dropped), then the new ones when the schema evolves.
        let mut after: Vec<&(String, String)> = target_cols.iter().filter(|(c, _)| !dropped(c)).collect();
        if evolve {
            after.extend(added.iter().copied());
        }
        // Columns written: those of the table after the change that the new rows have.
        let cols: Vec<String> = after
            .iter()
            .filter(|(c, _)| has(&new_cols, c))
            .map(|(c, _)| c.clone())
            .collect();
        let col_list = cols.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
        if matches!(self.strategy.as_str(), "merge" | "delete+insert") && self.keys.is_empty() {
            return Err(DbError(format!(
                "incremental_strategy '{}' needs a unique_key",
                self.strategy
            )));
        }
        if !matches!(
            self.strategy.as_str(),
            "append" | "merge" | "delete+insert" | "insert_overwrite"
        ) {
            return Err(DbError(format!(
                "unknown incremental_strategy '{}' (append, merge, delete+insert, insert_overwrite)",
                self.strategy
            )));
        }
        let dialect = conn.dialect();
        let key_match = |t: &str| {
            self.keys
                .iter()
                .map(|k| format!("{t}.{q} = s.{q}", q = quote_ident(k)))
                .collect::<Vec<_>>()
                .join(" and ")
        };
        let insert = format!("insert into {rel} ({col_list}) select {col_list} from {tmp_rel}");

        if !dialect.transactions() {
            let schema_changes = evolve && changed;
            if self.strategy == "merge" && !schema_changes {
                if let Some(merge) = dialect.merge_into(rel, tmp_rel, &self.keys, &self.options) {
                    return conn.execute(&merge);
                }
            }
            match self.strategy.as_str() {
                "append" if !schema_changes => return conn.execute(&insert),
                "insert_overwrite" if !schema_changes => {
                    // The table's own column order (partition columns last), by position.
                    let select = format!("select {} from {tmp_rel}", select_list(&target_cols, &new_cols, ""));
                    return conn.execute(&dialect.insert_overwrite(rel, &select, &self.options.partition_by));
                }
                _ => {}
            }
            // Rebuild: the rows kept from the table, then the new rows, swapped in.
            let after: Vec<(String, String)> = after.into_iter().cloned().collect();
            let kept_cols = select_list(&after, &target_cols, "t.");
            let new_select = select_list(&after, &new_cols, "s.");
            let kept_filter = match self.strategy.as_str() {
                "merge" | "delete+insert" => {
                    format!(
                        " where not exists (select 1 from {tmp_rel} as s where {})",
                        key_match("t")
                    )
                }
                "insert_overwrite" => match self.replaced(tmp_rel, "t") {
                    Some(replaced) => format!(" where not {replaced}"),
                    None => " where false".into(),
                },
                _ => String::new(),
            };
            let select = format!(
                "select {kept_cols} from {rel} as t{kept_filter}\nunion all\nselect {new_select} from {tmp_rel} as s"
            );
            return replace_table(conn, rel, &select, Some(RelKind::Table), &self.options);
        }

        let mut steps: Vec<(String, bool)> = Vec::new();
        if evolve {
            for (c, t) in &added {
                steps.push((dialect.add_column(rel, c, t), false));
            }
            for (c, _) in removed.iter().filter(|(c, _)| dropped(c)) {
                steps.push((format!("alter table {rel} drop column {}", quote_ident(c)), false));
            }
        }
        match self.strategy.as_str() {
            "merge" | "delete+insert" => steps.push((
                format!(
                    "delete from {rel} where exists (select 1 from {tmp_rel} as s where {})",
                    key_match(&rel.to_string())
                ),
                false,
            )),
            "insert_overwrite" => {
                let replaced = self.replaced(tmp_rel, &rel.to_string());
                steps.push((
                    format!(
                        "delete from {rel}{}",
                        replaced.map(|r| format!(" where {r}")).unwrap_or_default()
                    ),
                    false,
                ));
            }
            _ => {}
        }
        steps.push((insert, true));
        let refs: Vec<(&str, bool)> = steps.iter().map(|(s, c)| (s.as_str(), *c)).collect();
        in_transaction(conn, &refs)
    }

    /// Whether a row of `t` (the table, by that name) is in a partition the new rows
    /// replace; `None` when there are no partitions: every row is replaced.
    fn replaced(&self, tmp_rel: &Relation, t: &str) -> Option<String> {
        if self.options.partition_by.is_empty() {
            return None;
        }
        let same = self
            .options
            .partition_by
            .iter()
            .map(|p| format!("{t}.{q} is not distinct from s.{q}", q = quote_ident(p)))
            .collect::<Vec<_>>()
            .join(" and ");
        Some(format!("exists (select 1 from {tmp_rel} as s where {same})"))
    }
}

/// The select list of `columns` (name, type) from a relation with the columns
/// `present`, qualified by `prefix`: a column it lacks is a typed null.
fn select_list(columns: &[(String, String)], present: &[(String, String)], prefix: &str) -> String {
    columns
        .iter()
        .map(|(c, t)| {
            if present.iter().any(|(p, _)| p.eq_ignore_ascii_case(c)) {
                format!("{prefix}{}", quote_ident(c))
            } else {
                format!("cast(null as {t}) as {}", quote_ident(c))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
