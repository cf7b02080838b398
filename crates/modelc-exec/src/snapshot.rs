//! SCD2 snapshots, compatible with dbt's columns and strategies.
//!
//! Each run, in one transaction: stage the snapshot query in a temp table; close the
//! current version of every key whose row changed (timestamp: a newer `updated_at`;
//! check: a `check_cols` value differs); insert a new current version for every key
//! without one (new keys and the ones just closed); then handle keys missing from the
//! source per `hard_deletes`. A second run on unchanged input changes nothing, and
//! there is never more than one current row per key.
//!
//! On an engine without transactions (Spark, whose plain tables have no `UPDATE`),
//! the same three steps are one query, whose result is swapped in for the old
//! snapshot ([`crate::materialize::swap_in`]).

use modelc_core::{quote_ident, Node, Relation};

use crate::adapter::{Connection, DbError, DbResult};
use crate::materialize::{
    columns, existing, in_transaction, literal, replace_table, with_rows, Outcome, RelKind, Status, TableOptions,
};

const META: &[&str] = &[
    "dbt_scd_id",
    "dbt_updated_at",
    "dbt_valid_from",
    "dbt_valid_to",
    "dbt_is_deleted",
];

struct Spec {
    keys: Vec<String>,
    strategy: String,
    updated_at: Option<String>,
    check_cols: Vec<String>,
    hard_deletes: String,
    valid_to_current: Option<String>,
}

fn spec(node: &Node) -> DbResult<Spec> {
    let c = &node.config;
    let keys = c.unique_key();
    if keys.is_empty() {
        return Err(DbError(format!("snapshot '{}' needs a unique_key", node.name)));
    }
    let strategy = c.get_str("strategy").unwrap_or_else(|| "timestamp".into());
    let updated_at = c.get_str("updated_at");
    let check_cols = c.get_list("check_cols");
    match strategy.as_str() {
        "timestamp" if updated_at.is_none() => {
            return Err(DbError(format!(
                "snapshot '{}' uses strategy 'timestamp' and needs 'updated_at'",
                node.name
            )))
        }
        "check" if check_cols.is_empty() => {
            return Err(DbError(format!(
                "snapshot '{}' uses strategy 'check' and needs 'check_cols' (a list, or 'all')",
                node.name
            )))
        }
        "timestamp" | "check" => {}
        other => {
            return Err(DbError(format!(
                "unknown snapshot strategy '{other}' (timestamp or check)"
            )))
        }
    }
    let hard_deletes = match (c.get_str("hard_deletes"), c.get_bool("invalidate_hard_deletes")) {
        (Some(h), _) => h,
        (None, Some(true)) => "invalidate".into(),
        _ => "ignore".into(),
    };
    if !matches!(hard_deletes.as_str(), "ignore" | "invalidate" | "new_record") {
        return Err(DbError(format!(
            "unknown hard_deletes '{hard_deletes}' (ignore, invalidate, new_record)"
        )));
    }
    Ok(Spec {
        keys,
        strategy,
        updated_at,
        check_cols,
        hard_deletes,
        valid_to_current: c.get_str("dbt_valid_to_current"),
    })
}

/// Runs a snapshot node.
pub fn run_snapshot(conn: &dyn Connection, node: &Node) -> DbResult<Outcome> {
    let spec = spec(node)?;
    let rel = node
        .relation
        .as_ref()
        .ok_or_else(|| DbError(format!("{} has no relation", node.unique_id)))?;
    let sql = node.compiled_code.as_deref().unwrap_or_default();
    let dialect = conn.dialect();
    let tmp_name = format!("__modelc_snap_{}", rel.identifier);
    conn.batch(&dialect.create_temp_table(&tmp_name, sql))?;
    let result = apply(conn, &spec, rel, &dialect.temp_relation(&tmp_name));
    let _ = conn.batch(&dialect.drop_temp_table(&tmp_name));
    result.map_err(|e| locate_missing_column(node, e))
}

/// A missing key or `updated_at` column, located where the config names it (the
/// lines of a snapshot's SQL are the lines of its file).
fn locate_missing_column(node: &Node, e: DbError) -> DbError {
    let Some(rest) = e.0.strip_prefix("the snapshot query has no column '") else {
        return e;
    };
    let column = rest.split('\'').next().unwrap_or_default();
    let found = ['\'', '"']
        .iter()
        .find_map(|q| node.raw_code.find(&format!("{q}{column}{q}")));
    match found {
        Some(i) => {
            let line = node.raw_code[..i].matches('\n').count() + 1;
            let col = i - node.raw_code[..i].rfind('\n').map_or(0, |n| n + 1) + 2;
            DbError(format!("{}\n  at {}:{line}:{col}", e.0, node.original_file_path))
        }
        None => e,
    }
}

fn apply(conn: &dyn Connection, spec: &Spec, rel: &Relation, src_rel: &Relation) -> DbResult<Outcome> {
    let src = src_rel;
    let string = conn.dialect().string_type();
    let src_cols: Vec<String> = columns(conn, src_rel)?.into_iter().map(|(c, _)| c).collect();
    for k in spec.keys.iter().chain(spec.updated_at.iter()) {
        if !src_cols.iter().any(|c| c.eq_ignore_ascii_case(k)) {
            return Err(DbError(format!(
                "the snapshot query has no column '{k}' (columns: {})",
                src_cols.join(", ")
            )));
        }
    }
    let now_rows = conn.query(conn.dialect().now_query())?;
    let now = format!(
        "timestamp {}",
        literal(
            &now_rows
                .first()
                .and_then(|r| r.first().cloned().flatten())
                .unwrap_or_default()
        )
    );
    let q = |c: &str| quote_ident(c);
    let ts = |alias: &str| match (&spec.strategy[..], &spec.updated_at) {
        ("timestamp", Some(u)) => format!("{alias}.{}", q(u)),
        (_, Some(u)) if spec.strategy == "check" => format!("{alias}.{}", q(u)),
        _ => now.clone(),
    };
    let new_record = spec.hard_deletes == "new_record";
    let scd_id = |alias: &str, ts_expr: &str| {
        let parts: Vec<String> = spec
            .keys
            .iter()
            .map(|k| format!("coalesce(cast({alias}.{} as {string}), '')", q(k)))
            .chain(std::iter::once(format!("coalesce(cast({ts_expr} as {string}), '')")))
            .collect();
        format!("md5({})", parts.join(" || '|' || "))
    };
    let valid_to_current = |ts_expr: &str| match &spec.valid_to_current {
        Some(expr) => format!("coalesce(nullif({ts_expr}, {ts_expr}), {expr})"),
        None => format!("nullif({ts_expr}, {ts_expr})"),
    };
    let is_current = |alias: &str| match &spec.valid_to_current {
        Some(expr) => format!("({alias}.dbt_valid_to is null or {alias}.dbt_valid_to = {expr})"),
        None => format!("{alias}.dbt_valid_to is null"),
    };
    let key_match = |a: &str, b: &str| {
        spec.keys
            .iter()
            .map(|k| format!("{a}.{k} = {b}.{k}", k = q(k)))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let data_cols: Vec<String> = src_cols
        .iter()
        .filter(|c| !META.contains(&c.to_lowercase().as_str()))
        .cloned()
        .collect();
    let data_list = data_cols.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ");
    let s_data_list = data_cols
        .iter()
        .map(|c| format!("s.{}", q(c)))
        .collect::<Vec<_>>()
        .join(", ");

    if existing(conn, rel)?.is_none() {
        let deleted = if new_record { ", 'False' as dbt_is_deleted" } else { "" };
        let select = format!(
            "select {s_data_list}, {} as dbt_scd_id, {t} as dbt_updated_at, {t} as dbt_valid_from, {} as dbt_valid_to{deleted} from {src} s",
            scd_id("s", &ts("s")),
            valid_to_current(&ts("s")),
            t = ts("s"),
        );
        let rows = replace_table(conn, rel, &select, None, &TableOptions::default())?;
        return Ok(Outcome {
            status: Status::Success,
            message: with_rows("SNAPSHOT created", rows),
            rows_affected: rows,
            failures: None,
        });
    }

    let target_types = columns(conn, rel)?;
    let target_cols: Vec<String> = target_types.iter().map(|(c, _)| c.clone()).collect();
    let has_deleted_col = target_cols.iter().any(|c| c == "dbt_is_deleted");
    // New source columns are added to the snapshot, as dbt does.
    let added: Vec<(String, String)> = columns(conn, src_rel)?
        .into_iter()
        .filter(|(c, _)| !target_cols.iter().any(|tc| tc.eq_ignore_ascii_case(c)))
        .collect();
    let mut steps: Vec<(String, bool)> = added
        .iter()
        .map(|(c, t)| (conn.dialect().add_column(rel, c, t), false))
        .collect();
    if new_record && !has_deleted_col {
        steps.push((
            format!("alter table {rel} add column dbt_is_deleted {string} default 'False'"),
            false,
        ));
    }
    let deleted_flag = |alias: &str| {
        if new_record || has_deleted_col {
            format!(" and coalesce({alias}.dbt_is_deleted, 'False') = 'False'")
        } else {
            String::new()
        }
    };
    let changed = match spec.strategy.as_str() {
        "timestamp" => format!("t.dbt_valid_from < {}", ts("s")),
        _ => {
            let cols: Vec<&String> = if spec.check_cols.len() == 1 && spec.check_cols[0] == "all" {
                data_cols
                    .iter()
                    .filter(|c| !spec.keys.iter().any(|k| k.eq_ignore_ascii_case(c)))
                    .collect()
            } else {
                spec.check_cols.iter().collect()
            };
            let same: Vec<String> = cols
                .iter()
                .map(|c| format!("t.{c} is not distinct from s.{c}", c = q(c)))
                .collect();
            format!(
                "not ({})",
                if same.is_empty() {
                    "true".to_string()
                } else {
                    same.join(" and ")
                }
            )
        }
    };
    let revived = if new_record || has_deleted_col {
        " or coalesce(t.dbt_is_deleted, 'False') = 'True'"
    } else {
        ""
    };
    if !conn.dialect().transactions() {
        // No UPDATE on the engine's tables: the snapshot's next version is built as
        // one query (the same three steps as the statements below) and swapped in.
        let mut all: Vec<(String, String)> = target_types.clone();
        all.extend(added.iter().cloned());
        if new_record && !has_deleted_col {
            all.push(("dbt_is_deleted".into(), string.to_string()));
        }
        let null = |c: &str, t: &str| format!("cast(null as {t}) as {}", q(c));
        let in_target = |c: &str| target_cols.iter().any(|tc| tc.eq_ignore_ascii_case(c));
        let in_source = |c: &str| src_cols.iter().any(|sc| sc.eq_ignore_ascii_case(c));
        let close_at = if spec.strategy == "timestamp" {
            ts("s")
        } else {
            now.clone()
        };
        let gone_now = matches!(spec.hard_deletes.as_str(), "invalidate" | "new_record");
        // 1. Every row of the snapshot, current versions that changed closed (and,
        // with hard_deletes, those whose key left the source).
        let kept: Vec<String> = all
            .iter()
            .map(|(c, t)| match c.as_str() {
                "dbt_valid_to" => {
                    let mut case =
                        format!("case when s.__modelc_hit is not null and (({changed}){revived}) then {close_at}");
                    if gone_now {
                        case.push_str(&format!(
                            " when s.__modelc_hit is null and {}{} then {now}",
                            is_current("t"),
                            deleted_flag("t")
                        ));
                    }
                    format!("{case} else t.dbt_valid_to end as dbt_valid_to")
                }
                "dbt_is_deleted" if !in_target(c) => "'False' as dbt_is_deleted".into(),
                _ if in_target(c) => format!("t.{}", q(c)),
                _ => null(c, t),
            })
            .collect();
        let closed = format!(
            "select {} from {rel} t left join (select *, true as __modelc_hit from {src}) s on {} and {}",
            kept.join(", "),
            key_match("t", "s"),
            is_current("t")
        );
        // 2. A current version for every key of the source without one.
        let fresh: Vec<String> = all
            .iter()
            .map(|(c, t)| match c.as_str() {
                "dbt_scd_id" => format!("{} as dbt_scd_id", scd_id("s", &ts("s"))),
                "dbt_updated_at" | "dbt_valid_from" => format!("{} as {c}", ts("s")),
                "dbt_valid_to" => format!("{} as dbt_valid_to", valid_to_current(&ts("s"))),
                "dbt_is_deleted" => "'False' as dbt_is_deleted".into(),
                _ if in_source(c) => format!("s.{}", q(c)),
                _ => null(c, t),
            })
            .collect();
        let mut parts = vec![
            "select * from closed".to_string(),
            format!(
                "select {} from {src} s where not exists (select 1 from closed t where {} and {})",
                fresh.join(", "),
                key_match("t", "s"),
                is_current("t")
            ),
        ];
        // 3. With hard_deletes: new_record, a deleted version for every key gone.
        if new_record {
            let marker: Vec<String> = all
                .iter()
                .map(|(c, t)| match c.as_str() {
                    "dbt_scd_id" => format!("{} as dbt_scd_id", scd_id("t", &now)),
                    "dbt_updated_at" | "dbt_valid_from" => format!("{now} as {c}"),
                    "dbt_valid_to" => format!("{} as dbt_valid_to", valid_to_current(&now)),
                    "dbt_is_deleted" => "'True' as dbt_is_deleted".into(),
                    _ if in_target(c) => format!("t.{}", q(c)),
                    _ => null(c, t),
                })
                .collect();
            parts.push(format!(
                "select {} from {rel} t where {} and not exists (select 1 from {src} s where {}){}",
                marker.join(", "),
                is_current("t"),
                key_match("t", "s"),
                deleted_flag("t")
            ));
        }
        let select = format!("with closed as ({closed})\n{}", parts.join("\nunion all\n"));
        let rows = replace_table(conn, rel, &select, Some(RelKind::Table), &TableOptions::default())?;
        return Ok(Outcome {
            status: Status::Success,
            message: with_rows("SNAPSHOT", rows),
            rows_affected: rows,
            failures: None,
        });
    }
    // 1. Close current versions that changed (or were deleted and came back).
    steps.push((
        format!(
            "update {rel} as t set dbt_valid_to = {ts_s} from {src} s where {km} and {cur} and (({changed}){revived})",
            ts_s = if spec.strategy == "timestamp" {
                ts("s")
            } else {
                now.clone()
            },
            km = key_match("t", "s"),
            cur = is_current("t"),
        ),
        false,
    ));
    // 2. Insert a current version for every key without one.
    let deleted_val = if new_record || has_deleted_col { ", 'False'" } else { "" };
    let deleted_col = if new_record || has_deleted_col {
        ", dbt_is_deleted"
    } else {
        ""
    };
    steps.push((
        format!(
            "insert into {rel} ({data_list}, dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to{deleted_col}) \
             select {s_data_list}, {id}, {t}, {t}, {vtc}{deleted_val} from {src} s \
             where not exists (select 1 from {rel} t where {km} and {cur})",
            id = scd_id("s", &ts("s")),
            t = ts("s"),
            vtc = valid_to_current(&ts("s")),
            km = key_match("t", "s"),
            cur = is_current("t"),
        ),
        true,
    ));
    // 3. Keys gone from the source.
    let gone = format!(
        "{} and not exists (select 1 from {src} s where {}){}",
        is_current("t"),
        key_match("t", "s"),
        deleted_flag("t")
    );
    match spec.hard_deletes.as_str() {
        "invalidate" => steps.push((
            format!("update {rel} as t set dbt_valid_to = {now} where {gone}"),
            false,
        )),
        "new_record" => {
            let t_data = data_cols
                .iter()
                .map(|c| format!("t.{}", q(c)))
                .collect::<Vec<_>>()
                .join(", ");
            steps.push((
                format!(
                    "insert into {rel} ({data_list}, dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to, dbt_is_deleted) \
                     select {t_data}, {id}, {now}, {now}, {vtc}, 'True' from {rel} t where {gone}",
                    id = scd_id("t", &now),
                    vtc = valid_to_current(&now),
                ),
                false,
            ));
            let gone_old = format!("{gone} and t.dbt_valid_from <> {now}");
            steps.push((
                format!("update {rel} as t set dbt_valid_to = {now} where {gone_old}"),
                false,
            ));
        }
        _ => {}
    }
    let refs: Vec<(&str, bool)> = steps.iter().map(|(s, c)| (s.as_str(), *c)).collect();
    let rows = in_transaction(conn, &refs)?;
    Ok(Outcome {
        status: Status::Success,
        message: format!("SNAPSHOT ({} new versions)", rows.unwrap_or(0)),
        rows_affected: rows,
        failures: None,
    })
}
